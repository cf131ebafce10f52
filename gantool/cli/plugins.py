"""``gantool plugins`` and ``gantool plugins new``: what is installed, and a new plugin package to start from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from gantool.cli.console import out
from gantool.store.layout import ONNX

plugins_app = typer.Typer(help="List installed plugins and the components they add, or start a new one.", invoke_without_command=True)


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
            metavar="NAME",
            help="Plugin name, also its generator's and discriminator's name (or its model's, with --models): "
            "lowercase letters, digits, dashes.",
        ),
    ],
    directory: Annotated[Path, typer.Option("--dir", help="Folder to create the package gantool-NAME in.")] = Path("."),
    models: Annotated[
        bool, typer.Option("--models", help="A model zoo instead: ships a pretrained generator (an exported .onnx) named NAME.")
    ] = False,
) -> None:
    """Write a plugin package (pyproject with the entry point, a module with hooks, a test) that pip installs as it is."""
    from gantool.plugins.registry import get_registry
    from gantool.plugins.scaffold import new_plugin, plugin_names

    target = new_plugin(name, directory, registry=get_registry(), models=models)
    if models:
        file = target / plugin_names(name).module / f"{name}.onnx"
        print(f"created {target}: a model zoo registering the model {name} from {file}")
        print(f"next: cp RUN/{ONNX} {file} && pip install {target} && gantool models && gantool sample --model {name}")
        return
    print(f"created {target}: a generator and a discriminator named {name}")
    print(f"next: pip install -e {target} && pytest {target} && gantool train --gen {name}")
