"""``gantool plot``: a run's loss curves and its samples over training, as PNG files.

The curves are smoothed as seed 000 smooths them (a Hanning window over a
mirrored signal), the raw values kept faint behind; the sheet puts the grids of
``samples/step_*.png`` side by side, seed 004's picture of a GAN learning.
Needs only numpy, Pillow and matplotlib: no torch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from gantool.core.errors import GantoolError
from gantool.store.layout import LOSSES_PLOT, METRICS, PLOTS, SAMPLES_PLOT, sample_grids

WINDOW = 100  # seed 000's window length
SHEET_MAX = 12  # grids on one sheet; longer runs are thinned evenly, keeping the last


def smooth(x: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Seed 000's Hanning smoothing, trimmed to the input's length and centred on it.

    The window shrinks for short series (to a fifth of their length), is odd, and is
    skipped below 3 points; NaNs (steps where a loss never called D) are
    filled from their neighbours first.
    """
    y = np.asarray(x, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError("smooth takes one series at a time")
    finite = np.isfinite(y)
    if not finite.any():
        return y
    if not finite.all():
        y = np.interp(np.arange(len(y)), np.flatnonzero(finite), y[finite])
    w = min(window, len(y) // 5)
    w -= 1 - w % 2  # odd, so the window is centred on each point (seed 000's 100 becomes 99)
    if w < 3:
        return y
    padded = np.r_[y[w - 1 : 0 : -1], y, y[-1:-w:-1]]  # mirror both ends, as the seed does
    kernel = np.hanning(w)
    out = np.convolve(kernel / kernel.sum(), padded, mode="valid")  # len(y) + w - 1 values
    start = (w - 1) // 2
    return out[start : start + len(y)]


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / METRICS
    if not path.is_file():
        raise GantoolError(f"{run_dir} has no {METRICS}: name a run folder made by 'gantool train'")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise GantoolError(f"{path} line {number} is not JSON; was the file edited?") from None
    if not rows:
        raise GantoolError(f"{path} is empty: train the run for at least one logging interval")
    return rows


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise GantoolError('gantool plot needs matplotlib: pip install "gantool[train]" (or pip install matplotlib)') from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


LOSSES = (("d_loss_real", "D on real"), ("d_loss_fake", "D on fake"), ("g_loss", "G"))
OUTPUTS = (("d_real", "D(x)"), ("d_fake", "D(G(z))"))
# Evaluation figures drawn when --eval-every logged them, with the direction that is better.
EVAL_FIGURES = (
    ("fid", "Fréchet distance (lower is better)"),
    ("high_quality", "high-quality samples"),
    ("modes_captured", "modes captured"),
    ("reverse_kl", "reverse KL (lower is better)"),
    ("inception_score", "Inception-style score"),
    ("precision", "precision"),
    ("recall", "recall"),
)


def series(rows: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), int | float) and not isinstance(r.get(key), bool)]
    if not pairs:
        return np.empty(0), np.empty(0)
    steps, values = zip(*pairs)
    return np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)


def plot_losses(rows: list[dict[str, Any]], out: Path, title: str = "") -> Path:
    """Losses and D's outputs over training, and evaluation figures when there are any."""
    plt = _pyplot()
    evals = [(k, label) for k, label in EVAL_FIGURES if len(series(rows, k)[0])]
    panels = 2 + (1 if evals else 0)
    fig, axes = plt.subplots(panels, 1, figsize=(12, 3.6 * panels), sharex=True, squeeze=False)
    axes = axes[:, 0]
    for ax, group, ylabel in ((axes[0], LOSSES, "loss"), (axes[1], OUTPUTS, "mean output")):
        for (key, label), colour in zip(group, ("C0", "C1", "C2")):
            steps, values = series(rows, key)
            if len(steps):
                ax.plot(steps, values, color=colour, alpha=0.2, linewidth=0.8)
                ax.plot(steps, smooth(values), color=colour, linewidth=1.8, label=label)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right")
    axes[1].axhline(0.5, color="grey", linewidth=0.8, linestyle="--")  # where D cannot tell
    if evals:
        ax = axes[2]
        for i, (key, label) in enumerate(evals[:4]):
            steps, values = series(rows, key)
            target = ax if i == 0 else ax.twinx()
            if i > 1:
                target.spines["right"].set_position(("axes", 1 + 0.08 * (i - 1)))
            target.plot(steps, values, marker="o", color=f"C{i + 3}", label=label)
            target.set_ylabel(label, color=f"C{i + 3}")
        ax.set_title("evaluations (--eval-every)", fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("step")
    fig.suptitle(title or "training curves", fontsize=12)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def thin(items: list[Any], most: int) -> list[Any]:
    """At most ``most`` items, evenly spaced, always keeping the first and the last."""
    if len(items) <= most:
        return items
    picks = sorted({round(i * (len(items) - 1) / (most - 1)) for i in range(most)})
    return [items[i] for i in picks]


def plot_samples(run_dir: Path, out: Path, title: str = "") -> Path | None:
    """One sheet of the sample grids saved over training, labelled by step; None when there are none."""
    from PIL import Image

    plt = _pyplot()
    shots = thin(sample_grids(run_dir), SHEET_MAX)
    if not shots:
        return None
    cols = min(len(shots), 4 if len(shots) in (4, 7, 8) else 5 if len(shots) > 4 else len(shots))
    rows = math.ceil(len(shots) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (step, path) in zip(axes.flat, shots):
        with Image.open(path) as img:
            ax.imshow(np.asarray(img.convert("RGB")), interpolation="nearest")
        ax.set_title(f"step {step:,}", fontsize=10)
    fig.suptitle(title or "samples over training", fontsize=12)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def plot_run(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write losses.png and samples_over_training.png for a run; returns the files written."""
    run = Path(run_dir)
    rows = read_metrics(run)
    target = Path(out_dir) if out_dir is not None else run / PLOTS
    target.mkdir(parents=True, exist_ok=True)
    written = [plot_losses(rows, target / LOSSES_PLOT, f"{run.name}: losses (Hanning-smoothed, raw values faint)")]
    sheet = plot_samples(run, target / SAMPLES_PLOT, f"{run.name}: samples over training (fixed latents)")
    if sheet is not None:
        written.append(sheet)
    return written
