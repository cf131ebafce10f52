"""gantool: a plugin-based toolkit for training GANs.

This is the public face of the package: plugins import ``hookimpl`` from here, and scripts the
functions below. Importing it stays cheap (no torch): the heavy names load on first use.
The layers underneath, top to bottom: cli, training, evaluation, inference, plugins and store, core
(see docs/architecture.md).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from gantool.core.errors import GantoolError
from gantool.core.version import __version__
from gantool.plugins.data import Data, Modes
from gantool.plugins.hookspecs import hookimpl

# name -> module that defines it, imported when the name is first used
_LAZY = {
    "train": "gantool.training.run",
    "TrainConfig": "gantool.training.config",
    "resolve_config": "gantool.training.config",
    "Registry": "gantool.plugins.registry",
    "get_registry": "gantool.plugins.registry",
    "EvalContext": "gantool.evaluation.context",
    "evaluate": "gantool.evaluation.runner",
    "evaluate_path": "gantool.evaluation.runner",
    "export_onnx": "gantool.inference.export",
    "sample": "gantool.inference.sampling",
    "load": "gantool.inference.api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gantool' has no attribute {name!r}")


__all__ = ["Data", "GantoolError", "Modes", "__version__", "hookimpl", *_LAZY]
