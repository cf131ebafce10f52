"""What each process runs in tests/test_distributed.py, started by the real torchrun on gloo (pytest does not collect it).

``grads OUT``: DistributedDataParallel's gradients for G and D under every loss, next to the mean
of what each rank's loss gives in one process: the D step calls D on real and on fake (and the
gradient penalties call it again inside autograd.grad) before one backward; the G step goes
through D itself, frozen.

``train OUT SETTINGS RUN``: gantool's own training loop on every rank, after which each rank
leaves its G, D and the losses it computed in OUT, through the ``observed`` plugin that
test_distributed.py installs (it keeps what the registry built for train()).
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

# gantool's own losses and those of gantool-losses (the gradient penalties among them)
LOSSES = [
    ("nonsat", {}),
    ("minimax", {}),
    ("lsgan", {}),
    ("wgan-gp", {}),
    ("r1", {"gamma": 1.0}),
    ("hinge", {}),
    ("rsgan", {"average": True}),
]


def batch(rank: int, iteration: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The real points and latents rank ``rank`` sees at ``iteration``: different on every rank."""
    g = torch.Generator().manual_seed(1000 * iteration + rank)
    return torch.randn(8, 2, generator=g), torch.randn(8, 4, generator=g)


def grads(out: Path) -> None:
    from gantool.plugins.registry import get_registry
    from gantool.training import distributed
    from gantool.training.watch import Watch

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    ranks, cpu = distributed.env_ranks(), torch.device("cpu")
    registry = get_registry()
    report = {}
    for name, options in LOSSES:
        loss = registry.create("loss", name, **options)
        torch.manual_seed(0)
        G = registry.create("generator", "mlp", 4, (2,), hidden=16)
        D = registry.create("discriminator", "mlp", (2,), hidden=16)
        G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
        G_ddp, D_ddp = distributed.wrap(G, ranks, cpu), distributed.wrap(D, ranks, cpu)
        rows = []
        for iteration in range(2):  # a second round: DDP's reducer must be ready again after the first
            # what the training loop does on this rank
            real, z = batch(ranks.rank, iteration)
            with torch.no_grad():
                fake = G(z)
            torch.manual_seed(7 + 100 * iteration + ranks.rank)  # the penalties' random mix
            D.zero_grad(), G.zero_grad()
            loss.discriminator_loss(Watch(D, call=D_ddp), real, fake).backward()
            D.requires_grad_(False)
            loss.generator_loss(D, real, G_ddp(z)).backward()
            D.requires_grad_(True)
            got = [p.grad.clone() for p in (*D.parameters(), *G.parameters())]

            # the same for every rank in this one process, without DDP: the mean is what DDP must give
            want = [torch.zeros_like(p) for p in got]
            own: list[torch.Tensor] = []
            for r in range(ranks.world):
                real_r, z_r = batch(r, iteration)
                with torch.no_grad():
                    fake_r = G_ref(z_r)
                torch.manual_seed(7 + 100 * iteration + r)
                D_ref.zero_grad(), G_ref.zero_grad()
                loss.discriminator_loss(D_ref, real_r, fake_r).backward()
                D_ref.requires_grad_(False)
                loss.generator_loss(D_ref, real_r, G_ref(z_r)).backward()
                D_ref.requires_grad_(True)
                grads_r = [p.grad for p in (*D_ref.parameters(), *G_ref.parameters())]
                want = [w + g / ranks.world for w, g in zip(want, grads_r)]
                if r == ranks.rank:
                    own = [g.clone() for g in grads_r]
            rows.append(
                {
                    "max_error": max((a - b).abs().max().item() for a, b in zip(got, want)),
                    "scale": max(b.abs().max().item() for b in want),
                    "own_differs_by": max((a - b).abs().max().item() for a, b in zip(own, want)),
                }
            )
        report[name] = rows
    (out / f"grads-rank{ranks.rank}.json").write_text(json.dumps(report))
    dist.destroy_process_group()


def train(out: Path, settings: str, run: str) -> None:
    import observed  # the test's plugin: it kept what the registry built

    from gantool.store import tensors as ckpt
    from gantool.training.config import build_config
    from gantool.training.run import train as run_training

    run_training(build_config(json.loads(settings)), run_dir=run)
    rank = int(os.environ["RANK"])
    for kind, name in (("generator", "G"), ("discriminator", "D")):
        ckpt.save_tensors(out / f"rank{rank}-{name}.safetensors", ckpt.state_tensors(observed.MADE[kind]), {})
    (out / f"losses-rank{rank}.json").write_text(json.dumps(observed.LOSSES))


if __name__ == "__main__":
    mode, target = sys.argv[1], Path(sys.argv[2])
    if mode == "grads":
        grads(target)
    else:
        train(target, sys.argv[3], sys.argv[4])
