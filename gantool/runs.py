"""Run folders: where a new run goes, ``runs/latest``, and finding a run the user names."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from gantool.errors import GantoolError

RUNS = Path("runs")
LATEST = RUNS / "latest"


def new_run_dir(gen: str, data: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = RUNS / f"{stamp}-{gen}-{data}"
    run_dir, n = base, 1
    while run_dir.exists():
        n += 1
        run_dir = base.with_name(f"{base.name}-{n}")
    return run_dir


def point_latest(run_dir: Path) -> None:
    """Make runs/latest point at this run, replacing the old link atomically."""
    from gantool.checkpoint import atomic_write

    if run_dir.parent.resolve() != RUNS.resolve():
        return  # a run kept elsewhere (--run-dir) leaves runs/latest alone
    tmp = RUNS / f".latest.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, LATEST)
    except OSError:  # no symlinks (some Windows set-ups): a text file naming the run
        tmp.unlink(missing_ok=True)
        atomic_write(LATEST, run_dir.name.encode())


def resolve_run(run: str | Path | None) -> Path:
    """The run folder a user means: the path given, or runs/latest."""
    path = Path(run) if run is not None else LATEST
    if path == LATEST and LATEST.is_file():  # the text-file form of runs/latest
        path = RUNS / LATEST.read_text(encoding="utf-8").strip()
    if not path.exists():
        if run is None:
            raise GantoolError("there is no run yet (runs/latest is missing): train one with 'gantool train' or name a run folder")
        raise GantoolError(f"run {path} does not exist: check the path (runs are under runs/)")
    if not path.is_dir():
        raise GantoolError(f"{path} is not a run folder: name the folder that holds G.safetensors")
    return path
