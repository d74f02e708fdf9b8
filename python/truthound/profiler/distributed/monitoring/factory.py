"""Ready-made monitors (:class:`MonitorFactory`) and a registry of named callbacks and presets
(:class:`MonitorRegistry`), used by ``th profile --monitor NAME``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from truthound.errors import ConfigurationError
from truthound.profiler.distributed.monitoring.callbacks import (
    ConsoleMonitorCallback,
    FileMonitorCallback,
    LoggingMonitorCallback,
    MonitorCallbackAdapter,
    ProgressBarCallback,
)
from truthound.profiler.distributed.monitoring.config import MonitorConfig
from truthound.profiler.distributed.monitoring.events import EventSeverity
from truthound.profiler.distributed.monitoring.monitor import DistributedMonitor
from truthound.profiler.distributed.monitoring.webhook import WebhookMonitorCallback

__all__ = ["MonitorFactory", "MonitorRegistry"]

C = TypeVar("C", bound=type[MonitorCallbackAdapter])
P = TypeVar("P", bound=Callable[..., DistributedMonitor])


class MonitorFactory:
    """Monitors for common needs.

    >>> monitor = MonitorFactory.minimal()
    >>> monitor.health_monitor is None
    True
    """

    @staticmethod
    def minimal() -> DistributedMonitor:
        """Basic tracking only: tasks and progress, no output."""
        return DistributedMonitor(MonitorConfig.minimal())

    @staticmethod
    def standard() -> DistributedMonitor:
        """Tasks, progress, health and metrics, no output."""
        return DistributedMonitor(MonitorConfig.standard())

    @staticmethod
    def full() -> DistributedMonitor:
        return DistributedMonitor(MonitorConfig.full())

    @staticmethod
    def with_console(
        show_progress: bool = True,
        use_colors: bool = True,
        *,
        show_events: bool = True,
        config: MonitorConfig | None = None,
    ) -> DistributedMonitor:
        """Standard monitoring printed on stderr (colors on a terminal unless NO_COLOR)."""
        return DistributedMonitor(config or MonitorConfig.standard(), callbacks=[
            ConsoleMonitorCallback(show_progress=show_progress, show_events=show_events,
                                   use_colors=use_colors)])

    @staticmethod
    def with_logging(
        logger_name: str = "truthound.monitor",
        log_level: int | str = logging.INFO,
        *,
        config: MonitorConfig | None = None,
    ) -> DistributedMonitor:
        """Standard monitoring on a logger."""
        return DistributedMonitor(config or MonitorConfig.standard(), callbacks=[
            LoggingMonitorCallback(logger_name=logger_name, log_level=log_level)])

    @staticmethod
    def production(
        log_path: str | None = None,
        webhook_url: str | None = None,
        *,
        webhook_headers: Mapping[str, str] | None = None,
        webhook_min_severity: EventSeverity | str = EventSeverity.WARNING,
        metrics_port: int | None = None,
        logger_name: str = "truthound.monitor",
    ) -> DistributedMonitor:
        """``MonitorConfig.production()`` with a JSON-lines log at ``log_path``, a webhook for
        WARNING and worse at ``webhook_url`` and ``/metrics`` on 127.0.0.1:``metrics_port``
        (each when given)."""
        config = MonitorConfig.production()
        config.callbacks.logger_name = logger_name
        config.callbacks.log_path = log_path
        config.callbacks.webhook_url = webhook_url
        config.callbacks.webhook_headers = dict(webhook_headers or {})
        config.callbacks.webhook_min_severity = EventSeverity.parse(webhook_min_severity)
        if metrics_port is not None:
            config.metrics.enable_prometheus = True
            config.metrics.prometheus_port = metrics_port
        return DistributedMonitor(config)


class MonitorRegistry:
    """Callbacks and monitor presets by name (case-insensitive); thread-safe.

    Built in: callbacks ``console``, ``progress_bar``, ``logging``, ``file``, ``webhook``;
    presets ``minimal``, ``standard``, ``full``, ``console``, ``logging``, ``production``.
    """

    _callbacks: dict[str, type[MonitorCallbackAdapter]] = {}
    _presets: dict[str, Callable[..., DistributedMonitor]] = {}
    _lock = threading.Lock()

    @staticmethod
    def _key(name: str) -> str:
        key = name.strip().lower()
        if not key:
            raise ConfigurationError("a monitor registry name must not be empty")
        return key

    @classmethod
    def register_callback(cls, name: str) -> Callable[[C], C]:
        """Class decorator: register a :class:`MonitorCallbackAdapter` subclass as ``name``."""
        key = cls._key(name)

        def decorate(klass: C) -> C:
            if not (isinstance(klass, type) and issubclass(klass, MonitorCallbackAdapter)):
                raise ConfigurationError(
                    f"callback {name!r} must be a MonitorCallbackAdapter subclass")
            with cls._lock:
                cls._callbacks[key] = klass
            return klass

        return decorate

    @classmethod
    def register_preset(cls, name: str) -> Callable[[P], P]:
        """Function decorator: register ``fn(**kwargs) -> DistributedMonitor`` as ``name``."""
        key = cls._key(name)

        def decorate(fn: P) -> P:
            if not callable(fn):
                raise ConfigurationError(f"preset {name!r} must be callable")
            with cls._lock:
                cls._presets[key] = fn
            return fn

        return decorate

    @classmethod
    def create_callback(cls, name: str, **kwargs: Any) -> MonitorCallbackAdapter:
        with cls._lock:
            klass = cls._callbacks.get(cls._key(name))
            known = sorted(cls._callbacks)
        if klass is None:
            raise ConfigurationError(
                f"unknown monitor callback {name!r}; registered: {', '.join(known)}")
        return klass(**kwargs)

    @classmethod
    def create_monitor(cls, name: str, **kwargs: Any) -> DistributedMonitor:
        with cls._lock:
            preset = cls._presets.get(cls._key(name))
            known = sorted(cls._presets)
        if preset is None:
            raise ConfigurationError(
                f"unknown monitor preset {name!r}; registered: {', '.join(known)}")
        monitor = preset(**kwargs)
        if not isinstance(monitor, DistributedMonitor):
            raise ConfigurationError(
                f"monitor preset {name!r} returned {type(monitor).__name__}, not a "
                "DistributedMonitor")
        return monitor

    @classmethod
    def list_callbacks(cls) -> list[str]:
        with cls._lock:
            return sorted(cls._callbacks)

    @classmethod
    def list_presets(cls) -> list[str]:
        with cls._lock:
            return sorted(cls._presets)


for _name, _klass in (("console", ConsoleMonitorCallback), ("progress_bar", ProgressBarCallback),
                      ("logging", LoggingMonitorCallback), ("file", FileMonitorCallback),
                      ("webhook", WebhookMonitorCallback)):
    MonitorRegistry.register_callback(_name)(_klass)
for _name, _preset in (("minimal", MonitorFactory.minimal), ("standard", MonitorFactory.standard),
                       ("full", MonitorFactory.full), ("console", MonitorFactory.with_console),
                       ("logging", MonitorFactory.with_logging),
                       ("production", MonitorFactory.production)):
    MonitorRegistry.register_preset(_name)(_preset)
