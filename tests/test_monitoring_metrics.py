"""Metrics: export_prometheus() read back by prometheus_client's parser, /metrics over HTTP,
percentiles against a sorted reference, the streaming aggregator between reports."""

from __future__ import annotations

import math
import random
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from truthound.profiler.distributed.monitoring import (
    DistributedMetricsCollector,
    DistributedMonitor,
    MetricsConfig,
    MonitorConfig,
    StreamingProgressAggregator,
)


def families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_prometheus_text_parses() -> None:
    collector = DistributedMetricsCollector(MetricsConfig(labels={"backend": "local"}))
    durations = [0.5, 1.5, 2.5, 10.0]
    for d in durations:
        collector.record_task_duration("profile_partition", d)
    collector.increment_counter("tasks_completed", 4)
    collector.increment_counter("rows_processed", 1234)
    collector.set_gauge("rows_per_second", 99.5)
    collector.record_worker_metric('w"1', "memory_percent", 42.5)
    parsed = families(collector.export_prometheus())

    summary = parsed["truthound_task_duration_seconds"]
    assert summary.type == "summary"  # type: ignore[attr-defined]
    samples = {(s.name, s.labels.get("quantile")): s for s in summary.samples}  # type: ignore[attr-defined]
    assert samples[("truthound_task_duration_seconds_count", None)].value == 4
    assert samples[("truthound_task_duration_seconds_sum", None)].value == sum(durations)
    assert samples[("truthound_task_duration_seconds", "0.5")].value == 2.0
    assert samples[("truthound_task_duration_seconds", "0.99")].value == pytest.approx(9.775)
    assert all(s.labels["backend"] == "local" for s in summary.samples)  # type: ignore[attr-defined]

    counter = parsed["truthound_tasks_completed"]  # the parser strips _total from counters
    assert counter.type == "counter"  # type: ignore[attr-defined]
    assert counter.samples[0].name == "truthound_tasks_completed_total"  # type: ignore[attr-defined]
    assert counter.samples[0].value == 4  # type: ignore[attr-defined]
    assert parsed["truthound_rows_processed"].samples[0].value == 1234  # type: ignore[attr-defined]
    gauge = parsed["truthound_worker_memory_percent"]
    assert gauge.samples[0].labels["worker"] == 'w"1'  # type: ignore[attr-defined]
    assert gauge.samples[0].value == 42.5  # type: ignore[attr-defined]


def test_every_name_has_the_prefix_and_units() -> None:
    monitor = DistributedMonitor(MonitorConfig())
    monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=10)
    monitor.partition_started(0, 0, worker="t0")
    monitor.partition_completed(0, 0, rows=10, duration_seconds=0.2, payload_bytes=5)
    monitor.run_finished(success=True, duration_seconds=0.3, rows=10)
    assert monitor.metrics_collector is not None
    text = monitor.metrics_collector.export_prometheus()
    parsed = list(text_string_to_metric_families(text))
    assert parsed and all(f.name.startswith("truthound_") for f in parsed)
    for f in parsed:
        if f.type == "counter":
            assert all(s.name.endswith("_total") for s in f.samples)
    assert "truthound_task_duration_seconds" in {f.name for f in parsed}
    assert "truthound_workers_healthy 1" in text


def test_percentiles_against_a_sorted_reference() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(0, 1) for _ in range(2001)]
    collector = DistributedMetricsCollector(MetricsConfig(percentiles=[0.1, 0.5, 0.9, 0.99]))
    for v in values:
        collector.record_task_duration("t", v)
    ordered = sorted(values)

    def reference(q: float) -> float:
        h = (len(ordered) - 1) * q
        lo, hi = math.floor(h), math.ceil(h)
        return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])

    m = collector.get_metrics()
    for q, v in m.percentiles.items():
        assert v == pytest.approx(reference(q), rel=1e-12)
    assert m.task_duration_p50 == pytest.approx(reference(0.5), rel=1e-12)
    assert m.task_duration_p99 == pytest.approx(reference(0.99), rel=1e-12)
    assert m.avg_task_duration_seconds == pytest.approx(sum(values) / len(values))


