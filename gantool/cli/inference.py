"""``gantool export``, ``gantool sample`` and ``gantool info``: a trained generator put to use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from gantool.cli.console import err
from gantool.core.devices import DEVICE_HELP
from gantool.inference.export import DEFAULT_OPSET
from gantool.inference.sampling import DEFAULT_BATCH, DEFAULT_COUNT

EMA_HELP = "Use the run's weight average (G_ema.safetensors) when it has one; --no-ema takes the raw G."


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command()(sample)
    app.command()(info)
    app.command()(models)


def export(
    run: Annotated[Path | None, typer.Argument(help="Run folder (default: runs/latest).", show_default=False)] = None,
    onnx: Annotated[Path | None, typer.Option("--onnx", help="Where to write the model (default: RUN/G.onnx).")] = None,
    ema: Annotated[bool | None, typer.Option("--ema/--no-ema", help=EMA_HELP, show_default=False)] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset to target.")] = DEFAULT_OPSET,
    recipe: Annotated[
        str | None,
        typer.Option(
            help="Recipe to name in the file, e.g. mnist-cond (default: the one the run's config.toml records).", show_default=False
        ),
    ] = None,
) -> None:
    """Export a run's generator to ONNX, with what a sampler needs and where it came from (settings, eval figures) as
    metadata; checked against PyTorch before it is kept."""
    from gantool.inference.export import export_onnx

    report = export_onnx(run, onnx, ema=ema, opset=opset, recipe=recipe)
    err.print(escape(report.summary()), highlight=False, soft_wrap=True)


def sample(
    n: Annotated[int, typer.Option("-n", "--count", help="How many samples (--interpolate rounds up to whole walks).")] = DEFAULT_COUNT,
    runtime: Annotated[str, typer.Option(help="onnx (needs only onnxruntime) or torch (needs the training extra).")] = "onnx",
    model: Annotated[
        Path | None,
        typer.Option(
            help="An .onnx file or an installed model's name (see 'gantool models') for onnx, a run folder for torch "
            "(default: runs/latest's).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output: .png for a picture, .npy for the raw (N, *data_shape) float32 array.")] = Path(
        "samples.png"
    ),
    seed: Annotated[int | None, typer.Option(help="Seed for the latents; the same seed gives the same samples in both runtimes.")] = None,
    device: Annotated[str, typer.Option(help=f"{DEVICE_HELP}.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Latents per forward pass.")] = DEFAULT_BATCH,
    interpolate: Annotated[
        int | None, typer.Option(help="Walk between random latents in K steps: one walk per row.", metavar="K", show_default=False)
    ] = None,
    ema: Annotated[bool | None, typer.Option("--ema/--no-ema", help=f"With --runtime torch: {EMA_HELP}", show_default=False)] = None,
    label: Annotated[
        str | None,
        typer.Option(
            help="A conditional model's class: a number or name, several (3,5: a row each), or all (a row per class). "
            "Without it labels are drawn uniformly; they are written beside --out.",
            show_default=False,
        ),
    ] = None,
    truncation: Annotated[
        float | None,
        typer.Option(
            help="Truncation trick for the normal prior: latent entries beyond PSI standard deviations are drawn again "
            "(0 < PSI <= 1; lower: more typical, less varied samples).",
            metavar="PSI",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw samples from a generator: an ONNX export (no torch needed) or a run's weights in PyTorch."""
    from gantool.inference.sampling import sample as draw_samples

    result = draw_samples(
        n,
        runtime=runtime,
        model=model,
        out=out,
        seed=seed,
        device=device,
        batch_size=batch_size,
        interpolate=interpolate,
        ema=ema,
        label=label,
        truncation=truncation,
    )
    err.print(escape(result.summary()), highlight=False, soft_wrap=True)


def info(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False) -> None:
    """Show versions, GPUs and onnxruntime's execution providers (works without torch)."""
    from gantool.inference.environment import collect, lines

    report = collect()
    if as_json:
        print(json.dumps(report, indent=2))
        return
    rows = lines(report)
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        print(f"{label:<{width}}  {text}")


def models(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """List the pretrained generators plugins install, with where each came from and its eval figures
    (sample one with 'gantool sample --model NAME'); works without torch."""
    from gantool.inference.zoo import describe, installed

    rows = [describe(model) for model in installed()]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    from gantool.cli.console import out

    caption = None if rows else "none installed: a plugin adds them with the register_models hook (docs/plugins.md)"
    table = Table(title="gantool models", caption=caption)
    for column in ("model", "plugin", "data", "classes", "trained", "eval", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        classes = ", ".join(row["classes"]) if row["classes"] else "-"
        data = f"{row['data']} ({row['component']})" if row["data"] else "-"
        error = f"[red]{escape(row['error'])}[/]" if row["error"] else ""
        table.add_row(*map(escape, [row["name"], row["plugin"], data, classes, trained(row), eval_figures(row)]), error)
    out.print(table)


def trained(row: dict) -> str:
    """Where a model came from, in one cell, a line each: recipe, steps, export date."""
    parts = [f"recipe {row['recipe']}" if row["recipe"] else "", f"{row['step']:,} steps" if row["step"] is not None else ""]
    parts.append(f"exported {row['exported'][:10]}" if row["exported"] else "")
    return "\n".join(p for p in parts if p) or "-"


def eval_figures(row: dict) -> str:
    """The headline eval figures a model file carries, a line each, in the order the training log shows them."""
    from gantool.evaluation.report import SUMMARY, format_value

    figures = dict((row["eval"] or {}).get("figures") or {})
    if "modes_total" in figures and "modes_captured" in figures:
        figures["modes_captured"] = f"{figures['modes_captured']}/{figures['modes_total']}"
    return "\n".join(f"{k} {format_value(figures[k])}" for k in SUMMARY if k in figures) or "-"
