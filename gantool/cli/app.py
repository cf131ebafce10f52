"""The ``gantool`` command: a thin layer over functions you can call from Python.

Nothing here imports torch at module level: ``--help``, ``plugins`` and ONNX
sampling must start fast and work without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from gantool.core.version import __version__
from gantool.training.config import DEFAULT_STEPS, TrainConfig
from gantool.core.errors import GantoolError, RankFailedError
from gantool.inference.export import DEFAULT_OPSET
from gantool.inference.sampling import DEFAULT_BATCH, DEFAULT_COUNT

app = typer.Typer(
    help="Train GANs, export them to ONNX, sample them anywhere. Components come from plugins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
plugins_app = typer.Typer(help="List installed plugins and the components they add, or start a new one.", invoke_without_command=True)
app.add_typer(plugins_app, name="plugins")

err = Console(stderr=True)
out = Console()

D = TrainConfig()  # the command line shows the same defaults the Python API uses
TRAIN_EXTRA = 'training needs torch: pip install "gantool[train]"'


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


def need_torch() -> None:
    """A one-line answer instead of an ImportError when the training extra is missing."""
    import importlib.util

    for module in ("torch", "safetensors"):
        if importlib.util.find_spec(module) is None:
            raise GantoolError(f"{module} is not installed; {TRAIN_EXTRA}")


def explicit(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """Only the values typed on the command line, so they override the config file and nothing else does."""
    return {k: v for k, v in values.items() if (src := ctx.get_parameter_source(k)) is not None and src.name == "COMMANDLINE"}


@app.command()
def train(
    ctx: typer.Context,
    gen: Annotated[str, typer.Option(help="Generator name (see 'gantool plugins').")] = D.gen,
    disc: Annotated[str | None, typer.Option(help="Discriminator name (default: the one named like --gen).")] = None,
    loss: Annotated[str, typer.Option(help="Loss name.")] = D.loss,
    data: Annotated[str, typer.Option(help="Dataset name.")] = D.data,
    gen_opt: Annotated[list[str] | None, typer.Option("--gen-opt", metavar="KEY=VALUE", help="Generator option (repeatable).")] = None,
    disc_opt: Annotated[
        list[str] | None, typer.Option("--disc-opt", metavar="KEY=VALUE", help="Discriminator option (repeatable).")
    ] = None,
    loss_opt: Annotated[list[str] | None, typer.Option("--loss-opt", metavar="KEY=VALUE", help="Loss option (repeatable).")] = None,
    data_opt: Annotated[list[str] | None, typer.Option("--data-opt", metavar="KEY=VALUE", help="Dataset option (repeatable).")] = None,
    latent: Annotated[str, typer.Option(help="Latent prior: normal or uniform.")] = D.latent,
    latent_dim: Annotated[int, typer.Option(help="Latent dimension.")] = D.latent_dim,
    steps: Annotated[
        int | None, typer.Option(help=f"Training steps, each k D updates and one G update (default: {DEFAULT_STEPS}).")
    ] = None,
    epochs: Annotated[float | None, typer.Option(help="Train for this many passes over the data instead of --steps.")] = None,
    batch_size: Annotated[int, typer.Option(help="Images per batch, per process when there are several.")] = D.batch_size,
    lr: Annotated[float, typer.Option(help="Adam learning rate for G and D.")] = D.lr,
    lr_decay: Annotated[
        float, typer.Option(help="Let the learning rate fall linearly to 0 over this last fraction of the run (e.g. 0.5).")
    ] = D.lr_decay,
    beta1: Annotated[float, typer.Option(help="Adam beta1.")] = D.beta1,
    beta2: Annotated[float, typer.Option(help="Adam beta2.")] = D.beta2,
    d_steps: Annotated[int, typer.Option(help="D updates per G update (k in Algorithm 1).")] = D.d_steps,
    seed: Annotated[int, typer.Option(help="Random seed.")] = D.seed,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = D.device,
    log_every: Annotated[int, typer.Option(help="Steps between progress updates.")] = D.log_every,
    sample_every: Annotated[int | None, typer.Option(help="Steps between sample grids (default: a tenth of the run).")] = None,
    ckpt_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = D.ckpt_every,
    ema: Annotated[float | None, typer.Option(help="Average G's weights with this decay (e.g. 0.999) into G_ema.safetensors.")] = None,
    eval_every: Annotated[int | None, typer.Option(help="Steps between evaluations ('gantool eval' figures) in metrics.jsonl.")] = None,
    eval_n: Annotated[int | None, typer.Option(help="Samples per evaluation (default: 10,000 images, 2,500 points).")] = None,
    eval_metrics: Annotated[
        list[str] | None, typer.Option("--eval-metrics", help="Metric to log with --eval-every (repeatable; default: all that apply).")
    ] = None,
    tensorboard: Annotated[bool, typer.Option("--tensorboard", help="Also log to RUN/tensorboard (needs tensorboard).")] = False,
    amp: Annotated[str, typer.Option(help="Mixed precision: none or bf16 (autocast to bfloat16).")] = D.amp,
    compile: Annotated[bool, typer.Option("--compile/--no-compile", help="torch.compile G and D (CUDA graphs on CUDA).")] = D.compile,
    run_dir: Annotated[Path | None, typer.Option(help="Run folder (default: a new folder under runs/).")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML file of settings; flags on the command line override it.")] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue this run folder from its last checkpoint.")] = None,
    nproc: Annotated[
        int,
        typer.Option(min=1, help="Train in N processes on this machine (one per GPU), as torchrun does; --batch-size is per process."),
    ] = 1,
    sync_bn: Annotated[
        bool, typer.Option("--sync-bn", help="With several GPUs: BatchNorm statistics over the whole global batch (SyncBatchNorm).")
    ] = False,
) -> None:
    """Train a GAN; the run folder keeps config, weights, optimizer state, metrics and sample grids."""
    from gantool.core.options import parse_options

    need_torch()
    values = dict(ctx.params)
    for key in ("run_dir", "config", "resume", "nproc"):
        values.pop(key)
    for key in ("gen_opt", "disc_opt", "loss_opt", "data_opt"):
        values[key] = parse_options(values[key] or [], "--" + key.replace("_", "-"))
    if values["eval_metrics"] is not None:
        values["eval_metrics"] = [m.strip() for item in values["eval_metrics"] for m in item.split(",") if m.strip()]
    cli = explicit(ctx, values)
    if resume is not None and run_dir is not None:
        raise GantoolError("--resume continues a run in its own folder: leave out --run-dir")

    from gantool.training.config import resolve_config
    from gantool.plugins.registry import get_registry
    from gantool.store.runs import check_resumable, claim_run, resolve_run

    # Everything that can be checked without torch is, so a mistake is answered in a blink.
    resume_dir = resolve_run(resume) if resume is not None else None
    if resume_dir is not None:
        check_resumable(resume_dir)
    cfg = resolve_config(cli, config, resume_dir)
    for kind, name, options in cfg.components():
        get_registry().check(kind, name, options)
    target = resume_dir or run_dir
    if target is not None and target.exists():  # a file, a folder another run is writing, a finished run
        claim_run(target, resuming=resume_dir is not None).release()

    from gantool.training.loop import train as run_training

    if nproc > 1:  # the same run in nproc processes: every one of them runs this command without --nproc
        from gantool.training.launch import launch

        launch(nproc, ctx.obj["argv"] if isinstance(ctx.obj, dict) else sys.argv[1:])
        return
    run_training(cfg, run_dir=run_dir, resume=resume_dir, console=err)


@app.command()
def export(
    run: Annotated[Path | None, typer.Argument(help="Run folder (default: runs/latest).", show_default=False)] = None,
    onnx: Annotated[
        Path | None, typer.Option("--onnx", help="Where to write the model (default: RUN/G.onnx, or RUN/G_ema.onnx with --ema).")
    ] = None,
    ema: Annotated[bool, typer.Option("--ema", help="Export the averaged weights (RUN/G_ema.safetensors).")] = False,
    opset: Annotated[int, typer.Option(help="ONNX opset to target.")] = DEFAULT_OPSET,
) -> None:
    """Export a run's generator to ONNX, with what a sampler needs as metadata; checked against PyTorch before it is kept."""
    from gantool.inference.export import export_onnx

    report = export_onnx(run, onnx, ema=ema, opset=opset)
    err.print(escape(report.summary()), highlight=False, soft_wrap=True)


