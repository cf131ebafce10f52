"""Shared helpers: the real ``gantool`` executable, real files, real plugin distributions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
GANTOOL = str(BIN / "gantool")
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data"


def run_cli(
    *args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script, as a user would."""
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    if env and "PYTHONPATH" in env and os.environ.get("PYTHONPATH"):  # keep the caller's path after the test's own
        full_env["PYTHONPATH"] = env["PYTHONPATH"] + os.pathsep + os.environ["PYTHONPATH"]
    return subprocess.run([GANTOOL, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def make_distribution(site: Path, name: str, module: str, source: str, version: str = "1.0", ep_name: str | None = None) -> None:
    """Write a real installed distribution (dist-info with an entry point) into ``site``.

    importlib.metadata finds it on PYTHONPATH exactly as it finds a pip-installed
    package; nothing about entry-point discovery is faked.
    """
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[gantool]\n{ep_name or module} = {module}\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def site_env(site: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(site)}


@pytest.fixture
def mnist_root() -> Path:
    if not (SHARED_MNIST / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
        pytest.skip("real MNIST is not in ../shared/data on this machine")
    return SHARED_MNIST
