"""``gantool train``: its flags are made from the settings declared in gantool.training.config.

Each setting becomes a flag with the same name, default and help; the flags typed on the
command line override a ``--config`` file, which overrides a resumed run's own config.
The command itself is a thin layer over gantool.training: pre-flight checks, then ``train``.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gantool.cli.console import err
from gantool.cli.options import flag_parameters
from gantool.core.errors import GantoolError
from gantool.core.options import flag, parse_options
from gantool.training.config import OPTION_TABLES, TrainConfig, resolve_config
from gantool.training.preflight import preflight, resume_folder

# Flags of the command that are not settings: where the run goes, and how it is started.
RUN_FLAGS: dict[str, tuple[Any, Any]] = {
    "run_dir": (Path | None, typer.Option(help="Run folder (default: a new folder under runs/).")),
    "config": (Path | None, typer.Option(help="TOML file of settings; flags on the command line override it.")),
    "resume": (Path | None, typer.Option(help="Continue this run folder from its last checkpoint.")),
    "nproc": (
        int,
        typer.Option(min=1, help="Train in N processes on this machine (one per GPU), as torchrun does; --batch-size is per process."),
    ),
}
RUN_DEFAULTS = {"run_dir": None, "config": None, "resume": None, "nproc": 1}


def parameters() -> list[inspect.Parameter]:
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    params += flag_parameters(TrainConfig)
    for name, (hint, option) in RUN_FLAGS.items():
        params.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=RUN_DEFAULTS[name], annotation=Annotated[hint, option])
        )
    return params


def explicit(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """Only the values typed on the command line, so they override the config file and nothing else does."""
    return {k: v for k, v in values.items() if (src := ctx.get_parameter_source(k)) is not None and src.name == "COMMANDLINE"}


def settings_from_flags(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """The settings typed on the command line, parsed: KEY=VALUE options into dicts, metric names split at commas."""
    values = {k: v for k, v in values.items() if k not in RUN_FLAGS}
    for key in OPTION_TABLES:
        values[key] = parse_options(values[key] or [], flag(key))
    if values["eval_metrics"] is not None:
        values["eval_metrics"] = [m.strip() for item in values["eval_metrics"] for m in item.split(",") if m.strip()]
    return explicit(ctx, values)


def train(ctx: typer.Context, **values: Any) -> None:
    """Train a GAN; the run folder keeps config, weights, optimizer state, metrics and sample grids."""
    run_dir, config, resume, nproc = (values[k] for k in RUN_FLAGS)
    if resume is not None and run_dir is not None:
        raise GantoolError("--resume continues a run in its own folder: leave out --run-dir")
    resumed = resume_folder(resume)
    cfg = resolve_config(settings_from_flags(ctx, values), config, resumed)
    if nproc > 1:  # the same run in nproc processes: every one of them runs this command without --nproc
        from gantool.training.launch import launch

        preflight(cfg, run_dir, resumed)
        launch(nproc, ctx.obj["argv"] if isinstance(ctx.obj, dict) else sys.argv[1:])
        return
    from gantool.training.run import train as run_training

    run_training(cfg, run_dir=run_dir, resume=resumed, console=err)


train.__signature__ = inspect.Signature(parameters())  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    app.command()(train)
