"""``gantool eval``: run the evaluator plugins that apply to a generator and collect their figures.

``EvalContext`` (``gantool.evaluation.context``) hands evaluators what they need; the report
(eval.json, the table, the log line) is ``gantool.evaluation.report``. Training's ``--eval-every`` calls
``evaluate`` too, from ``gantool.training.periodic.Evaluations``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from gantool.core.errors import GantoolError
from gantool.evaluation.classifier import ACCURACY, mnist_root_in
from gantool.evaluation.context import EvalContext
from gantool.plugins.data import DigitModes
from gantool.store.layout import EVAL

POINTS_N = 2500  # 2-D sets: the PacGAN paper's sample count
IMAGES_N = 10_000  # images: as many as the reference digits
STACKED_N = 26_000  # stacked digits: VEEGAN's and PacGAN's protocol


def default_n(data_shape: tuple[int, ...], modes: Any = None) -> int:
    """How many samples an evaluation draws unless told: the paper's 2,500 points, 26,000 images of stacked digits
    (``modes``, what the dataset declares, is ``DigitModes``), or 10,000 images."""
    if isinstance(modes, DigitModes):
        return STACKED_N
    return POINTS_N if data_shape == (2,) else IMAGES_N


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
        figures[ACCURACY.name] = round(ctx.shared["classifier"].test_accuracy, 4)
    figures["metrics"] = used
    return figures


def evaluate_path(
    path: str | Path,
    metrics: list[str] | None = None,
    n: int | None = None,
    seed: int = 0,
    ema: bool | None = None,
    mnist_root: str | None = None,
    console: Any = None,
    truncation: list[float] | None = None,
) -> tuple[dict[str, Any], Path]:
    """Evaluate a run folder or generator file; returns what eval.json holds and where it goes by default.

    ``truncation`` (PSI values) adds a row of fidelity and diversity figures per PSI (``evaluation.truncation``).
    """
    from gantool.core.version import __version__
    from gantool.evaluation.sources import open_source
    from gantool.evaluation.truncation import check_source, truncation_rows

    source = open_source(path, ema=ema)
    if truncation:
        check_source(source, truncation)
    cfg = source.config
    data_opt = cfg.get("data_opt", {}) if isinstance(cfg.get("data_opt"), dict) else {}
    ctx = EvalContext(
        source,
        n or IMAGES_N,  # until the dataset says what it is, below
        seed,
        mnist_root=mnist_root or mnist_root_in(data_opt),
        loss=cfg.get("loss", "nonsat"),
        loss_opt=cfg.get("loss_opt", {}),
        data_opt=data_opt,
        console=console,
    )
    count = ctx.n = n or default_n(source.data_shape, ctx.digit_modes())
    started = time.perf_counter()
    figures = evaluate(ctx, metrics)
    report: dict[str, Any] = {
        "generator": source.describe,
        "step": source.step,
        "data": source.data,
        "n": count,
        "seed": seed,
        "figures": figures,
    }
    if truncation:
        report["truncation"] = truncation_rows(ctx, figures, truncation, evaluate)
    report |= {"seconds": round(time.perf_counter() - started, 2), "gantool_version": __version__}
    if "classifier" in ctx.shared:
        report["classifier"] = ctx.shared["classifier"].info()
    return report, (source.run_dir or Path(".")) / EVAL
