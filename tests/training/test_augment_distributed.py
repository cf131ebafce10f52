"""--augment under DDP (two real processes on gloo): each rank draws its own augmentations, ADA's p is shared,
and a resumed run equals the straight one."""

from __future__ import annotations

import pytest
import torch

from gantool.store import tensors as ckpt
from gantool.store.layout import CHECKPOINT
from tests.conftest import assert_same_run, spawn_cli

FLAGS = ("--data", "digits", "--data-limit", "256", "--gen", "mlp-small", "--batch-size", "16", "--device", "cpu")
FLAGS += ("--augment", "color,translation,cutout", "--augment-p", "auto", "--log-every", "4", "--ckpt-every", "6", "--sample-every", "100")
ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # two ranks on two cores


@pytest.mark.slow  # --nproc 2: real processes, three runs
def test_a_resumed_distributed_augmented_run_equals_the_straight_one(tmp_path):
    def train(*args: str) -> None:
        proc = spawn_cli("train", *args, "--nproc", "2", cwd=tmp_path, env=ONE_THREAD)
        assert proc.returncode == 0, proc.stderr[-4000:]

    train(*FLAGS, "--steps", "14", "--run-dir", "straight")
    train(*FLAGS, "--steps", "7", "--run-dir", "halves")
    train("--resume", "halves", "--steps", "14")
    assert_same_run(tmp_path / "straight", tmp_path / "halves")
    tensors, _ = ckpt.load_tensors(tmp_path / "straight" / CHECKPOINT)
    assert not torch.equal(tensors["rng.augment"], tensors["rank1.rng.augment"])  # each rank its own draws
    p, p1 = tensors["augment.state"][0], tensors["rank1.augment.state"][0]
    assert p > 0 and p == p1  # one p for all, from the verdicts of every rank
