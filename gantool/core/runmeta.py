"""The metadata of trained networks: the one writer and reader of its keys.

``G.safetensors``, ``G_ema.safetensors`` and an exported ``G.onnx`` carry the same string keys
(``ModelInfo``), so one reader serves both runtimes; ``D.safetensors`` carries what rebuilds the
discriminator (``DiscriminatorInfo``). Each key means one thing everywhere: ``ema`` is the decay of
the weight average the generator is, absent for raw weights. An exported ``G.onnx`` also says where it
came from (``Provenance``), so a file handed on alone still names its recipe and its figures. Light on
purpose: no torch, no onnx.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gantool.core.errors import GantoolError, shown
from gantool.core.latents import PRIORS

FORMAT = "gantool"


@dataclass(frozen=True)
class ModelInfo:
    """A generator's contract: latents in, data out."""

    latent_dim: int
    latent: str  # the prior: "normal" (N(0, I)) or "uniform" (U(-1, 1))
    data_shape: tuple[int, ...]
    output_range: tuple[float, float] = (-1.0, 1.0)
    component: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    data: str = ""
    gantool_version: str = ""
    step: int | None = None
    ema: float | None = None  # the decay of the weight average these weights are; None for the raw G
    reference: list[list[float]] | None = None  # a sample of the real data, for scatter plots of 2-D data
    classes: tuple[str, ...] | None = None  # a conditional generator's class names, in label order: it is called G(z, y)

    @property
    def conditional(self) -> bool:
        return self.classes is not None

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str], source: str, remedy: str) -> ModelInfo:
        """Parse gantool's metadata; anything missing or odd is a one-line error naming ``source``."""
        if meta.get("format") != FORMAT:
            raise GantoolError(f"{source} carries no gantool metadata: {remedy}")
        if meta.get("kind", "generator") != "generator":
            raise GantoolError(f"{source} holds a {shown(meta['kind'])}, not a generator: {remedy}")

        def bad(key: str, problem: str) -> GantoolError:
            return GantoolError(f"{source} has malformed gantool metadata ({key} {problem}): {remedy}")

        def value(key: str, default: Any = None) -> Any:
            if key not in meta:
                if default is None:
                    raise bad(key, "is missing")
                return default
            try:
                return json.loads(meta[key])
            except json.JSONDecodeError:
                raise bad(key, f"is not JSON: {meta[key][:40]!r}") from None

        latent_dim = value("latent_dim")
        if not _whole(latent_dim) or latent_dim < 1:
            raise bad("latent_dim", f"must be a positive whole number, got {latent_dim!r}")
        latent = meta.get("latent")
        if latent not in PRIORS:
            raise bad("latent", f"must be one of {', '.join(PRIORS)}, got {latent!r}")
        shape = value("data_shape")
        if not isinstance(shape, list) or not shape or not all(_whole(d) and d > 0 for d in shape):
            raise bad("data_shape", f"must be a list of positive whole numbers, got {shape!r}")
        low_high = value("output_range", [-1.0, 1.0])
        if not (isinstance(low_high, list) and len(low_high) == 2 and all(_number(v) for v in low_high) and low_high[0] < low_high[1]):
            raise bad("output_range", f"must be [low, high] with low < high, got {low_high!r}")
        options = value("options", {})
        if not isinstance(options, dict):
            raise bad("options", f"must be a JSON object, got {options!r}")
        step = value("step", -1)
        if not _whole(step):
            raise bad("step", f"must be a whole number, got {step!r}")
        ema = value("ema") if "ema" in meta else None
        if isinstance(ema, bool):  # gantool 0.1 wrote true/false into ONNX files: the decay was not kept
            ema = None
        if ema is not None and not (_number(ema) and 0 < ema < 1):
            raise bad("ema", f"must be a decay in (0, 1) or absent, got {ema!r}")
        classes = value("classes") if "classes" in meta else None
        if classes is not None and not (isinstance(classes, list) and len(classes) >= 2 and all(isinstance(c, str) for c in classes)):
            raise bad("classes", f"must be a list of at least two class names, got {classes!r}")
        reference = value("reference", []) or None
        points = isinstance(reference, list) and all(isinstance(p, list) and len(p) == 2 and all(_number(v) for v in p) for p in reference)
        if reference is not None and not points:
            raise bad("reference", "must be a list of [x, y] points")
        return cls(
            latent_dim=latent_dim,
            latent=latent,
            data_shape=tuple(shape),
            output_range=(float(low_high[0]), float(low_high[1])),
            component=meta.get("component", ""),
            options=options,
            data=meta.get("data", ""),
            gantool_version=meta.get("gantool_version", ""),
            step=None if step < 0 else step,
            ema=ema,
            reference=reference,
            classes=None if classes is None else tuple(classes),
        )

    def to_metadata(self) -> dict[str, str]:
        """The same keys ``from_metadata`` reads, as the str-to-str map ONNX and safetensors store."""
        meta = {
            **_identity("generator", self.component, self.options, self.data, self.data_shape, self.gantool_version),
            "latent_dim": json.dumps(self.latent_dim),
            "latent": self.latent,
            "output_range": json.dumps(list(self.output_range)),
        }
        if self.ema is not None:
            meta["ema"] = json.dumps(self.ema)
        if self.step is not None:
            meta["step"] = json.dumps(self.step)
        if self.reference is not None:
            meta["reference"] = json.dumps(self.reference, separators=(",", ":"))
        if self.classes is not None:
            meta["classes"] = json.dumps(list(self.classes))
        return meta


