"""Component options: ``KEY=VALUE`` strings from the command line, checked against a factory's signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from gantool.core.errors import GantoolError, shown

Scalar = int | float | bool | str


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
