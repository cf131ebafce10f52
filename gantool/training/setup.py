"""Everything the loop needs, built once before the first step: seeds, data, networks, optimizers, the run folder.

``setup`` returns a ``Run``; ``fit`` (gantool.training.loop) reads it top to bottom.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch

from gantool.core.errors import GantoolError
from gantool.plugins.contract import CheckedLoss, dataset_shape, forward
from gantool.plugins.data import Data, as_data
from gantool.plugins.registry import get_registry
from gantool.store.runs import claim_run, new_run_dir
from gantool.training import distributed, subset
from gantool.training.augment import Augmenter, build_augmenter
from gantool.training.batches import DeviceBatches, StreamedBatches
from gantool.training.config import DEFAULT_STEPS, TrainConfig
from gantool.training.ema import EMA
from gantool.training.ranks import Ranks, SeedOffset, rank_seed


@dataclass(kw_only=True)
class Networks:
    """G and D, and what each half of a step calls them through.

    Weights live in G and D (checkpoints, EMA and grids see only them). With --compile the loop calls
    fused kernels for each, replayed as CUDA graphs on CUDA (shapes never change); with several
    processes it calls G and D through DistributedDataParallel, which averages gradients over ranks.
    D's step calls ``D_train`` on the real and the fake batch before one backward; G's step calls
    ``G_train`` through ``D_frozen``, so no DDP reducer waits for D gradients that never come.
    """

    G: torch.nn.Module
    D: torch.nn.Module
    G_fake: Callable[..., Any]  # G for D's step: no graph, no DDP
    G_train: Callable[..., Any]
    D_train: Callable[..., Any]
    D_frozen: Callable[..., Any]
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    ema: EMA | None

    @property
    def shown(self) -> torch.nn.Module:
        """The generator that grids, evaluations and G_ema.safetensors show: the average when there is one."""
        return self.ema.model if self.ema is not None else self.G


@dataclass
class Run:
    """One training run, set up: what ``fit`` reads. ``start`` is the step a resumed run goes on from."""

    cfg: TrainConfig
    ranks: Ranks
    device: torch.device
    console: Any
    data: Data
    data_shape: tuple[int, ...]
    batches: DeviceBatches | StreamedBatches
    nets: Networks
    loss: CheckedLoss
    data_rng: torch.Generator
    latent_rng: torch.Generator
    steps: int
    sample_every: int
    run_dir: Path
    start: int = 0
    augment: Augmenter | None = None  # --augment
    subset: dict[str, Any] | None = None  # --data-limit's record: data_subset.json

    @property
    def classes(self) -> list[str] | None:
        """The class names of a conditional run, in label order; None for an unconditional one."""
        return list(self.data.classes or []) if self.cfg.conditional else None

    def autocast(self) -> Any:
        """--amp bf16: matmuls in bfloat16 under autocast; weights, gradients and Adam stay float32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.amp == "bf16")


