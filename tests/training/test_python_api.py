"""gantool.train from Python: the settings `gantool train` takes, by name, through the same checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gantool
from gantool.core.errors import GantoolError
from gantool.store.tensors import read_metadata

TINY = {"data": "ring", "data_opt": {"n": 500}, "steps": 20, "batch_size": 50, "device": "cpu"}


def cli_error(*flags: str) -> str:
    """The one line `gantool train` prints for these flags (exit code 2)."""
    done = subprocess.run([sys.executable, "-m", "gantool", "train", *flags], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    return done.stderr.strip().removeprefix("error: ")


def test_train_takes_settings_by_name(tmp_path):
    run = gantool.train(**TINY, ema=0.9, run_dir=tmp_path / "run")
    assert run == tmp_path / "run"
    assert (run / "G.safetensors").is_file() and (run / "G_ema.safetensors").is_file()
    assert read_metadata(run / "G.safetensors")["step"] == "20"
    x = gantool.load(run).sample(8, seed=1)
    assert x.shape == (8, 2)


def test_train_resumes_with_settings(tmp_path):
    run = gantool.train(**TINY, run_dir=tmp_path / "run")
    again = gantool.train(resume=run, steps=30)
    assert again == run and read_metadata(run / "G.safetensors")["step"] == "30"


def test_train_with_a_config_file_records_its_recipe(tmp_path):
    recipe = tmp_path / "tiny.toml"
    recipe.write_text('data = "ring"\nsteps = 20\nbatch_size = 50\n[data_opt]\nn = 500\n')
    run = gantool.train(config=recipe, device="cpu", run_dir=tmp_path / "run")
    assert (run / "config.toml").read_text().startswith("# recipe: tiny")


@pytest.mark.parametrize(
    ("settings", "flags"),
    [({"steps": 0}, ("--steps", "0")), ({"lr": -1.0}, ("--lr", "-1")), ({"ema": 1.0}, ("--ema", "1"))],
)
def test_bad_settings_fail_as_on_the_command_line(tmp_path, settings, flags):
    with pytest.raises(GantoolError) as caught:
        gantool.train(data="ring", run_dir=tmp_path / "run", **settings)
    assert str(caught.value) == cli_error("--data", "ring", "--run-dir", str(tmp_path / "cli"), *flags)
    assert not (tmp_path / "run").exists()


def test_unknown_setting_and_mixed_call_are_one_line(tmp_path):
    with pytest.raises(GantoolError, match="stepz"):
        gantool.train(data="ring", stepz=5, run_dir=tmp_path / "run")
    cfg = gantool.resolve_config({"data": "ring"})
    with pytest.raises(GantoolError, match="not both"):
        gantool.train(cfg, steps=5)
