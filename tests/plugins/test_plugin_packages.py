"""The plugin packages under plugins/, installed in the test environment: found through their entry
points only, and composable with each other through gantool's core."""

from __future__ import annotations

import json

from gantool.plugins.registry import Registry
from gantool.store import tensors as ckpt
from tests.conftest import run_cli

PACKAGES = {
    "gantool-dcgan": [["generator", "dcgan"], ["discriminator", "dcgan"]],
    "gantool-losses": [["loss", "wgan-gp"], ["loss", "hinge"], ["loss", "r1"], ["loss", "rsgan"]],
}


def test_packages_are_listed_without_errors():
    proc = run_cli("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    plugins = {p["name"]: p for p in json.loads(proc.stdout)}
    for name, components in PACKAGES.items():
        assert plugins[name]["components"] == components and plugins[name]["errors"] == []
        assert plugins[name]["source"].startswith("entry point ")


def test_core_alone_knows_none_of_their_names():
    core = Registry(entry_point_group=None)
    for components in PACKAGES.values():
        for kind, name in components:
            assert name not in core.names(kind)


def test_dcgan_trains_with_a_gradient_penalty_loss(tmp_path):
    """Two independent packages meet only through the core: a double backward through DCGAN's convolutions and BatchNorm."""
    proc = run_cli(
        *("train", "--gen", "dcgan", "--gen-opt", "width=8", "--disc-opt", "width=8", "--loss", "r1"),
        *("--steps", "3", "--batch-size", "16", "--device", "cpu", "--run-dir", "run"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    assert ckpt.read_metadata(tmp_path / "run" / "G.safetensors")["component"] == "dcgan"