def setup(cfg: TrainConfig, run_dir: Path | None, resuming: bool, console: Any, ranks: Ranks, device: torch.device, held: ExitStack) -> Run:
    """Seed, load the data, build and check the networks, claim the run folder (rank 0 holds its lock in ``held``)."""
    seed = rank_seed(cfg.seed, ranks)  # cfg.seed itself on rank 0 and in a one-process run
    torch.manual_seed(seed + SeedOffset.TORCH)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # TF32 tensor cores: ~8x matmul throughput, ample precision for GANs
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True  # shapes are fixed, so autotuning pays off after the first step
    data_rng = torch.Generator(device=device).manual_seed(seed + SeedOffset.DATA)
    data, data_shape, batches, chosen = load_data(cfg, ranks, device, data_rng, console)
    augmenter = build_augmenter(cfg, data_shape, torch.Generator(device=device).manual_seed(seed + SeedOffset.AUGMENT), ranks)
    steps = cfg.steps or (math.ceil(cfg.epochs * batches.per_epoch) if cfg.epochs else DEFAULT_STEPS)
    nets = build_networks(cfg, data_shape, len(data.classes or []) if cfg.conditional else 0, ranks, device, console)
    registry = get_registry()
    loss = CheckedLoss(registry.create("loss", cfg.loss, **cfg.loss_opt), cfg.loss, registry.get("loss", cfg.loss).plugin)
    # One writer per run folder, from here to the end: a second run on it is refused, not interleaved.
    # Rank 0 alone locks and writes it; a new folder is named after the time, so rank 0 names it for all.
    if run_dir is None:
        run_dir = Path(distributed.broadcast_text(str(new_run_dir(cfg.gen, cfg.data)) if ranks.main else "", ranks, device))
    if ranks.main:
        held.enter_context(claim_run(run_dir, resuming=resuming))
    latent_rng = torch.Generator(device=device).manual_seed(seed + SeedOffset.LATENTS)
    sample_every = cfg.sample_every or max(1, steps // 10)
    parts = (cfg, ranks, device, console, data, data_shape, batches, nets, loss, data_rng, latent_rng, steps, sample_every, run_dir)
    return Run(*parts, augment=augmenter, subset=chosen)


def load_data(
    cfg: TrainConfig, ranks: Ranks, device: torch.device, data_rng: torch.Generator, console: Any
) -> tuple[Data, tuple[int, ...], DeviceBatches | StreamedBatches, dict[str, Any] | None]:
    """The dataset (cut to --data-limit's subset, whose record comes last), held on the training device and batched
    there when it is a tensor (the seeds' DataLoader costs more than the MLPs); streamed through a DataLoader
    otherwise. Rank 0 builds it first (it may download)."""
    data = as_data(distributed.first_on_main(lambda: get_registry().create("dataset", cfg.data, **cfg.data_opt), ranks))
    chosen = None
    if cfg.data_limit is not None:
        data, chosen = subset.limit(data, cfg.data_limit, cfg.data_seed, cfg.data)
    train = data.train
    labels = check_labels(data, cfg.data) if cfg.conditional else None
    if isinstance(train, torch.Tensor):
        if train.ndim < 2 or len(train) == 0:
            raise GantoolError(f"dataset {cfg.data!r} gave a tensor of shape {tuple(train.shape)}; it must be (N, *data_shape) with N > 0")
        local = distributed.shard(train, ranks, cfg.batch_size).to(device)
        local_labels = None if labels is None else distributed.shard(labels, ranks, cfg.batch_size).to(device)  # sharded alike
        return data, tuple(train.shape[1:]), DeviceBatches(local, cfg.batch_size, data_rng, local_labels), chosen
    shape = dataset_shape(train, cfg.data)
    console.print(f"[yellow]note[/]: dataset {cfg.data!r} is not a tensor; streaming it through a DataLoader (slower)")
    return data, shape, StreamedBatches(train, cfg.batch_size, device, cfg.seed, ranks, labelled=cfg.conditional), chosen


def check_labels(data: Data, name: str) -> torch.Tensor | None:
    """A conditional run's labels, held to the contract: integers (N,) naming a class each, every class present."""
    if not data.labelled:
        raise GantoolError(
            f"dataset {name!r} has no labels, so --conditional cannot train on it: pick a labelled dataset "
            "(digits, mnist, an image folder with a folder per class), or leave out --conditional"
        )
    classes = list(data.classes or [])
    if not isinstance(data.train, torch.Tensor):
        return None  # a map-style dataset yields (x, y): its labels arrive with the batches
    labels = torch.as_tensor(data.labels) if data.labels is not None else None
    if labels is None or labels.shape != (len(data.train),) or labels.is_floating_point() or labels.is_complex():
        got = "none" if labels is None else f"{labels.dtype} of shape {tuple(labels.shape)}"
        raise GantoolError(f"dataset {name!r} gave labels {got}; it must give one whole number per sample, shaped ({len(data.train)},)")
    labels = labels.long()
    counts = torch.bincount(labels.clamp(0, len(classes)), minlength=len(classes) + 1)
    if labels.min() < 0 or counts[len(classes)] > 0:
        raise GantoolError(f"dataset {name!r} gave labels outside 0..{len(classes) - 1}, the {len(classes)} classes it names")
    empty = [c for c, n in zip(classes, counts.tolist()) if n == 0]
    if empty:
        raise GantoolError(
            f"class {empty[0]!r} of dataset {name!r} has no samples: give it some (a labelled image folder: add images), or remove it"
        )
    return labels


def build_networks(
    cfg: TrainConfig, data_shape: tuple[int, ...], num_classes: int, ranks: Ranks, device: torch.device, console: Any
) -> Networks:
    """G and D from the registry, held to the contract, wrapped as the run needs, with their optimizers.

    A conditional run (``num_classes`` > 0) passes ``num_classes`` to both factories.
    """
    registry = get_registry()
    extra = {"num_classes": num_classes} if num_classes else {}
    G = registry.create("generator", cfg.gen, cfg.latent_dim, data_shape, **cfg.gen_opt, **extra).to(device)
    D = registry.create("discriminator", cfg.disc_name, data_shape, **cfg.disc_opt, **extra).to(device)
    check_shapes(G, D, cfg, data_shape, device, num_classes)
    if cfg.channels_last:  # 4-D weights only: convolutions then read and write NHWC maps, which oneDNN and cuDNN favour
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    if cfg.sync_bn:
        (G, g_norms), (D, d_norms) = distributed.sync_batchnorm(G, ranks, device), distributed.sync_batchnorm(D, ranks, device)
        if not g_norms + d_norms:
            console.print("[yellow]note[/]: --sync-bn changes nothing here (one process, or no BatchNorm in G or D)")
    G_run: Callable[..., Any] = G
    D_run: Callable[..., Any] = D
    G_ddp: Callable[..., Any] = distributed.wrap(G, ranks, device)
    D_ddp: Callable[..., Any] = distributed.wrap(D, ranks, device)
    if cfg.compile:
        compiled = partial(torch.compile, mode="reduce-overhead" if device.type == "cuda" else None)
        G_run, D_run = compiled(G), compiled(D)
        # DDP compiled whole, so its buckets line up with the compiled graphs
        G_ddp, D_ddp = (compiled(G_ddp), compiled(D_ddp)) if ranks.active else (G_run, D_run)
    ema = EMA(G, cfg.ema) if cfg.ema else None  # made after the wrap, from rank 0's weights on every rank
    # One fused kernel per optimizer step, on CUDA and on the CPU alike (2.7x faster than foreach on 2 CPU cores).
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=True)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=True)
    return Networks(G=G, D=D, G_fake=G_run, G_train=G_ddp, D_train=D_ddp, D_frozen=D_run, opt_g=opt_g, opt_d=opt_d, ema=ema)


