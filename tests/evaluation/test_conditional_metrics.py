"""class_accuracy and intra_fid judge a conditional generator by the labels it was asked for, with the real classifier."""

from __future__ import annotations

import numpy as np
import pytest

from gantool.evaluation.context import EvalContext
from gantool.evaluation.runner import evaluate
from gantool.evaluation.sources import SampleSource
from gantool.plugins.builtin.datasets import load_digits

DIGITS = tuple(str(d) for d in range(10))


def digits_source(shift: int) -> SampleSource:
    """A stand-in generator that draws real test digits of class label + shift: a perfect one at shift 0."""
    images, labels = load_digits()
    pixels = images.astype(np.float32)[:, None] / 127.5 - 1.0
    by_class = [pixels[labels == c] for c in range(10)]

    def draw(n: int, seed: int, asked: np.ndarray | None = None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.stack([by_class[(int(c) + shift) % 10][rng.integers(len(by_class[(int(c) + shift) % 10]))] for c in asked])

    return SampleSource("test digits", "digits", (1, 28, 28), draw, classes=DIGITS)


def test_class_accuracy_and_intra_fid_follow_the_asked_labels():
    right = evaluate(EvalContext(digits_source(0), 1000), ["class-accuracy", "intra-fid", "fid"])
    wrong = evaluate(EvalContext(digits_source(1), 1000), ["class-accuracy", "intra-fid", "fid"])
    # real digits of the asked class: right as often as the classifier is
    assert right["class_accuracy"] > 0.9 and min(right["class_accuracy_per_class"]) > 0.8
    # every sample one class off: almost never the asked class, and far from each class, though the FID barely moves
    assert wrong["class_accuracy"] < 0.1
    assert wrong["intra_fid"] > 5 * right["intra_fid"] and wrong["fid"] < 2 * right["fid"] + 5
    assert len(right["intra_fid_per_class"]) == 10


def test_the_class_metrics_apply_to_conditional_digit_generators_only():
    source = digits_source(0)
    labels = np.arange(200) % 10
    unconditional = SampleSource("u", "digits", (1, 28, 28), lambda n, seed, asked=None: source.draw(n, seed, labels[:n]))
    figures = evaluate(EvalContext(unconditional, 200), ["fid"])
    assert "class_accuracy" not in figures
    with pytest.raises(Exception, match="metric 'class-accuracy' does not apply"):
        evaluate(EvalContext(unconditional, 200), ["class-accuracy"])
