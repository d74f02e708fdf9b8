"""``DistributedMonitor``: watches a run (it is a :class:`RunObserver`) and turns what the driver
reports into task tracking, progress, worker health, metrics and events for its callbacks."""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from truthound.profiler.distributed.monitoring._util import Clock
from truthound.profiler.distributed.monitoring.callbacks import (
    AsyncMonitorCallback,
    ConsoleMonitorCallback,
    FileMonitorCallback,
    LoggingMonitorCallback,
    MonitorCallbackAdapter,
    ProgressBarCallback,
    as_callback,
)
from truthound.profiler.distributed.monitoring.config import MonitorConfig
from truthound.profiler.distributed.monitoring.dispatch import EventDispatcher
from truthound.profiler.distributed.monitoring.events import (
    EventSeverity,
    MonitorEvent,
    MonitorEventType,
)
from truthound.profiler.distributed.monitoring.health import (
    HealthStatus,
    WorkerHealth,
    WorkerHealthMonitor,
)
from truthound.profiler.distributed.monitoring.metrics import DistributedMetricsCollector
from truthound.profiler.distributed.monitoring.progress import (
    AggregatedProgress,
    DistributedProgressAggregator,
)
from truthound.profiler.distributed.monitoring.tasks import TaskTracker
from truthound.profiler.distributed.monitoring.webhook import WebhookMonitorCallback

__all__ = ["DistributedMonitor"]

_log = logging.getLogger("truthound.monitor")

TASK_TYPE = "profile_partition"
CallbackLike = MonitorCallbackAdapter | Callable[[MonitorEvent], object]
F = TypeVar("F", bound=Callable[..., None])


def _observer(method: F) -> F:
    """A RunObserver method: a no-op when monitoring is off, and never raises into the driver
    (a report the monitor cannot place is logged once and counted in ``internal_errors``)."""

    @functools.wraps(method)
    def guarded(self: DistributedMonitor, *args: Any, **kwargs: Any) -> None:
        if not self.config.enable_monitoring:
            return
        try:
            method(self, *args, **kwargs)
        except Exception:  # noqa: BLE001 - monitoring never breaks a profile
            self._internal_errors += 1
            if self._internal_errors == 1:
                _log.exception("monitor: %s%s could not be recorded (later such errors are "
                               "counted, not logged)", method.__name__, args)

    return cast(F, guarded)


@dataclass
class _Partition:
    """The task that tracks a partition in this run, its current attempt and worker."""

    task_id: int
    attempt: int
    worker: str | None = None
    started: bool = False
    finished: bool = False


