"""``gantool.load``: an ONNX file, a run folder or an installed model's name, sampled from Python into numpy."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gantool
from gantool.core import latents
from gantool.core.errors import GantoolError
from gantool.inference.api import Sampler
from tests.conftest import run_cli
from tests.inference.test_sample import BLOCK_TRAINING_EXTRA, handmade
from tests.inference.test_truncation import digits_cond_export  # noqa: F401 (a fixture)


def test_load_is_public_and_lazy():
    assert gantool.load is gantool.inference.api.load and "load" in gantool.__all__


def test_onnx_file_and_run_folder_give_the_samples_gantool_sample_writes(ring_export, tmp_path):
    onnx, torch = gantool.load(ring_export.onnx, device="cpu"), gantool.load(ring_export.run, device="cpu")
    assert isinstance(onnx, Sampler) and onnx.where == "onnxruntime, CPUExecutionProvider" and torch.where == "torch, cpu"
    assert onnx.info.data_shape == (2,) and onnx.classes is None
    a = onnx.sample(50, seed=7)
    assert a.shape == (50, 2) and a.dtype == np.float32
    np.testing.assert_allclose(a, torch.sample(50, seed=7), atol=1e-5)
    proc = run_cli("sample", "--model", str(ring_export.onnx), "-n", "50", "--seed", "7", "--out", str(tmp_path / "cli.npy"))
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "cli.npy"), a)
    assert np.abs(onnx.sample(50, seed=8) - a).max() > 1e-3
    as_onnx = gantool.load(str(ring_export.run), runtime="onnx", device="cpu")  # a run folder's G.onnx, when asked for
    np.testing.assert_array_equal(as_onnx.sample(50, seed=7), a)


def test_truncation_through_both_runtimes(digits_export):
    a = gantool.load(digits_export.onnx, device="cpu").sample(12, seed=3, truncation=0.5)
    b = gantool.load(digits_export.run, device="cpu").sample(12, seed=3, truncation=0.5)
    assert a.shape == (12, 1, 28, 28)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_latents_are_the_ones_the_cli_draws(tmp_path):
    sampler = gantool.load(handmade(tmp_path / "tanh.onnx"), device="cpu")  # x = tanh(z)
    x = sampler.sample(30, seed=5, truncation=0.25)
    np.testing.assert_allclose(np.arctanh(x.astype(np.float64)), latents.draw(30, 4, "normal", 5, 0.25), atol=1e-5)


def test_labels_by_number_name_list_or_drawn(digits_cond_export):  # noqa: F811
    onnx = gantool.load(digits_cond_export.onnx, device="cpu")
    torch = gantool.load(digits_cond_export.run, device="cpu")
    assert onnx.classes == tuple(str(d) for d in range(10))
    x, y = onnx.sample(8, seed=1, label=[3, 5], return_labels=True, truncation=0.7)
    assert x.shape == (8, 1, 28, 28) and y.tolist() == [3] * 4 + [5] * 4
    np.testing.assert_allclose(x, torch.sample(8, seed=1, label="3,5", truncation=0.7), atol=1e-5)
    np.testing.assert_array_equal(onnx.sample(4, seed=1, label=7), onnx.sample(4, seed=1, label="7"))
    _, drawn = onnx.sample(20, seed=2, return_labels=True)
    np.testing.assert_array_equal(drawn, latents.draw_labels(20, 10, 2))
    _, every = onnx.sample(10, seed=2, label="all", return_labels=True)
    assert every.tolist() == list(range(10))


def test_works_without_torch_installed(ring_export, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(BLOCK_TRAINING_EXTRA))
    code = (
        "import sys, gantool; s = gantool.load(sys.argv[1]); x = s.sample(5, seed=2); "
        "print(x.shape, sorted({'torch', 'onnx'} & {m.partition('.')[0] for m in sys.modules}))"
    )
    env = {"PYTHONPATH": str(site), "PATH": ""}
    proc = subprocess.run([sys.executable, "-c", code, str(ring_export.onnx)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(5, 2) []"


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda d: gantool.load(d / "missing.onnx"), "missing.onnx does not exist: pass an .onnx file"),
        (lambda d: gantool.load(d / "none" / "run"), "does not exist: pass an .onnx file, a run folder or a model name"),
        (lambda d: gantool.load(d / "tanh.onnx", runtime="torch"), "--runtime torch samples a run folder, not the file"),
        (lambda d: gantool.load(d / "tanh.onnx").sample(0), "n must be a whole number of at least 1, got 0"),
        (lambda d: gantool.load(d / "tanh.onnx").sample(3, seed=-1), "seed must be a whole number of at least 0"),
        (lambda d: gantool.load(d / "tanh.onnx").sample(3, truncation=2), r"--truncation must be a number in (0, 1]"),
        (lambda d: gantool.load(d / "tanh.onnx").sample(3, label=1), "--label needs a conditional model"),
        (lambda d: gantool.load(d / "tanh.onnx").sample(3, label=1.5), "label must be a class number or name"),
        (lambda d: gantool.load(None), "gantool.load needs an .onnx file, a run folder or a model name"),
    ],
)
def test_mistakes_are_one_line_errors(tmp_path, call, message):
    handmade(tmp_path / "tanh.onnx")
    with pytest.raises(GantoolError) as caught:
        call(tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
