"""Files written off the training thread: checkpoints, weights and sample grids.

The loop hands over CPU copies (checked for NaN first, see checkpointing.save) and goes on with
the next step while one background thread serializes them and writes them with
``store.tensors.atomic_write``, fsync and all. One pending write of each kind at a time: a new
checkpoint waits for the last one, so a crash loses at most ``--ckpt-every`` steps plus the
steps taken while one checkpoint was being written (a fraction of a second). The run waits for
every pending write however it ends (``finish``, called by the last save and by
``MetricsLog.close``), and a write that fails stops the run with its one-line error.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from gantool.core.errors import GantoolError, first_line


class BackgroundWriter:
    """One thread that writes what ``submit`` hands it, in order; ``wait`` raises the first failure as a GantoolError."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gantool-writer")
        self.pending: dict[str, tuple[str, Future[None]]] = {}  # kind -> (what, its write)

    def submit(self, kind: str, what: str, write: Callable[[], None]) -> None:
        """Queue ``write`` (``what`` names it in errors) after waiting for the last write of the same ``kind``.

        A write that already failed, of any kind, raises here: the run stops at its next hand-off.
        """
        self.wait(kind, *(k for k, (_, future) in self.pending.items() if future.done()))
        self.pending[kind] = (what, self.pool.submit(write))

    def wait(self, *kinds: str) -> None:
        """Wait for the pending writes of ``kinds`` (all when none are named); the first that failed raises."""
        for kind in kinds or list(self.pending):
            what, future = self.pending.pop(kind, ("", None))
            if future is None:
                continue
            exc = future.exception()
            if isinstance(exc, GantoolError):
                raise exc
            if exc is not None:
                raise GantoolError(f"writing {what} failed ({type(exc).__name__}: {first_line(exc)})") from None

    def close(self) -> None:
        """Wait for everything, then stop the thread; raises the first failure, after the thread has stopped."""
        try:
            self.wait()
        finally:
            self.pool.shutdown(wait=True)


_writers: dict[Path, BackgroundWriter] = {}  # one per run folder being written by this process


def for_folder(run_dir: Path) -> BackgroundWriter:
    """The writer of ``run_dir``, started on first use."""
    key = Path(run_dir).absolute()
    if key not in _writers:
        _writers[key] = BackgroundWriter()
    return _writers[key]


def finish(run_dir: Path) -> None:
    """Wait for ``run_dir``'s pending writes and stop its writer; a failed write raises here (once)."""
    writer = _writers.pop(Path(run_dir).absolute(), None)
    if writer is not None:
        writer.close()
