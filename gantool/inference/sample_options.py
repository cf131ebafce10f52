"""``gantool sample``'s options, each declared once here with its default, its help and its check.

The command's flags (gantool.cli.inference), the keywords of ``gantool.sample`` (gantool.inference.sampling)
and the checks of ``gantool.load(...).sample`` (gantool.inference.api) are made from these declarations, so
the three take and refuse the same values. Neither torch nor numpy: the CLI imports this module for its flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gantool.core import checks
from gantool.core.devices import DEVICE_HELP
from gantool.core.errors import GantoolError
from gantool.core.latents import check_truncation
from gantool.core.options import option, validate
from gantool.core.paths import check_writable
from gantool.inference.loading import EMA_HELP

RUNTIMES = ("onnx", "torch")
PICTURES = (".png", ".npy")
ANIMATIONS = (".gif", ".webp")  # a latent walk played in a loop (gantool.inference.walks)
DEFAULT_COUNT = 64
DEFAULT_FPS = 12.0
MAX_FPS = 50  # GIF delays are whole hundredths, and browsers slow delays under 0.02 s down to 0.1 s
DEFAULT_BATCH = 256
# Checked first, as they always were: the numbers, then --out, --device and --truncation in declaration order.
NUMBERS = ("n", "batch_size", "interpolate", "seed", "frames", "fps")


def output_file(flag: str, value: Any) -> None:
    """A picture or an array, in a folder that can be written, refused before any work."""
    path = Path(value)
    if path.suffix.lower() not in PICTURES + ANIMATIONS:
        raise GantoolError(f"{flag} {path} must end in .png (a picture), .npy (the raw array), or .gif or .webp (an animated walk)")
    check_writable(path, flag)


def input_file(flag: str, value: Any) -> None:
    """A file to read, refused before a model is opened when it is not there."""
    if not Path(value).is_file():
        raise GantoolError(f"{flag} {value} is not a file: point it at an .npy file (gantool project writes z.npy and labels.npy)")


def truncation_range(flag: str, value: Any) -> None:
    """Its range, before a model is opened; the model's prior is checked once it is (gantool.inference.sampling.generate)."""
    check_truncation(value, "normal")


def frame_rate(flag: str, value: Any) -> None:
    """Frames per second an animation can keep to: above 0, at most ``MAX_FPS``."""
    checks.positive_number(flag, value)
    if value > MAX_FPS:
        raise GantoolError(f"{flag} must be at most {MAX_FPS} (GIF players slow faster frames down), got {value}")


@dataclass
class SampleOptions:
    n: int = option(
        DEFAULT_COUNT,
        "How many samples (--interpolate rounds up to whole walks; in an animation, the walks side by side).",
        checks.at_least(1),
        flags=("-n", "--count"),
    )
    runtime: str = option("onnx", "onnx (needs only onnxruntime) or torch (needs the training extra).")
    model: Path | None = option(
        None,
        "An .onnx file or an installed model's name (see 'gantool models') for onnx, a run folder for torch (default: runs/latest's).",
        show_default=False,
    )
    out: Path = option(
        Path("samples.png"),
        "Output: .png for a picture, .npy for the raw (N, *data_shape) float32 array, .gif or .webp for an animated walk "
        "(with --interpolate: N walks side by side, looping through several latents).",
        output_file,
    )
    seed: int | None = option(None, "Seed for the latents; the same seed gives the same samples in both runtimes.", checks.at_least(0))
    device: str = option("auto", f"{DEVICE_HELP}.", checks.device)
    batch_size: int = option(DEFAULT_BATCH, "Latents per forward pass.", checks.at_least(1))
    interpolate: int | None = option(
        None, "Walk between random latents in K steps: one walk per row.", checks.at_least(2), metavar="K", show_default=False
    )
    ema: bool | None = option(None, f"With --runtime torch: {EMA_HELP}", show_default=False)
    label: str | None = option(
        None,
        "A conditional model's class: a number or name, several (3,5: a row each), or all (a row per class). "
        "Without it labels are drawn uniformly; they are written beside --out. In an animation, A:B walks from class A to B and back.",
        show_default=False,
    )
    truncation: float | None = option(
        None,
        "Truncation trick for the normal prior: latent entries beyond PSI standard deviations are drawn again "
        "(0 < PSI <= 1; lower: more typical, less varied samples).",
        truncation_range,
        metavar="PSI",
        show_default=False,
    )
    latents: Path | None = option(
        None,
        "Sample these latents, an .npy array (N, latent_dim) (gantool project writes one), instead of drawing them; "
        "-n, --seed, --truncation, --interpolate and --label do not apply.",
        input_file,
        show_default=False,
    )
    labels: Path | None = option(
        None, "With --latents and a conditional model: an .npy array of N class indices, one per latent.", input_file, show_default=False
    )

    frames: int | None = option(
        None,
        "An animation's length in frames, rounded up to whole legs of --interpolate steps (default: a loop through 4 latents).",
        checks.at_least(2),
        show_default=False,
    )
    fps: float | None = option(None, f"An animation's frames per second (default {DEFAULT_FPS:g}).", frame_rate, show_default=False)

    def validate(self) -> None:
        """Every option's check, before a model is opened: a one-line error naming the flag."""
        validate(self, first=NUMBERS)
        animated = Path(self.out).suffix.lower() in ANIMATIONS
        if animated and self.interpolate is None:
            raise GantoolError(f"--out {self.out} is an animated latent walk: add --interpolate K (steps from one latent to the next)")
        if not animated and (self.frames is not None or self.fps is not None):
            raise GantoolError("--frames and --fps shape an animation: write --out FILE.gif or FILE.webp with --interpolate K")
        if animated and self.frames is not None and self.interpolate is not None and self.frames <= self.interpolate:
            raise GantoolError(
                f"--frames {self.frames} is at most one leg of --interpolate {self.interpolate} steps: "
                "a loop visits at least two latents, give more frames"
            )
