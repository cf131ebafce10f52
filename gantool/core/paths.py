"""Where gantool keeps things outside a run folder, and whether it may write where a user points."""

from __future__ import annotations

import os
from pathlib import Path

from gantool.core.errors import GantoolError


def cache_dir(*parts: str) -> Path:
    """The user cache directory (``$GANTOOL_CACHE``, else ``$XDG_CACHE_HOME/gantool``, else ``~/.cache/gantool``)."""
    base = os.environ.get("GANTOOL_CACHE")
    root = Path(base) if base else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gantool"
    return root.joinpath(*parts)


def check_writable(path: Path, flag: str) -> None:
    """Refuse, in one line and before any work, an output path that cannot be written."""
    parent = path.parent
    if path.is_dir():
        raise GantoolError(f"{flag} {path} is a folder: name a file in it")
    if not parent.exists():
        raise GantoolError(f"{flag} {path}: the folder {parent} does not exist; create it or choose another path")
    if not parent.is_dir():
        raise GantoolError(f"{flag} {path}: {parent} is not a folder; choose another path")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise GantoolError(f"{flag} {path} is not writable (permission denied); choose another path")
