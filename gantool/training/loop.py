"""The training loop: Algorithm 1 of Goodfellow et al. (2014), written for CUDA first.

Read ``train`` top to bottom: set-up, then one loop of k discriminator steps
and one generator step, logging and saving at intervals.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from gantool.core.version import __version__
from gantool.training import distributed
from gantool.store import tensors as ckpt
from gantool.training.config import DEFAULT_STEPS, TrainConfig, dump_toml, resolve_config
from gantool.plugins.contract import CheckedLoss, dataset_shape, forward
from gantool.training.distributed import Ranks
from gantool.training.ema import EMA
from gantool.core.devices import torch_device
from gantool.core.errors import GantoolError, first_line
from gantool.core.latents import draw_torch
from gantool.evaluation.runner import TrainingEval, summary
from gantool.core.images import picture, save_png
from gantool.plugins.registry import get_registry
from gantool.store.runs import claim_run, new_run_dir, point_latest, trim_metrics

SAMPLE_COUNT = 64
SCATTER_COUNT = 2000


# --- small pieces the loop uses -----------------------------------------------------------------


def learning_rate(cfg: TrainConfig, step: int, steps: int) -> float:
    """``--lr``, falling linearly towards 0 over the last ``--lr-decay`` fraction of the run (the last step at
    ``lr / (lr_decay * steps)``): a settling phase sharpens what G draws."""
    if cfg.lr_decay <= 0:
        return cfg.lr
    return cfg.lr * min(1.0, (steps - step + 1) / (cfg.lr_decay * steps))


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels become floats in [-1, 1]; float data is used as it is."""
    if x.dtype == torch.uint8:
        return x.float().div_(127.5).sub_(1.0)
    return x.float()


class DeviceBatches:
    """Shuffled mini-batches of a tensor that lives on the training device: no DataLoader, no host copies."""

    def __init__(self, data: torch.Tensor, batch_size: int, generator: torch.Generator) -> None:
        if batch_size > len(data):
            raise GantoolError(f"--batch-size {batch_size} is larger than the dataset ({len(data)} samples): lower it")
        self.data, self.batch_size, self.generator = data, batch_size, generator
        self.per_epoch = len(data) // batch_size  # the last partial batch is dropped, as the seeds' loaders do
        self.perm: torch.Tensor | None = None
        self.pos = 0

    def next(self) -> torch.Tensor:
        if self.perm is None or self.pos + self.batch_size > len(self.data):
            self.perm = torch.randperm(len(self.data), device=self.data.device, generator=self.generator)
            self.pos = 0
        index = self.perm[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        return to_unit_range(self.data[index])

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {} if self.perm is None else {"data.perm": self.perm}
        return tensors, {"pos": self.pos}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        perm, pos, n = tensors.get("data.perm"), meta.get("pos", 0), len(self.data)
        if perm is not None and (perm.dtype != torch.int64 or not torch.equal(perm.sort().values, torch.arange(n))):
            raise ValueError(f"data.perm is not a permutation of the {n} samples")
        if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos <= n:
            raise ValueError(f"data position {pos!r} is outside the {n} samples")
        self.perm = None if perm is None else perm.to(self.data.device)
        self.pos = pos


class StreamedBatches:
    """Batches from a DataLoader, for datasets too big to hold on the device."""

    def __init__(self, dataset: Any, batch_size: int, device: torch.device, seed: int, ranks: Ranks | None = None) -> None:
        from torch.utils.data import DataLoader, DistributedSampler

        ranks = ranks or Ranks()
        # Several processes: each reads its own share of one shuffle that every rank draws from the same seed.
        self.sampler: DistributedSampler[Any] | None = None
        if ranks.active:
            self.sampler = DistributedSampler(dataset, ranks.world, ranks.rank, seed=seed, drop_last=True)
        per_rank = len(self.sampler) if self.sampler is not None else len(dataset)
        if batch_size > per_rank:
            share = f" ({ranks.world} processes share them, {per_rank} each; --batch-size is per process)" if ranks.active else ""
            raise GantoolError(f"--batch-size {batch_size} is larger than the dataset ({len(dataset)} samples{share}): lower it")
        self.device, self.per_epoch, self.epoch = device, per_rank // batch_size, 0
        self.loader = DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=self.sampler is None,
            sampler=self.sampler,
            drop_last=True,
            num_workers=min(4, os.cpu_count() or 1),
            pin_memory=device.type == "cuda",  # pinned pages let the copy to the GPU overlap compute
            persistent_workers=True,
            generator=torch.Generator().manual_seed(distributed.rank_seed(seed, ranks)),
        )
        self.iterator: Iterator[Any] = iter(self.loader)

    def next(self) -> torch.Tensor:
        try:
            batch = next(self.iterator)
        except StopIteration:
            self.epoch += 1
            if self.sampler is not None:
                self.sampler.set_epoch(self.epoch)  # a new shuffle, the same on every rank
            self.iterator = iter(self.loader)
            batch = next(self.iterator)
        if isinstance(batch, list | tuple):  # (x, label) datasets: the images are enough
            batch = batch[0]
        return to_unit_range(batch.to(self.device, non_blocking=True))

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {}, {"streamed": True}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        pass  # a streamed run resumes with a fresh data order


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


