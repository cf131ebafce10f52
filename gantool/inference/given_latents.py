"""Latents and labels given as ``.npy`` files (``gantool sample --latents z.npy --labels labels.npy``, and what
``gantool project`` writes): read and written with numpy alone, never pickle, so the ONNX sampler stays torch-free."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gantool.core.errors import GantoolError

if TYPE_CHECKING:
    import numpy as np

    from gantool.core.runmeta import ModelInfo


def read_array(path: Path, flag: str) -> np.ndarray:
    """A numeric array from an ``.npy`` file (pickled objects refused); a one-line error naming ``flag`` otherwise."""
    import numpy as np

    try:
        with Path(path).open("rb") as fh:
            array = np.load(fh, allow_pickle=False)
    except OSError as exc:
        raise GantoolError(f"{flag} {path} cannot be read ({exc.strerror or exc}): point it at an .npy file") from None
    except ValueError:  # not an .npy, a pickled object array, a truncated file
        raise GantoolError(f"{flag} {path} is not a numeric .npy array (nothing pickled is loaded): write it with numpy.save") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise GantoolError(f"{flag} {path} holds {getattr(array, 'dtype', type(array).__name__)}, not numbers: write it with numpy.save")
    return array


def read_latents(path: Path, info: ModelInfo) -> np.ndarray:
    """Latents (N, latent_dim) float32 for this model, refused in one line when their shape, type or values do not fit."""
    import numpy as np

    z = read_array(path, "--latents")
    wanted = f"(N, {info.latent_dim}) floats"
    if z.dtype.kind != "f":
        raise GantoolError(f"--latents {path} holds {z.dtype} numbers; this model takes {wanted}: save float32 latents")
    if z.ndim == 1 and len(z) == info.latent_dim:
        z = z[None]
    if z.ndim != 2 or z.shape[1] != info.latent_dim or len(z) == 0:
        raise GantoolError(f"--latents {path} is shaped {z.shape}; this model takes {wanted}")
    if not np.isfinite(z).all():
        raise GantoolError(f"--latents {path} holds NaN or infinite values: give finite latents")
    return z.astype(np.float32)


def read_labels(path: Path | None, n: int, info: ModelInfo) -> np.ndarray | None:
    """One whole-number label per latent for a conditional model (None for an unconditional one), checked in one line."""
    from gantool.inference.onnx_runtime import check_labels

    if info.classes is None or path is None:
        if path is not None:
            raise GantoolError(f"--labels {path}: this model is unconditional (trained without --conditional): leave out --labels")
        if info.classes is not None:
            raise GantoolError(f"this model is conditional ({len(info.classes)} classes): give --labels labels.npy, one class per latent")
        return None
    y = read_array(path, "--labels")
    if y.dtype.kind not in "iu" or y.ndim != 1:
        raise GantoolError(f"--labels {path} holds {y.dtype} shaped {y.shape}: save one whole-number class index per latent, ({n},) int64")
    return check_labels(y, n, info, "this model")


def write_array(array: np.ndarray, path: Path) -> None:
    """An array as ``.npy`` (no pickle); a one-line error when it cannot be written."""
    import numpy as np

    try:
        with Path(path).open("wb") as fh:
            np.save(fh, array, allow_pickle=False)
    except OSError as exc:
        raise GantoolError(f"cannot write {path} ({exc.strerror or exc}): choose another --out") from None
