"""``gantool train`` with the DCGAN pair, through the installed console script, on grey 28x28 and colour 32x32 images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors import safe_open

GANTOOL = str(Path(sys.executable).parent / "gantool")


def gantool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([GANTOOL, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def check_run(run: Path, steps: int, data_shape: list[int]) -> None:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, steps + 1))
    assert all(np.isfinite([r["d_loss"], r["g_loss"]]).all() for r in rows)
    with safe_open(run / "G.safetensors", framework="pt") as f:
        meta = f.metadata()
    assert meta["component"] == "dcgan" and json.loads(meta["data_shape"]) == data_shape
    assert (run / "samples.png").is_file()


def test_trains_on_grey_digits(tmp_path):
    proc = gantool(
        *("train", "--gen", "dcgan", "--gen-opt", "width=8", "--disc-opt", "width=8"),
        *("--steps", "4", "--batch-size", "16", "--log-every", "2", "--device", "cpu", "--run-dir", "run"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    check_run(tmp_path / "run", 4, [1, 28, 28])


def test_trains_on_colour_32px_images(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(24):  # colour blobs on noise, at a size image-folder has to resize
        pixels = rng.integers(0, 60, size=(40, 40, 3), dtype=np.uint8)
        pixels[10:30, 5 + i % 10 : 25 + i % 10, i % 3] = 255
        Image.fromarray(pixels).save(folder / f"{i:02d}.png")
    proc = gantool(
        *("train", "--gen", "dcgan", "--gen-opt", "width=8", "--disc-opt", "width=8", "--data", "image-folder"),
        *("--data-opt", f"path={folder}", "--data-opt", "size=32", "--data-opt", "channels=3"),
        *("--steps", "4", "--batch-size", "8", "--log-every", "2", "--device", "cpu", "--run-dir", "run"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    check_run(tmp_path / "run", 4, [3, 32, 32])


def test_point_data_is_a_one_line_error(tmp_path):
    proc = gantool("train", "--gen", "dcgan", "--data", "ring", "--steps", "1", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "generator 'dcgan' works on images of shape 1x16x16, 3x16x16, 1x28x28" in lines[0], proc.stderr
