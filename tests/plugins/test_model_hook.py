"""register_models: a kind like the others, its entries paths rather than factories."""

from __future__ import annotations

from pathlib import Path

from gantool.plugins.registry import HOOKS, KINDS, Registry
from tests.conftest import make_distribution

SOURCE = """
from gantool import hookimpl


@hookimpl
def register_models(register):
    register("a", "/nowhere/a.onnx")


@hookimpl
def register_generators(register):
    register("zoo-gen", lambda latent_dim, data_shape: None)
"""


def test_model_is_a_kind_with_its_hook():
    assert HOOKS["register_models"] == "model" and "model" in KINDS
    assert Registry(entry_point_group=None).names("model") == []  # gantool ships none yet


def test_a_plugin_registers_models_by_path(tmp_path, monkeypatch):
    make_distribution(tmp_path, "gantool-pathzoo", "gantool_pathzoo", SOURCE)
    make_distribution(tmp_path, "gantool-pathzoo2", "gantool_pathzoo2", SOURCE.replace('"zoo-gen"', '"zoo-gen2"'))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    component = registry.components["model"]["a"]
    both = ["gantool-pathzoo", "gantool-pathzoo2"]
    assert component.factory == Path("/nowhere/a.onnx") and component.plugin in both
    assert ("model", "a") in registry.plugins[component.plugin].components
    assert sorted(registry.clashes[("model", "a")]) == both  # a clash, as for any kind, reported on both
    assert all("model 'a' is registered by both" in registry.plugins[name].errors[0] for name in both)
    assert "zoo-gen" in registry.names("generator") and "zoo-gen2" in registry.names("generator")
