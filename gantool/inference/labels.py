"""The labels a conditional generator is sampled with: ``--label 7``, ``--label 3,5``, ``--label all``, class names.

Chosen with numpy alone, so the ONNX sampler needs nothing more, and drawn (when not chosen) from
their own stream of the seed, so one ``--seed`` gives the same samples and labels in both runtimes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gantool.core.errors import GantoolError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class LabelChoice:
    """One label per sample, and how many samples each chosen class got (a grid's row length), if chosen."""

    labels: np.ndarray
    per_class: int | None = None


def parse_label(token: str, classes: tuple[str, ...]) -> int:
    """A class by its name, else by its number; a one-line error naming the classes otherwise."""
    if token in classes:
        return classes.index(token)
    names = ", ".join(classes) if len(classes) <= 20 else ", ".join(classes[:20]) + ", ..."
    try:
        index = int(token)
    except ValueError:
        raise GantoolError(f"--label {token} is not a class of this model; its classes are: {names}") from None
    if not 0 <= index < len(classes):
        raise GantoolError(f"--label {index} is out of range: this model has {len(classes)} classes, 0 to {len(classes) - 1} ({names})")
    return index


def choose(spec: str | None, n: int, classes: tuple[str, ...] | None, seed: int) -> LabelChoice | None:
    """Labels for ``n`` samples: the classes ``spec`` names (``all``: every class, in class order), each given an equal
    share of at least ``n`` samples in a block of its own; without ``spec``, drawn uniformly. None for an unconditional model."""
    import numpy as np

    from gantool.core.latents import draw_labels

    if classes is None:
        if spec is not None:
            raise GantoolError(
                "--label needs a conditional model (trained with --conditional); this one is unconditional: leave out --label"
            )
        return None
    if spec is None:
        return LabelChoice(draw_labels(n, len(classes), seed))
    if ":" in spec:
        raise GantoolError(f"--label {spec} walks between two classes, which only an animation shows: --out FILE.gif with --interpolate K")
    tokens = [t.strip() for t in spec.split(",") if t.strip()]
    if not tokens:
        raise GantoolError("--label needs a class: a number, a class name, a comma-separated list, or all")
    chosen = list(range(len(classes))) if tokens == ["all"] else [parse_label(t, classes) for t in tokens]
    per = math.ceil(n / len(chosen))
    return LabelChoice(np.repeat(np.asarray(chosen, dtype=np.int64), per), per if len(chosen) > 1 else None)


def write_labels(labels: np.ndarray, out: Path, classes: tuple[str, ...]) -> Path:
    """Beside ``out``: ``NAME.labels.npy`` (int64, one per sample) for arrays, ``NAME.labels.txt`` (class names,
    in the picture's order) for pictures."""
    import numpy as np

    path = out.with_name(f"{out.stem}.labels{'.npy' if out.suffix.lower() == '.npy' else '.txt'}")
    from gantool.inference.given_latents import write_array

    if path.suffix == ".npy":
        write_array(np.asarray(labels, dtype=np.int64), path)
        return path
    try:
        path.write_text("".join(f"{classes[i]}\n" for i in np.asarray(labels).reshape(-1)), encoding="utf-8")
    except OSError as exc:
        raise GantoolError(f"cannot write {path} ({exc.strerror or exc}): choose another --out") from None
    return path
