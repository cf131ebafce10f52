"""Animated latent walks (``gantool sample --interpolate K --out walk.gif``): every cell of a grid walks a closed loop
through several random latents, K frames per leg, so the animation plays on repeat without a seam.

Latents and labels come from numpy alone, as ``gantool sample``'s do, so both runtimes give the same frames, and
the ONNX path stays torch-free. A conditional walk holds each cell's label (``--label 7``, ``3,5``, ``all`` or
drawn), or moves every cell from class A to class B and back (``--label A:B``): labels are whole classes, so the
class changes at the loop's middle and end while the latent walk goes on smoothly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError
from gantool.core.runmeta import ModelInfo

if TYPE_CHECKING:
    import numpy as np

    from gantool.inference.labels import LabelChoice

LATENTS = 4  # a walk's latents when --frames is not given


@dataclass(frozen=True)
class Walk:
    """An animation's samples, (walks, frames, *data_shape), and what made them."""

    samples: np.ndarray
    legs: int  # latents each walk loops through
    choice: LabelChoice | None  # labels held through the walk, one per walk
    columns: int | None  # a grid's row length, when the labels ask for one
    move: tuple[int, int] | None = None  # --label A:B: the classes every walk moves between

    def describe(self, info: ModelInfo, fps: float) -> str:
        walks, frames = self.samples.shape[:2]
        moving = ""
        if self.move is not None and info.classes is not None:
            moving = f"; class {info.classes[self.move[0]]} to {info.classes[self.move[1]]} and back"
        return f"an animation of {walks} looping latent walks ({self.legs} latents, {frames} frames at {fps:g} fps{moving})"


def move_between(spec: str | None, classes: tuple[str, ...] | None) -> tuple[int, int] | None:
    """``A:B`` as two class indices, None for any other ``--label``."""
    from gantool.inference.labels import parse_label

    if spec is None or ":" not in spec:
        return None
    if classes is None:
        raise GantoolError("--label needs a conditional model (trained with --conditional); this one is unconditional: leave out --label")
    parts = [t.strip() for t in spec.split(":")]
    if len(parts) != 2 or not all(parts):
        raise GantoolError(f"--label {spec}: a walk between classes is A:B, two classes, e.g. 3:8")
    return parse_label(parts[0], classes), parse_label(parts[1], classes)


def animate(
    generator: Any,
    n: int,
    seed: int,
    *,
    steps: int,
    frames: int | None = None,
    label: str | None = None,
    truncation: float | None = None,
    batch_size: int = 256,
) -> Walk:
    """``n`` walks (or whole rows of the classes ``label`` names) of an open generator, each a loop of ``steps`` frames
    per leg through enough latents for ``frames`` frames (rounded up to whole legs)."""
    import numpy as np

    from gantool.core import latents
    from gantool.inference.labels import choose

    info: ModelInfo = generator.info
    latents.check_truncation(truncation, info.latent)
    legs = LATENTS if frames is None else math.ceil(frames / steps)
    move = move_between(label, info.classes)
    choice = None if move is not None else choose(label, n, info.classes, seed)
    count = n if choice is None else len(choice.labels)
    z = latents.loop(count, legs, steps, info.latent_dim, info.latent, seed, truncation)  # (count, frames, dim)
    total = legs * steps
    y: np.ndarray | None = None  # (count, frames): each cell's label in each frame
    if move is not None:
        half = (legs // 2) * steps
        y = np.where(np.arange(total) < half, move[0], move[1]).astype(np.int64)[None, :].repeat(count, axis=0)
    elif choice is not None:
        y = choice.labels[:, None].repeat(total, axis=1)
    flat = generator(z.reshape(-1, info.latent_dim), batch_size, labels=None if y is None else y.reshape(-1))
    samples = flat.reshape(count, total, *info.data_shape)
    return Walk(samples, legs, choice, None if choice is None else choice.per_class, move)
