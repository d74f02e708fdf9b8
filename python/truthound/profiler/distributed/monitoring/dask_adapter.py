"""Dask workers as the scheduler sees them (``client.scheduler_info()``), into worker health.

Each worker is named by its address (the name the Dask backend reports tasks under). A heartbeat
is recorded only for a worker the scheduler heard from within the health monitor's heartbeat
timeout (``last_seen``), so a silent worker turns unhealthy; memory is its share of the worker's
``memory_limit``; CPU is the scheduler's own measure. Dask is not imported by this module: the
adapter works on the client it is given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from truthound.errors import BackendNotAvailableError, one_line
from truthound.profiler.distributed.monitoring.adapters import BaseMonitorAdapter, WorkerSnapshot

if TYPE_CHECKING:
    from truthound.profiler.distributed.monitoring.monitor import DistributedMonitor

__all__ = ["DaskMonitorAdapter", "DaskTaskSnapshot", "DaskWorkerSnapshot"]


@dataclass(frozen=True)
class DaskWorkerSnapshot(WorkerSnapshot):
    """A Dask worker: the scheduler's view, with when it last heard from it and its tasks."""

    last_seen: float | None = None  # the scheduler's wall clock (time.time())
    memory_limit: int | None = None
    tasks_ready: int | None = None
    tasks_in_memory: int | None = None


@dataclass(frozen=True)
class DaskTaskSnapshot:
    """A task as the scheduler sees it now: its key, state (``processing``, ``memory``, ...), the
    worker running it and its attempt (1 + the workers that died while running it)."""

    key: str
    state: str
    worker: str | None
    attempt: int


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class DaskMonitorAdapter(BaseMonitorAdapter):
    """Worker health from a Dask scheduler, polled every ``poll_interval_seconds``.

    ``client``: a ``distributed.Client`` (default: the process's default client when
    :meth:`connect` runs).
    """

    def __init__(self, client: Any = None, poll_interval_seconds: float = 2.0) -> None:
        super().__init__(poll_interval_seconds)
        self.client = client

    def _client(self) -> Any:
        if self.client is None:
            from truthound.profiler.distributed.dask_backend import live_client

            self.client = live_client()
        if self.client is None:
            raise BackendNotAvailableError(
                "DaskMonitorAdapter has no client: pass client= or start a distributed.Client")
        return self.client

    def connect(self) -> None:
        """Check that the scheduler answers."""
        client = self._client()
        try:
            client.scheduler_info(n_workers=-1)
        except Exception as exc:  # noqa: BLE001 - any failure means it cannot be watched
            raise BackendNotAvailableError(
                f"DaskMonitorAdapter: the Dask scheduler does not answer: {one_line(exc)}") from exc

    def get_workers(self) -> list[WorkerSnapshot]:
        info = self._client().scheduler_info(n_workers=-1)
        out: list[WorkerSnapshot] = []
        for address, w in sorted(info.get("workers", {}).items()):
            metrics = w.get("metrics", {}) or {}
            memory = _number(metrics.get("memory"))
            limit = _number(w.get("memory_limit"))
            percent = memory / limit * 100.0 if memory is not None and limit else None
            counts = metrics.get("task_counts") or {}  # tasks of the worker by state
            executing = _number(counts.get("executing", 0))
            ready = _number(counts.get("ready", 0))
            in_memory = _number(counts.get("memory", 0))
            pid = _number(w.get("pid"))  # not every version reports it
            out.append(DaskWorkerSnapshot(
                worker_id=str(address), cpu_percent=_number(metrics.get("cpu")),
                memory_percent=percent, memory_bytes=int(memory) if memory is not None else None,
                active_tasks=int(executing) if executing is not None else None,
                pid=int(pid) if pid is not None else None,
                last_seen=_number(w.get("last_seen")),
                memory_limit=int(limit) if limit else None,
                tasks_ready=int(ready) if ready is not None else None,
                tasks_in_memory=int(in_memory) if in_memory is not None else None,
            ))
        return out

    def get_tasks(self, prefix: str = "truthound-") -> list[DaskTaskSnapshot]:
        """The scheduler's tasks whose key starts with ``prefix`` (the Dask backend names its
        tasks ``truthound-<run>-p<partition>-a<attempt>-c<chunk>``), by key."""

        def tasks(dask_scheduler: Any, prefix: str) -> list[tuple[str, str, str | None, int]]:
            # runs on the scheduler (pickled by value: the scheduler need not have truthound)
            out = []
            for key, ts in dask_scheduler.tasks.items():
                if isinstance(key, str) and key.startswith(prefix):
                    worker = ts.processing_on.address if ts.processing_on is not None else None
                    out.append((key, str(ts.state), worker, int(ts.suspicious) + 1))
            return out

        rows = self._client().run_on_scheduler(tasks, prefix=prefix)
        return [DaskTaskSnapshot(*row) for row in sorted(rows)]

    def get_metrics(self) -> dict[str, float]:
        """Totals over the workers: workers, CPU, memory against the limits, task counts."""
        workers = self.get_workers()
        out = self._totals(workers)
        limits = [w.memory_limit for w in workers
                  if isinstance(w, DaskWorkerSnapshot) and w.memory_limit]
        if limits:
            out["memory_limit_total"] = float(sum(limits))
        for name, field in (("tasks_executing", "active_tasks"), ("tasks_ready", "tasks_ready"),
                            ("tasks_in_memory", "tasks_in_memory")):
            values = [getattr(w, field) for w in workers if getattr(w, field, None) is not None]
            out[name] = float(sum(values))
        return out

    def _live(self, workers: list[WorkerSnapshot], monitor: DistributedMonitor) -> list[WorkerSnapshot]:
        """The workers the scheduler heard from within the heartbeat timeout: a dead worker the
        scheduler still lists gets no heartbeat, so health sees it go silent."""
        if monitor.health_monitor is None:
            return workers
        timeout = monitor.health_monitor.config.heartbeat_timeout_seconds
        now = time.time()
        return [w for w in workers
                if not isinstance(w, DaskWorkerSnapshot) or w.last_seen is None
                or now - w.last_seen <= timeout]
