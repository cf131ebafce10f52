"""TOML files: read with one-line errors, written flat with option tables (what ``config.toml`` holds)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from gantool.core.errors import GantoolError


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing, unreadable or malformed file is a one-line error."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GantoolError(f"config file {path} does not exist: check the path") from None
    except IsADirectoryError:
        raise GantoolError(f"config file {path} is a folder: name a TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GantoolError(f"cannot read config file {path} ({exc}): name a UTF-8 TOML file") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # RecursionError: absurdly nested arrays
        raise GantoolError(f"{path} is not valid TOML ({exc}): fix the file") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def dump_toml(values: dict[str, Any]) -> str:
    """Write a flat config with option tables as TOML (None values are left out)."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in values.items() if value is not None and not isinstance(value, dict)]
    for key, value in values.items():
        if isinstance(value, dict) and value:
            lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"
