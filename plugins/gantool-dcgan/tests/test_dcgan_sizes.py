"""The DCGAN pair at the sizes users train (16 to 256 pixels, grey or colour), conditional or not:
trained a few steps through the CLI on an image folder, exported to ONNX and sampled alike in both runtimes."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gantool.plugins.registry import get_registry
from tests.conftest import run_cli

NEW_SHAPES = [(c, s, s) for s in (16, 64, 128, 256) for c in (1, 3)]
CLASSES = ("blue", "red")
needs_losses = pytest.mark.skipif(importlib.util.find_spec("gantool_losses") is None, reason="hinge comes with gantool-losses")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two classes of colour blobs on noise, one sub-folder each, at a size image-folder has to resize."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for c, name in enumerate(CLASSES):
        (folder / name).mkdir()
        for i in range(6):
            pixels = rng.integers(0, 60, size=(40, 40, 3), dtype=np.uint8)
            pixels[8 + i : 30, 5 + i : 25 + i, 2 * c] = 255
            Image.fromarray(pixels).save(folder / name / f"{i}.png")
    return folder


@pytest.mark.parametrize("data_shape", NEW_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_each_side_doubles_from_4x4(data_shape):
    registry = get_registry()
    G = registry.create("generator", "dcgan", 8, data_shape, width=2)
    D = registry.create("discriminator", "dcgan", data_shape, width=2)
    doublings = int(math.log2(data_shape[1] // 4))
    channels = [2 * 2**i for i in reversed(range(doublings))]  # width 2: 2^k ... 4, 2 from the 4x4 map out
    assert [m.out_channels for m in G.modules() if isinstance(m, nn.ConvTranspose2d)] == [*channels[1:], data_shape[0]]
    assert [m.out_channels for m in D.modules() if isinstance(m, nn.Conv2d)] == [*channels[::-1], 1]
    x = G(torch.randn(3, 8))
    assert x.shape == (3, *data_shape) and D(x).shape == (3, 1)


@pytest.mark.parametrize("side", [16, 28, 32, 64, 128, 256])
def test_conditional_pair_at_every_side(side):
    registry = get_registry()
    for channels in (1, 3):
        shape = (channels, side, side)
        G = registry.create("generator", "dcgan", 8, shape, width=2, num_classes=3)
        x, y = G(torch.randn(4, 8), torch.tensor([0, 1, 2, 0])), torch.tensor([0, 1, 2, 0])
        assert x.shape == (4, *shape)
        for cond, columns in (("projection", 1), ("concat", 1), ("acgan", 4)):
            D = registry.create("discriminator", "dcgan", shape, width=2, num_classes=3, cond=cond)
            assert D(x, y).shape == (4, columns)


@pytest.mark.parametrize(("classes", "latent_dim", "width"), [(3, 8, 3), (10, 16, 10), (10, 4, 10), (1000, 64, 64), (1000, 100, 100)])
def test_the_label_embedding_is_as_wide_as_the_classes_up_to_z(classes, latent_dim, width):
    """1,000 classes (stacked digits) get an embedding as wide as z, not 1,000 columns feeding G's first layer."""
    G = get_registry().create("generator", "dcgan", latent_dim, (3, 28, 28), width=2, num_classes=classes)
    assert G.embed.weight.shape == (classes, width)
    assert G.body[0].in_features == latent_dim + width


def test_a_projection_d_starts_with_a_small_label_term():
    """At N(0, 1) the label's term, summed over D's last map, dwarfed the logit and G collapsed to one image per class."""
    torch.manual_seed(0)
    D = get_registry().create("discriminator", "dcgan", (1, 28, 28), width=32, num_classes=10)
    x = torch.randn(64, 1, 28, 28)
    D.eval()
    with torch.no_grad():
        per_label = torch.stack([D(x, torch.full((64,), k)) for k in range(10)])  # (labels, samples, 1)
    assert per_label.std(dim=0).mean() < 0.5  # in logits: the label shifts D's verdict by a fraction of a unit, not many units


# 9-13 s each on 2 cores: the slow tier; 64x64 RGB and sn stay in the fast tier through the conditional sn/hinge run
LONG = pytest.mark.slow
RUNS = [
    pytest.param(1, 16, (), id="1x16x16"),
    pytest.param(3, 64, (), id="3x64x64", marks=LONG),  # image-folder at 64x64 RGB with nothing but the size and the channels
    pytest.param(1, 64, ("--disc-opt", "pack=2"), id="1x64x64-pack2"),
    pytest.param(3, 128, ("--disc-opt", "sn=true"), id="3x128x128-sn", marks=LONG),
    pytest.param(1, 256, (), id="1x256x256", marks=LONG),
    pytest.param(3, 64, ("--conditional", "--disc-opt", "sn=true", "--loss", "hinge"), id="3x64x64-cond-sn-hinge", marks=needs_losses),
    pytest.param(1, 32, ("--conditional", "--disc-opt", "cond=acgan"), id="1x32x32-cond-acgan"),
]


@pytest.mark.parametrize(("channels", "side", "extra"), RUNS)
def test_trains_exports_and_samples_alike_in_both_runtimes(images, tmp_path, channels, side, extra):
    data = ("--data", "image-folder", "--data-opt", f"path={images}", "--data-opt", f"size={side}", "--data-opt", f"channels={channels}")
    # lr 0.05: three big steps spread G's outputs over (-1, 1), so that matching them proves something
    settings = ("--steps", "3", "--batch-size", "4", "--lr", "0.05", "--ema", "0", "--device", "cpu", "--run-dir", "run")
    proc = run_cli("train", "--gen", "dcgan", *data, "--gen-opt", "width=4", "--disc-opt", "width=4", *extra, *settings, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in rows)
    proc = run_cli("export", "run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    outputs = {}
    for runtime, model in (("onnx", "run/G.onnx"), ("torch", "run")):
        out = f"{runtime}.npy"
        proc = run_cli("sample", "--runtime", runtime, "--model", model, "-n", "5", "--seed", "7", "--out", out, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        outputs[runtime] = np.load(tmp_path / out)
        if "--conditional" in extra:
            outputs[f"{runtime} labels"] = np.load(tmp_path / f"{runtime}.labels.npy")
    assert outputs["onnx"].shape == (5, channels, side, side)
    assert outputs["onnx"].std() > 0.1  # not near-constant
    np.testing.assert_allclose(outputs["onnx"], outputs["torch"], atol=1e-4, rtol=0)
    if "--conditional" in extra:
        assert (outputs["onnx labels"] == outputs["torch labels"]).all()
