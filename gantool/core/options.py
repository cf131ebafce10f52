"""Settings declared once, and component options.

``option(...)`` declares a setting of a dataclass (``TrainConfig``, ``SampleOptions``) with its default, help and
check: the command's flags are made from it (gantool.cli.options) and ``validate`` runs the checks, so the
command line and the Python API take and refuse the same values. Component options are ``KEY=VALUE``
strings from the command line, checked against a factory's signature.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError, shown

if TYPE_CHECKING:
    from gantool.core.checks import Check

Scalar = int | float | bool | str


def option(
    default: Any,
    help: str,
    check: Check | None = None,
    *,
    metavar: str | None = None,
    flags: tuple[str, ...] | None = None,
    show_default: bool = True,
) -> Any:
    """A setting: its default, the help its flag shows, the check ``validate`` runs, and how the flag reads
    (``flags``: default ``--name-with-dashes``; the first names the setting in errors)."""
    meta = {"help": help, "check": check, "metavar": metavar, "flags": flags, "show_default": show_default}
    if isinstance(default, dict | list):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def flag(name: str) -> str:
    """The command-line flag of a setting."""
    return "--" + name.replace("_", "-")


def flags_of(setting: dataclasses.Field[Any]) -> tuple[str, ...]:
    """A declared setting's flags, the one that names it in errors first."""
    return setting.metadata.get("flags") or (flag(setting.name),)


def keywords(settings: type) -> list[inspect.Parameter]:
    """The declared settings as keyword parameters, with their types and defaults: the signature of a function that
    takes them as ``**options``, for help() and editors, and what the command's flags are made from."""
    hints = typing.get_type_hints(settings)
    return [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=f.default_factory() if callable(f.default_factory) else f.default,
            annotation=hints[f.name],
        )
        for f in dataclasses.fields(settings)
    ]


def check_values(settings: type, values: dict[str, Any], *, by_name: bool = False) -> None:
    """Run the declared check of each of ``values`` (setting name -> value), in their order: a one-line error that
    names the setting by its flag, or by its Python name with ``by_name``. None is not checked where it is the default."""
    fields = {f.name: f for f in dataclasses.fields(settings)}
    for name, value in values.items():
        setting = fields[name]
        check = setting.metadata.get("check")
        if check is not None and not (value is None and setting.default is None):
            check(name if by_name else flags_of(setting)[0], value)


def validate(settings: Any, first: Iterable[str] = ()) -> None:
    """Run every check of a dataclass of declared settings, those named in ``first`` first, then in declaration order."""
    first = tuple(first)
    names = [*first, *(f.name for f in dataclasses.fields(settings) if f.name not in first)]
    check_values(type(settings), {name: getattr(settings, name) for name in names})


def parse_value(text: str) -> Scalar:
    """Read a value as int, float, bool or string, in that order."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_options(pairs: Iterable[str], flag: str) -> dict[str, Scalar]:
    """Turn repeated ``KEY=VALUE`` arguments of ``flag`` into a dict."""
    options: dict[str, Scalar] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise GantoolError(f"{flag} expects KEY=VALUE, got {pair!r}: write it like {flag} hidden=256")
        options[key.replace("-", "_")] = parse_value(value)
    return options


def check_options(factory: Callable[..., Any], options: dict[str, Any], what: str, skip: int = 0) -> None:
    """Refuse options the factory does not take, naming those it does.

    ``skip`` is the number of leading positional parameters gantool itself
    passes (latent_dim, data_shape), which are not user options.
    """
    try:
        params = list(inspect.signature(factory).parameters.values())[skip:]
    except (TypeError, ValueError):  # builtins or C callables: nothing to check against
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    accepted = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "no options"
        raise GantoolError(f"{what} does not accept option {', '.join(map(shown, unknown))}; it takes: {takes}")


def accepts(factory: Callable[..., Any], name: str) -> bool:
    """Whether ``factory`` takes a keyword ``name`` (or any keyword): how gantool asks a plugin whether it can condition."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD or (p.name == name and p.kind is not inspect.Parameter.POSITIONAL_ONLY) for p in params
    )
