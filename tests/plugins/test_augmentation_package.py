"""A third-party augmentation written to the contract in docs/plugins.md: the worked example there, installed as a
real distribution, is found through its entry point, trains, refuses data it cannot transform; one that breaks the
contract is refused in one line naming it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gantool.plugins.registry import Registry
from tests.conftest import make_distribution, run_cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
TRAIN = ("train", "--data", "digits", "--data-limit", "64", "--gen", "mlp-small", "--batch-size", "16", "--device", "cpu")
TRAIN += ("--steps", "3", "--sample-every", "100", "--run-dir", "run")


def documented_example() -> str:
    """The python block of docs/plugins.md that starts with ``# gantool_hflip.py``."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.S)
    return next(b for b in blocks if b.startswith("# gantool_hflip.py"))


@pytest.fixture
def hflip_env(site, site_env) -> dict[str, str]:
    make_distribution(site, "gantool-hflip", "gantool_hflip", documented_example(), ep_name="hflip")
    return site_env


def test_the_documented_augmentation_is_listed_and_the_core_does_not_know_it(tmp_path, hflip_env):
    proc = run_cli("plugins", "--json", env=hflip_env)
    assert proc.returncode == 0, proc.stderr
    plugin = next(p for p in json.loads(proc.stdout) if p["name"] == "gantool-hflip")
    assert plugin["components"] == [["augmentation", "hflip"]] and plugin["errors"] == []
    assert "hflip" not in Registry(entry_point_group=None).names("augmentation")
    table = run_cli("plugins", env={**hflip_env, "COLUMNS": "200"})
    assert "augmentation: hflip" in table.stdout


def test_it_trains_beside_the_built_ins_with_auto_p(tmp_path, hflip_env):
    proc = run_cli(*TRAIN, "--augment", "hflip,color,translation", "--augment-p", "auto", cwd=tmp_path, env=hflip_env)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all("augment_p" in row for row in rows)
    assert 'augment = "hflip,color,translation"' in (tmp_path / "run" / "config.toml").read_text()


def test_its_own_refusal_of_points_is_one_line(tmp_path, hflip_env):
    proc = run_cli("train", "--data", "ring", "--augment", "hflip", "--steps", "1", "--device", "cpu", cwd=tmp_path, env=hflip_env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: augmentation 'hflip' mirrors images (channels x height x width), not data of shape (2,)"


BROKEN = """
from gantool import hookimpl


def crop(data_shape):
    return lambda x, generator: x[..., 1:-1, 1:-1]  # a smaller image: not the contract


def frozen(data_shape):
    return lambda x, generator: x.detach() * 0.5  # G's gradient stops here


@hookimpl
def register_augmentations(register):
    register("crop", crop)
    register("frozen", frozen)
"""


@pytest.mark.parametrize(
    ("name", "got"),
    [("crop", "shape (2, 1, 26, 26) (graph: True)"), ("frozen", "shape (2, 1, 28, 28) (graph: False)")],
)
def test_an_augmentation_that_breaks_the_contract_is_refused_naming_its_plugin(tmp_path, site, site_env, name, got):
    make_distribution(site, "gantool-broken-aug", "gantool_broken_aug", BROKEN)
    proc = run_cli(*TRAIN, "--augment", name, cwd=tmp_path, env=site_env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and f"'{name}' (from gantool-broken-aug) returned a tensor of {got} for a batch of shape (2, 1, 28, 28)" in lines[0]
    )
