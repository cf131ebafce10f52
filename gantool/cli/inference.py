"""``gantool export``, ``gantool sample`` and ``gantool info``: a trained generator put to use."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from gantool.cli.console import err
from gantool.cli.options import flag_parameters
from gantool.core.errors import GantoolError
from gantool.inference.export import DEFAULT_OPSET
from gantool.inference.loading import EMA_HELP
from gantool.inference.sample_options import SampleOptions
from gantool.inference.web import ORT_VERSION
from gantool.store.layout import CONFIG, ONNX


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command()(sample)
    app.command()(serve)
    app.command()(info)
    app.command()(models)


def export(
    run: Annotated[
        Path | None,
        typer.Argument(
            help="Run folder (default: runs/latest); with --web also an .onnx file or an installed model's name.", show_default=False
        ),
    ] = None,
    onnx: Annotated[Path | None, typer.Option("--onnx", help=f"Where to write the model (default: RUN/{ONNX}).")] = None,
    ema: Annotated[bool | None, typer.Option("--ema/--no-ema", help=EMA_HELP, show_default=False)] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset to target.")] = DEFAULT_OPSET,
    recipe: Annotated[
        str | None,
        typer.Option(
            help=f"Recipe to name in the file, e.g. mnist-cond (default: the one the run's {CONFIG} records).", show_default=False
        ),
    ] = None,
    web: Annotated[
        Path | None,
        typer.Option(help="Also write a web page that samples the model in the browser into this new folder.", show_default=False),
    ] = None,
    ort: Annotated[
        Path | None,
        typer.Option(
            help=f"With --web: copy onnxruntime-web from this folder (its npm package's dist/), not {ORT_VERSION} from a CDN.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export a run's generator to ONNX, with what a sampler needs and where it came from (settings, eval figures) as
    metadata; checked against PyTorch before it is kept. --web DIR adds a page that samples it in the browser."""
    if web is None:
        if ort is not None:
            raise GantoolError("--ort is where the --web page loads onnxruntime-web from: add --web DIR")
        from gantool.inference.export import export_onnx

        report = export_onnx(run, onnx, ema=ema, opset=opset, recipe=recipe)
        err.print(escape(report.summary()), highlight=False, soft_wrap=True)
        return
    from gantool.inference.web import export_web

    page, exported = export_web(run, web, ort, out=onnx, ema=ema, opset=opset, recipe=recipe)
    for done in (exported, page):
        if done is not None:
            err.print(escape(done.summary()), highlight=False, soft_wrap=True)


def sample(**values: Any) -> None:
    """Draw samples from a generator: an ONNX export (no torch needed) or a run's weights in PyTorch."""
    from gantool.inference.sampling import sample as draw_samples

    result = draw_samples(**values)
    err.print(escape(result.summary()), highlight=False, soft_wrap=True)


sample.__signature__ = inspect.Signature(flag_parameters(SampleOptions))  # type: ignore[attr-defined]


def serve(
    folder: Annotated[Path, typer.Argument(help="A folder written by 'gantool export RUN --web FOLDER'.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free one).")] = 8000,
) -> None:
    """Serve a web page made by 'gantool export --web' on 127.0.0.1 with Python's own HTTP server, until Ctrl-C."""
    from gantool.inference.web import serve as serve_folder

    serve_folder(folder, port, lambda url: print(f"serving {folder} at {url} (Ctrl-C stops)", flush=True))


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
    from gantool.cli.console import out
    from gantool.evaluation.zoo_table import models_table

    out.print(models_table(rows, out.width))
