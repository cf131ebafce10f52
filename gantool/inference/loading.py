"""A trained generator back in PyTorch, rebuilt from a run folder: what export and the torch sampler share.

Heavy imports stay inside the functions: ``gantool.inference.export`` imports this
module, and the CLI imports that one for its defaults.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantool.core.devices import torch_device
from gantool.core.errors import GantoolError
from gantool.core.runmeta import DiscriminatorInfo, ModelInfo
from gantool.plugins.networks import generate
from gantool.store.layout import CONFIG, DISCRIMINATOR, EMA_WEIGHTS, WEIGHTS
from gantool.store.runs import resolve_run

if TYPE_CHECKING:
    import numpy as np
    import torch

REFERENCE_COUNT = 1000
RUN_REMEDY = "point at a run folder written by 'gantool train'"
EMA_HELP = f"Use the run's weight average ({EMA_WEIGHTS}) when it has one; --no-ema takes the raw G."


def generator_file(run_dir: Path, ema: bool | None = None) -> Path:
    """The generator a run means, one rule for export, sampling and evaluation: its weight average
    (G_ema.safetensors, written by ``train`` unless ``--ema 0``) when it has one, else G.safetensors.

    ``ema=False`` (``--no-ema``) takes G.safetensors; ``ema=True`` (``--ema``) insists on the average.
    """
    averaged, raw = run_dir / EMA_WEIGHTS, run_dir / WEIGHTS
    if ema and not averaged.is_file():
        raise GantoolError(
            f"{run_dir} has no averaged weights ({EMA_WEIGHTS}): it was trained without a weight average (--ema 0); leave out --ema"
        )
    path = averaged if ema is not False and averaged.is_file() else raw
    if not path.is_file():
        raise GantoolError(f"{run_dir} has no {WEIGHTS}: {RUN_REMEDY}")
    return path


def load_generator(
    run: str | Path | None = None, *, ema: bool | None = None, device: Any = "cpu"
) -> tuple[torch.nn.Module, ModelInfo, Path]:
    """The run's generator (see ``generator_file``) in inference mode; returns (G, its info, the weights file).

    Inference mode matters beyond speed: BatchNorm uses its running statistics
    and dropout is off, so a sample does not depend on the rest of its batch.
    """
    path = generator_file(resolve_run(run), ema)
    G, info = load_generator_file(path, device)
    return G, info, path


def load_generator_file(path: Path, device: Any = "cpu") -> tuple[torch.nn.Module, ModelInfo]:
    """G from one ``G*.safetensors`` file, rebuilt through the registry from its own metadata, in inference mode."""
    from gantool.store import tensors as ckpt

    tensors, meta = ckpt.load_tensors(path)
    info = ModelInfo.from_metadata(meta, str(path), RUN_REMEDY)
    G = build_generator(info, path, RUN_REMEDY)
    ckpt.load_state(G, tensors, str(path))
    G.eval().requires_grad_(False)
    return G.to(device), info


def build_generator(info: ModelInfo, path: Path, remedy: str) -> torch.nn.Module:
    """A fresh G of the component, options and classes ``info`` names, through the registry: weights come after."""
    from gantool.plugins.registry import get_registry

    if not info.component:
        raise GantoolError(f"{path} does not name its generator component: {remedy}")
    extra = {"num_classes": len(info.classes)} if info.classes is not None else {}  # the class list decides, whatever options says
    return get_registry().create("generator", info.component, info.latent_dim, info.data_shape, **{**info.options, **extra})


def reference_points(run_dir: Path, info: ModelInfo, count: int = REFERENCE_COUNT) -> list[list[float]] | None:
    """The first ``count`` points of the run's real data, for drawing samples of 2-D data over it; None otherwise.

    Training draws the same first points under its scatter plots. A run whose
    dataset cannot be rebuilt here (a plugin gone, a config removed) gets none.
    """
    import numpy as np
    import torch

    from gantool.plugins.data import as_data
    from gantool.plugins.registry import get_registry
    from gantool.store.toml import read_toml

    if info.data_shape != (2,):
        return None
    try:
        cfg = read_toml(run_dir / CONFIG)
        data = as_data(get_registry().create("dataset", cfg.get("data", info.data), **cfg.get("data_opt", {}))).train
    except GantoolError:
        return None
    if not isinstance(data, torch.Tensor) or tuple(data.shape[1:]) != (2,):
        return None
    points = data[:count].float().numpy().astype(np.float64).round(4)
    return points.tolist()


def load_discriminator(run_dir: Path) -> torch.nn.Module | None:
    """The run's D in inference mode (for seed 000's accuracy check), or None when the run has none."""
    from gantool.plugins.registry import get_registry
    from gantool.store import tensors as ckpt

    file = run_dir / DISCRIMINATOR
    if not file.is_file():
        return None
    tensors, meta = ckpt.load_tensors(file)
    info = DiscriminatorInfo.from_metadata(meta, str(file))
    extra = {"num_classes": info.num_classes} if info.num_classes else {}
    D = get_registry().create("discriminator", info.component, info.data_shape, **{**info.options, **extra})
    ckpt.load_state(D, tensors, str(file))
    return D.eval()


class TorchGenerator:
    """A run's generator in PyTorch with the same call as ``OnnxGenerator``: numpy latents in, numpy data out."""

    def __init__(self, run: str | Path | None = None, device: str = "auto", ema: bool | None = None) -> None:
        self.run_dir = resolve_run(run)
        path = generator_file(self.run_dir, ema)  # a missing file is reported before torch takes its seconds to import
        self.device = torch_device(device)
        self.G, info = load_generator_file(path, self.device)
        self.info = replace(info, reference=reference_points(self.run_dir, info))

    def __call__(self, z: np.ndarray, batch_size: int = 256, labels: np.ndarray | None = None) -> np.ndarray:
        """Data for latents ``z`` (and, for a conditional generator, one label per latent), as OnnxGenerator gives it."""
        from gantool.inference.onnx_runtime import check_labels

        y = check_labels(labels, len(z), self.info, f"the generator of {self.run_dir}")
        return generate(self.G, z, y, batch_size).reshape(len(z), *self.info.data_shape)

    @property
    def where(self) -> str:
        return f"torch, {self.device}"
