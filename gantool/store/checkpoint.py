"""The checkpoint's layout: every key of ``checkpoint.safetensors``, written and read here and nowhere else.

One file holds everything a resume needs, so a crash can never pair weights of one step with
optimizer state of another:

- ``G.*``, ``D.*``, ``G_ema.*``: the networks' state dicts;
- ``opt_g.<param>.<key>``, ``opt_d.<param>.<key>``: the optimizers' per-parameter tensors, their
  scalars and param groups as JSON in the metadata (``opt_g``, ``opt_d``);
- ``data.perm``, ``rng.torch``, ``rng.data``, ``rng.latent``, ``rng.cuda``, ``rng.augment`` and ``augment.state``
  (--augment's stream, and its p and ADA tally): the state of each process
  (rank 0's under these names, rank r's under ``rank{r}.``), ``data`` in the metadata (the position in
  the data, the same on every rank);
- metadata ``step``, ``config``, ``world_size``, ``gantool_version``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gantool.core.errors import GantoolError
from gantool.core.version import __version__

if TYPE_CHECKING:
    import torch

NETWORKS = ("G", "D", "G_ema")
OPTIMIZERS = ("opt_g", "opt_d")


@dataclass
class RankState:
    """One process's random streams and data order: what makes its resume exact."""

    torch_rng: torch.Tensor
    data_rng: torch.Tensor
    latent_rng: torch.Tensor
    cuda_rng: torch.Tensor | None = None
    perm: torch.Tensor | None = None  # the data order of the current epoch, when the data is held on the device
    augment_rng: torch.Tensor | None = None  # --augment's random stream
    augment: torch.Tensor | None = None  # --augment's p and ADA tally (gantool.training.augment)

    def to_tensors(self) -> dict[str, torch.Tensor]:
        named: dict[str, torch.Tensor | None] = {"rng.torch": self.torch_rng, "rng.data": self.data_rng, "rng.latent": self.latent_rng}
        named |= {"rng.cuda": self.cuda_rng, "data.perm": self.perm, "rng.augment": self.augment_rng, "augment.state": self.augment}
        return {k: v for k, v in named.items() if v is not None}

    @classmethod
    def from_tensors(cls, named: dict[str, torch.Tensor]) -> RankState:
        optional = (named.get(key) for key in ("rng.cuda", "data.perm", "rng.augment", "augment.state"))
        return cls(named["rng.torch"], named["rng.data"], named["rng.latent"], *optional)


@dataclass
class TrainingState:
    """A run at one step, as tensors and plain values. ``ranks[r]`` is process r's data order and RNG state."""

    step: int
    config: dict[str, Any]
    networks: dict[str, dict[str, torch.Tensor]]
    optimizers: dict[str, dict[str, Any]]  # torch optimizer state dicts
    data: dict[str, Any]  # the data position, the same on every rank
    ranks: list[RankState] = field(default_factory=list)

    @property
    def world_size(self) -> int:
        return max(1, len(self.ranks))


def to_tensors(state: TrainingState) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The file's tensors and metadata (values other than str become JSON when saved)."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"step": state.step, "config": state.config, "gantool_version": __version__, "world_size": state.world_size}
    for name, weights in state.networks.items():
        tensors.update({f"{name}.{k}": v for k, v in weights.items()})
    for name, opt_state in state.optimizers.items():
        opt_tensors, meta[name] = flatten_optimizer(opt_state, name)
        tensors.update(opt_tensors)
    meta["data"] = state.data
    for rank, own in enumerate(state.ranks):
        prefix = f"rank{rank}." if rank else ""
        tensors.update({prefix + k: v for k, v in own.to_tensors().items()})
    return tensors, meta


