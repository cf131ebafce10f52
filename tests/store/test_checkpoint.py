"""The checkpoint's key layout: what to_tensors writes, from_tensors reads back, each rank its own state."""

import json

import pytest
import torch

from gantool.core.errors import GantoolError
from gantool.store.checkpoint import RankState, TrainingState, from_tensors, to_tensors


def rank_state(value: int, perm: bool = True) -> RankState:
    t = torch.tensor([value])
    return RankState(t, t + 10, t + 20, None, torch.arange(3) + value if perm else None)


def state(world: int) -> TrainingState:
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 2)).sum().backward()
    opt.step()
    return TrainingState(
        step=7,
        config={"lr": 0.1},
        networks={"G": {"w": torch.ones(2)}, "D": {"w": torch.zeros(2)}},
        optimizers={"opt_g": opt.state_dict(), "opt_d": opt.state_dict()},
        data={"pos": 3},
        ranks=[rank_state(r) for r in range(world)],
    )


def saved(tensors, meta):
    """What the file's metadata looks like once written: every value a string."""
    return tensors, {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}


def test_every_key_round_trips_and_each_rank_reads_its_own_state():
    tensors, meta = saved(*to_tensors(state(2)))
    assert {"G.w", "D.w", "rng.torch", "data.perm", "rank1.rng.torch", "rank1.data.perm"} <= set(tensors)
    assert json.loads(meta["world_size"]) == 2
    for rank in (0, 1):
        back = from_tensors(tensors, meta, rank, 2, "ckpt")
        own = back.ranks[0]
        assert back.step == 7 and back.config == {"lr": 0.1} and back.data == {"pos": 3}
        assert own.torch_rng.item() == rank and own.latent_rng.item() == rank + 20 and torch.equal(own.perm, torch.arange(3) + rank)
        assert torch.equal(back.networks["G"]["w"], torch.ones(2)) and "G_ema" not in back.networks
        assert back.optimizers["opt_g"]["state"][0]["exp_avg"].shape == (1, 2)


def test_the_world_size_must_match():
    tensors, meta = saved(*to_tensors(state(2)))
    with pytest.raises(GantoolError, match=r"written by a run on 2 process\(es\) and this run has 3; resume it on 2: --nproc 2"):
        from_tensors(tensors, meta, 0, 3, "ckpt")
    one, one_meta = saved(*to_tensors(state(1)))
    with pytest.raises(GantoolError, match="written by a run on 1 process"):
        from_tensors(one, one_meta, 0, 2, "ckpt")
    del tensors["rank1.rng.torch"]
    with pytest.raises(KeyError):
        from_tensors(tensors, meta, 1, 2, "ckpt")
