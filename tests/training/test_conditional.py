"""Class-conditional training (--conditional): each conditioning mode trains, resumes exactly, compiles, and refuses
what it cannot do in one line."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gantool.core.errors import GantoolError
from gantool.store import tensors as ckpt
from gantool.training.config import build_config
from gantool.training.run import train
from gantool.training.watch import Watch
from tests.conftest import run_cli

DIGITS = {"data": "digits", "conditional": True, "batch_size": 32, "log_every": 5, "device": "cpu", "gen_opt": {"hidden": 64}}


def quick(tmp_path, name="run", **overrides):
    settings = {**DIGITS, "steps": 10, "disc_opt": {"hidden": 64}, **overrides}
    return train(build_config(settings), run_dir=tmp_path / name)


@pytest.mark.parametrize("cond", ["concat", "projection", "acgan"])
def test_each_conditioning_mode_trains_and_says_so_in_the_metadata(tmp_path, cond):
    run = quick(tmp_path, disc_opt={"hidden": 64, "cond": cond}, ema=0.9)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 10 and all(abs(r["d_loss"]) < 1e3 for r in rows)
    for name in ("G.safetensors", "G_ema.safetensors"):
        assert json.loads(ckpt.read_metadata(run / name)["classes"]) == [str(d) for d in range(10)]
    d_meta = ckpt.read_metadata(run / "D.safetensors")
    assert json.loads(d_meta["num_classes"]) == 10 and json.loads(d_meta["options"])["cond"] == cond
    grid = Image.open(run / "samples.png")
    assert grid.height > 1.2 * grid.width  # a row of 8 per class: 10 rows, taller than wide


@pytest.mark.slow  # torch.compile
def test_a_conditional_run_compiles(tmp_path):
    run = quick(tmp_path, steps=4, compile=True, gen="mlp-small", disc_opt={})
    assert "classes" in ckpt.read_metadata(run / "G.safetensors")


def test_the_acgan_class_term_is_cross_entropy_of_logits_not_of_a_softmax():
    """A softmax before the cross-entropy (a bug several AC-GAN implementations shipped) gives another number."""
    torch.manual_seed(0)
    logits = torch.randn(6, 1 + 4)
    labels = torch.tensor([0, 1, 2, 3, 0, 1])
    watch = Watch(torch.nn.Identity(), call=lambda x, y: logits)
    real, fake = torch.zeros(6, 2), torch.ones(6, 2)
    watch.watch(real, fake, labels)
    assert watch(real).shape == (6, 1) and watch(fake).shape == (6, 1)  # the loss sees the logit alone
    expected = 2 * F.cross_entropy(logits[:, 1:], labels)
    assert torch.allclose(watch.class_loss(real, fake), expected)
    assert not torch.allclose(expected, 2 * F.cross_entropy(logits[:, 1:].softmax(1), labels))


def test_labels_reach_the_gradient_penalties_of_the_losses_plugin(tmp_path):
    for loss in ("wgan-gp", "r1"):
        run = quick(tmp_path, name=loss, loss=loss, steps=4)
        assert (run / "G.safetensors").is_file()


def test_an_image_folder_trains_on_a_class_per_folder(tmp_path):
    for cls, value in (("dark", 40), ("light", 220)):
        (tmp_path / "images" / cls).mkdir(parents=True)
        for i in range(20):
            Image.fromarray(torch.full((12, 12), value + i, dtype=torch.uint8).numpy()).save(tmp_path / "images" / cls / f"{i}.png")
    run = quick(tmp_path, data="image-folder", data_opt={"path": str(tmp_path / "images"), "size": 12}, batch_size=8, steps=3)
    assert json.loads(ckpt.read_metadata(run / "G.safetensors")["classes"]) == ["dark", "light"]
    (tmp_path / "images" / "empty").mkdir()
    with pytest.raises(GantoolError, match="class 'empty' of dataset 'image-folder' has no samples"):
        quick(tmp_path, name="again", data="image-folder", data_opt={"path": str(tmp_path / "images"), "size": 12}, batch_size=8)


BAD = [
    (("--data", "ring"), "dataset 'ring' has no labels, so --conditional cannot train on it: pick a labelled dataset"),
    (
        ("--gen", "test-linear"),
        "generator 'test-linear' (from gantool-testplugin) cannot condition on labels: its factory takes no num_classes",
    ),
    (("--disc", "mlp", "--disc-opt", "cond=both"), "cond must be one of concat, projection, acgan, got 'both'"),
    (("--gen", "mlp", "--disc-opt", "pack=2"), "pack=2 does not combine with conditioning on labels"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_what_cannot_condition_is_refused_in_one_line(tmp_path, args, message):
    proc = run_cli("train", "--conditional", "--steps", "2", "--device", "cpu", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_cond_without_conditional_is_refused_rather_than_ignored(tmp_path):
    proc = run_cli("train", "--disc-opt", "cond=acgan", "--steps", "2", "--device", "cpu", cwd=tmp_path)
    assert proc.returncode == 2
    assert "cond=acgan conditions D on labels: train with --conditional, or leave out cond" in proc.stderr
