"""The ``gantool`` app: its command groups, and the one place where errors become exit codes.

Every user mistake (a GantoolError) becomes one line on stderr and exit code 2; a failed rank of a
distributed run, one line and exit code 1; Ctrl-C, exit code 130.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from gantool.cli import evaluation, inference, projection
from gantool.cli import train as train_command
from gantool.cli.console import err
from gantool.cli.plugins import plugins_app
from gantool.core.errors import GantoolError, RankFailedError
from gantool.core.version import __version__

app = typer.Typer(
    help="Train GANs, export them to ONNX, sample them anywhere. Components come from plugins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
train_command.register(app)
inference.register(app)
evaluation.register(app)
projection.register(app)
app.add_typer(plugins_app, name="plugins")


def _version(value: bool) -> None:
    if value:
        print(f"gantool {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks instead of one-line errors.")] = False,
) -> None:
    """gantool: plugin-based GAN training."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user mistake becomes one line on stderr and exit code 2."""
    from gantool.training.launch import note_failure, quiet_worker

    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    group = typer.main.get_command(app)
    try:
        code = group.main(argv, prog_name="gantool", standalone_mode=False, obj={"argv": argv})
    except GantoolError as exc:
        note_failure(exc)  # for the launcher, when this is one process of a distributed run
        if debug:
            raise
        if not quiet_worker():  # --nproc prints it once for all its processes
            err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except RankFailedError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: unknown flag, bad value, missing argument
        if debug:
            raise
        message = exc.format_message()
        if not message:  # bare `gantool`: the help text was the answer
            sys.exit(2)
        command = next((a for a in argv if not a.startswith("-")), None)
        hint = f"gantool {command} --help" if command in getattr(group, "commands", {}) else "gantool --help"
        err.print(f"[bold red]error[/]: {escape(message)} (see '{hint}')", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        note_failure(exc)
        raise
    sys.exit(code if isinstance(code, int) else 0)