def first_non_finite(tensors: dict[str, torch.Tensor]) -> str | None:
    """The name of the first floating tensor holding NaN or infinity, with one device sync for all of them."""
    floats = [(name, t) for name, t in tensors.items() if t.is_floating_point()]
    if not floats:
        return None
    finite = torch.stack([t.isfinite().all() for _, t in floats]).tolist()
    return next((name for (name, _), ok in zip(floats, finite) if not ok), None)


def check_shapes(G: torch.nn.Module, D: torch.nn.Module, cfg: TrainConfig, data_shape: tuple[int, ...], device: torch.device) -> None:
    """Hold plugins to the contract before the first step, with a message naming the culprit."""
    G.eval(), D.eval()
    with torch.no_grad():
        z = torch.zeros(2, cfg.latent_dim, device=device)
        out = forward(G, z, f"generator {cfg.gen!r}", "2 latents")
        if tuple(out.shape) != (2, *data_shape):
            raise GantoolError(
                f"generator {cfg.gen!r} returned shape {tuple(out.shape)} for 2 latents; the data needs {(2, *data_shape)}: "
                "pick a generator for this data"
            )
        logits = forward(D, out, f"discriminator {cfg.disc_name!r}", f"2 samples of shape {data_shape}")
        if tuple(logits.shape) not in ((2,), (2, 1)):
            raise GantoolError(
                f"discriminator {cfg.disc_name!r} returned shape {tuple(logits.shape)}; it must return logits (N,) or (N, 1)"
            )
    G.train(), D.train()


def non_finite_error(what: str, step: int, last_saved: int, run_dir: Path) -> GantoolError:
    """Stop a diverged run, pointing at the checkpoint it kept and at the way on."""
    if last_saved:
        keep = f"the checkpoint of step {last_saved} is kept: resume with a lower learning rate (gantool train --resume {run_dir} --lr ...)"
    else:
        keep = "no checkpoint was written: lower --lr"
    return GantoolError(f"{what} at step {step}; {keep} or change --loss")


def network_metadata(cfg: TrainConfig, kind: str, data_shape: tuple[int, ...], step: int) -> dict[str, Any]:
    component, options = (cfg.gen, cfg.gen_opt) if kind == "generator" else (cfg.disc_name, cfg.disc_opt)
    return {
        "format": "gantool",
        "gantool_version": __version__,
        "kind": kind,
        "component": component,
        "options": options,
        "latent_dim": cfg.latent_dim,
        "latent": cfg.latent,
        "data": cfg.data,
        "data_shape": list(data_shape),
        "output_range": [-1.0, 1.0],
        "step": step,
    }


def tensorboard_writer(run_dir: Path) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(run_dir / "tensorboard"))


def log_scalars(board: Any, record: dict[str, Any]) -> None:
    """Every number of a metrics.jsonl row, under its own name."""
    for key, value in record.items():
        if key != "step" and isinstance(value, int | float) and not isinstance(value, bool):
            board.add_scalar(key, value, record["step"])


@contextmanager
def stop_at_step_boundary(enabled: bool = True) -> Iterator[dict[str, bool]]:
    """Ctrl-C asks the loop to stop after the current step, so the checkpoint it saves is whole.

    Not in a distributed run: its launcher passes Ctrl-C on to every process, which stop at once
    (ranks stopping at different steps would wait on each other), and the last checkpoint stays.
    """
    flag = {"stop": False}
    if not enabled:
        yield flag
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if flag["stop"]:  # a second Ctrl-C: the user really wants out now
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        flag["stop"] = True

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def bar_cleared_on_error(progress: Any) -> Iterator[None]:
    """A run that fails ends with its one-line error alone: the half-drawn progress bar is cleared."""
    try:
        yield
    except Exception:
        progress.live.transient = True
        raise


