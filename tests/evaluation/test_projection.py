"""``gantool project``: real images into a generator's latent space, through a run, its export and a shipped model;
deterministic for a seed; every bad input one line; the light install told what it needs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from gantool.core import latents
from gantool.evaluation.projector import project
from gantool.inference.loading import TorchGenerator
from gantool.inference.onnx_runtime import OnnxGenerator
from gantool.inference.zoo import resolve
from tests.conftest import Exported, run_cli, spawn_cli
from tests.inference.test_sample import BLOCK_TRAINING_EXTRA, TRAINING_ONLY, handmade

STEPS = "60"  # few steps: the fast tier
LATENT = 8


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Exported:
    """A tiny digits run (10 steps of the small MLP, whose samples already differ from latent to latent) and its export."""
    settings = {"data": "digits", "gen": "mlp-small", "latent_dim": LATENT, "steps": 10, "batch_size": 16}
    return Exported(tmp_path_factory.mktemp("tiny"), settings)


def save_digit(pixels: np.ndarray, path) -> None:
    """A generator sample (1, 28, 28) in [-1, 1] as the grey PNG a user would have."""
    Image.fromarray(((np.clip(pixels[0], -1, 1) + 1) * 127.5).round().astype(np.uint8)).save(path)


@pytest.fixture(scope="module")
def target(tiny, tmp_path_factory):
    """Two samples of the tiny digits run, as PNG files (what the test projects), and the MSE between two random samples of it."""
    folder = tmp_path_factory.mktemp("targets")
    G = TorchGenerator(tiny.run, "cpu")
    samples = G(latents.draw(4, LATENT, "normal", 5))
    for i, name in enumerate(("b.png", "a.png")):  # a folder is read in name order: a.png first
        save_digit(samples[i], folder / name)
    between = float(((samples[2] - samples[3]) ** 2).mean())
    return folder, between


def test_projection_recovers_a_sample_of_a_tiny_run(tiny, target, tmp_path):
    folder, between = target
    result = project(tiny.run, [folder], out=tmp_path / "out", steps=100, restarts=2, seed=0)
    assert [p.name for p in result.images] == ["a.png", "b.png"]
    quantised = [np.asarray(Image.open(folder / n), dtype=np.float32) / 127.5 - 1 for n in ("a.png", "b.png")]
    assert result.projection.mse.max() < between / 10, (result.projection.mse, between)
    recon = result.projection.reconstructions
    for i in range(2):
        assert float(((recon[i, 0] - quantised[i]) ** 2).mean()) == pytest.approx(result.projection.mse[i], rel=1e-4)
    z = np.load(tmp_path / "out" / "z.npy")
    assert z.shape == (2, LATENT) and z.dtype == np.float32 and not (tmp_path / "out" / "labels.npy").exists()
    # the latents found sample the reconstructions in either runtime
    np.testing.assert_allclose(OnnxGenerator(tiny.onnx, "cpu")(z), recon, atol=1e-4)
    pairs = Image.open(tmp_path / "out" / "pairs.png")
    assert pairs.width > pairs.height  # one row of two pairs, blown up


def test_an_export_projects_as_its_run_does(tiny, target, tmp_path):
    folder, _ = target
    args = ("--steps", STEPS, "--seed", "3")
    run = run_cli("project", str(tiny.run), str(folder), "--out", str(tmp_path / "run"), *args)
    onnx = run_cli("project", str(tiny.onnx), str(folder), "--out", str(tmp_path / "onnx"), *args)
    assert run.returncode == 0 and onnx.returncode == 0, run.stderr + onnx.stderr
    np.testing.assert_allclose(np.load(tmp_path / "run" / "z.npy"), np.load(tmp_path / "onnx" / "z.npy"), atol=1e-3)


def test_the_same_seed_gives_the_same_latents(tiny, target, tmp_path):
    folder, _ = target
    found = [
        project(tiny.run, [folder], out=tmp_path / str(seed) / str(i), steps=20, seed=seed).projection.z for i, seed in enumerate((1, 1, 2))
    ]
    np.testing.assert_array_equal(found[0], found[1])
    assert not np.array_equal(found[0], found[2])


def test_a_shipped_model_by_name_with_a_class_and_json(tmp_path):
    onnx = OnnxGenerator(resolve("digits").path, "cpu")
    save_digit(onnx(latents.draw(1, 16, "normal", 9), labels=np.array([3]))[0], tmp_path / "three.png")
    proc = run_cli("project", "digits", "three.png", "--label", "3", "--steps", STEPS, "--json", "--out", "found", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["images"]
    assert [r["image"] for r in rows] == ["three.png"] and rows[0]["label"] == "3"
    assert f"three.png: pixel MSE {rows[0]['mse']:.4f}  class 3" in proc.stderr
    z, y = np.load(tmp_path / "found" / "z.npy"), np.load(tmp_path / "found" / "labels.npy")
    assert z.shape == (1, 16) and y.tolist() == [3]
    # the projected latent, sent to someone with only the ONNX file
    sampled = run_cli(
        "sample", "--model", "digits", "--latents", "found/z.npy", "--labels", "found/labels.npy", "--out", "s.npy", cwd=tmp_path
    )
    assert sampled.returncode == 0, sampled.stderr
    picture = np.asarray(Image.open(tmp_path / "three.png"), dtype=np.float32) / 127.5 - 1
    assert float(((np.load(tmp_path / "s.npy")[0, 0] - picture) ** 2).mean()) == pytest.approx(rows[0]["mse"], abs=1e-4)


@pytest.fixture
def inputs(tmp_path):
    digit = np.full((28, 28), 0, dtype=np.uint8)
    Image.fromarray(digit).save(tmp_path / "ok.png")
    Image.fromarray(np.zeros((56, 56), dtype=np.uint8)).save(tmp_path / "large.png")  # same aspect ratio: resized
    Image.fromarray(np.zeros((28, 20), dtype=np.uint8)).save(tmp_path / "narrow.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("")
    handmade(tmp_path / "anonymous.onnx")  # a real ONNX file whose metadata names no component to rebuild
    return tmp_path


BAD = [
    (("digits", "missing.png"), "missing.png does not exist: name PNG or JPEG images, or a folder of them"),
    (("digits", "broken.png"), "broken.png cannot be read (not an image Pillow can read): give PNG or JPEG images"),
    (("digits", "narrow.png"), "narrow.png is 20x28, but the model makes 28x28 images: crop it to that aspect ratio"),
    (("digits", "empty"), "empty holds no PNG or JPEG images"),
    (("digits", "ok.png", "--label", "12"), "--label 12 is out of range: this model has 10 classes"),
    (("digits", "ok.png", "--steps", "0"), "--steps must be a whole number of at least 1"),
    (("digits", "ok.png", "--restarts", "0"), "--restarts must be a whole number of at least 1"),
    (("digits", "ok.png", "--out", "a-file"), "--out a-file is a file: name a folder"),
    (("digits", "ok.png", "--ema"), "--ema/--no-ema choose a run's weights; an ONNX file holds the weights it was exported with"),
    (("ring", "ok.png"), "model ring makes data of shape [2], not images: projection takes an image model"),
    (("nomodel", "ok.png"), "--model nomodel is neither a file, a run folder nor an installed model"),
    (("a-file", "ok.png"), "a-file is neither a run folder nor an .onnx file"),
    (("anonymous.onnx", "ok.png"), "anonymous.onnx does not name its generator component"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(inputs, args, message):
    proc = run_cli("project", *args, "--out", "out", cwd=inputs) if "--out" not in args else run_cli("project", *args, cwd=inputs)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not (inputs / "out").exists()


def test_label_on_an_unconditional_run_is_refused(tiny, inputs):
    proc = run_cli("project", str(tiny.run), "ok.png", "--label", "3", "--out", "out", cwd=inputs)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "error: --label needs a conditional model (trained with --conditional); this one is unconditional: leave out --label"
    )


def test_a_larger_image_of_the_same_aspect_ratio_is_resized(inputs):
    proc = run_cli("project", "digits", "large.png", "ok.png", "--label", "1", "--steps", "5", "--out", "out", cwd=inputs)
    assert proc.returncode == 0, proc.stderr
    assert np.load(inputs / "out" / "z.npy").shape == (2, 16)


def test_help_imports_no_torch():
    args = [sys.executable, "-X", "importtime", "-m", "gantool", "project", "--help"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "gantool.cli.projection" in modules and not {m.partition(".")[0] for m in modules} & {*TRAINING_ONLY, "numpy"}


def test_the_light_install_says_projection_needs_the_training_extra(inputs):
    site = inputs / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(BLOCK_TRAINING_EXTRA))
    proc = spawn_cli("project", "digits", "ok.png", cwd=inputs, env={"PYTHONPATH": str(site)})
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == 'error: torch is not installed; projection needs the training extra (torch gradients): pip install "gantool[train]"'
    )


def test_an_export_whose_batchnorm_was_folded_is_rebuilt(digits_export):
    """The deep MLP's export folds each BatchNorm into the layer before it; the rebuilt G gives the run's samples."""
    from gantool.inference.onnx_weights import open_torch_generator
    from gantool.plugins.networks import generate

    G, info, _ = open_torch_generator(digits_export.onnx)
    z = latents.draw(16, info.latent_dim, info.latent, 2)
    np.testing.assert_allclose(generate(G, z), TorchGenerator(digits_export.run, "cpu")(z), atol=1e-4)
