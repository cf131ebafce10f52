"""Write MNIST-shaped files in torchvision's layout (ROOT/MNIST/raw/*-idx?-ubyte) where the real MNIST cannot be had.

    python benchmarks/mnist_files.py ROOT [--train 60000] [--test 10000]

For throughput checks on a machine without MNIST and without a network (a bare GPU machine):
the images are gantool's own 10,000 embedded MNIST test digits, repeated to fill the training
split. A model trained on them is no MNIST model, but a step costs what it costs on MNIST, since
the shapes and types are MNIST's. Figures measured on these files say so.
"""

from __future__ import annotations

import argparse
import struct
from importlib.resources import files
from pathlib import Path

import numpy as np

from gantool.plugins.builtin.mnist_files import FILES, RAW  # the names gantool reads


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX format of uint8 arrays: magic 0x0000 08 NDIM, then each dimension as a big-endian int32."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def digits() -> tuple[np.ndarray, np.ndarray]:
    with files("gantool").joinpath("data/digits.npz").open("rb") as fh:
        archive = np.load(fh, allow_pickle=False)
        return archive["images"], archive["labels"]


def write(root: Path, train: int = 60_000, test: int = 10_000) -> Path:
    """Write the four raw files under ROOT/MNIST/raw; returns ROOT, to pass as --root / --data-opt root=."""
    images, labels = digits()
    raw = root / RAW
    raw.mkdir(parents=True, exist_ok=True)
    for is_train, count in ((True, train), (False, test)):
        index = np.arange(count) % len(images)
        image_file, label_file = FILES[is_train]
        (raw / image_file).write_bytes(idx_bytes(images[index]))
        (raw / label_file).write_bytes(idx_bytes(labels[index]))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--train", type=int, default=60_000)
    parser.add_argument("--test", type=int, default=10_000)
    args = parser.parse_args()
    print(write(args.root, args.train, args.test))


if __name__ == "__main__":
    main()
