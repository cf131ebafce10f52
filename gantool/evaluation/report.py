"""What an evaluation says to people: eval.json, the table ``gantool eval`` prints, the training log's one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
    "class_accuracy": "conditional: share of samples the classifier puts in the class asked for",
    "class_accuracy_per_class": "the same, per class asked for, 0 to 9",
    "intra_fid": "conditional: mean over classes of the Fréchet distance to that class's real digits (lower is better)",
    "intra_fid_per_class": "the same, per class, 0 to 9",
    "classifier_accuracy": "the classifier's accuracy on held-out digits",
}

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
}
SHARES = frozenset({"class_accuracy", "precision", "recall", "high_quality"})


def write_report(report: dict[str, Any], out: str | Path) -> Path:
    """Write eval.json atomically, so a reader never sees half a report."""
    from gantool.store.tensors import atomic_write

    path = Path(out)
    atomic_write(path, (json.dumps(report, indent=2) + "\n").encode())
    return path


def format_value(value: Any) -> str:
    """A figure as the table and the log show it: 4 significant digits, yes/no, "-" for undefined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return " ".join(f"{v:.2f}" if isinstance(v, float) else format_value(v) for v in value) or "-"
    return "-" if value is None else str(value)


def compact(figures: dict[str, Any]) -> list[str]:
    """The headline figures, a short phrase each, in the order the log shows them: "modes 8/8", "high quality 98.2%",
    "reverse KL 0.0028", "fid 5.8" (shares in percent, other numbers to two significant digits)."""
    phrases = []
    for key in (k for k in SUMMARY if k in figures):
        value = figures[key]
        if key == "modes_captured" and "modes_total" in figures:
            text = f"{value}/{figures['modes_total']}"
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
    for key, value in figures.items():
        if key != "metrics":
            t.add_row(key, format_value(value), DESCRIPTIONS.get(key, ""))
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
    t = Table(title=f"truncation: {report['n']:,} samples per psi, latent entries beyond psi standard deviations drawn again")
    t.add_column("psi", justify="right")
    for key in keys:
        t.add_column(key, justify="right")
    for row in rows:
        t.add_row("none" if row["psi"] is None else f"{row['psi']:.2f}", *(format_value(row.get(k)) for k in keys))
    t.caption = "each row: the figures for samples from latents truncated at psi ('none' = untruncated)"
    return t


def summary(figures: dict[str, Any]) -> str:
    """The headline figures on one line, for the training log."""
    return "  ".join(f"{k} {format_value(figures[k])}" for k in SUMMARY if k in figures) or "(no figures)"
