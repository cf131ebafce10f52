"""What a run reports as it goes: one row of figures per step in metrics.jsonl, TensorBoard, and the progress bar.

Figures stay on the device until the logging interval (no host sync per step); then the
mean over ranks comes back in one all-reduce, rank 0 writes the rows, and a NaN stops the run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import torch

from gantool.core.errors import GantoolError
from gantool.store.layout import METRICS, TENSORBOARD
from gantool.training import distributed
from gantool.training.ranks import Ranks


class Figures(NamedTuple):
    """One step's row: the losses, D(x) and D(G(z)), the two halves of D's cross-entropy, and --augment's p."""

    d_loss: float
    g_loss: float
    d_real: float
    d_fake: float
    d_loss_real: float
    d_loss_fake: float
    augment_p: float | None = None  # only with --augment


def non_finite_error(what: str, step: int, last_saved: int, run_dir: Path) -> GantoolError:
    """Stop a diverged run, pointing at the checkpoint it kept and at the way on."""
    if last_saved:
        keep = f"the checkpoint of step {last_saved} is kept: resume with a lower learning rate (gantool train --resume {run_dir} --lr ...)"
    else:
        keep = "no checkpoint was written: lower --lr"
    return GantoolError(f"{what} at step {step}; {keep} or change --loss")


class MetricsLog:
    """Collects each step's figures on the device and writes them, averaged over ranks, at each interval."""

    def __init__(self, run_dir: Path, ranks: Ranks, device: torch.device, tensorboard: bool) -> None:
        self.run_dir, self.ranks, self.device = run_dir, ranks, device
        self.pending: list[torch.Tensor] = []
        self.evaluated: dict[int, dict[str, Any]] = {}  # step -> eval figures, written with that step's row
        self.file = (run_dir / METRICS).open("a", encoding="utf-8") if ranks.main else None  # rank 0 writes
        self.board = tensorboard_writer(run_dir) if tensorboard and ranks.main else None

    def add(self, d_loss: torch.Tensor, g_loss: torch.Tensor, figures: list[torch.Tensor]) -> None:
        self.pending.append(torch.stack([d_loss.detach(), g_loss.detach(), *(f.to(self.device) for f in figures)]).float())

    def flush(self, step: int, last_saved: int) -> Figures:
        """Write the rows up to ``step``; returns the last one. A non-finite loss stops the run here."""
        rows = distributed.average(torch.stack(self.pending), self.ranks).tolist()
        first = step - len(rows) + 1
        self.pending.clear()
        if self.file is not None:
            for i, row in enumerate(rows):
                figures = {k: v for k, v in Figures(*row)._asdict().items() if v is not None}
                record = {"step": first + i, **figures} | self.evaluated.pop(first + i, {})
                self.file.write(json.dumps(record) + "\n")
                if self.board is not None:
                    log_scalars(self.board, record)
            self.file.flush()
        diverged = next((i for i, row in enumerate(rows) if not all(math.isfinite(v) for v in row[:2])), None)
        if diverged is not None:
            dl, gl = rows[diverged][:2]
            raise non_finite_error(f"the loss became {dl} (D) / {gl} (G)", first + diverged, last_saved, self.run_dir)
        return Figures(*rows[-1])

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.board is not None:
            self.board.close()


def tensorboard_writer(run_dir: Path) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(run_dir / TENSORBOARD))


def log_scalars(board: Any, record: dict[str, Any]) -> None:
    """Every number of a metrics.jsonl row, under its own name."""
    for key, value in record.items():
        if key != "step" and isinstance(value, int | float) and not isinstance(value, bool):
            board.add_scalar(key, value, record["step"])


def progress_bar(console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[figures]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    return Progress(*columns, console=console, transient=False)


def describe(figures: Figures) -> str:
    p = f"  p {figures.augment_p:.3f}" if figures.augment_p is not None else ""
    return f"D {figures.d_loss:.3f}  G {figures.g_loss:.3f}  D(x) {figures.d_real:.2f}  D(G(z)) {figures.d_fake:.2f}{p}"


@contextmanager
def bar_cleared_on_error(progress: Any) -> Iterator[None]:
    """A run that fails ends with its one-line error alone: the half-drawn progress bar is cleared."""
    try:
        yield
    except Exception:
        progress.live.transient = True
        raise
