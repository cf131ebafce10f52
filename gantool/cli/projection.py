"""``gantool project``: real images into a generator's latent space (the work is gantool.evaluation.projector's)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from gantool.cli.console import err
from gantool.cli.options import flag_parameters
from gantool.evaluation.project_options import ProjectOptions


def register(app: typer.Typer) -> None:
    app.command()(project)


def project(model: str, images: list[Path], as_json: bool = False, **values: Any) -> None:
    """Find the latent (and class) whose sample is closest to each image; writes z.npy (and labels.npy) for
    'gantool sample --latents', and pairs.png of image | reconstruction. Needs the training extra."""
    from gantool.evaluation.projector import project as run

    result = run(model, list(images), **values)
    for row in result.rows():
        label = f"  class {row['label']}" if "label" in row else ""
        err.print(escape(f"{row['image']}: pixel MSE {row['mse']:.4f}{label}"), highlight=False, soft_wrap=True)
    err.print(escape(result.summary()), highlight=False, soft_wrap=True)
    if as_json:
        print(json.dumps({"model": result.source, "out": str(result.out), "images": result.rows()}, indent=2))


_P = inspect.Parameter
project.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        _P(
            "model",
            _P.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[
                str,
                typer.Argument(
                    metavar="RUN_OR_MODEL", help="A run folder, an exported .onnx, or an installed model's name (gantool models)."
                ),
            ],
        ),
        _P(
            "images",
            _P.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[
                list[Path], typer.Argument(metavar="IMAGE...", help="PNG or JPEG images, or folders of them (in sorted name order).")
            ],
        ),
        _P(
            "as_json",
            _P.KEYWORD_ONLY,
            default=False,
            annotation=Annotated[bool, typer.Option("--json", help="Also print the errors as JSON.")],
        ),
        *flag_parameters(ProjectOptions),
    ]
)
