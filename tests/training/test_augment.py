"""--augment in training: every batch D sees goes through the policy, ADA's p moves and resumes exactly, it composes
with the rest of training, and an export never sees it."""

from __future__ import annotations

import itertools
import json

import onnx
import pytest
import torch

from gantool.inference.export import export_onnx
from gantool.store import tensors as files
from gantool.store.layout import CHECKPOINT
from gantool.training.augment import ADA_IMAGES, ADA_INTERVAL, ADA_TARGET, Augmenter
from gantool.training.config import build_config, resolve_config
from gantool.training.ranks import Ranks
from gantool.training.run import train
from tests.conftest import assert_same_run, run_cli

DIGITS = {"data": "digits", "data_limit": 256, "batch_size": 32, "device": "cpu", "log_every": 4, "gen": "mlp-small", "sample_every": 100}
POLICY = "color,translation,cutout"


def rows(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return -x


def test_a_fixed_p_applies_each_transform_to_that_share_of_the_images():
    x = torch.ones(4000, 1, 4, 4)
    for p, share in ((0.0, 0.0), (0.3, 0.3), (1.0, 1.0)):
        out = Augmenter([flip], p, torch.Generator().manual_seed(0), 0.01, Ranks())(x)
        assert abs((out[:, 0, 0, 0] < 0).float().mean() - share) < 0.03
    twice = Augmenter([flip, flip], 0.5, torch.Generator().manual_seed(0), 0.01, Ranks())(x)
    assert abs((twice[:, 0, 0, 0] < 0).float().mean() - 0.5) < 0.03  # each transform tossed apart: 2 * 0.5 * 0.5


def test_auto_starts_at_0_and_moves_one_step_per_interval_towards_the_target():
    aug = Augmenter([flip], None, torch.Generator().manual_seed(0), 0.1, Ranks())
    assert float(aug.p) == 0.0
    confident = torch.full((32,), 3.0)  # D calls every real real: r_t = 1 > 0.6, overfitting
    for step in range(1, 2 * ADA_INTERVAL + 1):
        aug.observe(confident)
        aug.adjust(step)
    assert float(aug.p) == pytest.approx(0.2)
    unsure = torch.tensor([1.0, -1.0] * 16)  # r_t = 0 < 0.6: less augmentation
    for step in range(2 * ADA_INTERVAL + 1, 6 * ADA_INTERVAL + 1):
        aug.observe(unsure)
        aug.adjust(step)
    assert float(aug.p) == 0.0  # clamped at 0
    assert ADA_TARGET == 0.6


def test_training_with_auto_logs_p_and_shows_it(tmp_path):
    proc = run_cli(
        *("train", "--data", "digits", "--data-limit", "256", "--gen", "mlp-small", "--batch-size", "32", "--device", "cpu"),
        *("--augment", POLICY, "--augment-p", "auto", "--steps", "16", "--log-every", "8", "--sample-every", "100", "--run-dir", "run"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert " p 0.0" in proc.stderr  # the progress line
    ps = [row["augment_p"] for row in rows(tmp_path / "run")]
    step = 32 * ADA_INTERVAL / ADA_IMAGES
    assert ps[0] == 0.0 and all(abs(b - a) in (0.0, pytest.approx(step)) for a, b in itertools.pairwise(ps))
    assert ps[-1] > 0  # a linear D on 256 digits is confident about the reals at once


def test_without_augment_rows_have_no_p(tmp_path):
    run = train(build_config({**DIGITS, "steps": 2}), run_dir=tmp_path / "run")
    assert "augment_p" not in rows(run)[0]


RESUMED = {
    "auto": {**DIGITS, "augment": POLICY, "augment_p": "auto", "ckpt_every": 6},
    "auto-conditional-ema-k2": {
        **DIGITS,
        "gen": "mlp",
        "gen_opt": {"hidden": 32},
        "disc_opt": {"hidden": 32},
        "conditional": True,
        "ema": 0.9,
        "d_steps": 2,
        "augment": POLICY,
        "augment_p": "auto",
    },
    "half-reused-fakes": {**DIGITS, "augment": "translation,cutout", "augment_p": 0.5, "reuse_fakes": True},
}


@pytest.mark.parametrize("case", RESUMED)
def test_a_resumed_augmented_run_equals_the_straight_one(tmp_path, case):
    """ckpt_every 6 and 14 steps: the resume lands mid-interval, with a tally of D's verdicts in hand."""
    settings = RESUMED[case]
    straight = train(build_config({**settings, "steps": 14}), run_dir=tmp_path / "straight")
    half = train(build_config({**settings, "steps": 7}), run_dir=tmp_path / "halves")
    train(resolve_config({"steps": 14}, resume=half), resume=half)
    assert_same_run(straight, half)
    tensors, _ = files.load_tensors(straight / CHECKPOINT)
    assert "rng.augment" in tensors and tensors["augment.state"].shape == (3,)
    if settings["augment_p"] == "auto":
        assert tensors["augment.state"][0] > 0  # p moved, and came back exactly


def test_packed_discriminator_trains_with_augmentation(tmp_path):
    settings = {**DIGITS, "gen": "mlp", "gen_opt": {"hidden": 32}, "disc_opt": {"hidden": 32, "pack": 2}, "augment": POLICY}
    run = train(build_config({**settings, "steps": 3}), run_dir=tmp_path / "run")
    assert len(rows(run)) == 3


@pytest.mark.slow  # torch.compile on the CPU: about a minute
def test_compiled_networks_train_with_augmentation(tmp_path):
    run = train(build_config({**DIGITS, "compile": True, "augment": POLICY, "augment_p": "auto", "steps": 4}), run_dir=tmp_path / "run")
    assert all(torch.isfinite(torch.tensor(row["d_loss"])) for row in rows(run))


def graph(model: onnx.ModelProto) -> list:
    """The graph without its weights' values: nodes, inputs, outputs, and each initializer's name, type and shape."""
    g = model.graph
    return [
        [(n.op_type, list(n.input), list(n.output), [a.SerializeToString() for a in n.attribute]) for n in g.node],
        [i.SerializeToString() for i in g.input],
        [o.SerializeToString() for o in g.output],
        [(t.name, t.data_type, list(t.dims)) for t in g.initializer],
    ]


def test_the_export_is_the_same_graph_with_and_without_augment(tmp_path):
    plain = train(build_config({**DIGITS, "steps": 2}), run_dir=tmp_path / "plain")
    augmented = train(build_config({**DIGITS, "steps": 2, "augment": POLICY, "augment_p": "auto"}), run_dir=tmp_path / "augmented")
    export_onnx(plain), export_onnx(augmented)
    a, b = onnx.load(plain / "G.onnx"), onnx.load(augmented / "G.onnx")
    assert graph(a) == graph(b)
    assert [p.key for p in a.metadata_props] == [p.key for p in b.metadata_props]
