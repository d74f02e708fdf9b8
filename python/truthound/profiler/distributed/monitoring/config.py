"""Monitoring configuration: one dataclass per component and :class:`MonitorConfig` with its
presets (``minimal()``, ``standard()``, ``full()``, ``production()``)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from truthound.errors import ConfigurationError
from truthound.profiler.distributed.monitoring.events import EventSeverity

__all__ = [
    "CallbackConfig",
    "HealthCheckConfig",
    "MetricsConfig",
    "MonitorConfig",
    "TaskTrackerConfig",
]


def _check(ok: bool, option: str, message: str) -> None:
    if not ok:
        raise ConfigurationError(f"option {option!r} {message}")


def _positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        _check(isinstance(value, (int, float)) and not isinstance(value, bool)
               and math.isfinite(value) and value > 0, f"{owner}.{name}",
               f"must be a number > 0, got {value!r}")


@dataclass
class TaskTrackerConfig:
    """Task tracking: ``max_history_size`` finished tasks kept, a running task older than
    ``timeout_seconds`` is timed out, ``retry_task`` refuses after ``max_retries`` retries."""

    max_history_size: int = 1000
    timeout_seconds: float = 3600
    max_retries: int = 3
    enable_progress_tracking: bool = True

    def __post_init__(self) -> None:
        _check(isinstance(self.max_history_size, int) and self.max_history_size >= 0,
               "TaskTrackerConfig.max_history_size", f"must be an int >= 0, got {self.max_history_size!r}")
        _check(isinstance(self.max_retries, int) and self.max_retries >= 0,
               "TaskTrackerConfig.max_retries", f"must be an int >= 0, got {self.max_retries!r}")
        _positive("TaskTrackerConfig", timeout_seconds=self.timeout_seconds)


@dataclass
class HealthCheckConfig:
    """Worker health thresholds (the rules are in :class:`WorkerHealthMonitor`).

    Beyond the spec's seven: the error rate is taken over the last ``error_window`` task results
    and judged from ``error_rate_min_tasks`` results on; a worker whose mean task duration is more
    than ``slow_task_factor`` times the other workers' median is DEGRADED (0 turns this off); the
    monitor re-judges workers every ``check_interval_seconds``."""

    heartbeat_timeout_seconds: float = 30
    stall_threshold_seconds: float = 60
    memory_warning_percent: float = 80
    memory_critical_percent: float = 95
    cpu_warning_percent: float = 90
    error_rate_warning: float = 0.1
    error_rate_critical: float = 0.25
    error_window: int = 20
    error_rate_min_tasks: int = 3
    slow_task_factor: float = 3.0
    check_interval_seconds: float = 5.0

    def __post_init__(self) -> None:
        _positive("HealthCheckConfig", heartbeat_timeout_seconds=self.heartbeat_timeout_seconds,
                  stall_threshold_seconds=self.stall_threshold_seconds,
                  check_interval_seconds=self.check_interval_seconds)
        _check(self.memory_warning_percent <= self.memory_critical_percent,
               "HealthCheckConfig.memory_warning_percent", "must be <= memory_critical_percent")
        _check(0 <= self.error_rate_warning <= self.error_rate_critical <= 1,
               "HealthCheckConfig.error_rate_warning",
               "and error_rate_critical must satisfy 0 <= warning <= critical <= 1")
        _check(isinstance(self.error_window, int) and self.error_window >= 1,
               "HealthCheckConfig.error_window", f"must be an int >= 1, got {self.error_window!r}")
        _check(self.slow_task_factor >= 0, "HealthCheckConfig.slow_task_factor", "must be >= 0")


@dataclass
class MetricsConfig:
    """Metrics: task durations with ``percentiles`` (exact over the last ``max_samples`` of each
    series), counters and gauges, refreshed every ``collection_interval_seconds`` while a run
    lasts; with ``enable_prometheus`` an HTTP ``/metrics`` on ``prometheus_host`` (127.0.0.1: only
    this machine) and ``prometheus_port`` (0: any free port). Exported names start with
    ``prefix`` and carry ``labels`` (e.g. ``{"backend": "local"}``)."""

    enable_metrics: bool = True
    collection_interval_seconds: float = 5.0
    enable_percentiles: bool = True
    percentiles: list[float] = field(default_factory=lambda: [0.5, 0.75, 0.9, 0.95, 0.99])
    enable_prometheus: bool = False
    prometheus_port: int = 9090
    prometheus_host: str = "127.0.0.1"
    max_samples: int = 10000
    prefix: str = "truthound"
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _positive("MetricsConfig", collection_interval_seconds=self.collection_interval_seconds)
        for q in self.percentiles:
            _check(0.0 <= q <= 1.0, "MetricsConfig.percentiles",
                   f"must hold quantiles in [0, 1] (0.99, not 99), got {q!r}")
        _check(isinstance(self.prometheus_port, int) and 0 <= self.prometheus_port <= 65535,
               "MetricsConfig.prometheus_port", f"must be a port 0..65535, got {self.prometheus_port!r}")
        _check(isinstance(self.max_samples, int) and self.max_samples >= 0,
               "MetricsConfig.max_samples", f"must be an int >= 0, got {self.max_samples!r}")


@dataclass
class CallbackConfig:
    """Callbacks the monitor builds itself (more can be passed to it): a console printer, a tqdm
    bar, a logger (at :attr:`MonitorConfig.log_level`), a JSON-lines file at ``log_path``, a
    webhook at ``webhook_url`` for events of ``webhook_min_severity`` and above. Progress updates
    reach callbacks at most every ``progress_interval_seconds``; with ``async_callbacks`` each
    callback runs on its own thread behind a buffer of ``buffer_size`` events."""

    enable_console: bool = False
    console_show_progress: bool = True
    console_use_colors: bool = True
    enable_progress_bar: bool = False
    enable_logging: bool = False
    logger_name: str = "truthound.monitor"
    log_path: str | None = None
    file_format: str = "jsonl"
    webhook_url: str | None = None
    webhook_headers: dict[str, str] = field(default_factory=dict)
    webhook_min_severity: EventSeverity = EventSeverity.WARNING
    progress_interval_seconds: float = 1.0
    async_callbacks: bool = False
    buffer_size: int = 1000

    def __post_init__(self) -> None:
        _check(self.file_format in ("jsonl", "json"), "CallbackConfig.file_format",
               f"must be 'jsonl' or 'json', got {self.file_format!r}")
        _check(self.progress_interval_seconds >= 0, "CallbackConfig.progress_interval_seconds",
               "must be >= 0")
        _check(isinstance(self.buffer_size, int) and self.buffer_size >= 1,
               "CallbackConfig.buffer_size", f"must be an int >= 1, got {self.buffer_size!r}")
        self.webhook_min_severity = EventSeverity.parse(self.webhook_min_severity)


@dataclass
class MonitorConfig:
    """Everything a :class:`DistributedMonitor` does. ``MonitorConfig()`` is ``standard()``."""

    enable_monitoring: bool = True
    enable_task_tracking: bool = True
    enable_progress_aggregation: bool = True
    enable_health_monitoring: bool = True
    enable_metrics_collection: bool = True
    task_tracker: TaskTrackerConfig = field(default_factory=TaskTrackerConfig)
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    callbacks: CallbackConfig = field(default_factory=CallbackConfig)
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        level = logging.getLevelName(str(self.log_level).upper())
        _check(isinstance(level, int), "MonitorConfig.log_level",
               f"must be a logging level name (DEBUG, INFO, WARNING, ERROR), got {self.log_level!r}")
        self.log_level = str(self.log_level).upper()

    @property
    def log_level_number(self) -> int:
        level = logging.getLevelName(self.log_level)
        return level if isinstance(level, int) else logging.INFO

    @classmethod
    def minimal(cls) -> MonitorConfig:
        """Basic tracking only: tasks (a short history) and progress; no health, no metrics, no
        callbacks of its own."""
        return cls(
            enable_health_monitoring=False,
            enable_metrics_collection=False,
            task_tracker=TaskTrackerConfig(max_history_size=100, enable_progress_tracking=False),
            metrics=MetricsConfig(enable_metrics=False),
            log_level="WARNING",
        )

    @classmethod
    def standard(cls) -> MonitorConfig:
        """Tasks, progress, worker health and metrics, no output of its own (the default)."""
        return cls()

    @classmethod
    def full(cls) -> MonitorConfig:
        """Everything: every percentile, a long history, frequent checks, a logger at DEBUG and
        ``/metrics`` on 127.0.0.1:9090."""
        return cls(
            task_tracker=TaskTrackerConfig(max_history_size=10000),
            health_check=HealthCheckConfig(check_interval_seconds=1.0),
            metrics=MetricsConfig(
                collection_interval_seconds=1.0,
                percentiles=[0.5, 0.75, 0.9, 0.95, 0.99, 0.999],
                enable_prometheus=True,
                max_samples=100000,
            ),
            callbacks=CallbackConfig(enable_logging=True, progress_interval_seconds=0.5),
            log_level="DEBUG",
        )

    @classmethod
    def production(cls) -> MonitorConfig:
        """Low overhead, alerts that matter: health and metrics on, callbacks on their own
        threads, progress at most every 10 s, a logger at INFO, patient thresholds (a task may
        run 6 h, a worker may be silent 60 s and idle 5 min)."""
        return cls(
            task_tracker=TaskTrackerConfig(max_history_size=1000, timeout_seconds=6 * 3600),
            health_check=HealthCheckConfig(
                heartbeat_timeout_seconds=60, stall_threshold_seconds=300, check_interval_seconds=10
            ),
            metrics=MetricsConfig(
                collection_interval_seconds=15.0, percentiles=[0.5, 0.9, 0.99]
            ),
            callbacks=CallbackConfig(
                enable_logging=True, progress_interval_seconds=10.0, async_callbacks=True
            ),
            log_level="INFO",
        )
