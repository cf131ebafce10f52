"""A run's generator exported to ONNX, checked before the file is kept.

The model carries gantool's metadata (``ModelInfo``), so the torch-free sampler
needs nothing beside it, and where it came from (``Provenance``: the run's recipe and
settings, the date, the run's eval figures), so a file handed on alone still says so.
Its batch axis is dynamic. Before the file takes
its name it must pass ``onnx.checker``, load through the very code the sampler
uses, and match PyTorch on the same latents.

torch, onnx and numpy are imported inside the functions: the CLI imports this
module for its defaults.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import warnings
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError
from gantool.core.paths import check_writable
from gantool.core.runmeta import ModelInfo, Provenance, eval_headline
from gantool.core.version import __version__
from gantool.inference.loading import generator_file, load_generator_file, reference_points
from gantool.plugins.figures import significant_digits
from gantool.store.layout import CONFIG, EVAL, ONNX
from gantool.store.runs import recorded_recipe, resolve_run

if TYPE_CHECKING:
    import torch

DEFAULT_OPSET = 20  # pinned, so the same run exports to the same file on every machine
MIN_OPSET = 18  # the torch.onnx exporter's floor; older opsets go through a converter that may fail
TOLERANCE = 1e-4  # largest |onnx - torch| accepted for float32 outputs in [-1, 1]
CHECK_BATCHES = (1, 7, 64)  # odd sizes too, to exercise the dynamic batch axis
EXTRA = 'exporting needs the training extra: pip install "gantool[train]"'


@dataclass
class ExportReport:
    path: Path
    source: Path
    opset: int
    size: int
    max_diff: float
    checked: int
    info: ModelInfo
    provenance: Provenance = field(default_factory=Provenance)
    note: str = ""  # what the provenance leaves out, and why

    def summary(self) -> str:
        return (
            f"exported {self.source} -> {self.path} (opset {self.opset}, {self.size / 1e6:.2f} MB); onnx.checker passed; "
            f"largest |onnx - torch| on {self.checked} latents: {self.max_diff:.1e}" + (f"; {self.note}" if self.note else "")
        )


def export_onnx(
    run: str | Path | None = None,
    out: str | Path | None = None,
    *,
    ema: bool | None = None,
    opset: int = DEFAULT_OPSET,
    tolerance: float = TOLERANCE,
    recipe: str | None = None,
) -> ExportReport:
    """Write ``RUN/G.onnx`` (or ``out``) from the generator the run means (``generator_file``: its weight
    average when it has one; ``ema=False`` takes the raw G), checked before it is kept. ``recipe`` names
    the recipe in the file when the run's config.toml does not."""
    for module in ("torch", "safetensors", "onnx", "onnxscript"):
        if importlib.util.find_spec(module) is None:
            raise GantoolError(f"{module} is not installed; {EXTRA}")
    import onnx

    highest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= highest:
        raise GantoolError(f"--opset must be between {MIN_OPSET} and {highest} (this onnx's newest), got {opset!r}")
    run_dir = resolve_run(run)
    source = generator_file(run_dir, ema)
    path = Path(out) if out is not None else run_dir / ONNX
    if path.suffix.lower() != ".onnx":
        raise GantoolError(f"--onnx {path} should end in .onnx")
    check_writable(path, "--onnx")
    G, info = load_generator_file(source)
    info = replace(info, gantool_version=__version__, reference=reference_points(run_dir, info))
    provenance, note = run_provenance(run_dir, source.name, info.step, recipe)

    model = to_onnx(G, info, opset, provenance)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        data = model.SerializeToString()
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        max_diff, checked = verify(tmp, G, info, tolerance, provenance)
        os.replace(tmp, path)
    except OSError as exc:
        raise GantoolError(f"cannot write {path} ({exc.strerror or exc}): choose another --onnx path") from None
    finally:
        tmp.unlink(missing_ok=True)
    return ExportReport(path, source, opset, len(data), max_diff, checked, info, provenance, note)


