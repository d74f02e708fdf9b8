"""Monitoring events: what happened (:class:`MonitorEventType`), how much it matters
(:class:`EventSeverity`, ordered like logging levels) and the :class:`MonitorEvent` itself."""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

__all__ = ["EventSeverity", "MonitorEvent", "MonitorEventType"]


class MonitorEventType(str, Enum):
    """Every kind of monitoring event."""

    # task lifecycle
    TASK_SUBMITTED = "task_submitted"
    TASK_STARTED = "task_started"
    TASK_PROGRESS = "task_progress"
    TASK_COMPLETED = "task_completed"
    TASK_FAILED = "task_failed"
    TASK_RETRYING = "task_retrying"
    # partitions
    PARTITION_START = "partition_start"
    PARTITION_COMPLETE = "partition_complete"
    PARTITION_ERROR = "partition_error"
    # progress
    PROGRESS_UPDATE = "progress_update"
    PROGRESS_MILESTONE = "progress_milestone"
    AGGREGATION_COMPLETE = "aggregation_complete"
    # workers
    WORKER_REGISTERED = "worker_registered"
    WORKER_UNREGISTERED = "worker_unregistered"
    WORKER_HEALTHY = "worker_healthy"
    WORKER_UNHEALTHY = "worker_unhealthy"
    WORKER_STALLED = "worker_stalled"
    WORKER_RECOVERED = "worker_recovered"
    # the monitor
    MONITOR_START = "monitor_start"
    MONITOR_STOP = "monitor_stop"


class EventSeverity(IntEnum):
    """How much an event matters; ordered (``severity >= EventSeverity.WARNING``) and equal to the
    :mod:`logging` level of the same name."""

    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40
    CRITICAL = 50

    @classmethod
    def parse(cls, value: EventSeverity | str | int) -> EventSeverity:
        """A severity from itself, its name (any case) or its level number."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                names = ", ".join(s.name.lower() for s in cls)
                raise ValueError(f"unknown severity {value!r}; one of {names}") from None
        return cls(value)


@dataclass(frozen=True)
class MonitorEvent:
    """One event: its type, severity, a one-line message for people, when it happened (seconds
    since the epoch) and its data (partition, attempt, worker, rows, ...)."""

    event_type: MonitorEventType
    severity: EventSeverity = EventSeverity.INFO
    message: str = ""
    timestamp: float = field(default_factory=time.time)
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> MonitorEventType:
        """The event type (an alias of ``event_type``)."""
        return self.event_type

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the timestamp as ISO 8601 text in UTC, and as seconds)."""
        when = _dt.datetime.fromtimestamp(self.timestamp, tz=_dt.timezone.utc)
        return {
            "event_type": self.event_type.value,
            "severity": self.severity.name.lower(),
            "message": self.message,
            "timestamp": when.isoformat(timespec="milliseconds"),
            "unix_time": self.timestamp,
            "data": dict(self.data),
        }
