"""``gantool plugins new``: the package it writes installs with pip, passes its own tests and trains."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gantool.core.errors import GantoolError
from gantool.plugins.scaffold import MAX_NAME_LENGTH, NAME_PATTERN, new_plugin, package_files, plugin_names
from gantool.store import tensors as ckpt
from tests.conftest import make_distribution, run_cli


def with_site(site: Path) -> dict[str, str]:
    """The environment of a process that sees the packages installed into ``site``."""
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


@pytest.mark.slow  # a pip build and install of the scaffolded package
def test_scaffolded_plugin_installs_passes_its_own_tests_and_trains(tmp_path, site, site_env):
    proc = run_cli("plugins", "new", "tiny-gan", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    package = tmp_path / "gantool-tiny-gan"
    assert "pip install -e gantool-tiny-gan" in proc.stdout and "gantool train --gen tiny-gan" in proc.stdout
    # a real pip install of the package as written: wheel built by setuptools, entry point in its dist-info
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--disable-pip-version-check"]
    proc = subprocess.run([*pip, "--target", str(site), str(package)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entry_points = (site / "gantool_tiny_gan-0.1.0.dist-info" / "entry_points.txt").read_text()
    assert entry_points.split() == ["[gantool]", "tiny-gan", "=", "gantool_tiny_gan"]
    # the package's own tests, run as its author would
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    proc = subprocess.run(pytest, cwd=package, env=with_site(site), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "5 passed" in proc.stdout
    # gantool lists it and trains with it
    proc = run_cli("plugins", "--json", env=site_env)
    assert proc.returncode == 0, proc.stderr
    plugin = {p["name"]: p for p in json.loads(proc.stdout)}["gantool-tiny-gan"]
    assert plugin["errors"] == [] and plugin["source"] == "entry point tiny-gan = gantool_tiny_gan"
    assert plugin["components"] == [["generator", "tiny-gan"], ["discriminator", "tiny-gan"]]
    proc = run_cli(
        *("train", "--gen", "tiny-gan", "--gen-opt", "hidden=32", "--data", "ring", "--data-opt", "n=256"),
        *("--steps", "3", "--batch-size", "32", "--device", "cpu", "--run-dir", "run"),
        cwd=tmp_path,
        env=site_env,
    )
    assert proc.returncode == 0, proc.stderr
    for network in ("G", "D"):
        assert ckpt.read_metadata(tmp_path / "run" / f"{network}.safetensors")["component"] == "tiny-gan"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Tiny", "plugin name 'Tiny' is not allowed: use lowercase letters"),
        ("tiny_gan", "is not allowed"),
        ("1gan", "is not allowed"),
        ("tiny--gan", "is not allowed"),
        ("tiny-", "is not allowed"),
        ("a" * (MAX_NAME_LENGTH + 1), "at most 40 characters"),
        ("gantool-tiny", "gantool plugins new tiny"),
        ("mlp", "generator 'mlp' already comes from gantool.plugins.builtin.models: pick another name"),
        ("test-linear", "already comes from gantool-testplugin"),
    ],
)
def test_bad_names_are_refused_in_one_line(tmp_path, name, message):
    proc = run_cli("plugins", "new", name, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_an_existing_folder_is_left_alone(tmp_path):
    (tmp_path / "gantool-tiny-gan").mkdir()
    (tmp_path / "gantool-tiny-gan" / "mine.txt").write_text("keep")
    proc = run_cli("plugins", "new", "tiny-gan", cwd=tmp_path)
    assert proc.returncode == 2 and "gantool-tiny-gan already exists" in proc.stderr
    assert [p.name for p in (tmp_path / "gantool-tiny-gan").iterdir()] == ["mine.txt"]
    (tmp_path / "afile").write_text("")
    proc = run_cli("plugins", "new", "tiny-gan", "--dir", "afile", cwd=tmp_path)
    assert proc.returncode == 2 and "afile is a file, not a folder" in proc.stderr


def test_dir_is_created_when_missing(tmp_path):
    target = new_plugin("tiny-gan", tmp_path / "plugins" / "mine")
    assert target == tmp_path / "plugins" / "mine" / "gantool-tiny-gan"
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        ".gitignore",
        "README.md",
        "gantool_tiny_gan/__init__.py",
        "pyproject.toml",
        "tests/test_gantool_tiny_gan.py",
    ]


valid_names = st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda n: len(n) <= MAX_NAME_LENGTH and not n.startswith("gantool"))


@given(valid_names)
def test_every_valid_name_gives_importable_names_and_complete_files(name):
    names = plugin_names(name)
    assert names.module.isidentifier() and names.distribution == f"gantool-{name}"
    files = package_files(names)
    assert f"{names.module}/__init__.py" in files
    assert all("$" not in text for text in files.values())  # every placeholder filled
    assert f'{name} = "{names.module}"' in files["pyproject.toml"]
    compile(files[f"{names.module}/__init__.py"], "module", "exec")
    compile(files[f"tests/test_{names.module}.py"], "test", "exec")
    zoo = package_files(names, models=True)
    assert (
        all("$" not in text for text in zoo.values()) and f'register("{name}", HERE / "{name}.onnx")' in zoo[f"{names.module}/__init__.py"]
    )
    compile(zoo[f"{names.module}/__init__.py"], "module", "exec")
    compile(zoo[f"tests/test_{names.module}.py"], "test", "exec")


@given(st.text(max_size=50).filter(lambda n: not NAME_PATTERN.fullmatch(n) or len(n) > MAX_NAME_LENGTH))
def test_every_other_name_is_refused(name):
    with pytest.raises(GantoolError):
        plugin_names(name)


@pytest.mark.slow  # a pip build and install of the scaffolded package
def test_scaffolded_model_zoo_installs_lists_and_samples_its_model(tmp_path, site, site_env, ring_export):
    """`plugins new --models`, a real export copied in as its README says, pip installed as written: gantool lists and samples it."""
    proc = run_cli("plugins", "new", "tiny-zoo", "--models", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    package = tmp_path / "gantool-tiny-zoo"
    file = package / "gantool_tiny_zoo" / "tiny-zoo.onnx"
    assert f"cp RUN/G.onnx {file.relative_to(tmp_path)}" in proc.stdout and "gantool sample --model tiny-zoo" in proc.stdout
    assert "gantool_tiny_zoo/tiny-zoo.onnx" in (package / "README.md").read_text()
    shutil.copy(ring_export.onnx, file)
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--disable-pip-version-check"]
    proc = subprocess.run([*pip, "--target", str(site), str(package)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = site / "gantool_tiny_zoo" / "tiny-zoo.onnx"  # package data: the file went into the wheel
    assert installed.read_bytes() == ring_export.onnx.read_bytes()
    entry_points = (site / "gantool_tiny_zoo-0.1.0.dist-info" / "entry_points.txt").read_text()
    assert entry_points.split() == ["[gantool]", "tiny-zoo", "=", "gantool_tiny_zoo"]
    # the zoo's own tests, run as its author would
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    proc = subprocess.run(pytest, cwd=package, env=with_site(site), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "2 passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
    # gantool plugins and gantool models list it; it samples by name, as its file does
    proc = run_cli("plugins", "--json", env=site_env)
    plugin = {p["name"]: p for p in json.loads(proc.stdout)}["gantool-tiny-zoo"]
    assert plugin["errors"] == [] and plugin["components"] == [["model", "tiny-zoo"]]
    proc = run_cli("models", "--json", env=site_env)
    assert proc.returncode == 0, proc.stderr
    row = {r["name"]: r for r in json.loads(proc.stdout)}["tiny-zoo"]
    assert (row["plugin"], row["file"], row["data"], row["step"], row["error"]) == ("gantool-tiny-zoo", str(installed), "ring", 20, None)
    for out, model in (("named.npy", "tiny-zoo"), ("file.npy", str(ring_export.onnx))):
        proc = run_cli("sample", "--model", model, "-n", "16", "--seed", "2", "--out", out, cwd=tmp_path, env=site_env)
        assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "named.npy"), np.load(tmp_path / "file.npy"))


def test_model_zoo_names_are_checked_against_installed_models(tmp_path, site, site_env):
    make_distribution(site, "gantool-taken", "gantool_taken", ZOO_TAKEN)
    proc = run_cli("plugins", "new", "ring-8", "--models", cwd=tmp_path, env=site_env)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "model 'ring-8' already comes from gantool-taken: pick another name" in proc.stderr
    assert not list(tmp_path.glob("gantool-*"))
    files = package_files(plugin_names("my-zoo"), models=True)
    assert sorted(files) == [".gitignore", "README.md", "gantool_my_zoo/__init__.py", "pyproject.toml", "tests/test_gantool_my_zoo.py"]
    assert 'gantool_my_zoo = ["*.onnx"]' in files["pyproject.toml"] and 'dependencies = ["gantool>=0.1"]' in files["pyproject.toml"]
    assert 'register("my-zoo", HERE / "my-zoo.onnx")' in files["gantool_my_zoo/__init__.py"]


ZOO_TAKEN = """
from gantool import hookimpl


@hookimpl
def register_models(register):
    register("ring-8", "/nowhere/ring-8.onnx")
"""
