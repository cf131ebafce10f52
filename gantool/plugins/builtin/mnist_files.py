"""MNIST's raw files, read with numpy: training starts without importing torchvision (seconds on a small CPU).

The files are where torchvision puts them (ROOT/MNIST/raw/*-idx?-ubyte), in the IDX format: a magic
number 0x0000 08 NDIM (unsigned bytes, NDIM dimensions), each dimension as a big-endian uint32,
then the bytes. torchvision is still what downloads them when they are absent.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

from gantool.core.errors import GantoolError

RAW = Path("MNIST", "raw")
FILES = {  # split -> (images, labels)
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def present(root: Path, train: bool) -> bool:
    """Whether both raw files of the split are under ROOT/MNIST/raw."""
    return all((root / RAW / name).is_file() for name in FILES[train])


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes as an array of its shape; a damaged file is one line that names it."""
    raw = path.read_bytes()
    ndim = raw[3] if len(raw) >= 4 and raw[:3] == b"\x00\x00\x08" else 0
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header]) if ndim and len(raw) >= header else ()
    if not shape or len(raw) - header != math.prod(shape):
        raise GantoolError(f"{path} is not an MNIST file of unsigned bytes (damaged or cut short?): copy it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_split(root: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) int64) of MNIST's training (``train``) or test split under ROOT."""
    images, labels = (read_idx(root / RAW / name) for name in FILES[train])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise GantoolError(f"the MNIST files in {root / RAW} do not match ({images.shape} images, {labels.shape} labels): copy them again")
    return images, labels.astype(np.int64)
