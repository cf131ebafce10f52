"""Training settings: each declared once here, with its default, its help and its check.

``gantool train``'s flags are made from these declarations (gantool.cli.train), TOML files
are checked against them, and ``validate`` runs every check, so a new setting is one
``option(...)`` line here (gantool.core.options) plus its use in the loop. Precedence: defaults, then a resumed
run's config, then a TOML file, then flags typed on the command line.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gantool.core import checks
from gantool.core.devices import DEVICE_HELP
from gantool.core.errors import GantoolError
from gantool.core.latents import PRIORS
from gantool.core.options import Scalar, option, validate
from gantool.store.layout import CONFIG, EMA_WEIGHTS, METRICS, TENSORBOARD
from gantool.store.runs import recorded_recipe
from gantool.store.toml import read_toml as read_toml_file

OPTION_TABLES = ("gen_opt", "disc_opt", "loss_opt", "data_opt")

# `gantool train` with no options: recognisable digits in a few minutes on 2 CPU cores (see README).
DEFAULT_STEPS = 10_000
# torch seeds are unsigned 64-bit; the loop seeds its generators at seed + a small offset (training.ranks.SeedOffset).
MAX_SEED = 2**63 - 1


@dataclass
class TrainConfig:
    gen: str = option("mlp", "Generator name (see 'gantool plugins').", checks.name)
    disc: str | None = option(None, "Discriminator name (default: the one named like --gen).", checks.name)
    loss: str = option("nonsat", "Loss name.", checks.name)
    data: str = option("digits", "Dataset name.", checks.name)
    gen_opt: dict[str, Scalar] = option({}, "Generator option (repeatable).", checks.options, metavar="KEY=VALUE")
    disc_opt: dict[str, Scalar] = option({}, "Discriminator option (repeatable).", checks.options, metavar="KEY=VALUE")
    loss_opt: dict[str, Scalar] = option({}, "Loss option (repeatable).", checks.options, metavar="KEY=VALUE")
    data_opt: dict[str, Scalar] = option({}, "Dataset option (repeatable).", checks.options, metavar="KEY=VALUE")
    data_limit: int | None = option(
        None, "Train on a fixed subset of this many items (class-balanced when the data has labels); evaluation keeps all.", checks.positive
    )
    data_seed: int = option(0, "Seed that draws the --data-limit subset.", checks.whole_number(0, MAX_SEED))
    augment: str | None = option(
        None,
        "Augment every batch D sees, real and fake, in both steps: augmentations separated by commas, applied in order"
        " (DiffAugment's policy: color,translation,cutout; see 'gantool plugins'); \"\" for none.",
        checks.policy,
        metavar="NAMES",
    )
    augment_p: float | str = option(
        1.0,
        "Probability of applying each augmentation to each sample, in [0, 1]; auto: ADA's, adjusted from 0 so that"
        " D(real) > 0 on 60% of the reals.",
        checks.probability_or_auto,
        metavar="P",
    )
    conditional: bool = option(
        False, "Train a class-conditional GAN on the dataset's labels: G(z, y) and D(x, y) (see --disc-opt cond=...).", checks.boolean
    )
    latent: str = option("normal", f"Latent prior: {' or '.join(PRIORS)}.", checks.choice(*PRIORS))
    latent_dim: int = option(64, "Latent dimension.", checks.positive)
    steps: int | None = option(None, f"Training steps, each k D updates and one G update (default: {DEFAULT_STEPS}).", checks.positive)
    epochs: float | None = option(None, "Train for this many passes over the data instead of --steps.", checks.positive_number)
    batch_size: int = option(64, "Images per batch, per process when there are several.", checks.positive)
    # the seeds use 2e-4; 5e-4 reaches clean digits in half the steps with beta1 0.5
    lr: float = option(5e-4, "Adam learning rate for G and D.", checks.positive_number)
    lr_decay: float = option(
        0.0, "Let the learning rate fall linearly to 0 over this last fraction of the run (e.g. 0.5).", checks.lr_decay
    )
    beta1: float = option(0.5, "Adam beta1.", checks.beta)
    beta2: float = option(0.999, "Adam beta2.", checks.beta)
    d_steps: int = option(1, "D updates per G update (k in Algorithm 1).", checks.positive)
    reuse_fakes: bool = option(
        False,
        "G's step reuses the fakes of D's last update instead of drawing new ones (as PyTorch's DCGAN example does):"
        " one pass of G less a step, but it trained worse where measured (README, Speed).",
        checks.boolean,
    )
    seed: int = option(0, "Random seed.", checks.whole_number(0, MAX_SEED))
    device: str = option("auto", f"{DEVICE_HELP}.", checks.device)
    log_every: int = option(100, "Steps between progress updates.", checks.positive)
    sample_every: int | None = option(None, "Steps between sample grids (default: a tenth of the run).", checks.positive)
    ckpt_every: int = option(1000, "Steps between checkpoints.", checks.positive)
    ema: float = option(
        0.999, f"Average G's weights with this decay into {EMA_WEIGHTS}, which export, sample and eval then use (0: off).", checks.ema
    )
    eval_every: int | None = option(None, f"Steps between evaluations ('gantool eval' figures) in {METRICS}.", checks.positive)
    eval_n: int | None = option(
        None, "Samples per evaluation (default: 10,000 images, 26,000 stacked digits, 2,500 points).", checks.positive
    )
    eval_metrics: list[str] | None = option(
        None, "Metric to log with --eval-every (repeatable; default: all that apply).", checks.names_list
    )
    tensorboard: bool = option(False, f"Also log to RUN/{TENSORBOARD} (needs tensorboard).", checks.boolean)
    amp: str = option("none", "Mixed precision: none or bf16 (autocast to bfloat16).", checks.choice("none", "bf16"))
    compile: bool = option(False, "torch.compile G and D (CUDA graphs on CUDA).", checks.boolean)
    channels_last: bool = option(
        False,
        "Hold G's and D's convolution weights, and so their feature maps, channels-last (NHWC), the layout the CPU's"
        " and GPU's convolution kernels run fastest (README, Speed); no effect on networks without convolutions.",
        checks.boolean,
    )
    sync_bn: bool = option(False, "With several GPUs: BatchNorm statistics over the whole global batch (SyncBatchNorm).", checks.boolean)

    def __post_init__(self) -> None:
        # Not a setting (so no field, no flag, not in to_dict): the recipe the settings came from, the --config file's
        # name ("ring" for recipes/ring.toml); config.toml records it on a comment line for 'gantool export'.
        self.recipe: str | None = None
        if isinstance(self.augment_p, str) and self.augment_p != "auto":  # "0.5" from the command line
            with contextlib.suppress(ValueError):  # else left for the check to refuse
                self.augment_p = float(self.augment_p)
        if type(self.augment_p) is int and self.augment_p in (0, 1):  # 'augment_p = 1' in a TOML file, recorded as 1.0
            self.augment_p = float(self.augment_p)
        if type(self.ema) is int and self.ema == 0:  # 'ema = 0' in a TOML file: config.toml records 0.0 like --ema 0
            self.ema = 0.0

    @property
    def disc_name(self) -> str:
        return self.disc or self.gen

    @property
    def augmentations(self) -> list[str]:
        """The names --augment lists, in order (none without it)."""
        return [name.strip() for name in self.augment.split(",")] if self.augment else []

    def components(self) -> list[tuple[str, str, dict[str, Scalar]]]:
        """(kind, name, options) of every component the run builds."""
        return [
            ("generator", self.gen, self.gen_opt),
            ("discriminator", self.disc_name, self.disc_opt),
            ("loss", self.loss, self.loss_opt),
            ("dataset", self.data, self.data_opt),
            *(("augmentation", name, {}) for name in self.augmentations),
        ]

    def validate(self) -> None:
        """Run every setting's check (a TOML file can hold anything): a one-line error that says what would work."""
        validate(self)
        if self.steps is not None and self.epochs is not None:
            raise GantoolError("give --steps or --epochs, not both")
        if self.augment_p != 1.0 and self.augment is None:
            raise GantoolError("--augment-p sets how often the --augment policy applies: add --augment NAMES, or leave out --augment-p")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read and check a config file; keys may use dashes as on the command line."""
    path = Path(path)
    values = {key.replace("-", "_"): value for key, value in read_toml_file(path).items()}
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
    """Defaults < the resumed run's config < the TOML file < explicit command-line values. The recipe is the one
    a resumed run recorded, else the TOML file's name."""
    layers: list[dict[str, Any]] = []
    if resume is not None:
        # A config.toml without ema comes from a run trained before the average was on by default, without one:
        # it goes on without one unless a TOML file or --ema says otherwise.
        layers.append({"ema": 0.0} | read_toml(Path(resume) / CONFIG))
    if config_file is not None:
        layers.append(read_toml(config_file))
    layers.append(cli or {})
    cfg = build_config(*layers)
    recorded = recorded_recipe(Path(resume)) if resume is not None else None
    cfg.recipe = recorded or (Path(config_file).stem if config_file is not None else None)
    return cfg


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
