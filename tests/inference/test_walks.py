"""Animated latent walks (``gantool sample --interpolate K --out walk.gif``): frames, sizes, loops, labels, both runtimes."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PIL import Image

from gantool.core import latents
from gantool.core.errors import GantoolError
from gantool.core.images import grid
from gantool.inference import zoo
from gantool.inference.onnx_runtime import OnnxGenerator
from gantool.inference.sampling import sample
from tests.conftest import run_cli


def frames_of(path) -> list[np.ndarray]:
    """Every frame of an animation as a grey uint8 array, at the file's size."""
    with Image.open(path) as image:
        out = []
        for i in range(image.n_frames):
            image.seek(i)
            out.append(np.asarray(image.convert("L")))
        return out


def ok(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_a_gif_has_one_frame_per_step_of_a_closed_loop(digits_export, tmp_path):
    args = ("sample", "--model", str(digits_export.onnx), "-n", "6", "--interpolate", "4", "--frames", "10", "--seed", "3")
    line = ok(run_cli(*args, "--out", "walk.gif", "--fps", "20", cwd=tmp_path))
    assert "an animation of 6 looping latent walks (3 latents, 12 frames at 20 fps)" in line  # 10 frames round up to 3 legs
    frames = frames_of(tmp_path / "walk.gif")
    assert len(frames) == 12
    assert frames[0].shape == (186, 276)  # 3 x 2 cells of 28 + 2 px, blown up 3 times
    with Image.open(tmp_path / "walk.gif") as image:
        assert image.info["duration"] == 50 and image.info["loop"] == 0
    # frame f is the grid of every walk's f-th latent, and the walk closes: its next step would be frame 0 again
    z = latents.loop(6, 3, 4, 64, "normal", seed=3)
    G = OnnxGenerator(digits_export.onnx, device="cpu")
    for f in (0, 5, 11):
        expected = np.asarray(Image.fromarray(grid(G(z[:, f]), ncol=3)[..., 0]).resize((276, 186), Image.Resampling.NEAREST))
        assert np.abs(frames[f].astype(int) - expected).max() <= 1, f
    assert np.allclose(latents.loop(1, 3, 4, 64, "normal", seed=3)[0, 0], z[0, 0])
    assert min(np.abs(np.diff(np.stack(frames).astype(int), axis=0)).sum(axis=(1, 2))) > 0  # every frame moves


def test_a_webp_keeps_its_frames_losslessly(digits_export, tmp_path):
    args = ("sample", "--model", str(digits_export.onnx), "-n", "4", "--interpolate", "3", "--seed", "1")
    ok(run_cli(*args, "--out", "walk.webp", cwd=tmp_path))
    ok(run_cli(*args, "--out", "walk.gif", cwd=tmp_path))
    webp, gif = frames_of(tmp_path / "walk.webp"), frames_of(tmp_path / "walk.gif")
    assert len(webp) == len(gif) == 3 * 4  # without --frames: a loop through 4 latents
    np.testing.assert_array_equal(np.stack(webp), np.stack(gif))


def test_both_runtimes_give_the_same_frames(digits_export, tmp_path):
    args = ("sample", "-n", "5", "--interpolate", "4", "--seed", "9", "--device", "cpu")
    ok(run_cli(*args, "--model", str(digits_export.onnx), "--out", "onnx.gif", cwd=tmp_path))
    ok(run_cli(*args, "--runtime", "torch", "--model", str(digits_export.run), "--out", "torch.gif", cwd=tmp_path))
    onnx, torch = np.stack(frames_of(tmp_path / "onnx.gif")), np.stack(frames_of(tmp_path / "torch.gif"))
    assert onnx.shape == torch.shape == (16, 186, 276)  # 4 legs of 4 frames; 3 x 2 cells, blown up 3 times
    assert np.abs(onnx.astype(int) - torch.astype(int)).max() <= 1  # float32 rounding may tip a pixel by one level


def shipped_digits() -> OnnxGenerator:
    return OnnxGenerator(zoo.resolve("digits").path, device="cpu")


def test_a_conditional_walk_holds_its_labels(tmp_path):
    proc = run_cli(
        "sample", "--model", "digits", "--label", "3,5", "-n", "4", "--interpolate", "3", "--seed", "2", "--out", "w.gif", cwd=tmp_path
    )
    assert "their labels to w.labels.txt" in ok(proc)
    assert (tmp_path / "w.labels.txt").read_text().split() == ["3", "3", "5", "5"]
    frames = frames_of(tmp_path / "w.gif")
    z = latents.loop(4, 4, 3, 16, "normal", seed=2)
    G = shipped_digits()
    labels = np.array([3, 3, 5, 5])
    for f in (0, 7):
        small = grid(G(z[:, f], labels=labels), ncol=2)[..., 0]
        factor = math.ceil(256 / small.shape[1])
        assert np.abs(frames[f].astype(int) - np.kron(small, np.ones((factor, factor), dtype=np.uint8))).max() <= 1


def test_a_conditional_walk_moves_between_two_classes(tmp_path):
    args = ("sample", "--model", "digits", "--label", "3:8", "-n", "4", "--interpolate", "3", "--frames", "12", "--seed", "5")
    line = ok(run_cli(*args, "--out", "w.gif", cwd=tmp_path))
    assert "class 3 to 8 and back" in line and not (tmp_path / "w.labels.txt").exists()
    frames = frames_of(tmp_path / "w.gif")
    assert len(frames) == 12
    z = latents.loop(4, 4, 3, 16, "normal", seed=5)
    G = shipped_digits()
    for f, label in ((0, 3), (5, 3), (6, 8), (11, 8)):  # the first two legs in class 3, the last two in class 8
        small = grid(G(z[:, f], labels=np.full(4, label)), ncol=2)[..., 0]
        factor = math.ceil(256 / small.shape[1])
        assert np.abs(frames[f].astype(int) - np.kron(small, np.ones((factor, factor), dtype=np.uint8))).max() <= 1, (f, label)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fps": 0}, "--fps must be greater than 0, got 0"),
        ({"fps": float("nan")}, "--fps must be greater than 0 and finite"),
        ({"frames": 1}, "--frames must be a whole number of at least 2, got 1"),
        ({"interpolate": None}, "w.gif is an animated latent walk: add --interpolate K"),
    ],
)
def test_python_refuses_what_the_command_refuses(options, message, tmp_path):
    with pytest.raises(GantoolError, match=re.escape(message)):
        sample(3, **{"model": "digits", "interpolate": 4, "out": tmp_path / "w.gif", **options})
    assert not (tmp_path / "w.gif").exists()
