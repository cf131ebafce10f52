"""Tensors on disk: safetensors only, written atomically, never unpickled.

Every file gantool writes goes through ``atomic_write``: a reader, or a process killed
at any moment, sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError

if TYPE_CHECKING:
    import torch

MAX_HEADER = 100 * 1024 * 1024


TEMP_SUFFIX = ".tmp"
UMASK = os.umask(0o022)  # reading the umask means setting it: put it straight back
os.umask(UMASK)


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync it, then rename it into place.

    A reader, or a process killed at any moment, sees the old file or the new one,
    never half of one. A killed writer can leave a ``.NAME.*.tmp`` file behind;
    ``runs.claim_run`` removes them.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes 0600 files: give them the permissions open() would
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # disk full, folder gone: the old file is still whole
            raise _unwritable(path, exc) from None
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _unwritable(path: Path, exc: OSError) -> GantoolError:
    return GantoolError(f"cannot write {path} ({exc.strerror or exc}): make sure its folder exists, is writable and has free space")


def looks_like_pickle(head: bytes) -> bool:
    """torch.save's zip archive of pickles, or a bare pickle (protocol 2 to 5: PROTO, then an opcode, never 0).

    Asked only of a file that failed to read as safetensors: a header length can begin
    with the same two bytes, but its third is 0 in any file under 16 MB of header.
    """
    return head.startswith(b"PK\x03\x04") or (len(head) >= 3 and head[0] == 0x80 and 2 <= head[1] <= 5 and head[2] != 0)


def read_metadata(path: str | Path) -> dict[str, str]:
    """A safetensors file's metadata, read from its JSON header without torch."""
    path = Path(path)
    head = b""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ValueError("file is shorter than a safetensors header")
            (length,) = struct.unpack("<Q", head)
            if length > MAX_HEADER:
                raise ValueError("header length is implausible")
            raw = fh.read(length)
            if len(raw) < length:
                raise ValueError("header is truncated")
        header = json.loads(raw)
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
    except FileNotFoundError:
        raise GantoolError(f"{path} does not exist: check the path or train a run first") from None
    except IsADirectoryError:
        raise GantoolError(f"{path} is a folder, not a safetensors file: point at a file gantool wrote") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError, MemoryError) as exc:  # RecursionError: absurdly nested JSON
        if looks_like_pickle(head):
            raise GantoolError(
                f"{path} is a pickle (torch.save) file, not safetensors; gantool never unpickles files, "
                "because unpickling can run any code: point at a file gantool wrote"
            ) from None
        raise GantoolError(f"{path} is not a readable safetensors file ({exc}); point at a file gantool wrote") from None
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise GantoolError(f"{path} has malformed safetensors metadata; point at a file gantool wrote")
    return {str(k): str(v) for k, v in meta.items()}


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
    """Save tensors with str metadata (non-str values as JSON), atomically."""
    from safetensors.torch import save

    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()}
    data = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, metadata=meta)
    atomic_write(path, data)


def load_tensors(path: str | Path, device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Load every tensor and the metadata; any damage is a one-line GantoolError."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    meta = read_metadata(path)  # clear errors for missing or non-safetensors files
    try:
        tensors = load(path.read_bytes())
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError, OverflowError, MemoryError) as exc:
        raise GantoolError(f"{path} is damaged ({exc}); use another checkpoint") from None
    return {k: v.to(device) for k, v in tensors.items()}, meta


def state_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's state dict with storage sharing broken (safetensors refuses shared storage)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def load_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], what: str) -> None:
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise GantoolError(f"{what} does not fit the network it describes ({first}); was it written by another version?") from None
