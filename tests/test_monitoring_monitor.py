"""DistributedMonitor driven through its RunObserver methods in the order a driver calls them:
retries replace rows, stale attempts are ignored, statistics, events, raising callbacks."""

from __future__ import annotations

import logging
import math

import pytest

from truthound.profiler.distributed.observer import RunObserver
from truthound.profiler.distributed.monitoring import (
    DistributedMonitor,
    EventSeverity,
    MonitorCallbackAdapter,
    MonitorConfig,
    MonitorEvent,
    MonitorEventType,
    TaskState,
)

E = MonitorEventType


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_is_a_run_observer() -> None:
    assert isinstance(DistributedMonitor(), RunObserver)


def test_a_run_with_a_retry_counts_rows_once() -> None:
    clock = FakeClock()
    events: list[MonitorEvent] = []
    monitor = DistributedMonitor(MonitorConfig(), callbacks=[events.append], clock=clock)
    monitor.run_started(backend="local", num_workers=2, num_partitions=2, total_rows=2000)
    monitor.partition_submitted(0, 0, total_rows=1000, description="rows 0..999")
    monitor.partition_submitted(1, 0, total_rows=1000, description="rows 1000..1999")
    monitor.partition_started(0, 0, worker="t0")
    monitor.partition_started(1, 0, worker="t1")
    clock.advance(1)
    monitor.partition_progress(0, 0, rows_processed=600, total_rows=1000)
    monitor.partition_progress(1, 0, rows_processed=700, total_rows=1000)
    assert monitor.get_statistics()["rows_processed"] == 1300
    clock.advance(1)
    monitor.partition_failed(1, 0, error="MemoryError", will_retry=True)
    assert monitor.get_statistics()["rows_processed"] == 600  # the failed attempt's rows are gone
    monitor.partition_submitted(1, 1, total_rows=1000, description="rows 1000..1999")
    monitor.partition_started(1, 1, worker="t1")
    monitor.partition_progress(1, 0, rows_processed=999, total_rows=1000)  # late, stale: ignored
    assert monitor.get_statistics()["rows_processed"] == 600
    clock.advance(1)
    monitor.partition_completed(0, 0, rows=1000, duration_seconds=3.0, payload_bytes=500)
    monitor.partition_progress(1, 1, rows_processed=400, total_rows=1000)
    clock.advance(1)
    monitor.partition_completed(1, 1, rows=1000, duration_seconds=2.0, payload_bytes=500)
    monitor.merge_completed(partitions=2, duration_seconds=0.25)
    clock.advance(1)
    monitor.run_finished(success=True, duration_seconds=5.0, rows=2000)

    stats = monitor.get_statistics()
    assert stats["rows_processed"] == 2000
    assert stats["tasks_completed"] == 2
    assert stats["tasks_failed"] == 1
    assert stats["tasks_retried"] == 1
    assert stats["success_rate"] == pytest.approx(2 / 3)
    assert stats["avg_task_duration"] == pytest.approx(2.5)  # the workers' own measures
    assert stats["duration_seconds"] == pytest.approx(5.0)
    assert stats["rows_per_second"] == pytest.approx(400.0)
    assert stats["partitions_completed"] == 2 and stats["percent"] == 100.0
    assert stats["workers"] == 2
    assert stats["internal_errors"] == 0 and stats["callback_errors"] == 0

    kinds = [e.event_type for e in events]
    assert kinds[0] is E.MONITOR_START and kinds[-1] is E.MONITOR_STOP
    for kind in (E.TASK_SUBMITTED, E.TASK_STARTED, E.PARTITION_START, E.TASK_PROGRESS,
                 E.PROGRESS_UPDATE, E.PROGRESS_MILESTONE, E.PARTITION_COMPLETE, E.TASK_COMPLETED,
                 E.PARTITION_ERROR, E.TASK_RETRYING, E.AGGREGATION_COMPLETE,
                 E.WORKER_REGISTERED):
        assert kind in kinds, kind
    milestones = [e.data["milestone"] for e in events if e.event_type is E.PROGRESS_MILESTONE]
    assert milestones == sorted(set(milestones)) and milestones[-1] == 100
    error = next(e for e in events if e.event_type is E.PARTITION_ERROR)
    assert error.severity is EventSeverity.WARNING and error.data["will_retry"] is True
    stop = events[-1]
    assert stop.data["success"] is True and stop.data["rows_processed"] == 2000

    task = monitor.task_tracker.get_history()[-1]
    assert task.partition_id == 1 and task.attempt == 1 and task.state is TaskState.COMPLETED
    assert task.rows_processed == 1000 and task.retry_count == 1
    assert task.metadata["description"] == "rows 1000..1999"


