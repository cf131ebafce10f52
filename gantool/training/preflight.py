"""Everything about a training run that can be checked before torch is imported: mistakes answered in a blink.

The CLI and the Python ``train()`` both call ``preflight``, so a plugin author's script gets the
same one-line answers as the command line.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gantool.core.errors import GantoolError
from gantool.core.options import accepts
from gantool.plugins.registry import get_registry
from gantool.store.layout import EMA_WEIGHTS
from gantool.store.runs import check_resumable, claim_run, resolve_run
from gantool.training.config import TrainConfig
from gantool.training.ranks import env_ranks

TRAIN_EXTRA = 'training needs torch: pip install "gantool[train]"'


def need_torch() -> None:
    """A one-line answer instead of an ImportError when the training extra is missing."""
    for module in ("torch", "safetensors"):
        if importlib.util.find_spec(module) is None:
            raise GantoolError(f"{module} is not installed; {TRAIN_EXTRA}")


def resume_folder(resume: str | Path | None) -> Path | None:
    """The run folder ``--resume`` names, once it is known to hold a checkpoint."""
    if resume is None:
        return None
    folder = resolve_run(resume)
    check_resumable(folder)
    return folder


NETWORK_FLAGS = {"generator": "--gen-opt", "discriminator": "--disc-opt"}


def preflight(cfg: TrainConfig, run_dir: str | Path | None = None, resume: str | Path | None = None) -> tuple[Path | None, Path | None]:
    """Check settings, components, the folders and optional packages; returns (run folder, resumed folder)."""
    need_torch()
    cfg.validate()
    if resume is not None and run_dir is not None:
        raise GantoolError("--resume continues a run in its own folder: leave out --run-dir")
    resumed = resume_folder(resume)
    if resumed is not None and not cfg.ema and (resumed / EMA_WEIGHTS).is_file():
        # going on without the average would leave G_ema (which export and sample prefer) behind G; never delete it
        raise GantoolError(
            f"{resumed} keeps a weight average ({EMA_WEIGHTS}) that --ema 0 would leave stale: "
            f"resume with an --ema decay, or move {EMA_WEIGHTS} out of the run first"
        )
    for kind, name, options in cfg.components():
        if kind in NETWORK_FLAGS and "num_classes" in options:  # else a TypeError: the factory would get it twice
            raise GantoolError(
                f"num_classes is not an option of {NETWORK_FLAGS[kind]}: --conditional sets it from the dataset's classes; leave it out"
            )
        component = get_registry().check(kind, name, options)
        if cfg.conditional and kind in NETWORK_FLAGS and not accepts(component.factory, "num_classes"):
            raise GantoolError(
                f"{kind} {name!r} (from {component.plugin}) cannot condition on labels: its factory takes no num_classes; "
                "pick one that does, or leave out --conditional"
            )
    if cfg.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise GantoolError("--tensorboard needs the tensorboard package: pip install tensorboard (or leave out --tensorboard)")
    target = resumed or (Path(run_dir) if run_dir is not None else None)
    # a file, a folder another run is writing, a finished run; rank 0 alone, the writer (the others would see its lock)
    if target is not None and target.exists() and env_ranks().main:
        claim_run(target, resuming=resumed is not None).release()
    return (Path(run_dir) if run_dir is not None else None), resumed
