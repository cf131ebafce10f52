"""``gantool train`` with each loss, through the installed console script: a few steps on the real digits."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

GANTOOL = str(Path(sys.executable).parent / "gantool")


def gantool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([GANTOOL, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "loss_args",
    [
        ("--loss", "wgan-gp", "--d-steps", "2", "--beta1", "0", "--beta2", "0.9"),
        ("--loss", "hinge"),
        ("--loss", "r1", "--loss-opt", "gamma=1"),
        ("--loss", "rsgan", "--loss-opt", "average=true"),
    ],
    ids=lambda args: " ".join(args[1:]),
)
def test_trains_a_few_steps(tmp_path, loss_args):
    proc = gantool(
        *("train", *loss_args, "--gen-opt", "hidden=32", "--disc-opt", "hidden=32"),
        *("--steps", "3", "--batch-size", "16", "--log-every", "1", "--device", "cpu", "--run-dir", "run"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in rows)
    assert all(0 < r["d_real"] < 1 for r in rows)  # the loss called D on the real batch itself, so gantool logged D(x)
    assert f'loss = "{loss_args[1]}"' in (tmp_path / "run" / "config.toml").read_text()


def test_a_bad_loss_option_is_a_one_line_error(tmp_path):
    proc = gantool("train", "--loss", "wgan-gp", "--loss-opt", "weight=-5", "--steps", "1", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "weight must be a number >= 0" in lines[0], proc.stderr
