"""A small digit classifier whose features and class posteriors stand in for Inception's.

Pretrained Inception weights cannot be downloaded everywhere, and a network that
has never seen a handwritten digit is a poor judge of one. So gantool trains a
small CNN on MNIST's own labels once, caches it as safetensors in the user cache
directory, and reports its test accuracy next to every score it helps compute.
Scores are comparable only between runs judged by the same classifier
(``trained_on`` in eval.json).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gantool.core.errors import GantoolError
from gantool.core.paths import cache_dir
from gantool.plugins.builtin import mnist_files
from gantool.plugins.figures import Figure

DIGIT_SHAPE = (1, 28, 28)
FEATURES = 128
VERSION = 2  # bump when the architecture or its training changes: cached files are then retrained
HELD_OUT = 2000  # digits kept out of training when only the embedded 10,000 are at hand
SEED = 1234
# 12 passes: 99.0% of MNIST test right against 98.2% after 2, so that a class-accuracy target of 99% can be judged
MNIST_EPOCHS = 12
# The figure an evaluation adds beside the metrics' own whenever they used the classifier: how far to trust them.
ACCURACY = Figure("classifier_accuracy", "the classifier's accuracy on held-out digits")


def network() -> Any:
    """Two strided conv layers and a 128-unit layer: about half a million multiply-adds an image, cheap on a CPU."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1),  # 14x14
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1),  # 7x7
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, FEATURES),
        nn.ReLU(),  # output of index 6: the features
        nn.Dropout(0.25),
        nn.Linear(FEATURES, 10),
    )


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 pixels (N, 28, 28) or (N, 1, 28, 28) to float32 in [-1, 1], shaped (N, 1, 28, 28)."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 127.5 - 1.0
    return x.reshape(-1, *DIGIT_SHAPE).astype(np.float32, copy=False)


def fit(images: np.ndarray, labels: np.ndarray, epochs: float = 2.0, batch_size: int = 128, lr: float = 2e-3, seed: int = SEED) -> Any:
    """Train a fresh classifier on images in [-1, 1]; deterministic for a given seed on the CPU."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    model = network()
    x = torch.from_numpy(to_unit(images))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = max(1, math.ceil(epochs * len(x) / batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    rng = torch.Generator().manual_seed(seed)
    perm, pos = torch.randperm(len(x), generator=rng), 0
    model.train()
    for _ in range(steps):
        if pos + batch_size > len(x):
            perm, pos = torch.randperm(len(x), generator=rng), 0
        index = perm[pos : pos + batch_size]
        pos += batch_size
        loss = F.cross_entropy(model(x[index]), y[index])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


@dataclass
class Classifier:
    """The trained network with where it came from; ``embed`` gives features and posteriors."""

    model: Any
    trained_on: str
    test_accuracy: float
    path: Path | None = None

    def embed(self, images: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """(N, 128) penultimate features and (N, 10) class posteriors of images in [-1, 1]."""
        import torch

        x = to_unit(images)
        feats, probs = [], []
        body, head = self.model[:7], self.model[7:]
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                h = body(torch.from_numpy(x[start : start + batch_size]))
                feats.append(h.numpy())
                probs.append(torch.softmax(head(h), dim=1).numpy())
        return np.concatenate(feats).astype(np.float64), np.concatenate(probs).astype(np.float64)

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        _, probs = self.embed(images)
        return float((probs.argmax(1) == np.asarray(labels)).mean())

    def info(self) -> dict[str, Any]:
        return {"trained_on": self.trained_on, "test_accuracy": round(self.test_accuracy, 4), "version": VERSION}


def mnist_root_in(data_opt: dict[str, Any]) -> str | None:
    """A run's ``root`` dataset option when it holds MNIST's training files: the classifier then trains on them."""
    root = data_opt.get("root")
    if not root or not isinstance(root, str):
        return None
    folder = Path(root).expanduser()
    return str(folder) if mnist_files.present(folder, train=True) else None


def mnist_train(root: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 60,000 training images and labels from a torchvision folder, never downloading."""
    folder = Path(root).expanduser()
    if not mnist_files.present(folder, train=True):
        raise GantoolError(f"MNIST's training files are not in {folder / mnist_files.RAW}: pass the folder that holds MNIST/raw")
    return mnist_files.read_split(folder, train=True)


def digits_split() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The embedded digits cut into 8,000 to train on and 2,000 held out, by a fixed shuffle."""
    from gantool.plugins.builtin.datasets import load_digits

    images, labels = load_digits()
    order = np.random.default_rng(SEED).permutation(len(images))
    test, train = order[:HELD_OUT], order[HELD_OUT:]
    return (images[train], labels[train]), (images[test], labels[test])


def load_classifier(mnist_root: str | Path | None = None, console: Any = None) -> Classifier:
    """The cached classifier, trained first if needed: on MNIST train when a root is given, else on the embedded digits."""
    from gantool.plugins.builtin.datasets import load_digits
    from gantool.store import tensors as ckpt

    trained_on = "mnist-train" if mnist_root else "digits-8k"
    path = cache_dir("classifiers", f"digits-cnn-v{VERSION}-{trained_on}.safetensors")
    model = network()
    if path.is_file():
        tensors, meta = ckpt.load_tensors(path)
        ckpt.load_state(model, tensors, str(path))
        return Classifier(model.eval(), trained_on, float(meta["test_accuracy"]), path)

    if console is not None:
        console.print(f"training the digit classifier for image metrics on {trained_on} (once; cached in {path.parent})")
    if mnist_root:
        (x, y), test = mnist_train(mnist_root), load_digits()  # the embedded digits are MNIST's test split
        model = fit(x, y, epochs=MNIST_EPOCHS)
    else:
        (x, y), test = digits_split()
        model = fit(x, y, epochs=8)
    classifier = Classifier(model, trained_on, 0.0, path)
    classifier.test_accuracy = classifier.accuracy(*test)
    path.parent.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"format": "gantool-classifier", "version": VERSION, "trained_on": trained_on}
    info["test_accuracy"] = classifier.test_accuracy
    ckpt.save_tensors(path, ckpt.state_tensors(model), info)
    return classifier
