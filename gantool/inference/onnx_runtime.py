"""Exported generators run by onnxruntime, with numpy only: this is the sampler that needs no torch.

It picks the execution provider (CUDA first when the driver sees a GPU and
onnxruntime can start its CUDA provider, the CPU otherwise), holds the model to
gantool's metadata, and runs latents through it in batches.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from gantool.core import devices as gpu
from gantool.core.devices import check_device
from gantool.core.errors import GantoolError, first_line
from gantool.core.runmeta import ModelInfo
from gantool.store.layout import ONNX

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
REMEDY = "point --model at a file written by 'gantool export'"


def providers_for(device: str) -> list[Any]:
    """Execution providers to ask for, best first; CUDA only where it can plausibly start."""
    import onnxruntime as ort

    check_device(device)
    if device == "cpu":
        return [CPU]
    wanted = device != "auto"
    if CUDA not in ort.get_available_providers():
        if wanted:
            raise GantoolError(
                f"--device {device} needs onnxruntime-gpu, but this onnxruntime offers {', '.join(ort.get_available_providers())}: "
                "use --device cpu, or install onnxruntime-gpu"
            )
        return [CPU]
    gpus = gpu.cuda_devices()
    index = int(device.partition(":")[2] or 0)
    if not gpus or index >= len(gpus):
        if wanted:
            seen = f"shows only {len(gpus)} CUDA GPU(s)" if gpus else "shows no CUDA GPU"
            raise GantoolError(f"--device {device} was asked for but the NVIDIA driver {seen}: use --device cpu")
        return [CPU]
    preload_cuda_libraries()
    # full float32 matmuls (onnxruntime defaults to TF32 on Ampere and later), as torch does: one seed, the same samples
    return [(CUDA, {"device_id": str(index), "use_tf32": "0"}), CPU]


def preload_cuda_libraries() -> None:
    """Let onnxruntime find CUDA and cuDNN from pip's nvidia packages (torch installs them), without its chatter."""
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
        preload()


