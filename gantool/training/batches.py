"""Mini-batches for the loop: a tensor held on the training device, or a DataLoader for data too big to hold.

Several processes: each holds and shuffles its own shard (see distributed.shard), or reads its
share of one shuffle through a DistributedSampler.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import torch

from gantool.core.errors import GantoolError
from gantool.training.ranks import Ranks, SeedOffset, rank_seed


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels become floats in [-1, 1]; float data is used as it is."""
    if x.dtype == torch.uint8:
        return x.float().div_(127.5).sub_(1.0)
    return x.float()


Batch = tuple[torch.Tensor, torch.Tensor | None]  # samples in [-1, 1], and their labels in a conditional run


class DeviceBatches:
    """Shuffled mini-batches of a tensor that lives on the training device: no DataLoader, no host copies.

    ``labels`` (a conditional run's) are shuffled with their samples; without them a batch's labels are None.
    """

    def __init__(self, data: torch.Tensor, batch_size: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> None:
        if batch_size > len(data):
            raise GantoolError(f"--batch-size {batch_size} is larger than the dataset ({len(data)} samples): lower it")
        self.data, self.batch_size, self.generator, self.labels = data, batch_size, generator, labels
        self.per_epoch = len(data) // batch_size  # the last partial batch is dropped, as the seeds' loaders do
        self.perm: torch.Tensor | None = None
        self.pos = 0

    def next(self) -> Batch:
        if self.perm is None or self.pos + self.batch_size > len(self.data):
            self.perm = torch.randperm(len(self.data), device=self.data.device, generator=self.generator)
            self.pos = 0
        index = self.perm[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        return to_unit_range(self.data[index]), None if self.labels is None else self.labels[index]

    def state(self) -> tuple[torch.Tensor | None, dict[str, Any]]:
        """The current epoch's order (per rank) and the position in it (the same on every rank)."""
        return self.perm, {"pos": self.pos}

    def load_state(self, perm: torch.Tensor | None, meta: dict[str, Any]) -> None:
        pos, n = meta.get("pos", 0), len(self.data)
        if perm is not None and (perm.dtype != torch.int64 or not torch.equal(perm.sort().values, torch.arange(n))):
            raise ValueError(f"the data order is not a permutation of the {n} samples")
        if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos <= n:
            raise ValueError(f"data position {pos!r} is outside the {n} samples")
        self.perm = None if perm is None else perm.to(self.data.device)
        self.pos = pos


class StreamedBatches:
    """Batches from a DataLoader, for datasets too big to hold on the device."""

    def __init__(
        self, dataset: Any, batch_size: int, device: torch.device, seed: int, ranks: Ranks | None = None, labelled: bool = False
    ) -> None:
        from torch.utils.data import DataLoader, DistributedSampler

        ranks = ranks or Ranks()
        # Several processes: each reads its own share of one shuffle that every rank draws from the same seed.
        self.sampler: DistributedSampler[Any] | None = None
        if ranks.active:
            self.sampler = DistributedSampler(dataset, ranks.world, ranks.rank, seed=seed + SeedOffset.LOADER, drop_last=True)
        per_rank = len(self.sampler) if self.sampler is not None else len(dataset)
        if batch_size > per_rank:
            share = f" ({ranks.world} processes share them, {per_rank} each; --batch-size is per process)" if ranks.active else ""
            raise GantoolError(f"--batch-size {batch_size} is larger than the dataset ({len(dataset)} samples{share}): lower it")
        self.device, self.per_epoch, self.epoch, self.labelled = device, per_rank // batch_size, 0, labelled
        self.loader = DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=self.sampler is None,
            sampler=self.sampler,
            drop_last=True,
            num_workers=min(4, os.cpu_count() or 1),
            pin_memory=device.type == "cuda",  # pinned pages let the copy to the GPU overlap compute
            persistent_workers=True,
            generator=torch.Generator().manual_seed(rank_seed(seed, ranks) + SeedOffset.LOADER),
        )
        self.iterator: Iterator[Any] = iter(self.loader)

    def next(self) -> Batch:
        try:
            batch = next(self.iterator)
        except StopIteration:
            self.epoch += 1
            if self.sampler is not None:
                self.sampler.set_epoch(self.epoch)  # a new shuffle, the same on every rank
            self.iterator = iter(self.loader)
            batch = next(self.iterator)
        x, y = (batch[0], batch[1]) if isinstance(batch, list | tuple) else (batch, None)  # (x, y) datasets
        labels = torch.as_tensor(y).to(self.device, torch.int64, non_blocking=True) if self.labelled else None
        return to_unit_range(x.to(self.device, non_blocking=True)), labels

    def state(self) -> tuple[torch.Tensor | None, dict[str, Any]]:
        return None, {"streamed": True}

    def load_state(self, perm: torch.Tensor | None, meta: dict[str, Any]) -> None:
        pass  # a streamed run resumes with a fresh data order
