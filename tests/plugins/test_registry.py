"""Third-party plugins found through real entry points: the installed test plugin, and
distributions written into a temporary site directory for the failure cases."""

from __future__ import annotations

import json

import pytest

from gantool.core.errors import GantoolError
from gantool.plugins.registry import Registry, get_registry
from tests.conftest import make_distribution, run_cli


def test_installed_plugin_is_found_through_its_entry_point():
    reg = get_registry()
    plugin = reg.plugins["gantool-testplugin"]
    assert plugin.version == "0.3.1" and not plugin.errors
    assert ("loss", "test-hinge") in plugin.components
    assert reg.get("generator", "test-linear").plugin == "gantool-testplugin"


def test_builtins_register_like_plugins():
    reg = get_registry()
    assert reg.get("generator", "mlp").plugin == "gantool.plugins.builtin.models"
    assert set(reg.pm.get_plugins()) >= {reg.pm.get_plugin("gantool.plugins.builtin.models"), reg.pm.get_plugin("gantool-testplugin")}


def test_train_with_every_third_party_component(tmp_path):
    proc = run_cli(
        "train",
        "--gen",
        "test-linear",
        "--loss",
        "test-hinge",
        "--loss-opt",
        "margin=0.5",
        "--data",
        "test-line",
        "--steps",
        "20",
        "--batch-size",
        "16",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert 'component = "test-linear"' not in proc.stderr
    assert (tmp_path / "runs" / "latest" / "G.safetensors").is_file()


BROKEN_IMPORT = "raise RuntimeError('this plugin is broken on import')\n"
BROKEN_HOOK = """
from gantool import hookimpl

@hookimpl
def register_losses(register):
    raise ValueError('hook exploded')

@hookimpl
def register_datasets(register):
    register('fine-data', lambda: __import__('torch').zeros(10, 2))
"""
TYPO_HOOK = """
from gantool import hookimpl

@hookimpl
def register_generator(register):  # missing s
    pass
"""


def test_broken_plugins_are_reported_and_the_rest_keeps_working(site, site_env, tmp_path):
    make_distribution(site, "gantool-badimport", "badimport", BROKEN_IMPORT)
    make_distribution(site, "gantool-badhook", "badhook", BROKEN_HOOK)
    make_distribution(site, "gantool-typo", "typohook", TYPO_HOOK)
    proc = run_cli("plugins", "--json", env=site_env)
    assert proc.returncode == 0, proc.stderr
    errors = {p["name"]: " ".join(p["errors"]) for p in json.loads(proc.stdout)}
    assert "this plugin is broken on import" in errors["gantool-badimport"]
    assert "register_losses raised ValueError: hook exploded" in errors["gantool-badhook"]
    assert "unknown hook register_generator" in errors["gantool-typo"]
    assert errors["gantool.plugins.builtin.models"] == ""
    table = run_cli("plugins", env=site_env)
    assert table.returncode == 0 and "gantool-badimport" in table.stdout and "gantool.plugins.builtin.models" in table.stdout
    # the healthy half of a half-broken plugin still works, and so does everything else
    proc = run_cli("train", "--data", "fine-data", "--steps", "3", "--batch-size", "5", cwd=tmp_path, env=site_env)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("train", "--data", "nope", cwd=tmp_path, env=site_env)
    assert proc.returncode == 2 and "plugins with errors" in proc.stderr
    assert run_cli("--help", env=site_env).returncode == 0


CLASH = """
from gantool import hookimpl

@hookimpl
def register_generators(register):
    register('mlp', lambda latent_dim, data_shape: None)
"""


def test_name_clashes_name_both_plugins(site, site_env, tmp_path):
    make_distribution(site, "gantool-clash", "clash", CLASH)
    proc = run_cli("train", "--steps", "1", cwd=tmp_path, env=site_env)
    assert proc.returncode == 2
    assert "generator 'mlp' is registered by both gantool.plugins.builtin.models and gantool-clash" in proc.stderr
    proc = run_cli("plugins", "--json", env=site_env)
    errors = {p["name"]: p["errors"] for p in json.loads(proc.stdout)}
    assert (
        errors["gantool-clash"]
        == errors["gantool.plugins.builtin.models"]
        == ["generator 'mlp' is registered by both gantool.plugins.builtin.models and gantool-clash"]
    )


def test_registry_without_entry_points_has_only_builtins():
    reg = Registry(entry_point_group=None)
    assert set(reg.plugins) == {
        "gantool.plugins.builtin.models",
        "gantool.plugins.builtin.losses",
        "gantool.plugins.builtin.datasets",
        "gantool.plugins.builtin.metrics",
        "gantool.plugins.builtin.stacked",
        "gantool.plugins.builtin.augmentations",
        "gantool.plugins.builtin.pretrained",
    }
    with pytest.raises(GantoolError, match="unknown generator 'test-linear'"):
        reg.get("generator", "test-linear")
