"""Training configuration: defaults, then a TOML file, then command-line flags."""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gantool.core.errors import GantoolError
from gantool.core.options import Scalar

OPTION_TABLES = ("gen_opt", "disc_opt", "loss_opt", "data_opt")

# `gantool train` with no options: recognisable digits in about 75 s on 2 CPU cores (see README).
DEFAULT_STEPS = 10_000

# torch seeds are unsigned 64-bit and the loop seeds three generators from seed + 1 .. seed + 3.
MAX_SEED = 2**63 - 1
DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


@dataclass
class TrainConfig:
    gen: str = "mlp"
    disc: str | None = None  # None: the discriminator registered under the generator's name
    loss: str = "nonsat"
    data: str = "digits"
    gen_opt: dict[str, Scalar] = field(default_factory=dict)
    disc_opt: dict[str, Scalar] = field(default_factory=dict)
    loss_opt: dict[str, Scalar] = field(default_factory=dict)
    data_opt: dict[str, Scalar] = field(default_factory=dict)
    latent: str = "normal"
    latent_dim: int = 64
    steps: int | None = None  # None with epochs None: DEFAULT_STEPS
    epochs: float | None = None
    batch_size: int = 64
    lr: float = 5e-4  # the seeds use 2e-4; 5e-4 reaches clean digits in half the steps with beta1 0.5
    lr_decay: float = 0.0  # the last fraction of the run over which the learning rate falls linearly to 0
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1
    seed: int = 0
    device: str = "auto"
    log_every: int = 100
    sample_every: int | None = None  # None: ten grids over the run
    ckpt_every: int = 1000
    ema: float | None = None  # decay of an average of G's weights, saved as G_ema.safetensors (e.g. 0.999)
    eval_every: int | None = None  # steps between evaluations logged into metrics.jsonl
    eval_n: int | None = None  # samples per evaluation (default: 10,000 images, 2,500 points)
    eval_metrics: list[str] | None = None  # metrics to log (default: every one that applies)
    tensorboard: bool = False  # also log to RUN/tensorboard
    amp: str = "none"  # "bf16": autocast matmuls to bfloat16 (see README's performance section for when it helps)
    compile: bool = False  # torch.compile G and D (CUDA graphs on CUDA)
    sync_bn: bool = False  # distributed runs on GPUs: BatchNorm statistics over the global batch

    @property
    def disc_name(self) -> str:
        return self.disc or self.gen

    def components(self) -> list[tuple[str, str, dict[str, Scalar]]]:
        """(kind, name, options) of every component the run builds."""
        return [
            ("generator", self.gen, self.gen_opt),
            ("discriminator", self.disc_name, self.disc_opt),
            ("loss", self.loss, self.loss_opt),
            ("dataset", self.data, self.data_opt),
        ]

    def validate(self) -> None:
        """Reject wrong types and nonsense numbers (a TOML file can hold anything) with a message that says what would work."""

        def positive(name: str, value: float | None, kind: type = int) -> None:
            if value is None:
                return
            flag = "--" + name.replace("_", "-")
            allowed = (int,) if kind is int else (int, float)
            if isinstance(value, bool) or not isinstance(value, allowed):
                raise GantoolError(f"{flag} must be a {'whole ' if kind is int else ''}number, got {value!r}")
            try:  # an int too large for a float (a TOML file can hold one) is no sensible size either
                finite = math.isfinite(value)
            except OverflowError:
                finite = False
            if not (value > 0 and finite):
                raise GantoolError(f"{flag} must be greater than 0{'' if finite else ' and finite'}, got {value}")

        for name in ("gen", "loss", "data", "latent", "device"):
            if not isinstance(getattr(self, name), str):
                raise GantoolError(f"--{name} must be a name (text), got {getattr(self, name)!r}")
        if self.disc is not None and not isinstance(self.disc, str):
            raise GantoolError(f"--disc must be a name (text), got {self.disc!r}")
        for table in OPTION_TABLES:
            options = getattr(self, table)
            flag = "--" + table.replace("_", "-")
            if not isinstance(options, dict):
                raise GantoolError(f"{flag} must be KEY=VALUE pairs, got {options!r}")
            for key, value in options.items():
                if not isinstance(value, int | float | str):  # bool is an int
                    raise GantoolError(f"{flag} {key} must be a number, true/false or text, got {value!r}")

        for name in ("latent_dim", "steps", "batch_size", "d_steps", "log_every", "sample_every", "ckpt_every", "eval_every", "eval_n"):
            positive(name, getattr(self, name))
        for name in ("epochs", "lr"):
            positive(name, getattr(self, name), float)
        if isinstance(self.lr_decay, bool) or not isinstance(self.lr_decay, int | float) or not 0 <= self.lr_decay <= 1:
            raise GantoolError(f"--lr-decay must be a fraction of the run in [0, 1] such as 0.5, got {self.lr_decay!r}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
                raise GantoolError(f"--{name} must be in [0, 1), got {value!r}")
        if self.ema is not None and (isinstance(self.ema, bool) or not isinstance(self.ema, int | float) or not 0 < self.ema < 1):
            raise GantoolError(f"--ema must be a decay in (0, 1) such as 0.999, got {self.ema!r}")
        if self.eval_metrics is not None and (
            not isinstance(self.eval_metrics, list) or not all(isinstance(m, str) for m in self.eval_metrics)
        ):
            raise GantoolError(f"eval_metrics must be a list of metric names, got {self.eval_metrics!r}")
        if not isinstance(self.tensorboard, bool):
            raise GantoolError(f"tensorboard must be true or false, got {self.tensorboard!r}")
        if self.amp not in ("none", "bf16"):
            raise GantoolError(f"--amp must be none or bf16, got {self.amp!r}")
        if not isinstance(self.compile, bool):
            raise GantoolError(f"compile must be true or false, got {self.compile!r}")
        if self.latent not in ("normal", "uniform"):
            raise GantoolError(f"--latent must be normal or uniform, got {self.latent!r}")
        if not DEVICE.fullmatch(self.device):
            raise GantoolError(f"--device must be auto, cpu or cuda (cuda:N for one GPU of several), got {self.device!r}")
        if self.steps is not None and self.epochs is not None:
            raise GantoolError("give --steps or --epochs, not both")
        if not isinstance(self.sync_bn, bool):
            raise GantoolError(f"sync_bn must be true or false, got {self.sync_bn!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed <= MAX_SEED:
            raise GantoolError(f"--seed must be a whole number from 0 to {MAX_SEED}, got {self.seed!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a config file; keys may use dashes as on the command line."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GantoolError(f"config file {path} does not exist: check the path") from None
    except IsADirectoryError:
        raise GantoolError(f"config file {path} is a folder: name a TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GantoolError(f"cannot read config file {path} ({exc}): name a UTF-8 TOML file") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # RecursionError: absurdly nested arrays
        raise GantoolError(f"{path} is not valid TOML ({exc}): fix the file") from None
    values = {key.replace("-", "_"): value for key, value in raw.items()}
    unknown = sorted(set(values) - FIELDS)
    if unknown:
        raise GantoolError(f"{path}: unknown setting {', '.join(unknown)}; known settings: {', '.join(sorted(FIELDS))}")
    for table in OPTION_TABLES:
        if table in values:
            if not isinstance(values[table], dict):
                raise GantoolError(f"{path}: {table} must be a table like [{table}] with KEY = VALUE lines")
            values[table] = {k.replace("-", "_"): v for k, v in values[table].items()}
    try:  # a wrong value is reported against the file that holds it
        build_config(values)
    except GantoolError as exc:
        raise GantoolError(f"{path}: {exc}") from None
    return values


def resolve_config(
    cli: dict[str, Any] | None = None, config_file: str | Path | None = None, resume: str | Path | None = None
) -> TrainConfig:
    """Defaults < the resumed run's config < the TOML file < explicit command-line values."""
    layers: list[dict[str, Any]] = []
    if resume is not None:
        layers.append(read_toml(Path(resume) / "config.toml"))
    if config_file is not None:
        layers.append(read_toml(config_file))
    layers.append(cli or {})
    return build_config(*layers)


def build_config(*layers: dict[str, Any]) -> TrainConfig:
    """Apply layers of settings over the defaults, later layers winning; option tables merge key by key."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key in OPTION_TABLES and isinstance(value, dict):
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
    try:
        cfg = TrainConfig(**merged)
    except TypeError as exc:
        raise GantoolError(f"bad configuration: {exc}") from None
    cfg.validate()
    return cfg


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
