"""Built-in augmentations: DiffAugment's ``color``, ``translation`` and ``cutout`` (Zhao et al., NeurIPS 2020).

Each factory takes the data's shape (without the batch) and returns ``augment(x, generator)``: the same
transform as DiffAugment's reference code (github.com/mit-han-lab/data-efficient-gans, DiffAugment_pytorch.py),
drawn independently for every sample of the batch from ``generator`` (training owns it and checkpoints it,
so a resumed run draws what the uninterrupted one would), and differentiable, so G learns through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gantool.core.errors import GantoolError
from gantool.plugins.hookspecs import hookimpl

Augment = Callable[[Any, Any], Any]


def _uniform(x: Any, generator: Any, low: float, high: float) -> Any:
    """One draw of U(low, high) per sample, shaped to broadcast over the rest of ``x``."""
    import torch

    u = torch.rand(len(x), generator=generator, device=x.device, dtype=torch.float32)
    return (low + (high - low) * u).to(x.dtype).view(-1, *([1] * (x.ndim - 1)))


def color(data_shape: tuple[int, ...]) -> Augment:
    """Brightness + U(-0.5, 0.5); saturation (the deviation from the pixel's mean over channels) x U(0, 2); contrast
    (the deviation from the sample's mean) x U(0.5, 1.5). On 1-channel images saturation changes nothing; on points
    (N, D) the D coordinates play the channels."""
    del data_shape  # any shape with a channel (or feature) dimension

    def augment(x: Any, generator: Any) -> Any:
        x = x + _uniform(x, generator, -0.5, 0.5)
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * _uniform(x, generator, 0.0, 2.0) + mean
        mean = x.mean(dim=tuple(range(1, x.ndim)), keepdim=True)
        return (x - mean) * _uniform(x, generator, 0.5, 1.5) + mean

    return augment


def _image_shape(name: str, data_shape: tuple[int, ...]) -> tuple[int, int]:
    """(height, width) of image data, or the one-line error for data without them."""
    if len(data_shape) != 3:
        shape = "x".join(map(str, data_shape))
        raise GantoolError(
            f"augmentation {name!r} moves pixels, so it needs images (channels x height x width), got data of shape {shape}: "
            "use --augment color on points, or leave out --augment"
        )
    return data_shape[1], data_shape[2]


def _ratio(ratio: float) -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
        raise ValueError(f"ratio must be a fraction of the image in (0, 1], got {ratio!r}")
    return float(ratio)


def translation(data_shape: tuple[int, ...], ratio: float = 0.125) -> Augment:
    """An integer shift of up to ``ratio`` of the height and of the width (each drawn uniformly, both ways), the
    uncovered border zero-padded."""
    height, width = _image_shape("translation", data_shape)
    ratio = _ratio(ratio)
    shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)

    def augment(x: Any, generator: Any) -> Any:
        import torch
        import torch.nn.functional as F

        n, device = len(x), x.device
        dy = torch.randint(-shift_h, shift_h + 1, (n, 1, 1), generator=generator, device=device)
        dx = torch.randint(-shift_w, shift_w + 1, (n, 1, 1), generator=generator, device=device)
        batch, rows, cols = torch.meshgrid(
            torch.arange(n, device=device), torch.arange(height, device=device), torch.arange(width, device=device), indexing="ij"
        )
        rows = torch.clamp(rows + dy + 1, 0, height + 1)  # + 1: the padding; beyond it, the zeros of the padding
        cols = torch.clamp(cols + dx + 1, 0, width + 1)
        padded = F.pad(x, [1, 1, 1, 1])
        return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()

    return augment


def cutout(data_shape: tuple[int, ...], ratio: float = 0.5) -> Augment:
    """One square of ``ratio`` of the height and width, centred anywhere in the image (clipped at its border), set to 0."""
    height, width = _image_shape("cutout", data_shape)
    ratio = _ratio(ratio)
    size_h, size_w = int(height * ratio + 0.5), int(width * ratio + 0.5)

    def augment(x: Any, generator: Any) -> Any:
        import torch

        n, device = len(x), x.device
        top = torch.randint(0, height + (1 - size_h % 2), (n, 1, 1), generator=generator, device=device)
        left = torch.randint(0, width + (1 - size_w % 2), (n, 1, 1), generator=generator, device=device)
        batch, rows, cols = torch.meshgrid(
            torch.arange(n, device=device), torch.arange(size_h, device=device), torch.arange(size_w, device=device), indexing="ij"
        )
        rows = torch.clamp(rows + top - size_h // 2, 0, height - 1)
        cols = torch.clamp(cols + left - size_w // 2, 0, width - 1)
        mask = torch.ones(n, height, width, dtype=x.dtype, device=device)
        mask[batch, rows, cols] = 0
        return x * mask.unsqueeze(1)

    return augment


@hookimpl
def register_augmentations(register: Any) -> None:
    register("color", color)
    register("translation", translation)
    register("cutout", cutout)
