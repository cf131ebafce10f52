"""Run files on disk: safetensors only, written atomically, never unpickled.

``G.safetensors`` / ``D.safetensors`` hold one network each with what is
needed to rebuild it (component name, options, latent prior, data shape).
``checkpoint.safetensors`` holds everything a resume needs in one file, so a
crash can never pair weights of one step with optimizer state of another.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError

if TYPE_CHECKING:
    import torch

CHECKPOINT = "checkpoint.safetensors"
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


# --- optimizers: nested state flattened into tensors plus JSON --------------------------------


def optimizer_tensors(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    import torch

    state = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{pid}.{key}"] = value.detach().clone()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def load_optimizer(opt: torch.optim.Optimizer, prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Load an optimizer's state (moments, step counts) from a checkpoint.

    Its settings (learning rate, betas, fused or foreach) stay as the optimizer was
    built, so a resumed run follows today's --lr and device.
    """

    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            pid, key = name[len(prefix) + 1 :].split(".", 1)
            state.setdefault(int(pid), {})[key] = value
    for pid, values in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(values)
    settings = [{k: v for k, v in group.items() if k != "params"} for group in opt.param_groups]
    try:
        opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise GantoolError(f"optimizer state does not match the networks ({exc}); resume with the run's own components") from None
    for group, kept in zip(opt.param_groups, settings):
        group.update(kept)
    check_optimizer_state(opt, prefix)


def check_optimizer_state(opt: torch.optim.Optimizer, prefix: str) -> None:
    """What load_state_dict leaves unchecked (keys, shapes, types) and would otherwise fail mid-step."""
    import torch

    def fail(problem: str) -> GantoolError:
        return GantoolError(f"optimizer state {prefix} {problem}; resume with the run's own components, or use another checkpoint")

    # The keys one step of this optimizer creates, and which are step counts (scalars) rather than
    # per-element moments, learnt from a throwaway parameter of shape (1,).
    probe = torch.zeros(1, device=opt.param_groups[0]["params"][0].device, requires_grad=True)
    settings = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    trial = type(opt)([probe], **settings)
    probe.grad = torch.zeros_like(probe)
    trial.step()
    expected = trial.state[probe]
    scalar = {key: not isinstance(v, torch.Tensor) or v.ndim == 0 for key, v in expected.items()}
    for group in opt.param_groups:
        for param in group["params"]:
            values = opt.state.get(param, {})
            if values and set(values) != set(scalar):
                raise fail(f"has {sorted(values)} where {type(opt).__name__} keeps {sorted(scalar)}")
            for key, value in values.items():
                if scalar[key]:  # a negative or NaN step count makes Adam's bias correction complex
                    number = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value
                    ok = isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number) and number >= 0
                    if not ok or (isinstance(value, torch.Tensor) and (value.ndim or value.dtype != getattr(expected[key], "dtype", None))):
                        got = f"a {value.dtype} tensor of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else repr(value)
                        raise fail(f"{key} is {got}, not a count of steps")
                elif not isinstance(value, torch.Tensor) or (value.shape, value.dtype) != (param.shape, param.dtype):
                    got = f"shape {tuple(value.shape)} and {value.dtype}" if isinstance(value, torch.Tensor) else repr(value)
                    raise fail(f"{key} has {got} for a parameter of shape {tuple(param.shape)} and {param.dtype}")
                elif not value.isfinite().all():
                    raise fail(f"{key} holds NaN or infinite values")
