"""What an evaluation says to people: eval.json, the table ``gantool eval`` prints, the training log's one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gantool.evaluation.classifier import ACCURACY
from gantool.plugins.figures import DIGITS, Figure, declared, lookup

# The headline figures, in the order the training log shows them.
SUMMARY = (
    "fid",
    "class_accuracy",
    "intra_fid",
    "inception_score",
    "precision",
    "recall",
    "classes_present",
    "modes_captured",
    "high_quality",
    "reverse_kl",
    "stacked_modes",
    "stacked_reverse_kl",
    "confident_channels",
)

# The headline figures as a short phrase each, for ``gantool models``: a label, and whether the figure is a share (in %).
SHORT = {
    "fid": "fid",
    "class_accuracy": "class accuracy",
    "intra_fid": "intra-class fid",
    "inception_score": "inception score",
    "precision": "precision",
    "recall": "recall",
    "classes_present": "classes present",
    "modes_captured": "modes",
    "high_quality": "high quality",
    "reverse_kl": "reverse KL",
    "stacked_modes": "modes",
    "stacked_reverse_kl": "reverse KL",
    "confident_channels": "confident channels",
}
SHARES = frozenset({"class_accuracy", "precision", "recall", "high_quality", "confident_channels"})
TOTALS = {"modes_captured": "modes_total", "stacked_modes": "stacked_modes_total"}  # "8/8", "1000/1000"


def write_report(report: dict[str, Any], out: str | Path) -> Path:
    """Write eval.json atomically, so a reader never sees half a report."""
    from gantool.store.tensors import atomic_write

    path = Path(out)
    atomic_write(path, (json.dumps(report, indent=2) + "\n").encode())
    return path


def figures_known() -> dict[str, Figure]:
    """What each figure is, as the metrics declare it, with the classifier's accuracy that every image evaluation adds."""
    return {**declared(), ACCURACY.name: ACCURACY}


def format_value(value: Any, digits: int = DIGITS) -> str:
    """A figure as the table and the log show it: its significant digits (4 unless declared), yes/no, "-" for undefined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, list):
        return " ".join(f"{v:.2f}" if isinstance(v, float) else format_value(v) for v in value) or "-"
    return "-" if value is None else str(value)


def compact(figures: dict[str, Any]) -> list[str]:
    """The headline figures, a short phrase each, in the order the log shows them: "modes 8/8", "high quality 98.2%",
    "reverse KL 0.0028", "fid 5.8" (shares in percent, other numbers to two significant digits)."""
    phrases = []
    for key in (k for k in SUMMARY if k in figures):
        value = figures[key]
        if TOTALS.get(key) in figures:
            text = f"{value}/{figures[TOTALS[key]]}"
        elif isinstance(value, float):
            text = f"{value:.1%}" if key in SHARES else f"{value:,.0f}" if abs(value) >= 100 else f"{value:#.2g}".rstrip(".")
        else:
            text = format_value(value)
        phrases.append(f"{SHORT[key]} {text}")
    return phrases


def table(report: dict[str, Any]) -> Any:
    """A rich Table of the figures with what each means, captioned with the classifier that judged them."""
    from rich.table import Table

    figures = report["figures"]
    title = f"{report['generator']} (step {report['step']}, {report['n']:,} samples)"
    t = Table(title=title)
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_column("meaning", overflow="fold")
    known = figures_known()
    for key, value in figures.items():
        if key != "metrics":
            figure = lookup(key, known)
            t.add_row(key, format_value(value, figure.digits), figure.meaning)
    if "classifier" in report:
        c = report["classifier"]
        trained = f"{c['trained_on']} (v{c['version']}, test accuracy {c['test_accuracy']:.2%})"
        t.caption = f"image figures use gantool's digit classifier trained on {trained}"
    return t


def truncation_table(report: dict[str, Any]) -> Any:
    """A rich Table of ``eval --truncation``'s rows: a row per PSI, a column per figure."""
    from rich.table import Table

    rows = report["truncation"]
    keys = [k for k in dict.fromkeys(k for row in rows for k in row) if k != "psi"]
    known = figures_known()
    t = Table(title=f"truncation: {report['n']:,} samples per psi, latent entries beyond psi standard deviations drawn again")
    t.add_column("psi", justify="right")
    for key in keys:
        t.add_column(key, justify="right")
    for row in rows:
        t.add_row("none" if row["psi"] is None else f"{row['psi']:.2f}", *(format_value(row.get(k), lookup(k, known).digits) for k in keys))
    t.caption = "each row: the figures for samples from latents truncated at psi ('none' = untruncated)"
    return t


def summary(figures: dict[str, Any]) -> str:
    """The headline figures on one line, for the training log."""
    known = figures_known()
    return "  ".join(f"{k} {format_value(figures[k], lookup(k, known).digits)}" for k in SUMMARY if k in figures) or "(no figures)"
