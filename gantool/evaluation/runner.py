"""``gantool eval``: numbers to compare generators by, from evaluator plugins.

An ``EvalContext`` hands evaluators what they need, each piece made once and
only when asked for: the generated samples, held-out real data, the digit
classifier's features, the run's discriminator, the modes of a 2-D mixture.
The same context serves ``gantool eval`` and ``gantool train --eval-every``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gantool.core.errors import GantoolError
from gantool.evaluation.sources import SampleSource

POINTS_N = 2500  # 2-D sets: the PacGAN paper's sample count
IMAGES_N = 10_000  # images: as many as the reference digits
MIXTURES = ("ring", "grid")

# What each built-in figure means, for the table.
DESCRIPTIONS = {
    "fid": "Fréchet distance to the reference digits in classifier features (lower is better)",
    "inception_score": "Inception-style score from classifier posteriors (higher is better, at most 10)",
    "inception_score_real": "the same score for the reference digits",
    "precision": "share of samples inside the real data's k-NN balls",
    "recall": "share of real data inside the samples' k-NN balls",
    "density": "real k-NN balls holding a sample, on average, over k (about 1 when alike)",
    "coverage": "share of real points whose ball holds a sample",
    "classes_present": "digits with at least a tenth of their fair share",
    "classes_missing": "digits the generator leaves out",
    "class_shares": "share of samples per digit, 0 to 9",
    "d_accuracy_real": "D calls held-out real data real",
    "d_accuracy_fake": "D calls fresh samples fake",
    "d_real_held_out": "the real data above was not trained on",
    "modes_captured": "modes nearest to at least one high-quality sample",
    "modes_total": "modes of the mixture",
    "high_quality": "samples within 3 standard deviations of a mode",
    "reverse_kl": "KL(sample mode histogram || true one) (lower is better)",
    "classifier_accuracy": "the classifier's accuracy on held-out digits",
}


def default_n(data_shape: tuple[int, ...]) -> int:
    return POINTS_N if data_shape == (2,) else IMAGES_N


def mnist_root_for(data: str, data_opt: dict[str, Any]) -> str | None:
    """Where an MNIST run's training set is, when its files are there: the classifier then trains on it."""
    from gantool.core.paths import cache_dir

    if data != "mnist":
        return None
    root = Path(str(data_opt.get("root") or cache_dir("datasets"))).expanduser()
    return str(root) if (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file() else None


@dataclass
class EvalContext:
    """What evaluators see. ``shared`` carries costly pieces (classifier, real features) between evaluations."""

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

    @property
    def data(self) -> str:
        return self.source.data

    @property
    def data_shape(self) -> tuple[int, ...]:
        return self.source.data_shape

    def samples(self) -> np.ndarray:
        """The n generated samples every metric shares, (n, *data_shape) in [-1, 1]."""
        if self._samples is None:
            self._samples = np.asarray(self.source.draw(self.n, self.seed), dtype=np.float32)
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

    # --- real data the generator was not trained on, for the discriminator check ----------------

    def real(self) -> tuple[np.ndarray, bool]:
        """Real data in [-1, 1] and whether it was held out from training."""
        if "real" not in self.shared:
            self.shared["real"] = self._real()
        return self.shared["real"]

    def _real(self) -> tuple[np.ndarray, bool]:
        from gantool.plugins.builtin.datasets import load_digits
        from gantool.evaluation.classifier import mnist_train, to_unit

        if self.data == "mnist":  # trained on MNIST's training split: its test split is held out
            return to_unit(load_digits()[0]), True
        if self.data == "digits":  # trained on the embedded test split: MNIST's training split is held out
            return (to_unit(mnist_train(self.mnist_root)[0][: self.n]), True) if self.mnist_root else (to_unit(load_digits()[0]), False)
        if self.data in MIXTURES:
            from gantool.plugins.builtin import datasets

            seed = int(self.data_opt.get("seed", 0)) + 1  # a fresh draw of the same mixture
            return getattr(datasets, self.data)(n=self.n, seed=seed).numpy(), True
        from gantool.plugins.registry import get_registry

        data = get_registry().create("dataset", self.data, **self.data_opt)
        x = data[: self.n] if hasattr(data, "numpy") else np.stack([np.asarray(data[i]) for i in range(min(self.n, len(data)))])
        x = np.asarray(x)
        return (x.astype(np.float32) / 127.5 - 1.0 if x.dtype == np.uint8 else x.astype(np.float32)), False

    def discriminator(self) -> Any:
        """The run's D, or None for a generator without one (an ONNX file)."""
        if "D" not in self.shared:
            from gantool.evaluation.sources import load_discriminator

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

    def modes(self) -> tuple[list[tuple[float, float]], float] | None:
        """Means and standard deviation of the ring or grid mixture, None for other data."""
        from gantool.plugins.builtin import datasets

        if self.data not in MIXTURES or self.data_shape != (2,):
            return None
        return datasets.ring_modes() if self.data == "ring" else datasets.grid_modes()


def check_figures(name: str, figures: Any) -> dict[str, Any]:
    """Hold evaluator plugins to the contract: a dict of str to number, bool, None or list of numbers."""

    def ok(v: Any) -> bool:
        if isinstance(v, list):
            return all(ok(x) for x in v)
        return v is None or isinstance(v, bool | int | float | str)

    if not isinstance(figures, dict) or not all(isinstance(k, str) for k in figures) or not all(ok(v) for v in figures.values()):
        raise GantoolError(f"metric {name!r} returned {type(figures).__name__}; evaluators must return a dict of names to numbers")
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in figures.items()}