def open_session(model: str | Path | bytes, providers: list[Any]) -> Any:
    """An InferenceSession that keeps quiet: a CUDA provider that cannot start falls back to the CPU without a page of errors."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: onnxruntime's warnings are about its own optimisations
    asks_cuda = any((p[0] if isinstance(p, tuple) else p) == CUDA for p in providers)
    ort.set_default_logger_severity(4 if asks_cuda else 3)
    try:
        return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options, providers=providers)
    finally:
        ort.set_default_logger_severity(3)


class OnnxGenerator:
    """A gantool generator in an ONNX file: ``gen(z)`` maps float32 latents (N, latent_dim) to data (N, *data_shape)."""

    def __init__(self, path: str | Path, device: str = "auto") -> None:
        path = Path(path)
        if path.is_dir():
            path = path / ONNX
        if not path.exists():
            raise GantoolError(f"{path} does not exist: export a run with 'gantool export' or pass --model FILE.onnx")
        self.path = path
        providers = providers_for(device)
        try:
            self.session = open_session(path, providers)
        except Exception as exc:  # onnxruntime raises its own exception types, all straight from Exception
            hint = "sample a run's weights with --runtime torch, or export them first" if path.suffix == ".safetensors" else REMEDY
            raise GantoolError(f"{path} is not an ONNX model onnxruntime can load ({first_line(exc)}): {hint}") from None
        self.provider = self.session.get_providers()[0]
        if device not in ("auto", "cpu") and self.provider != CUDA:
            raise GantoolError(
                f"onnxruntime could not start CUDA for --device {device} (are the CUDA 13 and cuDNN 9 libraries installed? "
                "installing torch brings them): install them, or use --device cpu"
            )
        meta = self.session.get_modelmeta().custom_metadata_map
        self.info = ModelInfo.from_metadata(meta, str(path), REMEDY)
        self.input, self.output = self._check_signature()

    def _check_signature(self) -> tuple[str, str]:
        """A float input (batch, latent_dim), an int64 label input (batch,) when conditional, and an output
        (batch, *data_shape), as gantool export writes them."""
        info, path = self.info, self.path
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        wanted = 2 if info.conditional else 1
        if len(inputs) != wanted:
            takes = "a batch of latents and one of labels" if info.conditional else "one batch of latents"
            raise GantoolError(f"{path} takes {len(inputs)} inputs; a gantool generator like it takes {takes}: {REMEDY}")
        if info.conditional:
            y = inputs[1]
            if y.type != "tensor(int64)" or len(y.shape) != 1:
                raise GantoolError(f"{path} takes labels {y.name!r} shaped {y.shape} {y.type}, not (batch,) int64: {REMEDY}")
            self.label_input = y.name
        z = inputs[0]
        expected = f"(batch, {info.latent_dim}) float"
        fits = z.type == "tensor(float)" and len(z.shape) == 2 and not isinstance(z.shape[0], int)
        if not fits or (isinstance(z.shape[1], int) and z.shape[1] != info.latent_dim):
            shown = f"({', '.join(str(d) for d in z.shape)}) {z.type.removeprefix('tensor(').removesuffix(')')}"
            raise GantoolError(f"{path} takes input {z.name!r} shaped {shown}, but a gantool generator takes {expected}: {REMEDY}")
        x = outputs[0]
        dims = x.shape[1:] if x.shape else []
        if x.shape and (len(dims) != len(info.data_shape) or any(isinstance(d, int) and d != s for d, s in zip(dims, info.data_shape))):
            raise GantoolError(f"{path} outputs {x.shape}, but its metadata says data of shape {list(info.data_shape)}: {REMEDY}")
        return z.name, x.name

    def __call__(self, z: np.ndarray, batch_size: int = 256, labels: np.ndarray | None = None) -> np.ndarray:
        """Data for latents ``z`` (and, for a conditional generator, one label per latent)."""
        z = np.ascontiguousarray(z, dtype=np.float32)
        y = check_labels(labels, len(z), self.info, str(self.path))
        out = np.empty((len(z), *self.info.data_shape), dtype=np.float32)
        for start in range(0, len(z), batch_size):
            chunk = z[start : start + batch_size]
            feed = {self.input: chunk} if y is None else {self.input: chunk, self.label_input: y[start : start + batch_size]}
            try:
                x = self.session.run([self.output], feed)[0]
            except Exception as exc:
                raise GantoolError(f"onnxruntime failed to run {self.path} ({first_line(exc)}): {REMEDY}") from None
            if x.shape != (len(chunk), *self.info.data_shape):
                expected = list(self.info.data_shape)
                raise GantoolError(f"{self.path} returned shape {x.shape} for {len(chunk)} latents; its metadata says {expected}: {REMEDY}")
            out[start : start + len(chunk)] = x
        return out

    @property
    def where(self) -> str:
        return f"onnxruntime, {self.provider}"


def check_labels(labels: np.ndarray | None, n: int, info: ModelInfo, what: str) -> np.ndarray | None:
    """Labels as a conditional generator takes them, int64 (n,) in range; None for an unconditional one."""
    if info.classes is None:
        if labels is not None:
            raise GantoolError(f"{what} is unconditional (trained without --conditional): it takes no labels; leave out --label")
        return None
    if labels is None:
        raise GantoolError(f"{what} is a conditional generator: give one label per latent (gantool sample --label, or labels=...)")
    y = np.ascontiguousarray(labels, dtype=np.int64).reshape(-1)
    if len(y) != n:
        raise GantoolError(f"{what}: {len(y)} labels for {n} latents; give one label per latent")
    if len(y) and (y.min() < 0 or y.max() >= len(info.classes)):
        bad = y[(y < 0) | (y >= len(info.classes))][0]
        raise GantoolError(f"label {bad} is out of range: {what} has {len(info.classes)} classes, 0 to {len(info.classes) - 1}")
    return y
