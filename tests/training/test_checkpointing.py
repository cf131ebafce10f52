"""The run folder training readies: config.toml names the recipe (the --config file) the run started from."""

from __future__ import annotations

import tomllib

from gantool.store.runs import RECIPE_LINE, config_text, recorded_recipe
from gantool.training.config import build_config, resolve_config
from gantool.training.run import train
from tests.conftest import run_cli

RECIPE = """
data = "ring"
gen = "mlp-small"
batch-size = 32
device = "cpu"

[data_opt]
n = 500
"""


def test_the_cli_records_the_recipe_and_a_resume_keeps_it(tmp_path):
    (tmp_path / "myrecipe.toml").write_text(RECIPE)
    run = tmp_path / "run"
    proc = run_cli("train", "--config", "myrecipe.toml", "--data", "ring", "--steps", "20", "--run-dir", str(run), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    config = (run / "config.toml").read_text()
    assert config.startswith(f"{RECIPE_LINE}myrecipe\n"), config
    settings = tomllib.loads(config)  # the comment leaves the settings as they were
    assert (settings["gen"], settings["steps"], settings["data_opt"]) == ("mlp-small", 20, {"n": 500}) and "recipe" not in settings
    proc = run_cli("train", "--resume", str(run), "--steps", "30", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert recorded_recipe(run) == "myrecipe" and tomllib.loads((run / "config.toml").read_text())["steps"] == 30


def test_the_python_api_records_the_recipe_its_config_file_names(tmp_path):
    recipe = tmp_path / "recipes" / "tiny-ring.toml"
    recipe.parent.mkdir()
    recipe.write_text(RECIPE)
    cfg = resolve_config({"steps": 10}, config_file=recipe)
    assert cfg.recipe == "tiny-ring" and "recipe" not in cfg.to_dict()  # not a setting
    run = train(cfg, run_dir=tmp_path / "run")
    assert recorded_recipe(run) == "tiny-ring"
    # a resume keeps it, whether its settings come from the run (resolve_config) or not (a bare config)
    train(resolve_config({"steps": 15}, resume=run), resume=run)
    assert recorded_recipe(run) == "tiny-ring"
    train(build_config(tomllib.loads((run / "config.toml").read_text()), {"steps": 20}), resume=run)
    assert recorded_recipe(run) == "tiny-ring"


def test_a_run_without_a_config_file_names_no_recipe(tmp_path):
    run = train(
        build_config({"data": "ring", "data_opt": {"n": 500}, "steps": 5, "batch_size": 32, "device": "cpu"}), run_dir=tmp_path / "r"
    )
    assert recorded_recipe(run) is None and not (run / "config.toml").read_text().startswith("#")


def test_config_text_keeps_the_recipe_on_one_line():
    text = config_text({"steps": 3}, "odd\nname")
    assert text.splitlines()[0] == f"{RECIPE_LINE}odd name" and tomllib.loads(text) == {"steps": 3}
