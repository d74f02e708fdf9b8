"""Monitoring of distributed profiling runs (DESIGN.md §6).

:class:`DistributedMonitor` watches a run: pass it as ``monitor=`` to
``DistributedProfiler.create`` (or ``profile``). The driver reports each partition attempt; the
monitor tracks tasks (:class:`TaskTracker`), aggregates progress
(:class:`DistributedProgressAggregator`), judges worker health (:class:`WorkerHealthMonitor`),
collects metrics (:class:`DistributedMetricsCollector`, Prometheus text and ``/metrics``) and
sends :class:`MonitorEvent` s to callbacks (console, tqdm, logging, files, webhooks). The numbers
live in the C++ engine (thread-safe); these classes are typed shells over it.

>>> from truthound.profiler.distributed.monitoring import MonitorFactory
>>> monitor = MonitorFactory.minimal()
>>> monitor.get_statistics()["tasks_completed"]
0
"""

from __future__ import annotations

from truthound.profiler.distributed.monitoring.callbacks import (
    AsyncMonitorCallback,
    CallbackChain,
    ConsoleMonitorCallback,
    FileMonitorCallback,
    FunctionCallback,
    LoggingMonitorCallback,
    MonitorCallbackAdapter,
    ProgressBarCallback,
)
from truthound.profiler.distributed.monitoring.config import (
    CallbackConfig,
    HealthCheckConfig,
    MetricsConfig,
    MonitorConfig,
    TaskTrackerConfig,
)
from truthound.profiler.distributed.monitoring.events import (
    EventSeverity,
    MonitorEvent,
    MonitorEventType,
)
from truthound.profiler.distributed.monitoring.factory import MonitorFactory, MonitorRegistry
from truthound.profiler.distributed.monitoring.health import (
    HealthStatus,
    WorkerHealth,
    WorkerHealthMonitor,
)
from truthound.profiler.distributed.monitoring.metrics import (
    DistributedMetrics,
    DistributedMetricsCollector,
    DurationStats,
)
from truthound.profiler.distributed.monitoring.monitor import DistributedMonitor
from truthound.profiler.distributed.monitoring.progress import (
    AggregatedProgress,
    DistributedProgressAggregator,
    PartitionProgressInfo,
    StreamingProgressAggregator,
)
from truthound.profiler.distributed.monitoring.tasks import TaskInfo, TaskState, TaskTracker
from truthound.profiler.distributed.monitoring.webhook import WebhookMonitorCallback

__all__ = [
    "AggregatedProgress",
    "AsyncMonitorCallback",
    "CallbackChain",
    "CallbackConfig",
    "ConsoleMonitorCallback",
    "DistributedMetrics",
    "DistributedMetricsCollector",
    "DistributedMonitor",
    "DistributedProgressAggregator",
    "DurationStats",
    "EventSeverity",
    "FileMonitorCallback",
    "FunctionCallback",
    "HealthCheckConfig",
    "HealthStatus",
    "LoggingMonitorCallback",
    "MetricsConfig",
    "MonitorCallbackAdapter",
    "MonitorConfig",
    "MonitorEvent",
    "MonitorEventType",
    "MonitorFactory",
    "MonitorRegistry",
    "PartitionProgressInfo",
    "ProgressBarCallback",
    "StreamingProgressAggregator",
    "TaskInfo",
    "TaskState",
    "TaskTracker",
    "TaskTrackerConfig",
    "WebhookMonitorCallback",
    "WorkerHealth",
    "WorkerHealthMonitor",
]
