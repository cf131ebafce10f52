"""Stacked MNIST (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): the standard test of whether a GAN
covers its data. Three handwritten digits, drawn independently, are the three channels of one 28x28 image, so the
data has 1,000 modes, the digit triples. The dataset declares them (``DigitModes``) and the ``stacked-modes``
metric counts how many a generator reaches, channel by channel through gantool's digit classifier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gantool.core.errors import GantoolError
from gantool.core.paths import cache_dir
from gantool.plugins.builtin.datasets import load_digits, mnist_split
from gantool.plugins.builtin.formulas import digit_tuple_statistics
from gantool.plugins.data import Data, DigitModes
from gantool.plugins.figures import Figure
from gantool.plugins.hookspecs import hookimpl

CHANNELS = 3
MODES = DigitModes(CHANNELS)
CLASSES = tuple(f"{k:03d}" for k in range(MODES.total))  # the label 100 R + 10 G + B, named by its three digits
PLACES = np.array([10**i for i in reversed(range(CHANNELS))])  # 100, 10, 1
# As many images as MNIST's training set: 60 per triple on average, so every triple is present (a triple is
# missing with probability (1 - 1/1000)^60000 = e^-60), conditional runs included; 141 MB of uint8 pixels.
STACKED_N = 60_000
SOURCES = ("digits", "mnist")
CONFIDENT = 0.9  # a channel whose largest class posterior reaches this is one the classifier is sure of


def stack(images: np.ndarray, labels: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 3, 28, 28) whose channels are digits drawn independently from ``images``, and their labels
    100 R + 10 G + B; the same for the same seed."""
    which = np.random.default_rng(seed).integers(len(images), size=(n, CHANNELS))
    return images[which], labels[which] @ PLACES


def _pools(source: str, root: str, download: bool) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """The digits to stack for training and those to stack for held-out data (None: a fresh draw of the same digits)."""
    if source == "digits":
        return load_digits(), None
    folder = Path(root).expanduser() if root else cache_dir("datasets")
    return mnist_split(folder, True, download), load_digits()  # the embedded digits are MNIST's test split: never trained on


def stacked_mnist(n: int = STACKED_N, seed: int = 0, source: str = "", root: str = "", download: bool = True) -> Data:
    """Three digits as the channels of a 3x28x28 image, labelled 100 R + 10 G + B (1,000 classes).

    ``source``: ``digits``, the 10,000 embedded ones (the default, no download), or ``mnist``, MNIST's 60,000
    training images from ``root`` (the default when ``root`` is given). Held out: the embedded digits (MNIST's
    test split) stacked for the ``mnist`` source; for ``digits``, a fresh draw (seed + 1) of new triples of the
    same images, as ring and grid draw afresh.
    """
    import torch

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise GantoolError(f"stacked-mnist's n must be a positive number of images, got {n!r}: pass e.g. --data-opt n={STACKED_N}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise GantoolError(f"stacked-mnist's seed must be a whole number, got {seed!r}")
    source = source or ("mnist" if root else "digits")
    if source not in SOURCES:
        raise GantoolError(
            f"stacked-mnist has no source {source!r}: pass --data-opt source=digits (the embedded digits) "
            "or source=mnist (MNIST's training set, with --data-opt root=DIR)"
        )
    pool, held_pool = _pools(source, root, download)
    images, labels = stack(*pool, n, seed)

    def held_out() -> Any:
        return torch.from_numpy(stack(*(held_pool or pool), n, seed + 1)[0])

    return Data(torch.from_numpy(images), held_out, modes=MODES, labels=torch.from_numpy(labels.astype(np.int64)), classes=CLASSES)


class StackedModes:
    """VEEGAN's protocol for Stacked MNIST: each channel classified by the digit classifier, the modes are the distinct
    digit tuples among the samples, the reverse KL is that of their histogram to the uniform one."""

    figures = (
        Figure("stacked_modes", "distinct digit triples among the samples, each channel classified (higher is better)", "higher"),
        Figure("stacked_modes_total", "digit triples the data holds"),
        Figure("stacked_reverse_kl", "KL(sample triple histogram || uniform), 0.02 for uniform 26,000 (lower is better)", "lower"),
        Figure("confident_channels", f"share of channels whose largest digit posterior is at least {CONFIDENT}", "higher"),
        Figure("confident_channels_real", "the same share on held-out real data"),
    )

    def supports(self, ctx: Any) -> bool:
        return ctx.digit_modes() is not None

    def evaluate(self, ctx: Any) -> dict[str, Any]:
        modes = ctx.digit_modes()
        fake = digit_tuple_statistics(self.posteriors(ctx, ctx.samples()), modes.total, CONFIDENT)
        if "stacked_real" not in ctx.shared:  # the real data's share, once per run
            real = digit_tuple_statistics(self.posteriors(ctx, ctx.real()[0]), modes.total, CONFIDENT)
            ctx.shared["stacked_real"] = real["confident"]
        return {
            "stacked_modes": fake["modes"],
            "stacked_modes_total": modes.total,
            "stacked_reverse_kl": fake["reverse_kl"],
            "confident_channels": fake["confident"],
            "confident_channels_real": ctx.shared["stacked_real"],
        }

    @staticmethod
    def posteriors(ctx: Any, images: np.ndarray) -> np.ndarray:
        """The classifier's (N, channels, 10) posteriors of images (N, channels, 28, 28), a channel at a time."""
        n, channels = images.shape[:2]
        return ctx.classifier().embed(images.reshape(n * channels, 1, *images.shape[2:]))[1].reshape(n, channels, -1)


@hookimpl
def register_datasets(register: Any) -> None:
    register("stacked-mnist", stacked_mnist)


@hookimpl
def register_metrics(register: Any) -> None:
    register("stacked-modes", StackedModes)
