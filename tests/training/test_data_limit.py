"""--data-limit and --data-seed: a fixed subset, class-balanced where there are labels, recorded, trained on, and
left out of evaluation, which keeps the whole held-out data."""

from __future__ import annotations

import json

import torch

from gantool.evaluation.context import EvalContext
from gantool.evaluation.sources import open_source
from gantool.plugins.builtin.datasets import digits
from gantool.store.layout import DATA_SUBSET
from gantool.store.toml import read_toml
from gantool.training.config import build_config, resolve_config
from gantool.training.run import train
from gantool.training.subset import choose, limit
from tests.conftest import run_cli

RUN = {"data": "digits", "gen": "mlp-small", "batch_size": 16, "device": "cpu", "steps": 2, "sample_every": 100}


def test_the_subset_is_fixed_by_its_seed_and_differs_between_seeds():
    labels = torch.arange(1000) % 7
    a, again, other = choose(100, 1000, labels, 3), choose(100, 1000, labels, 3), choose(100, 1000, labels, 4)
    assert torch.equal(a, again) and not torch.equal(a, other)
    assert len(set(a.tolist())) == 100 and torch.equal(a, a.sort().values)
    plain = choose(100, 1000, None, 3)
    assert len(set(plain.tolist())) == 100 and plain.max() < 1000


def test_labelled_data_gives_every_class_its_share_and_a_small_class_all_it_has():
    labels = torch.tensor([0] * 500 + [1] * 300 + [2] * 5 + [3] * 195)
    counts = torch.bincount(labels[choose(103, 1000, labels, 0)], minlength=4).tolist()
    assert sorted(counts) == [5, 32, 33, 33]  # class 2 gives its 5; the other 98 split as evenly as they go
    assert counts[2] == 5
    even = torch.bincount(labels[choose(20, 1000, labels, 1)], minlength=4).tolist()
    assert even == [5, 5, 5, 5]


def test_limit_cuts_samples_and_labels_alike_and_keeps_the_held_out_data():
    data = digits()
    cut, record = limit(data, 600, 0, "digits")
    assert cut.train.shape == (600, 1, 28, 28) and cut.held_out is data.held_out and cut.classes == data.classes
    assert record["class_counts"] == {d: 60 for d in data.classes}
    index = torch.tensor(record["indices"])
    assert torch.equal(cut.train, data.train[index]) and torch.equal(cut.labels, data.labels[index])


def test_a_limited_run_records_its_subset_and_trains_on_it(tmp_path):
    run = train(build_config({**RUN, "data_limit": 50, "data_seed": 7, "conditional": True}), run_dir=tmp_path / "run")
    config = read_toml(run / "config.toml")
    assert (config["data_limit"], config["data_seed"]) == (50, 7)
    record = json.loads((run / DATA_SUBSET).read_text())
    assert record["indices"] == choose(50, 10_000, digits().labels, 7).tolist()
    assert record["of"] == 10_000 and sorted(record["class_counts"].values()) == [5] * 10
    # a resume keeps the subset: the same settings, the same record
    train(resolve_config({"steps": 3}, resume=run), resume=run)
    assert json.loads((run / DATA_SUBSET).read_text()) == record


def test_evaluation_reads_the_whole_data_not_the_subset(tmp_path):
    """digits hold nothing out, so evaluation compares against the training data: all 10,000, not the 50 trained on."""
    run = train(build_config({**RUN, "data_limit": 50}), run_dir=tmp_path / "run")
    source = open_source(run)
    real, held_out = EvalContext(source, 1000, data_opt={}).real()
    assert len(real) == 1000 and not held_out


def test_a_limit_beyond_the_data_or_zero_is_one_line_and_exit_2(tmp_path):
    for limit_value, message in (("10001", "--data-limit 10001 is more than the 10000 items of dataset 'digits'"), ("0", "--data-limit")):
        proc = run_cli("train", "--data-limit", limit_value, "--steps", "1", "--device", "cpu", "--run-dir", "run", cwd=tmp_path)
        assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
