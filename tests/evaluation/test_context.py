"""EvalContext reads real data and modes through the dataset contract, never by dataset name."""

from __future__ import annotations

import numpy as np
import pytest

from gantool.core.errors import GantoolError
from gantool.evaluation.classifier import mnist_root_in
from gantool.evaluation.context import EvalContext, checked_modes, unit_samples
from gantool.evaluation.sources import SampleSource
from gantool.plugins.data import Modes


def context(data: str, shape: tuple[int, ...], count: int = 300, **data_opt) -> EvalContext:
    source = SampleSource("test", data, shape, lambda k, seed: np.zeros((k, *shape), dtype=np.float32))
    return EvalContext(source, count, data_opt=data_opt)


def test_a_mixture_gives_held_out_points_and_its_modes():
    ctx = context("grid", (2,), count=300, n=1000)
    real, held_out = ctx.real()
    assert held_out is True and real.shape == (300, 2) and real.dtype == np.float32
    modes = ctx.modes()
    assert isinstance(modes, Modes) and len(modes.means) == 25 and modes.sigma == pytest.approx(0.01)


def test_data_without_held_out_samples_falls_back_to_its_training_data():
    ctx = context("digits", (1, 28, 28), count=50)
    real, held_out = ctx.real()
    assert held_out is False and real.shape == (50, 1, 28, 28) and -1 <= real.min() < real.max() <= 1
    assert ctx.modes() is None  # not 2-D


def test_a_2d_dataset_that_cannot_be_rebuilt_has_no_modes():
    assert context("no-such-dataset", (2,)).modes() is None
    with pytest.raises(GantoolError, match="unknown dataset"):
        context("no-such-dataset", (2,)).real()


def test_modes_are_held_to_the_contract():
    assert checked_modes("x", Modes([(0, 1), (1, 0)], 0.5)).means == [[0.0, 1.0], [1.0, 0.0]]
    for bad in (Modes([(0, 1, 2)], 0.5), Modes([(0, 1)], 0.0), Modes([], 1.0), ([(0, 1)], 0.5)):
        with pytest.raises(GantoolError, match="dataset 'x' gave modes"):
            checked_modes("x", bad)


def test_unit_samples_rescales_pixels_and_stacks_datasets():
    pixels = np.array([[0, 255]], dtype=np.uint8)
    assert unit_samples(pixels, 5).tolist() == [[-1.0, 1.0]]
    items = [np.full(2, i, dtype=np.float32) for i in range(4)]

    class Items:
        def __len__(self) -> int:
            return len(items)

        def __getitem__(self, i: int) -> np.ndarray:
            return items[i]

    assert unit_samples(Items(), 3).tolist() == [[0, 0], [1, 1], [2, 2]]


def test_the_classifier_trains_on_mnist_only_where_the_run_root_holds_it(tmp_path):
    assert mnist_root_in({}) is None and mnist_root_in({"root": str(tmp_path)}) is None
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(b"")
    assert mnist_root_in({"root": str(tmp_path)}) is None  # images without their labels: not a training split
    (raw / "train-labels-idx1-ubyte").write_bytes(b"")
    assert mnist_root_in({"root": str(tmp_path)}) == str(tmp_path)
