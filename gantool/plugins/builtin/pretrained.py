"""gantool's own pretrained generators: every ``gantool/models/*.onnx``, registered by its file name through
``register_models``, exactly as a third-party model zoo registers its files."""

from __future__ import annotations

from pathlib import Path

from gantool.plugins.hookspecs import hookimpl

MODELS = Path(__file__).resolve().parents[2] / "models"


@hookimpl
def register_models(register):
    for path in sorted(MODELS.glob("*.onnx")):
        register(path.stem, path)
