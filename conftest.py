"""The two tiers of the test suite, for tests/ and plugins/*/tests alike.

``pytest`` runs the fast tier: every behaviour that can be checked in-process or in a few
seconds, with hypothesis derandomized (the same examples every run). ``pytest --full``
(``nox -s tests-full``) adds the tests marked ``slow``, the whole-system checks (torchrun, kill -9,
pip builds, torch.compile, long training), and lets hypothesis explore with random seeds,
printing a failing example's reproduction blob so it can become a fixed ``@example``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent
# Tests never touch the user's cache: the digit classifier they train is kept here, beside the checkout.
os.environ.setdefault("GANTOOL_CACHE", str(ROOT / ".test-cache"))
# Output as a 200-column, colourless terminal shows it, in-process (tests/conftest.py's run_cli) and in subprocesses alike.
os.environ.setdefault("COLUMNS", "200")
os.environ.setdefault("NO_COLOR", "1")

settings.register_profile("fast", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("full", derandomize=False, print_blob=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", help="run the slow tier too, and let hypothesis explore with random seeds")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a whole-system check, run by --full (nox -s tests-full) only; say why beside it")
    settings.load_profile("full" if config.getoption("--full") else "fast")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--full"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
        config.hook.pytest_deselected(items=slow)


def pytest_report_header(config: pytest.Config) -> str:
    tier = "full (fast + slow, hypothesis random)" if config.getoption("--full") else "fast (slow deselected; --full adds them)"
    return f"gantool test tier: {tier}"
