"""gantool: a plugin-based toolkit for training GANs.

Importing this package must stay cheap (no torch): plugins import it for
``hookimpl`` and the CLI imports it before deciding what work to do.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("gantool")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

hookimpl = pluggy.HookimplMarker("gantool")

__all__ = ["__version__", "hookimpl"]
