"""Devices: the one parser of ``--device``, the torch device it names, and which CUDA GPUs the driver sees.

The GPUs are asked of the NVIDIA driver itself, without torch or onnxruntime: onnxruntime-gpu
reports what it was built for, not what the machine has, and asking it for CUDA on a machine
without a usable GPU fills stderr with errors. The driver answers in milliseconds and says nothing.
torch is imported only inside ``torch_device``.
"""

from __future__ import annotations

import ctypes
import re
import sys
from functools import cache
from typing import TYPE_CHECKING

from gantool.core.errors import GantoolError

if TYPE_CHECKING:
    import torch

DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
DEVICE_HELP = "auto, cpu, cuda or cuda:N"

DRIVER_LIBRARIES = {"linux": ("libcuda.so.1", "libcuda.so"), "win32": ("nvcuda.dll",)}


@cache
def cuda_devices() -> tuple[str, ...]:
    """Names of the CUDA GPUs visible to this process (``CUDA_VISIBLE_DEVICES`` applies); empty when none."""
    for name in DRIVER_LIBRARIES.get(sys.platform, ()):
        try:
            driver = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            if driver.cuInit(0) != 0:
                return ()
            count = ctypes.c_int(0)
            if driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
                return ()
            names = []
            for ordinal in range(count.value):
                device = ctypes.c_int(0)
                buffer = ctypes.create_string_buffer(256)
                if driver.cuDeviceGet(ctypes.byref(device), ordinal) == 0 and driver.cuDeviceGetName(buffer, 256, device) == 0:
                    names.append(buffer.value.decode(errors="replace"))
                else:
                    names.append(f"CUDA device {ordinal}")
            return tuple(names)
        except (AttributeError, OSError):  # a stub or broken driver library
            return ()
    return ()


def check_device(name: str, flag: str = "--device") -> str:
    """``name`` if it is a device gantool knows, else a one-line error."""
    if not isinstance(name, str) or not DEVICE.fullmatch(name):
        raise GantoolError(f"{flag} must be {DEVICE_HELP}, got {name!r}")
    return name


def torch_device(name: str) -> torch.device:
    """The torch device ``--device`` names: ``auto`` is CUDA when torch can use a GPU, else the CPU."""
    import torch

    check_device(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GantoolError("--device cuda was asked for but no usable CUDA GPU is visible; use --device cpu")
    return torch.device(name)
