"""The eval table and the training log read what each figure means and its digits from the metrics."""

from __future__ import annotations

import io

from rich.console import Console

from gantool.evaluation import report


def rendered(table) -> str:
    console = Console(width=240, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_the_table_shows_each_figure_with_its_declared_meaning():
    figures = {"fid": 12.3456789, "spread": 0.123456, "metrics": ["fid"]}
    text = rendered(report.table({"generator": "G", "step": 3, "n": 10, "figures": figures}))
    fid = next(line for line in text.splitlines() if " fid " in line)
    assert "12.35" in fid and "Fréchet distance to the reference digits in classifier features (lower is better)" in fid
    spread = next(line for line in text.splitlines() if " spread " in line)
    assert "0.1235" in spread and spread.rstrip(" │").endswith("0.1235")  # declared by no metric: no meaning
    assert "metrics" not in text


def test_the_log_line_and_the_classifier_figure():
    assert report.summary({"fid": 12.3456789, "recall": 0.5, "spread": 1.0}) == "fid 12.35  recall 0.5"
    assert report.figures_known()["classifier_accuracy"].meaning == "the classifier's accuracy on held-out digits"
