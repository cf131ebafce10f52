"""Built-in generator/discriminator pairs: the MLPs of the seed write-ups.

Each pair shares a name, so ``--disc`` defaults to ``--gen``. Input and output
layers follow ``data_shape``, so every pair also trains on 2-D point data.
torch is imported inside the factories: registering names stays free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from itertools import pairwise
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


def _stack(
    sizes: Sequence[int],
    activation: Callable[[], nn.Module],
    *,
    batchnorm: bool = False,
    dropouts: Sequence[float] = (),
) -> list[nn.Module]:
    """Linear layers between ``sizes``, each followed by (BatchNorm,) a fresh activation (, dropout)."""
    from torch import nn

    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if batchnorm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(activation())
        if i < len(dropouts) and dropouts[i] > 0:
            layers.append(nn.Dropout(dropouts[i]))
    return layers


def _generator(latent_dim: int, data_shape: Sequence[int], hidden: list[nn.Module], last: int) -> nn.Module:
    """Hidden layers, then a linear map to the data and tanh, shaped as the data."""
    from torch import nn

    return nn.Sequential(*hidden, nn.Linear(last, _dims(data_shape)), nn.Tanh(), nn.Unflatten(1, tuple(data_shape)))


def _discriminator(hidden: list[nn.Module], last: int) -> nn.Sequential:
    """Flatten, hidden layers, then one logit per sample."""
    from torch import nn

    return nn.Sequential(nn.Flatten(), *hidden, nn.Linear(last, 1))


def _packed(build: Callable[[int], nn.Module], data_shape: Sequence[int], pack: int) -> nn.Module:
    """``build(input_size)`` as is, or wrapped to judge ``pack`` samples at once (PacGAN, Lin et al. 2018).

    A packed D sees ``pack`` samples of one kind side by side and gives the group
    one logit, repeated for each member: the losses stay per-sample, and a
    generator that repeats itself is easy to spot in a group.
    """
    from torch import nn

    dims = _dims(data_shape)
    if _positive(pack, "pack") == 1:
        return build(dims)

    class Packed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pack = pack
            self.inner = build(dims * pack)

        def forward(self, x):  # type: ignore[no-untyped-def]
            n = x.shape[0]
            groups = -(-n // self.pack)
            if groups * self.pack != n:  # a ragged batch: fill the last group with the batch's first samples
                x = x.repeat((-(-groups * self.pack // n),) + (1,) * (x.dim() - 1))[: groups * self.pack]
            logits = self.inner(x.reshape(groups, -1)).reshape(groups)
            return logits.repeat_interleave(self.pack)[:n]

    return Packed()


def _conditional(data_shape: Sequence[int], layers: Callable[[int], tuple[list[nn.Module], int]], num_classes: int, cond: str) -> nn.Module:
    """D from ``layers(input_width) -> (hidden layers, width)``: one logit, or conditioned on labels the ``cond`` way."""
    from torch import nn

    def plain(dims: int) -> nn.Module:
        return _discriminator(*layers(dims))

    def features(dims: int) -> tuple[nn.Module, int]:
        hidden, width = layers(dims)
        return nn.Sequential(nn.Flatten(), *hidden), width

    return conditioning.discriminator(plain, features, _dims(data_shape), num_classes, cond)


def _alone(option: str, value: object, num_classes: int) -> None:
    if num_classes:
        raise ValueError(f"{option}={value} does not combine with conditioning on labels: leave it out with --conditional")


# --- mlp: seed 001 (yunjey's tutorial), 256 units, ReLU in G, LeakyReLU 0.2 in D ---------------


def mlp_generator(latent_dim: int, data_shape: Sequence[int], hidden: int = 256, layers: int = 2, num_classes: int = 0) -> nn.Module:
    from torch import nn

    h, n = _positive(hidden, "hidden"), _positive(layers, "layers")
    return conditioning.generator(
        lambda width: _generator(width, data_shape, _stack([width] + [h] * n, nn.ReLU), h), latent_dim, num_classes
    )


def mlp_discriminator(
    data_shape: Sequence[int], hidden: int = 256, layers: int = 2, pack: int = 1, num_classes: int = 0, cond: str = ""
) -> nn.Module:
    from torch import nn

    h, n = _positive(hidden, "hidden"), _positive(layers, "layers")
    if _positive(pack, "pack") > 1:
        _alone("pack", pack, num_classes)
        return _packed(lambda dims: _discriminator(_stack([dims] + [h] * n, partial(nn.LeakyReLU, 0.2)), h), data_shape, pack)
    return _conditional(data_shape, lambda dims: (_stack([dims] + [h] * n, partial(nn.LeakyReLU, 0.2)), h), num_classes, cond)


# --- mlp-deep: seed 000, a widening G with BatchNorm and dropout, a narrowing D ----------------

DEEP_G_WIDTHS = "196,289,361,400,512,625,784"
DEEP_G_DROPOUT = (0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4)
DEEP_D_WIDTHS = "441,256,32"
DEEP_D_DROPOUT = (0.2, 0.2)


def _seed_dropouts(rates: Sequence[float], n: int, dropout: bool) -> list[float]:
    """The seed's per-layer rates, the last one repeated when there are more layers."""
    if not dropout:
        return []
    return [rates[min(i, len(rates) - 1)] for i in range(n)]


