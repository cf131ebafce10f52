"""Where samples to evaluate come from: a run's generator through torch, or an ONNX export through onnxruntime.

Evaluation only ever asks a source for ``draw(n, seed, labels)``, a numpy array
(n, *data_shape) in [-1, 1], so adding a backend touches nothing else. A conditional
generator's source has ``classes`` and is given one label per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gantool.core.errors import GantoolError
from gantool.store.layout import CONFIG, WEIGHTS

CHUNK = 2000


@dataclass
class SampleSource:
    """N samples on demand, plus what is known about the generator that makes them."""

    describe: str  # shown to the user and written to eval.json
    data: str  # the dataset the generator was trained on
    data_shape: tuple[int, ...]
    draw: Callable[..., np.ndarray]  # (n, seed), or (n, seed, labels) when conditional -> (n, *data_shape) float32 in [-1, 1]
    step: int | None = None
    run_dir: Path | None = None  # the run folder, when there is one: config, D, eval.json
    config: dict[str, Any] = field(default_factory=dict)  # the run's config.toml, when there is one
    classes: tuple[str, ...] | None = None  # a conditional generator's class names
    prior: str | None = None  # the latent prior, "normal" or "uniform", when known
    # psi -> a draw like ``draw`` whose latents are truncated at psi (``core.latents.draw``); None when it cannot be done
    truncated: Callable[[float], Callable[..., np.ndarray]] | None = None

    def labels(self, n: int, seed: int) -> np.ndarray | None:
        """Uniform labels for ``n`` samples of a conditional generator (the ones 'gantool sample' draws); None otherwise."""
        from gantool.core.latents import draw_labels

        return None if self.classes is None else draw_labels(n, len(self.classes), seed)


def module_source(
    G: Any, latent_dim: int, latent: str, data: str, data_shape: tuple[int, ...], describe: str, **extra: Any
) -> SampleSource:
    """Samples from a torch generator in memory (a loaded run, or the one being trained).

    Latents come from torch on G's device; truncated ones (``truncated(psi)``) from numpy, as
    'gantool sample --truncation' draws them, so one seed means the same latents there and here.
    """
    import torch

    from gantool.core import latents
    from gantool.plugins.networks import generate

    device = next(iter(G.parameters()), torch.empty(0)).device

    def draw(n: int, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
        rng = torch.Generator(device=device).manual_seed(seed)
        z = [latents.draw_torch(min(CHUNK, n - i), latent_dim, latent, rng, device) for i in range(0, n, CHUNK)]
        return generate(G, torch.cat(z).cpu().numpy(), labels, CHUNK)

    def truncated(psi: float) -> Callable[..., np.ndarray]:
        def draw_truncated(n: int, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
            return generate(G, latents.draw(n, latent_dim, latent, seed, truncation=psi), labels, CHUNK)

        return draw_truncated

    return SampleSource(describe, data, tuple(data_shape), draw, prior=latent, truncated=truncated, **extra)


def torch_source(path: Path, ema: bool | None = None) -> SampleSource:
    """A run folder (the generator ``inference.loading.generator_file`` picks for it) or one G*.safetensors file."""
    from gantool.inference.loading import generator_file, load_generator_file

    owner, config = run_of(path)
    file = generator_file(path, ema) if path.is_dir() else path
    if not file.is_file():
        raise GantoolError(f"{file} does not exist: name a run folder that holds {WEIGHTS} (train one with 'gantool train')")
    G, info = load_generator_file(file)
    extra = {"step": info.step, "run_dir": owner, "config": config, "classes": info.classes}
    return module_source(G, info.latent_dim, info.latent, info.data, info.data_shape, str(file), **extra)


def onnx_source(path: Path) -> SampleSource:
    """An exported G.onnx sampled through onnxruntime (no torch for the samples), latents drawn by numpy as 'gantool sample' does."""
    from gantool.core import latents
    from gantool.inference.onnx_runtime import OnnxGenerator

    generator = OnnxGenerator(path, "auto")
    info = generator.info
    low, high = info.output_range

    def truncated(psi: float | None) -> Callable[..., np.ndarray]:
        def draw(n: int, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
            out = generator(latents.draw(n, info.latent_dim, info.latent, seed, truncation=psi), CHUNK, labels=labels)
            return out if (low, high) == (-1.0, 1.0) else (out - low) / (high - low) * 2 - 1

        return draw

    owner, config = run_of(path)
    where = f"{path} ({generator.where})"
    extra: dict[str, Any] = {"step": info.step, "run_dir": owner, "config": config, "classes": info.classes, "prior": info.latent}
    return SampleSource(where, info.data, info.data_shape, truncated(None), truncated=truncated, **extra)


def run_of(file: Path) -> tuple[Path | None, dict[str, Any]]:
    """The run a generator file sits in (for D and eval.json), or None outside a run folder; and the folder's config."""
    from gantool.store.toml import read_toml

    folder = file if file.is_dir() else file.parent
    config = read_toml(folder / CONFIG) if (folder / CONFIG).is_file() else {}
    return folder if (folder / WEIGHTS).is_file() else None, config


def open_source(path: str | Path, ema: bool | None = None) -> SampleSource:
    """The sample source a user names: a run folder, a G*.safetensors file or a G.onnx file."""
    from gantool.store.runs import resolve_run

    p = Path(path)
    if p.suffix == ".onnx":
        if not p.is_file():
            raise GantoolError(f"{p} does not exist: check the path")
        return onnx_source(p)
    if p.suffix == ".safetensors":
        return torch_source(p, ema)
    return torch_source(resolve_run(p), ema)
