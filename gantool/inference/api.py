"""``gantool.load``: a generator to sample from Python, as ``gantool sample`` does but into a numpy array.

An ONNX file or an installed model's name runs in onnxruntime (no torch); a run folder in PyTorch.
Latents and labels come from the same numpy draws as ``gantool sample``, so one seed gives the same
samples here, on the command line, and through either runtime.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError
from gantool.core.options import check_values
from gantool.core.runmeta import ModelInfo
from gantool.inference import zoo
from gantool.inference.sample_options import DEFAULT_BATCH, SampleOptions
from gantool.inference.sampling import generate, open_generator

if TYPE_CHECKING:
    import numpy as np


class Sampler:
    """An open generator: ``sample(n, seed=..., label=..., truncation=...)`` gives ``(n, *data_shape)`` float32."""

    def __init__(self, generator: Any, source: str) -> None:
        self.generator = generator
        self.source = source
        self.info: ModelInfo = generator.info

    @property
    def where(self) -> str:
        """The runtime and device that run the generator."""
        return self.generator.where

    @property
    def classes(self) -> tuple[str, ...] | None:
        """A conditional generator's class names, in label order; None for an unconditional one."""
        return self.info.classes

    def sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        label: int | str | Sequence[int | str] | None = None,
        truncation: float | None = None,
        batch_size: int = DEFAULT_BATCH,
        return_labels: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray | None]:
        """``n`` samples (more when several classes share them equally, as on the command line).

        ``label``: a class number or name, a list of them, or ``"all"`` (conditional generators; without it
        labels are drawn uniformly). ``truncation``: psi in (0, 1] for the normal prior. ``return_labels``:
        also return the labels used (None for an unconditional generator).
        """
        check_values(SampleOptions, {"n": n, "batch_size": batch_size, "seed": seed}, by_name=True)  # as gantool sample's
        seed = secrets.randbelow(2**32) if seed is None else seed
        samples, choice, _ = generate(self.generator, n, seed, label=label_spec(label), truncation=truncation, batch_size=batch_size)
        if return_labels:
            return samples, None if choice is None else choice.labels
        return samples

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.info.data_shape))
        return f"<gantool Sampler {self.source}: {self.info.latent_dim}-d {self.info.latent} latents -> {shape} ({self.where})>"


def label_spec(label: int | str | Sequence[int | str] | None) -> str | None:
    """A label as ``--label`` spells it: 7, "seven", [3, 5] -> "7", "seven", "3,5"."""
    if label is None or isinstance(label, str):
        return label
    if isinstance(label, int) and not isinstance(label, bool):
        return str(label)
    if isinstance(label, Sequence) and label and all(isinstance(x, str | int) and not isinstance(x, bool) for x in label):
        return ",".join(map(str, label))
    import numpy as np

    if isinstance(label, np.ndarray | np.integer) and np.issubdtype(np.asarray(label).dtype, np.integer):
        return ",".join(map(str, np.asarray(label).reshape(-1).tolist())) or None
    raise GantoolError(f"label must be a class number or name, a list of them, or 'all', got {label!r}")


def load(source: str | Path, *, device: str = "auto", runtime: str | None = None, ema: bool | None = None) -> Sampler:
    """A sampler for ``source``: an ONNX file (onnxruntime, no torch), a run folder (PyTorch, its ``G_ema`` when it
    has one unless ``ema=False``), or the name of a model a plugin installs (see ``gantool models``).

    ``runtime`` overrides the choice: ``"onnx"`` on a run folder samples its ``G.onnx``.
    """
    if not isinstance(source, str | Path) or not str(source):
        raise GantoolError(f"gantool.load needs an .onnx file, a run folder or a model name, got {source!r}")
    path = Path(source)
    if runtime is None:
        runtime = "torch" if path.is_dir() else "onnx"
    if not path.exists() and not zoo.looks_like_name(source):
        raise GantoolError(f"{source} does not exist: pass an .onnx file, a run folder or a model name (see 'gantool models')")
    return Sampler(open_generator(runtime, source, device, ema), str(source))
