"""Finds plugins and the components they register.

Built-in modules and third-party entry points (group ``gantool``) go through
the same hooks. Each entry point is loaded, and each hook called, on its own,
so one broken plugin is reported instead of taking the CLI down with it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from gantool.core.errors import GantoolError, first_line
from gantool.core.options import check_options
from gantool.core.version import __version__
from gantool.plugins import hookspecs

GROUP = "gantool"

# Modules of gantool's own components: registered exactly like a third-party plugin.
BUILTIN_MODULES = tuple(
    f"gantool.plugins.builtin.{name}" for name in ("models", "losses", "datasets", "metrics", "stacked", "augmentations", "pretrained")
)

# hook name -> component kind
HOOKS = {
    "register_generators": "generator",
    "register_discriminators": "discriminator",
    "register_losses": "loss",
    "register_datasets": "dataset",
    "register_metrics": "metric",
    "register_augmentations": "augmentation",
    "register_models": "model",  # not a factory: the path of a pretrained generator's ONNX file
}
KINDS = tuple(HOOKS.values())

# How many leading positional arguments gantool passes to each kind's factory.
POSITIONAL = {"generator": 2, "discriminator": 1, "augmentation": 1}


@dataclass
class Component:
    kind: str
    name: str
    factory: Callable[..., Any]
    plugin: str


@dataclass
class Plugin:
    name: str
    version: str
    source: str  # "built-in" or "entry point <name> = <module>"
    components: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Registry:
    """Every component gantool can build, keyed by kind and name."""

    def __init__(self, *, entry_point_group: str | None = GROUP) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, Plugin] = {}
        self.components: dict[str, dict[str, Component]] = {kind: {} for kind in KINDS}
        self.clashes: dict[tuple[str, str], list[str]] = {}
        for module_name in BUILTIN_MODULES:
            self._add(module_name, Plugin(module_name, __version__, "built-in"), partial(importlib.import_module, module_name))
        if entry_point_group:
            for ep in entry_points(group=entry_point_group):
                dist = ep.dist
                name = dist.name if dist is not None else ep.name
                if name in self.plugins:  # one distribution, several entry points
                    name = f"{name}:{ep.name}"
                version = dist.version if dist is not None else "?"
                self._add(name, Plugin(name, version, f"entry point {ep.name} = {ep.value}"), ep.load)
        self._collect()

    def _add(self, name: str, plugin: Plugin, load: Callable[[], Any]) -> None:
        self.plugins[name] = plugin
        try:
            module = load()
            self.pm.register(module, name=name)
            unknown = [n for n in dir(module) if hasattr(getattr(module, n), f"{GROUP}_impl") and n not in HOOKS]
            if unknown:  # a misspelled hook would otherwise be ignored without a word
                plugin.errors.append(f"unknown hook {', '.join(unknown)}; gantool's hooks are: {', '.join(HOOKS)}")
        except Exception as exc:  # a broken plugin must not break the others
            plugin.errors.append(f"failed to load: {type(exc).__name__}: {exc}")

    def _collect(self) -> None:
        for hook_name, kind in HOOKS.items():
            hook = getattr(self.pm.hook, hook_name)
            for impl in hook.get_hookimpls():  # in registration order: built-ins first
                plugin = self.plugins[impl.plugin_name]
                try:
                    impl.function(register=self._register_callback(kind, plugin))
                except Exception as exc:
                    plugin.errors.append(f"{hook_name} raised {type(exc).__name__}: {exc}")

    def _register_callback(self, kind: str, plugin: Plugin) -> Callable[[str, Callable[..., Any]], None]:
        def register(name: str, factory: Callable[..., Any]) -> None:
            if kind == "model":  # a file, checked when it is listed or sampled, so a bad one spoils only its own row
                if not isinstance(name, str) or not name or not isinstance(factory, str | os.PathLike):
                    raise TypeError(f"register(name, path) needs a non-empty name and a path to an .onnx file, got {name!r}, {factory!r}")
                factory = Path(factory)
            elif not isinstance(name, str) or not name or not callable(factory):
                raise TypeError(f"register(name, factory) needs a non-empty name and a callable, got {name!r}, {factory!r}")
            existing = self.components[kind].get(name)
            if existing is not None and existing.plugin != plugin.name:
                owners = self.clashes.setdefault((kind, name), [existing.plugin])
                owners.append(plugin.name)
                message = f"{kind} {name!r} is registered by both {' and '.join(owners)}"
                for owner in owners:
                    if message not in self.plugins[owner].errors:
                        self.plugins[owner].errors.append(message)
                return
            self.components[kind][name] = Component(kind, name, factory, plugin.name)
            plugin.components.append((kind, name))

        return register

    def names(self, kind: str) -> list[str]:
        return sorted(self.components[kind])

    def get(self, kind: str, name: str) -> Component:
        owners = self.clashes.get((kind, name))
        if owners:
            raise GantoolError(f"{kind} {name!r} is registered by both {' and '.join(owners)}: uninstall one of them")
        try:
            return self.components[kind][name]
        except KeyError:
            known = ", ".join(self.names(kind)) or "none"
            broken = [p.name for p in self.plugins.values() if p.errors]
            hint = f" (plugins with errors: {', '.join(broken)}; see 'gantool plugins')" if broken else ""
            raise GantoolError(f"unknown {kind} {name!r}; choose one of: {known}{hint}") from None

    def check(self, kind: str, name: str, options: dict[str, Any]) -> Component:
        """The component, if it exists and takes these options: a typo is reported before torch is even imported."""
        component = self.get(kind, name)
        check_options(component.factory, options, f"{kind} {name!r}", skip=POSITIONAL.get(kind, 0))
        return component

    def create(self, kind: str, name: str, /, *args: Any, **options: Any) -> Any:
        """Build a component, turning a rejected option, or a factory that fails, into a one-line error.

        ``kind`` and ``name`` are positional-only, so options named ``kind`` or ``name`` (from a file, say)
        reach the factory's check like any other option instead of clashing with them.
        """
        component = self.check(kind, name, options)
        what = f"{kind} {name!r}"
        try:
            return component.factory(*args, **options)
        except GantoolError:
            raise
        except (TypeError, ValueError) as exc:
            raise GantoolError(f"{what} rejected its options {options}: {first_line(exc)}") from exc
        except Exception as exc:  # a plugin's own bug, or no memory for the sizes asked for
            raise GantoolError(
                f"{what} (from {component.plugin}) could not be built: {type(exc).__name__}: {first_line(exc)}; "
                "check its options, or report it to the plugin's authors ('gantool --debug' shows the traceback)"
            ) from exc


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _registry
    if _registry is None:
        _registry = Registry()
    return _registry
