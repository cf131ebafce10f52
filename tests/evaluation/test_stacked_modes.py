"""The stacked-modes metric (VEEGAN's Stacked MNIST protocol): its formula against exact answers, real stacked digits
near 1,000 modes and the sampling-noise floor of the reverse KL, a collapsed generator, 26,000 samples by default in
`gantool eval` and `--eval-every`, and data that is not stacked digits refused on one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gantool.evaluation.context import EvalContext, unit_samples
from gantool.evaluation.runner import STACKED_N, default_n, evaluate
from gantool.evaluation.sources import SampleSource
from gantool.plugins.builtin.formulas import digit_tuple_statistics
from gantool.plugins.builtin.stacked import stacked_mnist
from gantool.plugins.data import DigitModes, Modes
from gantool.training.config import build_config
from gantool.training.run import train
from tests.conftest import run_cli

SHAPE = (3, 28, 28)


def sure(digits: np.ndarray) -> np.ndarray:
    """Posteriors (N, 3, 10) certain of the given digits (N, 3)."""
    return np.eye(10)[digits]


def test_every_triple_once_is_1000_modes_and_no_divergence():
    triples = np.array([[k // 100, k // 10 % 10, k % 10] for k in range(1000)]).repeat(26, axis=0)
    figures = digit_tuple_statistics(sure(triples), 1000, 0.9)
    assert figures == {"modes": 1000, "reverse_kl": pytest.approx(0.0, abs=1e-12), "confident": 1.0}


def test_one_triple_is_one_mode_at_log_1000_and_doubt_is_counted():
    posteriors = sure(np.tile([[1, 2, 3]], (40, 1)))
    posteriors[:10, 0] = 0.1  # ten first channels the classifier cannot tell: 10 of 120 channels
    figures = digit_tuple_statistics(posteriors, 1000, 0.9)
    assert figures["modes"] == 2 and figures["confident"] == pytest.approx(110 / 120)  # the doubtful ones argmax to 0: 023
    assert digit_tuple_statistics(sure(np.tile([[1, 2, 3]], (40, 1))), 1000, 0.9)["reverse_kl"] == pytest.approx(math.log(1000))


def test_uniform_draws_of_26000_sit_on_the_sampling_floor():
    """The issue's 0.02: a perfect generator's KL at 26,000 samples, (1000 - 1) / (2 * 26000) to first order."""
    triples = np.random.default_rng(0).integers(10, size=(STACKED_N, 3))
    figures = digit_tuple_statistics(sure(triples), 1000, 0.9)
    assert figures["modes"] == 1000 and 0.015 < figures["reverse_kl"] < 0.025


def test_stacked_data_gets_26000_samples_by_default_and_other_data_keeps_its_own():
    assert default_n(SHAPE, DigitModes(3)) == 26_000
    assert default_n(SHAPE, None) == 10_000 and default_n((2,), Modes([(0, 0)], 0.1)) == 2_500


def context(draw, n: int, data: str = "stacked-mnist", data_opt: dict | None = None) -> EvalContext:
    source = SampleSource("test", data, SHAPE, draw)
    return EvalContext(source, n, data_opt={"n": 1000} if data_opt is None else data_opt)


def test_a_collapsed_generator_shows_few_modes_and_a_large_divergence():
    """Five real stacked images over and over: every channel a sharp digit, but five triples of a thousand."""
    five = unit_samples(stacked_mnist(n=5, seed=9).train, 5)
    figures = evaluate(context(lambda n, seed: np.resize(five, (n, *SHAPE)), 500), ["stacked-modes"])
    assert 1 <= figures["stacked_modes"] <= 5 and figures["stacked_modes_total"] == 1000
    assert figures["stacked_reverse_kl"] >= math.log(1000 / 5) - 0.05
    assert figures["confident_channels_real"] > 0.9 and figures["classifier_accuracy"] > 0.95
    assert figures["metrics"] == ["stacked-modes"]


def test_noise_is_not_passed_off_as_digits():
    """Uniform noise lands in many triples; the confident-channel share gives it away."""
    noise = np.random.default_rng(0).uniform(-1, 1, size=(500, *SHAPE)).astype(np.float32)
    figures = evaluate(context(lambda n, seed: noise[:n], 500), ["stacked-modes"])
    assert figures["confident_channels"] < 0.5 * figures["confident_channels_real"]


@pytest.mark.slow  # 26,000 real and 26,000 generated images, 156,000 digits through the classifier: about 15 s on 2 cores
def test_real_stacked_data_reaches_every_mode_at_the_floor():
    real = unit_samples(stacked_mnist(n=STACKED_N, seed=7).train, STACKED_N)  # not the held-out draw (seed 1): other triples
    figures = evaluate(context(lambda n, seed: real[:n], STACKED_N, data_opt={}), ["stacked-modes"])
    assert figures["stacked_modes"] >= 995
    assert figures["stacked_reverse_kl"] < 0.04  # the 0.02 floor, plus MNIST's uneven digits and the classifier's slips
    assert figures["confident_channels"] > 0.9
    assert figures["confident_channels"] == pytest.approx(figures["confident_channels_real"], abs=0.01)


def test_data_of_the_same_shape_that_is_not_stacked_digits_is_refused(tmp_path: Path):
    from PIL import Image

    for i in range(3):
        Image.new("RGB", (28, 28), (i * 80, 0, 0)).save(tmp_path / f"{i}.png")
    ctx = context(lambda n, seed: np.zeros((n, *SHAPE), np.float32), 100, data="image-folder", data_opt={"path": str(tmp_path)})
    with pytest.raises(Exception) as info:
        evaluate(ctx, ["stacked-modes"])
    assert "metric 'stacked-modes' does not apply" in str(info.value) and "\n" not in str(info.value)


def test_eval_on_a_generator_that_is_not_of_stacked_digits_exits_2():
    from gantool.plugins.builtin.pretrained import MODELS

    proc = run_cli("eval", str(MODELS / "ring.onnx"), "-m", "stacked-modes", "-n", "100")  # gantool's own ring generator
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "metric 'stacked-modes' does not apply" in lines[0], proc.stderr


@pytest.mark.slow  # trains a run, evaluates it every 2 steps and then on 26,000 samples: about 20 s on 2 cores
def test_eval_every_and_gantool_eval_report_the_stacked_figures(tmp_path: Path):
    settings = {"data": "stacked-mnist", "data_opt": {"n": 2000}, "gen": "mlp-small", "steps": 4, "batch_size": 16, "device": "cpu"}
    run = train(build_config({**settings, "eval_every": 2, "eval_n": 500, "eval_metrics": ["stacked-modes"]}), run_dir=tmp_path / "run")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "stacked_modes" in r] == [2, 4]
    assert all(0 <= r["confident_channels"] <= 1 for r in rows if "stacked_modes" in r)
    proc = run_cli("eval", str(run))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((run / "eval.json").read_text())
    assert report["n"] == 26_000 and "stacked-modes" in report["figures"]["metrics"]
    assert 1 <= report["figures"]["stacked_modes"] <= 1000
    for text in ("stacked_modes", "stacked_reverse_kl", "confident_channels"):
        assert text in proc.stdout
