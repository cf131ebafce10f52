"""What a dataset factory may return to tell gantool more than the samples: held-out data and modes (2-D mixtures,
stacked digits).

A factory may still return a bare tensor or a map-style Dataset; ``as_data`` wraps those, so
every consumer (training, evaluation, export) reads one shape. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Modes:
    """The components of a Gaussian mixture (PacGAN's ring and grid): their means and their common σ."""

    means: Sequence[Sequence[float]]
    sigma: float


@dataclass(frozen=True)
class DigitModes:
    """Images whose every channel is one handwritten digit (Stacked MNIST): a mode is the tuple of the channels' digits,
    ``10 ** channels`` of them, all equally likely, told apart by gantool's digit classifier channel by channel."""

    channels: int = 3

    @property
    def total(self) -> int:
        return 10**self.channels


@dataclass
class Data:
    """A dataset as a factory describes it.

    ``train``: what gantool trains on, a tensor (N, *data_shape) (float in [-1, 1] or uint8 pixels) or a map-style
    Dataset. ``held_out``: real samples of the same kind that training never sees, as such a tensor or a function
    of no arguments returning one (called only when an evaluation needs it); None when there are none.
    ``modes``: for 2-D mixtures, the mixture's modes (``Modes``); for images of stacked digits, ``DigitModes``:
    ``gantool eval`` scores samples against them.
    ``labels``: the class of each training sample, integers (N,) in [0, len(classes)), for a tensor ``train``;
    a map-style Dataset yields (x, y) pairs instead. ``classes``: the class names, in label order. A dataset
    with classes can train a conditional GAN (``--conditional``); an unconditional run ignores them.
    """

    train: Any
    held_out: Any | Callable[[], Any] | None = None
    modes: Modes | DigitModes | None = None
    labels: Any | None = None
    classes: Sequence[str] | None = None

    def held_out_samples(self) -> Any | None:
        """The held-out samples, computed now if the factory gave a function."""
        return self.held_out() if callable(self.held_out) else self.held_out

    @property
    def labelled(self) -> bool:
        return bool(self.classes)


def as_data(made: Any) -> Data:
    """Whatever a dataset factory returned, as ``Data``: a bare tensor or Dataset is the training data alone."""
    return made if isinstance(made, Data) else Data(train=made)
