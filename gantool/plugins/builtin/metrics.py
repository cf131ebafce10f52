"""Built-in evaluators, registered through the ``register_metrics`` hook like any plugin's.

An evaluator (see docs/plugins.md) has ``supports(ctx) -> bool`` and
``evaluate(ctx) -> dict[str, number | list]``; ``ctx`` is an
``gantool.evaluation.context.EvalContext`` holding the samples, held-out real data, the
digit classifier, the run's discriminator and the modes the dataset declares. Each declares the figures it
returns (``figures``: what each means, which way is better, its digits) beside its code. The formulas are plain
functions in ``formulas`` so they can be checked against known answers; they are importable from here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gantool.plugins.builtin.formulas import class_shares, frechet_distance, inception_score, mode_statistics, prdc
from gantool.plugins.figures import Figure
from gantool.plugins.hookspecs import hookimpl


class FrechetDistance:
    """Fréchet distance between classifier features of samples and of the reference digits ("FID", gantool's classifier)."""

    figures = (Figure("fid", "Fréchet distance to the reference digits in classifier features (lower is better)", "lower"),)

    def supports(self, ctx: Any) -> bool:
        return ctx.has_classifier

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        return {"fid": frechet_distance(ctx.embedded("real")[0], ctx.embedded("fake")[0])}


class InceptionScore:
    """Inception-style score from the classifier's posteriors, with the reference digits' own score beside it."""

    figures = (
        Figure("inception_score", "Inception-style score from classifier posteriors (higher is better, at most 10)", "higher"),
        Figure("inception_score_real", "the same score for the reference digits"),
    )

    def supports(self, ctx: Any) -> bool:
        return ctx.has_classifier

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        fake, real = ctx.embedded("fake")[1], ctx.embedded("real")[1]
        return {"inception_score": inception_score(fake), "inception_score_real": inception_score(real)}


class PrecisionRecall:
    """Precision, recall, density and coverage (k-NN balls, k = 5) on classifier features."""

    figures = (
        Figure("precision", "share of samples inside the real data's k-NN balls", "higher"),
        Figure("recall", "share of real data inside the samples' k-NN balls", "higher"),
        Figure("density", "real k-NN balls holding a sample, on average, over k (about 1 when alike)"),
        Figure("coverage", "share of real points whose ball holds a sample", "higher"),
    )

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

    figures = (
        Figure("classes_present", "digits with at least a tenth of their fair share", "higher"),
        Figure("classes_missing", "digits the generator leaves out"),
        Figure("class_shares", "share of samples per digit, 0 to 9"),
    )

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

    figures = (
        Figure("d_accuracy_real", "D calls held-out real data real"),
        Figure("d_accuracy_fake", "D calls fresh samples fake"),
        Figure("d_real_held_out", "the real data above was not trained on"),
    )

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

    figures = (
        Figure("modes_captured", "modes nearest to at least one high-quality sample", "higher"),
        Figure("modes_total", "modes of the mixture"),
        Figure("high_quality", "samples within 3 standard deviations of a mode", "higher"),
        Figure("reverse_kl", "KL(sample mode histogram || true one) (lower is better)", "lower"),
    )

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

    figures = (
        Figure("class_accuracy", "conditional: share of samples the classifier puts in the class asked for", "higher"),
        Figure("class_accuracy_per_class", "the same, per class asked for, 0 to 9", "higher"),
    )

    def supports(self, ctx: Any) -> bool:
        return _conditional_digits(ctx)

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        asked, told = ctx.labels(), ctx.embedded("fake")[1].argmax(1)
        right = told == asked
        per_class = [float(right[asked == c].mean()) if (asked == c).any() else None for c in range(len(DIGIT_CLASSES))]
        return {"class_accuracy": float(right.mean()), "class_accuracy_per_class": per_class}


class IntraFrechetDistance:
    """Intra-FID: the mean over classes of the Fréchet distance between a class's samples and that class's real digits."""

    figures = (
        Figure(
            "intra_fid", "conditional: mean over classes of the Fréchet distance to that class's real digits (lower is better)", "lower"
        ),
        Figure("intra_fid_per_class", "the same, per class, 0 to 9", "lower"),
    )

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
