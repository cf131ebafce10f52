"""MNIST's raw files read with numpy (plugins.builtin.mnist_files): torchvision's arrays, without torchvision."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gantool.core.errors import GantoolError
from gantool.plugins.builtin import mnist_files
from gantool.plugins.registry import get_registry
from tests.conftest import run_cli


def write_idx(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())


def small_mnist(root: Path, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)
    for train in (True, False):
        write_idx(root / mnist_files.RAW / mnist_files.FILES[train][0], images)
        write_idx(root / mnist_files.RAW / mnist_files.FILES[train][1], labels)
    return images, labels


def test_the_raw_files_read_as_written(tmp_path):
    images, labels = small_mnist(tmp_path)
    data = get_registry().create("dataset", "mnist", root=str(tmp_path), download=False)
    assert data.train.shape == (12, 1, 28, 28) and data.train.dtype == torch.uint8
    assert np.array_equal(data.train[:, 0].numpy(), images)
    assert data.labels.dtype == torch.int64 and data.labels.tolist() == labels.tolist()


def test_reading_mnist_never_imports_torchvision(tmp_path):
    small_mnist(tmp_path)
    code = (
        "import sys; from gantool.plugins.builtin.datasets import mnist; "
        f"d = mnist({str(tmp_path)!r}, download=False); assert len(d.train) == 12; "
        "assert 'torchvision' not in sys.modules, 'torchvision was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_same_arrays_as_torchvision_on_real_mnist(mnist_root):
    from torchvision.datasets import MNIST

    for train in (True, False):
        images, labels = mnist_files.read_split(mnist_root, train)
        theirs = MNIST(str(mnist_root), train=train, download=False)
        assert np.array_equal(images, theirs.data.numpy()) and np.array_equal(labels, theirs.targets.numpy())


@pytest.mark.parametrize("damage", ["cut short", "wrong magic"])
def test_a_damaged_file_is_one_line_that_names_it(tmp_path, damage):
    small_mnist(tmp_path)
    path = tmp_path / mnist_files.RAW / mnist_files.FILES[True][0]
    raw = path.read_bytes()
    path.write_bytes(raw[:-100] if damage == "cut short" else b"\x00\x00\x0d" + raw[3:])
    with pytest.raises(GantoolError) as info:
        mnist_files.read_split(tmp_path, train=True)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    proc = run_cli("train", "--data", "mnist", "--data-opt", f"root={tmp_path}", "--steps", "1", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "copy it again" in proc.stderr, proc.stderr


def test_images_and_labels_that_do_not_match_are_refused(tmp_path):
    small_mnist(tmp_path)
    write_idx(tmp_path / mnist_files.RAW / mnist_files.FILES[True][1], np.zeros(5, dtype=np.uint8))
    with pytest.raises(GantoolError, match="do not match"):
        mnist_files.read_split(tmp_path, train=True)
