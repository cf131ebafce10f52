"""Which CUDA GPUs the NVIDIA driver can see, asked without torch or onnxruntime.

onnxruntime-gpu reports what it was built for, not what the machine has, and
asking it for CUDA on a machine without a usable GPU fills stderr with errors.
The driver's own library answers in milliseconds and says nothing.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache

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
