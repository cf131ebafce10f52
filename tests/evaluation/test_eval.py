"""`gantool eval`, `gantool plot`, --ema and --eval-every on real runs, through the real CLI."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gantool.store import tensors as ckpt
from gantool.store.layout import CHECKPOINT
from gantool.training.config import build_config, resolve_config
from gantool.training.run import train
from tests.conftest import make_distribution, run_cli

ROOT = Path(__file__).resolve().parents[2]


def check_classifier(classifier) -> None:
    """What every user's classifier must be: trained on the embedded digits, accurate, kept as safetensors."""
    assert classifier.trained_on == "digits-8k"
    assert classifier.test_accuracy > 0.95, classifier.test_accuracy
    assert classifier.path is not None and classifier.path.is_file()
    assert not classifier.path.read_bytes().startswith(b"\x80")  # safetensors, not a pickle


@pytest.fixture(scope="session")
def cache() -> Path:
    """The test session's user cache (conftest.py: .test-cache beside the checkout), with the digit classifier
    in it: trained there once per checkout, the way users get it (a fresh cache trains it: test below)."""
    from gantool.evaluation.classifier import load_classifier

    check_classifier(load_classifier())  # the embedded digits, 2,000 held out
    return Path(os.environ["GANTOOL_CACHE"])


@pytest.mark.slow  # long training: the classifier, from scratch (the fast tier reuses the checkout's cached one)
def test_a_fresh_cache_trains_the_classifier(tmp_path, monkeypatch):
    from gantool.evaluation.classifier import load_classifier

    monkeypatch.setenv("GANTOOL_CACHE", str(tmp_path))
    classifier = load_classifier()
    check_classifier(classifier)
    assert classifier.path.is_relative_to(tmp_path)


def quick(run_dir: Path, **overrides) -> Path:
    settings = {"data": "ring", "data_opt": {"n": 2000}, "steps": 40, "batch_size": 32, "log_every": 10, "device": "cpu"}
    settings.update(overrides)
    return train(build_config(settings), run_dir=run_dir)


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory) -> Path:
    return quick(tmp_path_factory.mktemp("ring") / "run", steps=100, batch_size=64, ema=0.99, data_opt={})


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    return quick(tmp_path_factory.mktemp("digits") / "run", data="digits", data_opt={}, steps=20, batch_size=64)


def test_eval_on_a_2d_run_writes_eval_json(ring_run):
    proc = run_cli("eval", str(ring_run))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((ring_run / "eval.json").read_text())
    figures = report["figures"]
    assert report["n"] == 2500 and report["data"] == "ring" and report["step"] == 100
    assert report["generator"].endswith("G_ema.safetensors")  # the average is used when there is one
    assert figures["modes_total"] == 8 and 0 <= figures["modes_captured"] <= 8
    assert 0 <= figures["high_quality"] <= 1 and figures["d_real_held_out"] is True
    assert figures["metrics"] == ["d-accuracy", "modes"]  # image metrics do not apply to points
    for text in ("modes_captured", "high_quality", "reverse_kl", "d_accuracy_fake"):
        assert text in proc.stdout


