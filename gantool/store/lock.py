"""One writer per run folder: an operating-system lock on a file inside it, held for the run's life.

The OS drops the lock when the process ends, however it ends (SIGKILL, a power cut,
a crash), so a stale lock file can never block a later run; only a live writer does.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

from gantool.core.errors import GantoolError
from gantool.store.layout import LOCK

# What a lock held by someone else looks like: EWOULDBLOCK from flock, EACCES or EDEADLOCK from msvcrt.
BUSY = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)}


class FolderLock:
    """An exclusive, non-blocking lock on ``folder/.gantool.store.lock``; ``release`` (or the process ending) frees it."""

    def __init__(self, folder: Path, busy: str) -> None:
        """``busy`` ends the error message when another process holds the lock: what the user should do."""
        self.path = folder / LOCK
        try:
            self.fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise GantoolError(f"cannot write in {folder} ({exc.strerror or exc}): pick a folder you can write to") from None
        try:
            _lock(self.fd)
        except OSError as exc:
            holder = _read_holder(self.fd)
            os.close(self.fd)
            self.fd = None
            if exc.errno not in BUSY:
                raise GantoolError(
                    f"cannot lock {self.path} ({exc.strerror or exc}): keep runs on a file system that supports locks"
                ) from None
            by = f"another gantool process (pid {holder})" if holder.isdigit() else "another gantool process"
            raise GantoolError(f"{folder} is being written by {by}: {busy}") from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())  # for the message above, in the process that is refused

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the lock
            self.fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip() if hasattr(os, "pread") else ""
    except OSError:  # Windows refuses to read a locked range
        return ""


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # one byte is enough: every writer locks the same one

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # per open file: a second open in the same process is refused too
