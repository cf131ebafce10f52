"""What each process of a distributed run does: its rank, its device, its data, and how it keeps in step.

torchrun (or ``gantool train --nproc N``, see ``gantool.training.launch``) starts one process per GPU and
tells each its place through RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE. ``train`` asks
this module for a device and a shard of the data, wraps G and D in DistributedDataParallel,
averages the logged figures over ranks and gathers every rank's RNG and data-order state into
rank 0's checkpoint. With one process every helper here hands back its input unchanged, so a
plain run takes exactly the path it always took.
"""

from __future__ import annotations

import gc
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch
import torch.distributed as dist

from gantool.core.errors import GantoolError
from gantool.training.ranks import Ranks, env_ranks

T = TypeVar("T")


def rank_device(name: str, ranks: Ranks) -> torch.device:
    """One GPU per process, cuda:LOCAL_RANK, or the CPU shared out between the processes of this machine."""
    wants_cuda = name.startswith("cuda") or (name == "auto" and torch.cuda.is_available())
    if not wants_cuda:
        if "OMP_NUM_THREADS" not in os.environ:  # torchrun sets it; the --nproc launcher leaves it to us
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            torch.set_num_threads(max(1, cores // ranks.local_world))
        return torch.device("cpu")
    if name.startswith("cuda:"):
        raise GantoolError(f"--device {name} names one GPU, but each process of a distributed run takes its own: pass --device cuda")
    if not torch.cuda.is_available():
        raise GantoolError("--device cuda was asked for but no usable CUDA GPU is visible; use --device cpu")
    count = torch.cuda.device_count()
    if ranks.local_world > count:
        raise GantoolError(
            f"{ranks.local_world} processes on this machine but only {count} GPU(s) visible: start at most {count} per machine, "
            "or pass --device cpu"
        )
    torch.cuda.set_device(ranks.local_rank)
    return torch.device("cuda", ranks.local_rank)


@contextmanager
def process_group(device_name: str, resolve: Callable[[str], torch.device]) -> Iterator[tuple[Ranks, torch.device]]:
    """Join the run's process group (NCCL on GPUs, gloo on the CPU) for the length of the block.

    On the way out, DistributedDataParallel wrappers must be gone before the group is: one that
    outlives it can abort the interpreter at exit ("terminate called without an active exception"),
    turning a clean exit code into SIGABRT. So the frames of a failed run are cleared first.
    """
    ranks = env_ranks()
    if not ranks.active:
        yield ranks, resolve(device_name)
        return
    device = rank_device(device_name, ranks)
    created = not dist.is_initialized()
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
    if created and missing:  # WORLD_SIZE left over in a shell, say: torchrun sets all of them
        raise GantoolError(
            f"WORLD_SIZE={ranks.world} is set but {' and '.join(missing)} not: start distributed runs with torchrun "
            "or gantool train --nproc N, or unset WORLD_SIZE"
        )
    if created:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", device_id=device if device.type == "cuda" else None)
    if dist.get_world_size() != ranks.world or dist.get_rank() != ranks.rank:
        raise GantoolError("the process group already set up does not match WORLD_SIZE and RANK; start distributed runs with torchrun")
    try:
        yield ranks, device
    except BaseException as exc:
        # No collective on the way out: the other ranks may be gone. The launcher stops them.
        traceback.clear_frames(exc.__traceback__)
        gc.collect()
        raise
    gc.collect()
    if created:
        dist.destroy_process_group()


def first_on_main(make: Callable[[], T], ranks: Ranks) -> T:
    """Rank 0 builds first (a dataset may download or fill a cache), then the others, reading what it left."""
    if not ranks.active:
        return make()
    if ranks.main:
        made = make()
        dist.barrier()
        return made
    dist.barrier()
    return make()


def shard(data: torch.Tensor, ranks: Ranks, batch_size: int) -> torch.Tensor:
    """Every world-th sample from this rank's offset, the same count on every rank.

    Striding rather than cutting in blocks keeps each shard a mix of the whole set when the data
    is sorted (an image folder is read class folder by class folder). The last len % world
    samples are left out so every rank has the same number of batches per epoch.
    """
    if not ranks.active:
        return data
    per_rank = len(data) // ranks.world
    if batch_size > per_rank:
        raise GantoolError(
            f"--batch-size is per process: {ranks.world} processes share the {len(data)} samples, {per_rank} each, "
            f"fewer than a batch of {batch_size}; lower --batch-size"
        )
    return data[ranks.rank : per_rank * ranks.world : ranks.world].contiguous()


def wrap(module: torch.nn.Module, ranks: Ranks, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel around ``module`` (the module itself in a one-process run).

    DDP copies rank 0's weights and buffers to every rank here, and from then on averages the
    gradients in backward, so every rank steps its optimizer with the same gradient.
    """
    if not ranks.active:
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def sync_batchnorm(module: torch.nn.Module, ranks: Ranks, device: torch.device) -> tuple[torch.nn.Module, int]:
    """BatchNorm layers that normalise over the whole global batch; returns the module and how many layers changed."""
    norms = sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in module.modules())
    if not ranks.active or norms == 0:
        return module, 0
    if device.type != "cuda":
        raise GantoolError("--sync-bn needs CUDA GPUs (PyTorch's SyncBatchNorm has no CPU kernel): leave it out on the CPU")
    return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module), norms


def average(rows: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """The mean over ranks of a tensor of logged figures: one all-reduce per logging interval."""
    if not ranks.active:
        return rows
    total = rows.clone()
    dist.all_reduce(total)
    return total / ranks.world


def broadcast_text(text: str, ranks: Ranks, device: torch.device) -> str:
    """Rank 0's string on every rank (the name of a new run folder, which holds the time it was made)."""
    if not ranks.active:
        return text
    data = torch.tensor(list(text.encode()) if ranks.main else [], dtype=torch.uint8)
    size = torch.tensor([len(data)], dtype=torch.int64, device=device)
    dist.broadcast(size, src=0)
    buffer = data.to(device) if ranks.main else torch.empty(int(size.item()), dtype=torch.uint8, device=device)
    dist.broadcast(buffer, src=0)
    return bytes(buffer.cpu().tolist()).decode()


def gather_states(tensors: dict[str, torch.Tensor], ranks: Ranks, device: torch.device) -> list[dict[str, torch.Tensor]]:
    """Every rank's RNG and data-order tensors, gathered to rank 0 as a list indexed by rank (empty elsewhere).

    Every rank must pass the same names with the same shapes (they do: the same generators,
    and shards of equal length).
    """
    if not ranks.active:
        return [tensors]
    gathered: list[dict[str, torch.Tensor]] = [dict(tensors)] + [{} for _ in range(1, ranks.world)] if ranks.main else []
    for name in sorted(tensors):
        mine = tensors[name].detach().to(device).contiguous()
        bucket = [torch.empty_like(mine) for _ in range(ranks.world)] if ranks.main else None
        dist.gather(mine, bucket, dst=0)
        if bucket is not None:
            for r in range(1, ranks.world):
                gathered[r][name] = bucket[r].cpu()
    return gathered
