"""A step's two halves (training.steps), and --reuse-fakes: G's step on the fakes D's last update judged."""

from __future__ import annotations

import json
from contextlib import ExitStack

import pytest
import torch
from rich.console import Console

from gantool.core.errors import GantoolError
from gantool.training.config import build_config, resolve_config
from gantool.training.ranks import Ranks
from gantool.training.run import train
from gantool.training.setup import setup
from gantool.training.steps import d_step, g_step
from gantool.training.watch import Watch

RING = {"data": "ring", "data_opt": {"n": 500}, "batch_size": 32, "device": "cpu", "log_every": 5}


def passes_of_g(tmp_path, steps: int, **settings) -> tuple[int, torch.Tensor]:  # type: ignore[no-untyped-def]
    """Calls of G over ``steps`` steps, counted by a forward hook on the real network; and G's first weight after."""
    cfg = build_config({**RING, "steps": max(steps, 1), **settings})
    with ExitStack() as held:
        run = setup(cfg, tmp_path / "run", False, Console(quiet=True), Ranks(), torch.device("cpu"), held)
        calls = []
        run.nets.G.register_forward_hook(lambda *_: calls.append(1))
        watch, judge = Watch(run.nets.D, call=run.nets.D_train), Watch(run.nets.D, call=run.nets.D_frozen)
        for step in range(1, steps + 1):
            _, real, labels, fake = d_step(run, watch)
            assert (fake is not None) is cfg.reuse_fakes and (fake is None or fake.requires_grad)
            g_step(run, judge, real, labels, step, fake)
        return len(calls), next(run.nets.G.parameters()).detach().clone()


def test_reuse_fakes_passes_g_once_a_step_instead_of_twice(tmp_path):
    plain, _ = passes_of_g(tmp_path / "a", 3)
    reused, _ = passes_of_g(tmp_path / "b", 3, reuse_fakes=True)
    assert (plain, reused) == (6, 3)


def test_with_k_d_updates_only_the_last_ones_fakes_are_kept(tmp_path):
    reused, _ = passes_of_g(tmp_path, 2, reuse_fakes=True, d_steps=3)
    assert reused == 2 * 3  # k passes of G a step: the last one serves G's update as well


def test_g_learns_through_the_kept_fakes(tmp_path):
    """G's update reaches G through the graph kept from D's step: its weights move, and differently than
    with new fakes (the latents of G's step are not drawn)."""
    _, before = passes_of_g(tmp_path / "a", 0, reuse_fakes=True)
    _, reused = passes_of_g(tmp_path / "b", 2, reuse_fakes=True)
    _, plain = passes_of_g(tmp_path / "c", 2)
    assert not torch.equal(before, reused) and not torch.equal(reused, plain)


def test_a_resumed_run_keeps_reused_fakes(tmp_path):
    """The resumed run trains the way it was started (its exactness: tests/training/test_resume.py)."""
    half = train(build_config({**RING, "gen": "mlp-deep", "reuse_fakes": True, "steps": 4}), run_dir=tmp_path / "b")
    assert resolve_config({"steps": 8}, resume=half).reuse_fakes is True


@pytest.mark.parametrize("cond", ["projection", "acgan"])
def test_a_conditional_run_reuses_fakes_with_their_labels(tmp_path, cond):
    settings = {"data": "digits", "conditional": True, "disc_opt": {"cond": cond}, "steps": 12, "batch_size": 16}
    run = train(build_config({**settings, "device": "cpu", "log_every": 4, "reuse_fakes": True}), run_dir=tmp_path / "run")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and all(torch.isfinite(torch.tensor([r["g_loss"], r["d_loss"]])).all() for r in rows)


def test_reuse_fakes_must_be_a_boolean():
    with pytest.raises(GantoolError, match="reuse_fakes must be true or false"):
        build_config({**RING, "reuse_fakes": "yes"})
