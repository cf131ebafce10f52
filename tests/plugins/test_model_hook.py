"""register_models: a kind like the others, its entries paths rather than factories."""

from __future__ import annotations

from pathlib import Path

import gantool
from gantool.plugins.builtin import pretrained
from gantool.plugins.registry import BUILTIN_MODULES, HOOKS, KINDS, Registry
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
    assert "gantool.plugins.builtin.pretrained" in BUILTIN_MODULES


def test_gantool_registers_its_own_models_through_the_same_hook(tmp_path, monkeypatch):
    """Every gantool/models/*.onnx, by file name: here a stand-in folder (gantool ships no trained file yet)."""
    assert Path(gantool.__file__).resolve().parent / "models" == pretrained.MODELS
    (tmp_path / "ring-8.onnx").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a model")
    monkeypatch.setattr(pretrained, "MODELS", tmp_path)
    registry = Registry(entry_point_group=None)
    assert registry.names("model") == ["ring-8"]
    component = registry.get("model", "ring-8")
    assert component.factory == tmp_path / "ring-8.onnx" and component.plugin == "gantool.plugins.builtin.pretrained"


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
