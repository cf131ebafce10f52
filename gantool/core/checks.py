"""The checks a setting can declare (``option(..., check)``, gantool.core.options): each takes the setting's flag and
value and raises a one-line error."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gantool.core.devices import check_device
from gantool.core.errors import GantoolError

Check = Callable[[str, Any], None]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _positive(flag: str, value: Any, whole: bool) -> None:
    allowed = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise GantoolError(f"{flag} must be a {'whole ' if whole else ''}number, got {value!r}")
    try:  # an int too large for a float (a TOML file can hold one) is no sensible size either
        finite = math.isfinite(value)
    except OverflowError:
        finite = False
    if not (value > 0 and finite):
        raise GantoolError(f"{flag} must be greater than 0{'' if finite else ' and finite'}, got {value}")


def positive(flag: str, value: Any) -> None:
    _positive(flag, value, whole=True)


def positive_number(flag: str, value: Any) -> None:
    _positive(flag, value, whole=False)


def whole_number(low: int, high: int) -> Check:
    def check(flag: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise GantoolError(f"{flag} must be a whole number from {low} to {high}, got {value!r}")

    return check


def at_least(least: int) -> Check:
    """A whole number of at least ``least``: a count, a batch size, a seed."""

    def check(flag: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise GantoolError(f"{flag} must be a whole number of at least {least}, got {value!r}")

    return check


def name(flag: str, value: Any) -> None:
    if not isinstance(value, str):
        raise GantoolError(f"{flag} must be a name (text), got {value!r}")


def choice(*allowed: str) -> Check:
    def check(flag: str, value: Any) -> None:
        if value not in allowed:
            raise GantoolError(f"{flag} must be {', '.join(allowed[:-1])} or {allowed[-1]}, got {value!r}")

    return check


def boolean(flag: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise GantoolError(f"{flag.removeprefix('--').replace('-', '_')} must be true or false, got {value!r}")


def device(flag: str, value: Any) -> None:
    check_device(value, flag)


def options(flag: str, value: Any) -> None:
    """KEY=VALUE options of a component: numbers, true/false or text."""
    if not isinstance(value, dict):
        raise GantoolError(f"{flag} must be KEY=VALUE pairs, got {value!r}")
    for key, item in value.items():
        if not isinstance(item, int | float | str):  # bool is an int
            raise GantoolError(f"{flag} {key} must be a number, true/false or text, got {item!r}")


def names_list(flag: str, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise GantoolError(f"{flag.removeprefix('--').replace('-', '_')} must be a list of metric names, got {value!r}")


def lr_decay(flag: str, value: Any) -> None:
    if not _number(value) or not 0 <= value <= 1:
        raise GantoolError(f"{flag} must be a fraction of the run in [0, 1] such as 0.5, got {value!r}")


def beta(flag: str, value: Any) -> None:
    if not _number(value) or not 0 <= value < 1:
        raise GantoolError(f"{flag} must be in [0, 1), got {value!r}")


def ema(flag: str, value: Any) -> None:
    if not _number(value) or not 0 <= value < 1:
        raise GantoolError(f"{flag} must be a decay in [0, 1) such as 0.999, or 0 for none, got {value!r}")


def policy(flag: str, value: Any) -> None:
    """Component names separated by commas, none of them empty (``color,translation,cutout``); "" for none."""
    if not isinstance(value, str) or (value and not all(n.strip() for n in value.split(","))):
        raise GantoolError(f"{flag} must be names separated by commas such as color,translation,cutout, got {value!r}")


def probability_or_auto(flag: str, value: Any) -> None:
    if value != "auto" and not (_number(value) and 0 <= value <= 1):
        raise GantoolError(f"{flag} must be a probability in [0, 1] such as 0.5, or auto, got {value!r}")
