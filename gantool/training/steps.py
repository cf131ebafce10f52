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


def generate(G: Callable[..., torch.Tensor], z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """G(z), or G(z, y) in a conditional run."""
    return G(z) if labels is None else G(z, labels)


def d_step(run: Run, watch: Watch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """k updates of D, pushing D(x) up and D(G(z)) down; returns D's last loss and the last real batch and labels.

    G is frozen here, so no graph is built for it. In a conditional run the fakes are drawn for the
    real batch's labels, so every tensor D judges in a step has the same labels (gradient penalties too).
    """
    nets = run.nets
    for _ in range(run.cfg.d_steps):
        real, labels = run.batches.next()
        with torch.no_grad(), run.autocast():
            fake = generate(nets.G_fake, latents(run), labels)
        watch.watch(real, fake, labels)
        with run.autocast():
            d_loss = run.loss.discriminator_loss(watch, real, fake) + watch.class_loss(real, fake)
        nets.opt_d.zero_grad(set_to_none=True)  # set_to_none skips a memset per parameter
        d_loss.backward()
        nets.opt_d.step()
    return d_loss, real, labels


def g_step(run: Run, watch: Watch, real: torch.Tensor, labels: torch.Tensor | None, step: int) -> torch.Tensor:
    """One update of G through a frozen D: D's weight gradients are never needed here, so they are skipped."""
    nets = run.nets
    nets.D.requires_grad_(False)
    with run.autocast():
        fake = generate(nets.G_train, latents(run), labels)
        watch.watch(real, fake, labels)
        g_loss = run.loss.generator_loss(watch, real, fake) + watch.class_loss(fake)
    nets.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    nets.opt_g.step()
    nets.D.requires_grad_(True)
    if nets.ema is not None:
        nets.ema.update(nets.G, step)
    return g_loss


class Watch:
    """D as a loss sees it: called like D itself, with the batch's labels bound in a conditional run.

    It keeps D's logits on the real and the fake batch, so D(x) and D(G(z)) come for the logs
    without a second forward pass and without reading anything back to the host. In a conditional
    run every call is D(x, y) with the step's labels, so a loss written for unconditional D works
    unchanged. An AC-GAN discriminator returns 1 + K columns: the loss sees the first, and
    ``class_loss`` is the cross-entropy of the K class logits (computed from logits: no softmax
    before it). Calls go through ``call`` (D's DistributedDataParallel wrapper in a distributed run,
    or D frozen in G's step); attributes come from D itself.
    """

    def __init__(self, D: torch.nn.Module, call: Callable[..., torch.Tensor] | None = None) -> None:
        self.D, self.call = D, call if call is not None else D
        self.real: torch.Tensor | None = None
        self.fake: torch.Tensor | None = None
        self.labels: torch.Tensor | None = None
        self.real_logits: torch.Tensor | None = None
        self.fake_logits: torch.Tensor | None = None
        self.class_logits: dict[int, torch.Tensor] = {}  # id(real or fake) -> AC-GAN class logits

    def watch(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None) -> None:
        self.real, self.fake, self.labels = real, fake, labels
        self.class_logits.clear()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.call(x) if self.labels is None else self.call(x, self.labels)
        if out.ndim == 2 and out.shape[1] > 1:  # AC-GAN: the logit, then class logits
            if x is self.real or x is self.fake:
                self.class_logits[id(x)] = out[:, 1:]
            out = out[:, :1]
        if x is self.real:
            self.real_logits = out.detach().reshape(-1)
        elif x is self.fake:
            self.fake_logits = out.detach().reshape(-1)
        return out

    def class_loss(self, *judged: torch.Tensor) -> torch.Tensor | float:
        """AC-GAN's class term on the given batches D judged this step: cross-entropy of logits against the labels."""
        labels = self.labels
        if labels is None:
            return 0.0
        terms = [F.cross_entropy(self.class_logits[id(x)].float(), labels) for x in judged if id(x) in self.class_logits]
        return sum(terms) if terms else 0.0

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
