"""A run folder's layout: the name of every file and folder gantool keeps in one, decided here and nowhere else.

::

    RUN/config.toml                 every setting, under the recipe's line (store.runs)
    RUN/checkpoint.safetensors      everything a resume needs (store.checkpoint)
    RUN/G.safetensors, D.safetensors, G_ema.safetensors   each network alone, for sampling, export and eval
    RUN/metrics.jsonl               one row of figures per step
    RUN/data_subset.json            --data-limit's subset: the items trained on, and how many of each class
    RUN/samples.png                 the newest grid of samples; RUN/samples/step_NNNNNNN.png: every grid
    RUN/tensorboard/                --tensorboard's logs
    RUN/eval.json                   'gantool eval'
    RUN/G.onnx                      'gantool export'
    RUN/plots/                      'gantool plot': losses.png, samples_over_training.png
    RUN/.gantool.store.lock         held by the one process writing the run (store.lock)

Code joins these names to a run folder (``run_dir / CONFIG``); the grids of samples/ are named by ``sample_grid``.
"""

from __future__ import annotations

import re
from pathlib import Path

CONFIG = "config.toml"
CHECKPOINT = "checkpoint.safetensors"
METRICS = "metrics.jsonl"
EVAL = "eval.json"
DATA_SUBSET = "data_subset.json"
ONNX = "G.onnx"
SAMPLES = "samples"  # the folder of every grid
LATEST_GRID = "samples.png"
TENSORBOARD = "tensorboard"
PLOTS = "plots"
LOSSES_PLOT = "losses.png"
SAMPLES_PLOT = "samples_over_training.png"
LOCK = ".gantool.store.lock"
GRID = re.compile(r"step_(\d+)\.png")  # a grid's name in samples/, its step in the group


def network_file(name: str) -> str:
    """The file of one network the checkpoint holds (``G``, ``D``, ``G_ema``), saved alone."""
    return f"{name}.safetensors"


WEIGHTS = network_file("G")
EMA_WEIGHTS = network_file("G_ema")  # averaged weights, same metadata as G.safetensors (written by train unless --ema 0)
DISCRIMINATOR = network_file("D")


def sample_grid(run_dir: Path, step: int) -> Path:
    """The grid of samples saved at ``step``."""
    return run_dir / SAMPLES / f"step_{step:07d}.png"


def sample_grids(run_dir: Path) -> list[tuple[int, Path]]:
    """Every grid in samples/ with its step, in step order."""
    found = [(int(m.group(1)), path) for path in (run_dir / SAMPLES).glob("step_*.png") if (m := GRID.fullmatch(path.name))]
    return sorted(found)
