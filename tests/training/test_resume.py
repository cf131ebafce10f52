"""Exact resume: N steps straight equal N/2 steps, then resumed to N, bit for bit, whatever the run holds.

One parametrized test for every kind of state a resume must restore: BatchNorm and dropout with several
D steps, a weight average with evaluations in between (which must not disturb training's random streams),
class labels with AC-GAN, and the fakes reused from D's step. One case goes through the command line.
"""

from __future__ import annotations

import json

import pytest

from gantool.training.config import build_config, resolve_config
from gantool.training.run import train
from tests.conftest import assert_same_run, run_cli

RING = {"data": "ring", "data_opt": {"n": 500}, "batch_size": 32, "device": "cpu", "log_every": 7}
DEEP = {**RING, "gen": "mlp-deep", "gen_opt": {"widths": "16,16"}, "disc_opt": {"widths": "16,8"}}  # BatchNorm and dropout
CASES = {
    "batchnorm-dropout-k2": {**DEEP, "d_steps": 2, "ema": 0},
    "ema-and-eval-every": {**DEEP, "ema": 0.9, "eval_every": 10, "eval_n": 200},
    "conditional-acgan": {
        "data": "digits",
        "conditional": True,
        "batch_size": 32,
        "log_every": 5,
        "device": "cpu",
        "gen_opt": {"hidden": 64},
        "disc_opt": {"cond": "acgan", "hidden": 64},
        "ema": 0.9,
        "ckpt_every": 5,
    },
    "reused-fakes": {**DEEP, "reuse_fakes": True},
}
STEPS = {"conditional-acgan": 12}  # 30 steps elsewhere
EVALUATES_AT_ITS_END = {"ema-and-eval-every"}  # the first half also evaluates at step 15: metrics.jsonl gains that row


@pytest.mark.parametrize("case", CASES)
def test_a_resumed_run_equals_the_straight_one(tmp_path, case):
    settings, steps = CASES[case], STEPS.get(case, 30)
    straight = train(build_config({**settings, "steps": steps}), run_dir=tmp_path / "straight")
    half = train(build_config({**settings, "steps": steps // 2}), run_dir=tmp_path / "halves")
    train(resolve_config({"steps": steps}, resume=half), resume=half)
    steps_logged = [json.loads(line)["step"] for line in (half / "metrics.jsonl").read_text().splitlines()]
    assert steps_logged == list(range(1, steps + 1))
    assert_same_run(straight, half, metrics=case not in EVALUATES_AT_ITS_END)


def test_a_run_resumed_through_the_command_line_equals_the_straight_one(tmp_path):
    base = ("train", "--data", "ring", "--data-opt", "n=256", "--batch-size", "32", "--device", "cpu", "--log-every", "30")
    base += ("--gen-opt", "hidden=16", "--disc-opt", "hidden=16")
    assert run_cli(*base, "--steps", "60", "--run-dir", "straight", cwd=tmp_path).returncode == 0
    assert run_cli(*base, "--steps", "30", "--run-dir", "halves", cwd=tmp_path).returncode == 0
    proc = run_cli("train", "--resume", "halves", "--steps", "60", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_same_run(tmp_path / "straight", tmp_path / "halves")
