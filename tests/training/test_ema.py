"""The weight average behind --ema: warm-up, decay, a frozen copy."""

from __future__ import annotations

import pytest
import torch

from gantool.training.ema import EMA


def test_ema_averages_with_warm_up():
    G = torch.nn.Linear(3, 2)
    ema = EMA(G, 0.9)
    start = ema.model.weight.clone()
    with torch.no_grad():
        G.weight.add_(1.0)
    ema.update(G, step=1000)  # warm-up over: d = 0.9
    assert torch.allclose(ema.model.weight, 0.9 * start + 0.1 * G.weight)
    ema.update(G, step=0)  # d = min(0.9, 1/10) = 0.1: early steps follow G closely
    assert torch.allclose(ema.model.weight, 0.1 * (0.9 * start + 0.1 * G.weight) + 0.9 * G.weight)
    assert not any(p.requires_grad for p in ema.model.parameters())
    with pytest.raises(ValueError):
        EMA(G, 1.0)
