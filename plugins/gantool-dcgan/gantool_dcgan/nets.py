"""The DCGAN networks, following seed 003's rules.

- Strided convolutions change the resolution; there is no pooling and no upsampling layer.
- The only dense layer takes z in G (a projection, reshaped into the first feature map).
- BatchNorm after every layer except G's output and D's input.
- ReLU in G with tanh on the output; LeakyReLU 0.2 everywhere in D.

Each stride-2 layer doubles (G) or halves (D) the side: 7 -> 14 -> 28 and 4 -> 8 -> 16 -> 32.
D ends in a convolution as large as its last feature map, which gives one logit.
Weights start from N(0, 0.02), BatchNorm scales from N(1, 0.02), as in the DCGAN paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from torch import nn

from gantool import GantoolError

# image side -> side of G's first feature map (and of D's last)
FIRST_SIDE = {28: 7, 32: 4}
CHANNELS = (1, 3)
SUPPORTED = tuple((c, s, s) for s in FIRST_SIDE for c in CHANNELS)


def image_shape(data_shape: Sequence[int], who: str) -> tuple[int, int]:
    """(channels, side) of a supported image shape; a one-line error naming the supported ones otherwise."""
    shape = tuple(data_shape)
    if shape not in SUPPORTED:
        names = ", ".join("x".join(map(str, s)) for s in SUPPORTED)
        raise GantoolError(
            f"{who} 'dcgan' works on images of shape {names} (channels x height x width), got data of shape {shape}: "
            "use an image dataset such as digits, mnist or image-folder with size=28 or 32, or a generator such as mlp"
        )
    return shape[0], shape[1]


def _width(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"width must be a positive integer, got {value!r}")
    return value


def _widths(side: int, width: int) -> list[int]:
    """Channels of the hidden feature maps from the smallest map to the largest: [2w, w] or [4w, 2w, w]."""
    doublings = {7: 2, 4: 3}[FIRST_SIDE[side]]
    return [width * 2**i for i in reversed(range(doublings))]


def _init(module: nn.Module) -> None:
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build_generator(latent_dim: int, data_shape: Sequence[int], width: int = 64) -> nn.Sequential:
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


def build_discriminator(data_shape: Sequence[int], width: int = 64) -> nn.Sequential:
    channels, side = image_shape(data_shape, "discriminator")
    widths = _widths(side, _width(width))[::-1]
    layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, stride=2, padding=1), nn.LeakyReLU(0.2)]  # no BatchNorm on the input
    for c_in, c_out in pairwise(widths):
        layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
    layers += [nn.Conv2d(widths[-1], 1, FIRST_SIDE[side]), nn.Flatten()]
    model = nn.Sequential(*layers)
    model.apply(_init)
    return model
