"""--channels-last on the DCGAN pair: the weights train channels-last, the run matches the default layout's to float
noise, it resumes bit for bit, and what it saves loads anywhere (safetensors holds plain contiguous tensors)."""

from __future__ import annotations

import torch

from gantool.store import tensors
from gantool.training.config import build_config, resolve_config
from gantool.training.ranks import Ranks
from gantool.training.run import train
from gantool.training.setup import build_networks
from tests.conftest import assert_same_run

PAIR = {"gen": "dcgan", "gen_opt": {"width": 8}, "disc_opt": {"width": 8}, "batch_size": 16, "device": "cpu", "log_every": 3}


def weights(run, name="G.safetensors"):
    return tensors.load_tensors(run / name)[0]


def test_channels_last_trains_the_same_networks_to_float_noise(tmp_path):
    plain = train(build_config({**PAIR, "steps": 3}), run_dir=tmp_path / "plain")
    nhwc = train(build_config({**PAIR, "steps": 3, "channels_last": True}), run_dir=tmp_path / "nhwc")
    for name in ("G.safetensors", "D.safetensors"):
        a, b = weights(plain, name), weights(nhwc, name)
        assert a.keys() == b.keys()
        for key in a:
            assert b[key].is_contiguous(), key  # saved as plain tensors, whatever the layout in training
            torch.testing.assert_close(a[key], b[key], rtol=1e-3, atol=1e-4, msg=f"{name}: {key}")
    assert "channels_last = true" in (nhwc / "config.toml").read_text()


def test_a_channels_last_run_resumes_exactly(tmp_path):
    settings = {**PAIR, "channels_last": True, "ema": 0.9}
    straight = train(build_config({**settings, "steps": 6}), run_dir=tmp_path / "straight")
    half = train(build_config({**settings, "steps": 3}), run_dir=tmp_path / "halves")
    train(resolve_config({"steps": 6}, resume=half), resume=half)
    assert_same_run(straight, half)


def test_the_loop_holds_the_weights_channels_last():
    cfg = build_config({**PAIR, "steps": 1, "channels_last": True})
    nets = build_networks(cfg, (3, 32, 32), 0, Ranks(), torch.device("cpu"), console=None)
    convs = [p for p in [*nets.G.parameters(), *nets.D.parameters()] if p.ndim == 4]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    assert all(not p.is_contiguous() for p in convs if p.shape[1] > 1 and p.shape[2] * p.shape[3] > 1)
