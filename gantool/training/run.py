"""``train``: the function behind ``gantool train``, ``gantool.train`` and every process of a distributed run.

Setup, then fit: pre-flight checks (before torch is imported), the process group, everything
the loop needs, then the loop. Under torchrun (or ``gantool train --nproc``) every process
calls this: see gantool.training.distributed.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from gantool.core.errors import GantoolError
from gantool.training.config import TrainConfig, resolve_config
from gantool.training.preflight import preflight


def train(
    cfg: TrainConfig | None = None,
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
    console: Any = None,
    *,
    config: str | Path | None = None,
    **settings: Any,
) -> Path:
    """Train G and D; returns the run folder. ``resume`` continues a run in place from its checkpoint.

    Either a ready ``TrainConfig`` or the settings ``gantool train`` takes, by their names
    (``gantool.train(data="ring", steps=2000, ema=0.999)``), over an optional ``config`` TOML file:
    they resolve and are checked exactly as the command line's are.
    """
    if cfg is None:
        from gantool.training.preflight import resume_folder

        resume = resume_folder(resume)
        cfg = resolve_config(settings, config, resume)
    elif settings or config is not None:
        raise GantoolError("gantool.train takes a TrainConfig or settings by name, not both: pass one of them")
    run_dir, resumed = preflight(cfg, run_dir, resume)
    from rich.console import Console

    from gantool.core.devices import torch_device
    from gantool.training import checkpointing, distributed
    from gantool.training.loop import fit
    from gantool.training.setup import setup

    with (
        distributed.process_group(cfg.device, torch_device) as (ranks, device),
        ExitStack() as held,  # the run folder's lock, released however the run ends
    ):
        console = (console or Console(stderr=True)) if ranks.main else Console(quiet=True)  # rank 0 alone talks
        run = setup(cfg, resumed or run_dir, resumed is not None, console, ranks, device, held)
        if resumed is not None:
            run.start = checkpointing.restore(run)
            if run.start >= run.steps:
                raise GantoolError(f"run {run.run_dir} is already at step {run.start}: pass --steps larger than {run.start} to go on")
        checkpointing.open_run_folder(run)
        fit(run)
        return run.run_dir
