"""``gantool export``, ``gantool sample`` and ``gantool info``: a trained generator put to use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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
    from gantool.cli.console import out

    out.print(models_table(rows, out.width))


def models_table(rows: list[dict], width: int) -> Any:
    """``gantool models`` as a table that fits ``width`` columns: cells wrap between phrases ("recipe ring, 20,000
    steps"), not inside them; a conditional model's classes under its data; an error column only when some model is
    broken, and its errors as lines under the table instead when the column would not fit beside the others."""
    from rich.console import Group
    from rich.text import Text

    from gantool.evaluation.report import compact
    from gantool.inference.zoo import plugin_label

    cells = [
        {
            "model": [[row["name"]]],
            "plugin": [[plugin_label(row["plugin"])]],
            "data": [[f"{row['data']} ", f"({row['component']})"], *classes(row)] if row["data"] else [["-"]],
            "trained": trained(row),
            "eval": [phrases(compact((row["eval"] or {}).get("figures") or {}), ", ") or ["-"]],
            "error": [phrases(row["error"].split(" "), " ")] if row["error"] else [],
        }
        for row in rows
    ]
    table = _table(cells, width, errors_below=False)
    if table is not None:
        return table
    for cell, row in zip(cells, rows, strict=True):
        cell["error"], cell["eval"] = [], cell["eval"] if not row["error"] else [["error: see below"]]
    notes = [Text(f"{row['name']}: {row['error']}", style="red") for row in rows if row["error"]]
    return Group(_table(cells, width, errors_below=True), *notes)


def _table(cells: list[dict], width: int, *, errors_below: bool) -> Any:
    """The table of these cells with each column at least as wide as its longest phrase where ``width`` allows (the
    widest narrowed first); None when an error column would leave no such room, unless ``errors_below``."""
    from rich.table import Table

    columns = [c for c in ("model", "plugin", "data", "trained", "eval", "error") if c != "error" or any(cell[c] for cell in cells)]
    grid = [[Phrases(cell[c]) for c in columns] for cell in cells]
    room = width - 3 * len(columns) - 1  # the borders and a space either side of each cell
    lows, words = ([max([len(c), *(row[i].low(w) for row in grid)]) for i, c in enumerate(columns)] for w in (False, True))
    if sum(lows) > room and "error" in columns and not errors_below:
        return None
    floor = lows  # break phrases at spaces only where whole ones cannot fit, and a name or the recipe last of all
    if sum(floor) > room:
        floor = [low if c in ("model", "plugin", "trained") else word for c, low, word in zip(columns, lows, words, strict=True)]
    floor = floor if sum(floor) <= room else words
    widths = [max([len(c), *(row[i].high() for row in grid)]) for i, c in enumerate(columns)]
    while sum(widths) > room and sum(floor) <= room:  # the widest first, down to its longest phrase, then below
        widest = max(range(len(columns)), key=lambda i: (widths[i] > floor[i], widths[i] > lows[i], widths[i]))
        widths[widest] -= 1
    fits = sum(floor) <= room  # otherwise rich narrows the columns as it sees fit
    caption = None if cells else "none installed: a plugin adds them with the register_models hook (docs/plugins.md)"
    table = Table(title="gantool models", caption=caption)
    for column, w in zip(columns, widths, strict=True):
        table.add_column(column, width=w if fits else None, no_wrap=column == "model", style="red" if column == "error" else None)
    for row in grid:
        table.add_row(*row)
    return table


def classes(row: dict) -> list[list[str]]:
    """A conditional model's classes, a line to wrap between them: "classes 0, 1, 2, ..."."""
    return [["classes ", *phrases(row["classes"], ", ")]] if row["classes"] else []


def trained(row: dict) -> list[list[str]]:
    """Where a model came from: "recipe ring, 20,000 steps", then the export date on a line of its own."""
    made = [f"recipe {row['recipe']}" if row["recipe"] else "", f"{row['step']:,} steps" if row["step"] is not None else ""]
    lines = [phrases([p for p in made if p], ", "), [f"exported {row['exported'][:10]}"] if row["exported"] else []]
    return [line for line in lines if line] or [["-"]]


def phrases(parts: list[str], sep: str) -> list[str]:
    """Parts of a line, each but the last followed by ``sep``: the pieces a ``Phrases`` cell wraps between."""
    return [f"{p}{sep}" for p in parts[:-1]] + parts[-1:]


class Phrases:
    """A table cell of lines of phrases that wraps between phrases, and inside one only when the column is narrower
    than the phrase: the column measures its minimum as its longest phrase. A phrase carries its separator."""

    def __init__(self, lines: list[list[str]]) -> None:
        self.lines = lines

    def low(self, words: bool = False) -> int:
        """The longest phrase, or with ``words`` the longest word."""
        parts = (w if words else p for line in self.lines for p in line for w in p.split())
        return max((len(p.rstrip()) for p in parts), default=0)

    def high(self) -> int:
        return max((len("".join(line).rstrip()) for line in self.lines), default=0)

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        return Measurement(self.low(), self.high()).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.text import Text

        rows: list[str] = []
        for line in self.lines:
            row = ""
            for phrase in line:
                if row and len(row + phrase.rstrip()) > options.max_width:
                    rows.append(row.rstrip())
                    row = ""
                row += phrase
            rows.append(row.rstrip())
        yield Text("\n".join(rows))
