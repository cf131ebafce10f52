"""Where this process stands in a run: its rank among the processes torchrun started, and its seed.

torchrun (or ``gantool train --nproc N``, see gantool.training.launch) tells each process its place
through RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE. Reading them needs no torch, so the
pre-flight checks can know whether they run in rank 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import IntEnum

from gantool.core.errors import GantoolError


class SeedOffset(IntEnum):
    """The random streams a run draws, each seeded at its rank's seed plus its offset: one table of them all.

    Changing a number changes every run's weights and samples for a given --seed.
    """

    TORCH = 0  # torch.manual_seed: the initial weights and dropout masks
    LOADER = 0  # a streamed DataLoader's shuffle: a generator of its own, seeded at the number TORCH is
    DATA = 1  # the order of batches held on the device
    LATENTS = 2  # the latents (and labels) of each step
    GRID = 3  # the sample grid's fixed latents, drawn on rank 0 alone
    AUGMENT = 4  # --augment's transforms and coin tosses


# Rank r draws from seed + r * RANK_SEED_STRIDE: rank 0 keeps the seed a one-process run uses, and the
# streams each rank derives from its seed (the SeedOffset) never meet.
RANK_SEED_STRIDE = 100_003


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run; the defaults are a plain one-process run."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @property
    def main(self) -> bool:
        """Rank 0 alone writes files and talks to the terminal."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def env_ranks() -> Ranks:
    """The ranks torchrun put in the environment; a plain run when there are none (or one process in all)."""

    def number(name: str, default: int) -> int:
        text = os.environ.get(name)
        if text is None:
            return default
        try:
            return int(text)
        except ValueError:
            raise GantoolError(f"{name}={text!r} in the environment is not a whole number: start distributed runs with torchrun") from None

    world = number("WORLD_SIZE", 1)
    if world <= 1:
        return Ranks()
    ranks = Ranks(number("RANK", 0), world, number("LOCAL_RANK", 0), number("LOCAL_WORLD_SIZE", 1))
    if not (0 <= ranks.rank < world and 0 <= ranks.local_rank < ranks.local_world):
        raise GantoolError(f"inconsistent torchrun environment ({ranks}); start distributed runs with torchrun")
    return ranks


def rank_seed(seed: int, ranks: Ranks) -> int:
    """Each rank its own latents, dropout masks and data order; the same ones every time for a given world size."""
    return seed + RANK_SEED_STRIDE * ranks.rank
