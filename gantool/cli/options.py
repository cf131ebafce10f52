"""Command-line flags made from settings declared with ``option(...)`` (gantool.core.options): same names, defaults,
help and metavars, so ``gantool train`` and ``gantool sample`` take what their Python APIs take."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Annotated, Any

import typer

from gantool.core.options import flags_of, keywords


def flag_parameter(setting: dataclasses.Field[Any], parameter: inspect.Parameter) -> inspect.Parameter:
    """The flag of one setting: ``--name`` (or its declared flags), ``--name/--no-name`` for a yes/no, repeatable
    for a table of options or a list (parsed by the command)."""
    hint = parameter.annotation
    flags = flags_of(setting)
    meta = setting.metadata
    option = {"help": meta["help"], "metavar": meta.get("metavar"), "show_default": meta.get("show_default", True)}
    if typing.get_origin(hint) is dict or hint == (list[str] | None):  # repeatable: KEY=VALUE options, metric names
        return parameter.replace(default=None, annotation=Annotated[list[str] | None, typer.Option(*flags, **option)])
    if hint == (float | str):  # a number or a word (--augment-p 0.5, auto): read as text, turned into the number by the settings
        hint = str
    if hint in (bool, bool | None):
        flags = (f"{flags[0]}/--no-{flags[0][2:]}",)
    return parameter.replace(annotation=Annotated[hint, typer.Option(*flags, **option)])


def flag_parameters(settings: type) -> list[inspect.Parameter]:
    """The flags of every setting of a dataclass of declared settings, in declaration order."""
    return [flag_parameter(f, p) for f, p in zip(dataclasses.fields(settings), keywords(settings), strict=True)]
