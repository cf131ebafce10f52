"""What an evaluator sees: ``EvalContext`` hands it each piece it asks for, made once and only then.

The generated samples, held-out real data, the digit classifier's features, the run's
discriminator and the modes of a 2-D mixture. Real data and modes come from the run's dataset
plugin through ``gantool.plugins.data.Data``, so nothing here knows a dataset by name.
The same context serves ``gantool eval`` and ``gantool train --eval-every``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gantool.core.errors import GantoolError
from gantool.evaluation.sources import SampleSource
from gantool.plugins.data import Data, DigitModes, Modes, as_data


def unit_samples(data: Any, n: int) -> np.ndarray:
    """The first ``n`` samples of a tensor, array or map-style Dataset as float32 numpy in [-1, 1] (uint8 pixels rescaled)."""
    if hasattr(data, "shape"):
        part = data[:n]
        x = np.asarray(part.cpu() if hasattr(part, "cpu") else part)
    else:
        x = np.stack([np.asarray(data[i]) for i in range(min(n, len(data)))])
    return x.astype(np.float32) / 127.5 - 1.0 if x.dtype == np.uint8 else x.astype(np.float32, copy=False)


@dataclass
class EvalContext:
    """What evaluators see. ``shared`` carries costly pieces (classifier, real data, D) between evaluations."""

    source: SampleSource
    n: int
    seed: int = 0
    mnist_root: str | None = None
    loss: str = "nonsat"
    loss_opt: dict[str, Any] = field(default_factory=dict)
    data_opt: dict[str, Any] = field(default_factory=dict)
    console: Any = None
    shared: dict[str, Any] = field(default_factory=dict)
    _samples: np.ndarray | None = None
    _fake: tuple[np.ndarray, np.ndarray] | None = None
    _dataset: Data | None = None

    @property
    def data(self) -> str:
        """The name of the dataset the generator was trained on (for messages and eval.json only)."""
        return self.source.data

    @property
    def data_shape(self) -> tuple[int, ...]:
        return self.source.data_shape

    @property
    def conditional(self) -> bool:
        return self.source.classes is not None

    def labels(self) -> np.ndarray | None:
        """The labels the shared samples were drawn for (uniform over the classes); None for an unconditional generator."""
        return self.source.labels(self.n, self.seed)

    def samples_of(self, label: int, n: int) -> np.ndarray:
        """``n`` samples of one class of a conditional generator (from latents of their own)."""
        return np.asarray(self.source.draw(n, self.seed + 1 + label, np.full(n, label, dtype=np.int64)), dtype=np.float32)

    def samples(self) -> np.ndarray:
        """The n generated samples every metric shares, (n, *data_shape) in [-1, 1]."""
        if self._samples is None:
            labels = self.labels()  # an unconditional source is called draw(n, seed), as before labels existed
            drawn = self.source.draw(self.n, self.seed) if labels is None else self.source.draw(self.n, self.seed, labels)
            self._samples = np.asarray(drawn, dtype=np.float32)
            if self._samples.shape != (self.n, *self.data_shape):
                raise GantoolError(f"{self.source.describe} gave samples shaped {self._samples.shape}, not {(self.n, *self.data_shape)}")
        return self._samples

    # --- images: the digit classifier and its view of samples and reference ---------------------

    @property
    def has_classifier(self) -> bool:
        from gantool.evaluation.classifier import DIGIT_SHAPE

        return self.data_shape == DIGIT_SHAPE

    def classifier(self) -> Any:
        from gantool.evaluation.classifier import load_classifier

        if "classifier" not in self.shared:
            self.shared["classifier"] = load_classifier(self.mnist_root, self.console)
        return self.shared["classifier"]

    def embedded(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """Classifier features and posteriors of the samples ("fake") or of the 10,000 reference digits ("real")."""
        if which == "fake":
            if self._fake is None:
                self._fake = self.classifier().embed(self.samples())
            return self._fake
        if "reference" not in self.shared:
            from gantool.plugins.builtin.datasets import load_digits

            self.shared["reference"] = self.classifier().embed(load_digits()[0])
        return self.shared["reference"]

    def reference_labels(self) -> np.ndarray:
        """The digit of each reference image: the classifier's reference set is MNIST's labelled test split."""
        if "reference_labels" not in self.shared:
            from gantool.plugins.builtin.datasets import load_digits

            self.shared["reference_labels"] = np.asarray(load_digits()[1], dtype=np.int64)
        return self.shared["reference_labels"]

    # --- the run's dataset, through the plugin contract ----------------------------------------

    def dataset(self) -> Data:
        """The run's dataset as its plugin describes it, rebuilt from the run's options (once per context)."""
        if self._dataset is None:
            from gantool.plugins.registry import get_registry

            self._dataset = as_data(get_registry().create("dataset", self.data, **self.data_opt))
        return self._dataset

    def real(self) -> tuple[np.ndarray, bool]:
        """Real data in [-1, 1] and whether it was held out from training."""
        if "real" not in self.shared:
            self.shared["real"] = self._real()
        return self.shared["real"]

    def _real(self) -> tuple[np.ndarray, bool]:
        from gantool.evaluation.classifier import DIGIT_SHAPE, mnist_train

        data = self.dataset()
        held_out = data.held_out_samples()
        if held_out is not None:
            real, flag = unit_samples(held_out, self.n), True
        elif self.mnist_root and self.data_shape == DIGIT_SHAPE:  # digits without a held-out set of their own: MNIST's training split
            real, flag = unit_samples(mnist_train(self.mnist_root)[0][:, None], self.n), True
        else:  # nothing held out: the training data itself, said so
            real, flag = unit_samples(data.train, self.n), False
        if real.shape[1:] != self.data_shape:
            raise GantoolError(
                f"dataset {self.data!r} gave real data shaped {real.shape[1:]}, but the generator makes {self.data_shape}: "
                "its held-out data must have the training data's shape"
            )
        return real, flag

    def discriminator(self) -> Any:
        """The run's D, or None for a generator without one (an ONNX file)."""
        if "D" not in self.shared:
            from gantool.inference.loading import load_discriminator

            run_dir = self.source.run_dir
            self.shared["D"] = load_discriminator(run_dir) if run_dir is not None else None
        return self.shared["D"]

    @property
    def threshold(self) -> float:
        """D's output above this means "real": 0 for logits, or the loss's own ``threshold`` (0.5 for least squares)."""
        from gantool.plugins.registry import get_registry

        try:
            return float(getattr(get_registry().create("loss", self.loss, **self.loss_opt), "threshold", 0.0))
        except GantoolError:  # a loss plugin that is gone: logits are the contract
            return 0.0

    # --- 2-D mixtures -------------------------------------------------------------------------

    def modes(self) -> Modes | None:
        """The mixture's modes for 2-D data whose dataset declares them, else None (also when the dataset cannot be rebuilt)."""
        if self.data_shape != (2,):
            return None
        if "modes" not in self.shared:
            try:
                modes = self.dataset().modes
            except GantoolError:  # a plugin gone or an option no longer valid: the figures that need modes do not apply
                modes = None
            self.shared["modes"] = modes if modes is None else checked_modes(self.data, modes)
        return self.shared["modes"]

    # --- stacked digits ------------------------------------------------------------------------

    def digit_modes(self) -> DigitModes | None:
        """``DigitModes`` when the dataset declares its images' channels digits (Stacked MNIST) and the generator makes such
        images, several channels of 28x28; else None (also when the dataset cannot be rebuilt)."""
        from gantool.evaluation.classifier import DIGIT_SHAPE

        channels = self.data_shape[0] if len(self.data_shape) == 3 else 0
        if channels < 2 or self.data_shape[1:] != DIGIT_SHAPE[1:]:  # one channel: the digit metrics' own data
            return None
        if "digit_modes" not in self.shared:
            try:
                modes = self.dataset().modes
            except GantoolError:  # as for modes(): the figures that need them do not apply
                modes = None
            fits = isinstance(modes, DigitModes) and modes.channels == channels
            self.shared["digit_modes"] = modes if fits else None
        return self.shared["digit_modes"]


def checked_modes(data: str, modes: Any) -> Modes:
    """Hold a dataset plugin to the contract: ``Modes`` with (K, 2) means and a positive sigma."""
    try:
        means = np.asarray(modes.means, dtype=np.float64)
        sigma = float(modes.sigma)
    except (AttributeError, TypeError, ValueError) as exc:
        raise GantoolError(f"dataset {data!r} gave modes {modes!r} ({exc}): they must be gantool.Modes(means, sigma)") from None
    if means.ndim != 2 or means.shape[1] != 2 or len(means) == 0 or not sigma > 0:
        shape = f"means shaped {means.shape} and sigma {sigma}"
        raise GantoolError(f"dataset {data!r} gave modes with {shape}: they need (K, 2) means and a sigma above 0")
    return Modes(means.tolist(), sigma)
