"""Mistakes with the DCGAN pair's sizes and stabilisers, through the CLI: exit code 2 and one line saying what to do."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli

TINY = ("--gen-opt", "width=4", "--disc-opt", "width=4", "--device", "cpu", "--steps", "2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--gen", "dcgan", "--gen-opt", "sn=true"), "generator 'dcgan' does not accept option sn; it takes: width, num_classes"),
        (("--gen", "mlp", "--disc-opt", "sn=true"), "discriminator 'mlp' does not accept option sn; it takes: hidden, layers, pack"),
        (("--gen", "dcgan", *TINY, "--disc-opt", "sn=2"), "sn must be true or false, got 2"),
        (("--gen", "dcgan", *TINY, "--disc-opt", "pack=0"), "pack must be a positive integer, got 0"),
        (
            ("--gen", "dcgan", *TINY, "--disc-opt", "pack=3", "--batch-size", "8"),
            "discriminator 'dcgan' with pack=3 judges groups of 3 samples, got a batch of 8: make --batch-size a multiple of 3",
        ),
        (
            ("--gen", "dcgan", *TINY, "--conditional", "--disc-opt", "pack=2"),
            "pack=2 does not combine with conditioning on labels: leave it out with --conditional",
        ),
    ],
    ids=["sn on G", "sn on mlp D", "sn not a truth value", "pack 0", "pack does not divide the batch", "pack with labels"],
)
def test_one_line_and_exit_code_2(tmp_path, args, message):
    proc = run_cli("train", *args, "--run-dir", "run", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "run").exists()  # answered before the run folder is made: nothing to clean up


def test_an_unsupported_size_names_the_supported_ones(tmp_path):
    for i in range(4):
        Image.fromarray(np.full((48, 48, 3), 60 * i, dtype=np.uint8)).save(tmp_path / f"{i}.png")
    data = ("--data", "image-folder", "--data-opt", f"path={tmp_path}", "--data-opt", "size=48", "--data-opt", "channels=3")
    proc = run_cli("train", "--gen", "dcgan", *data, "--batch-size", "2", "--steps", "1", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    shapes = ", ".join(f"{c}x{s}x{s}" for s in (16, 28, 32, 64, 128, 256) for c in (1, 3))
    assert f"generator 'dcgan' works on images of shape {shapes} (channels x height x width), got data of shape (3, 48, 48)" in line
    assert "image-folder with size=16, 28, 32, 64, 128 or 256" in line
