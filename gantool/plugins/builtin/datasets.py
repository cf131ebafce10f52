"""Built-in datasets: MNIST, the embedded digits, the 2-D mode-collapse benchmarks, a user's image folder.

Factories give tensors (N, *data_shape): uint8 images in [0, 255] (converted to [-1, 1]
on the training device, a quarter of the memory) or float data in [-1, 1]. Those that
know more return ``Data``: held-out samples for ``gantool eval`` and, for the mixtures,
their modes; evaluation reads these through the contract, never by dataset name.
"""

from __future__ import annotations

import math
from importlib.resources import files
from pathlib import Path
from typing import Any

from gantool.core.errors import GantoolError, first_line
from gantool.core.paths import cache_dir
from gantool.plugins.builtin import mnist_files
from gantool.plugins.data import Data, Modes
from gantool.plugins.hookspecs import hookimpl

DIGITS = tuple(str(d) for d in range(10))  # the class names of MNIST's labels
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}

# 2-D mixtures in the PacGAN paper's geometry (Lin et al. 2018), scaled so that
# the outermost means sit at +-0.8, inside tanh's reach.
RING_RADIUS, RING_SIGMA, RING_MODES = 1.0, 0.01, 8
GRID_VALUES, GRID_SIGMA = (-4.0, -2.0, 0.0, 2.0, 4.0), 0.05
RING_SCALE, GRID_SCALE = 0.8 / RING_RADIUS, 0.8 / 4.0


def ring_modes() -> tuple[list[tuple[float, float]], float]:
    """Means and standard deviation of ``ring`` in gantool's scaled coordinates."""
    means = [
        (
            RING_SCALE * RING_RADIUS * math.cos(2 * math.pi * k / RING_MODES),
            RING_SCALE * RING_RADIUS * math.sin(2 * math.pi * k / RING_MODES),
        )
        for k in range(RING_MODES)
    ]
    return means, RING_SIGMA * RING_SCALE


def grid_modes() -> tuple[list[tuple[float, float]], float]:
    """Means and standard deviation of ``grid`` in gantool's scaled coordinates."""
    means = [(GRID_SCALE * i, GRID_SCALE * j) for i in GRID_VALUES for j in GRID_VALUES]
    return means, GRID_SIGMA * GRID_SCALE


def _mixture(means: list[tuple[float, float]], sigma: float, n: int, seed: int) -> Any:
    import torch

    if n < 1:
        raise ValueError(f"n must be a positive number of samples, got {n}")
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor(means, dtype=torch.float32)
    which = torch.randint(len(means), (n,), generator=g)
    return centres[which] + sigma * torch.randn(n, 2, generator=g)


def _mixture_data(means: list[tuple[float, float]], sigma: float, n: int, seed: int) -> Data:
    """A mixture's samples, a fresh draw of the same size (seed + 1) as held-out data, and its modes."""
    train = _mixture(means, sigma, n, seed)
    return Data(train=train, held_out=lambda: _mixture(means, sigma, n, seed + 1), modes=Modes(means, sigma))


def ring_mixture(n: int = 100_000, seed: int = 0) -> Data:
    """8 Gaussians on a circle: the mixture on which mode collapse is usually shown."""
    return _mixture_data(*ring_modes(), n=n, seed=seed)


def grid_mixture(n: int = 100_000, seed: int = 0) -> Data:
    """25 Gaussians on a 5x5 grid, as in the PacGAN paper."""
    return _mixture_data(*grid_modes(), n=n, seed=seed)


def load_digits() -> tuple[Any, Any]:
    """The 10,000 MNIST test digits shipped inside gantool, as numpy (images, labels)."""
    import numpy as np

    with files("gantool").joinpath("data/digits.npz").open("rb") as fh:
        archive = np.load(fh, allow_pickle=False)
        return archive["images"], archive["labels"]


