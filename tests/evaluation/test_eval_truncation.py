"""`gantool eval --truncation`: fidelity and diversity per PSI, on tiny real runs through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from gantool.core.errors import GantoolError
from gantool.evaluation.report import truncation_table
from gantool.evaluation.sources import open_source
from gantool.evaluation.truncation import parse_psis
from gantool.inference.export import export_onnx
from tests.conftest import run_cli
from tests.evaluation.test_eval import cache, quick  # noqa: F401  (cache: the session's digit classifier)


@pytest.fixture(scope="module")
def tiny_digits(tmp_path_factory) -> Path:
    """Digits from the normal prior, a few steps trained: the figures mean little, the plumbing is all real."""
    return quick(tmp_path_factory.mktemp("digits") / "run", data="digits", data_opt={}, steps=5, batch_size=32)


def test_eval_reports_figures_per_psi(tiny_digits, cache, tmp_path):  # noqa: F811
    out = tmp_path / "e.json"
    args = ("eval", str(tiny_digits), "-n", "200", "--truncation", "1.0,0.7,0.5", "--out", str(out))
    proc = run_cli(*args, env={"GANTOOL_CACHE": str(cache)})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    rows = report["truncation"]
    assert [row["psi"] for row in rows] == [None, 1.0, 0.7, 0.5]
    for row in rows:
        assert set(row) == {"psi", "fid", "precision", "recall", "density", "coverage"}, row
        assert row["fid"] > 0 and all(0 <= row[k] <= 1 for k in ("precision", "recall", "coverage"))
    untruncated = {k: v for k, v in rows[0].items() if k != "psi"}
    assert untruncated == {k: report["figures"][k] for k in untruncated}  # the first row is the evaluation's own figures
    assert len({row["fid"] for row in rows}) == 4  # every PSI drew samples of its own
    assert "truncation: 200 samples per psi" in proc.stdout and all(psi in proc.stdout for psi in ("none", "1.00", "0.70", "0.50"))
    # the table travels into an export's provenance with the rest of the headline
    (tiny_digits / "eval.json").write_text(out.read_text())
    meta = {p.key: p.value for p in onnx.load(str(export_onnx(tiny_digits, tmp_path / "G.onnx").path)).metadata_props}
    assert [row["psi"] for row in json.loads(meta["eval"])["truncation"]] == [None, 1.0, 0.7, 0.5]


def test_truncated_samples_are_the_ones_gantool_sample_draws(tiny_digits, tmp_path):
    """Reuse, not a second recipe: an export's truncated eval samples equal `gantool sample --truncation` with that seed."""
    path = export_onnx(tiny_digits, tmp_path / "G.onnx").path
    proc = run_cli("sample", "--model", str(path), "-n", "50", "--seed", "7", "--truncation", "0.6", "--out", str(tmp_path / "s.npy"))
    assert proc.returncode == 0, proc.stderr
    source = open_source(path)
    assert source.truncated is not None and source.prior == "normal"
    np.testing.assert_allclose(source.truncated(0.6)(50, 7), np.load(tmp_path / "s.npy"), atol=1e-6)
    torch_source = open_source(tiny_digits)  # the run's weights in torch: the same latents, so the same samples
    assert torch_source.truncated is not None
    np.testing.assert_allclose(torch_source.truncated(0.6)(50, 7), np.load(tmp_path / "s.npy"), atol=1e-4)


def test_2d_mixtures_report_quality_and_modes_per_psi(tmp_path):
    run = quick(tmp_path / "run", steps=20)  # the ring, normal prior
    proc = run_cli("eval", str(run), "-n", "300", "--truncation", "0.5")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((run / "eval.json").read_text())
    rows = report["truncation"]
    assert [row["psi"] for row in rows] == [None, 0.5]
    assert all({"high_quality", "modes_captured"} <= set(row) for row in rows), rows
    # the caption says what the rows are, and predicts no direction: on a ring, lower psi can lower high_quality
    caption = truncation_table(report).caption
    assert caption and "truncated at psi" in caption and "'none' = untruncated" in caption
    assert not any(word in caption for word in ("up", "down", "more", "less")), caption


BAD = [
    (("--truncation", "0"), r"--truncation must be a number in (0, 1]"),
    (("--truncation", "1.5"), r"--truncation must be a number in (0, 1]"),
    (("--truncation", "0.7,half"), "--truncation takes PSI values in (0, 1] separated by commas, like 1.0,0.7,0.5; got '0.7,half'"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_psi_is_one_line_and_exit_2(tmp_path, args, message):
    proc = run_cli("eval", "nowhere", *args, cwd=tmp_path)  # refused before the run is even looked for
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_a_uniform_prior_is_one_line_and_exit_2(tmp_path):
    run = quick(tmp_path / "run", steps=5, latent="uniform")
    proc = run_cli("eval", str(run), "-n", "300", "--truncation", "0.7")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "--truncation applies to the normal prior; this model draws from the uniform prior: leave out --truncation" in lines[0]
    assert not (run / "eval.json").exists()


def test_parse_psis():
    assert parse_psis("1.0, 0.7,0.5,0.7") == [1.0, 0.7, 0.5]
    for text in ("", "nan", "inf", "-0.5"):
        with pytest.raises(GantoolError, match="--truncation"):
            parse_psis(text)
