"""The built-in networks' building blocks: an MLP generator and discriminator, and the packed discriminator.

Only the factories in gantool.plugins.builtin.models import this module (inside their functions), so
registering the built-in names never imports torch. Each class lays its layers out as the lambdas it
replaced did, in the same order: the state_dict keys of existing runs, and the weights one seed gives, stay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import torch
from torch import nn


@dataclass(frozen=True)
class HiddenLayers:
    """An MLP's hidden layers: a Linear to each width, then (BatchNorm,) the activation (, dropout at that rate).

    The activation is ReLU when ``leak`` is 0, LeakyReLU with that negative slope otherwise.
    """

    widths: tuple[int, ...]
    leak: float = 0.0
    batchnorm: bool = False
    dropouts: tuple[float, ...] = ()

    @property
    def width(self) -> int:
        """The width of the last hidden layer."""
        return self.widths[-1]

    def build(self, in_width: int) -> list[nn.Module]:
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(pairwise([in_width, *self.widths])):
            layers.append(nn.Linear(n_in, n_out))
            if self.batchnorm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(nn.ReLU() if self.leak == 0 else nn.LeakyReLU(self.leak))
            if i < len(self.dropouts) and self.dropouts[i] > 0:
                layers.append(nn.Dropout(self.dropouts[i]))
        return layers


class MLPGenerator(nn.Sequential):
    """z of ``in_width``, the hidden layers, then a linear map to the data and tanh, shaped as the data."""

    per_sample = True  # a chain of layers; any that mix samples (BatchNorm) are judged on their own

    def __init__(self, in_width: int, data_shape: Sequence[int], hidden: HiddenLayers) -> None:
        out = math.prod(data_shape)
        super().__init__(*hidden.build(in_width), nn.Linear(hidden.width, out), nn.Tanh(), nn.Unflatten(1, tuple(data_shape)))


class MLPFeatures(nn.Sequential):
    """Flatten, then the hidden layers: a discriminator without its last layer (``hidden.width`` features)."""

    per_sample = True  # a chain of layers; any that mix samples (BatchNorm) are judged on their own

    def __init__(self, in_width: int, hidden: HiddenLayers) -> None:
        super().__init__(nn.Flatten(), *hidden.build(in_width))


class MLPDiscriminator(nn.Sequential):
    """Flatten, the hidden layers, then one logit per sample (``logit_bn``: and seed 002's BatchNorm on it)."""

    per_sample = True  # a chain of layers; any that mix samples (BatchNorm) are judged on their own

    def __init__(self, in_width: int, hidden: HiddenLayers, logit_bn: bool = False) -> None:
        super().__init__(nn.Flatten(), *hidden.build(in_width), nn.Linear(hidden.width, 1), *([nn.BatchNorm1d(1)] if logit_bn else []))


class PackedDiscriminator(nn.Module):
    """An MLP discriminator that judges ``pack`` samples at once (PacGAN, Lin et al. 2018).

    It sees ``pack`` samples of one kind side by side and gives the group one logit, repeated for each
    member: the losses stay per-sample, and a generator that repeats itself is easy to spot in a group.
    """

    def __init__(self, in_width: int, pack: int, hidden: HiddenLayers) -> None:
        super().__init__()
        self.pack = pack
        self.inner = MLPDiscriminator(in_width * pack, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        groups = -(-n // self.pack)
        if groups * self.pack != n:  # a ragged batch: fill the last group with the batch's first samples
            x = x.repeat((-(-groups * self.pack // n),) + (1,) * (x.dim() - 1))[: groups * self.pack]
        logits = self.inner(x.reshape(groups, -1)).reshape(groups)
        return logits.repeat_interleave(self.pack)[:n]
