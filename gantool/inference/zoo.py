"""The model zoo: pretrained generators that plugins register by name (``register_models``), as ONNX files.

Torch-free: a zoo model is sampled by onnxruntime like any export, and ``gantool models`` reads what
each file's metadata says through the same checks. A bad file spoils its own row, nothing else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from gantool.core.errors import GantoolError

KIND = "model"


@dataclass(frozen=True)
class ZooModel:
    name: str
    plugin: str
    path: Path


def installed() -> list[ZooModel]:
    """Every registered model, by name."""
    from gantool.plugins.registry import get_registry

    return [ZooModel(c.name, c.plugin, cast(Path, c.factory)) for _, c in sorted(get_registry().components[KIND].items())]


def plugin_label(plugin: str) -> str:
    """A model's plugin as a user installs it: "gantool" for gantool's own modules, otherwise the registry's name
    for the plugin (its distribution's, as ``gantool plugins`` lists it)."""
    from gantool.plugins.registry import BUILTIN_MODULES

    return "gantool" if plugin in BUILTIN_MODULES else plugin


def registered_names() -> list[str]:
    from gantool.plugins.registry import get_registry

    return get_registry().names(KIND)


def looks_like_name(model: str | Path) -> bool:
    """Whether ``--model`` means a registered model: not an existing path, no folder in it, not a file name."""
    text = str(model)
    return not Path(text).exists() and os.sep not in text and "/" not in text and not text.endswith((".onnx", ".safetensors"))


def resolve(name: str) -> ZooModel:
    """The registered model called ``name``; a one-line error naming the known ones otherwise."""
    from gantool.plugins.registry import get_registry

    registry = get_registry()
    if name not in registry.components[KIND]:
        known = ", ".join(m.name for m in installed()) or "none installed"
        raise GantoolError(f"--model {name} is neither a file, a run folder nor an installed model; known models: {known}")
    component = registry.get(KIND, name)  # a name two plugins register is refused here, naming both
    return ZooModel(component.name, component.plugin, cast(Path, component.factory))


def open_model(model: ZooModel, device: str = "auto") -> Any:
    """The model's generator in onnxruntime; a missing or broken file is one line naming the model and its plugin."""
    from gantool.inference.onnx_runtime import OnnxGenerator

    if not model.path.is_file():
        raise GantoolError(
            f"model {model.name!r} (from {model.plugin}) points at {model.path}, which does not exist: "
            f"reinstall {plugin_label(model.plugin)}"
        )
    try:
        return OnnxGenerator(model.path, device)
    except GantoolError as exc:
        raise GantoolError(f"model {model.name!r} (from {model.plugin}): {exc}") from None


def describe(model: ZooModel) -> dict[str, Any]:
    """A row of ``gantool models``: name, plugin, file, what the file's metadata says (or the error reading it),
    and where the generator came from (recipe, settings, steps, export date, eval figures), as far as the file says."""
    from gantool.core.runmeta import PROVENANCE_KEYS, Provenance

    row: dict[str, Any] = {"name": model.name, "plugin": model.plugin, "file": str(model.path)}
    try:
        generator = open_model(model, "cpu")
    except GantoolError as exc:
        empty = dict.fromkeys(("data", "component", "classes", "latent", "step", *PROVENANCE_KEYS))
        return {**row, **empty, "error": str(exc)}
    info = generator.info
    made = Provenance.from_metadata(generator.session.get_modelmeta().custom_metadata_map)
    return {
        **row,
        "data": info.data or None,
        "component": info.component or None,
        "classes": list(info.classes) if info.classes is not None else None,
        "latent": info.latent,
        "step": info.step,
        **{key: getattr(made, key) for key in PROVENANCE_KEYS},
        "error": None,
    }
