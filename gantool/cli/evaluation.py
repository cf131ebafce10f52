"""``gantool eval`` and ``gantool plot``: numbers and pictures about a generator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gantool.cli.console import err, out
from gantool.inference.loading import EMA_HELP
from gantool.store.layout import EVAL, ONNX
from gantool.training.preflight import need_torch


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command()(plot)


def eval_command(
    run: Annotated[Path | None, typer.Argument(help=f"Run folder, G*.safetensors or {ONNX} (default: runs/latest).")] = None,
    metrics: Annotated[
        list[str] | None, typer.Option("--metrics", "-m", help="Metric to compute (repeatable; default: every one that applies).")
    ] = None,
    n: Annotated[
        int | None, typer.Option("-n", min=10, help="Samples to draw (default: 10,000 images, 26,000 stacked digits, 2,500 points).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the latents drawn.")] = 0,
    ema: Annotated[bool | None, typer.Option("--ema/--no-ema", help=EMA_HELP, show_default=False)] = None,
    mnist_root: Annotated[
        Path | None, typer.Option(help="Folder with MNIST/raw: train the metrics' classifier on MNIST's 60,000 (default for MNIST runs).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help=f"Where to write the figures (default: RUN/{EVAL}).")] = None,
    truncation: Annotated[
        str | None,
        typer.Option(
            help="Also score samples with latents truncated at each PSI (0 < PSI <= 1), e.g. 1.0,0.7,0.5: how fidelity "
            "(precision, fid) and diversity (recall, modes) move with the truncation trick. Normal prior only.",
            metavar="PSI,...",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Score a generator: Fréchet distance, Inception-style score, precision/recall, digit shares, D's accuracy, modes of 2-D sets."""
    from gantool.evaluation.truncation import parse_psis

    psis = parse_psis(truncation) if truncation is not None else None  # a bad PSI is refused before torch loads
    need_torch()
    from gantool.evaluation.report import table, truncation_table, write_report
    from gantool.evaluation.runner import evaluate_path

    names = [m for item in metrics or [] for m in item.split(",") if m.strip()] or None
    target = run if run is not None else Path("runs/latest")
    root = str(mnist_root) if mnist_root else None
    report, default_out = evaluate_path(target, names, n=n, seed=seed, ema=ema, mnist_root=root, console=err, truncation=psis)
    path = write_report(report, output or default_out)
    out.print(table(report))
    if "truncation" in report:
        out.print(truncation_table(report))
    err.print(f"figures written to {path}")


def plot(
    run: Annotated[Path | None, typer.Argument(help="Run folder (default: runs/latest).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the PNG files (default: RUN/plots).")] = None,
) -> None:
    """Draw a run's loss curves (smoothed as seed 000 does) and its samples over training as PNG files."""
    from gantool.evaluation.plots import plot_run
    from gantool.store.runs import resolve_run

    for path in plot_run(resolve_run(run), out_dir):
        err.print(f"wrote {path}")