class DistributedMonitor:
    """Observability for distributed profiling runs.

    Pass it as ``monitor=`` to ``DistributedProfiler.create`` or ``profile``: the driver calls
    its :class:`~truthound.profiler.distributed.observer.RunObserver` methods, keyed by
    (partition, attempt); a retried attempt replaces the earlier one's rows, so rows and tasks
    never count twice. It feeds a :class:`TaskTracker`, a :class:`DistributedProgressAggregator`,
    a :class:`WorkerHealthMonitor` and a :class:`DistributedMetricsCollector` (each None when
    its ``enable_*`` option is off; their numbers live in the C++ engine) and sends
    :class:`MonitorEvent` s to its callbacks: those of ``config.callbacks`` and ``callbacks``.

    A callback that raises never breaks the run (its first error is logged). The monitor starts
    with the run (or :meth:`start`), emitting MONITOR_START, and stops at its end (or
    :meth:`stop`), emitting MONITOR_STOP; :meth:`close` also closes the callbacks. While
    started, a background thread re-judges worker health, times out tasks and refreshes the
    gauges; with ``metrics.enable_prometheus`` it serves ``/metrics`` (127.0.0.1 by default).
    """

    def __init__(
        self,
        config: MonitorConfig | None = None,
        callbacks: Sequence[CallbackLike] | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = config = config or MonitorConfig()
        self._clock = clock
        self._dispatcher = EventDispatcher()
        self._built_callbacks = self._callbacks_from_config()
        for cb in self._built_callbacks:
            self._dispatcher.add(cb)
        for given in callbacks or ():
            self._dispatcher.add(as_callback(given))
        on = config.enable_monitoring
        emit = self._dispatcher.emit
        self.task_tracker = TaskTracker(
            config.task_tracker, on_event=emit if on and config.enable_task_tracking else None,
            clock=clock)
        self.progress_aggregator: DistributedProgressAggregator | None = (
            DistributedProgressAggregator(
                on_event=emit, update_interval_seconds=config.callbacks.progress_interval_seconds,
                clock=clock)
            if on and config.enable_progress_aggregation else None
        )
        self.health_monitor: WorkerHealthMonitor | None = (
            WorkerHealthMonitor(config.health_check, on_event=emit, clock=clock)
            if on and config.enable_health_monitoring else None
        )
        self.metrics_collector: DistributedMetricsCollector | None = (
            DistributedMetricsCollector(config.metrics)
            if on and config.enable_metrics_collection and config.metrics.enable_metrics else None
        )
        self._lock = threading.RLock()
        self._partitions: dict[int, _Partition] = {}
        self._running = False
        self._auto_started = False
        self._run_started_at: float | None = None
        self._run_ended_at: float | None = None
        self._backend: str | None = None
        self._num_workers: int | None = None
        self._total_rows: int | None = None
        self._run_result: tuple[bool, float, int] | None = None
        self._internal_errors = 0
        self._stop_ticker = threading.Event()
        self._ticker: threading.Thread | None = None
        self._adapters: list[Any] = []

    # ------------------------------------------------------------------ callbacks

    def _callbacks_from_config(self) -> list[MonitorCallbackAdapter]:
        c = self.config.callbacks
        out: list[MonitorCallbackAdapter] = []
        if c.enable_console:
            out.append(ConsoleMonitorCallback(show_progress=c.console_show_progress,
                                              use_colors=c.console_use_colors))
        if c.enable_progress_bar:
            out.append(ProgressBarCallback())
        if c.enable_logging:
            out.append(LoggingMonitorCallback(c.logger_name, self.config.log_level_number))
        if c.log_path:
            out.append(FileMonitorCallback(c.log_path, c.file_format))
        if c.webhook_url:
            out.append(WebhookMonitorCallback(c.webhook_url, c.webhook_headers,
                                              min_severity=c.webhook_min_severity))
        if c.async_callbacks:
            out = [cb if isinstance(cb, (WebhookMonitorCallback, AsyncMonitorCallback))
                   else AsyncMonitorCallback(cb, c.buffer_size) for cb in out]
        return out

    @property
    def callbacks(self) -> list[MonitorCallbackAdapter]:
        return [h for h in self._dispatcher.handlers if isinstance(h, MonitorCallbackAdapter)]

    def add_callback(self, callback: CallbackLike) -> MonitorCallbackAdapter:
        cb = as_callback(callback)
        self._dispatcher.add(cb)
        return cb

    def remove_callback(self, callback: MonitorCallbackAdapter) -> None:
        self._dispatcher.remove(callback)

    def emit(self, event: MonitorEvent) -> None:
        """Send an event to every callback (errors isolated)."""
        if self.config.enable_monitoring:
            self._dispatcher.emit(event)

    def _event(self, kind: MonitorEventType, severity: EventSeverity, message: str,
               **data: Any) -> None:
        self.emit(MonitorEvent(kind, severity, message,
                               data={k: v for k, v in data.items() if v is not None}))

    # ------------------------------------------------------------------ lifecycle

    @property
    def is_running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Emit MONITOR_START, serve /metrics when configured, start the background checks and
        the attached adapters. Idempotent."""
        with self._lock:
            if self._running:
                return
            self._running = True
        if self.metrics_collector is not None and self.config.metrics.enable_prometheus:
            try:
                port = self.metrics_collector.start_server()
                _log.info("serving /metrics on http://%s:%d/metrics",
                          self.config.metrics.prometheus_host, port)
            except OSError as exc:  # a taken port never fails the profile
                _log.warning("cannot serve /metrics on %s:%d: %s",
                             self.config.metrics.prometheus_host,
                             self.config.metrics.prometheus_port, exc)
        self._event(MonitorEventType.MONITOR_START, EventSeverity.INFO, "monitoring started",
                    **self._run_data())
        if self.config.enable_monitoring:
            self._stop_ticker.clear()
            self._ticker = threading.Thread(target=self._tick_loop, name="truthound-monitor",
                                            daemon=True)
            self._ticker.start()
        for adapter in list(self._adapters):
            adapter.start(self)

    def stop(self) -> None:
        """Final checks, MONITOR_STOP with the statistics, stop /metrics, the background thread
        and adapters, flush callbacks. Idempotent; statistics stay readable."""
        with self._lock:
            if not self._running:
                return
            self._running = False
            self._auto_started = False
            ticker, self._ticker = self._ticker, None
        self._stop_ticker.set()
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join()
        for adapter in list(self._adapters):
            adapter.stop()
        self.tick()
        stats = self.get_statistics()
        with self._lock:
            result = self._run_result
        failed = result is not None and not result[0]
        how = "" if result is None else ("run finished, " if result[0] else "run FAILED, ")
        self._event(MonitorEventType.MONITOR_STOP,
                    EventSeverity.ERROR if failed else EventSeverity.INFO,
                    f"monitoring stopped: {how}{stats['tasks_completed']} tasks completed, "
                    f"{stats['tasks_failed']} failed, {stats['rows_processed']:,} rows in "
                    f"{stats['duration_seconds']:.2f} s",
                    success=None if result is None else result[0], **stats)
        if self.metrics_collector is not None:
            self.metrics_collector.stop_server()
        self._dispatcher.call_each("flush")

    def close(self) -> None:
        """:meth:`stop`, then close every callback (files, webhook threads)."""
        self.stop()
        self._dispatcher.call_each("close")

    def __enter__(self) -> DistributedMonitor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def attach_adapter(self, adapter: Any) -> None:
        """A backend adapter (:mod:`.adapters`) feeding worker health while the monitor runs."""
        self._adapters.append(adapter)
        if self._running:
            adapter.start(self)

    def tick(self) -> None:
        """One round of the background checks: task timeouts, worker health, gauges."""
        if not self.config.enable_monitoring:
            return
        self.task_tracker.check_timeouts()
        if self.health_monitor is not None:
            self.health_monitor.check_health()
        self._refresh_gauges()

    def _tick_loop(self) -> None:
        interval = min(self.config.health_check.check_interval_seconds,
                       self.config.metrics.collection_interval_seconds)
        while not self._stop_ticker.wait(interval):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - monitoring never takes the run down
                _log.exception("monitor background check failed")

    def _refresh_gauges(self) -> None:
        m = self.metrics_collector
        if m is None:
            return
        if self.progress_aggregator is not None:
            p = self.progress_aggregator.get_progress()
            m.set_gauge("progress_ratio", p.fraction)
            m.set_gauge("partitions_planned", p.total_partitions)
            m.set_gauge("partitions_completed", p.completed_partitions)
            m.set_gauge("rows_per_second", p.rows_per_second)
            eta = p.estimated_remaining_seconds
            m.set_gauge("estimated_remaining_seconds", eta if not math.isnan(eta) else math.nan)
        if self.health_monitor is not None:
            workers = self.health_monitor.get_all_workers()
            for status in HealthStatus:
                m.set_gauge(f"workers_{status.value}",
                            sum(1 for w in workers if w.status is status))

    # ------------------------------------------------------------------ RunObserver

    @_observer
    def run_started(
        self, *, backend: str, num_workers: int, num_partitions: int, total_rows: int | None
    ) -> None:
        with self._lock:
            self._partitions.clear()
            self._backend = backend
            self._num_workers = num_workers
            self._total_rows = total_rows
            self._run_started_at = self._clock()
            self._run_ended_at = None
            self._run_result = None
            auto = not self._running
        if self.progress_aggregator is not None:
            self.progress_aggregator.reset()
            self.progress_aggregator.set_total_partitions(num_partitions)
            self.progress_aggregator.start()
        if auto:
            self.start()
            with self._lock:
                self._auto_started = True
        progress = (self.progress_aggregator.get_progress().to_dict()
                    if self.progress_aggregator is not None else {})
        self._event(MonitorEventType.PROGRESS_UPDATE, EventSeverity.DEBUG,
                    f"run started on {backend}: {num_partitions} partitions, {num_workers} workers",
                    **{**progress, "backend": backend, "num_workers": num_workers,
                       "num_partitions": num_partitions, "total_partitions": num_partitions})

    @_observer
    def partition_submitted(
        self, partition: int, attempt: int, *, total_rows: int | None, description: str
    ) -> None:
        with self._lock:
            known = self._partitions.get(partition)
            if known is not None and attempt <= known.attempt:
                return  # a repeated or stale report
            if known is not None and not known.finished:
                self.task_tracker.restart_task(known.task_id, attempt)
                known.attempt, known.worker, known.started = attempt, None, False
                return
        task_id = self.task_tracker.submit_task(
            TASK_TYPE, partition,
            {"description": description, "total_rows": total_rows}, attempt=attempt)
        with self._lock:
            self._partitions[partition] = _Partition(task_id, attempt)
        if self.metrics_collector is not None:
            self.metrics_collector.increment_counter("tasks_submitted")

    def _current(self, partition: int, attempt: int) -> _Partition | None:
        """The partition's task when ``attempt`` is its current one (submitting it if the driver
        skipped partition_submitted); None for a stale attempt."""
        with self._lock:
            known = self._partitions.get(partition)
        if known is None or attempt > known.attempt:
            self.partition_submitted(partition, attempt, total_rows=None, description="")
        with self._lock:
            known = self._partitions.get(partition)
            if known is None or known.attempt != attempt:
                return None
            return known

    @_observer
    def partition_started(self, partition: int, attempt: int, *, worker: str) -> None:
        p = self._current(partition, attempt)
        if p is None or p.finished or p.started:
            return
        p.worker, p.started = worker, True
        self.task_tracker.start_task(p.task_id, worker)
        info = self.task_tracker.get_task(p.task_id)
        total = info.metadata.get("total_rows") if info else None
        if self.health_monitor is not None:
            self.health_monitor.record_task_start(worker)
        if self.progress_aggregator is not None:
            self.progress_aggregator.start_partition(partition, total, attempt=attempt)

    @_observer
    def partition_progress(
        self, partition: int, attempt: int, *, rows_processed: int, total_rows: int | None
    ) -> None:
        p = self._current(partition, attempt)
        if p is None or p.finished:
            return
        progress = None
        if total_rows:
            progress = min(rows_processed / total_rows, 1.0)
        self.task_tracker.update_progress(p.task_id, progress, rows_processed)
        if self.health_monitor is not None and p.worker:
            self.health_monitor.record_task_progress(p.worker)
        if self.progress_aggregator is not None:
            self.progress_aggregator.update_partition(
                partition, None, rows_processed, total_rows=total_rows, attempt=attempt)
        if self.metrics_collector is not None and progress is not None:
            self.metrics_collector.record_partition_progress(partition, progress)

    @_observer
    def partition_completed(
        self, partition: int, attempt: int, *, rows: int, duration_seconds: float, payload_bytes: int
    ) -> None:
        p = self._current(partition, attempt)
        if p is None or p.finished:
            return
        p.finished = True
        # PARTITION_COMPLETE, then TASK_COMPLETED: the task ends with its partition's report
        if self.progress_aggregator is not None:
            self.progress_aggregator.complete_partition(partition, rows, attempt=attempt)
        self.task_tracker.complete_task(p.task_id, {"payload_bytes": payload_bytes},
                                        rows_processed=rows, duration_seconds=duration_seconds)
        if self.health_monitor is not None and p.worker:
            self.health_monitor.record_task_complete(p.worker, duration_seconds, True)
        m = self.metrics_collector
        if m is not None:
            m.record_task_duration(TASK_TYPE, max(0.0, duration_seconds))
            m.record_partition_progress(partition, 1.0)
            m.increment_counter("tasks_completed")
            m.increment_counter("rows_processed", rows)
            m.increment_counter("payload_bytes", payload_bytes)

    @_observer
    def partition_failed(self, partition: int, attempt: int, *, error: str, will_retry: bool) -> None:
        p = self._current(partition, attempt)
        if p is None or p.finished:
            return
        if self.progress_aggregator is not None:
            self.progress_aggregator.fail_partition(partition, error, attempt=attempt,
                                                    will_retry=will_retry)
        if will_retry:
            # the executor decided: recorded whatever max_retries says; the next attempt is
            # attempt + 1 and replaces this one's rows
            self.task_tracker.retry_task(p.task_id, error, force=True)
            p.attempt, p.started = attempt + 1, False
        else:
            p.finished = True
            self.task_tracker.fail_task(p.task_id, error)
        if self.health_monitor is not None and p.worker:
            self.health_monitor.record_task_complete(p.worker, 0.0, False)
        m = self.metrics_collector
        if m is not None:
            m.increment_counter("tasks_failed")
            if will_retry:
                m.increment_counter("tasks_retried")

    @_observer
    def merge_completed(self, *, partitions: int, duration_seconds: float) -> None:
        if self.metrics_collector is not None:
            self.metrics_collector.record_task_duration("merge", max(0.0, duration_seconds))
        self._event(MonitorEventType.AGGREGATION_COMPLETE, EventSeverity.INFO,
                    f"merged {partitions} partial profiles in {duration_seconds:.2f} s",
                    partitions=partitions, duration_seconds=duration_seconds)

    @_observer
    def run_finished(self, *, success: bool, duration_seconds: float, rows: int) -> None:
        with self._lock:
            self._run_ended_at = self._clock()
            self._run_result = (success, duration_seconds, rows)
            auto = self._auto_started
        if auto:
            self.stop()
        else:
            self.tick()

    # ------------------------------------------------------------------ queries

    def get_progress(self) -> AggregatedProgress | None:
        return None if self.progress_aggregator is None else self.progress_aggregator.get_progress()

    def get_worker_health(self) -> list[WorkerHealth]:
        return [] if self.health_monitor is None else self.health_monitor.get_all_workers()

    def get_statistics(self) -> dict[str, Any]:
        """Counts and rates of the run(s) watched: tasks submitted/completed/failed/retried
        (failed counts failed attempts, retried ones too), ``success_rate`` (completed attempts
        over finished attempts), ``avg_task_duration`` (seconds, the workers' own measure),
        ``rows_processed`` (rows of completed partitions plus the current attempt of running
        ones: a retry never counts twice), ``rows_per_second`` (rows over the run's duration),
        ``duration_seconds`` (run start to end, or to now), partitions, workers, events and
        callback errors and drops."""
        t = self.task_tracker.get_statistics()
        with self._lock:
            start, end = self._run_started_at, self._run_ended_at
        duration = 0.0 if start is None else max(0.0, (end if end is not None else self._clock()) - start)
        progress = self.get_progress()
        rows = progress.rows_processed if progress is not None else int(
            t["rows_completed"]) + int(t["rows_in_flight"])
        stats: dict[str, Any] = {
            "tasks_submitted": t["tasks_submitted"],
            "tasks_completed": t["tasks_completed"],
            "tasks_failed": t["tasks_failed"],
            "tasks_retried": t["tasks_retried"],
            "tasks_timed_out": t["tasks_timed_out"],
            "tasks_running": t["tasks_running"],
            "avg_task_duration": t["avg_task_duration"],
            "success_rate": t["success_rate"],
            "rows_processed": rows,
            "rows_per_second": rows / duration if duration > 0 else 0.0,
            "duration_seconds": duration,
            "backend": self._backend,
        }
        if progress is not None:
            stats.update(partitions_total=progress.total_partitions,
                         partitions_completed=progress.completed_partitions,
                         partitions_failed=progress.failed_partitions,
                         percent=progress.percent)
        if self.health_monitor is not None:
            workers = self.health_monitor.get_all_workers()
            stats.update(workers=len(workers),
                         unhealthy_workers=sum(1 for w in workers
                                               if w.status.rank >= HealthStatus.UNHEALTHY.rank),
                         overall_health=self.health_monitor.get_overall_health().value)
        if self.metrics_collector is not None:
            stats["task_duration_p99"] = self.metrics_collector.get_metrics().task_duration_p99
            stats["metrics_port"] = self.metrics_collector.server_port
        stats.update(internal_errors=self._internal_errors,
                     events_emitted=self._dispatcher.events,
                     callback_errors=self._dispatcher.errors + sum(
                         getattr(c, "errors", 0) for c in self.callbacks),
                     events_dropped=sum(getattr(c, "dropped_events", 0) for c in self.callbacks))
        return stats

    def _run_data(self) -> dict[str, Any]:
        return {
            "backend": self._backend,
            "num_workers": self._num_workers,
            "num_partitions": (self.progress_aggregator.get_progress().total_partitions
                               if self.progress_aggregator is not None else None),
        }
