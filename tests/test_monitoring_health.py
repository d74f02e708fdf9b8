"""WorkerHealthMonitor under injected slow, stalled and failing workers, time from a clock
argument (no sleeps); and the local adapter's heartbeats from real worker processes."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
import multiprocessing

import pytest

from truthound.profiler.distributed.monitoring import (
    DistributedMonitor,
    HealthCheckConfig,
    HealthStatus,
    MonitorConfig,
    MonitorEvent,
    MonitorEventType,
    WorkerHealthMonitor,
)
from truthound.profiler.distributed.monitoring.adapters import LocalMonitorAdapter

E = MonitorEventType


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make(**config: float) -> tuple[WorkerHealthMonitor, FakeClock, list[MonitorEvent]]:
    clock = FakeClock()
    events: list[MonitorEvent] = []
    return WorkerHealthMonitor(HealthCheckConfig(**config), events.append, clock=clock), clock, events


def kinds(events: list[MonitorEvent]) -> list[MonitorEventType]:
    return [e.event_type for e in events]


def test_slow_worker_is_degraded_then_healthy_again() -> None:
    health, clock, events = make()
    for worker in ("a", "b", "c"):
        for _ in range(4):
            health.record_task_start(worker)
            health.record_task_complete(worker, duration_seconds=1.0)
    for _ in range(2):
        health.record_task_start("slow")
        health.record_task_complete("slow", duration_seconds=10.0)
    h = health.get_worker_health("slow")
    assert h.status is HealthStatus.DEGRADED
    assert h.reason.startswith("slow: mean task 10.00 s, 10.0x")
    assert health.get_worker_health("a").status is HealthStatus.HEALTHY
    assert health.get_overall_health() is HealthStatus.DEGRADED
    unhealthy = [e for e in events if e.event_type is E.WORKER_UNHEALTHY]
    assert len(unhealthy) == 1 and unhealthy[0].severity.name == "WARNING"
    for _ in range(30):  # fast tasks bring the mean down below 3x
        health.record_task_start("slow")
        health.record_task_complete("slow", duration_seconds=0.5)
    assert health.get_worker_health("slow").status is HealthStatus.HEALTHY
    assert kinds(events)[-1] is E.WORKER_HEALTHY


def test_stalled_worker_and_its_recovery() -> None:
    health, clock, events = make(stall_threshold_seconds=60, heartbeat_timeout_seconds=30)
    health.register_worker("w")
    health.record_task_start("w")
    for _ in range(6):  # heartbeats keep coming, the task does not move
        clock.advance(10)
        health.record_heartbeat("w", cpu_percent=1, memory_percent=10, active_tasks=1)
    assert health.check_stalled_workers() == []  # exactly 60 s: not yet
    clock.advance(1)
    health.record_heartbeat("w", cpu_percent=1, memory_percent=10, active_tasks=1)
    assert health.check_stalled_workers() == ["w"]
    assert health.get_worker_health("w").status is HealthStatus.UNHEALTHY
    assert [w.worker_id for w in health.get_unhealthy_workers()] == ["w"]
    stalled = [e for e in events if e.event_type is E.WORKER_STALLED]
    assert len(stalled) == 1 and "no progress for 61.0 s" in stalled[0].message
    clock.advance(5)
    health.record_task_progress("w")
    assert health.check_stalled_workers() == []
    assert kinds(events)[-1] is E.WORKER_RECOVERED


def test_silent_worker_is_unhealthy_until_it_beats_again() -> None:
    health, clock, events = make(heartbeat_timeout_seconds=30)
    health.record_heartbeat("w", cpu_percent=20, memory_percent=20, active_tasks=0)
    clock.advance(31)
    assert health.get_worker_health("w").status is HealthStatus.UNHEALTHY
    assert "no heartbeat for 31.0 s" in health.get_worker_health("w").reason
    health.record_heartbeat("w", cpu_percent=20, memory_percent=20, active_tasks=0)
    assert health.get_worker_health("w").status is HealthStatus.HEALTHY
    assert kinds(events)[-2:] == [E.WORKER_UNHEALTHY, E.WORKER_RECOVERED]


def test_failing_worker_error_rates() -> None:
    health, clock, events = make(error_rate_warning=0.1, error_rate_critical=0.25)
    for _ in range(9):
        health.record_task_complete("w", 1.0, success=True)
    health.record_task_complete("w", 1.0, success=False)
    h = health.get_worker_health("w")
    assert h.status is HealthStatus.DEGRADED and h.error_rate == pytest.approx(0.1)
    for _ in range(3):
        health.record_task_complete("w", 1.0, success=False)
    h = health.get_worker_health("w")
    assert h.status is HealthStatus.CRITICAL and h.tasks_failed == 4
    critical = [e for e in events if e.event_type is E.WORKER_UNHEALTHY
                and e.data["status"] == "critical"]
    assert len(critical) == 1 and critical[0].severity.name == "CRITICAL"


def test_memory_and_cpu_thresholds() -> None:
    health, clock, _ = make()
    health.record_heartbeat("w", cpu_percent=95, memory_percent=10)
    assert health.get_worker_health("w").status is HealthStatus.DEGRADED
    health.record_heartbeat("w", cpu_percent=10, memory_percent=96)
    assert health.get_worker_health("w").status is HealthStatus.CRITICAL
    health.record_heartbeat("w", cpu_percent=10, memory_percent=50)
    h = health.get_worker_health("w")
    assert h.status is HealthStatus.HEALTHY and h.memory_percent == 50 and h.cpu_percent == 10


def test_unregister_and_unknown() -> None:
    health, _, events = make()
    health.register_worker("w")
    assert health.unregister_worker("w")
    assert kinds(events) == [E.WORKER_REGISTERED, E.WORKER_UNREGISTERED]
    with pytest.raises(KeyError, match="unknown worker 'w'"):
        health.get_worker_health("w")


def test_monitor_reports_a_stall_from_its_background_check() -> None:
    clock = FakeClock()
    events: list[MonitorEvent] = []
    monitor = DistributedMonitor(MonitorConfig(), callbacks=[events.append], clock=clock)
    monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=None)
    monitor.partition_started(0, 0, worker="t0")
    clock.advance(120)
    monitor.tick()  # what the monitor's thread does every check interval
    assert E.WORKER_STALLED in kinds(events)
    assert monitor.get_statistics()["unhealthy_workers"] == 1
    monitor.close()


def _spin(seconds: float) -> int:
    import time

    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return os.getpid()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_local_adapter_heartbeats_from_worker_processes() -> None:
    monitor = DistributedMonitor(MonitorConfig())
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        adapter = LocalMonitorAdapter(executor=pool, poll_interval_seconds=0.05)
        pids = set(pool.map(_spin, [0.01, 0.01]))  # the workers exist now
        adapter.poll(monitor)  # first poll: a baseline for CPU
        future = pool.submit(_spin, 0.4)
        import time

        time.sleep(0.3)
        workers = adapter.poll(monitor)
        busy = future.result()
    by_id = {w.worker_id: w for w in workers}
    assert f"pid-{busy}" in by_id
    assert by_id[f"pid-{busy}"].cpu_percent is not None and by_id[f"pid-{busy}"].cpu_percent > 10  # busy, on a shared machine
    assert all(w.memory_bytes and w.memory_bytes > 1_000_000 for w in workers)
    assert all(0 < (w.memory_percent or 0) < 100 for w in workers)
    assert {w.pid for w in workers} >= pids
    health = monitor.health_monitor
    assert health is not None
    recorded = health.get_worker_health(f"pid-{busy}")
    assert recorded.memory_percent == pytest.approx(by_id[f"pid-{busy}"].memory_percent)
    assert recorded.last_heartbeat is not None
    metrics = monitor.metrics_collector
    assert metrics is not None
    assert "memory_bytes" in metrics.get_metrics().worker_metrics[f"pid-{busy}"]
