"""The model zoo: pretrained generators a third-party distribution registers by name, listed and sampled without torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gantool.plugins.builtin.pretrained import MODELS
from tests.conftest import make_distribution, run_cli
from tests.inference.test_sample import TRAINING_ONLY, one_line

SHIPPED = {path.stem for path in MODELS.glob("*.onnx")}  # gantool's own models, listed beside the test's

ZOO = """
from pathlib import Path

from gantool import hookimpl

HERE = Path(__file__).parent


@hookimpl
def register_models(register):
    register("tiny", HERE / "tiny.onnx")
"""

BROKEN = """
from pathlib import Path

from gantool import hookimpl

HERE = Path(__file__).parent


@hookimpl
def register_models(register):
    register("gone", HERE / "gone.onnx")  # never shipped
    register("junk", str(HERE / "junk.onnx"))  # not a model
    register("odd", 42)  # not a path: refused, reported on the plugin
"""


@pytest.fixture(scope="module")
def zoo(ring_export, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A working directory and PYTHONPATH holding two real distributions: gantool-zoo (a tiny ring generator) and
    gantool-badzoo (a missing file, a file that is not ONNX, a path that is not one)."""
    home = tmp_path_factory.mktemp("zoo")
    site = home / "site"
    make_distribution(site, "gantool-zoo", "gantool_zoo", ZOO)
    run = home / "run"  # the ring run, evaluated and then exported as a zoo author would: its figures travel in the file
    shutil.copytree(ring_export.run, run)
    for args in (("eval", str(run), "-n", "300"), ("export", str(run), "--onnx", str(site / "tiny.onnx"), "--recipe", "ring")):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
    make_distribution(site, "gantool-badzoo", "gantool_badzoo", BROKEN)
    (site / "junk.onnx").write_text("not a model\n")
    return home, {"PYTHONPATH": str(site)}


