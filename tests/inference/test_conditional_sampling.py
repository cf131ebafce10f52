"""A conditional generator end to end through the real CLI: trained on a third-party plugin's labelled data,
exported with a label input, sampled by class through onnxruntime and torch alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from gantool.core.errors import GantoolError
from gantool.inference.onnx_runtime import OnnxGenerator
from tests.conftest import run_cli

CORNERS = {"sw": (-0.5, -0.5), "nw": (-0.5, 0.5), "se": (0.5, -0.5), "ne": (0.5, 0.5)}


@pytest.fixture(scope="module")
def square_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test plugin's conditional pair (written to docs/plugins.md's contract alone) on its labelled square, exported."""
    home = tmp_path_factory.mktemp("cond")
    args = ("--gen", "test-cond", "--data", "test-labelled-square", "--conditional", "--steps", "600", "--lr", "2e-3")
    proc = run_cli("train", *args, "--batch-size", "64", "--device", "cpu", "--run-dir", "run", cwd=home)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("export", "run", cwd=home)
    assert proc.returncode == 0, proc.stderr
    return home


def test_export_takes_an_int64_label_and_names_the_classes(square_run):
    session = ort.InferenceSession(str(square_run / "run" / "G.onnx"), providers=["CPUExecutionProvider"])
    z, y = session.get_inputs()
    assert (z.name, y.name, y.type) == ("z", "y", "tensor(int64)")
    assert not isinstance(y.shape[0], int)  # the batch axis is free, as the latents'
    assert OnnxGenerator(square_run / "run" / "G.onnx", "cpu").info.classes == ("sw", "nw", "se", "ne")


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_samples_obey_their_labels(square_run, runtime):
    model = "run/G.onnx" if runtime == "onnx" else "run"
    for name, corner in CORNERS.items():
        out = f"{runtime}-{name}.npy"
        proc = run_cli(
            "sample", "--runtime", runtime, "--model", model, "--label", name, "-n", "300", "--seed", "3", "--out", out, cwd=square_run
        )
        assert proc.returncode == 0, proc.stderr
        points = np.load(square_run / out)
        assert np.abs(np.median(points, axis=0) - corner).max() < 0.1, (name, np.median(points, axis=0))
        assert (np.load(square_run / f"{runtime}-{name}.labels.npy") == list(CORNERS).index(name)).all()


def test_one_seed_gives_the_same_samples_and_labels_in_both_runtimes(square_run):
    for runtime, model in (("onnx", "run/G.onnx"), ("torch", "run")):
        proc = run_cli(
            "sample", "--runtime", runtime, "--model", model, "--seed", "11", "-n", "50", "--out", f"{runtime}.npy", cwd=square_run
        )
        assert proc.returncode == 0, proc.stderr
    labels = np.load(square_run / "onnx.labels.npy")
    assert labels.dtype == np.int64 and len(set(labels.tolist())) > 1  # drawn uniformly, not all one class
    assert (labels == np.load(square_run / "torch.labels.npy")).all()
    assert np.abs(np.load(square_run / "onnx.npy") - np.load(square_run / "torch.npy")).max() < 1e-5


def test_label_all_gives_a_block_per_class_in_class_order(square_run):
    proc = run_cli("sample", "--model", "run/G.onnx", "--label", "all", "-n", "8", "--seed", "1", "--out", "all.png", cwd=square_run)
    assert proc.returncode == 0, proc.stderr
    assert (square_run / "all.labels.txt").read_text().split() == ["sw"] * 2 + ["nw"] * 2 + ["se"] * 2 + ["ne"] * 2
    proc = run_cli("sample", "--model", "run/G.onnx", "--label", "3,0", "-n", "4", "--seed", "1", "--out", "two.npy", cwd=square_run)
    assert proc.returncode == 0, proc.stderr
    assert np.load(square_run / "two.labels.npy").tolist() == [3, 3, 0, 0]


def test_the_torch_free_sampler_needs_nothing_more(square_run):
    code = (
        "import sys, numpy as np\n"
        "from gantool.inference.sampling import sample\n"
        "sample(6, model='run/G.onnx', label='nw', seed=2, out='light.npy')\n"
        "assert 'torch' not in sys.modules and 'onnx' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=square_run, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert np.load(square_run / "light.npy").shape == (6, 2)


BAD = [
    (("--label", "7"), "--label 7 is out of range: this model has 4 classes, 0 to 3 (sw, nw, se, ne)"),
    (("--label", "north"), "--label north is not a class of this model; its classes are: sw, nw, se, ne"),
    (("--label", ","), "--label needs a class: a number, a class name, a comma-separated list, or all"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_labels_are_one_line_and_exit_2(square_run, args, message):
    proc = run_cli("sample", "--model", "run/G.onnx", *args, "--out", "x.png", cwd=square_run)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: {message}"]


def test_a_label_for_an_unconditional_model_is_refused(ring_export):
    proc = run_cli("sample", "--model", str(ring_export.run / "G.onnx"), "--label", "3", "--out", "x.png", cwd=ring_export.home)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --label needs a conditional model (trained with --conditional); this one is unconditional: leave out --label"
    ]


def test_a_conditional_onnx_file_fed_without_labels_is_one_line(square_run):
    generator = OnnxGenerator(square_run / "run" / "G.onnx", "cpu")
    with pytest.raises(GantoolError, match="is a conditional generator: give one label per latent"):
        generator(np.zeros((3, 64), dtype=np.float32))
    with pytest.raises(GantoolError, match="label 9 is out of range"):
        generator(np.zeros((2, 64), dtype=np.float32), labels=np.array([0, 9]))
