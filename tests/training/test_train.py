"""Training runs through the Python API: the files a run leaves and what they hold."""

from __future__ import annotations

import json
import math

import pytest
import torch

from gantool.core.errors import GantoolError
from gantool.plugins.registry import get_registry
from gantool.store import tensors as ckpt
from gantool.training.config import build_config, resolve_config
from gantool.training.run import train
from gantool.training.steps import learning_rate


def quick(tmp_path, **overrides):
    settings = {"data": "ring", "data_opt": {"n": 2000}, "steps": 30, "batch_size": 32, "log_every": 10, "device": "cpu"}
    settings.update(overrides)
    return train(build_config(settings), run_dir=tmp_path / "run")


def test_run_folder_holds_everything(tmp_path):
    run = quick(tmp_path)
    for name in (
        "config.toml",
        "G.safetensors",
        "G_ema.safetensors",
        "D.safetensors",
        "checkpoint.safetensors",
        "metrics.jsonl",
        "samples.png",
    ):
        assert (run / name).is_file(), name
    assert len(list((run / "samples").glob("step_*.png"))) == 10
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 31))
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_loss_real", "d_loss_fake"} <= set(rows[0])
    assert all(0 <= r["d_real"] <= 1 and 0 <= r["d_fake"] <= 1 for r in rows)
    meta = ckpt.read_metadata(run / "G.safetensors")
    assert meta["component"] == "mlp" and meta["kind"] == "generator"
    assert json.loads(meta["data_shape"]) == [2] and meta["latent"] == "normal" and meta["latent_dim"] == "64"
    assert meta["gantool_version"] and json.loads(meta["step"]) == 30
    assert ckpt.read_metadata(run / "D.safetensors")["component"] == "mlp"
    # the run's config reproduces the run
    assert (
        resolve_config(resume=run).to_dict()
        == build_config(
            {"data": "ring", "data_opt": {"n": 2000}, "steps": 30, "batch_size": 32, "log_every": 10, "device": "cpu"}
        ).to_dict()
    )


def test_no_file_in_a_run_is_a_pickle(tmp_path):
    run = quick(tmp_path)
    for path in run.rglob("*.safetensors"):
        tensors, _ = ckpt.load_tensors(path)
        assert tensors
        assert not path.read_bytes().startswith(b"\x80")  # pickle protocol 2+ magic


@pytest.mark.slow  # long training: 1,500 steps
def test_training_moves_the_generator_towards_the_data(tmp_path):
    """On the ring, after a short run, samples sit much nearer the circle than at the start."""
    from gantool.plugins.builtin.datasets import ring_modes
    from gantool.plugins.registry import get_registry

    run = quick(tmp_path, steps=1500, batch_size=128, lr=1e-3, data_opt={})
    tensors, _ = ckpt.load_tensors(run / "G.safetensors")
    G = get_registry().create("generator", "mlp", 64, (2,))
    G.load_state_dict(tensors)
    untrained = get_registry().create("generator", "mlp", 64, (2,))
    centres = torch.tensor(ring_modes()[0])
    z = torch.randn(2000, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        trained_err = torch.cdist(G(z), centres).min(1).values.median()
        untrained_err = torch.cdist(untrained(z), centres).min(1).values.median()
    assert trained_err < 0.1 < untrained_err


@pytest.mark.parametrize(
    "overrides",
    [
        {"gen": "mlp-deep", "latent_dim": 100},
        {"gen": "mlp-bn", "loss": "lsgan"},
        {"gen": "mlp-small", "latent": "uniform", "loss": "minimax", "loss_opt": {"label_smoothing": 0.1}},
        {"d_steps": 2},
        {"data": "digits", "data_opt": {}, "steps": 5, "gen": "mlp", "disc": "mlp-small"},
    ],
)
def test_component_combinations_train(tmp_path, overrides):
    run = quick(tmp_path, **overrides)
    rows = (run / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == overrides.get("steps", 30)
    assert all(torch.isfinite(torch.tensor(list(json.loads(r).values()))).all() for r in rows)


def test_epochs_count_passes_over_the_data(tmp_path):
    run = quick(tmp_path, steps=None, epochs=1.5, batch_size=100)  # 2000 samples: 20 batches an epoch
    assert json.loads(ckpt.read_metadata(run / "G.safetensors")["step"]) == 30


def test_resume_continues_from_the_checkpoint(tmp_path):
    run = quick(tmp_path, steps=20)
    cfg = resolve_config({"steps": 40}, resume=run)
    train(cfg, resume=run)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 41))
    with pytest.raises(GantoolError, match="already at step 40"):
        train(resolve_config(resume=run), resume=run)


def test_the_weight_average_is_on_by_default_and_ema_0_turns_it_off(tmp_path):
    averaged = quick(tmp_path / "a", steps=10)
    assert json.loads(ckpt.read_metadata(averaged / "G_ema.safetensors")["ema"]) == 0.999
    assert "ema" not in ckpt.read_metadata(averaged / "G.safetensors")
    assert "\nema = 0.999\n" in (averaged / "config.toml").read_text()
    plain = quick(tmp_path / "b", steps=10, ema=0)  # 'ema = 0' as a TOML file would say it
    assert not (plain / "G_ema.safetensors").exists()
    assert not any(k.startswith("G_ema.") for k in ckpt.load_tensors(plain / "checkpoint.safetensors")[0])
    assert "\nema = 0.0\n" in (plain / "config.toml").read_text()  # recorded, so a resume cannot take the default
    assert resolve_config(resume=plain).ema == 0.0 and resolve_config(resume=averaged).ema == 0.999