def evaluate(ctx: EvalContext, metrics: list[str] | None = None) -> dict[str, Any]:
    """Run the named metrics (default: every metric that applies) and return their figures, flat."""
    from gantool.plugins.registry import get_registry

    registry = get_registry()
    names = metrics or list(registry.components["metric"])  # registration order: built-ins first
    figures: dict[str, Any] = {}
    used = []
    for name in names:
        evaluator = registry.create("metric", name)
        if not evaluator.supports(ctx):
            if metrics:
                fits = [m for m in registry.names("metric") if registry.create("metric", m).supports(ctx)]
                raise GantoolError(
                    f"metric {name!r} does not apply to {ctx.source.describe} ({ctx.data} data, shape {ctx.data_shape}); "
                    f"metrics that do: {', '.join(fits) or 'none'}"
                )
            continue
        try:
            result = check_figures(name, evaluator.evaluate(ctx))
        except GantoolError:
            raise
        except Exception as exc:
            owner = registry.get("metric", name).plugin
            raise GantoolError(f"metric {name!r} (from {owner}) failed: {type(exc).__name__}: {exc}") from exc
        figures.update(result)
        used.append(name)
    if "classifier" in ctx.shared:
        figures["classifier_accuracy"] = round(ctx.shared["classifier"].test_accuracy, 4)
    figures["metrics"] = used
    return figures


def evaluate_path(
    path: str | Path,
    metrics: list[str] | None = None,
    n: int | None = None,
    seed: int = 0,
    ema: bool = True,
    mnist_root: str | None = None,
    console: Any = None,
) -> tuple[dict[str, Any], Path]:
    """Evaluate a run folder or generator file; returns what eval.json holds and where it goes by default."""
    from gantool.core.version import __version__
    from gantool.evaluation.sources import open_source

    source = open_source(path, ema=ema)
    cfg = source.config
    data_opt = cfg.get("data_opt", {}) if isinstance(cfg.get("data_opt"), dict) else {}
    count = n or default_n(source.data_shape)
    ctx = EvalContext(
        source,
        count,
        seed,
        mnist_root=mnist_root or mnist_root_for(source.data, data_opt),
        loss=cfg.get("loss", "nonsat"),
        loss_opt=cfg.get("loss_opt", {}),
        data_opt=data_opt,
        console=console,
    )
    started = time.perf_counter()
    figures = evaluate(ctx, metrics)
    report: dict[str, Any] = {
        "generator": source.describe,
        "step": source.step,
        "data": source.data,
        "n": count,
        "seed": seed,
        "figures": figures,
        "seconds": round(time.perf_counter() - started, 2),
        "gantool_version": __version__,
    }
    if "classifier" in ctx.shared:
        report["classifier"] = ctx.shared["classifier"].info()
    return report, (source.run_dir or Path(".")) / "eval.json"


def write_report(report: dict[str, Any], out: str | Path) -> Path:
    from gantool.store.tensors import atomic_write

    path = Path(out)
    atomic_write(path, (json.dumps(report, indent=2) + "\n").encode())
    return path


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return " ".join(f"{v:.2f}" if isinstance(v, float) else format_value(v) for v in value) or "-"
    return "-" if value is None else str(value)


def table(report: dict[str, Any]) -> Any:
    from rich.table import Table

    figures = report["figures"]
    title = f"{report['generator']} (step {report['step']}, {report['n']:,} samples)"
    t = Table(title=title)
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_column("meaning", overflow="fold")
    for key, value in figures.items():
        if key != "metrics":
            t.add_row(key, format_value(value), DESCRIPTIONS.get(key, ""))
    if "classifier" in report:
        c = report["classifier"]
        trained = f"{c['trained_on']} (v{c['version']}, test accuracy {c['test_accuracy']:.2%})"
        t.caption = f"image figures use gantool's digit classifier trained on {trained}"
    return t


SUMMARY = ("fid", "inception_score", "precision", "recall", "classes_present", "modes_captured", "high_quality", "reverse_kl")


def summary(figures: dict[str, Any]) -> str:
    """The headline figures on one line, for the training log."""
    return "  ".join(f"{k} {format_value(figures[k])}" for k in SUMMARY if k in figures) or "(no figures)"


class TrainingEval:
    """``--eval-every``: evaluates the generator being trained, keeping the classifier and real features between calls."""

    def __init__(self, cfg: Any, data_shape: tuple[int, ...], D: Any, console: Any = None) -> None:
        self.cfg, self.data_shape, self.D, self.console = cfg, tuple(data_shape), D, console
        self.shared: dict[str, Any] = {"D": D}
        self.n = cfg.eval_n or default_n(self.data_shape)

    def __call__(self, G: Any, step: int) -> dict[str, Any]:
        import torch

        from gantool.evaluation.sources import module_source

        cfg = self.cfg
        source = module_source(G, cfg.latent_dim, cfg.latent, cfg.data, self.data_shape, f"step {step}", step=step)
        ctx = EvalContext(
            source,
            self.n,
            seed=cfg.seed,  # the same latents every time: figures over training are comparable
            mnist_root=mnist_root_for(cfg.data, cfg.data_opt),
            loss=cfg.loss,
            loss_opt=cfg.loss_opt,
            data_opt=cfg.data_opt,
            console=self.console,
            shared=self.shared,
        )
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
        was_training = self.D.training
        self.D.eval()  # no dropout while judging
        try:
            with torch.random.fork_rng(devices=devices):  # training's random streams stay as they were: resume stays exact
                figures = evaluate(ctx, cfg.eval_metrics)
        finally:
            self.D.train(was_training)
        figures.pop("metrics")
        return figures