def run_provenance(run_dir: Path, source: str, step: int | None, recipe: str | None = None) -> tuple[Provenance, str]:
    """What the run folder says about where the generator came from, and a note on what it leaves out.

    The settings are the run's config.toml; the recipe is ``recipe``, else the config's ``# recipe:``
    line; the eval figures are eval.json's headline, kept only when that evaluation was of this very
    generator (the same step, the same weights file or an export), so no file claims figures it did not earn.
    """
    from gantool.store.toml import read_toml

    settings, notes = None, []
    config = run_dir / CONFIG
    if config.is_file():
        try:
            settings = read_toml(config)
        except GantoolError:
            settings = None
        recipe = recipe or recorded_recipe(run_dir)
    headline = None
    try:
        report = json.loads((run_dir / EVAL).read_text(encoding="utf-8"))
        headline = eval_headline(report, significant_digits()) if isinstance(report, dict) else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        notes.append(f"no eval figures recorded (run 'gantool eval {run_dir}' first to carry them)")
    if headline is not None:
        evaluated = Path(str(report.get("generator", "")).split(" (")[0]).name
        if headline.get("step") != step or not (evaluated == source or evaluated.endswith(".onnx")):
            notes.append(f"{EVAL} is of {evaluated} at step {headline.get('step')}, not this generator: its figures were left out")
            headline = None
        else:
            notes.append(f"eval figures of step {step} recorded")
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    return Provenance(recipe or None, settings, stamp, headline), "; ".join(notes)


def to_onnx(G: torch.nn.Module, info: ModelInfo, opset: int, provenance: Provenance | None = None) -> Any:
    """The generator as an ONNX ModelProto: input ``z`` (batch, latent_dim), output ``x`` (batch, *data_shape)."""
    import torch

    from gantool.core import latents

    example = torch.from_numpy(latents.draw(2, info.latent_dim, info.latent, seed=0))
    # a conditional generator takes the labels as a second input, int64 (batch,), its batch axis the latents' own
    labels = [torch.from_numpy(latents.draw_labels(2, len(info.classes), seed=0))] if info.classes is not None else []
    batch = torch.export.Dim("batch")
    # the exporter talks (progress lines, deprecation warnings); the report says what matters
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            program = torch.onnx.export(
                G,
                (example, *labels),
                None,
                dynamo=True,
                input_names=["z", "y"][: 1 + len(labels)],
                output_names=["x"],
                dynamic_shapes=({0: batch},) * (1 + len(labels)),
                opset_version=opset,
                external_data=False,
                verbose=False,
            )
        except Exception as exc:
            first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
            raise GantoolError(
                f"torch.onnx could not export generator {info.component!r} ({first[:300]}); "
                "a plugin's generator must be traceable by torch.export with a free batch size"
            ) from None
    if program is None:  # only when given a file to write, which gantool never does here
        raise GantoolError("torch.onnx.export returned no program; please report this")
    model = program.model_proto
    del model.metadata_props[:]
    for key, value in (info.to_metadata() | (provenance or Provenance()).to_metadata()).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    shape = ", ".join(map(str, info.data_shape))
    given = f", y (batch,) int64 in 0..{len(info.classes) - 1}" if info.classes is not None else ""
    model.doc_string = f"gantool generator {info.component!r}: z (batch, {info.latent_dim}) ~ {info.latent}{given} -> x (batch, {shape})"
    return model


def verify(path: Path, G: torch.nn.Module, info: ModelInfo, tolerance: float, provenance: Provenance | None = None) -> tuple[float, int]:
    """onnx.checker, then the sampler's own loader, then the largest |onnx - torch| on the CPU; returns (that, latents used)."""
    import numpy as np
    import onnx

    from gantool.core import latents
    from gantool.core.errors import first_line
    from gantool.inference.onnx_runtime import CPU, OnnxGenerator, open_session
    from gantool.plugins.networks import generate

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise GantoolError(f"the exported model fails onnx.checker ({str(exc).splitlines()[0]}); try another --opset") from None
    try:
        open_session(path, [CPU])
    except Exception as exc:
        raise GantoolError(f"onnxruntime cannot load the exported model ({first_line(exc)}): choose a lower --opset") from None
    onnx_g = OnnxGenerator(path, device="cpu")
    written = Provenance.from_metadata(onnx_g.session.get_modelmeta().custom_metadata_map)
    if onnx_g.info != info or (provenance is not None and written != provenance):
        raise GantoolError("the exported model's metadata does not read back as written; please report this")
    worst, checked = 0.0, 0
    for seed, n in enumerate(CHECK_BATCHES):
        z = latents.draw(n, info.latent_dim, info.latent, seed)
        y = latents.draw_labels(n, len(info.classes), seed) if info.classes is not None else None
        expected = generate(G, z, y, batch_size=n)
        diff = np.abs(onnx_g(z, batch_size=n, labels=y) - expected)
        worst = max(worst, float(diff.max()) if np.isfinite(diff).all() else float("inf"))
        checked += n
    if not worst <= tolerance:
        raise GantoolError(
            f"ONNX and PyTorch outputs differ by up to {worst:.2e} on the same latents (the limit is {tolerance:.0e}), "
            "so the export was not kept: try another --opset"
        )
    return worst, checked
