"""Metrics declare their figures beside their code; metrics that declare nothing still work."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gantool import Figure
from gantool.plugins.builtin import metrics
from gantool.plugins.figures import DIGITS, declared, lookup, significant_digits
from gantool.plugins.registry import Registry
from tests.conftest import make_distribution


@pytest.mark.parametrize(("options", "message"), [({"better": "best"}, "better must be one of"), ({"digits": 0}, "digits must be")])
def test_a_figure_is_held_to_its_shape(options, message):
    with pytest.raises(ValueError, match=message):
        Figure("spread", **options)
    with pytest.raises(ValueError, match="digits must be"):
        Figure("spread", digits=True)


def test_a_figure_nobody_declares_has_no_meaning_and_the_default_digits():
    figure = lookup("spread", {})
    assert (figure.meaning, figure.better, figure.digits) == ("", "none", DIGITS)


def test_every_built_in_metric_declares_the_figures_it_returns():
    registry = Registry(entry_point_group=None)
    known = declared(registry)
    assert all(getattr(c.factory, "figures", None) for c in registry.components["metric"].values())
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 2))
    returned = metrics.prdc(points, points + 0.1) | metrics.mode_statistics(points, [[0, 0]], 1)
    assert set(returned) <= set(known)
    assert {f.name for f in metrics.PrecisionRecall.figures} == {"precision", "recall", "density", "coverage"}
    assert (known["fid"].better, known["reverse_kl"].better, known["recall"].better) == ("lower", "lower", "higher")


def test_third_party_metrics_with_and_without_figures(site, monkeypatch):
    make_distribution(
        site,
        "gantool-figtest",
        "gantool_figtest",
        """
        from gantool import Figure, hookimpl

        class Spread:
            figures = (Figure("spread", "standard deviation of the samples", digits=2),)

        class Plain:
            pass

        class Odd:
            figures = "spread"

        class Again:
            figures = (Figure("fid", "another meaning"), "not a figure")

        @hookimpl
        def register_metrics(register):
            register("spread", Spread)
            register("plain", Plain)
            register("odd", Odd)
            register("again", Again)
        """,
    )
    monkeypatch.syspath_prepend(str(site))
    try:
        registry = Registry()
    finally:
        sys.modules.pop("gantool_figtest", None)  # the entry point's module, gone with its folder from the path
    assert not registry.plugins["gantool-figtest"].errors
    known = declared(registry)
    assert known["spread"] == Figure("spread", "standard deviation of the samples", "none", 2)
    assert known["fid"].meaning.startswith("Fréchet distance to the reference digits")  # the first declaration wins
    digits = significant_digits(registry)
    assert (digits("spread"), digits("fid"), digits("plain_figure")) == (2, 4, DIGITS)
