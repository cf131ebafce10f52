"""The dataset contract (``gantool.Data``): what the built-in factories declare, a third-party dataset's held-out
data and modes reaching ``gantool eval``, and a missing MNIST reported on one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gantool.core.errors import GantoolError
from gantool.plugins.data import Data, Modes, as_data
from gantool.plugins.registry import get_registry
from tests.conftest import run_cli


@pytest.mark.parametrize("name,count", [("ring", 8), ("grid", 25)])
def test_mixtures_declare_modes_and_a_fresh_held_out_draw(name, count):
    data = get_registry().create("dataset", name, n=500, seed=3)
    assert isinstance(data, Data) and isinstance(data.modes, Modes)
    assert len(data.modes.means) == count and data.modes.sigma > 0
    held_out = data.held_out_samples()
    assert held_out.shape == data.train.shape == (500, 2)
    assert not torch.equal(held_out, data.train)  # another seed: training never saw these
    assert torch.equal(held_out, get_registry().create("dataset", name, n=500, seed=4).train)  # seed + 1, as documented


def test_digits_hold_nothing_out_and_bare_tensors_still_count_as_data():
    data = get_registry().create("dataset", "digits")
    assert data.train.shape == (10000, 1, 28, 28) and data.held_out_samples() is None and data.modes is None
    bare = torch.zeros(3, 2)
    assert as_data(bare).train is bare and as_data(bare).held_out_samples() is None


def test_mnist_holds_out_the_other_split(mnist_root):
    data = get_registry().create("dataset", "mnist", root=str(mnist_root), download=False)
    digits = get_registry().create("dataset", "digits").train
    assert data.train.shape == (60000, 1, 28, 28) and torch.equal(data.held_out_samples(), digits)
    test = get_registry().create("dataset", "mnist", root=str(mnist_root), train=False, download=False)
    assert torch.equal(test.train, digits) and test.held_out_samples().shape == (60000, 1, 28, 28)


def test_missing_mnist_is_one_line(tmp_path):
    with pytest.raises(GantoolError) as info:
        get_registry().create("dataset", "mnist", root=str(tmp_path), download=False)
    assert "\n" not in str(info.value) and "--data-opt root=DIR" in str(info.value)
    from gantool.evaluation.classifier import mnist_train

    with pytest.raises(GantoolError) as info:
        mnist_train(tmp_path)
    assert "\n" not in str(info.value) and "MNIST/raw" in str(info.value)
    proc = run_cli("train", "--data", "mnist", "--data-opt", "root=/nonexistent/x", "--data-opt", "download=false", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "MNIST is not in /nonexistent/x" in lines[0] and "--data-opt root=DIR" in lines[0], proc.stderr


def test_a_plugin_dataset_gives_eval_its_modes_and_held_out_data(tmp_path: Path):
    """tests/plugin_pkg's test-square returns Data(train, held_out, modes): eval scores modes on it without knowing its name."""
    run = tmp_path / "run"
    args = ("--data", "test-square", "--steps", "30", "--batch-size", "32", "--device", "cpu", "--run-dir", str(run))
    proc = run_cli("train", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("eval", str(run), "-n", "200", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((run / "eval.json").read_text())
    figures = report["figures"]
    assert report["data"] == "test-square" and figures["metrics"] == ["d-accuracy", "modes"]
    assert figures["modes_total"] == 4 and 0 <= figures["modes_captured"] <= 4 and 0 <= figures["high_quality"] <= 1
    assert "reverse_kl" in figures and 0 <= figures["d_accuracy_real"] <= 1
    assert figures["d_real_held_out"] is True
    for text in ("modes_captured", "high_quality", "reverse_kl", "d_accuracy_real"):
        assert text in proc.stdout