def test_a_resumed_run_whose_config_says_nothing_of_ema_goes_on_without_an_average(tmp_path):
    """Runs trained before the average was on by default wrote no ema key when they had none."""
    run = quick(tmp_path, steps=10, ema=0)
    config = run / "config.toml"
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True) if not line.startswith("ema =")))
    cfg = resolve_config({"steps": 20}, resume=run)
    assert cfg.ema == 0.0
    train(cfg, resume=run)
    assert not (run / "G_ema.safetensors").exists() and "\nema = 0.0\n" in config.read_text()
    # --ema on the command line still wins: the average starts from G where the run goes on
    train(resolve_config({"steps": 30, "ema": 0.99}, resume=run), resume=run)
    assert json.loads(ckpt.read_metadata(run / "G_ema.safetensors")["ema"]) == 0.99
    # --ema 0 now would leave that average stale: refused, and the file stays
    with pytest.raises(GantoolError, match="would leave stale"):
        train(resolve_config({"steps": 40, "ema": 0.0}, resume=run), resume=run)
    assert (run / "G_ema.safetensors").is_file() and json.loads(ckpt.read_metadata(run / "G.safetensors")["step"]) == 30


def test_lr_decay_falls_linearly_to_zero_over_the_last_fraction(tmp_path):
    cfg = build_config({"lr": 1e-3, "lr_decay": 0.5})
    rates = [learning_rate(cfg.lr, cfg.lr_decay, step, 100) for step in range(1, 101)]
    assert rates[:51] == [1e-3] * 51  # steps 1-50 at --lr, and step 51 starts the fall from it
    assert all(rates[i] > rates[i + 1] for i in range(50, 99))
    assert rates[-1] == pytest.approx(1e-3 / 50)
    assert learning_rate(1e-3, 0.0, 100, 100) == 1e-3
    # a real run applies it: the same run without the decay ends with other weights
    settings = {"data": "ring", "data_opt": {"n": 500}, "batch_size": 32, "device": "cpu", "steps": 30}
    decayed = train(build_config({**settings, "lr_decay": 0.5}), run_dir=tmp_path / "a")
    plain = train(build_config(settings), run_dir=tmp_path / "b")
    a, b = ckpt.load_tensors(decayed / "G.safetensors")[0], ckpt.load_tensors(plain / "G.safetensors")[0]
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_config_precedence(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('gen = "mlp-small"\nbatch-size = 16\nlr = 0.001\n[gen_opt]\nhidden = 32\n')
    cfg = resolve_config({"lr": 0.005, "gen_opt": {"hidden": 8}}, config_file=toml)
    assert (cfg.gen, cfg.batch_size, cfg.lr, cfg.gen_opt) == ("mlp-small", 16, 0.005, {"hidden": 8})
    toml.write_text("unknown_setting = 3\n")
    with pytest.raises(GantoolError, match="unknown setting unknown_setting"):
        resolve_config({}, config_file=toml)


def test_a_generator_that_breaks_the_contract_is_named():
    from gantool.plugins.registry import get_registry
    from gantool.training.setup import check_shapes

    G = get_registry().create("generator", "mlp", 8, (3,))  # makes 3-vectors
    D = get_registry().create("discriminator", "mlp", (2,))
    with pytest.raises(GantoolError, match="generator 'mlp' returned shape"):
        check_shapes(G, D, build_config({"latent_dim": 8}), (2,), torch.device("cpu"))


@pytest.mark.slow  # torch.compile
def test_amp_and_compile_train_and_save_plain_weights(tmp_path):
    """--amp bf16 and --compile change how steps run, not what a run holds: weights stay float32 under their own names."""
    run = quick(tmp_path, steps=12, amp="bf16", compile=True, gen="mlp-bn")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in rows)
    tensors, _ = ckpt.load_tensors(run / "G.safetensors")
    plain = get_registry().create("generator", "mlp-bn", 64, (2,)).state_dict()
    assert tensors.keys() == plain.keys()  # no "_orig_mod." prefixes from torch.compile
    assert all(t.dtype == plain[k].dtype for k, t in tensors.items())
    with pytest.raises(GantoolError, match="--amp must be none or bf16"):
        build_config({"amp": "fp8"})


def test_the_whole_batch_check_leaves_no_trace():
    """check_shapes calls D in training mode on a whole batch: BatchNorm's statistics and the random stream stay as they were."""
    from gantool.training.setup import check_shapes

    G = get_registry().create("generator", "mlp", 8, (2,))
    D = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 1))
    D[1].running_mean.fill_(0.25)
    before = [b.clone() for b in D.buffers()]
    rng = torch.get_rng_state()
    check_shapes(G, D, build_config({"latent_dim": 8, "batch_size": 16}), (2,), torch.device("cpu"))
    assert D.training and all(torch.equal(a, b) for a, b in zip(before, D.buffers()))
    assert torch.equal(rng, torch.get_rng_state())
