"""A conditional GAN on stacked-mnist's 1,000 classes: trained a few steps with the dcgan plugin's convolutional pair,
exported with its 1,000-class label input, sampled through onnxruntime by triple; its grid shows 10 spread classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from gantool.inference.onnx_runtime import OnnxGenerator
from tests.conftest import run_cli

pytest.importorskip("gantool_dcgan", reason="the dcgan plugin (plugins/gantool-dcgan) is installed with gantool's test environment")


@pytest.mark.slow  # trains, exports and samples a generator with a 1,000-class embedding: about 20 s on 2 cores
def test_a_conditional_dcgan_on_1000_triples_exports_and_samples_by_label(tmp_path: Path):
    run = tmp_path / "run"
    args = ["--data", "stacked-mnist", "--data-opt", "n=20000", "--conditional", "--gen", "dcgan", "--gen-opt", "width=8"]
    args += ["--disc-opt", "width=8", "--steps", "3", "--batch-size", "16", "--device", "cpu", "--run-dir", str(run)]
    proc = run_cli("train", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    grid = Image.open(run / "samples.png")  # 10 rows (000, 111, ..., 999) of 8, not 1,000 rows
    assert grid.size[1] < 2 * grid.size[0] < 1000

    proc = run_cli("export", str(run), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    model = onnx.load(run / "G.onnx")
    assert [i.name for i in model.graph.input] == ["z", "y"]
    assert model.graph.input[1].type.tensor_type.elem_type == onnx.TensorProto.INT64
    info = OnnxGenerator(run / "G.onnx", "cpu").info
    assert info.classes is not None and len(info.classes) == 1000 and info.classes[123] == "123"

    out = tmp_path / "s.npy"
    proc = run_cli("sample", "--model", str(run / "G.onnx"), "--label", "123,999", "-n", "6", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    samples, labels = np.load(out), np.load(tmp_path / "s.labels.npy")
    assert samples.shape == (6, 3, 28, 28) and np.abs(samples).max() <= 1
    assert sorted(set(labels.tolist())) == [123, 999]
    proc = run_cli("sample", "--model", str(run / "G.onnx"), "--label", "1000", "-n", "2", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
