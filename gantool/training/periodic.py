"""Work the loop does every so many steps besides training: sample grids, and evaluations with --eval-every.

Both judge the generator the run shows (its weight average, unless --ema 0) and run on rank 0 alone:
the other ranks hold the same G.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from gantool.core.images import picture, save_png
from gantool.core.latents import draw_torch
from gantool.plugins.networks import generate
from gantool.store.layout import LATEST_GRID, sample_grid
from gantool.training.ranks import SeedOffset

if TYPE_CHECKING:
    from gantool.training.setup import Run

SAMPLE_COUNT = 64  # images in a grid
SCATTER_COUNT = 2000  # points in a scatter of 2-D data
CLASS_ROW = 8  # images per class in a conditional run's grid
CLASS_ROWS = 10  # classes a conditional run's grid shows at most: spread over the classes (stacked-mnist's 1,000: 000, 111, ..., 999)


class SampleGrids:
    """``samples/step_N.png`` and ``samples.png``: the same latents every time, so the pictures over training compare."""

    def __init__(self, run: Run, board: Any = None) -> None:
        self.run, self.board = run, board
        train = run.data.train
        self.reference = train[:SCATTER_COUNT].numpy() if isinstance(train, torch.Tensor) and run.data_shape == (2,) else None
        n = SAMPLE_COUNT if self.reference is None else SCATTER_COUNT
        cfg, device = run.cfg, run.device
        classes = len(run.classes or [])
        self.labels: np.ndarray | None = None
        self.columns: int | None = None
        if classes:  # one row per class shown, the same latents in every row
            rows = np.linspace(0, classes - 1, min(classes, CLASS_ROWS)).round().astype(np.int64)
            self.columns = CLASS_ROW if self.reference is None else max(1, n // len(rows))
            self.labels = rows.repeat(self.columns)
            n = self.columns
        z = draw_torch(n, cfg.latent_dim, cfg.latent, torch.Generator(device=device).manual_seed(cfg.seed + SeedOffset.GRID), device)
        self.z = z.cpu().numpy() if self.labels is None else z.repeat(len(self.labels) // n, 1).cpu().numpy()

    def due(self, step: int) -> bool:
        return self.run.ranks.main and (step % self.run.sample_every == 0 or step == self.run.steps)

    def __call__(self, step: int) -> None:
        out = generate(self.run.nets.shown, self.z, self.labels, batch_size=len(self.z))  # the whole grid in one pass
        pixels = picture(out, self.reference, ncol=self.columns)
        save_png(pixels, sample_grid(self.run.run_dir, step))
        save_png(pixels, self.run.run_dir / LATEST_GRID)
        if self.board is not None:
            self.board.add_image("samples", pixels, step, dataformats="HWC")


class Evaluations:
    """``--eval-every N``: the figures of 'gantool eval' on the generator as it is, with the same latents each time,
    keeping the classifier and the real data's features between evaluations."""

    def __init__(self, run: Run) -> None:
        from gantool.evaluation.runner import default_n

        self.run = run
        self.classes = None if run.classes is None else tuple(run.classes)
        self.D = run.nets.D
        self.shared: dict[str, Any] = {"D": self.D}
        self.n = run.cfg.eval_n or default_n(tuple(run.data_shape), run.data.modes)

    def due(self, step: int) -> bool:
        every = self.run.cfg.eval_every
        return every is not None and (step % every == 0 or step == self.run.steps)

    def __call__(self, step: int) -> dict[str, Any]:
        from gantool.evaluation.report import summary

        figures = self.figures(self.run.nets.shown, step)
        self.run.console.print(f"step {step}: {summary(figures)}")
        return figures

    def figures(self, G: Any, step: int) -> dict[str, Any]:
        """The figures of ``G`` at ``step``, leaving D's mode and training's random streams as they were."""
        from gantool.evaluation.classifier import mnist_root_in
        from gantool.evaluation.context import EvalContext
        from gantool.evaluation.runner import evaluate
        from gantool.evaluation.sources import module_source

        cfg = self.run.cfg
        data_shape = tuple(self.run.data_shape)
        source = module_source(G, cfg.latent_dim, cfg.latent, cfg.data, data_shape, f"step {step}", step=step, classes=self.classes)
        ctx = EvalContext(
            source,
            self.n,
            seed=cfg.seed,  # the same latents every time: figures over training are comparable
            mnist_root=mnist_root_in(cfg.data_opt),
            loss=cfg.loss,
            loss_opt=cfg.loss_opt,
            data_opt=cfg.data_opt,
            console=self.run.console,
            shared=self.shared,
        )
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
        was_training = self.D.training
        self.D.eval()  # no dropout while judging
        try:
            with torch.random.fork_rng(devices=devices):  # training's random streams stay as they were: resume stays exact
                figures = evaluate(ctx, cfg.eval_metrics)
        finally:
            self.D.train(was_training)
        figures.pop("metrics")
        return figures