# --- the run ------------------------------------------------------------------------------------


def train(cfg: TrainConfig, run_dir: str | Path | None = None, resume: str | Path | None = None, console: Any = None) -> Path:
    """Train G and D as ``cfg`` says; returns the run folder. ``resume`` continues a run in place.

    Under torchrun (or ``gantool train --nproc``) every process calls this: see gantool.training.distributed.
    """
    cfg.validate()
    with (
        distributed.process_group(cfg.device, torch_device) as (ranks, device),
        ExitStack() as held,  # the run folder's lock, released however the run ends
    ):
        return _train(cfg, run_dir, resume, console, ranks, device, held)


def _train(
    cfg: TrainConfig,
    run_dir: str | Path | None,
    resume: str | Path | None,
    console: Any,
    ranks: Ranks,
    device: torch.device,
    held: ExitStack,
) -> Path:
    from rich.console import Console

    console = (console or Console(stderr=True)) if ranks.main else Console(quiet=True)  # rank 0 alone talks
    if cfg.tensorboard:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise GantoolError("--tensorboard needs the tensorboard package: pip install tensorboard (or leave out --tensorboard)")
    registry = get_registry()
    seed = distributed.rank_seed(cfg.seed, ranks)  # cfg.seed itself on rank 0 and in a one-process run
    torch.manual_seed(seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # TF32 tensor cores: ~8x matmul throughput, ample precision for GANs
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True  # shapes are fixed, so autotuning pays off after the first step

    # Data lives on the training device and is batched there (the seeds' DataLoader costs more than the MLPs).
    # Several processes: each holds and shuffles its own shard (see distributed.shard).
    data = distributed.first_on_main(lambda: registry.create("dataset", cfg.data, **cfg.data_opt), ranks)
    data_rng = torch.Generator(device=device).manual_seed(seed + 1)
    if isinstance(data, torch.Tensor):
        if data.ndim < 2 or len(data) == 0:
            raise GantoolError(f"dataset {cfg.data!r} gave a tensor of shape {tuple(data.shape)}; it must be (N, *data_shape) with N > 0")
        data_shape = tuple(data.shape[1:])
        local = distributed.shard(data, ranks, cfg.batch_size)
        batches: DeviceBatches | StreamedBatches = DeviceBatches(local.to(device), cfg.batch_size, data_rng)
    else:
        data_shape = dataset_shape(data, cfg.data)
        console.print(f"[yellow]note[/]: dataset {cfg.data!r} is not a tensor; streaming it through a DataLoader (slower)")
        batches = StreamedBatches(data, cfg.batch_size, device, cfg.seed, ranks)
    steps = cfg.steps or (math.ceil(cfg.epochs * batches.per_epoch) if cfg.epochs else DEFAULT_STEPS)
    sample_every = cfg.sample_every or max(1, steps // 10)

    G = registry.create("generator", cfg.gen, cfg.latent_dim, data_shape, **cfg.gen_opt).to(device)
    D = registry.create("discriminator", cfg.disc_name, data_shape, **cfg.disc_opt).to(device)
    check_shapes(G, D, cfg, data_shape, device)
    if cfg.sync_bn:
        (G, g_norms), (D, d_norms) = distributed.sync_batchnorm(G, ranks, device), distributed.sync_batchnorm(D, ranks, device)
        if not g_norms + d_norms:
            console.print("[yellow]note[/]: --sync-bn changes nothing here (one process, or no BatchNorm in G or D)")
    loss = CheckedLoss(registry.create("loss", cfg.loss, **cfg.loss_opt), cfg.loss, registry.get("loss", cfg.loss).plugin)
    # What the loop calls. G_run and D_run are G and D, or with --compile fused kernels for each, replayed
    # as CUDA graphs on CUDA (shapes never change); weights stay in G and D, so checkpoints, EMA and
    # samples do not see the wrappers. With several processes, G_ddp and D_ddp also average gradients
    # over ranks (DistributedDataParallel, see distributed.wrap): D's step calls D_ddp on the real and
    # the fake batch before one backward; G's step calls G_ddp, through D_run frozen, so no DDP reducer
    # waits for D gradients that never come. In one process they are G_run and D_run.
    G_run, D_run = G, D
    G_ddp: Callable[..., Any] = distributed.wrap(G, ranks, device)
    D_ddp: Callable[..., Any] = distributed.wrap(D, ranks, device)
    if cfg.compile:
        mode = "reduce-overhead" if device.type == "cuda" else None
        G_run, D_run = torch.compile(G, mode=mode), torch.compile(D, mode=mode)
        if ranks.active:  # DDP compiled whole, so its buckets line up with the compiled graphs
            G_ddp, D_ddp = torch.compile(G_ddp, mode=mode), torch.compile(D_ddp, mode=mode)
        else:
            G_ddp, D_ddp = G_run, D_run
    # --amp bf16: matmuls in bfloat16 under autocast; weights, gradients and Adam stay float32.
    autocast = partial(torch.autocast, device.type, dtype=torch.bfloat16, enabled=cfg.amp == "bf16")
    ema = EMA(G, cfg.ema) if cfg.ema else None  # made after the wrap, from rank 0's weights on every rank
    shown = ema.model if ema else G  # the generator that grids, evaluations and G_ema.safetensors show
    # One fused kernel per optimizer step, on CUDA and on the CPU alike (2.7x faster than foreach on 2 CPU cores).
    fast = {"fused": True}
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), **fast)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), **fast)
    latent_rng = torch.Generator(device=device).manual_seed(seed + 2)
    # Grids show the same latents every time, so the pictures over training are comparable.
    reference = data[:SCATTER_COUNT].numpy() if isinstance(data, torch.Tensor) and data_shape == (2,) else None
    n_shown = SAMPLE_COUNT if reference is None else SCATTER_COUNT
    fixed_z = draw_torch(n_shown, cfg.latent_dim, cfg.latent, torch.Generator(device=device).manual_seed(cfg.seed + 3), device)

    # One writer per run folder, from here to the end: a second run on it is refused, not interleaved.
    # Rank 0 alone locks and writes it; a new folder is named after the time, so rank 0 names it for all.
    if resume is not None:
        run_dir = Path(resume)
    elif run_dir is None:
        run_dir = distributed.broadcast_text(str(new_run_dir(cfg.gen, cfg.data)) if ranks.main else "", ranks, device)
    run_dir = Path(run_dir)
    if ranks.main:
        held.enter_context(claim_run(run_dir, resuming=resume is not None))
    start = 0
    if resume is not None:
        start = restore(run_dir / ckpt.CHECKPOINT, G, D, opt_g, opt_d, batches, data_rng, latent_rng, device, ema, ranks)
        if start >= steps:
            raise GantoolError(f"run {run_dir} is already at step {start}: pass --steps larger than {start} to go on")
    if ranks.main:
        trim_metrics(run_dir / "metrics.jsonl", start)  # rows a killed run logged after its last checkpoint
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)
        point_latest(run_dir)
        ckpt.atomic_write(run_dir / "config.toml", dump_toml(cfg.to_dict()).encode())
    # Evaluations and TensorBoard are rank 0's too: the other ranks hold the same G.
    scores = TrainingEval(cfg, data_shape, D, console) if cfg.eval_every and ranks.main else None
    board = tensorboard_writer(run_dir) if cfg.tensorboard and ranks.main else None
    evaluated: dict[int, dict[str, Any]] = {}  # step -> figures, written with that step's losses

    def save(step: int) -> None:
        """Everything a resume needs in one atomic file, then the weights for export and sampling; never a NaN.

        The RNG and data-order state of every rank is gathered into rank 0's file; rank 0 writes.
        """
        nets = [("generator", G, "G"), ("discriminator", D, "D")] + ([("generator", ema.model, "G_ema")] if ema else [])
        tensors, meta = {}, {"step": step, "config": cfg.to_dict(), "gantool_version": __version__, "world_size": ranks.world}
        for _, net, prefix in nets:
            tensors.update({f"{prefix}.{k}": v for k, v in ckpt.state_tensors(net).items()})
        for prefix, opt in (("opt_g", opt_g), ("opt_d", opt_d)):
            opt_tensors, meta[prefix] = ckpt.optimizer_tensors(opt, prefix)
            tensors.update(opt_tensors)
        data_tensors, meta["data"] = batches.state()  # the position in the data is the same on every rank
        rng = {"rng.torch": torch.get_rng_state(), "rng.data": data_rng.get_state(), "rng.latent": latent_rng.get_state()}
        if device.type == "cuda":
            rng["rng.cuda"] = torch.cuda.get_rng_state(device)
        tensors.update(distributed.gather_states({**data_tensors, **rng}, ranks, device))
        bad = first_non_finite(tensors)  # a finite loss can still come with an infinite gradient
        if bad is not None:
            raise non_finite_error(f"{bad} became NaN or infinite", step, last_saved, run_dir)
        if not ranks.main:
            return
        ckpt.save_tensors(run_dir / ckpt.CHECKPOINT, tensors, meta)
        for kind, _, name in nets:
            weights = {k[len(name) + 1 :]: v for k, v in tensors.items() if k.startswith(name + ".")}
            extra = {"ema": cfg.ema} if name == "G_ema" else {}
            ckpt.save_tensors(run_dir / f"{name}.safetensors", weights, network_metadata(cfg, kind, data_shape, step) | extra)

    def save_samples(step: int) -> None:
        was_training = shown.training
        shown.eval()
        with torch.no_grad():
            out = shown(fixed_z)
        shown.train(was_training)
        pixels = picture(out.float().cpu().numpy(), reference)
        save_png(pixels, run_dir / "samples" / f"step_{step:07d}.png")
        save_png(pixels, run_dir / "samples.png")
        if board is not None:
            board.add_image("samples", pixels, step, dataformats="HWC")

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[figures]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    watch = Watch(D, call=D_ddp)
    pending: list[torch.Tensor] = []  # per-step figures, still on the device
    last_saved = start
    started = time.perf_counter()
    with (
        stop_at_step_boundary(enabled=not ranks.active) as interrupt,
        Progress(*columns, console=console, transient=False) as progress,
        bar_cleared_on_error(progress),
        (run_dir / "metrics.jsonl").open("a", encoding="utf-8") if ranks.main else nullcontext() as metrics,
    ):
        task = progress.add_task("train", total=steps, completed=start, figures="")
        for step in range(start + 1, steps + 1):
            if cfg.lr_decay:  # a function of the step alone, so --resume picks it up exactly
                lr = learning_rate(cfg, step, steps)
                for group in (*opt_g.param_groups, *opt_d.param_groups):
                    group["lr"] = lr
            if cfg.compile and device.type == "cuda":
                torch.compiler.cudagraph_mark_step_begin()  # last step's graph outputs may be reused from here on
            # (1) k steps on D: push D(x) up and D(G(z)) down; G is frozen, so no graph is built for it.
            for _ in range(cfg.d_steps):
                real = batches.next()
                with torch.no_grad(), autocast():
                    fake = G_run(draw_torch(cfg.batch_size, cfg.latent_dim, cfg.latent, latent_rng, device))
                watch.real, watch.fake = real, fake
                with autocast():
                    d_loss = loss.discriminator_loss(watch, real, fake)
                opt_d.zero_grad(set_to_none=True)  # set_to_none skips a memset per parameter
                d_loss.backward()
                opt_d.step()
            figures = watch.figures()

            # (2) one step on G through a frozen D: D's weight gradients are never needed here, so skip them.
            D.requires_grad_(False)
            with autocast():
                fake = G_ddp(draw_torch(cfg.batch_size, cfg.latent_dim, cfg.latent, latent_rng, device))
                g_loss = loss.generator_loss(D_run, real, fake)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            D.requires_grad_(True)
            if ema is not None:
                ema.update(G, step)

            # (3) every --eval-every steps: the figures of 'gantool eval', on the generator as it is now.
            if scores is not None and cfg.eval_every and (step % cfg.eval_every == 0 or step == steps):
                evaluated[step] = scores(shown, step)
                progress.console.print(f"step {step}: {summary(evaluated[step])}")

            # (4) bookkeeping: figures stay on the device until the logging interval (no per-step host sync),
            # then the mean over ranks comes back in one all-reduce.
            # The losses are also checked before every save, so no checkpoint ever holds a diverged run.
            pending.append(torch.stack([d_loss.detach(), g_loss.detach(), *(f.to(device) for f in figures)]).float())
            stop = interrupt["stop"]  # read once: a Ctrl-C landing mid-bookkeeping waits for the next step
            saving = step % cfg.ckpt_every == 0 or step == steps or stop
            if step % cfg.log_every == 0 or saving:
                rows = distributed.average(torch.stack(pending), ranks).tolist()
                first = step - len(rows) + 1
                pending.clear()
                if metrics is not None:  # rank 0 writes the file
                    for i, (dl, gl, dx, dgz, dlr, dlf) in enumerate(rows):
                        record = {
                            "step": first + i,
                            "d_loss": dl,
                            "g_loss": gl,
                            "d_real": dx,
                            "d_fake": dgz,
                            "d_loss_real": dlr,
                            "d_loss_fake": dlf,
                        } | evaluated.pop(first + i, {})
                        metrics.write(json.dumps(record) + "\n")
                        if board is not None:
                            log_scalars(board, record)
                    metrics.flush()
                diverged = next((i for i, row in enumerate(rows) if not all(math.isfinite(v) for v in row[:2])), None)
                if diverged is not None:
                    dl, gl = rows[diverged][:2]
                    raise non_finite_error(f"the loss became {dl} (D) / {gl} (G)", first + diverged, last_saved, run_dir)
                dl, gl, dx, dgz = rows[-1][:4]
                progress.update(task, completed=step, figures=f"D {dl:.3f}  G {gl:.3f}  D(x) {dx:.2f}  D(G(z)) {dgz:.2f}")
            if ranks.main and (step % sample_every == 0 or step == steps):
                save_samples(step)
            if saving:
                save(step)
                last_saved = step
            if stop:
                progress.stop()
                console.print(f"interrupted: saved step {step} in {run_dir}; continue with: gantool train --resume {run_dir}")
                raise KeyboardInterrupt
    if board is not None:
        board.close()
    elapsed = time.perf_counter() - started
    done = steps - start
    images = done * cfg.batch_size * ranks.world
    where = f" in {ranks.world} processes" if ranks.active else ""
    console.print(f"trained {done} steps{where} in {elapsed:.1f} s ({images / max(elapsed, 1e-9):,.0f} images/s) -> {run_dir}")
    return run_dir


