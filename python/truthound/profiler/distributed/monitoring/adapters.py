"""Backend adapters: read an executor's own view of its workers (processes, threads, cluster
nodes) into worker health, as heartbeats with CPU and memory.

:class:`LocalMonitorAdapter` works today (Linux ``/proc``; elsewhere heartbeats carry no CPU or
memory). :class:`DaskMonitorAdapter` (:mod:`.dask_adapter`) reads the Dask scheduler's
``scheduler_info()``; :class:`SparkMonitorAdapter` (:mod:`.spark_adapter`) polls Spark's
``StatusTracker`` (executors into heartbeats, the run's job group's stages into task counts);
:class:`RayMonitorAdapter` (:mod:`.ray_adapter`) reads Ray's nodes and resources and the Ray
backend's task counts. None imports its engine until it is used.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from truthound.profiler.distributed.monitoring.monitor import DistributedMonitor

__all__ = [
    "BaseMonitorAdapter",
    "DaskMonitorAdapter",
    "LocalMonitorAdapter",
    "RayMonitorAdapter",
    "SparkMonitorAdapter",
    "WorkerSnapshot",
]

_log = logging.getLogger("truthound.monitor")


@dataclass(frozen=True)
class WorkerSnapshot:
    """One worker as its executor sees it now (None: not measured)."""

    worker_id: str
    cpu_percent: float | None = None
    memory_percent: float | None = None
    memory_bytes: int | None = None
    active_tasks: int | None = None
    pid: int | None = None


class BaseMonitorAdapter:
    """Polls ``get_workers()`` every ``poll_interval_seconds`` on a daemon thread while attached
    to a running :class:`DistributedMonitor` (``monitor.attach_adapter(adapter)``), recording a
    heartbeat per worker and its CPU/memory as worker metrics."""

    def __init__(self, poll_interval_seconds: float = 1.0) -> None:
        if not poll_interval_seconds > 0:
            raise ValueError(f"poll_interval_seconds must be > 0, got {poll_interval_seconds!r}")
        self.poll_interval_seconds = poll_interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def connect(self) -> None:
        """Check that the backend can be watched."""

    def disconnect(self) -> None:
        self.stop()

    def get_workers(self) -> list[WorkerSnapshot]:
        raise NotImplementedError

    def get_metrics(self) -> dict[str, float]:
        """Totals over the workers."""
        return self._totals(self.get_workers())

    @staticmethod
    def _totals(workers: list[WorkerSnapshot]) -> dict[str, float]:
        """Workers, mean CPU and total memory of ``workers`` (what every adapter reports)."""
        cpu = [w.cpu_percent for w in workers if w.cpu_percent is not None]
        mem = [w.memory_bytes for w in workers if w.memory_bytes is not None]
        out: dict[str, float] = {"workers": float(len(workers))}
        if cpu:
            out["cpu_percent_mean"] = sum(cpu) / len(cpu)
        if mem:
            out["memory_bytes_total"] = float(sum(mem))
        return out

    def poll(self, monitor: DistributedMonitor) -> list[WorkerSnapshot]:
        """One round: a heartbeat per worker into ``monitor``."""
        workers = self.get_workers()
        for w in self._live(workers, monitor):
            if monitor.health_monitor is not None:
                monitor.health_monitor.record_heartbeat(
                    w.worker_id, cpu_percent=w.cpu_percent, memory_percent=w.memory_percent,
                    active_tasks=w.active_tasks)
            m = monitor.metrics_collector
            if m is not None:
                for name in ("cpu_percent", "memory_percent", "memory_bytes", "active_tasks"):
                    value = getattr(w, name)
                    if value is not None:
                        m.record_worker_metric(w.worker_id, name, value)
        return workers

    def _live(self, workers: list[WorkerSnapshot], monitor: DistributedMonitor) -> list[WorkerSnapshot]:
        """The workers that get a heartbeat this round (all of them unless an adapter knows
        when a worker was last heard from)."""
        return workers

    def start(self, monitor: DistributedMonitor) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self.connect()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(monitor,),
                                            name=f"truthound-{type(self).__name__}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self, monitor: DistributedMonitor) -> None:
        logged = False
        while True:
            try:
                self.poll(monitor)
            except Exception:  # noqa: BLE001 - a failed poll never takes the run down
                if not logged:
                    logged = True
                    _log.exception("%s: polling failed (later failures are not logged)",
                                   type(self).__name__)
            if self._stop.wait(self.poll_interval_seconds):
                return


# --------------------------------------------------------------------------- local


class _ProcStat:
    """CPU time and memory of processes and threads from Linux /proc (None elsewhere)."""

    def __init__(self) -> None:
        self.available = os.path.isfile("/proc/self/stat")
        self.ticks = os.sysconf("SC_CLK_TCK") if self.available else 100
        self.page = os.sysconf("SC_PAGE_SIZE") if self.available else 4096
        self.mem_total = self._mem_total()

    def _mem_total(self) -> int | None:
        try:
            with open("/proc/meminfo", encoding="ascii") as f:
                for line in f:
                    if line.startswith("MemTotal:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def cpu_seconds(self, path: str) -> float | None:
        """utime + stime of /proc/<pid>[/task/<tid>]/stat, in seconds."""
        try:
            with open(f"{path}/stat", encoding="ascii", errors="replace") as f:
                text = f.read()
        except OSError:
            return None
        fields = text[text.rfind(")") + 2:].split()  # after "(comm)": the comm may hold spaces
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def rss_bytes(self, pid: int) -> int | None:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                return int(f.read().split()[1]) * self.page
        except (OSError, ValueError, IndexError):
            return None


class LocalMonitorAdapter(BaseMonitorAdapter):
    """Worker health from the local pool, polled every ``poll_interval_seconds``.

    ``executor``: a ``ProcessPoolExecutor`` (workers ``pid-<pid>``: each process's CPU and its
    resident memory as a share of the machine's), a ``ThreadPoolExecutor`` (workers named as
    their threads: each thread's CPU, this process's memory) or None: the threads of this
    process whose name starts with ``thread_name_prefix`` (the local backend names its threads
    ``truthound-local-<i>``). CPU percent is measured between two polls (100 = one core busy);
    the first poll of a worker has none. Reads ``/proc``: on other systems heartbeats carry no
    CPU or memory. A process pool's worker list is its private ``_processes`` table (the stdlib
    offers no public one).
    """

    def __init__(
        self,
        executor: Executor | None = None,
        poll_interval_seconds: float = 1.0,
        *,
        thread_name_prefix: str = "truthound-local",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(poll_interval_seconds)
        self.executor = executor
        self.thread_name_prefix = thread_name_prefix
        self._clock = clock
        self._proc = _ProcStat()
        self._last: dict[str, tuple[float, float]] = {}  # worker → (wall, cpu seconds)

    def _cpu_percent(self, worker: str, cpu: float | None) -> float | None:
        if cpu is None:
            return None
        now = self._clock()
        before = self._last.get(worker)
        self._last[worker] = (now, cpu)
        if before is None or now <= before[0]:
            return None
        return max(0.0, (cpu - before[1]) / (now - before[0]) * 100.0)

    def _memory_percent(self, rss: int | None) -> float | None:
        if rss is None or not self._proc.mem_total:
            return None
        return rss / self._proc.mem_total * 100.0

    def get_workers(self) -> list[WorkerSnapshot]:
        if isinstance(self.executor, ProcessPoolExecutor):
            processes: dict[int, Any] = dict(getattr(self.executor, "_processes", None) or {})
            out = []
            for pid in sorted(processes):
                worker = f"pid-{pid}"
                rss = self._proc.rss_bytes(pid) if self._proc.available else None
                cpu = self._proc.cpu_seconds(f"/proc/{pid}") if self._proc.available else None
                out.append(WorkerSnapshot(worker, self._cpu_percent(worker, cpu),
                                          self._memory_percent(rss), rss, pid=pid))
            return out
        if isinstance(self.executor, ThreadPoolExecutor):
            threads = list(getattr(self.executor, "_threads", None) or ())
        elif self.executor is None:
            threads = [t for t in threading.enumerate()
                       if t.name.startswith(self.thread_name_prefix)]
        else:
            raise TypeError(f"LocalMonitorAdapter watches a ThreadPoolExecutor or a "
                            f"ProcessPoolExecutor, got {type(self.executor).__name__}")
        pid = os.getpid()
        rss = self._proc.rss_bytes(pid) if self._proc.available else None
        out = []
        for t in sorted(threads, key=lambda t: t.name):
            if not t.is_alive():
                continue
            tid = t.native_id
            cpu = (self._proc.cpu_seconds(f"/proc/{pid}/task/{tid}")
                   if self._proc.available and tid is not None else None)
            out.append(WorkerSnapshot(t.name, self._cpu_percent(t.name, cpu),
                                      self._memory_percent(rss), rss, pid=pid))
        return out


# --------------------------------------------------------------------------- clusters


# Re-exported at the end: each subclasses BaseMonitorAdapter and imports its engine only when used.
from truthound.profiler.distributed.monitoring.dask_adapter import DaskMonitorAdapter  # noqa: E402
from truthound.profiler.distributed.monitoring.ray_adapter import RayMonitorAdapter  # noqa: E402
from truthound.profiler.distributed.monitoring.spark_adapter import SparkMonitorAdapter  # noqa: E402