def test_final_failure() -> None:
    events: list[MonitorEvent] = []
    monitor = DistributedMonitor(callbacks=[events.append], clock=FakeClock())
    monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=None)
    monitor.partition_submitted(0, 0, total_rows=None, description="file a.csv")
    monitor.partition_started(0, 0, worker="t0")
    monitor.partition_failed(0, 0, error="SourceReadError: bad gzip", will_retry=False)
    monitor.run_finished(success=False, duration_seconds=1.0, rows=0)
    stats = monitor.get_statistics()
    assert stats["tasks_failed"] == 1 and stats["success_rate"] == 0.0
    assert stats["partitions_failed"] == 1
    failed = [e for e in events if e.event_type is E.TASK_FAILED]
    assert len(failed) == 1 and "bad gzip" in failed[0].message
    assert failed[0].severity is EventSeverity.ERROR
    assert events[-1].event_type is E.MONITOR_STOP and events[-1].severity is EventSeverity.ERROR
    assert "FAILED" in events[-1].message


def test_reports_without_submit_and_repeated_reports() -> None:
    monitor = DistributedMonitor(clock=FakeClock())
    monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=10)
    monitor.partition_started(0, 0, worker="t0")  # no partition_submitted: tracked anyway
    monitor.partition_started(0, 0, worker="t0")  # repeated: no second start
    monitor.partition_completed(0, 0, rows=10, duration_seconds=0.1, payload_bytes=1)
    monitor.partition_completed(0, 0, rows=10, duration_seconds=0.1, payload_bytes=1)  # repeated
    monitor.run_finished(success=True, duration_seconds=0.2, rows=10)
    stats = monitor.get_statistics()
    assert stats["tasks_completed"] == 1 and stats["rows_processed"] == 10


def test_the_monitor_is_reusable_across_runs() -> None:
    clock = FakeClock()
    monitor = DistributedMonitor(clock=clock)
    for run in range(2):
        monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=5)
        monitor.partition_submitted(0, 0, total_rows=5, description="")
        monitor.partition_started(0, 0, worker="t0")
        clock.advance(1)
        monitor.partition_completed(0, 0, rows=5, duration_seconds=1.0, payload_bytes=1)
        monitor.run_finished(success=True, duration_seconds=1.0, rows=5)
        assert not monitor.is_running
    stats = monitor.get_statistics()
    assert stats["rows_processed"] == 5  # of the last run
    assert stats["tasks_completed"] == 2  # tasks accumulate