@app.command()
def sample(
    n: Annotated[int, typer.Option("-n", "--count", help="How many samples (--interpolate rounds up to whole walks).")] = DEFAULT_COUNT,
    runtime: Annotated[str, typer.Option(help="onnx (needs only onnxruntime) or torch (needs the training extra).")] = "onnx",
    model: Annotated[
        Path | None, typer.Option(help="An .onnx file for onnx, a run folder for torch (default: runs/latest's).", show_default=False)
    ] = None,
    out: Annotated[Path, typer.Option(help="Output: .png for a picture, .npy for the raw (N, *data_shape) float32 array.")] = Path(
        "samples.png"
    ),
    seed: Annotated[int | None, typer.Option(help="Seed for the latents; the same seed gives the same samples in both runtimes.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Latents per forward pass.")] = DEFAULT_BATCH,
    interpolate: Annotated[
        int | None, typer.Option(help="Walk between random latents in K steps: one walk per row.", metavar="K", show_default=False)
    ] = None,
    ema: Annotated[bool, typer.Option("--ema", help="With --runtime torch: use the run's averaged weights.")] = False,
) -> None:
    """Draw samples from a generator: an ONNX export (no torch needed) or a run's weights in PyTorch."""
    from gantool.inference.sampling import sample as draw_samples

    result = draw_samples(
        n, runtime=runtime, model=model, out=out, seed=seed, device=device, batch_size=batch_size, interpolate=interpolate, ema=ema
    )
    err.print(escape(result.summary()), highlight=False, soft_wrap=True)


