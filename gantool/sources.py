"""Where samples to evaluate come from: a run's generator through torch, or (soon) an ONNX file.

Evaluation only ever asks a source for ``draw(n, seed)``, a numpy array
(n, *data_shape) in [-1, 1], so adding a backend touches nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gantool.errors import GantoolError

EMA_FILE = "G_ema.safetensors"  # the averaged generator, preferred when present (export --ema reads the same name)
CHUNK = 2000


@dataclass
class SampleSource:
    """N samples on demand, plus what is known about the generator that makes them."""

    describe: str  # shown to the user and written to eval.json
    data: str  # the dataset the generator was trained on
    data_shape: tuple[int, ...]
    draw: Callable[[int, int], np.ndarray]  # (n, seed) -> (n, *data_shape) float32 in [-1, 1]
    step: int | None = None
    run_dir: Path | None = None  # the run folder, when there is one: config, D, eval.json
    config: dict[str, Any] = field(default_factory=dict)  # the run's config.toml, when there is one


def module_source(
    G: Any, latent_dim: int, latent: str, data: str, data_shape: tuple[int, ...], describe: str, **extra: Any
) -> SampleSource:
    """Samples from a torch generator in memory (a loaded run, or the one being trained)."""
    import torch

    from gantool.train import sample_latent

    device = next(iter(G.parameters()), torch.empty(0)).device

    def draw(n: int, seed: int) -> np.ndarray:
        rng = torch.Generator(device=device).manual_seed(seed)
        was_training = G.training
        G.eval()
        try:
            with torch.no_grad():
                z = [sample_latent(min(CHUNK, n - i), latent_dim, latent, rng, device) for i in range(0, n, CHUNK)]
                parts = [G(chunk).float().cpu().numpy() for chunk in z]
        finally:
            G.train(was_training)
        return np.concatenate(parts)

    return SampleSource(describe, data, tuple(data_shape), draw, **extra)


def generator_file(run_dir: Path, ema: bool) -> Path:
    """G_ema.safetensors when the run has one and ``ema`` allows it, else G.safetensors."""
    if ema and (run_dir / EMA_FILE).is_file():
        return run_dir / EMA_FILE
    return run_dir / "G.safetensors"


def torch_source(path: Path, ema: bool = True) -> SampleSource:
    """A run folder or a G*.safetensors file, rebuilt through the registry from its metadata."""
    from gantool import checkpoint as ckpt
    from gantool.config import read_toml
    from gantool.registry import get_registry

    run_dir = path if path.is_dir() else path.parent
    file = generator_file(path, ema) if path.is_dir() else path
    if not file.is_file():
        raise GantoolError(f"{file} does not exist: name a run folder that holds G.safetensors (train one with 'gantool train')")
    tensors, meta = ckpt.load_tensors(file)
    try:
        if meta.get("kind") != "generator":
            raise KeyError("kind")
        component, options = meta["component"], json.loads(meta["options"])
        latent_dim, latent = int(meta["latent_dim"]), meta["latent"]
        data, data_shape = meta["data"], tuple(json.loads(meta["data_shape"]))
        step = json.loads(meta["step"]) if "step" in meta else None
    except (KeyError, ValueError) as exc:
        raise GantoolError(f"{file} has no gantool generator metadata ({exc}); point at a G.safetensors written by gantool") from None
    G = get_registry().create("generator", component, latent_dim, data_shape, **options)
    ckpt.load_state(G, tensors, str(file))
    config = read_toml(run_dir / "config.toml") if (run_dir / "config.toml").is_file() else {}
    has_run = (run_dir / "G.safetensors").is_file()
    return module_source(G, latent_dim, latent, data, data_shape, str(file), step=step, run_dir=run_dir if has_run else None, config=config)


def onnx_source(path: Path) -> SampleSource:
    """An exported G.onnx sampled through onnxruntime, without torch.

    This is the place for it: read data/latent/data_shape from the model's
    metadata_props, feed z of the model's latent size in chunks, return the
    outputs. It arrives with ``gantool export``, which defines that metadata.
    """
    raise GantoolError(
        f"evaluating an ONNX generator ({path}) needs 'gantool export', which this version does not have yet: "
        "evaluate the run folder it came from instead"
    )


def open_source(path: str | Path, ema: bool = True) -> SampleSource:
    """The sample source a user names: a run folder, a G*.safetensors file or a G.onnx file."""
    from gantool.runs import resolve_run

    p = Path(path)
    if p.suffix == ".onnx":
        if not p.is_file():
            raise GantoolError(f"{p} does not exist: check the path")
        return onnx_source(p)
    if p.suffix == ".safetensors":
        return torch_source(p, ema)
    return torch_source(resolve_run(p), ema)


def load_discriminator(run_dir: Path) -> Any | None:
    """The run's D (for the seeds' accuracy check), or None when the run has none."""
    from gantool import checkpoint as ckpt
    from gantool.registry import get_registry

    file = run_dir / "D.safetensors"
    if not file.is_file():
        return None
    tensors, meta = ckpt.load_tensors(file)
    try:
        D = get_registry().create("discriminator", meta["component"], tuple(json.loads(meta["data_shape"])), **json.loads(meta["options"]))
    except (KeyError, ValueError) as exc:
        raise GantoolError(f"{file} has no gantool discriminator metadata ({exc})") from None
    ckpt.load_state(D, tensors, str(file))
    return D.eval()
