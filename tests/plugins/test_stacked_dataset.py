"""stacked-mnist through the dataset contract: three real digits per image, their triple as the label, a fixed set
per seed, held-out data and its 1,000 modes declared in ``gantool.Data``; bad options are one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gantool.core.errors import GantoolError
from gantool.plugins.builtin.datasets import load_digits
from gantool.plugins.builtin.stacked import stack
from gantool.plugins.data import Data, DigitModes
from gantool.plugins.registry import Registry, get_registry
from tests.conftest import run_cli


def digit_of(images: np.ndarray, labels: np.ndarray) -> dict[bytes, int]:
    """Each source image's label, by its bytes: tells which digit a stacked channel holds."""
    return {image.tobytes(): int(label) for image, label in zip(images, labels)}


def test_built_in_and_declares_1000_labelled_modes_with_held_out_data():
    data = Registry(entry_point_group=None).create("dataset", "stacked-mnist", n=3000, seed=5)
    assert isinstance(data, Data) and data.modes == DigitModes(3) and data.modes.total == 1000
    assert data.train.shape == (3000, 3, 28, 28) and data.train.dtype == torch.uint8
    assert data.labels.shape == (3000,) and data.labels.dtype == torch.int64
    assert list(data.classes) == [f"{k:03d}" for k in range(1000)]
    held_out = data.held_out_samples()
    assert held_out.shape == data.train.shape and not torch.equal(held_out, data.train)
    assert torch.equal(held_out, get_registry().create("dataset", "stacked-mnist", n=3000, seed=6).train)  # seed + 1, as ring's


def test_each_channel_is_a_real_digit_and_the_label_is_their_triple():
    images, labels = load_digits()
    lookup = digit_of(images, labels)
    data = get_registry().create("dataset", "stacked-mnist", n=300, seed=1)
    triples = np.array([[lookup[channel.tobytes()] for channel in item] for item in data.train.numpy()])
    assert (data.labels.numpy() == triples @ [100, 10, 1]).all()
    assert len(set(triples[:, 0])) == 10 and not (triples[:, 0] == triples[:, 1]).all()  # the channels are drawn apart


def test_the_same_seed_gives_the_same_set_and_another_seed_another():
    a, b = (get_registry().create("dataset", "stacked-mnist", n=500, seed=2) for _ in range(2))
    c = get_registry().create("dataset", "stacked-mnist", n=500, seed=3)
    assert torch.equal(a.train, b.train) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.train, c.train)


def test_the_default_covers_every_triple():
    labels = get_registry().create("dataset", "stacked-mnist").labels
    assert len(labels) == 60_000 and torch.bincount(labels, minlength=1000).min() > 0


def test_stack_spreads_independent_digits_evenly():
    pool = np.arange(10, dtype=np.uint8).repeat(784).reshape(10, 28, 28)  # image k is all k
    images, labels = stack(pool, np.arange(10), 100_000, seed=0)
    assert (labels == images[:, :, 0, 0].astype(np.int64) @ [100, 10, 1]).all()
    counts = np.bincount(labels, minlength=1000)
    assert counts.min() > 50 and counts.max() < 160  # 100 each on average, Poisson spread


def test_mnist_source_stacks_the_training_split_and_holds_out_the_test_split(mnist_root):
    data = get_registry().create("dataset", "stacked-mnist", n=200, root=str(mnist_root), download=False)
    from gantool.plugins.builtin.mnist_files import read_split

    train_lookup = digit_of(*read_split(mnist_root, train=True))
    test_lookup = digit_of(*load_digits())
    assert all(channel.tobytes() in train_lookup for item in data.train.numpy() for channel in item)
    assert all(channel.tobytes() in test_lookup for item in data.held_out_samples().numpy() for channel in item)


@pytest.mark.parametrize(
    "options,message",
    [
        ({"n": 0}, "n must be a positive number of images, got 0"),
        ({"n": -3}, "n must be a positive number of images, got -3"),
        ({"source": "cifar"}, "stacked-mnist has no source 'cifar'"),
        ({"source": "mnist", "root": "/nonexistent/x", "download": False}, "MNIST is not in /nonexistent/x"),
    ],
)
def test_bad_options_are_one_line(options, message):
    with pytest.raises(GantoolError) as info:
        get_registry().create("dataset", "stacked-mnist", **options)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("option,message", [("n=0", "n must be a positive number"), ("source=svhn", "no source 'svhn'")])
def test_bad_options_on_the_command_line_exit_2(tmp_path, option, message):
    proc = run_cli("train", "--data", "stacked-mnist", "--data-opt", option, "--steps", "1", "--device", "cpu", cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "runs").exists()
