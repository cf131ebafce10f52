"""Built-in evaluators, registered through the ``register_metrics`` hook like any plugin's.

An evaluator (see docs/plugins.md) has ``supports(ctx) -> bool`` and
``evaluate(ctx) -> dict[str, number | list]``; ``ctx`` is an
``gantool.evaluation.context.EvalContext`` holding the samples, held-out real data, the
digit classifier, the run's discriminator and the modes the dataset declares. The formulas are plain functions
here so they can be checked against known answers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gantool.plugins.hookspecs import hookimpl

# --- the formulas -------------------------------------------------------------------------------


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


# --- the evaluators -----------------------------------------------------------------------------


class FrechetDistance:
    """Fréchet distance between classifier features of samples and of the reference digits ("FID", gantool's classifier)."""

    def supports(self, ctx: Any) -> bool:
        return ctx.has_classifier

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        return {"fid": frechet_distance(ctx.embedded("real")[0], ctx.embedded("fake")[0])}


class InceptionScore:
    """Inception-style score from the classifier's posteriors, with the reference digits' own score beside it."""

    def supports(self, ctx: Any) -> bool:
        return ctx.has_classifier

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        fake, real = ctx.embedded("fake")[1], ctx.embedded("real")[1]
        return {"inception_score": inception_score(fake), "inception_score_real": inception_score(real)}


class PrecisionRecall:
    """Precision, recall, density and coverage (k-NN balls, k = 5) on classifier features."""

    def __init__(self, k: int = 5) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        self.k = k

    def supports(self, ctx: Any) -> bool:
        return ctx.has_classifier

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        return prdc(ctx.embedded("real")[0], ctx.embedded("fake")[0], k=self.k)


class ClassShares:
    """The share of each digit among the samples; a class under a tenth of its fair share counts as missing."""

    def supports(self, ctx: Any) -> bool:
        return ctx.has_classifier

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        shares = class_shares(ctx.embedded("fake")[1])
        present = shares >= 0.1 / len(shares)
        return {
            "classes_present": int(present.sum()),
            "classes_missing": [int(i) for i in np.flatnonzero(~present)],
            "class_shares": [round(float(s), 4) for s in shares],
        }


class DiscriminatorAccuracy:
    """Seed 000's check: how often the run's D calls held-out real images real and fresh samples fake.

    Not for a conditional run: its D judges an image with its label, and held-out data carries none.
    """

    def supports(self, ctx: Any) -> bool:
        return not ctx.conditional and ctx.discriminator() is not None

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        import torch

        D, threshold = ctx.discriminator(), ctx.threshold
        real, held_out = ctx.real()
        n = min(len(real), ctx.n)

        def says_real(x: np.ndarray) -> float:
            device = next(iter(D.parameters()), torch.empty(0)).device
            with torch.no_grad():
                out = torch.cat([D(torch.from_numpy(x[i : i + 2000]).to(device)).reshape(-1).float().cpu() for i in range(0, len(x), 2000)])
            return (out > threshold).float().mean().item()

        return {
            "d_accuracy_real": says_real(real[:n]),
            "d_accuracy_fake": 1.0 - says_real(ctx.samples()),
            "d_real_held_out": held_out,
        }


class MixtureModes:
    """Modes captured, share of high-quality samples and reverse KL (PacGAN's table), for 2-D data whose dataset declares its modes."""

    def supports(self, ctx: Any) -> bool:
        return ctx.modes() is not None

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        modes = ctx.modes()
        return mode_statistics(ctx.samples(), np.asarray(modes.means), modes.sigma)


DIGIT_CLASSES = tuple(str(d) for d in range(10))


def _conditional_digits(ctx: Any) -> bool:
    """A conditional generator of the ten digits, judged by the digit classifier."""
    return ctx.has_classifier and ctx.source.classes == DIGIT_CLASSES


class ClassAccuracy:
    """The share of samples the digit classifier puts in the class they were asked for, overall and per class."""

    def supports(self, ctx: Any) -> bool:
        return _conditional_digits(ctx)

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        asked, told = ctx.labels(), ctx.embedded("fake")[1].argmax(1)
        right = told == asked
        per_class = [float(right[asked == c].mean()) if (asked == c).any() else None for c in range(len(DIGIT_CLASSES))]
        return {"class_accuracy": float(right.mean()), "class_accuracy_per_class": per_class}


class IntraFrechetDistance:
    """Intra-FID: the mean over classes of the Fréchet distance between a class's samples and that class's real digits."""

    def supports(self, ctx: Any) -> bool:
        return _conditional_digits(ctx)

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        real, digits = ctx.embedded("real")[0], ctx.reference_labels()
        per = max(ctx.n // len(DIGIT_CLASSES), 50)
        distances = [
            frechet_distance(real[digits == c], ctx.classifier().embed(ctx.samples_of(c, per))[0]) for c in range(len(DIGIT_CLASSES))
        ]
        return {"intra_fid": float(np.mean(distances)), "intra_fid_per_class": distances}


@hookimpl
def register_metrics(register):
    register("fid", FrechetDistance)
    register("inception-score", InceptionScore)
    register("prdc", PrecisionRecall)
    register("classes", ClassShares)
    register("d-accuracy", DiscriminatorAccuracy)
    register("modes", MixtureModes)
    register("class-accuracy", ClassAccuracy)
    register("intra-fid", IntraFrechetDistance)


__all__ = ["class_shares", "frechet_distance", "inception_score", "mode_statistics", "prdc"]