def test_empty_metrics_are_nan_not_zero() -> None:
    m = DistributedMetricsCollector().get_metrics()
    assert m.tasks_completed == 0 and math.isnan(m.task_duration_p99)
    assert math.isnan(m.avg_task_duration_seconds)


def test_metrics_over_http_while_the_run_lasts() -> None:
    config = MonitorConfig()
    config.metrics.enable_prometheus = True
    config.metrics.prometheus_port = 0  # a free port
    monitor = DistributedMonitor(config)
    monitor.run_started(backend="local", num_workers=1, num_partitions=2, total_rows=None)
    port = monitor.get_statistics()["metrics_port"]
    assert isinstance(port, int) and port > 0
    assert monitor.metrics_collector is not None
    assert monitor.metrics_collector.config.prometheus_host == "127.0.0.1"
    monitor.partition_started(0, 0, worker="t0")
    monitor.partition_completed(0, 0, rows=7, duration_seconds=0.5, payload_bytes=1)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        body = response.read().decode()
    parsed = families(body)
    assert parsed["truthound_rows_processed"].samples[0].value == 7  # type: ignore[attr-defined]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
    assert err.value.code == 404
    err.value.close()
    monitor.partition_started(1, 0, worker="t0")
    monitor.partition_completed(1, 0, rows=3, duration_seconds=0.5, payload_bytes=1)
    monitor.run_finished(success=True, duration_seconds=1.0, rows=10)
    with pytest.raises(urllib.error.URLError):  # the run is over: no more /metrics
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_a_taken_port_does_not_fail_the_run(caplog: pytest.LogCaptureFixture) -> None:
    first = DistributedMetricsCollector(MetricsConfig(prometheus_port=0))
    port = first.start_server()
    try:
        config = MonitorConfig()
        config.metrics.enable_prometheus = True
        config.metrics.prometheus_port = port
        monitor = DistributedMonitor(config)
        monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=None)
        monitor.run_finished(success=True, duration_seconds=0.0, rows=0)
        assert any("cannot serve /metrics" in r.getMessage() for r in caplog.records)
    finally:
        first.stop_server()


def test_streaming_aggregator_updates_between_reports() -> None:
    now = [0.0]
    updates = []
    streaming = StreamingProgressAggregator(on_progress=updates.append,
                                            interpolation_interval_ms=100, clock=lambda: now[0])
    streaming.set_total_partitions(1)
    streaming.start_partition(0, total_rows=1000)
    streaming.stop()  # drive by hand, not by the thread
    for t in (1, 2):
        now[0] = float(t)
        streaming.update_partition(0, rows_processed=100 * t)
    real = len(updates)
    now[0] = 2.05
    assert streaming.tick() is None  # not yet 100 ms since the last real report
    now[0] = 2.5
    p = streaming.tick()
    assert p is not None and p.interpolated and p.rows_processed == 250
    assert len(updates) == real + 1
    now[0] = 1000.0
    late = streaming.tick()
    assert late is not None and late.rows_processed == 1000 and late.percent < 100


def test_streaming_aggregator_thread() -> None:
    import threading
    import time

    got = threading.Event()
    updates = []

    def on_progress(p: object) -> None:
        updates.append(p)
        if getattr(p, "interpolated", False):
            got.set()

    with StreamingProgressAggregator(on_progress=on_progress, interpolation_interval_ms=20) as s:
        s.set_total_partitions(2)
        s.start_partition(0, total_rows=10_000)
        time.sleep(0.05)
        s.update_partition(0, rows_processed=100)
        time.sleep(0.05)
        s.update_partition(0, rows_processed=200)
        assert got.wait(5)
    assert any(getattr(u, "interpolated", False) for u in updates)
