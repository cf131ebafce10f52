"""benchmarks/fid_parts.py on a tiny unconditional digit generator: its table adds up, and a wrong generator is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gantool.training.config import build_config
from gantool.training.run import train
from tests.benchmarks.test_gpu_check import BENCHMARKS, run, table_rows

TINY = {"data": "digits", "gen_opt": {"hidden": 16}, "disc_opt": {"hidden": 16}, "steps": 3, "device": "cpu", "batch_size": 16}


@pytest.mark.slow  # the first run trains the classifier on MNIST's 60,000 digits (about two minutes on 2 cores)
def test_splits_the_fid_of_a_digit_generator(tmp_path: Path, mnist_root: Path) -> None:
    run_dir = train(build_config(TINY), run_dir=tmp_path / "run")
    cmd = [sys.executable, str(BENCHMARKS / "fid_parts.py"), str(run_dir), "--root", str(mnist_root), "-n", "500", "--truncation", "0.5"]
    done = run(cmd, timeout=1200)  # a fresh checkout trains the classifier first: 2 minutes on 2 quiet cores, over 5 on busy ones
    assert done.returncode == 0, done.stderr
    rows = {row[0]: row for row in table_rows(done.stdout)[2:]}
    assert list(rows) == [
        "real training digits, drawn uniformly",
        "the generator",
        "real training digits, drawn with the generator's class shares",
        "the generator, truncation 0.5",
    ]
    floor, untrained = float(rows["real training digits, drawn uniformly"][1]), float(rows["the generator"][1])
    assert floor < untrained / 5  # real digits score near the floor; 3 steps of training draw noise
    unsure = {name: float(row[2].rstrip("%")) for name, row in rows.items()}
    assert unsure["real training digits, drawn with the generator's class shares"] < 5 < unsure["the generator"]
    shares = [float(s) for s in rows["the generator"][3].split()]
    assert len(shares) == 10 and abs(sum(shares) - 1) < 0.01


def test_refuses_a_conditional_generator(tmp_path: Path) -> None:
    run_dir = train(build_config({**TINY, "conditional": True}), run_dir=tmp_path / "run")
    done = run([sys.executable, str(BENCHMARKS / "fid_parts.py"), str(run_dir), "--root", str(tmp_path)], timeout=300)
    assert done.returncode == 2 and "is not an unconditional generator of 1x28x28 digits" in done.stderr
