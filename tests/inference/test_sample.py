"""Sampling through the real CLI: both runtimes, every output, the torch-free path, and every bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from packaging.markers import Marker
from packaging.requirements import Requirement
from PIL import Image

from gantool.core import devices as gpu
from gantool.core import latents
from gantool.inference.onnx_runtime import OnnxGenerator
from gantool.inference.sampling import sample
from tests.conftest import run_cli, spawn_cli

TRAINING_ONLY = ("torch", "torchvision", "onnx", "onnxscript", "safetensors")
HANDMADE_META = {"format": "gantool", "kind": "generator", "latent_dim": "4", "latent": "normal", "data_shape": "[4]"}


def handmade(path, meta=HANDMADE_META, z_shape=("batch", 4), x_shape=("batch", 4)):
    """A real ONNX file built by hand: x = tanh(z), with whatever metadata and shapes a test needs."""
    graph = helper.make_graph(
        [helper.make_node("Tanh", ["z"], ["x"])],
        "handmade",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, list(z_shape))],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)
    for key, value in (meta or {}).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


def one_line(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # the summary and nothing else: no onnxruntime chatter
    return lines[0]


def test_same_seed_same_samples_through_onnx_and_torch(ring_export, tmp_path):
    home = ring_export.home
    one_line(run_cli("sample", "--seed", "7", "-n", "50", "--out", str(tmp_path / "onnx.npy"), cwd=home))
    line = one_line(run_cli("sample", "--runtime", "torch", "--seed", "7", "-n", "50", "--out", str(tmp_path / "torch.npy"), cwd=home))
    assert "torch, cpu; seed 7" in line
    a, b = np.load(tmp_path / "onnx.npy", allow_pickle=False), np.load(tmp_path / "torch.npy", allow_pickle=False)
    assert a.shape == b.shape == (50, 2) and a.dtype == b.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-5)
    one_line(run_cli("sample", "--seed", "8", "-n", "50", "--out", str(tmp_path / "other.npy"), cwd=home))
    assert np.abs(np.load(tmp_path / "other.npy") - a).max() > 1e-3


def test_torch_runtime_from_python_on_images(digits_export, tmp_path):
    a = sample(20, model=digits_export.onnx, out=tmp_path / "a.npy", seed=3, device="cpu")
    b = sample(20, runtime="torch", model=digits_export.run, out=tmp_path / "b.npy", seed=3, device="cpu")
    assert a.samples.shape == (20, 1, 28, 28) and a.where == "onnxruntime, CPUExecutionProvider" and b.where == "torch, cpu"
    np.testing.assert_allclose(a.samples, b.samples, atol=1e-5)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), a.samples)


def test_latents_come_from_numpy_and_the_models_prior(tmp_path):
    """x = tanh(z) by hand: the output shows exactly which latents the sampler drew."""
    model = handmade(tmp_path / "tanh.onnx")
    one_line(run_cli("sample", "--model", "tanh.onnx", "-n", "5", "--seed", "11", "--out", "x.npy", cwd=tmp_path))
    z = np.random.default_rng(11).standard_normal((5, 4), dtype=np.float32)
    np.testing.assert_allclose(np.load(tmp_path / "x.npy"), np.tanh(z), atol=1e-6)
    handmade(model, meta={**HANDMADE_META, "latent": "uniform"})
    one_line(run_cli("sample", "--model", "tanh.onnx", "-n", "5", "--seed", "11", "--out", "u.npy", cwd=tmp_path))
    u = np.random.default_rng(11).random((5, 4), dtype=np.float32) * 2 - 1
    np.testing.assert_allclose(np.load(tmp_path / "u.npy"), np.tanh(u), atol=1e-6)


def test_default_model_and_output_give_a_scatter_over_the_real_data(ring_export, tmp_path):
    home = ring_export.home
    (home / "samples.png").unlink(missing_ok=True)
    line = one_line(run_cli("sample", cwd=home))  # runs/latest/G.onnx -> samples.png
    assert line.startswith("wrote 64 samples of shape [2] to samples.png (onnxruntime, CPUExecutionProvider; seed ")
    seed = int(re.search(r"seed (\d+)\)", line).group(1))
    with Image.open(home / "samples.png") as img:
        pixels = np.asarray(img.convert("RGB"))
    assert pixels.shape == (512, 512, 3)
    colours = {tuple(c) for c in pixels.reshape(-1, 3)}
    assert (170, 170, 170) in colours and (31, 119, 180) in colours  # the real ring in grey, the samples in blue
    # the seed it reports repeats the draw
    one_line(run_cli("sample", "--seed", str(seed), "--out", "again.png", cwd=home))
    assert (home / "again.png").read_bytes() == (home / "samples.png").read_bytes()


def test_image_grid_and_batch_size_independence(digits_export, tmp_path):
    one_line(run_cli("sample", "--model", str(digits_export.onnx), "-n", "10", "--out", "g.png", cwd=tmp_path))
    with Image.open(tmp_path / "g.png") as img:
        assert img.mode == "L" and img.size == (366, 276)  # 4 x 3 cells of 28 + 2 px, blown up 3 times
    args = ("sample", "--model", str(digits_export.onnx), "-n", "33", "--seed", "4")
    one_line(run_cli(*args, "--batch-size", "1", "--out", "one.npy", cwd=tmp_path))
    one_line(run_cli(*args, "--batch-size", "8", "--out", "eight.npy", cwd=tmp_path))
    np.testing.assert_array_equal(np.load(tmp_path / "one.npy"), np.load(tmp_path / "eight.npy"))


def test_interpolate_walks_between_random_latents(digits_export, tmp_path):
    args = ("sample", "--model", str(digits_export.onnx), "-n", "11", "--interpolate", "6", "--seed", "2")
    line = one_line(run_cli(*args, "--out", "walk.npy", cwd=tmp_path))
    assert "wrote 2 latent walks of 6 steps" in line
    walk = np.load(tmp_path / "walk.npy")
    assert walk.shape == (2, 6, 1, 28, 28)
    ends = latents.draw(4, 64, "normal", seed=2)
    G = OnnxGenerator(digits_export.onnx, device="cpu")
    np.testing.assert_allclose(walk[:, 0], G(ends[:2]), atol=1e-5)
    np.testing.assert_allclose(walk[:, -1], G(ends[2:]), atol=1e-5)
    assert np.abs(np.diff(walk, axis=1)).sum(axis=(2, 3, 4)).min() > 0  # every step moves
    one_line(run_cli(*args, "--out", "walk.png", cwd=tmp_path))
    with Image.open(tmp_path / "walk.png") as img:
        assert img.size == (364, 124)  # one walk per row: 6 x 2 cells, blown up twice


BLOCK_TRAINING_EXTRA = f"""
# Make the training extra absent, as after 'pip install gantool': the path finder no longer finds it.
import importlib.machinery