def from_tensors(tensors: dict[str, torch.Tensor], meta: dict[str, str], rank: int, world: int, path: Any) -> TrainingState:
    """What process ``rank`` of ``world`` resumes from: ``ranks`` holds its own state alone.

    Raises KeyError, ValueError or TypeError on a damaged file (the caller names it), and a one-line
    GantoolError when the file was written by another number of processes.
    """
    saved = json.loads(meta.get("world_size", "1"))
    if isinstance(saved, bool) or not isinstance(saved, int) or saved < 1:
        raise ValueError(f"world_size {meta['world_size']!r} is not a positive whole number")
    if saved != world:
        how = (
            "resume it in one process: leave out --nproc and torchrun"
            if saved == 1
            else f"resume it on {saved}: --nproc {saved}, or torchrun with {saved} processes in all"
        )
        raise GantoolError(f"{path} was written by a run on {saved} process(es) and this run has {world}; {how}")
    step = json.loads(meta["step"])
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise ValueError(f"step {meta['step']!r} is not a positive whole number")
    networks = {name: _part(tensors, name) for name in NETWORKS if any(k.startswith(name + ".") for k in tensors)}
    optimizers = {name: unflatten_optimizer(_part(tensors, name), json.loads(meta[name])) for name in OPTIMIZERS}
    prefix = f"rank{rank}." if rank else ""
    known = (*(f"{n}." for n in (*NETWORKS, *OPTIMIZERS)), "rank")
    own = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix) and (rank or not k.startswith(known))}
    if "rng.torch" not in own:
        raise KeyError(f"{prefix}rng.torch")
    config = json.loads(meta["config"]) if "config" in meta else {}
    return TrainingState(step, config, networks, optimizers, json.loads(meta["data"]), [RankState.from_tensors(own)])


def _part(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def flatten_optimizer(state: dict[str, Any], prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer's nested state dict as tensors plus JSON-able values: a checkpoint stays free of pickle."""
    import torch

    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{pid}.{key}"] = value.detach().clone()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    """The state dict ``flatten_optimizer`` took apart (``tensors`` without their prefix)."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    for pid, values in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def load_optimizer(opt: torch.optim.Optimizer, state: dict[str, Any], name: str) -> None:
    """Load an optimizer's moments and step counts; its settings (learning rate, betas, fused) stay as built,
    so a resumed run follows today's --lr and device."""
    settings = [{k: v for k, v in group.items() if k != "params"} for group in opt.param_groups]
    try:
        opt.load_state_dict(state)
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise GantoolError(f"optimizer state does not match the networks ({exc}); resume with the run's own components") from None
    for group, kept in zip(opt.param_groups, settings):
        group.update(kept)
    check_optimizer_state(opt, name)
    same_layout(opt)


def same_layout(opt: torch.optim.Optimizer) -> None:
    """Give each moment its parameter's memory layout (--channels-last): a file holds them contiguous, and fused
    Adam pairs elements by position in memory, so a moment laid out unlike its weight would update the wrong ones."""
    import torch

    for group in opt.param_groups:
        for param in group["params"]:
            state = opt.state.get(param, {})
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and value.shape == param.shape and value.stride() != param.stride():
                    state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


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
                problem = _step_count_problem(value, expected[key]) if scalar[key] else _moment_problem(value, param)
                if problem:
                    raise fail(f"{key} {problem}")


def _step_count_problem(value: Any, expected: Any) -> str | None:
    """A negative or NaN step count makes Adam's bias correction complex."""
    import torch

    number = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value
    ok = isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number) and number >= 0
    if not ok or (isinstance(value, torch.Tensor) and (value.ndim or value.dtype != getattr(expected, "dtype", None))):
        got = f"a {value.dtype} tensor of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else repr(value)
        return f"is {got}, not a count of steps"
    return None


def _moment_problem(value: Any, param: torch.Tensor) -> str | None:
    import torch

    if not isinstance(value, torch.Tensor) or (value.shape, value.dtype) != (param.shape, param.dtype):
        got = f"shape {tuple(value.shape)} and {value.dtype}" if isinstance(value, torch.Tensor) else repr(value)
        return f"has {got} for a parameter of shape {tuple(param.shape)} and {param.dtype}"
    if not value.isfinite().all():
        return "holds NaN or infinite values"
    return None
