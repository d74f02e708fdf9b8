"""Worker health: heartbeats and task results judged by the engine's rules (see
:class:`WorkerHealthMonitor`), with events when a worker's status changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from truthound import _core
from truthound.profiler.distributed.monitoring._util import Clock, maybe_time
from truthound.profiler.distributed.monitoring.config import HealthCheckConfig
from truthound.profiler.distributed.monitoring.events import (
    EventSeverity,
    MonitorEvent,
    MonitorEventType,
)

__all__ = ["HealthStatus", "WorkerHealth", "WorkerHealthMonitor"]


class HealthStatus(str, Enum):
    """A worker's health, from best to worst (``rank`` orders them)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {HealthStatus.HEALTHY: 0, HealthStatus.DEGRADED: 1, HealthStatus.UNHEALTHY: 2,
         HealthStatus.CRITICAL: 3}


@dataclass(frozen=True)
class WorkerHealth:
    """A worker as last judged. ``reason`` says why it is not healthy; cpu and memory are None
    until a heartbeat reports them; times are on the monitor's monotonic clock."""

    worker_id: str
    status: HealthStatus
    reason: str
    stalled: bool
    cpu_percent: float | None
    memory_percent: float | None
    active_tasks: int
    tasks_completed: int
    tasks_failed: int
    error_rate: float
    avg_task_duration_seconds: float
    last_heartbeat: float | None
    last_activity: float | None

    @property
    def is_healthy(self) -> bool:
        return self.status is HealthStatus.HEALTHY

    def to_dict(self) -> dict[str, Any]:
        return {
            "worker": self.worker_id, "status": self.status.value, "reason": self.reason,
            "stalled": self.stalled, "cpu_percent": self.cpu_percent,
            "memory_percent": self.memory_percent, "active_tasks": self.active_tasks,
            "tasks_completed": self.tasks_completed, "tasks_failed": self.tasks_failed,
            "error_rate": self.error_rate,
        }