_find_spec = importlib.machinery.PathFinder.find_spec
BLOCKED = {set(TRAINING_ONLY)!r}


def find_spec(cls, name, path=None, target=None):
    if name.partition(".")[0] in BLOCKED:
        return None
    return _find_spec(name, path, target)


importlib.machinery.PathFinder.find_spec = classmethod(find_spec)
"""


def test_onnx_sampling_imports_no_torch_and_works_without_it(ring_export, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gantool", "sample", "--model", str(ring_export.onnx), "--out", str(tmp_path / "a.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "onnxruntime" in modules and "PIL.Image" in modules
    assert not {m.partition(".")[0] for m in modules} & set(TRAINING_ONLY)

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(BLOCK_TRAINING_EXTRA))
    absent = {"PYTHONPATH": str(site)}
    args = ("sample", "--model", str(ring_export.onnx), "--seed", "5", "--out")
    one_line(spawn_cli(*args, str(tmp_path / "light.npy"), env=absent))  # a process: sitecustomize hides torch
    one_line(run_cli(*args, str(tmp_path / "full.npy")))
    np.testing.assert_array_equal(np.load(tmp_path / "light.npy"), np.load(tmp_path / "full.npy"))
    info = spawn_cli("info", env=absent)
    assert info.returncode == 0, info.stderr
    assert re.search(r"^torch\s+not installed: ONNX sampling works without it", info.stdout, re.M), info.stdout
    assert re.search(r"^onnxruntime\s+\d", info.stdout, re.M)
    torch_runtime = '--runtime torch needs torch: pip install "gantool[train]", or sample an export with --runtime onnx'
    for command, message in (
        (("sample", "--runtime", "torch"), torch_runtime),
        (("export",), 'torch is not installed; exporting needs the training extra: pip install "gantool[train]"'),
    ):
        proc = spawn_cli(*command, cwd=ring_export.home, env=absent)
        assert proc.returncode == 2 and proc.stderr.strip() == f"error: {message}", proc.stderr


def test_exactly_one_onnxruntime_is_required_on_every_platform():
    """onnxruntime and onnxruntime-gpu overwrite each other's files: the markers must never pick both, nor neither."""
    deps = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]["dependencies"]
    runtimes = [r for r in map(Requirement, deps) if r.name in ("onnxruntime", "onnxruntime-gpu")]
    for system, machine in [("linux", "x86_64"), ("linux", "aarch64"), ("win32", "AMD64"), ("win32", "ARM64"), ("darwin", "arm64")]:
        chosen = [r.name for r in runtimes if Marker(str(r.marker)).evaluate({"sys_platform": system, "platform_machine": machine})]
        gpu_build = system in ("linux", "win32") and machine in ("x86_64", "AMD64")
        assert chosen == (["onnxruntime-gpu"] if gpu_build else ["onnxruntime"]), (system, machine, chosen)


