"""A pluggable registry of backends by name.

Backends registered in another process (``th profile --backend NAME``) are found two ways:
modules named in ``TRUTHOUND_BACKEND_MODULES`` (comma-separated) are imported, so their
``@BackendRegistry.register(...)`` decorators run; and installed packages may declare entry points
in the group ``truthound.backends`` (``name = "package.module:BackendClass"``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import threading
from collections.abc import Mapping, Callable
from typing import Any

from truthound.errors import ConfigurationError

__all__ = ["BackendRegistry"]


class BackendRegistry:
    """Backends by name: ``list()``, ``create(name, config=...)`` and ``@register(name)``.

    >>> "local" in BackendRegistry.list()
    True
    """

    _backends: dict[str, type] = {}
    _lock = threading.Lock()
    _discovered = False

    @classmethod
    def _discover(cls) -> None:
        """Import TRUTHOUND_BACKEND_MODULES and load ``truthound.backends`` entry points, once."""
        if cls._discovered:
            return
        cls._discovered = True
        for module in filter(None, (m.strip() for m in os.environ.get("TRUTHOUND_BACKEND_MODULES", "").split(","))):
            try:
                importlib.import_module(module)
            except Exception as exc:  # noqa: BLE001 - any import failure is a configuration error
                cls._discovered = False
                raise ConfigurationError(
                    f"TRUTHOUND_BACKEND_MODULES: cannot import {module!r}: {exc}"
                ) from exc
        for entry in importlib.metadata.entry_points(group="truthound.backends"):
            if entry.name.strip().lower() not in cls._backends:
                try:
                    cls.register(entry.name, entry.load())
                except Exception as exc:  # noqa: BLE001
                    raise ConfigurationError(
                        f"backend entry point {entry.name!r} ({entry.value}) cannot be loaded: {exc}"
                    ) from exc

    @classmethod
    def register(cls, name: str, backend: type | None = None) -> Callable[[type], type] | type:
        """Register ``backend`` under ``name`` (usable as a class decorator)."""
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"a backend name must be a non-empty string, got {name!r}")
        key = name.strip().lower()
        if key == "auto":
            raise ConfigurationError("'auto' is reserved for automatic backend selection")

        def decorate(klass: type) -> type:
            if not callable(getattr(klass, "profile", None)):
                raise ConfigurationError(f"backend {name!r} must define profile(data)")
            with cls._lock:
                cls._backends[key] = klass
            return klass

        return decorate(backend) if backend is not None else decorate

    @classmethod
    def unregister(cls, name: str) -> None:
        with cls._lock:
            cls._backends.pop(str(name).strip().lower(), None)

    @classmethod
    def list(cls) -> list[str]:
        """Registered backend names, built-in ones first."""
        cls._discover()
        with cls._lock:
            return list(cls._backends)

    @classmethod
    def get(cls, name: str) -> type:
        key = str(getattr(name, "value", name)).strip().lower()
        cls._discover()
        with cls._lock:
            klass = cls._backends.get(key)
        if klass is None:
            raise ConfigurationError(
                f"unknown backend {str(getattr(name, 'value', name))!r}; registered backends: "
                + ", ".join(cls.list())
                + " (or auto)"
            )
        return klass

    @classmethod
    def create(cls, name: str, config: Any = None, **options: Any) -> Any:
        """An instance of backend ``name``. ``config`` and keyword options (``num_workers``,
        ``use_processes``, ``partition_strategy``) are passed to the backends that take them."""
        klass = cls.get(name)
        params: Mapping[str, inspect.Parameter]
        try:
            params = inspect.signature(klass).parameters
        except (TypeError, ValueError):
            params = {}
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        kwargs = {k: v for k, v in options.items() if v is not None and (takes_any or k in params)}
        if config is not None:
            if "config" in params or takes_any:
                kwargs["config"] = config
            else:
                raise ConfigurationError(f"backend {name!r} takes no config")
        return klass(**kwargs)
