"""``--data-limit N``: train on a fixed subset of N items, the same for every rank, drawn with ``--data-seed``.

Where the dataset has labels the subset is class-balanced: each class gives N / K items (the remainder, one each,
to classes in a random order), a class with fewer gives all it has and the others make up the rest. Only the
training data is cut: the held-out data, and so every evaluation, stays whole.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from gantool.core.errors import GantoolError
from gantool.plugins.data import Data


def choose(n: int, size: int, labels: torch.Tensor | None, seed: int) -> torch.Tensor:
    """The indices (ascending) of ``n`` of ``size`` items: a uniform draw, or a class-balanced one given labels."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(size, generator=g)
    if labels is None:
        return order[:n].sort().values
    labels = labels.long()[order]  # the items in a random order, and their classes
    classes = int(labels.max()) + 1 if size else 0
    # each item's place among the items of its class in that order; dealing by (place, random class rank) takes
    # one of each class in turn, so the first n are as even over the classes as their sizes allow
    place = torch.zeros(size, dtype=torch.long)
    for c in range(classes):
        members = (labels == c).nonzero().squeeze(1)
        place[members] = torch.arange(len(members))
    class_rank = torch.randperm(classes, generator=g)
    key = place * classes + class_rank[labels]
    return order[key.argsort()[:n]].sort().values


def limit(data: Data, n: int, seed: int, name: str) -> tuple[Data, dict[str, Any]]:
    """``data`` with its training items cut to the subset, and the record of it (data_subset.json)."""
    train = data.train
    size = len(train)
    if n > size:
        raise GantoolError(f"--data-limit {n} is more than the {size} items of dataset {name!r}: lower it, or leave it out")
    labels = torch.as_tensor(data.labels) if data.labels is not None and isinstance(train, torch.Tensor) else None
    if labels is not None and (labels.shape != (size,) or labels.is_floating_point() or (size and labels.min() < 0)):
        labels = None  # a malformed labelling is reported by the conditional run's own check
    index = choose(n, size, labels, seed)
    cut: Any
    if isinstance(train, torch.Tensor):
        cut = train[index]
    else:
        from torch.utils.data import Subset

        cut = Subset(train, index.tolist())
    record: dict[str, Any] = {"data": name, "data_limit": n, "data_seed": seed, "of": size, "indices": index.tolist()}
    if labels is not None:
        kept = labels[index].long()
        names = list(data.classes or []) or [str(c) for c in range(int(kept.max()) + 1)]
        counts = torch.bincount(kept, minlength=len(names)).tolist()
        record["class_counts"] = dict(zip(names, counts))
    return replace(data, train=cut, labels=None if labels is None else labels[index]), record