def _identity(kind: str, component: str, options: dict[str, Any], data: str, data_shape: tuple[int, ...], version: str) -> dict[str, str]:
    """The keys every network's metadata starts with: what it is and what rebuilds it."""
    return {
        "format": FORMAT,
        "kind": kind,
        "gantool_version": version,
        "component": component,
        "options": json.dumps(options),
        "data": data,
        "data_shape": json.dumps(list(data_shape)),
    }


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class DiscriminatorInfo:
    """What rebuilds a run's D: its component, options and the data shape it judges."""

    component: str
    data_shape: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)
    data: str = ""
    gantool_version: str = ""
    step: int | None = None
    num_classes: int = 0  # a conditional D's, called D(x, y)

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str], source: str) -> DiscriminatorInfo:
        try:
            if meta.get("format") != FORMAT or meta.get("kind") != "discriminator":
                raise ValueError("not a gantool discriminator")
            shape, options = json.loads(meta["data_shape"]), json.loads(meta.get("options", "{}"))
            if not isinstance(shape, list) or not all(_whole(d) and d > 0 for d in shape) or not isinstance(options, dict):
                raise ValueError("malformed data_shape or options")
            step, num_classes = json.loads(meta.get("step", "-1")), json.loads(meta.get("num_classes", "0"))
            if not _whole(num_classes) or num_classes < 0:
                raise ValueError(f"num_classes {num_classes!r} is not a whole number")
            return cls(
                meta["component"],
                tuple(shape),
                options,
                meta.get("data", ""),
                meta.get("gantool_version", ""),
                step if _whole(step) and step >= 0 else None,
                num_classes,
            )
        except (KeyError, ValueError) as exc:
            raise GantoolError(
                f"{source} has no gantool discriminator metadata ({exc}); point at a run folder written by 'gantool train'"
            ) from None

    def to_metadata(self) -> dict[str, str]:
        meta = _identity("discriminator", self.component, self.options, self.data, self.data_shape, self.gantool_version)
        if self.step is not None:
            meta["step"] = json.dumps(self.step)
        if self.num_classes:
            meta["num_classes"] = json.dumps(self.num_classes)
        return meta


PROVENANCE_KEYS = ("recipe", "settings", "exported", "eval")


@dataclass(frozen=True)
class Provenance:
    """Where an exported generator came from: its run's recipe and settings, when it was exported, its eval figures.

    Optional in every file: files exported before gantool recorded it, or from a run without a
    config.toml or an eval.json, carry none or part of it, and still sample.
    """

    recipe: str | None = None  # the --config file the run was started with, when training recorded it
    settings: dict[str, Any] | None = None  # the run's config.toml: every training setting
    exported: str | None = None  # when, as an ISO 8601 UTC date and time
    eval: dict[str, Any] | None = None  # the headline of the run's eval.json: step, n, seed, scalar figures, truncation rows

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str]) -> Provenance:
        """Lenient on purpose: a key that is missing or malformed reads as None, never stops a file from sampling."""

        def value(key: str, kind: type) -> Any:
            try:
                parsed = json.loads(meta[key]) if kind is not str else meta[key]
            except (KeyError, json.JSONDecodeError):
                return None
            return parsed if isinstance(parsed, kind) and parsed != "" else None

        return cls(value("recipe", str), value("settings", dict), value("exported", str), value("eval", dict))

    def to_metadata(self) -> dict[str, str]:
        meta = {k: v for k, v in (("recipe", self.recipe), ("exported", self.exported)) if v}
        for key, table in (("settings", self.settings), ("eval", self.eval)):
            if table is not None:
                meta[key] = json.dumps(table, separators=(",", ":"))
        return meta


def eval_headline(report: Mapping[str, Any], digits: Callable[[str], int]) -> dict[str, Any] | None:
    """The compact part of an eval.json worth carrying in a model file: its step, n and seed, every scalar
    figure (to ``digits(name)`` significant digits, which the metric that returns it declares; lists such as
    per-class shares are left out) and its truncation rows."""
    figures = report.get("figures")
    if not isinstance(figures, Mapping):
        return None
    headline: dict[str, Any] = {k: report[k] for k in ("step", "n", "seed") if _whole(report.get(k))}
    headline["figures"] = {k: _round(v, digits(k)) for k, v in figures.items() if _number(v)}
    rows = report.get("truncation")
    if isinstance(rows, list) and all(isinstance(r, Mapping) for r in rows):
        headline["truncation"] = [
            {k: _round(v, digits(k)) if _number(v) else v for k, v in r.items() if v is None or _number(v)} for r in rows
        ]
    return headline


def _round(v: int | float, digits: int) -> int | float:
    return v if isinstance(v, int) else float(f"{v:.{digits}g}")
