"""A model file's eval headline rounds each figure to the digits its metric declares."""

from __future__ import annotations

from gantool.core.runmeta import eval_headline


def test_the_headline_rounds_each_figure_to_its_own_digits():
    report = {
        "step": 20,
        "n": 500,
        "seed": 0,
        "figures": {"fid": 12.3456789, "spread": 0.123456, "classes_present": 9, "class_shares": [0.1] * 10, "metrics": ["fid"]},
        "truncation": [{"psi": 0.7, "fid": 13.98765, "spread": None}],
    }
    headline = eval_headline(report, lambda name: 2 if name == "spread" else 4)
    assert headline == {
        "step": 20,
        "n": 500,
        "seed": 0,
        "figures": {"fid": 12.35, "spread": 0.12, "classes_present": 9},
        "truncation": [{"psi": 0.7, "fid": 13.99, "spread": None}],
    }
    assert eval_headline({"figures": None}, lambda name: 4) is None
