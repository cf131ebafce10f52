"""A torch generator for what ``gantool project`` is pointed at: a run folder, an exported ``G.onnx`` or a shipped
model by name.

An ONNX file has no torch network in it, but gantool's export keeps what rebuilds one: the metadata names the
component, its options and classes (rebuilt through the registry, as a run's weights are), and the initializers
keep the state dict's names. So a shipped model needs no second copy of its weights (the light install stays
small); the rebuilt network is checked against onnxruntime before it is used, and a file whose weights were
renamed or folded by the exporter is refused in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError, first_line
from gantool.core.runmeta import ModelInfo
from gantool.inference import zoo
from gantool.inference.loading import build_generator, generator_file, load_generator_file
from gantool.inference.onnx_runtime import REMEDY
from gantool.store.layout import ONNX, WEIGHTS

if TYPE_CHECKING:
    import torch

CHECK_COUNT = 8  # latents the rebuilt network is held to onnxruntime on
TOLERANCE = 1e-4


def open_torch_generator(target: str | Path, device: Any = "cpu", ema: bool | None = None) -> tuple[torch.nn.Module, ModelInfo, str]:
    """(G in inference mode, its info, what it is) for a run folder (its G, as ``generator_file`` chooses), an
    ONNX file, a folder holding only ``G.onnx``, or an installed model's name."""
    path = Path(target)
    if path.is_dir() and not (path / WEIGHTS).is_file() and (path / ONNX).is_file():
        path = path / ONNX
    named = not path.exists() and zoo.looks_like_name(target)
    if ema is not None and (named or path.suffix == ".onnx"):
        raise GantoolError("--ema/--no-ema choose a run's weights; an ONNX file holds the weights it was exported with: leave it out")
    if named:
        model = zoo.resolve(str(target))
        if not model.path.is_file():
            raise GantoolError(f"model {model.name!r} (from {model.plugin}) points at {model.path}, which does not exist: reinstall it")
        G, info = load_onnx_generator(model.path, device)
        return G, info, f"model {model.name}"
    if path.is_file() and path.suffix == ".onnx":
        G, info = load_onnx_generator(path, device)
        return G, info, str(path)
    if path.is_file():
        raise GantoolError(f"{path} is neither a run folder nor an .onnx file: point at a run, a G.onnx or a model name (gantool models)")
    if not path.exists():
        known = ", ".join(zoo.registered_names()) or "none installed"
        raise GantoolError(f"{path} does not exist: point at a run folder, a G.onnx or an installed model ({known})")
    weights = generator_file(path, ema)
    G, info = load_generator_file(weights, device)
    return G, info, str(weights)


def load_onnx_generator(path: Path, device: Any = "cpu") -> tuple[torch.nn.Module, ModelInfo]:
    """G rebuilt from an exported ONNX file: the network its metadata names, its initializers as the state dict,
    checked to give onnxruntime's output on a few latents."""
    import onnx
    import torch
    from onnx import numpy_helper

    from gantool.inference.onnx_runtime import OnnxGenerator

    reference = OnnxGenerator(path, "cpu")  # the metadata and signature checks of sampling, and the outputs to match
    info = reference.info
    G = build_generator(info, path, REMEDY)
    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:  # onnx raises its own DecodeError and friends
        raise GantoolError(f"{path} cannot be read by onnx ({first_line(exc)}): {REMEDY}") from None
    stored = {init.name: init for init in graph.initializer}
    state = G.state_dict()
    folded = folded_norms(G, stored)
    missing = [k for k in state if k not in stored and k not in folded and not k.endswith("num_batches_tracked")]
    if missing:
        raise GantoolError(
            f"{path} does not keep {missing[0]} of its {info.component!r} network by name (the exporter folded or renamed it), "
            "so it cannot be rebuilt in torch: project the run folder it was exported from"
        )
    for key, value in state.items():
        if key in stored:
            array = numpy_helper.to_array(stored[key])
            if tuple(array.shape) != tuple(value.shape):
                raise GantoolError(f"{path}: {key} is shaped {list(array.shape)}, the rebuilt network's {list(value.shape)}: {REMEDY}")
            state[key] = torch.from_numpy(array.copy()).to(value.dtype)
        elif key in folded:
            state[key] = folded[key].to(value.dtype)
    G.load_state_dict(state)
    G.eval().requires_grad_(False)
    check_rebuilt(G, reference, path)
    return G.to(device), info


def folded_norms(G: torch.nn.Module, stored: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Identity statistics for every BatchNorm whose weights the file does not keep: the exporter folds an inference-mode
    BatchNorm into the layer before it, whose weights the file then holds already normalised. The check against
    onnxruntime (``check_rebuilt``) decides whether that was so."""
    import torch
    from torch import nn

    identity: dict[str, torch.Tensor] = {}
    for name, module in G.named_modules():
        if not isinstance(module, nn.modules.batchnorm._BatchNorm) or any(f"{name}.{k}" in stored for k in ("weight", "running_mean")):
            continue
        size, eps = module.num_features, module.eps
        values = {"weight": torch.ones(size), "bias": torch.zeros(size), "running_mean": torch.zeros(size)}
        values["running_var"] = torch.full((size,), 1.0 - eps)  # 1 / sqrt(var + eps) = 1
        identity.update({f"{name}.{k}": v for k, v in values.items()})
    return identity


def check_rebuilt(G: torch.nn.Module, reference: Any, path: Path) -> None:
    """The rebuilt G must give what onnxruntime gives for the same latents (and labels), or it is not used."""
    import numpy as np

    from gantool.core.latents import draw, draw_labels
    from gantool.plugins.networks import generate

    info: ModelInfo = reference.info
    z = draw(CHECK_COUNT, info.latent_dim, info.latent, 0)
    y = None if info.classes is None else draw_labels(CHECK_COUNT, len(info.classes), 0)
    gap = float(np.abs(generate(G, z, y).reshape(CHECK_COUNT, -1) - reference(z, labels=y).reshape(CHECK_COUNT, -1)).max())
    if not gap <= TOLERANCE:
        raise GantoolError(
            f"{path} rebuilt in torch differs from onnxruntime by {gap:.3g} (the installed {info.component!r} is not the network "
            "it was exported from?): project the run folder it was exported from"
        )
