"""One training step's two halves, Algorithm 1 of Goodfellow et al. (2014): k updates of D, then one of G.

Both read what they need from the ``Run`` that setup built; the figures of D's last update
stay on the device (no host sync per step) until the logging interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from gantool.core.latents import draw_torch
from gantool.plugins.networks import call
from gantool.training.watch import Watch

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


def d_step(run: Run, watch: Watch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """k updates of D, pushing D(x) up and D(G(z)) down; returns D's last loss, the last real batch (augmented, with
    --augment) and labels, and, with --reuse-fakes, the last fakes with G's graph kept for G's step (else None).

    Otherwise G is frozen here, so no graph is built for it. In a conditional run the fakes are drawn for the
    real batch's labels, so every tensor D judges in a step has the same labels (gradient penalties too).
    """
    nets = run.nets
    kept: torch.Tensor | None = None
    for k in range(run.cfg.d_steps):
        real, labels = run.batches.next()
        if run.cfg.reuse_fakes and k == run.cfg.d_steps - 1:  # one pass of G serves both steps
            with run.autocast():
                kept = call(nets.G_train, latents(run), labels)
            fake = kept.detach()
        else:
            with torch.no_grad(), run.autocast():
                fake = call(nets.G_fake, latents(run), labels)
        if run.augment is not None:  # D sees only augmented samples, real and fake alike
            real, fake = run.augment(real), run.augment(fake)
        watch.watch(real, fake, labels)
        with run.autocast():
            d_loss = run.loss.discriminator_loss(watch, real, fake) + watch.class_loss(real, fake)
        nets.opt_d.zero_grad(set_to_none=True)  # set_to_none skips a memset per parameter
        d_loss.backward()
        nets.opt_d.step()
        if run.augment is not None:
            run.augment.observe(watch.real_logits)
    return d_loss, real, labels, kept


def g_step(
    run: Run, watch: Watch, real: torch.Tensor, labels: torch.Tensor | None, step: int, fake: torch.Tensor | None = None
) -> torch.Tensor:
    """One update of G through a frozen D: D's weight gradients are never needed here, so they are skipped.
    ``fake``: D's step's fakes, still attached to G's graph (--reuse-fakes); else new ones are drawn."""
    nets = run.nets
    nets.D.requires_grad_(False)
    with run.autocast():
        if fake is None:
            fake = call(nets.G_train, latents(run), labels)
        if run.augment is not None:  # differentiable: G learns through the transforms
            fake = run.augment(fake)
        watch.watch(real, fake, labels)
        g_loss = run.loss.generator_loss(watch, real, fake) + watch.class_loss(fake)
    nets.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    nets.opt_g.step()
    nets.D.requires_grad_(True)
    if nets.ema is not None:
        nets.ema.update(nets.G, step)
    return g_loss
