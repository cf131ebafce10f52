"""The DCGAN networks, following seed 003's rules.

- Strided convolutions change the resolution; there is no pooling and no upsampling layer.
- The only dense layer takes z in G (a projection, reshaped into the first feature map).
- BatchNorm after every layer except G's output and D's input.
- ReLU in G with tanh on the output; LeakyReLU 0.2 everywhere in D.

Each stride-2 layer doubles (G) or halves (D) the side: 7 -> 14 -> 28, and 4 -> 8 -> ... -> 2^k for the
powers of two from 16 to 256. The deepest feature map has ``width * 2^(k-1)`` channels, halving at each
doubling down to ``width`` (64x64 at width 64: 512 -> 256 -> 128 -> 64, pytorch/examples' DCGAN).
D ends in a convolution as large as its last feature map, which gives one logit.
Weights start from N(0, 0.02), BatchNorm scales from N(1, 0.02), as in the DCGAN paper.

D's stabilisers (``gantool_dcgan.stabilisers``): ``sn=True`` spectrally normalises its weights and drops
its BatchNorm (SNGAN's D has none); ``pack=N`` judges N samples at once (PacGAN).

Conditioned on labels (``num_classes`` > 0, gantool's ``--conditional``): G takes z with the label's
embedding concatenated (as wide as the number of classes, capped at the larger of z's width and 10); D takes
the label the ``cond`` way: ``projection`` (default: the inner product of the label's embedding with D's
globally summed last feature map, added to the logit), ``concat`` (the embedding as extra input channels) or ``acgan``
(D returns the logit and class logits). On MNIST's ten digits ``concat`` trained far better than projection
(recipes/mnist-cond-dcgan.toml); projection stays the default because it scales to many classes, where a concat
D takes one input channel per class (1,000 for stacked digits).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

from gantool import GantoolError
from gantool_dcgan import stabilisers

# image side -> side of G's first feature map (and of D's last)
FIRST_SIDE = {16: 4, 28: 7, 32: 4, 64: 4, 128: 4, 256: 4}
CHANNELS = (1, 3)
SUPPORTED = tuple((c, s, s) for s in FIRST_SIDE for c in CHANNELS)


def image_shape(data_shape: Sequence[int], who: str) -> tuple[int, int]:
    """(channels, side) of a supported image shape; a one-line error naming the supported ones otherwise."""
    shape = tuple(data_shape)
    if shape not in SUPPORTED:
        names = ", ".join("x".join(map(str, s)) for s in SUPPORTED)
        sides = ", ".join(map(str, list(FIRST_SIDE)[:-1])) + f" or {list(FIRST_SIDE)[-1]}"
        raise GantoolError(
            f"{who} 'dcgan' works on images of shape {names} (channels x height x width), got data of shape {shape}: "
            f"use an image dataset such as digits, mnist or image-folder with size={sides}, or a generator such as mlp"
        )
    return shape[0], shape[1]


def _width(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"width must be a positive integer, got {value!r}")
    return value


def _widths(side: int, width: int) -> list[int]:
    """Channels of the hidden feature maps from the smallest map to the largest: [2w, w] at 28, [4w, 2w, w] at 32, ..."""
    doublings = (side // FIRST_SIDE[side]).bit_length() - 1
    return [width * 2**i for i in reversed(range(doublings))]


def _init(module: nn.Module) -> None:
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


CONDITIONING = ("concat", "projection", "acgan")


def build_generator(latent_dim: int, data_shape: Sequence[int], width: int = 64, num_classes: int = 0) -> nn.Module:
    if num_classes:
        # the label's embedding as wide as the classes, capped at z's width: 1,000 classes (stacked digits) would
        # otherwise make the embedding and G's first layer outweigh the rest of G many times over
        embedding = min(num_classes, max(latent_dim, 10))
        return LabelledGenerator(build_generator(latent_dim + embedding, data_shape, width), num_classes, embedding)
    channels, side = image_shape(data_shape, "generator")
    widths, first = _widths(side, _width(width)), FIRST_SIDE[side]
    layers: list[nn.Module] = [
        nn.Linear(latent_dim, widths[0] * first * first, bias=False),  # BatchNorm follows: a bias would cancel
        nn.Unflatten(1, (widths[0], first, first)),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(),
    ]
    for c_in, c_out in pairwise(widths):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    layers += [nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1), nn.Tanh()]
    model = nn.Sequential(*layers)
    model.apply(_init)
    return model


def build_discriminator(
    data_shape: Sequence[int], width: int = 64, num_classes: int = 0, cond: str = "", sn: bool = False, pack: int = 1
) -> nn.Module:
    """D as the options ask; with ``sn`` spectrally normalised and without BatchNorm, with ``pack`` > 1 packed."""
    if cond and cond not in CONDITIONING:
        raise ValueError(f"cond must be one of {', '.join(CONDITIONING)}, got {cond!r}")
    if cond and not num_classes:
        raise ValueError(f"cond={cond} conditions D on labels: train with --conditional, or leave out cond")
    sn, pack = stabilisers.check(sn, pack, num_classes)
    channels, side = image_shape(data_shape, "discriminator")
    model: nn.Module
    if num_classes:
        model = LabelledDiscriminator(channels, side, _width(width), num_classes, cond or "projection", batchnorm=not sn)
    elif pack > 1:
        model = stabilisers.PackedDiscriminator(convolutions(channels * pack, side, _width(width), batchnorm=not sn), pack)
    else:
        model = convolutions(channels, side, _width(width), batchnorm=not sn)
    if not sn:
        return model
    projection = isinstance(model, LabelledDiscriminator) and model.cond == "projection"
    return stabilisers.spectral(model, *([model.embed] if projection else []))


def convolutions(channels: int, side: int, width: int, batchnorm: bool = True) -> nn.Sequential:
    """Strided convolutions from ``channels`` input maps down to one logit (BatchNorm after each but the first)."""
    widths = _widths(side, width)[::-1]
    layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, stride=2, padding=1), nn.LeakyReLU(0.2)]  # no BatchNorm on the input
    for c_in, c_out in pairwise(widths):
        norm = [nn.BatchNorm2d(c_out)] if batchnorm else []  # BatchNorm follows: a bias would cancel
        layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=not batchnorm), *norm, nn.LeakyReLU(0.2)]
    layers += [nn.Conv2d(widths[-1], 1, FIRST_SIDE[side]), nn.Flatten()]
    model = nn.Sequential(*layers)
    model.apply(_init)
    return model


class LabelledGenerator(nn.Module):
    """G(z, y): the unconditional DCGAN generator fed [z, embed(y)]."""

    def __init__(self, body: nn.Module, num_classes: int, embedding: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, embedding)
        self.body = body

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z, self.embed(y)], dim=1))


class LabelledDiscriminator(nn.Module):
    """D(x, y) in one of three ways; see the module's docstring."""

    def __init__(self, channels: int, side: int, width: int, num_classes: int, cond: str, batchnorm: bool = True) -> None:
        super().__init__()
        self.cond, self.side = cond, side
        inputs = channels + (num_classes if cond == "concat" else 0)  # concat: label channels at the input
        net = convolutions(inputs, side, width, batchnorm)
        self.features, self.logit = net[:-2], net[-2:]  # the last convolution (one logit) and its Flatten
        last = _widths(side, width)[0]  # channels of the last feature map
        self.embed = nn.Embedding(num_classes, num_classes if cond == "concat" else last)
        if cond == "projection":  # at N(0, 1) the label's term, summed over the map, outweighs the logit and G collapses per class
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        self.classes = nn.Linear(last * FIRST_SIDE[side] ** 2, num_classes) if cond == "acgan" else None

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.cond == "concat":
            labels = self.embed(y)[:, :, None, None].expand(-1, -1, self.side, self.side)
            return self.logit(self.features(torch.cat([x, labels.to(x.dtype)], dim=1)))
        h = self.features(x)
        logit = self.logit(h)
        if self.classes is None:  # projection: the label's embedding against the summed feature map
            return logit + (self.embed(y) * h.sum(dim=(2, 3))).sum(dim=1, keepdim=True)
        return torch.cat([logit, self.classes(h.flatten(1))], dim=1)  # AC-GAN: y is not an input