def restore(
    path: Path,
    G: torch.nn.Module,
    D: torch.nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    batches: DeviceBatches | StreamedBatches,
    data_rng: torch.Generator,
    latent_rng: torch.Generator,
    device: torch.device,
    ema: EMA | None = None,
    ranks: Ranks | None = None,
) -> int:
    """Put a run back exactly as it was at its last checkpoint; returns that step. Each rank takes its own RNG and data order."""
    tensors, meta = ckpt.load_tensors(path)
    try:
        tensors = distributed.own_state(tensors, meta, ranks or Ranks(), path)
        step = json.loads(meta["step"])
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ValueError(f"step {meta['step']!r} is not a positive whole number")
        nets = [("G", G), ("D", D)]
        if ema is not None:  # a run that turns --ema on at resume starts its average from G
            nets.append(("G_ema", ema.model) if any(k.startswith("G_ema.") for k in tensors) else ("G", ema.model))
        for prefix, net in nets:
            part = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
            ckpt.load_state(net, part, f"{path} ({prefix})")
        # Optimizer.load_state_dict moves each state tensor to its parameter's device itself.
        ckpt.load_optimizer(opt_g, "opt_g", tensors, json.loads(meta["opt_g"]))
        ckpt.load_optimizer(opt_d, "opt_d", tensors, json.loads(meta["opt_d"]))
        batches.load_state(tensors, json.loads(meta["data"]))
        torch.set_rng_state(tensors["rng.torch"])
        data_rng.set_state(tensors["rng.data"])
        latent_rng.set_state(tensors["rng.latent"])
        if device.type == "cuda" and "rng.cuda" in tensors:
            torch.cuda.set_rng_state(tensors["rng.cuda"], device)
    except GantoolError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, RuntimeError, RecursionError) as exc:
        raise GantoolError(
            f"{path} does not hold usable resume state ({type(exc).__name__}: {first_line(exc)}); it was not written by gantool train, "
            "or was damaged: use another checkpoint"
        ) from None
    return step


__all__ = ["DEFAULT_STEPS", "TrainConfig", "resolve_config", "train"]
