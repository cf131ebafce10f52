"""``gantool eval --truncation 1.0,0.7,0.5``: how fidelity and diversity move with the truncation trick.

Each PSI gets the same n samples from the same seed, their latents truncated at PSI standard
deviations by ``core.latents.draw`` (what 'gantool sample --truncation' feeds the generator), and
the fidelity and diversity figures that apply: Fréchet distance, precision and recall (and density,
coverage) for images, class accuracy for conditional digits, high quality and modes for 2-D
mixtures. The untruncated row comes first, from the evaluation's own figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gantool.core.errors import GantoolError
from gantool.core.latents import check_truncation
from gantool.evaluation.context import EvalContext
from gantool.evaluation.sources import SampleSource
from gantool.store.layout import ONNX

METRICS = ("fid", "prdc", "class-accuracy", "modes")  # the metrics each PSI row runs, where they apply
FIGURES = (
    "fid",
    "precision",
    "recall",
    "density",
    "coverage",
    "class_accuracy",
    "high_quality",
    "modes_captured",
    "reverse_kl",
)


def parse_psis(text: str) -> list[float]:
    """``"1.0,0.7,0.5"`` as PSI values, each in (0, 1], in the order given, without repeats; a one-line error otherwise."""
    psis: list[float] = []
    for item in (part.strip() for part in text.split(",")):
        try:
            psi = float(item)
        except ValueError:
            raise GantoolError(f"--truncation takes PSI values in (0, 1] separated by commas, like 1.0,0.7,0.5; got {text!r}") from None
        check_truncation(psi, "normal")
        if psi not in psis:
            psis.append(psi)
    return psis


def check_source(source: SampleSource, psis: list[float]) -> None:
    """Refuse, before any sample is drawn, a generator the truncation trick does not apply to."""
    if source.truncated is None or source.prior is None:
        raise GantoolError(f"{source.describe} cannot draw truncated latents: evaluate a run folder, G*.safetensors or {ONNX}")
    for psi in psis:
        check_truncation(psi, source.prior)


def truncation_rows(
    ctx: EvalContext, figures: dict[str, Any], psis: list[float], evaluate: Callable[[EvalContext, list[str]], dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per PSI (``psi`` None first: no truncation) of the fidelity and diversity figures that apply;
    ``evaluate`` is the runner's, handed in so this module does not import the one that imports it."""
    from gantool.plugins.registry import get_registry

    registry = get_registry()
    metrics = [m for m in METRICS if m in registry.components["metric"] and registry.create("metric", m).supports(ctx)]
    if not metrics:
        raise GantoolError(
            f"no fidelity or diversity metric ({', '.join(METRICS)}) applies to {ctx.source.describe}: leave out --truncation"
        )
    base = figures if set(metrics) <= set(figures.get("metrics", [])) else evaluate(ctx, metrics)
    rows = [{"psi": None, **pick(base)}]
    source = ctx.source
    assert source.truncated is not None  # check_source said so
    for psi in psis:
        narrowed = replace(source, draw=source.truncated(psi), describe=f"{source.describe} at psi {psi}")
        sub = EvalContext(narrowed, ctx.n, ctx.seed, ctx.mnist_root, ctx.loss, ctx.loss_opt, ctx.data_opt, ctx.console, ctx.shared)
        rows.append({"psi": psi, **pick(evaluate(sub, metrics))})
    return rows


def pick(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: figures[k] for k in FIGURES if k in figures}
