"""The floor for gantool's CPU loop: seed 001's networks trained by the plainest fast PyTorch, no gantool at all.

    python benchmarks/plain_loop.py [--d-passes 1|2] [--steps 300] [--repeats 5]

G 64-256-256-784 and D 784-256-256-1 (seed 001's MLP pair), batch 100, fused Adam, logits with
binary_cross_entropy_with_logits, random data held in memory. ``--d-passes 2`` calls D on the real and
the fake batch apart; ``1`` on both at once (what gantool does when D's layers allow it). Prints the
median milliseconds a step over ``--repeats`` blocks of ``--steps`` steps: if gantool's loop is about as
fast as this, what is left is PyTorch's own cost per operation, not gantool's.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d-passes", type=int, choices=(1, 2), default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 2e-4, fused=True), torch.optim.Adam(D.parameters(), 2e-4, fused=True)
    data, batch = torch.rand(60_000, 784) * 2 - 1, 100
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step() -> None:
        real = data[torch.randint(0, len(data), (batch,))]
        with torch.no_grad():
            fake = G(torch.randn(batch, 64))
        if args.d_passes == 1:
            d_loss = 2 * F.binary_cross_entropy_with_logits(D(torch.cat([real, fake])), torch.cat([ones, zeros]))
        else:
            d_loss = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(D(fake), zeros)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        D.requires_grad_(False)
        g_loss = F.binary_cross_entropy_with_logits(D(G(torch.randn(batch, 64))), ones)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        D.requires_grad_(True)

    for _ in range(50):  # warm-up: first-touch allocations
        step()
    blocks = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        for _ in range(args.steps):
            step()
        blocks.append((time.perf_counter() - started) / args.steps)
    ms = statistics.median(blocks) * 1e3
    print(f"D passes {args.d_passes}: {ms:.2f} ms a step (median of {args.repeats}), {batch / ms * 1e3:,.0f} images/s")


if __name__ == "__main__":
    main()
