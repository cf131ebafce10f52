"""Pictures from generator output, with numpy and Pillow only (the ONNX sampler uses this too)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from PIL import Image


def grid(images: np.ndarray, ncol: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile (N, C, H, W) images in [-1, 1] into one uint8 (rows, cols, C) picture."""
    if images.ndim == 3:  # (N, H, W): grey images without a channel axis
        images = images[:, None]
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images shaped (N, 1 or 3, H, W), got {images.shape}")
    n, c, h, w = images.shape
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    pixels = ((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).round().astype(np.uint8)
    sheet = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), 255, dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        sheet[top : top + h, left : left + w] = pixels[i].transpose(1, 2, 0)
    return sheet


def scatter(points: np.ndarray, reference: np.ndarray | None = None, size: int = 512) -> np.ndarray:
    """Plot (N, 2) points (blue) over reference points (grey) on a [-1, 1]^2 canvas."""
    canvas = np.full((size, size, 3), 255, dtype=np.uint8)
    # light axes through the origin
    canvas[size // 2, :] = canvas[:, size // 2] = (225, 225, 225)

    def draw(pts: np.ndarray, colour: tuple[int, int, int], radius: int) -> None:
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        cols = np.round((pts[:, 0] + 1.0) / 2.0 * (size - 1)).astype(int)
        rows = np.round((1.0 - (pts[:, 1] + 1.0) / 2.0) * (size - 1)).astype(int)
        for dr in range(-radius, radius + 1):
            for dc in range(-radius, radius + 1):
                if dr * dr + dc * dc > radius * radius:
                    continue
                r, c = rows + dr, cols + dc
                keep = (r >= 0) & (r < size) & (c >= 0) & (c < size)
                canvas[r[keep], c[keep]] = colour

    if reference is not None:
        draw(reference, (170, 170, 170), 1)
    draw(points, (31, 119, 180), 2)
    return canvas


def picture(samples: np.ndarray, reference: np.ndarray | None = None, ncol: int | None = None) -> np.ndarray:
    """The natural picture of generator output: a scatter for 2-D points, else an image grid (``ncol`` wide)."""
    if samples.ndim == 2 and samples.shape[1] == 2:
        return scatter(samples, reference)
    if samples.ndim == 2:  # flat vectors: show them as square images when they are
        side = math.isqrt(samples.shape[1])
        if side * side == samples.shape[1]:
            return grid(samples.reshape(-1, 1, side, side), ncol)
    return grid(samples, ncol)


def save_png(pixels: np.ndarray, path: str | Path) -> None:
    viewable(pixels).save(path)


def save_animation(frames: list[np.ndarray], path: str | Path, fps: float) -> None:
    """Frames of one size as a looping GIF or WebP (by ``path``'s suffix), blown up as ``save_png`` does.

    GIF stores grey frames exactly and colour ones through a 256-colour palette; WebP is written lossless.
    A frame equal to the one before it is merged into it by Pillow (one frame shown twice as long), so a
    still stretch costs nothing.
    """
    images = [viewable(f) for f in frames]
    delay = round(1000 / fps)
    extra: dict[str, Any] = {"lossless": True} if Path(path).suffix.lower() == ".webp" else {"optimize": False}
    images[0].save(path, save_all=True, append_images=images[1:], duration=delay, loop=0, **extra)


def viewable(pixels: np.ndarray) -> Image.Image:
    """A uint8 (H, W, C) picture as a Pillow image, small ones blown up so people can see the digits."""
    from PIL import Image

    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    if image.width < 256:
        factor = math.ceil(256 / image.width)
        image = image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)
    return image


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def read_image(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A PNG or JPEG as (C, H, W) float32 in [-1, 1] for a model of image ``shape``: grey or RGB as the model has
    channels. The size rule: an image of the model's aspect ratio is resized to its size (Lanczos), another aspect
    ratio is refused. A one-line error when it cannot be read or fit."""
    from PIL import Image, UnidentifiedImageError

    from gantool.core.errors import GantoolError

    channels, height, width = shape
    try:
        with Image.open(path) as image:
            image.load()
            pixels = image.convert("L" if channels == 1 else "RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        reason = "not an image Pillow can read" if isinstance(exc, UnidentifiedImageError) else str(getattr(exc, "strerror", "") or exc)
        raise GantoolError(f"{path} cannot be read ({reason}): give PNG or JPEG images") from None
    if pixels.size != (width, height):
        if pixels.width * height != pixels.height * width:
            raise GantoolError(
                f"{path} is {pixels.width}x{pixels.height}, but the model makes {width}x{height} images: crop it to that aspect ratio "
                "(an image of the same aspect ratio is resized)"
            )
        pixels = pixels.resize((width, height), Image.Resampling.LANCZOS)
    array = np.asarray(pixels, dtype=np.float32).reshape(height, width, channels).transpose(2, 0, 1)
    return array / 127.5 - 1.0
