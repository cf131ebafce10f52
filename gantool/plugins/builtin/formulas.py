"""The formulas behind the built-in metrics, plain functions of numpy arrays so they can be checked against known answers."""

from __future__ import annotations

from typing import Any

import numpy as np


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017).

    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), with the trace of the root
    taken from the eigenvalues of S_a^(1/2) S_b S_a^(1/2), which is symmetric, so no
    complex round-off as with a general matrix square root.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(max(0.0, ((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_root))


def inception_score(posteriors: np.ndarray) -> float:
    """exp E_x KL(p(y|x) || p(y)) (Salimans et al. 2016): 1 for one blurry class, K for K sharp, even classes."""
    p = np.clip(np.asarray(posteriors, dtype=np.float64), 1e-12, 1.0)
    marginal = p.mean(0, keepdims=True)
    return float(np.exp((p * (np.log(p) - np.log(marginal))).sum(1).mean()))


def _kth_neighbour_radius(x: Any, k: int, chunk: int = 1024) -> Any:
    """Distance from each row of x to its k-th nearest other row."""
    import torch

    radii = []
    for start in range(0, len(x), chunk):
        d = torch.cdist(x[start : start + chunk], x)
        radii.append(d.topk(k + 1, dim=1, largest=False).values[:, k])  # column 0 is the point itself
    return torch.cat(radii)


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5, chunk: int = 1024) -> dict[str, float]:
    """Precision, recall, density and coverage from k-nearest-neighbour balls (Naeem et al. 2020)."""
    import torch

    r = torch.from_numpy(np.asarray(real, dtype=np.float32))
    f = torch.from_numpy(np.asarray(fake, dtype=np.float32))
    if len(r) <= k or len(f) <= k:
        raise ValueError(f"precision/recall need more than k={k} samples on each side")
    r_radius, f_radius = _kth_neighbour_radius(r, k, chunk), _kth_neighbour_radius(f, k, chunk)
    fake_in_real = torch.zeros(len(f), dtype=torch.bool)  # precision: fake inside some real ball
    balls_per_fake = torch.zeros(len(f))  # density: how many real balls hold each fake
    real_in_fake = torch.zeros(len(r), dtype=torch.bool)  # recall: real inside some fake ball
    real_covered = torch.zeros(len(r), dtype=torch.bool)  # coverage: nearest fake inside the real ball
    for start in range(0, len(r), chunk):
        d = torch.cdist(r[start : start + chunk], f)  # (chunk of real, all fake)
        inside = d < r_radius[start : start + chunk, None]
        fake_in_real |= inside.any(0)
        balls_per_fake += inside.sum(0)
        real_in_fake[start : start + chunk] = (d < f_radius[None, :]).any(1)
        real_covered[start : start + chunk] = d.min(1).values < r_radius[start : start + chunk]
    return {
        "precision": fake_in_real.float().mean().item(),
        "recall": real_in_fake.float().mean().item(),
        "density": (balls_per_fake.sum() / (k * len(f))).item(),
        "coverage": real_covered.float().mean().item(),
    }


def class_shares(posteriors: np.ndarray) -> np.ndarray:
    """The share of samples the classifier puts in each class."""
    p = np.asarray(posteriors)
    return np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)


def mode_statistics(points: np.ndarray, means: np.ndarray, sigma: float) -> dict[str, Any]:
    """The PacGAN paper's figures for Gaussian mixtures (Lin et al. 2018, after VEEGAN).

    A sample is high quality when it lies within three standard deviations of its
    nearest mode; a mode is captured when it is the nearest mode of at least one
    high-quality sample; the reverse KL is KL(sample histogram || true histogram)
    over the modes, the histogram counting high-quality samples (the true one is
    uniform: every mixture here weighs its modes equally). None when no sample is
    high quality.
    """
    x, m = np.asarray(points, dtype=np.float64), np.asarray(means, dtype=np.float64)
    d = np.sqrt(((x[:, None, :] - m[None, :, :]) ** 2).sum(-1))
    nearest, distance = d.argmin(1), d.min(1)
    good = distance < 3 * sigma
    counts = np.bincount(nearest[good], minlength=len(m))
    if counts.sum() == 0:
        reverse_kl = None
    else:
        p = counts / counts.sum()
        p = p[p > 0]
        reverse_kl = float((p * np.log(p * len(m))).sum())
    return {
        "modes_captured": int((counts > 0).sum()),
        "modes_total": len(m),
        "high_quality": float(good.mean()),
        "reverse_kl": reverse_kl,
    }


def digit_tuple_statistics(posteriors: np.ndarray, total: int, confident: float) -> dict[str, Any]:
    """VEEGAN's Stacked MNIST figures from the classifier's posteriors (N, channels, 10) of each image's channels.

    A sample's mode is the tuple of its channels' most likely digits; ``modes`` counts the distinct tuples, and
    ``reverse_kl`` is KL(p || uniform) = sum p log(total p) over the tuples with p > 0 (about (total - 1) / (2 N)
    for a uniform generator: sampling noise). ``confident`` is the share of channels whose largest posterior is at
    least ``confident``: noise classified into some digit is not a digit.
    """
    p = np.asarray(posteriors, dtype=np.float64)
    digits = p.argmax(-1)
    modes = digits @ (10 ** np.arange(p.shape[1] - 1, -1, -1))
    counts = np.bincount(modes, minlength=total)
    share = counts[counts > 0] / len(modes)
    return {
        "modes": int((counts > 0).sum()),
        "reverse_kl": float((share * np.log(total * share)).sum()),
        "confident": float((p.max(-1) >= confident).mean()),
    }
