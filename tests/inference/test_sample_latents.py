"""``gantool sample --latents z.npy [--labels labels.npy]``: given latents through both runtimes, the same samples,
the torch-free path kept, and every bad file refused in one line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gantool.core import latents
from gantool.inference.onnx_runtime import OnnxGenerator
from gantool.inference.zoo import resolve
from tests.conftest import run_cli
from tests.inference.test_sample import TRAINING_ONLY, one_line


def test_given_latents_give_the_same_samples_in_both_runtimes_and_as_drawn(ring_export, tmp_path):
    z = latents.draw(40, 8, "uniform", 11)
    np.save(tmp_path / "z.npy", z)
    home = ring_export.home
    line = one_line(run_cli("sample", "--latents", str(tmp_path / "z.npy"), "--out", str(tmp_path / "onnx.npy"), cwd=home))
    assert f"given latents {tmp_path / 'z.npy'}" in line and "40 samples" in line
    one_line(run_cli("sample", "--runtime", "torch", "--latents", str(tmp_path / "z.npy"), "--out", str(tmp_path / "torch.npy"), cwd=home))
    one_line(run_cli("sample", "--seed", "11", "-n", "40", "--out", str(tmp_path / "drawn.npy"), cwd=home))
    a, b, drawn = (np.load(tmp_path / f"{name}.npy") for name in ("onnx", "torch", "drawn"))
    assert a.shape == (40, 2)
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_array_equal(a, drawn)  # the same latents drawn from the seed: the same samples


def test_float64_and_single_latents_are_taken(ring_export, tmp_path):
    np.save(tmp_path / "one.npy", latents.draw(1, 8, "uniform", 3)[0].astype(np.float64))
    one_line(run_cli("sample", "--latents", str(tmp_path / "one.npy"), "--out", str(tmp_path / "one-out.npy"), cwd=ring_export.home))
    assert np.load(tmp_path / "one-out.npy").shape == (1, 2)


def test_conditional_latents_take_their_labels(tmp_path):
    z, y = latents.draw(5, 16, "normal", 4), np.array([3, 1, 4, 1, 5])
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    one_line(run_cli("sample", "--model", "digits", "--latents", "z.npy", "--labels", "y.npy", "--out", "s.npy", cwd=tmp_path))
    expected = OnnxGenerator(resolve("digits").path, "cpu")(z, labels=y)
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), expected)
    np.testing.assert_array_equal(np.load(tmp_path / "s.labels.npy"), y)


def test_given_latents_import_no_torch(ring_export, tmp_path):
    np.save(tmp_path / "z.npy", latents.draw(3, 8, "uniform", 0))
    args = ["sample", "--model", str(ring_export.onnx), "--latents", str(tmp_path / "z.npy"), "--out", str(tmp_path / "a.png")]
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "gantool", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "onnxruntime" in modules and not {m.partition(".")[0] for m in modules} & set(TRAINING_ONLY)


@pytest.fixture
def files(tmp_path):
    z = latents.draw(4, 16, "normal", 0)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "z8.npy", latents.draw(4, 8, "normal", 0))
    np.save(tmp_path / "z4.npy", latents.draw(4, 4, "normal", 0))  # the shipped ring model's size
    np.save(tmp_path / "y.npy", np.array([0, 1, 2, 3]))
    np.save(tmp_path / "y3.npy", np.array([0, 1, 2]))
    np.save(tmp_path / "yf.npy", np.array([0.0, 1, 2, 3]))
    np.save(tmp_path / "y10.npy", np.array([0, 1, 2, 10]))
    np.save(tmp_path / "zi.npy", np.ones((4, 16), dtype=np.int32))
    np.save(tmp_path / "z3d.npy", z[None])
    np.save(tmp_path / "znan.npy", np.full((4, 16), np.nan, dtype=np.float32))
    np.save(tmp_path / "zobj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "text.npy").write_text("not numpy\n")
    (tmp_path / "folder.npy").mkdir()
    return tmp_path


BAD = [
    (("--latents", "nothere.npy"), "--latents nothere.npy is not a file"),
    (("--latents", "folder.npy"), "--latents folder.npy is not a file"),
    (("--latents", "text.npy", "--labels", "y.npy"), "--latents text.npy is not a numeric .npy array"),
    (("--latents", "zobj.npy", "--labels", "y.npy"), "--latents zobj.npy is not a numeric .npy array (nothing pickled is loaded)"),
    (("--latents", "zi.npy", "--labels", "y.npy"), "--latents zi.npy holds int32 numbers; this model takes (N, 16) floats"),
    (("--latents", "z8.npy", "--labels", "y.npy"), "--latents z8.npy is shaped (4, 8); this model takes (N, 16) floats"),
    (("--latents", "z3d.npy", "--labels", "y.npy"), "--latents z3d.npy is shaped (1, 4, 16)"),
    (("--latents", "znan.npy", "--labels", "y.npy"), "--latents znan.npy holds NaN or infinite values"),
    (("--latents", "z.npy"), "this model is conditional (10 classes): give --labels labels.npy"),
    (("--latents", "z.npy", "--labels", "y3.npy"), "this model: 3 labels for 4 latents; give one label per latent"),
    (("--latents", "z.npy", "--labels", "yf.npy"), "--labels yf.npy holds float64 shaped (4,): save one whole-number"),
    (("--latents", "z.npy", "--labels", "y10.npy"), "label 10 is out of range: this model has 10 classes, 0 to 9"),
    (("--latents", "z.npy", "--labels", "y.npy", "--seed", "3"), "--latents gives the latents, so --seed does not apply"),
    (("--latents", "z.npy", "--labels", "y.npy", "--label", "3"), "so --label does not apply"),
    (("--latents", "z.npy", "--labels", "y.npy", "--interpolate", "3"), "so --interpolate does not apply"),
    (("--labels", "y.npy"), "--labels goes with --latents"),
    (("--model", "ring", "--latents", "z4.npy", "--labels", "y.npy"), "--labels y.npy: this model is unconditional"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_latents_are_one_line_and_exit_2(files, args, message):
    model = () if "--model" in args else ("--model", "digits")
    proc = run_cli("sample", *model, *args, "--out", "s.npy", cwd=files)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not (files / "s.npy").exists()
