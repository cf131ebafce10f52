"""``gantool project``'s options, each declared once with its default, help and check: the command's flags
(gantool.cli.projection) and the keywords of ``gantool.project`` (gantool.evaluation.projector) are made from them.
Neither torch nor numpy: the CLI imports this module for its flags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gantool.core import checks
from gantool.core.devices import DEVICE_HELP
from gantool.core.errors import GantoolError
from gantool.core.options import option, validate
from gantool.inference.loading import EMA_HELP

DEFAULT_STEPS = 200
DEFAULT_RESTARTS = 2


def output_folder(flag: str, value: Any) -> None:
    """A folder to write into (made when missing), refused before any work when it is a file."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise GantoolError(f"{flag} {path} is a file: name a folder (it is created when missing)")


@dataclass
class ProjectOptions:
    out: Path = option(
        Path("projection"), "Folder for z.npy, labels.npy (conditional models) and pairs.png (image | reconstruction).", output_folder
    )
    label: str | None = option(
        None,
        "A conditional model's class for every image: a number or name (default: every class is tried, the best kept).",
        show_default=False,
    )
    steps: int = option(DEFAULT_STEPS, "Adam steps per image (more: closer, slower).", checks.at_least(1))
    restarts: int = option(
        DEFAULT_RESTARTS, "Starting latents per image and class (the prior's mean, then draws); the best is kept.", checks.at_least(1)
    )
    seed: int = option(0, "Seed of the starting latents and the latent noise: the same seed, the same latents.", checks.at_least(0))
    device: str = option("auto", f"{DEVICE_HELP}.", checks.device)
    ema: bool | None = option(None, f"For a run folder: {EMA_HELP}", show_default=False)

    def validate(self) -> None:
        """Every option's check, before a model is opened: a one-line error naming the flag."""
        validate(self, first=("steps", "restarts", "seed"))
