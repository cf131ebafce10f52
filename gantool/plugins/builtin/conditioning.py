"""Class conditioning for the built-in networks: a label embedding for G, three ways for D to use the label.

- G(z, y): the label's embedding is concatenated with z (Mirza & Osindero's conditional GAN).
- D(x, y) with ``cond=concat``: the embedding is concatenated with the flattened x at D's input.
- ``cond=projection`` (Miyato & Koyama, 2018): logit = w·φ(x) + b + embed(y)·φ(x), φ being D's last hidden layer.
- ``cond=acgan`` (Odena et al., 2017): D ignores y and returns 1 + K columns, the real/fake logit and K class
  logits; training adds the cross-entropy of those logits (no softmax before it) to both losses.

The factories describe their MLP (``HiddenLayers``); ``generator`` and ``discriminator`` decide which
network class of gantool.plugins.builtin.mlp or .conditioned it becomes, so one mechanism serves every
built-in pair. torch is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from gantool.plugins.builtin.mlp import HiddenLayers

CONDITIONING = ("concat", "projection", "acgan")


def check_classes(num_classes: int) -> int:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 0 or num_classes == 1:
        raise ValueError(f"num_classes must be 0 (unconditional) or at least 2, got {num_classes!r}")
    return num_classes


def generator(hidden: HiddenLayers, latent_dim: int, data_shape: Sequence[int], num_classes: int) -> nn.Module:
    """The MLP generator on z, or fed ``[z, embed(y)]`` when there are classes."""
    from gantool.plugins.builtin.conditioned import LabelledGenerator
    from gantool.plugins.builtin.mlp import MLPGenerator

    if not check_classes(num_classes):
        return MLPGenerator(latent_dim, data_shape, hidden)
    return LabelledGenerator(latent_dim, num_classes, data_shape, hidden)


def discriminator(hidden: HiddenLayers, dims: int, num_classes: int, cond: str) -> nn.Module:
    """The MLP discriminator on ``dims`` inputs, or a conditional one in the ``cond`` way."""
    from gantool.plugins.builtin import conditioned
    from gantool.plugins.builtin.mlp import MLPDiscriminator

    if cond and cond not in CONDITIONING:
        raise ValueError(f"cond must be one of {', '.join(CONDITIONING)}, got {cond!r}")
    if not check_classes(num_classes):
        if cond:  # a label option on an unconditional run would be silently ignored
            raise ValueError(f"cond={cond} conditions D on labels: train with --conditional, or leave out cond")
        return MLPDiscriminator(dims, hidden)
    cond = cond or "projection"  # the default: Miyato & Koyama's, the strongest of the three in their study
    if cond == "concat":
        return conditioned.ConcatDiscriminator(dims, num_classes, hidden)
    if cond == "projection":
        return conditioned.ProjectionDiscriminator(dims, num_classes, hidden)
    return conditioned.AuxiliaryClassifier(dims, num_classes, hidden)
