"""One training step's two halves, Algorithm 1 of Goodfellow et al. (2014): k updates of D, then one of G.

Both read what they need from the ``Run`` that setup built; the figures of D's last update
stay on the device (no host sync per step) until the logging interval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from gantool.core.latents import draw_torch

if TYPE_CHECKING:
    from gantool.training.setup import Run


def learning_rate(lr: float, lr_decay: float, step: int, steps: int) -> float:
    """``lr``, falling linearly towards 0 over the last ``lr_decay`` fraction of the run (the last step at
    ``lr / (lr_decay * steps)``): a settling phase sharpens what G draws. A function of the step alone,
    so --resume picks it up exactly."""
    if lr_decay <= 0:
        return lr
    return lr * min(1.0, (steps - step + 1) / (lr_decay * steps))


def set_learning_rate(run: Run, step: int) -> None:
    if run.cfg.lr_decay:
        lr = learning_rate(run.cfg.lr, run.cfg.lr_decay, step, run.steps)
        for group in (*run.nets.opt_g.param_groups, *run.nets.opt_d.param_groups):
            group["lr"] = lr


def latents(run: Run) -> torch.Tensor:
    return draw_torch(run.cfg.batch_size, run.cfg.latent_dim, run.cfg.latent, run.latent_rng, run.device)


def d_step(run: Run, watch: Watch) -> tuple[torch.Tensor, torch.Tensor]:
    """k updates of D, pushing D(x) up and D(G(z)) down; returns D's last loss and the last real batch.

    G is frozen here, so no graph is built for it.
    """
    nets = run.nets
    for _ in range(run.cfg.d_steps):
        real = run.batches.next()
        with torch.no_grad(), run.autocast():
            fake = nets.G_fake(latents(run))
        watch.real, watch.fake = real, fake
        with run.autocast():
            d_loss = run.loss.discriminator_loss(watch, real, fake)
        nets.opt_d.zero_grad(set_to_none=True)  # set_to_none skips a memset per parameter
        d_loss.backward()
        nets.opt_d.step()
    return d_loss, real


def g_step(run: Run, real: torch.Tensor, step: int) -> torch.Tensor:
    """One update of G through a frozen D: D's weight gradients are never needed here, so they are skipped."""
    nets = run.nets
    nets.D.requires_grad_(False)
    with run.autocast():
        fake = nets.G_train(latents(run))
        g_loss = run.loss.generator_loss(nets.D_frozen, real, fake)
    nets.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    nets.opt_g.step()
    nets.D.requires_grad_(True)
    if nets.ema is not None:
        nets.ema.update(nets.G, step)
    return g_loss


class Watch:
    """Calls D like D itself, keeping its logits on the real and the fake batch for the logs.

    Losses get this in place of D, so D(x) and D(G(z)) come for free, without a
    second forward pass and without reading anything back to the host. In a distributed
    run the calls go through ``call``, D's DistributedDataParallel wrapper, which averages
    the gradients over ranks; attributes still come from D itself.
    """

    def __init__(self, D: torch.nn.Module, call: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.D, self.call = D, call if call is not None else D
        self.real: torch.Tensor | None = None
        self.fake: torch.Tensor | None = None
        self.real_logits: torch.Tensor | None = None
        self.fake_logits: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.call(x)
        if x is self.real:
            self.real_logits = out.detach().reshape(-1)
        elif x is self.fake:
            self.fake_logits = out.detach().reshape(-1)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.D, name)

    def figures(self) -> list[torch.Tensor]:
        """D(x), D(G(z)) and the two halves of the cross-entropy, NaN where the loss never called D."""
        nan = torch.tensor(float("nan"))
        r, f = self.real_logits, self.fake_logits
        return [
            torch.sigmoid(r).mean() if r is not None else nan,
            torch.sigmoid(f).mean() if f is not None else nan,
            F.softplus(-r).mean() if r is not None else nan,
            F.softplus(f).mean() if f is not None else nan,
        ]
