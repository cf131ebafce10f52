"""``gantool project`` and ``gantool.project``: images in, their latents (and classes), reconstructions and errors out.

The checks of the command line and of the Python function are the same ones, here, in this order: the options,
the training extra, the images (every one readable, before the model loads), the model, then the class.
"""

from __future__ import annotations

import importlib.util
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError
from gantool.core.images import IMAGE_SUFFIXES
from gantool.core.options import keywords
from gantool.evaluation.project_options import ProjectOptions

if TYPE_CHECKING:
    import numpy as np

    from gantool.core.runmeta import ModelInfo
    from gantool.evaluation.projection import Projection

TRAIN_EXTRA = 'projection needs the training extra (torch gradients): pip install "gantool[train]"'
LATENTS, LABELS, PAIRS = "z.npy", "labels.npy", "pairs.png"


@dataclass
class ProjectResult:
    images: list[Path]
    projection: Projection
    out: Path
    source: str  # the model projected through
    info: ModelInfo

    def rows(self) -> list[dict[str, Any]]:
        """One per image, in input order: the file, its pixel MSE (on the [-1, 1] scale) and class."""
        classes = self.info.classes
        labels = self.projection.labels
        return [
            {
                "image": str(path),
                "mse": round(float(self.projection.mse[i]), 6),
                **({"label": classes[int(labels[i])]} if classes is not None and labels is not None else {}),
            }
            for i, path in enumerate(self.images)
        ]

    def summary(self) -> str:
        written = ", ".join(str(self.out / name) for name in self.written())
        mean = float(self.projection.mse.mean())
        return f"projected {len(self.images)} images through {self.source}: mean pixel MSE {mean:.4f}; wrote {written}"

    def written(self) -> list[str]:
        return [LATENTS, *([LABELS] if self.projection.labels is not None else []), PAIRS]


def image_files(inputs: list[str | Path]) -> list[Path]:
    """The images named, a folder's (PNG and JPEG) in sorted name order, each refused in one line when absent."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not inside:
                raise GantoolError(f"{path} holds no PNG or JPEG images: name image files or a folder of them")
            files += inside
        elif path.is_file():
            files.append(path)
        else:
            raise GantoolError(f"{path} does not exist: name PNG or JPEG images, or a folder of them")
    if not files:
        raise GantoolError("no images given: name PNG or JPEG images, or a folder of them")
    return files


def project(model: str | Path, images: list[str | Path], **options: Any) -> ProjectResult:
    """Project ``images`` (PNG/JPEG files or folders of them) into the latent space of ``model`` (a run folder, an
    exported .onnx, or an installed model's name) and write z.npy, labels.npy and pairs.png into ``out``.

    ``options`` are ``gantool project``'s (``out``, ``label``, ``steps``, ``restarts``, ``seed``, ``device``, ``ema``),
    checked as the command line's are. The loss adds the digit classifier's features for digit-shaped images.
    """
    from gantool.core.images import read_image

    opts = ProjectOptions(**options)
    opts.validate()
    for module in ("torch", "safetensors", "onnx"):
        if importlib.util.find_spec(module) is None:
            raise GantoolError(f"{module} is not installed; {TRAIN_EXTRA}")
    files = image_files(list(images))
    from gantool.core.devices import torch_device
    from gantool.inference.onnx_weights import open_torch_generator

    G, info, source = open_torch_generator(model, torch_device(opts.device), opts.ema)
    shape = info.data_shape
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise GantoolError(f"{source} makes data of shape {list(shape)}, not images: projection takes an image model")
    import numpy as np

    pictures = np.stack([read_image(path, shape) for path in files])
    labels = given_labels(opts.label, info, len(files))
    projection = run_projection(G, info, pictures, labels, opts)
    out = Path(opts.out)
    write_outputs(projection, pictures, info, out)
    return ProjectResult(files, projection, out, source, info)


# help() and editors show every option by name, with its type and default.
project.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [*list(inspect.signature(project).parameters.values())[:2], *keywords(ProjectOptions)], return_annotation=ProjectResult
)


def given_labels(label: str | None, info: ModelInfo, n: int) -> np.ndarray | None:
    """``--label`` as one class per image; None to try every class (or for an unconditional model, which takes none)."""
    import numpy as np

    from gantool.inference.labels import parse_label

    if info.classes is None:
        if label is not None:
            raise GantoolError(
                "--label needs a conditional model (trained with --conditional); this one is unconditional: leave out --label"
            )
        return None
    return None if label is None else np.full(n, parse_label(label.strip(), info.classes), dtype=np.int64)


def run_projection(G: Any, info: ModelInfo, pictures: np.ndarray, labels: np.ndarray | None, opts: ProjectOptions) -> Projection:
    """The optimisation, with the digit classifier's features in the loss where the images are digit-shaped."""
    from gantool.evaluation.classifier import DIGIT_SHAPE, load_classifier
    from gantool.evaluation.projection import optimise

    features = None
    if tuple(info.data_shape) == DIGIT_SHAPE:
        device = next(iter(G.parameters())).device
        features = load_classifier().model[:7].eval().requires_grad_(False).to(device)
    return optimise(G, info, pictures, labels=labels, steps=opts.steps, restarts=opts.restarts, seed=opts.seed, features=features)


def write_outputs(projection: Projection, pictures: np.ndarray, info: ModelInfo, out: Path) -> None:
    """z.npy, labels.npy (conditional models) and pairs.png: each image beside its reconstruction, up to 8 pairs a row."""
    import numpy as np

    from gantool.core.images import grid, save_png
    from gantool.inference.given_latents import write_array

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GantoolError(f"cannot create {out} ({exc.strerror or exc}): choose another --out") from None
    write_array(projection.z, out / LATENTS)
    if projection.labels is not None:
        write_array(projection.labels, out / LABELS)
    low, high = info.output_range
    recon = (projection.reconstructions - low) / (high - low) * 2 - 1
    pairs = np.stack([pictures, recon], axis=1).reshape(-1, *pictures.shape[1:])
    try:
        save_png(grid(pairs, ncol=2 * min(8, len(pictures))), out / PAIRS)
    except OSError as exc:
        raise GantoolError(f"cannot write {out / PAIRS} ({exc.strerror or exc}): choose another --out") from None
