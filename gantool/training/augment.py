"""``--augment``: the policy every batch D sees goes through, real and fake alike, and ADA's tuning of its strength.

DiffAugment (Zhao et al., 2020) augments reals and fakes with the same differentiable transforms, in D's step
and in G's, so D cannot memorise a small training set and G's gradient still reaches it through the transforms.
ADA (Karras et al., 2020) applies each transform to each sample with probability p and, with ``--augment-p
auto``, moves p after every few steps by a fixed amount towards the point where D calls 60% of the
(augmented) reals real: r_t = E[sign(D(real))] above 0.6 means D is overfitting. p, its running tally and the
random stream live on the device (no host sync) and in every rank's checkpoint, so a resume is exact.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gantool.core.errors import GantoolError
from gantool.plugins.registry import get_registry
from gantool.training import distributed
from gantool.training.config import TrainConfig
from gantool.training.ranks import Ranks

ADA_TARGET = 0.6  # the r_t ADA aims at
ADA_INTERVAL = 4  # steps between adjustments of p, as ADA's
# Images over which p can go from 0 to 1. ADA takes 500k for runs of tens of millions of images; gantool's runs on
# a CPU see about a million, so p moves 5x faster per image: a few thousand steps of 64 span the whole range.
ADA_IMAGES = 100_000

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class Augmenter:
    """The policy, applied in order, each transform to each sample with probability ``p`` (None: auto, from 0)."""

    def __init__(self, transforms: list[Augment], p: float | None, generator: torch.Generator, step_size: float, ranks: Ranks) -> None:
        self.transforms, self.generator, self.step_size, self.ranks = transforms, generator, step_size, ranks
        self.auto = p is None
        self.always = p == 1.0  # DiffAugment's own setting: no coin to toss
        device = generator.device
        self.p = torch.tensor(0.0 if p is None else p, device=device)
        self.tally = torch.zeros(2, device=device)  # sum of sign(D(real)) and the count, since the last adjustment

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for transform in self.transforms:
            y = transform(x, self.generator)
            if not self.always:
                applied = torch.rand(len(x), generator=self.generator, device=x.device) < self.p
                y = torch.where(applied.view(-1, *([1] * (x.ndim - 1))), y, x)
            x = y
        return x

    def observe(self, real_logits: torch.Tensor | None) -> None:
        """Count D's verdicts on the augmented reals of one D update (auto only)."""
        if self.auto and real_logits is not None:
            logits = real_logits.detach().float().reshape(-1)
            self.tally = self.tally + torch.stack([logits.sign().sum(), torch.ones_like(logits).sum()])

    def adjust(self, step: int) -> None:
        """Every ADA_INTERVAL steps, p moves one step towards r_t = 0.6, the tally summed over ranks, so all share p."""
        if not self.auto or step % ADA_INTERVAL:
            return
        signs, count = distributed.average(self.tally, self.ranks).unbind()
        r_t = signs / count.clamp(min=1)
        moved = self.p + torch.sign(r_t - ADA_TARGET) * self.step_size * (count > 0)
        self.p = moved.clamp(0.0, 1.0)
        self.tally = torch.zeros_like(self.tally)

    def state(self) -> torch.Tensor:
        """p and the tally, as one tensor for this rank's checkpoint."""
        return torch.cat([self.p.reshape(1), self.tally]).detach().clone()

    def load_state(self, state: torch.Tensor | None) -> None:
        if state is None:
            return  # a run augmented only from this resume on: p starts where a new run's would
        if state.shape != (3,) or not state.isfinite().all() or not 0 <= float(state[0]) <= 1:
            raise ValueError(f"augmentation state {state.tolist()} is not p in [0, 1] and a tally")
        device = self.p.device
        if self.auto:  # a fixed --augment-p keeps the value asked for
            self.p = state[0].to(device, torch.float32)
        self.tally = state[1:].to(device, torch.float32)


def build_augmenter(cfg: TrainConfig, data_shape: tuple[int, ...], generator: torch.Generator, ranks: Ranks) -> Augmenter | None:
    """The run's augmenter from the registry, held to the contract on a probe batch; None without --augment."""
    if not cfg.augmentations:
        return None
    registry = get_registry()
    transforms = [registry.create("augmentation", name, data_shape) for name in cfg.augmentations]
    probe = torch.zeros(2, *data_shape, device=generator.device, requires_grad=True)
    draws = torch.Generator(device=generator.device).manual_seed(0)  # the run's own stream stays untouched
    for name, transform in zip(cfg.augmentations, transforms):
        out = transform(probe, draws)
        if not isinstance(out, torch.Tensor) or out.shape != probe.shape or not out.requires_grad:
            tensor = isinstance(out, torch.Tensor)
            got = f"a tensor of shape {tuple(out.shape)} (graph: {out.requires_grad})" if tensor else type(out).__name__
            raise GantoolError(
                f"augmentation {name!r} (from {registry.get('augmentation', name).plugin}) returned {got} for a batch of shape "
                f"{tuple(probe.shape)}; it must return a tensor of that shape that G's gradient flows through: report it to its authors"
            )
    p = None if cfg.augment_p == "auto" else float(cfg.augment_p)
    return Augmenter(transforms, p, generator, cfg.batch_size * ranks.world * ADA_INTERVAL / ADA_IMAGES, ranks)
