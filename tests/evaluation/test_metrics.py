"""The formulas behind `gantool eval`, checked against answers known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gantool.evaluation.plots import smooth, thin
from gantool.plugins.builtin import datasets
from gantool.plugins.builtin.metrics import class_shares, frechet_distance, inception_score, mode_statistics, prdc

rng = np.random.default_rng(0)


def test_frechet_distance_of_a_shift_is_its_squared_length():
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))  # correlated features
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.0])
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + shift) == pytest.approx((shift**2).sum(), rel=1e-6)


def test_frechet_distance_of_a_scaling():
    a = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    a -= a.mean(0)
    # cov(k a) = k^2 S, so FD = tr S + k^2 tr S - 2 k tr S = (1 - k)^2 tr S
    k = 3.0
    assert frechet_distance(a, k * a) == pytest.approx((1 - k) ** 2 * np.trace(np.cov(a, rowvar=False)), rel=1e-6)


def test_inception_score_bounds():
    k = 10
    sharp_even = np.eye(k)[np.arange(1000) % k]
    assert inception_score(sharp_even) == pytest.approx(k, rel=1e-6)
    assert inception_score(np.full((100, k), 1 / k)) == pytest.approx(1.0)  # no confidence
    assert inception_score(np.eye(k)[np.zeros(100, dtype=int)]) == pytest.approx(1.0)  # one class only


def test_prdc_on_identical_disjoint_and_half_matching_sets():
    real = rng.normal(size=(300, 4))
    same = prdc(real, real, k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    assert same["density"] > 0.9
    far = prdc(real, real + 100.0, k=5)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    half = prdc(real, np.concatenate([real[:150], real[150:] + 100.0]), k=5)
    assert half["precision"] == pytest.approx(0.5)
    assert 0.3 < half["density"] / same["density"] < 0.7


def test_class_shares():
    posteriors = np.eye(3)[[0, 0, 1, 0]]
    assert class_shares(posteriors).tolist() == [0.75, 0.25, 0.0]


def test_mode_statistics_follow_the_pacgan_definitions():
    modes = datasets.grid_mixture(n=1).modes
    m, sigma = np.asarray(modes.means), modes.sigma
    perfect = mode_statistics(np.repeat(m, 4, axis=0), m, sigma)
    assert perfect == {"modes_captured": 25, "modes_total": 25, "high_quality": 1.0, "reverse_kl": 0.0}
    collapsed = mode_statistics(np.repeat(m[:1], 100, axis=0), m, sigma)
    assert collapsed["modes_captured"] == 1 and collapsed["reverse_kl"] == pytest.approx(math.log(25))
    # half the samples between modes: low quality, and ignored by the histogram
    between = np.concatenate([np.repeat(m, 2, axis=0), np.repeat(m + 0.2, 2, axis=0)])
    stats = mode_statistics(between, m, sigma)
    assert stats["high_quality"] == 0.5 and stats["modes_captured"] == 25 and stats["reverse_kl"] == pytest.approx(0.0)
    assert mode_statistics(m + 0.2, m, sigma)["reverse_kl"] is None  # nothing high quality: undefined


@pytest.mark.parametrize("name", ["grid", "ring"])
def test_real_mixture_samples_pass_the_recipe_thresholds(name):
    """The data itself must score what the recipes promise (2,500 samples, as in the paper)."""
    data = getattr(datasets, f"{name}_mixture")(n=2500, seed=5)
    means, sigma = data.modes.means, data.modes.sigma
    stats = mode_statistics(data.train.numpy(), np.asarray(means), sigma)
    assert stats["modes_captured"] == len(means)
    assert stats["high_quality"] > 0.97  # 1 - exp(-4.5) = 98.9% of a 2-D Gaussian lies within 3 sigma
    assert stats["reverse_kl"] < 0.03


def test_smoothing_keeps_length_and_level_and_removes_noise():
    noisy = 1.0 + rng.normal(scale=0.5, size=1000)
    out = smooth(noisy)
    assert out.shape == noisy.shape
    assert np.allclose(smooth(np.full(500, 2.0)), 2.0)
    assert out.std() < noisy.std() / 4 and abs(out.mean() - 1.0) < 0.05
    ramp = np.arange(1000, dtype=float)
    assert abs(smooth(ramp)[500] - 500) < 1e-6  # centred: no lag
    assert smooth(np.array([1.0, 2.0])).tolist() == [1.0, 2.0]  # too short to smooth
    gappy = np.array([1.0, np.nan, 3.0] * 10)
    assert np.isfinite(smooth(gappy)).all()


def test_thin_keeps_first_and_last():
    assert thin(list(range(30)), 5) == [0, 7, 14, 22, 29]
    assert thin([1, 2], 5) == [1, 2]


def test_packed_discriminator_judges_groups():
    from gantool.plugins.builtin.models import mlp_discriminator

    D = mlp_discriminator((2,), hidden=16, pack=4)
    x = torch.randn(12, 2)
    logits = D(x)
    assert logits.shape == (12,)
    assert torch.equal(logits[:4], logits[:1].expand(4))  # one decision per group of four
    assert D(x[:2]).shape == (2,) and D(x[:7]).shape == (7,)  # ragged batches still get one logit each
    x2 = x.clone()
    x2[1] += 5.0  # changing one member changes its whole group's logit only
    changed = D(x2) != logits
    assert changed[:4].all() and not changed[4:].any()
    with pytest.raises(ValueError, match="pack must be a positive integer"):
        mlp_discriminator((2,), pack=0)
