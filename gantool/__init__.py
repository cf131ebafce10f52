"""gantool: a plugin-based toolkit for training GANs.

This is the public face of the package: plugins import ``hookimpl`` from here, and scripts the
functions below. Importing it stays cheap (no torch): the heavy names load on first use.
The layers underneath, top to bottom: cli, training, evaluation, inference, plugins and store, core
(see docs/architecture.md).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError
from gantool.core.version import __version__
from gantool.plugins.data import Data, DigitModes, Modes
from gantool.plugins.figures import Figure
from gantool.plugins.hookspecs import hookimpl

if TYPE_CHECKING:  # what mypy and editors see: the real signatures; at run time each loads on first use (_LAZY)
    from gantool.evaluation.context import EvalContext as EvalContext
    from gantool.evaluation.projector import project as project
    from gantool.evaluation.runner import evaluate as evaluate
    from gantool.evaluation.runner import evaluate_path as evaluate_path
    from gantool.inference.api import load as load
    from gantool.inference.export import export_onnx as export_onnx
    from gantool.inference.sampling import sample as sample
    from gantool.plugins.registry import Registry as Registry
    from gantool.plugins.registry import get_registry as get_registry
    from gantool.training.config import TrainConfig as TrainConfig
    from gantool.training.config import resolve_config as resolve_config
    from gantool.training.run import train as train

# name -> module that defines it, imported when the name is first used (the same names as above)
_LAZY = {
    "train": "gantool.training.run",
    "TrainConfig": "gantool.training.config",
    "resolve_config": "gantool.training.config",
    "Registry": "gantool.plugins.registry",
    "get_registry": "gantool.plugins.registry",
    "EvalContext": "gantool.evaluation.context",
    "evaluate": "gantool.evaluation.runner",
    "evaluate_path": "gantool.evaluation.runner",
    "project": "gantool.evaluation.projector",
    "export_onnx": "gantool.inference.export",
    "sample": "gantool.inference.sampling",
    "load": "gantool.inference.api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gantool' has no attribute {name!r}")


__all__ = ["Data", "DigitModes", "Figure", "GantoolError", "Modes", "__version__", "hookimpl", *_LAZY]
