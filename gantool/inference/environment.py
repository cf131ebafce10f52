"""``gantool info``: versions, devices and onnxruntime's providers; works with torch absent and says so."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from gantool.core import devices as gpu
from gantool.core.version import __version__

TRAIN_HINT = 'training and export need it: pip install "gantool[train]"'


def _version(*distributions: str) -> tuple[str, str] | None:
    """(distribution, version) of the first one installed."""
    for name in distributions:
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def collect() -> dict[str, Any]:
    """Everything ``gantool info`` shows, as plain data (``--json`` prints it as it is)."""
    report: dict[str, Any] = {
        "gantool": __version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
    }
    for name in ("numpy", "pillow"):
        found = _version(name)
        report[name] = found[1] if found else None
    report["cuda_gpus"] = list(gpu.cuda_devices())

    try:
        import onnxruntime as ort

        from gantool.inference.onnx_runtime import providers_for

        found = _version("onnxruntime-gpu", "onnxruntime", "onnxruntime-directml")
        chosen = providers_for("auto")[0]
        report["onnxruntime"] = {
            "version": ort.__version__,
            "distribution": found[0] if found else None,
            "build": ort.get_device(),
            "providers": ort.get_available_providers(),
            "auto_device": chosen[0] if isinstance(chosen, tuple) else chosen,
        }
    except ImportError as exc:
        report["onnxruntime"] = {"error": f"cannot import onnxruntime ({exc})"}

    try:
        import torch

        report["torch"] = {
            "version": torch.__version__,
            "cuda": torch.version.cuda,
            "cuda_available": torch.cuda.is_available(),
            "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else [],
        }
    except ImportError:
        report["torch"] = None
    for name in ("onnx", "onnxscript", "safetensors"):
        found = _version(name) if _importable(name) else None
        report[name] = found[1] if found else None
    return report


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def lines(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The report as (label, text) rows for people."""
    rows = [
        ("gantool", report["gantool"]),
        ("python", f"{report['python']} ({report['platform']})"),
        ("numpy", report["numpy"] or "not installed"),
        ("pillow", report["pillow"] or "not installed"),
    ]
    ort = report["onnxruntime"]
    if "error" in ort:
        rows.append(("onnxruntime", ort["error"]))
    else:
        rows.append(("onnxruntime", f"{ort['version']} ({ort['distribution'] or 'unknown distribution'}, {ort['build']} build)"))
        rows.append(("providers", ", ".join(ort["providers"])))
        rows.append(("sampling on", f"{ort['auto_device']} (with --device auto)"))
    rows.append(("CUDA GPUs", ", ".join(report["cuda_gpus"]) or "none visible to the NVIDIA driver"))
    torch = report["torch"]
    if torch is None:
        rows.append(("torch", f"not installed: ONNX sampling works without it; {TRAIN_HINT}"))
    else:
        gpus = ", ".join(torch["devices"]) or "no usable CUDA GPU"
        rows.append(("torch", f"{torch['version']} (CUDA {torch['cuda'] or 'none'}; {gpus})"))
    for name in ("onnx", "onnxscript", "safetensors"):
        rows.append((name, report[name] or f"not installed ({TRAIN_HINT})"))
    return rows