@pytest.mark.parametrize("command", ["sample", "export", "serve", "info", "models"])
def test_help_imports_no_torch(command):
    args = [sys.executable, "-X", "importtime", "-m", "gantool", command, "--help"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "gantool.cli.app" in modules and not {m.partition(".")[0] for m in modules} & {*TRAINING_ONLY, "numpy", "onnxruntime"}


def test_info(tmp_path):
    proc = run_cli("info", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["torch"]["version"].startswith("2.") and report["onnx"]
    ort = report["onnxruntime"]
    assert "CPUExecutionProvider" in ort["providers"] and ort["distribution"] in ("onnxruntime-gpu", "onnxruntime")
    expected = "CUDAExecutionProvider" if gpu.cuda_devices() and "CUDAExecutionProvider" in ort["providers"] else "CPUExecutionProvider"
    assert ort["auto_device"] == expected
    text = run_cli("info").stdout
    for label in ("gantool", "onnxruntime", "providers", "sampling on", "CUDA GPUs", "torch"):
        assert re.search(rf"^{label}\s", text, re.M), text


def test_a_cuda_provider_that_cannot_start_falls_back_quietly(ring_export):
    """Where CUDA cannot start, onnxruntime prints a page of errors on its own; gantool's session keeps quiet."""
    cuda = "[('CUDAExecutionProvider', {'device_id': '0', 'use_tf32': '0'}), 'CPUExecutionProvider']"
    plain = f"import sys, onnxruntime as ort; print(ort.InferenceSession(sys.argv[1], providers={cuda}).get_providers()[0])"
    ours = (
        f"import sys; from gantool.inference.onnx_runtime import open_session; print(open_session(sys.argv[1], {cuda}).get_providers()[0])"
    )
    runs = [subprocess.run([sys.executable, "-c", code, str(ring_export.onnx)], capture_output=True, text=True) for code in (plain, ours)]
    for proc in runs:
        assert proc.returncode == 0 and proc.stdout.strip() in ("CUDAExecutionProvider", "CPUExecutionProvider"), proc.stderr
    if runs[0].stdout.strip() == "CPUExecutionProvider":  # CUDA could not start here: onnxruntime alone complains
        assert "CUDA" in runs[0].stderr
    assert runs[1].stderr == ""


@pytest.fixture
def workdir(tmp_path, ring_export):
    """A folder with a run, its export, and the broken files the bad-input table points at."""
    import shutil

    shutil.copytree(ring_export.home / "runs", tmp_path / "runs", symlinks=True)
    shutil.copy(ring_export.onnx, tmp_path / "G.onnx")
    (tmp_path / "text.onnx").write_text("not a model\n")
    (tmp_path / "empty.onnx").write_bytes(b"")
    handmade(tmp_path / "plain.onnx", meta=None)
    handmade(tmp_path / "shape.onnx", z_shape=("batch", 3), x_shape=("batch", 3))
    handmade(tmp_path / "fixed.onnx", z_shape=(1, 4), x_shape=(1, 4))
    handmade(tmp_path / "garbled.onnx", meta={**HANDMADE_META, "latent_dim": "four"})
    handmade(tmp_path / "prior.onnx", meta={**HANDMADE_META, "latent": "cauchy"})
    handmade(tmp_path / "critic.onnx", meta={**HANDMADE_META, "kind": "discriminator"})
    handmade(tmp_path / "vector.onnx", {**HANDMADE_META, "latent_dim": "3", "data_shape": "[3]"}, ("batch", 3), ("batch", 3))
    (tmp_path / "a-file").write_text("")
    (tmp_path / "folder.npy").mkdir()
    (tmp_path / "norun").mkdir()
    return tmp_path


BAD = [
    (("-n", "0"), "-n must be a whole number of at least 1, got 0"),
    (("-n", "-3"), "-n must be a whole number of at least 1, got -3"),
    (("-n", "many"), "Invalid value for '-n'"),
    (("--batch-size", "0"), "--batch-size must be a whole number of at least 1"),
    (("--interpolate", "1"), "--interpolate must be a whole number of at least 2"),
    (("--seed", "-1"), "--seed must be a whole number of at least 0"),
    (("--model", "missing.onnx"), "missing.onnx does not exist: export a run with 'gantool export' or pass --model FILE.onnx"),
    (("--model", "norun"), "norun/G.onnx does not exist"),
    (("--model", "text.onnx"), "text.onnx is not an ONNX model onnxruntime can load (Protobuf parsing failed.)"),
    (("--model", "empty.onnx"), "empty.onnx is not an ONNX model onnxruntime can load"),
    (("--model", "runs/first/G.safetensors"), "sample a run's weights with --runtime torch, or export them first"),
    (("--model", "plain.onnx"), "plain.onnx carries no gantool metadata: point --model at a file written by 'gantool export'"),
    (("--model", "garbled.onnx"), "garbled.onnx has malformed gantool metadata (latent_dim is not JSON: 'four')"),
    (("--model", "prior.onnx"), "latent must be one of normal, uniform, got 'cauchy'"),
    (("--model", "critic.onnx"), "critic.onnx holds a discriminator, not a generator"),
    (("--model", "shape.onnx"), "shape.onnx takes input 'z' shaped (batch, 3) float, but a gantool generator takes (batch, 4) float"),
    (("--model", "fixed.onnx"), "fixed.onnx takes input 'z' shaped (1, 4) float"),
    (("--model", "vector.onnx", "--out", "v.png"), "data of shape [3] has no picture: write --out FILE.npy instead"),
    (("--out", "samples.jpg"), "--out samples.jpg must end in .png (a picture), .npy (the raw array), or .gif or .webp (an animated walk)"),
    (("--out", "nowhere/s.png"), "--out nowhere/s.png: the folder nowhere does not exist"),
    (("--out", "a-file/s.png"), "a-file is not a folder"),
    (("--out", "folder.npy"), "--out folder.npy is a folder: name a file in it"),
    (("--runtime", "jax"), "--runtime must be onnx or torch, got 'jax'"),
    (("--device", "tpu"), "--device must be auto, cpu, cuda or cuda:N, got 'tpu'"),
    (("--ema",), "--ema/--no-ema choose a run's weights for --runtime torch; an ONNX file holds the weights it was exported with"),
    (("--runtime", "torch", "--model", "G.onnx"), "--runtime torch samples a run folder, not the file G.onnx"),
    (("--runtime", "torch", "--ema"), "has no averaged weights (G_ema.safetensors)"),
    (("--runtime", "torch", "--model", "norun"), "norun has no G.safetensors"),
]
if not gpu.cuda_devices():
    BAD += [
        (("--device", "cuda"), "use --device cpu"),
        (("--runtime", "torch", "--device", "cuda"), "no usable CUDA GPU is visible; use --device cpu"),
    ]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(workdir, args, message):
    proc = run_cli("sample", *args, cwd=workdir)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not (workdir / "samples.png").exists()


def test_no_run_yet(tmp_path):
    proc = run_cli("sample", cwd=tmp_path)
    assert proc.returncode == 2 and "there is no run yet (runs/latest is missing)" in proc.stderr and len(proc.stderr.splitlines()) == 1