def test_models_lists_each_model_with_its_metadata_or_its_error(zoo):
    home, env = zoo
    proc = run_cli("models", "--json", cwd=home, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert set(rows) == {"tiny", "gone", "junk", *SHIPPED}
    tiny = rows["tiny"]
    assert (tiny["plugin"], tiny["data"], tiny["component"], tiny["classes"], tiny["error"]) == (
        "gantool-zoo",
        "ring",
        "mlp-small",
        None,
        None,
    )
    assert tiny["file"] == str(home / "site" / "tiny.onnx")
    # where it came from: the recipe, its run's settings and steps, the export date, the eval figures
    assert (tiny["recipe"], tiny["step"], tiny["latent"], tiny["settings"]["steps"]) == ("ring", 20, "uniform", 20)
    assert tiny["exported"].startswith("20") and tiny["settings"]["data"] == "ring"
    evaluated = json.loads((home / "run" / "eval.json").read_text())
    assert (tiny["eval"]["step"], tiny["eval"]["n"]) == (20, 300)
    assert tiny["eval"]["figures"]["modes_total"] == 8
    assert tiny["eval"]["figures"]["high_quality"] == pytest.approx(evaluated["figures"]["high_quality"], rel=1e-3)
    for name in ("gone", "junk"):  # a broken file spoils its own row only
        assert rows[name]["step"] is rows[name]["recipe"] is rows[name]["eval"] is None
    assert "model 'gone' (from gantool-badzoo) points at" in rows["gone"]["error"] and "which does not exist" in rows["gone"]["error"]
    assert "junk.onnx is not an ONNX model onnxruntime can load" in rows["junk"]["error"]


def test_models_table_fits_80_columns(zoo):
    """What a user sees in an 80-column terminal: every line fits, each model's name, plugin and recipe unbroken, the
    eval figures as short phrases; the broken models' errors, too long for a column beside the rest, under the table."""
    home, env = zoo
    proc = run_cli("models", cwd=home, env={**env, "COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, proc.stdout
    cells = [[cell.strip() for cell in line.split("│")] for line in lines if line.startswith("│")]
    names = {"tiny": "gantool-zoo", "gone": "gantool-badzoo", "junk": "gantool-badzoo", **dict.fromkeys(SHIPPED, "gantool")}
    rows = {cell[1]: cell for cell in cells if cell[1] in names}  # a model's first line: its name, whole
    assert set(rows) == set(names), proc.stdout
    for name, plugin in names.items():
        assert rows[name][2] == plugin, proc.stdout  # the distribution, as 'gantool plugins' names it
    header = next(line for line in lines if "model" in line and "plugin" in line)
    assert [h.strip() for h in header.split("┃")[1:-1]] == ["model", "plugin", "data", "trained", "eval"], proc.stdout
    tiny = cells[cells.index(rows["tiny"]) :][:4]  # its lines
    assert rows["tiny"][4] == "recipe ring," and "20 steps" in tiny[1][4] and "ring (mlp-small)" in " ".join(c[3] for c in tiny)
    evaluated = json.loads((home / "run" / "eval.json").read_text())["figures"]
    figures = " ".join(c[5] for c in tiny)
    for phrase in (f"modes {evaluated['modes_captured']}/8,", f"high quality {evaluated['high_quality']:.1%}"):
        assert phrase in figures, proc.stdout
    assert rows["gone"][5].startswith("error: see") and rows["junk"][5].startswith("error: see"), proc.stdout
    below = " ".join(" ".join(lines[lines.index(next(line for line in lines if line.startswith("└"))) + 1 :]).split())  # unwrapped
    assert below.startswith("gone: model 'gone' (from gantool-badzoo) points at") and "reinstall gantool-badzoo" in below
    assert "junk: model 'junk' (from gantool-badzoo): " in below and "not an ONNX model" in below


def test_models_table_shows_an_error_column_where_it_fits(zoo):
    home, env = zoo
    proc = run_cli("models", cwd=home, env={**env, "COLUMNS": "250"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if "model" in line and "plugin" in line)
    assert [h.strip() for h in header.split("┃")[1:-1]] == ["model", "plugin", "data", "trained", "eval", "error"], proc.stdout
    gone = next(line for line in lines if line.startswith("│ gone "))
    assert "model 'gone' (from gantool-badzoo) points at" in gone and "see below" not in proc.stdout


def test_models_table_without_errors_has_no_error_column():
    """A table of healthy models leaves the error column out; a conditional model shows its classes."""
    from rich.console import Console

    from gantool.evaluation.zoo_table import models_table

    row = {
        "name": "digits-cond",
        "plugin": "gantool.plugins.builtin.pretrained",
        "data": "mnist",
        "component": "mlp-deep",
        "classes": [str(c) for c in range(10)],
        "step": 20000,
        "recipe": "mnist-cond",
        "exported": "2026-11-30T13:46:42+00:00",
        "eval": {"figures": {"fid": 5.83, "class_accuracy": 0.9851, "inception_score": 9.1}},
        "error": None,
    }
    console = Console(width=80, record=True, color_system=None)
    console.print(models_table([row], 80))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "error" not in text and "│ digits-cond │ gantool " in text, text
    for phrase in ("recipe mnist-cond,", "20,000 steps", "fid 5.8,", "class accuracy", "98.5%", "inception score", "classes 0,"):
        assert phrase in text, text


def test_plugins_still_lists_everything(zoo):
    home, env = zoo
    proc = run_cli("plugins", "--json", cwd=home, env=env)
    assert proc.returncode == 0, proc.stderr
    plugins = {p["name"]: p for p in json.loads(proc.stdout)}
    assert plugins["gantool-zoo"]["components"] == [["model", "tiny"]] and not plugins["gantool-zoo"]["errors"]
    assert plugins["gantool-badzoo"]["components"] == [["model", "gone"], ["model", "junk"]]
    assert "register(name, path) needs a non-empty name and a path to an .onnx file" in plugins["gantool-badzoo"]["errors"][0]
    builtin = plugins["gantool.plugins.builtin.models"]
    assert ["generator", "mlp-small"] in builtin["components"] and not builtin["errors"]


def test_sample_a_model_by_name_as_its_file(zoo, ring_export):
    home, env = zoo
    line = one_line(run_cli("sample", "--model", "tiny", "-n", "30", "--seed", "4", "--out", "named.npy", cwd=home, env=env))
    assert "onnxruntime" in line and "seed 4" in line
    one_line(run_cli("sample", "--model", str(ring_export.onnx), "-n", "30", "--seed", "4", "--out", "file.npy", cwd=home, env=env))
    np.testing.assert_array_equal(np.load(home / "named.npy"), np.load(home / "file.npy"))
    code = "import json, sys, gantool; sys.stdout.write(json.dumps(gantool.load('tiny').sample(30, seed=4).tolist()))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=home, env={**env, "PATH": ""}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.asarray(json.loads(proc.stdout), dtype=np.float32), np.load(home / "named.npy"))


BAD = [
    (("--model", "gone"), "model 'gone' (from gantool-badzoo) points at"),
    (("--model", "junk"), "model 'junk' (from gantool-badzoo): "),
    (
        ("--model", "nosuch"),
        "--model nosuch is neither a file, a run folder nor an installed model; known models: "
        + ", ".join(sorted({"gone", "junk", "tiny", *SHIPPED})),
    ),
    (("--model", "tiny", "--runtime", "torch"), "model tiny is an ONNX file from the model zoo: sample it with --runtime onnx"),
    (("--model", "tiny", "--truncation", "0.5"), "--truncation applies to the normal prior; this model draws from the uniform prior"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_model_names_are_one_line_and_exit_2(zoo, args, message):
    home, env = zoo
    proc = run_cli("sample", *args, "--out", "bad.npy", cwd=home, env=env)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not (home / "bad.npy").exists()


def test_models_imports_no_torch(zoo):
    home, env = zoo
    args = [sys.executable, "-X", "importtime", "-m", "gantool", "models"]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=home, env={**env, "COLUMNS": "200"}, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "gantool.inference.zoo" in modules and "onnxruntime" in modules and "recipe ring" in proc.stdout
    assert not {m.partition(".")[0] for m in modules} & set(TRAINING_ONLY)


def test_models_leaves_torch_out_of_sys_modules(zoo):
    """The same check from inside the process: listing models, with their provenance, loads no training module."""
    home, env = zoo
    code = (
        "import sys; from gantool.cli.app import main; sys.argv = ['gantool', 'models', '--json']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"loaded = sorted(m for m in sys.modules if m.partition('.')[0] in {TRAINING_ONLY!r})\n"
        "assert not loaded, loaded; sys.stderr.write('torch-free')"
    )
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(p for p in (env["PYTHONPATH"], os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=home, env=full_env, timeout=120)
    assert proc.returncode == 0 and proc.stderr.endswith("torch-free"), proc.stderr[-2000:]
    assert {row["name"] for row in json.loads(proc.stdout)} == {"tiny", "gone", "junk", *SHIPPED}
