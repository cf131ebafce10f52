"""--augment and --augment-p fed bad input: exit code 2 and one line that says what to do, before any step."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli

BASE = ("train", "--steps", "1", "--device", "cpu", "--run-dir", "run")
RING = ("--data", "ring", "--data-opt", "n=64", "--batch-size", "16")
BAD = {
    "unknown": (("--augment", "color,flip"), "unknown augmentation 'flip'; choose one of: color, cutout, translation"),
    "empty name": (("--augment", "color,,cutout"), "--augment must be names separated by commas such as color,translation,cutout"),
    "p above 1": (
        ("--augment", "color", "--augment-p", "1.5"),
        "--augment-p must be a probability in [0, 1] such as 0.5, or auto, got 1.5",
    ),
    "p below 0": (("--augment", "color", "--augment-p", "-0.1"), "--augment-p must be a probability in [0, 1]"),
    "p a word": (
        ("--augment", "color", "--augment-p", "often"),
        "must be a probability in [0, 1] such as 0.5, or auto, got 'often'",
    ),
    "p without a policy": (("--augment-p", "auto"), "--augment-p sets how often the --augment policy applies: add --augment NAMES"),
    "translation on points": (
        (*RING, "--augment", "color,translation"),
        "augmentation 'translation' moves pixels, so it needs images (channels x height x width), got data of shape 2: use --augment color",
    ),
    "cutout on points": ((*RING, "--augment", "cutout"), "augmentation 'cutout' moves pixels"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_augmentation_input_is_one_line_and_exit_2(tmp_path, case):
    args, message = BAD[case]
    proc = run_cli(*BASE, *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "run" / "G.safetensors").exists()


def test_color_on_points_trains(tmp_path):
    proc = run_cli(*BASE, *RING, "--augment", "color", "--augment-p", "0.5", "--gen", "mlp-small", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
