"""Built-in generator/discriminator pairs: the MLPs of the seed write-ups.

Each pair shares a name, so ``--disc`` defaults to ``--gen``. Input and output
layers follow ``data_shape``, so every pair also trains on 2-D point data.
The factories check their options and describe the layers; the network classes they build live in
gantool.plugins.builtin.mlp and .conditioned, imported (with torch) inside the factories: registering names stays free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gantool.plugins.builtin import conditioning
from gantool.plugins.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import nn


def _widths(text: str | int, option: str = "widths") -> list[int]:
    """Parse ``"196,289,361"`` (or a single int) into layer widths."""
    try:
        widths = [int(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{option} must be comma-separated integers like 256,256, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise ValueError(f"{option} must be positive integers, got {text!r}")
    return widths


def _positive(value: int, option: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{option} must be a positive integer, got {value!r}")
    return value


def _dims(data_shape: Sequence[int]) -> int:
    return math.prod(data_shape)


def _alone(option: str, value: object, num_classes: int) -> None:
    if num_classes:
        raise ValueError(f"{option}={value} does not combine with conditioning on labels: leave it out with --conditional")


# --- mlp: seed 001 (yunjey's tutorial), 256 units, ReLU in G, LeakyReLU 0.2 in D ---------------


def mlp_generator(latent_dim: int, data_shape: Sequence[int], hidden: int = 256, layers: int = 2, num_classes: int = 0) -> nn.Module:
    from gantool.plugins.builtin.mlp import HiddenLayers

    h, n = _positive(hidden, "hidden"), _positive(layers, "layers")
    return conditioning.generator(HiddenLayers((h,) * n), latent_dim, data_shape, num_classes)


def mlp_discriminator(
    data_shape: Sequence[int], hidden: int = 256, layers: int = 2, pack: int = 1, num_classes: int = 0, cond: str = ""
) -> nn.Module:
    from gantool.plugins.builtin.mlp import HiddenLayers, PackedDiscriminator

    h, n = _positive(hidden, "hidden"), _positive(layers, "layers")
    layout = HiddenLayers((h,) * n, leak=0.2)
    if _positive(pack, "pack") > 1:
        _alone("pack", pack, num_classes)
        return PackedDiscriminator(_dims(data_shape), pack, layout)
    return conditioning.discriminator(layout, _dims(data_shape), num_classes, cond)


# --- mlp-deep: seed 000, a widening G with BatchNorm and dropout, a narrowing D ----------------

DEEP_G_WIDTHS = "196,289,361,400,512,625,784"
DEEP_G_DROPOUT = (0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4)
DEEP_D_WIDTHS = "441,256,32"
DEEP_D_DROPOUT = (0.2, 0.2)


def _seed_dropouts(rates: Sequence[float], n: int, dropout: bool) -> tuple[float, ...]:
    """The seed's per-layer rates, the last one repeated when there are more layers."""
    if not dropout:
        return ()
    return tuple(rates[min(i, len(rates) - 1)] for i in range(n))


def deep_generator(
    latent_dim: int, data_shape: Sequence[int], widths: str = DEEP_G_WIDTHS, dropout: bool = True, num_classes: int = 0
) -> nn.Module:
    from gantool.plugins.builtin.mlp import HiddenLayers

    w = _widths(widths)
    rates = _seed_dropouts(DEEP_G_DROPOUT, len(w), dropout)
    return conditioning.generator(HiddenLayers(tuple(w), leak=0.01, batchnorm=True, dropouts=rates), latent_dim, data_shape, num_classes)


def deep_discriminator(
    data_shape: Sequence[int], widths: str = DEEP_D_WIDTHS, dropout: bool = True, num_classes: int = 0, cond: str = ""
) -> nn.Module:
    from gantool.plugins.builtin.mlp import HiddenLayers

    w = _widths(widths)
    # the seed drops out after every hidden layer but the last
    rates = _seed_dropouts(DEEP_D_DROPOUT, len(w) - 1, dropout)
    return conditioning.discriminator(HiddenLayers(tuple(w), leak=0.01, dropouts=rates), _dims(data_shape), num_classes, cond)


# --- mlp-bn: seed 002, one hidden layer of 200 with BatchNorm ----------------------------------


def bn_generator(latent_dim: int, data_shape: Sequence[int], hidden: int = 200, num_classes: int = 0) -> nn.Module:
    from gantool.plugins.builtin.mlp import HiddenLayers

    h = _positive(hidden, "hidden")
    return conditioning.generator(HiddenLayers((h,), batchnorm=True), latent_dim, data_shape, num_classes)


def bn_discriminator(
    data_shape: Sequence[int], hidden: int = 200, logit_bn: bool = False, num_classes: int = 0, cond: str = ""
) -> nn.Module:
    """``logit_bn=True`` restores the seed's BatchNorm on the logit, which stalls training
    (each batch's logits get normalised to mean 0, so D cannot push real up and fake down)."""
    from gantool.plugins.builtin.mlp import HiddenLayers, MLPDiscriminator

    h = _positive(hidden, "hidden")
    layout = HiddenLayers((h,), leak=0.01)
    if logit_bn:
        _alone("logit_bn", logit_bn, num_classes)
        return MLPDiscriminator(_dims(data_shape), layout, logit_bn=True)
    return conditioning.discriminator(layout, _dims(data_shape), num_classes, cond)


# --- mlp-small: seed 004 (TensorFlow), 128 units, LeakyReLU 0.01 --------------------------------


def small_generator(latent_dim: int, data_shape: Sequence[int], hidden: int = 128, num_classes: int = 0) -> nn.Module:
    from gantool.plugins.builtin.mlp import HiddenLayers

    h = _positive(hidden, "hidden")
    return conditioning.generator(HiddenLayers((h,), leak=0.01), latent_dim, data_shape, num_classes)


def small_discriminator(data_shape: Sequence[int], hidden: int = 128, num_classes: int = 0, cond: str = "") -> nn.Module:
    from gantool.plugins.builtin.mlp import HiddenLayers

    h = _positive(hidden, "hidden")
    return conditioning.discriminator(HiddenLayers((h,), leak=0.01), _dims(data_shape), num_classes, cond)


@hookimpl
def register_generators(register):
    register("mlp", mlp_generator)
    register("mlp-deep", deep_generator)
    register("mlp-bn", bn_generator)
    register("mlp-small", small_generator)


@hookimpl
def register_discriminators(register):
    register("mlp", mlp_discriminator)
    register("mlp-deep", deep_discriminator)
    register("mlp-bn", bn_discriminator)
    register("mlp-small", small_discriminator)