def deep_generator(
    latent_dim: int, data_shape: Sequence[int], widths: str = DEEP_G_WIDTHS, dropout: bool = True, num_classes: int = 0
) -> nn.Module:
    from torch import nn

    w = _widths(widths)
    rates = _seed_dropouts(DEEP_G_DROPOUT, len(w), dropout)

    def body(width: int) -> nn.Module:
        return _generator(width, data_shape, _stack([width, *w], partial(nn.LeakyReLU, 0.01), batchnorm=True, dropouts=rates), w[-1])

    return conditioning.generator(body, latent_dim, num_classes)


def deep_discriminator(
    data_shape: Sequence[int], widths: str = DEEP_D_WIDTHS, dropout: bool = True, num_classes: int = 0, cond: str = ""
) -> nn.Module:
    from torch import nn

    w = _widths(widths)
    # the seed drops out after every hidden layer but the last
    rates = _seed_dropouts(DEEP_D_DROPOUT, len(w) - 1, dropout)
    return _conditional(
        data_shape, lambda dims: (_stack([dims, *w], partial(nn.LeakyReLU, 0.01), dropouts=rates), w[-1]), num_classes, cond
    )


# --- mlp-bn: seed 002, one hidden layer of 200 with BatchNorm ----------------------------------


def bn_generator(latent_dim: int, data_shape: Sequence[int], hidden: int = 200, num_classes: int = 0) -> nn.Module:
    from torch import nn

    h = _positive(hidden, "hidden")
    return conditioning.generator(
        lambda width: _generator(width, data_shape, _stack([width, h], nn.ReLU, batchnorm=True), h), latent_dim, num_classes
    )


def bn_discriminator(
    data_shape: Sequence[int], hidden: int = 200, logit_bn: bool = False, num_classes: int = 0, cond: str = ""
) -> nn.Module:
    """``logit_bn=True`` restores the seed's BatchNorm on the logit, which stalls training
    (each batch's logits get normalised to mean 0, so D cannot push real up and fake down)."""
    from torch import nn

    h = _positive(hidden, "hidden")
    if logit_bn:
        _alone("logit_bn", logit_bn, num_classes)
        return nn.Sequential(*_discriminator(_stack([_dims(data_shape), h], partial(nn.LeakyReLU, 0.01)), h), nn.BatchNorm1d(1))
    return _conditional(data_shape, lambda dims: (_stack([dims, h], partial(nn.LeakyReLU, 0.01)), h), num_classes, cond)


# --- mlp-small: seed 004 (TensorFlow), 128 units, LeakyReLU 0.01 --------------------------------


def small_generator(latent_dim: int, data_shape: Sequence[int], hidden: int = 128, num_classes: int = 0) -> nn.Module:
    from torch import nn

    h = _positive(hidden, "hidden")
    return conditioning.generator(
        lambda width: _generator(width, data_shape, _stack([width, h], partial(nn.LeakyReLU, 0.01)), h), latent_dim, num_classes
    )


def small_discriminator(data_shape: Sequence[int], hidden: int = 128, num_classes: int = 0, cond: str = "") -> nn.Module:
    from torch import nn

    h = _positive(hidden, "hidden")
    return _conditional(data_shape, lambda dims: (_stack([dims, h], partial(nn.LeakyReLU, 0.01)), h), num_classes, cond)


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
