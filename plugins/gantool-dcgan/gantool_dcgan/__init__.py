"""gantool-dcgan: the DCGAN pair (Radford et al. 2015) as a gantool plugin.

gantool imports this module to list plugins, so it only names the factories;
torch and the networks (``gantool_dcgan.nets``) load when a factory runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gantool import hookimpl

if TYPE_CHECKING:
    from torch import nn

NAME = "dcgan"


def dcgan_generator(latent_dim: int, data_shape: Sequence[int], width: int = 64, num_classes: int = 0) -> nn.Module:
    """Noise to images through strided transposed convolutions; ``width`` is the last hidden layer's channels.
    With ``num_classes`` (gantool train --conditional) it is called G(z, y)."""
    from gantool_dcgan.nets import build_generator

    return build_generator(latent_dim, data_shape, width, num_classes)


def dcgan_discriminator(
    data_shape: Sequence[int], width: int = 64, sn: bool = False, pack: int = 1, num_classes: int = 0, cond: str = ""
) -> nn.Module:
    """Images to one logit through strided convolutions; ``width`` is the first layer's channels.
    ``sn`` spectrally normalises every layer (and drops BatchNorm, as SNGAN); ``pack`` judges that many samples at once (PacGAN).
    With ``num_classes`` it is called D(x, y), conditioned the ``cond`` way (projection, concat or acgan)."""
    from gantool_dcgan.nets import build_discriminator

    return build_discriminator(data_shape, width, num_classes, cond, sn=sn, pack=pack)


@hookimpl
def register_generators(register):
    register(NAME, dcgan_generator)


@hookimpl
def register_discriminators(register):
    register(NAME, dcgan_discriminator)
