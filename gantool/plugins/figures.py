"""What the figures a metric returns mean, declared beside the metric's code.

A metric class may carry ``figures``, a ``Figure`` per figure it returns: what it means (the eval
table's last column), which way is better, and how many significant digits it deserves (the
table, the training log and an exported model's eval headline round it so). A figure no metric
declares falls back to ``Figure(name)``: no meaning, no direction, 4 significant digits, which is
how every figure was shown before metrics declared any. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gantool.plugins.registry import Registry

BETTER = ("higher", "lower", "none")
DIGITS = 4  # significant digits of a figure that declares none


@dataclass(frozen=True)
class Figure:
    """One figure a metric returns: its name, what it means, which way is better, its significant digits."""

    name: str
    meaning: str = ""
    better: Literal["higher", "lower", "none"] = "none"
    digits: int = DIGITS

    def __post_init__(self) -> None:
        if self.better not in BETTER:
            raise ValueError(f"figure {self.name!r}: better must be one of {', '.join(BETTER)}, got {self.better!r}")
        if not isinstance(self.digits, int) or isinstance(self.digits, bool) or self.digits < 1:
            raise ValueError(f"figure {self.name!r}: digits must be a positive integer, got {self.digits!r}")


def declared(registry: Registry | None = None) -> dict[str, Figure]:
    """Every figure the registered metrics declare, by name. A metric without ``figures`` declares none; the
    first declaration of a name wins (built-ins register first), and anything but a ``Figure`` is passed over."""
    from gantool.plugins.registry import get_registry

    found: dict[str, Figure] = {}
    for component in (registry or get_registry()).components["metric"].values():
        figures = getattr(component.factory, "figures", None)
        for figure in figures if isinstance(figures, list | tuple) else ():
            if isinstance(figure, Figure):
                found.setdefault(figure.name, figure)
    return found


def lookup(name: str, known: Mapping[str, Figure]) -> Figure:
    """A figure as declared in ``known``, or a bare ``Figure(name)`` for one nothing declares."""
    return known.get(name) or Figure(name)


def significant_digits(registry: Registry | None = None) -> Callable[[str], int]:
    """Each figure's significant digits as the registered metrics declare them (``DIGITS`` for one they do not)."""
    known = declared(registry)
    return lambda name: lookup(name, known).digits
