"""``gantool sample``: latents from numpy, a generator run by onnxruntime or PyTorch, a picture or an array on disk.

The ONNX path imports onnxruntime, numpy and Pillow, never torch or onnx:
``pip install gantool`` alone is a working sampler. Even numpy waits inside the
functions. The options are declared in gantool.inference.sample_options.
"""

from __future__ import annotations

import inspect
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError
from gantool.core.options import keywords
from gantool.core.runmeta import ModelInfo
from gantool.inference import zoo
from gantool.inference.sample_options import ANIMATIONS, DEFAULT_BATCH, DEFAULT_COUNT, DEFAULT_FPS, RUNTIMES, SampleOptions

if TYPE_CHECKING:
    import numpy as np

    from gantool.inference.labels import LabelChoice


@dataclass
class SampleResult:
    path: Path
    samples: np.ndarray  # (n, *data_shape), or (walks, steps, *data_shape) for --interpolate
    seed: int
    where: str  # runtime and device that ran the generator
    info: ModelInfo
    labels: np.ndarray | None = None  # a conditional generator's: one per sample, or per walk
    labels_path: Path | None = None
    what: str = ""  # an animation's own description (gantool.inference.walks.Walk.describe)
    given: str | None = None  # where the latents came from when they were given, not drawn from ``seed``

    def summary(self) -> str:
        shape = list(self.info.data_shape)
        if self.what:
            what = self.what
        elif self.samples.ndim == len(shape) + 2:
            what = f"{self.samples.shape[0]} latent walks of {self.samples.shape[1]} steps"
        else:
            what = f"{len(self.samples)} samples"
        labelled = f", their labels to {self.labels_path}" if self.labels_path is not None else ""
        source = self.given or f"seed {self.seed}"
        return f"wrote {what} of shape {shape} to {self.path}{labelled} ({self.where}; {source})"


def open_generator(runtime: str, model: str | Path | None, device: str = "auto", ema: bool | None = None) -> Any:
    """An ONNX file (default: runs/latest/G.onnx) or an installed model's name for onnx, or a run folder for torch
    (default: runs/latest), callable on numpy latents.

    ``ema`` chooses a run's weights for torch (None: the run's weight average when it has one, see
    ``generator_file``); an ONNX file holds the weights it was exported with, so it takes no ``ema``.
    """
    if runtime == "onnx":
        if ema is not None:
            raise GantoolError(
                "--ema/--no-ema choose a run's weights for --runtime torch; an ONNX file holds the weights it was exported with "
                "(gantool export --no-ema exports the raw G)"
            )
        from gantool.inference.onnx_runtime import OnnxGenerator
        from gantool.store.layout import ONNX
        from gantool.store.runs import resolve_run

        if model is not None and zoo.looks_like_name(model):
            return zoo.open_model(zoo.resolve(str(model)), device)
        return OnnxGenerator(Path(model) if model is not None else resolve_run(None) / ONNX, device)
    if runtime == "torch":
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            raise GantoolError('--runtime torch needs torch: pip install "gantool[train]", or sample an export with --runtime onnx')
        if model is not None and Path(model).is_file():
            raise GantoolError(f"--runtime torch samples a run folder, not the file {model}: pass --model RUN, or use --runtime onnx")
        if model is not None and zoo.looks_like_name(model) and str(model) in zoo.registered_names():
            raise GantoolError(f"model {model} is an ONNX file from the model zoo: sample it with --runtime onnx")
        from gantool.inference.loading import TorchGenerator

        return TorchGenerator(model, device, ema)
    raise GantoolError(f"--runtime must be {' or '.join(RUNTIMES)}, got {runtime!r}")


def sample(n: int = DEFAULT_COUNT, **options: Any) -> SampleResult:
    """Draw ``n`` samples (or walks of ``interpolate`` steps covering at least ``n``) and write them to ``out``.

    ``options`` are ``gantool sample``'s, by name (``runtime``, ``model``, ``out``, ``seed``, ``device``, ...; see
    ``SampleOptions``), checked as the command line's are. A conditional generator samples the classes ``label``
    names (see gantool.inference.labels), or uniformly drawn ones; its labels are written beside ``out``.
    ``truncation`` (psi in (0, 1], normal prior): latent entries beyond psi standard deviations are drawn again
    (see gantool.core.latents.draw).
    """
    from gantool.inference.labels import write_labels

    opts = SampleOptions(n, **options)
    opts.validate()
    out = Path(opts.out)
    generator = open_generator(opts.runtime, opts.model, opts.device, opts.ema)
    info: ModelInfo = generator.info
    if opts.latents is not None:
        return sample_given(generator, opts)
    if opts.labels is not None:
        raise GantoolError("--labels goes with --latents (one label per given latent); choose classes to draw with --label")
    seed = secrets.randbelow(2**32) if opts.seed is None else opts.seed
    if out.suffix.lower() in ANIMATIONS:
        return animation(generator, n, seed, opts)
    samples, choice, columns = generate(
        generator, n, seed, label=opts.label, truncation=opts.truncation, batch_size=opts.batch_size, interpolate=opts.interpolate
    )
    write(samples, out, info, columns=columns)
    if choice is None or info.classes is None:
        return SampleResult(out, samples, seed, generator.where, info)
    labels_path = write_labels(choice.labels, out, info.classes)
    return SampleResult(out, samples, seed, generator.where, info, choice.labels, labels_path)


