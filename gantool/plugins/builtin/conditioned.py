"""The built-in networks conditioned on class labels: G(z, y), and D(x, y) in each of the three ways.

gantool.plugins.builtin.conditioning decides which one a factory gets; only it imports this module (inside
its functions), so registering the built-in names never imports torch. Each class makes its layers in the
order, and under the names, the classes it replaced did: the weights one seed gives and the state_dict
keys of existing runs stay.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gantool.plugins.builtin.mlp import HiddenLayers, MLPDiscriminator, MLPFeatures, MLPGenerator


def _with_labels(x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """The flattened input and the labels' embedding side by side, in the input's dtype."""
    return torch.cat([x.flatten(1), e.to(x.dtype)], dim=1)


class LabelledGenerator(nn.Module):
    """G(z, y): the label's embedding concatenated with z (Mirza & Osindero's conditional GAN), then an MLP generator."""

    def __init__(self, latent_dim: int, num_classes: int, data_shape: Sequence[int], hidden: HiddenLayers) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, num_classes)
        self.body = MLPGenerator(latent_dim + num_classes, data_shape, hidden)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.body(_with_labels(z, self.embed(y)))


class PerSample(nn.Module):
    """A discriminator whose samples never mix, whatever the label: the loop may judge real and fake in one pass."""

    per_sample = True


class ConcatDiscriminator(PerSample):
    """D(x, y) with ``cond=concat``: the label's embedding concatenated with the flattened x at D's input."""

    def __init__(self, in_width: int, num_classes: int, hidden: HiddenLayers) -> None:
        super().__init__()
        net = MLPDiscriminator(in_width + num_classes, hidden)  # made before the embedding, registered after it
        self.embed = nn.Embedding(num_classes, num_classes)
        self.net = net

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(_with_labels(x, self.embed(y)))


class ProjectionDiscriminator(PerSample):
    """``cond=projection`` (Miyato & Koyama, 2018): logit = w·φ(x) + b + embed(y)·φ(x), φ being D's last hidden layer."""

    def __init__(self, in_width: int, num_classes: int, hidden: HiddenLayers) -> None:
        super().__init__()
        self.body = MLPFeatures(in_width, hidden)
        self.linear = nn.Linear(hidden.width, 1)
        self.embed = nn.Embedding(num_classes, hidden.width)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return self.linear(h) + (self.embed(y) * h).sum(dim=1, keepdim=True)


class AuxiliaryClassifier(PerSample):
    """AC-GAN's D (``cond=acgan``): the label is not an input; D learns to tell it, from its last hidden layer."""

    def __init__(self, in_width: int, num_classes: int, hidden: HiddenLayers) -> None:
        super().__init__()
        self.body = MLPFeatures(in_width, hidden)
        self.head = nn.Linear(hidden.width, 1 + num_classes)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x))