@app.command()
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


@app.command("eval")
def eval_command(
    run: Annotated[Path | None, typer.Argument(help="Run folder, G*.safetensors or G.onnx (default: runs/latest).")] = None,
    metrics: Annotated[
        list[str] | None, typer.Option("--metrics", "-m", help="Metric to compute (repeatable; default: every one that applies).")
    ] = None,
    n: Annotated[int | None, typer.Option("-n", min=10, help="Samples to draw (default: 10,000 images, 2,500 points).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the latents drawn.")] = 0,
    ema: Annotated[bool, typer.Option(help="Use G_ema.safetensors when the run has one.")] = True,
    mnist_root: Annotated[
        Path | None, typer.Option(help="Folder with MNIST/raw: train the metrics' classifier on MNIST's 60,000 (default for MNIST runs).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Where to write the figures (default: RUN/eval.json).")] = None,
) -> None:
    """Score a generator: Fréchet distance, Inception-style score, precision/recall, digit shares, D's accuracy, modes of 2-D sets."""
    need_torch()
    from gantool.evaluation.runner import evaluate_path, table, write_report

    names = [m for item in metrics or [] for m in item.split(",") if m.strip()] or None
    target = run if run is not None else Path("runs/latest")
    report, default_out = evaluate_path(
        target, names, n=n, seed=seed, ema=ema, mnist_root=str(mnist_root) if mnist_root else None, console=err
    )
    path = write_report(report, output or default_out)
    out.print(table(report))
    err.print(f"figures written to {path}")


@app.command()
def plot(
    run: Annotated[Path | None, typer.Argument(help="Run folder (default: runs/latest).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the PNG files (default: RUN/plots).")] = None,
) -> None:
    """Draw a run's loss curves (smoothed as seed 000 does) and its samples over training as PNG files."""
    from gantool.evaluation.plots import plot_run
    from gantool.store.runs import resolve_run

    for path in plot_run(resolve_run(run), out_dir):
        err.print(f"wrote {path}")


@plugins_app.callback()
def plugins(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show every plugin (built-in and installed), its components and any error it raised."""
    if ctx.invoked_subcommand is not None:
        return
    from gantool.plugins.registry import get_registry

    registry = get_registry()
    if as_json:
        rows = [
            {"name": p.name, "version": p.version, "source": p.source, "components": [list(c) for c in p.components], "errors": p.errors}
            for p in registry.plugins.values()
        ]
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title="gantool plugins")
    for column in ("plugin", "version", "from", "components", "errors"):
        table.add_column(column, overflow="fold")
    for plugin in registry.plugins.values():
        by_kind: dict[str, list[str]] = {}
        for kind, name in plugin.components:
            by_kind.setdefault(kind, []).append(name)
        components = "\n".join(f"{kind}: {', '.join(names)}" for kind, names in by_kind.items()) or "-"
        errors = "\n".join(plugin.errors)
        table.add_row(plugin.name, plugin.version, plugin.source, components, f"[red]{escape(errors)}[/]" if errors else "")
    out.print(table)


@plugins_app.command("new")
def plugins_new(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", help="Plugin name, also its generator's and discriminator's name: lowercase letters, digits, dashes."
        ),
    ],
    directory: Annotated[Path, typer.Option("--dir", help="Folder to create the package gantool-NAME in.")] = Path("."),
) -> None:
    """Write a plugin package (pyproject with the entry point, a module with hooks, a test) that pip installs as it is."""
    from gantool.plugins.registry import get_registry
    from gantool.plugins.scaffold import new_plugin

    target = new_plugin(name, directory, registry=get_registry())
    print(f"created {target}: a generator and a discriminator named {name}")
    print(f"next: pip install -e {target} && pytest {target} && gantool train --gen {name}")


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