def test_eval_without_ema_and_with_explicit_metrics(ring_run, tmp_path):
    out = tmp_path / "e.json"
    proc = run_cli("eval", str(ring_run), "--no-ema", "-m", "modes", "-n", "500", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["generator"].endswith("/G.safetensors") and report["n"] == 500
    assert report["figures"]["metrics"] == ["modes"] and "d_accuracy_real" not in report["figures"]


def test_eval_on_digits_uses_the_classifier(digits_run, cache):
    proc = run_cli("eval", str(digits_run), "-n", "400", env={"GANTOOL_CACHE": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert "training the digit classifier" not in proc.stderr  # the cached one is used
    report = json.loads((digits_run / "eval.json").read_text())
    figures = report["figures"]
    assert report["classifier"]["trained_on"] == "digits-8k" and report["classifier"]["test_accuracy"] > 0.95
    assert figures["metrics"] == ["fid", "inception-score", "prdc", "classes", "d-accuracy"]
    assert figures["fid"] > 0 and 1 <= figures["inception_score"] <= 10
    assert figures["inception_score_real"] > 8  # real digits: confident and even over 10 classes
    assert len(figures["class_shares"]) == 10 and sum(figures["class_shares"]) == pytest.approx(1, abs=1e-3)
    for key in ("precision", "recall", "density", "coverage", "d_accuracy_real", "d_accuracy_fake"):
        assert 0 <= figures[key] <= 10, key
    assert figures["d_real_held_out"] is False  # a digits run trains on the reference itself
    assert "test accuracy" in proc.stdout and "fid" in proc.stdout


def test_real_digits_score_far_better_than_an_untrained_generator(cache, monkeypatch):
    """The figures must tell real digits from noise: the whole point of them."""
    import numpy as np

    from gantool.evaluation.classifier import to_unit
    from gantool.evaluation.context import EvalContext
    from gantool.evaluation.runner import evaluate
    from gantool.evaluation.sources import SampleSource
    from gantool.plugins.builtin.datasets import load_digits

    monkeypatch.setenv("GANTOOL_CACHE", str(cache))
    images, labels = load_digits()
    real = to_unit(images[labels != 3][:2000])  # real digits, with the 3s taken out

    def score(samples: np.ndarray) -> dict:
        source = SampleSource("test", "digits", (1, 28, 28), lambda n, seed: samples[:n])
        return evaluate(EvalContext(source, len(samples)), ["fid", "classes", "prdc"])

    good = score(real)
    noise = score(np.random.default_rng(0).uniform(-1, 1, size=(2000, 1, 28, 28)).astype(np.float32))
    assert good["fid"] * 10 < noise["fid"]
    assert good["classes_missing"] == [3] and good["classes_present"] == 9
    assert good["precision"] > 0.6 and noise["recall"] < 0.05


def test_third_party_metric_plugin(ring_run, site, site_env):
    make_distribution(
        site,
        "gantool-spread",
        "gantool_spread",
        """
        from gantool import hookimpl

        class Spread:
            def supports(self, ctx):
                return ctx.data_shape == (2,)

            def evaluate(self, ctx):
                x = ctx.samples()
                return {"spread": float(x.std()), "n_seen": len(x)}

        class Broken:
            def supports(self, ctx):
                return True

            def evaluate(self, ctx):
                return [1, 2, 3]

        @hookimpl
        def register_metrics(register):
            register("spread", Spread)
            register("broken", Broken)
        """,
    )
    listing = run_cli("plugins", env=site_env)
    assert "metric: spread, broken" in listing.stdout, listing.stdout
    assert "metric: fid, inception-score, prdc, classes, d-accuracy, modes" in listing.stdout
    proc = run_cli("eval", str(ring_run), "-m", "spread,modes", "-n", "300", env=site_env)
    assert proc.returncode == 0, proc.stderr
    figures = json.loads((ring_run / "eval.json").read_text())["figures"]
    assert figures["n_seen"] == 300 and 0 < figures["spread"] < 1 and "modes_captured" in figures
    proc = run_cli("eval", str(ring_run), "-m", "broken", "-n", "300", env=site_env)
    assert proc.returncode == 2 and "metric 'broken' returned list" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_eval_every_logs_figures_with_the_step(tmp_path):
    run = quick(tmp_path / "run", steps=30, eval_every=10, eval_n=300)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evaluated = [r["step"] for r in rows if "modes_captured" in r]
    assert evaluated == [10, 20, 30]
    assert all("d_loss" in r for r in rows) and "metrics" not in rows[9]


def test_ema_file_and_checkpoint(tmp_path):
    """The average's file and checkpoint entries (that a resume with it is exact: tests/training/test_resume.py)."""
    settings = {"data": "ring", "data_opt": {"n": 500}, "batch_size": 32, "device": "cpu", "gen": "mlp-deep", "ema": 0.9}
    straight = train(build_config({**settings, "steps": 15}), run_dir=tmp_path / "a")
    g_meta, ema_meta = ckpt.read_metadata(straight / "G.safetensors"), ckpt.read_metadata(straight / "G_ema.safetensors")
    assert {k: v for k, v in ema_meta.items() if k != "ema"} == g_meta and json.loads(ema_meta["ema"]) == 0.9
    tensors, _ = ckpt.load_tensors(straight / CHECKPOINT)
    assert any(k.startswith("G_ema.") for k in tensors)
    g, _ = ckpt.load_tensors(straight / "G.safetensors")
    e, _ = ckpt.load_tensors(straight / "G_ema.safetensors")
    assert not all(torch.equal(g[k], e[k]) for k in g)  # the average is not a copy


def test_plot_writes_pictures(tmp_path):
    run = quick(tmp_path / "run", steps=60, eval_every=20, eval_n=200)
    proc = run_cli("plot", str(run))
    assert proc.returncode == 0, proc.stderr
    for name in ("losses.png", "samples_over_training.png"):
        with Image.open(run / "plots" / name) as img:
            assert img.width >= 800 and img.height >= 300
            assert len(np.unique(np.asarray(img.convert("L")))) > 20  # something is drawn
    (run / "metrics.jsonl").unlink()
    proc = run_cli("plot", str(run))
    assert proc.returncode == 2 and "has no metrics.jsonl" in proc.stderr


BAD = [
    (("eval", "nowhere"), "run nowhere does not exist"),
    (("eval", "runs/x/G.safetensors"), "does not exist"),
    (("train", "--ema", "1.5"), "--ema must be a decay in [0, 1) such as 0.999, or 0 for none, got 1.5"),
    (("train", "--ema", "1"), "--ema must be a decay in [0, 1) such as 0.999, or 0 for none, got 1.0"),
    (("train", "--ema", "-0.1"), "--ema must be a decay in [0, 1) such as 0.999, or 0 for none, got -0.1"),
    (("train", "--eval-every", "0"), "--eval-every must be greater than 0"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input(tmp_path, args, message):
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr


def test_metric_that_does_not_apply_and_unknown_metric(ring_run):
    proc = run_cli("eval", str(ring_run), "-m", "fid")
    assert proc.returncode == 2 and "metric 'fid' does not apply" in proc.stderr and "metrics that do: d-accuracy, modes" in proc.stderr
    proc = run_cli("eval", str(ring_run), "-m", "nope")
    assert proc.returncode == 2 and "unknown metric 'nope'" in proc.stderr


def test_an_onnx_export_evaluates_like_its_run(ring_run, tmp_path):
    """onnxruntime's samples (numpy latents) score like torch's (torch latents): same generator, other draws."""
    assert run_cli("export", str(ring_run)).returncode == 0
    proc = run_cli("eval", str(ring_run / "G.onnx"), "-m", "modes", "--out", str(tmp_path / "onnx.json"))
    assert proc.returncode == 0, proc.stderr
    onnx = json.loads((tmp_path / "onnx.json").read_text())
    assert onnx["generator"].startswith(str(ring_run / "G.onnx")) and "onnxruntime" in onnx["generator"]
    proc = run_cli("eval", str(ring_run), "-m", "modes", "--no-ema", "--out", str(tmp_path / "torch.json"))
    assert proc.returncode == 0, proc.stderr
    torch_report = json.loads((tmp_path / "torch.json").read_text())
    for key in ("modes_captured", "high_quality"):
        assert abs(onnx["figures"][key] - torch_report["figures"][key]) <= 0.1 * max(1, torch_report["figures"][key]), key
    (tmp_path / "G.onnx").write_bytes(b"not a model")
    proc = run_cli("eval", "G.onnx", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is not None, reason="tensorboard is installed here")
def test_tensorboard_missing_is_one_line(tmp_path):
    proc = run_cli("train", "--data", "ring", "--steps", "5", "--tensorboard", cwd=tmp_path)
    assert proc.returncode == 2 and "pip install tensorboard" in proc.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None, reason="tensorboard is not installed")
def test_tensorboard_logs(tmp_path):
    run = quick(tmp_path / "run", steps=20, tensorboard=True)
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))


def test_eval_and_plot_help_never_import_torch():
    for args in (("eval", "--help"), ("plot", "--help")):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "gantool", *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0
        assert "| torch\n" not in proc.stderr and " torch\n" not in proc.stderr.replace("|", "")


def test_recipes_are_valid_configs():
    recipes = sorted((ROOT / "recipes").glob("*.toml"))
    assert {p.stem for p in recipes} >= {"mnist", "grid", "ring"}
    for path in recipes:
        cfg = resolve_config({}, config_file=path)
        assert cfg.ema is not None, path


def test_seed001_reference_saves_a_run_gantool_can_score(tmp_path, mnist_root):
    script = ROOT / "benchmarks" / "seed001_reference.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--root", str(mnist_root), "--steps", "5", "--out", str(tmp_path / "ref")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "5 steps" in proc.stdout and "images/s" in proc.stdout
    proc = run_cli("eval", str(tmp_path / "ref"), "-m", "d-accuracy", "-n", "200")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads((tmp_path / "ref" / "eval.json").read_text())["figures"]
    assert figures["d_real_held_out"] is True and 0 <= figures["d_accuracy_real"] <= 1
