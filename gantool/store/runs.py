"""Run folders: where a new run goes, ``runs/latest``, finding a run the user names, and claiming one to write."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from gantool.core.errors import GantoolError
from gantool.store.layout import CHECKPOINT, CONFIG, DISCRIMINATOR, WEIGHTS
from gantool.store.lock import FolderLock
from gantool.store.tensors import TEMP_SUFFIX, atomic_write

RUNS = Path("runs")
LATEST = RUNS / "latest"
RECIPE_LINE = "# recipe: "  # config.toml's first line when the run started from a --config file (TOML readers skip it)
# A folder holding any of these holds a trained run: starting another run in it would overwrite them.
TRAINED = (CHECKPOINT, WEIGHTS, DISCRIMINATOR)


def config_text(settings: dict[str, Any], recipe: str | None) -> str:
    """A run's config.toml: its settings, under a ``# recipe: NAME`` line naming the recipe it started from, if any."""
    from gantool.store.toml import dump_toml

    name = " ".join(recipe.split()) if recipe else ""  # one line, whatever the file was called
    return (f"{RECIPE_LINE}{name}\n" if name else "") + dump_toml(settings)


def recorded_recipe(run_dir: Path) -> str | None:
    """The recipe a run's config.toml names on its ``# recipe:`` line; None without the line or a readable file."""
    try:
        lines = (run_dir / CONFIG).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((name for line in lines if line.startswith(RECIPE_LINE) and (name := line.removeprefix(RECIPE_LINE).strip())), None)


def new_run_dir(gen: str, data: str) -> Path:
    """Create a fresh folder under runs/; mkdir without exist_ok, so two runs started together get two folders."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = RUNS / f"{stamp}-{gen}-{data}"
    run_dir, n = base, 1
    while True:
        try:
            run_dir.mkdir(parents=True)
            return run_dir
        except FileExistsError:
            n += 1
            run_dir = base.with_name(f"{base.name}-{n}")
        except OSError as exc:
            raise GantoolError(
                f"cannot create run folder {run_dir} ({exc.strerror or exc}): run gantool where it can write, or pass --run-dir DIR"
            ) from None


def claim_run(run_dir: Path, resuming: bool) -> FolderLock:
    """Lock a run folder for writing, creating it if needed; refuses a folder another process is writing
    and, for a new run, a folder that already holds one. The caller releases the lock."""
    if run_dir.exists() and not run_dir.is_dir():
        raise GantoolError(f"{run_dir} is a file, not a run folder: pick another --run-dir")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GantoolError(f"cannot create run folder {run_dir} ({exc.strerror or exc}): pick a --run-dir you can write to") from None
    busy = "wait for it to finish, or stop it (Ctrl-C saves a checkpoint) and resume then" if resuming else "pick another --run-dir"
    lock = FolderLock(run_dir, busy)
    held = [name for name in TRAINED if (run_dir / name).exists()]
    if not resuming and held:
        lock.release()
        raise GantoolError(f"{run_dir} already holds a run ({held[0]}): continue it with --resume {run_dir}, or pick another --run-dir")
    remove_stale_temps(run_dir)
    return lock


def remove_stale_temps(run_dir: Path) -> None:
    """Delete the temporary files of writers that were killed mid-write (only the lock holder may)."""
    for path in run_dir.iterdir():
        if path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX) and path.is_file():
            path.unlink(missing_ok=True)


def check_resumable(run_dir: Path) -> None:
    """A clear answer for a folder that cannot be resumed, before anything heavy is loaded."""
    if not (run_dir / CONFIG).is_file():
        raise GantoolError(f"{run_dir} is not a gantool run (it has no {CONFIG}): name a folder that 'gantool train' wrote")
    if not (run_dir / CHECKPOINT).is_file():
        raise GantoolError(
            f"{run_dir} has no {CHECKPOINT} to resume from (it stopped before its first checkpoint): "
            f"train it again with --run-dir {run_dir}"
        )


def trim_metrics(path: Path, step: int) -> None:
    """Drop metric rows past ``step`` (and a half-written last line), so a resumed run logs every step once.

    A run killed after logging step N but before checkpointing it resumes from an
    earlier step and logs those steps again. Rows are in step order: only the tail is read.
    """
    if not path.is_file():
        return
    lines = path.read_bytes().split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline, else a half-written row
    dropped = tail != b""
    while lines:
        try:
            row = json.loads(lines[-1])
            keep = isinstance(row, dict) and isinstance(row.get("step"), int) and row["step"] <= step
        except ValueError:
            keep = False
        if keep:
            break
        lines.pop()
        dropped = True
    if dropped:
        atomic_write(path, b"".join(line + b"\n" for line in lines))


def point_latest(run_dir: Path) -> None:
    """Make runs/latest point at this run, replacing the old link atomically."""
    run_dir = run_dir.resolve()  # `--resume runs/latest` names the link: point at its target, not at itself
    if run_dir.parent != RUNS.resolve():
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
        raise GantoolError(f"{path} is not a run folder: name the folder that holds {WEIGHTS}")
    return path