def animation(generator: Any, n: int, seed: int, opts: SampleOptions) -> SampleResult:
    """``n`` looping latent walks played side by side (gantool.inference.walks), written to ``opts.out``."""
    from gantool.core.images import save_animation
    from gantool.inference.labels import write_labels
    from gantool.inference.walks import animate

    info: ModelInfo = generator.info
    assert opts.interpolate is not None  # SampleOptions.validate asks for it
    walk = animate(
        generator,
        n,
        seed,
        steps=opts.interpolate,
        frames=opts.frames,
        label=opts.label,
        truncation=opts.truncation,
        batch_size=opts.batch_size,
    )
    fps = DEFAULT_FPS if opts.fps is None else float(opts.fps)
    out = Path(opts.out)
    frames = [render(walk.samples[:, f], info, walk.columns) for f in range(walk.samples.shape[1])]
    try:
        save_animation(frames, out, fps)
    except OSError as exc:
        raise GantoolError(f"cannot write {out} ({exc.strerror or exc}): choose another --out") from None
    result = SampleResult(out, walk.samples, seed, generator.where, info, what=walk.describe(info, fps))
    if walk.choice is not None and info.classes is not None:
        result.labels = walk.choice.labels
        result.labels_path = write_labels(walk.choice.labels, out, info.classes)
    return result


def sample_given(generator: Any, opts: SampleOptions) -> SampleResult:
    """``--latents`` (and ``--labels``): the given latents through the generator, in their order, in either runtime."""
    from gantool.inference.given_latents import read_labels, read_latents
    from gantool.inference.labels import write_labels

    drawn = {"--seed": opts.seed, "--truncation": opts.truncation, "--interpolate": opts.interpolate, "--label": opts.label}
    clash = [flag for flag, value in drawn.items() if value is not None]
    if clash:
        raise GantoolError(f"--latents gives the latents, so {clash[0]} does not apply: leave it out (classes come from --labels)")
    info: ModelInfo = generator.info
    z = read_latents(Path(opts.latents), info)  # type: ignore[arg-type]
    labels = read_labels(opts.labels, len(z), info)
    samples = generator(z, opts.batch_size, labels=labels)
    out = Path(opts.out)
    write(samples, out, info)
    given = f"given latents {opts.latents}"
    if labels is None or info.classes is None:
        return SampleResult(out, samples, 0, generator.where, info, given=given)
    return SampleResult(out, samples, 0, generator.where, info, labels, write_labels(labels, out, info.classes), given=given)


# help() and editors show every option by name, with its type and default, as if spelled out above.
_n, *_options = keywords(SampleOptions)
sample.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [_n.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD), *_options], return_annotation=SampleResult
)


def generate(
    generator: Any,
    n: int,
    seed: int,
    *,
    label: str | None = None,
    truncation: float | None = None,
    batch_size: int = DEFAULT_BATCH,
    interpolate: int | None = None,
) -> tuple[np.ndarray, LabelChoice | None, int | None]:
    """Samples of an open generator for ``seed``: (samples, the labels chosen or None, a grid's row length or None).

    The one recipe of ``gantool sample`` and ``gantool.load``: latents and labels drawn by numpy, so one seed
    gives the same samples through onnxruntime and torch.
    """
    from gantool.core import latents
    from gantool.inference.labels import choose

    info: ModelInfo = generator.info
    latents.check_truncation(truncation, info.latent)
    if interpolate:
        choice = choose(label, math.ceil(n / interpolate), info.classes, seed)  # one label per walk
        count = math.ceil(n / interpolate) if choice is None else len(choice.labels)
        z = latents.walks(count, interpolate, info.latent_dim, info.latent, seed, truncation).reshape(-1, info.latent_dim)
        per_sample = None if choice is None else choice.labels.repeat(interpolate)
        samples = generator(z, batch_size, labels=per_sample).reshape(count, interpolate, *info.data_shape)
        return samples, choice, interpolate
    choice = choose(label, n, info.classes, seed)
    count = n if choice is None else len(choice.labels)
    z = latents.draw(count, info.latent_dim, info.latent, seed, truncation)
    samples = generator(z, batch_size, labels=None if choice is None else choice.labels)
    return samples, choice, None if choice is None else choice.per_class


def write(samples: np.ndarray, out: Path, info: ModelInfo, columns: int | None = None) -> None:
    """``.npy``: the array as it is (no pickle); ``.png``: a grid of images, or a scatter over the real data for 2-D points."""
    import numpy as np

    from gantool.inference.given_latents import write_array

    if out.suffix.lower() == ".npy":
        write_array(samples.astype(np.float32, copy=False), out)
        return
    try:
        from gantool.core.images import save_png

        save_png(render(samples, info, columns), out)
    except OSError as exc:
        raise GantoolError(f"cannot write {out} ({exc.strerror or exc}): choose another --out") from None


def render(samples: np.ndarray, info: ModelInfo, columns: int | None = None) -> np.ndarray:
    """The picture of a batch: samples scaled from the model's output range to [-1, 1], then gridded or scattered."""
    import numpy as np

    from gantool.core.images import picture, scatter

    low, high = info.output_range
    flat = samples.reshape(-1, *info.data_shape)
    unit = (flat - low) / (high - low) * 2 - 1 if (low, high) != (-1.0, 1.0) else flat
    if info.data_shape == (2,):
        reference = None
        if info.reference is not None:
            reference = (np.asarray(info.reference) - low) / (high - low) * 2 - 1
        return scatter(unit, reference)
    try:
        return picture(unit, ncol=columns)
    except ValueError:
        raise GantoolError(f"data of shape {list(info.data_shape)} has no picture: write --out FILE.npy instead") from None
