"""The truncation trick: latents drawn once by numpy, resampled beyond psi, the same through onnxruntime and torch."""

from __future__ import annotations

import numpy as np
import pytest

from gantool.core import latents
from gantool.core.errors import GantoolError
from tests.conftest import Exported, run_cli
from tests.inference.test_sample import handmade, one_line


@pytest.fixture(scope="module")
def digits_cond_export(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """A conditional generator of digits from the normal prior, a few steps trained, exported with its label input."""
    settings = {"data": "digits", "gen": "mlp-small", "conditional": True, "latent_dim": 16, "steps": 3, "batch_size": 16}
    return Exported(tmp_path_factory.mktemp("cond-digits"), settings)


@pytest.mark.parametrize("psi", [0.25, 0.5, 1.0])
def test_truncated_latents_stay_within_psi_and_repeat_with_the_seed(psi):
    z = latents.draw(500, 32, "normal", seed=4, truncation=psi)
    assert z.shape == (500, 32) and z.dtype == np.float32
    assert np.abs(z).max() <= psi
    np.testing.assert_array_equal(z, latents.draw(500, 32, "normal", seed=4, truncation=psi))
    assert np.abs(z).std() > psi / 5  # resampled, not clipped: entries spread over [-psi, psi]
    assert (np.abs(z) == np.float32(psi)).mean() < 0.01
    plain = latents.draw(500, 32, "normal", seed=4)
    kept = np.abs(plain) <= psi
    assert (np.abs(plain) > psi).any()
    np.testing.assert_array_equal(z[kept], plain[kept])  # only the entries beyond psi are drawn again


@pytest.mark.parametrize("psi", [0, -0.5, 1.5, float("nan"), True, "half"])
def test_out_of_range_psi_is_refused(psi):
    with pytest.raises(GantoolError, match=r"--truncation must be a number in \(0, 1\]"):
        latents.draw(3, 2, "normal", seed=0, truncation=psi)


def test_the_uniform_prior_refuses_truncation():
    with pytest.raises(GantoolError, match="--truncation applies to the normal prior; this model draws from the uniform prior"):
        latents.draw(3, 2, "uniform", seed=0, truncation=0.5)
    np.testing.assert_array_equal(latents.draw(3, 2, "uniform", seed=0, truncation=None), latents.draw(3, 2, "uniform", seed=0))


def test_the_sampler_feeds_the_truncated_latents(tmp_path):
    """x = tanh(z) by hand: the output shows every latent was within psi, and which latents they were."""
    handmade(tmp_path / "tanh.onnx")
    one_line(run_cli("sample", "--model", "tanh.onnx", "-n", "200", "--seed", "9", "--truncation", "0.5", "--out", "x.npy", cwd=tmp_path))
    z = np.arctanh(np.load(tmp_path / "x.npy").astype(np.float64))
    assert np.abs(z).max() <= 0.5 + 1e-5
    np.testing.assert_allclose(z, latents.draw(200, 4, "normal", seed=9, truncation=0.5), atol=1e-5)


def test_same_seed_same_truncated_samples_through_onnx_and_torch(digits_export, tmp_path):
    args = ("sample", "-n", "40", "--seed", "6", "--truncation", "0.5")
    one_line(run_cli(*args, "--model", str(digits_export.onnx), "--out", str(tmp_path / "onnx.npy")))
    line = one_line(run_cli(*args, "--runtime", "torch", "--model", str(digits_export.run), "--out", str(tmp_path / "torch.npy")))
    assert "torch, cpu; seed 6" in line
    a, b = np.load(tmp_path / "onnx.npy"), np.load(tmp_path / "torch.npy")
    assert a.shape == (40, 1, 28, 28)
    np.testing.assert_allclose(a, b, atol=1e-5)
    one_line(run_cli("sample", "-n", "40", "--seed", "6", "--model", str(digits_export.onnx), "--out", str(tmp_path / "plain.npy")))
    assert np.abs(np.load(tmp_path / "plain.npy") - a).max() > 1e-3


def test_truncation_with_labels_is_the_same_in_both_runtimes(digits_cond_export, tmp_path):
    run = digits_cond_export.run
    for runtime, model in (("onnx", run / "G.onnx"), ("torch", run)):
        args = ("sample", "--runtime", runtime, "--model", str(model), "--label", "3,7", "-n", "20", "--seed", "2", "--truncation", "0.7")
        one_line(run_cli(*args, "--out", str(tmp_path / f"{runtime}.npy")))
    np.testing.assert_allclose(np.load(tmp_path / "onnx.npy"), np.load(tmp_path / "torch.npy"), atol=1e-5)
    np.testing.assert_array_equal(np.load(tmp_path / "onnx.labels.npy"), [3] * 10 + [7] * 10)
    np.testing.assert_array_equal(np.load(tmp_path / "onnx.labels.npy"), np.load(tmp_path / "torch.labels.npy"))


def test_truncated_walks_start_at_truncated_latents(digits_export, tmp_path):
    args = ("sample", "--model", str(digits_export.onnx), "-n", "6", "--interpolate", "3", "--seed", "1", "--truncation", "0.5")
    one_line(run_cli(*args, "--out", str(tmp_path / "walk.npy")))
    from gantool.inference.onnx_runtime import OnnxGenerator

    ends = latents.draw(4, 64, "normal", seed=1, truncation=0.5)
    np.testing.assert_allclose(np.load(tmp_path / "walk.npy")[:, 0], OnnxGenerator(digits_export.onnx, "cpu")(ends[:2]), atol=1e-5)


BAD = [
    (("--truncation", "0"), "--truncation must be a number in (0, 1] (standard deviations kept), got 0.0"),
    (("--truncation", "1.5"), "--truncation must be a number in (0, 1]"),
    (("--truncation", "-1"), "--truncation must be a number in (0, 1]"),
    (("--truncation", "0.5"), "--truncation applies to the normal prior; this model draws from the uniform prior: leave out --truncation"),
    (("--truncation", "0.5", "--runtime", "torch"), "--truncation applies to the normal prior"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_truncation_is_one_line_and_exit_2(ring_export, args, message, tmp_path):
    proc = run_cli("sample", *args, "--out", str(tmp_path / "s.npy"), cwd=ring_export.home)  # ring: the uniform prior
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not (tmp_path / "s.npy").exists()
