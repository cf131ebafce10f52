"""Where gantool keeps things outside a run folder."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """The user cache directory (``$GANTOOL_CACHE``, else ``$XDG_CACHE_HOME/gantool``, else ``~/.cache/gantool``)."""
    base = os.environ.get("GANTOOL_CACHE")
    root = Path(base) if base else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gantool"
    return root.joinpath(*parts)