class WorkerHealthMonitor:
    """Tracks worker health; thread-safe. The rules, worst wins:

    - CRITICAL: memory >= ``memory_critical_percent``, or error rate >= ``error_rate_critical``;
    - UNHEALTHY: stalled (tasks active, no task start, progress or result for
      ``stall_threshold_seconds``), or silent (it sent heartbeats, the last one is older than
      ``heartbeat_timeout_seconds``);
    - DEGRADED: memory >= ``memory_warning_percent``, cpu >= ``cpu_warning_percent``, error rate >=
      ``error_rate_warning``, or slow (mean task duration > ``slow_task_factor`` x the median of
      the other workers' means);
    - HEALTHY otherwise.

    The error rate is over the last ``error_window`` results, from ``error_rate_min_tasks`` on.
    Workers are judged again at each heartbeat and task result and by :meth:`check_health`
    (call it periodically; :class:`DistributedMonitor` does). Changes become events:
    WORKER_UNHEALTHY (worse), WORKER_STALLED, WORKER_RECOVERED (back to healthy from unhealthy,
    critical or stalled), WORKER_HEALTHY (back from degraded). ``clock`` is injectable.
    """

    def __init__(
        self,
        config: HealthCheckConfig | None = None,
        on_event: Callable[[MonitorEvent], None] | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = c = config or HealthCheckConfig()
        self._on_event = on_event
        self._clock = clock
        self._engine = _core.MonitorHealth(
            float(c.heartbeat_timeout_seconds), float(c.stall_threshold_seconds),
            float(c.memory_warning_percent), float(c.memory_critical_percent),
            float(c.cpu_warning_percent), float(c.error_rate_warning),
            float(c.error_rate_critical), c.error_window, c.error_rate_min_tasks,
            float(c.slow_task_factor),
        )

    # ------------------------------------------------------------------ reports

    def register_worker(self, worker_id: str) -> bool:
        """False when the worker was known already."""
        new = self._engine.register_worker(worker_id, self._clock())
        if new:
            self._event(MonitorEventType.WORKER_REGISTERED, EventSeverity.INFO,
                        f"worker {worker_id} registered", worker=worker_id)
        return new

    def unregister_worker(self, worker_id: str) -> bool:
        gone = self._engine.unregister_worker(worker_id)
        if gone:
            self._event(MonitorEventType.WORKER_UNREGISTERED, EventSeverity.INFO,
                        f"worker {worker_id} unregistered", worker=worker_id)
        return gone

    def record_heartbeat(
        self,
        worker_id: str,
        cpu_percent: float | None = None,
        memory_percent: float | None = None,
        active_tasks: int | None = None,
    ) -> None:
        """A sign of life with what the worker measured (None: not measured)."""
        self._ensure(worker_id)
        self._engine.heartbeat(worker_id, -1.0 if cpu_percent is None else float(cpu_percent),
                               -1.0 if memory_percent is None else float(memory_percent),
                               -1 if active_tasks is None else active_tasks, self._clock())
        self.check_health()

    def record_task_start(self, worker_id: str) -> None:
        self._ensure(worker_id)
        self._engine.task_started(worker_id, self._clock())

    def record_task_progress(self, worker_id: str) -> None:
        self._ensure(worker_id)
        self._engine.task_progress(worker_id, self._clock())

    def record_task_complete(
        self, worker_id: str, duration_seconds: float, success: bool = True
    ) -> None:
        """A task result (success or failure) and how long it took."""
        self._ensure(worker_id)
        self._engine.task_finished(worker_id, float(duration_seconds), success, self._clock())
        self.check_health()

    # ------------------------------------------------------------------ judgement

    def check_health(self) -> list[WorkerHealth]:
        """Judge every worker now; emits an event per change and returns the changed workers."""
        changed: list[WorkerHealth] = []
        for t in self._engine.evaluate(self._clock()):
            self._transition(t)
            if self._engine.contains(t.worker_id):
                changed.append(_health(self._engine.get(t.worker_id)))
        return changed

    def get_worker_health(self, worker_id: str) -> WorkerHealth:
        """The worker judged now; KeyError when it is unknown."""
        self.check_health()
        if not self._engine.contains(worker_id):
            raise KeyError(f"unknown worker {worker_id!r}")
        return _health(self._engine.get(worker_id))

    def get_all_workers(self) -> list[WorkerHealth]:
        self.check_health()
        return [_health(r) for r in self._engine.workers()]

    def get_overall_health(self) -> HealthStatus:
        """The worst status among the workers (HEALTHY when there are none)."""
        self.check_health()
        return HealthStatus(self._engine.overall())

    def get_unhealthy_workers(self) -> list[WorkerHealth]:
        """Workers now UNHEALTHY or CRITICAL."""
        return [w for w in self.get_all_workers() if w.status.rank >= HealthStatus.UNHEALTHY.rank]

    def check_stalled_workers(self) -> list[str]:
        """Ids of the workers now stalled."""
        return [w.worker_id for w in self.get_all_workers() if w.stalled]

    # ------------------------------------------------------------------ helpers

    def _ensure(self, worker_id: str) -> None:
        if not self._engine.contains(worker_id):
            self.register_worker(worker_id)

    def _transition(self, t: _core.MonitorHealthTransition) -> None:
        to, before = HealthStatus(t.to_status), HealthStatus(t.from_status)
        data = {"worker": t.worker_id, "from_status": before.value, "status": to.value,
                "reason": t.reason}
        if t.stalled:
            self._event(MonitorEventType.WORKER_STALLED, EventSeverity.WARNING,
                        f"worker {t.worker_id} stalled: {t.reason}", **data)
        elif t.recovered:
            self._event(MonitorEventType.WORKER_RECOVERED, EventSeverity.INFO,
                        f"worker {t.worker_id} recovered (was {before.value})", **data)
        elif to.rank > before.rank:
            severity = EventSeverity.CRITICAL if to is HealthStatus.CRITICAL else EventSeverity.WARNING
            self._event(MonitorEventType.WORKER_UNHEALTHY, severity,
                        f"worker {t.worker_id} {to.value}: {t.reason}", **data)
        elif to is HealthStatus.HEALTHY:
            self._event(MonitorEventType.WORKER_HEALTHY, EventSeverity.INFO,
                        f"worker {t.worker_id} healthy again (was {before.value})", **data)
        elif to.rank < before.rank:  # better, not yet healthy
            self._event(MonitorEventType.WORKER_UNHEALTHY, EventSeverity.INFO,
                        f"worker {t.worker_id} {to.value} (was {before.value}): {t.reason}", **data)

    def _event(self, kind: MonitorEventType, severity: EventSeverity, message: str,
               **data: Any) -> None:
        if self._on_event is not None:
            self._on_event(MonitorEvent(kind, severity, message, data=data))


def _health(r: _core.MonitorWorkerRecord) -> WorkerHealth:
    return WorkerHealth(
        worker_id=r.worker_id, status=HealthStatus(r.status), reason=r.reason, stalled=r.stalled,
        cpu_percent=maybe_time(r.cpu_percent), memory_percent=maybe_time(r.memory_percent),
        active_tasks=r.active_tasks, tasks_completed=r.tasks_completed,
        tasks_failed=r.tasks_failed, error_rate=r.error_rate,
        avg_task_duration_seconds=r.avg_task_seconds,
        last_heartbeat=maybe_time(r.last_heartbeat), last_activity=maybe_time(r.last_activity),
    )
