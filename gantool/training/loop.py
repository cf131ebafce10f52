"""The training loop: Algorithm 1 of Goodfellow et al. (2014), written for CUDA first.

``fit`` reads top to bottom: k updates of D and one of G per step, then the work due at
this step (evaluations, logging, sample grids, checkpoints). Everything it uses was built
by ``setup``; the two halves of a step are in gantool.training.steps.
"""

from __future__ import annotations

import time

import torch

from gantool.training import checkpointing
from gantool.training.logs import MetricsLog, bar_cleared_on_error, describe, progress_bar
from gantool.training.periodic import Evaluations, SampleGrids
from gantool.training.setup import Run
from gantool.training.signals import stop_at_step_boundary
from gantool.training.steps import d_step, g_step, set_learning_rate
from gantool.training.watch import Watch, judges_per_sample


def fit(run: Run) -> None:
    """Train from ``run.start`` to ``run.steps``, logging, drawing and saving at intervals; Ctrl-C saves, then stops."""
    cfg, ranks = run.cfg, run.ranks
    log = MetricsLog(run.run_dir, ranks, run.device, cfg.tensorboard)
    grids = SampleGrids(run, log.board)
    evaluations = Evaluations(run) if cfg.eval_every and ranks.main else None  # rank 0's: the other ranks hold the same G
    # D(x) and D(G(z)) for the logs without a second forward pass; real and fake in one pass where D keeps samples apart
    watch = Watch(run.nets.D, call=run.nets.D_train, together=judges_per_sample(run.nets.D))
    judge = Watch(run.nets.D, call=run.nets.D_frozen)  # D as G's step calls it: frozen, labels bound
    cuda_graphs = cfg.compile and run.device.type == "cuda"
    last_saved = run.start
    started = time.perf_counter()
    with (
        stop_at_step_boundary(enabled=not ranks.active) as interrupt,
        progress_bar(run.console) as progress,
        bar_cleared_on_error(progress),
    ):
        task = progress.add_task("train", total=run.steps, completed=run.start, figures="")
        try:
            for step in range(run.start + 1, run.steps + 1):
                set_learning_rate(run, step)
                if cuda_graphs:
                    torch.compiler.cudagraph_mark_step_begin()  # last step's graph outputs may be reused from here on
                d_loss, real, labels, fake = d_step(run, watch)  # (1) k updates of D
                figures = watch.figures() + ([run.augment.p] if run.augment is not None else [])
                g_loss = g_step(run, judge, real, labels, step, fake)  # (2) one update of G
                if run.augment is not None:
                    run.augment.adjust(step)  # --augment-p auto: every few steps, towards D(real) > 0 on 60% of reals

                if evaluations is not None and evaluations.due(step):  # (3) --eval-every: figures of the G as it is now
                    log.evaluated[step] = evaluations(step)
                log.add(d_loss, g_loss, figures)  # (4) bookkeeping, on the device until the interval
                stop = interrupt["stop"]  # read once: a Ctrl-C landing mid-bookkeeping waits for the next step
                saving = step % cfg.ckpt_every == 0 or step == run.steps or stop
                if step % cfg.log_every == 0 or saving:
                    progress.update(task, completed=step, figures=describe(log.flush(step, last_saved)))
                if grids.due(step):
                    grids(step)
                if saving:  # the losses were checked by the flush above, so no checkpoint holds a diverged run
                    checkpointing.save(run, step, last_saved)
                    last_saved = step
                if stop:
                    progress.stop()
                    run.console.print(
                        f"interrupted: saved step {step} in {run.run_dir}; continue with: gantool train --resume {run.run_dir}"
                    )
                    raise KeyboardInterrupt
        finally:
            log.close()
    elapsed = time.perf_counter() - started
    done = run.steps - run.start
    where = f" in {ranks.world} processes" if ranks.active else ""
    images = done * cfg.batch_size * ranks.world
    run.console.print(f"trained {done} steps{where} in {elapsed:.1f} s ({images / max(elapsed, 1e-9):,.0f} images/s) -> {run.run_dir}")