def check_shapes(
    G: torch.nn.Module, D: torch.nn.Module, cfg: TrainConfig, data_shape: tuple[int, ...], device: torch.device, num_classes: int = 0
) -> None:
    """Hold plugins to the contract before the first step, with a message naming the culprit.

    A conditional D may return 1 + num_classes columns: the logit, then class logits (AC-GAN).
    """
    G.eval(), D.eval()
    y = torch.zeros(2, dtype=torch.int64, device=device) if num_classes else None
    given = " and 2 labels" if num_classes else ""
    with torch.no_grad():
        z = torch.zeros(2, cfg.latent_dim, device=device)
        out = forward(G, z, f"generator {cfg.gen!r}", f"2 latents{given}", y)
        if tuple(out.shape) != (2, *data_shape):
            raise GantoolError(
                f"generator {cfg.gen!r} returned shape {tuple(out.shape)} for 2 latents; the data needs {(2, *data_shape)}: "
                "pick a generator for this data"
            )
        logits = forward(D, out, f"discriminator {cfg.disc_name!r}", f"2 samples of shape {data_shape}{given}", y)
        allowed = [(2,), (2, 1)] + ([(2, 1 + num_classes)] if num_classes else [])
        if tuple(logits.shape) not in allowed:
            also = f", or (N, 1 + {num_classes}) with class logits" if num_classes else ""
            raise GantoolError(
                f"discriminator {cfg.disc_name!r} returned shape {tuple(logits.shape)}; it must return logits (N,) or (N, 1){also}"
            )
    G.train(), D.train()
    whole_batch(D, out[:1], cfg, device, y)


def whole_batch(D: torch.nn.Module, sample: torch.Tensor, cfg: TrainConfig, device: torch.device, y: torch.Tensor | None) -> None:
    """D in training mode on one batch of --batch-size, as the first step calls it, so a D that cannot take it (a
    packed D whose groups do not divide the batch) answers before the run folder exists. Its buffers (BatchNorm's
    statistics, spectral norm's vectors) and the random streams are put back: the run trains as without the check."""
    saved = [b.detach().clone() for b in D.buffers()]
    with torch.no_grad(), torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        batch = sample.expand(cfg.batch_size, *sample.shape[1:])
        labels = None if y is None else y[:1].expand(cfg.batch_size)
        forward(D, batch, f"discriminator {cfg.disc_name!r}", f"a training batch of {cfg.batch_size}", labels)
        for buffer, value in zip(D.buffers(), saved):
            buffer.copy_(value)