def digits() -> Data:
    """Real handwritten digits that need no download: gantool's default data. They are MNIST's test split, so
    nothing is held out here (``gantool eval --mnist-root`` takes MNIST's training split instead)."""
    import torch

    images, labels = load_digits()
    return Data(train=torch.from_numpy(images).unsqueeze(1), labels=torch.from_numpy(labels.astype("int64")), classes=DIGITS)


def mnist(root: str = "", train: bool = True, download: bool = True) -> Data:
    """MNIST from its raw files; torchvision downloads them into the user cache when they are absent.

    The other split is held out: the embedded digits (MNIST's test split) for ``train=True``,
    the training split, read from the same folder when asked for, for ``train=False``.
    """
    import torch

    folder = Path(root).expanduser() if root else cache_dir("datasets")
    images, labels = mnist_split(folder, train, download)
    samples = torch.from_numpy(images.copy()).unsqueeze(1)  # a copy: the file's bytes are read-only
    if train:
        return Data(samples, lambda: torch.from_numpy(load_digits()[0]).unsqueeze(1), labels=torch.from_numpy(labels), classes=DIGITS)
    held_out = lambda: torch.from_numpy(mnist_split(folder, True, download)[0].copy()).unsqueeze(1)  # noqa: E731
    return Data(samples, held_out, labels=torch.from_numpy(labels), classes=DIGITS)


def mnist_split(folder: Path, train: bool, download: bool) -> tuple[Any, Any]:
    """(images, labels) as numpy from the raw files, fetched by torchvision first when absent; its errors (several
    lines, some naming download=True) become one line that says what to do."""
    if mnist_files.present(folder, train):
        return mnist_files.read_split(folder, train)
    remedy = f"copy MNIST's raw files into {folder / mnist_files.RAW} or pass --data-opt root=DIR"
    if not download:
        raise GantoolError(f"MNIST is not in {folder} and download=false: {remedy}")
    from torchvision.datasets import MNIST

    try:
        MNIST(str(folder), train=train, download=True)
    except (RuntimeError, OSError) as exc:  # every mirror failed, or no network
        raise GantoolError(f"could not download MNIST into {folder} ({first_line(exc)}): {remedy}") from None
    return mnist_files.read_split(folder, train)


def image_folder(path: str = "", size: int = 28, channels: int = 1) -> Data:
    """A folder of image files, resized to ``size`` x ``size``.

    Images in sub-folders only: one class per sub-folder, in sorted name order, as torchvision's
    ImageFolder has it (the files of a class may sit deeper inside its folder). Images anywhere
    else: one unlabelled set, searched recursively.
    """
    import torch

    if not path:
        raise GantoolError("image-folder needs a folder: pass --data-opt path=DIR")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise GantoolError(f"image folder {folder} does not exist: pass an existing folder as --data-opt path=DIR")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels}")
    if not isinstance(size, int) or size < 4:
        raise ValueError(f"size must be an integer of at least 4 pixels, got {size!r}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise GantoolError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found in {folder}")
    images = torch.from_numpy(_read_images(files, size, channels)).permute(0, 3, 1, 2).contiguous()
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes or any(f.parent == folder for f in files):
        return Data(train=images)
    labels = torch.tensor([classes.index(f.relative_to(folder).parts[0]) for f in files], dtype=torch.int64)
    return Data(train=images, labels=labels, classes=classes)


def _read_images(files: list[Path], size: int, channels: int) -> Any:
    """The images as uint8 (N, size, size, channels)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    mode = "L" if channels == 1 else "RGB"
    images = []
    for file in files:
        try:
            with Image.open(file) as opened:
                img = opened.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
                images.append(np.asarray(img, dtype=np.uint8).reshape(size, size, channels))
        except (UnidentifiedImageError, OSError) as exc:
            raise GantoolError(f"cannot read image {file}: {exc}; remove it or fix it") from None
    return np.stack(images)


@hookimpl
def register_datasets(register: Any) -> None:
    register("digits", digits)
    register("mnist", mnist)
    register("ring", ring_mixture)
    register("grid", grid_mixture)
    register("image-folder", image_folder)
