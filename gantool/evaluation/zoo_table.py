"""``gantool models``' table: the installed pretrained generators, where each came from and its eval figures, laid out
to fit the terminal with every phrase whole where the width allows ("recipe ring, 20,000 steps", "high quality 98.2%").

Rich sizes columns from what their cells measure but narrows the widest without regard to a cell's minimum, which
splits phrases at 80 columns; so ``_table`` chooses the widths, and ``Phrases`` cells wrap between phrases. Here
rather than in the CLI because it formats eval figures (``compact``) and a row is ``gantool.inference.zoo.describe``'s.
"""

from __future__ import annotations

from typing import Any


def models_table(rows: list[dict], width: int) -> Any:
    """``gantool models`` as a table that fits ``width`` columns: cells wrap between phrases ("recipe ring, 20,000
    steps"), not inside them; a conditional model's classes under its data; an error column only when some model is
    broken, and its errors as lines under the table instead when the column would not fit beside the others."""
    from rich.console import Group
    from rich.text import Text

    from gantool.evaluation.report import compact
    from gantool.inference.zoo import plugin_label

    cells = [
        {
            "model": [[row["name"]]],
            "plugin": [[plugin_label(row["plugin"])]],
            "data": [[f"{row['data']} ", f"({row['component']})"], *classes(row)] if row["data"] else [["-"]],
            "trained": trained(row),
            "eval": [phrases(compact((row["eval"] or {}).get("figures") or {}), ", ") or ["-"]],
            "error": [phrases(row["error"].split(" "), " ")] if row["error"] else [],
        }
        for row in rows
    ]
    table = _table(cells, width, errors_below=False)
    if table is not None:
        return table
    for cell, row in zip(cells, rows, strict=True):
        cell["error"], cell["eval"] = [], cell["eval"] if not row["error"] else [["error: see below"]]
    notes = [Text(f"{row['name']}: {row['error']}", style="red") for row in rows if row["error"]]
    return Group(_table(cells, width, errors_below=True), *notes)


def _table(cells: list[dict], width: int, *, errors_below: bool) -> Any:
    """The table of these cells with each column at least as wide as its longest phrase where ``width`` allows (the
    widest narrowed first); None when an error column would leave no such room, unless ``errors_below``."""
    from rich.table import Table

    columns = [c for c in ("model", "plugin", "data", "trained", "eval", "error") if c != "error" or any(cell[c] for cell in cells)]
    grid = [[Phrases(cell[c]) for c in columns] for cell in cells]
    room = width - 3 * len(columns) - 1  # the borders and a space either side of each cell
    lows, words = ([max([len(c), *(row[i].low(w) for row in grid)]) for i, c in enumerate(columns)] for w in (False, True))
    if sum(lows) > room and "error" in columns and not errors_below:
        return None
    floor = lows  # break phrases at spaces only where whole ones cannot fit, and a name or the recipe last of all
    if sum(floor) > room:
        floor = [low if c in ("model", "plugin", "trained") else word for c, low, word in zip(columns, lows, words, strict=True)]
    floor = floor if sum(floor) <= room else words
    widths = [max([len(c), *(row[i].high() for row in grid)]) for i, c in enumerate(columns)]
    while sum(widths) > room and sum(floor) <= room:  # the widest first, down to its longest phrase, then below
        widest = max(range(len(columns)), key=lambda i: (widths[i] > floor[i], widths[i] > lows[i], widths[i]))
        widths[widest] -= 1
    fits = sum(floor) <= room  # otherwise rich narrows the columns as it sees fit
    caption = None if cells else "none installed: a plugin adds them with the register_models hook (docs/plugins.md)"
    table = Table(title="gantool models", caption=caption)
    for column, w in zip(columns, widths, strict=True):
        table.add_column(column, width=w if fits else None, no_wrap=column == "model", style="red" if column == "error" else None)
    for row in grid:
        table.add_row(*row)
    return table


def classes(row: dict) -> list[list[str]]:
    """A conditional model's classes, a line to wrap between them: "classes 0, 1, 2, ..."."""
    return [["classes ", *phrases(row["classes"], ", ")]] if row["classes"] else []


def trained(row: dict) -> list[list[str]]:
    """Where a model came from: "recipe ring, 20,000 steps", then the export date on a line of its own."""
    made = [f"recipe {row['recipe']}" if row["recipe"] else "", f"{row['step']:,} steps" if row["step"] is not None else ""]
    lines = [phrases([p for p in made if p], ", "), [f"exported {row['exported'][:10]}"] if row["exported"] else []]
    return [line for line in lines if line] or [["-"]]


def phrases(parts: list[str], sep: str) -> list[str]:
    """Parts of a line, each but the last followed by ``sep``: the pieces a ``Phrases`` cell wraps between."""
    return [f"{p}{sep}" for p in parts[:-1]] + parts[-1:]


class Phrases:
    """A table cell of lines of phrases that wraps between phrases, and inside one only when the column is narrower
    than the phrase: the column measures its minimum as its longest phrase. A phrase carries its separator."""

    def __init__(self, lines: list[list[str]]) -> None:
        self.lines = lines

    def low(self, words: bool = False) -> int:
        """The longest phrase, or with ``words`` the longest word."""
        parts = (w if words else p for line in self.lines for p in line for w in p.split())
        return max((len(p.rstrip()) for p in parts), default=0)

    def high(self) -> int:
        return max((len("".join(line).rstrip()) for line in self.lines), default=0)

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        return Measurement(self.low(), self.high()).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.text import Text

        rows: list[str] = []
        for line in self.lines:
            row = ""
            for phrase in line:
                if row and len(row + phrase.rstrip()) > options.max_width:
                    rows.append(row.rstrip())
                    row = ""
                row += phrase
            rows.append(row.rstrip())
        yield Text("\n".join(rows))