class Raising(MonitorCallbackAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def on_event(self, event: MonitorEvent) -> None:
        self.calls += 1
        raise RuntimeError("callback bug")


def test_a_raising_callback_never_breaks_the_run_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raising = Raising()
    seen: list[MonitorEvent] = []
    monitor = DistributedMonitor(callbacks=[raising, seen.append], clock=FakeClock())
    with caplog.at_level(logging.ERROR, logger="truthound.monitor"):
        monitor.run_started(backend="local", num_workers=1, num_partitions=2, total_rows=None)
        for p in range(2):
            monitor.partition_submitted(p, 0, total_rows=None, description="")
            monitor.partition_started(p, 0, worker="t0")
            monitor.partition_completed(p, 0, rows=1, duration_seconds=0.1, payload_bytes=1)
        monitor.run_finished(success=True, duration_seconds=0.2, rows=2)
    assert raising.calls > 5
    assert len(seen) == raising.calls  # the next callback got every event
    logged = [r for r in caplog.records if "callback bug" in (r.exc_text or "")
              or "Raising" in r.getMessage()]
    assert len(logged) == 1
    assert monitor.get_statistics()["callback_errors"] == raising.calls


def test_disabled_monitoring_emits_nothing() -> None:
    seen: list[MonitorEvent] = []
    monitor = DistributedMonitor(MonitorConfig(enable_monitoring=False), callbacks=[seen.append])
    monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=1)
    monitor.partition_started(0, 0, worker="t0")
    monitor.partition_completed(0, 0, rows=1, duration_seconds=0.1, payload_bytes=1)
    monitor.run_finished(success=True, duration_seconds=0.1, rows=1)
    assert seen == []
    assert monitor.health_monitor is None and monitor.metrics_collector is None


def test_minimal_preset_has_no_health_or_metrics() -> None:
    monitor = DistributedMonitor(MonitorConfig.minimal(), clock=FakeClock())
    monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=1)
    monitor.partition_started(0, 0, worker="t0")
    monitor.partition_completed(0, 0, rows=1, duration_seconds=0.5, payload_bytes=1)
    monitor.run_finished(success=True, duration_seconds=0.5, rows=1)
    stats = monitor.get_statistics()
    assert stats["tasks_completed"] == 1 and "workers" not in stats
    assert math.isclose(stats["avg_task_duration"], 0.5)


def test_task_timeouts_become_failed_events() -> None:
    clock = FakeClock()
    events: list[MonitorEvent] = []
    config = MonitorConfig()
    config.task_tracker.timeout_seconds = 10
    monitor = DistributedMonitor(config, callbacks=[events.append], clock=clock)
    monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=1)
    monitor.partition_started(0, 0, worker="t0")
    clock.advance(11)
    monitor.tick()
    timed_out = [e for e in events if e.event_type is E.TASK_FAILED]
    assert len(timed_out) == 1 and timed_out[0].data["timed_out"] is True
    assert monitor.get_statistics()["tasks_timed_out"] == 1
    monitor.close()


def test_reports_from_many_threads_with_callbacks_reading_back() -> None:
    """Four threads report partitions at once while a callback reads the monitor's statistics
    (engine calls release the GIL before taking the engine's locks): no deadlock, exact sums."""
    import threading

    reads: list[int] = []
    monitor: DistributedMonitor

    def reader(event: MonitorEvent) -> None:
        if event.event_type is E.PARTITION_COMPLETE:
            reads.append(monitor.get_statistics()["rows_processed"])

    monitor = DistributedMonitor(MonitorConfig(), callbacks=[reader])
    threads_n, per_thread, rows = 4, 25, 1000
    monitor.run_started(backend="local", num_workers=threads_n,
                        num_partitions=threads_n * per_thread, total_rows=None)

    def work(t: int) -> None:
        for i in range(per_thread):
            p = t * per_thread + i
            monitor.partition_submitted(p, 0, total_rows=rows, description="")
            monitor.partition_started(p, 0, worker=f"t{t}")
            for done in range(100, rows, 100):
                monitor.partition_progress(p, 0, rows_processed=done, total_rows=rows)
            monitor.partition_completed(p, 0, rows=rows, duration_seconds=0.01, payload_bytes=1)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
        assert not th.is_alive()
    monitor.run_finished(success=True, duration_seconds=1.0, rows=threads_n * per_thread * rows)
    stats = monitor.get_statistics()
    assert stats["rows_processed"] == threads_n * per_thread * rows
    assert stats["tasks_completed"] == threads_n * per_thread
    assert stats["internal_errors"] == 0 and stats["callback_errors"] == 0
    assert len(reads) == threads_n * per_thread and max(reads) == stats["rows_processed"]
