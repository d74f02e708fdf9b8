"""Metrics of distributed runs on the engine's thread-safe series: task durations with
percentiles, counters, gauges, per-worker values; Prometheus text and an HTTP ``/metrics``."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from truthound import _core
from truthound.errors import ConfigurationError
from truthound.profiler.distributed.monitoring.config import MetricsConfig

__all__ = ["DistributedMetrics", "DistributedMetricsCollector", "DurationStats", "MetricsServer"]

_log = logging.getLogger("truthound.monitor")

#: the Prometheus text exposition format's content type
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class DurationStats:
    """Durations of one task type: exact count, sum, min, max, mean; ``percentiles`` (q →
    seconds) exact over the last ``max_samples`` samples."""

    task_type: str
    count: int
    total_seconds: float
    min_seconds: float
    max_seconds: float
    mean_seconds: float
    percentiles: dict[float, float]


@dataclass(frozen=True)
class DistributedMetrics:
    """Every metric at one instant. Durations are NaN until a task finished."""

    tasks_completed: int
    tasks_failed: int
    tasks_retried: int
    rows_processed: int
    rows_per_second: float
    task_count: int
    avg_task_duration_seconds: float
    min_task_duration_seconds: float
    max_task_duration_seconds: float
    task_duration_p50: float
    task_duration_p75: float
    task_duration_p90: float
    task_duration_p95: float
    task_duration_p99: float
    percentiles: dict[float, float] = field(default_factory=dict)
    durations_by_type: dict[str, DurationStats] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)
    worker_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    partition_progress: dict[int, float] = field(default_factory=dict)


class DistributedMetricsCollector:
    """Collects metrics; thread-safe.

    >>> collector = DistributedMetricsCollector()
    >>> collector.record_task_duration("profile_partition", 2.5)
    >>> collector.increment_counter("tasks_completed")
    >>> collector.get_metrics().tasks_completed
    1
    >>> "truthound_tasks_completed_total 1" in collector.export_prometheus()
    True
    """

    def __init__(self, config: MetricsConfig | None = None) -> None:
        self.config = c = config or MetricsConfig()
        self._engine = _core.MonitorMetrics(
            [float(q) for q in c.percentiles], c.enable_percentiles, c.max_samples, c.prefix,
            sorted(c.labels.items()),
        )
        self._server: MetricsServer | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ recording

    def record_task_duration(self, task_type: str, duration_seconds: float) -> None:
        self._engine.record_task_duration(task_type, float(duration_seconds))

    def record_partition_progress(self, partition_id: int, progress: float) -> None:
        """Progress of a partition in [0, 1]."""
        self._engine.record_partition_progress(partition_id, float(progress))

    def record_worker_metric(self, worker_id: str, metric_name: str, value: float) -> None:
        """A gauge of a worker (``cpu_percent``, ``memory_percent``, ``active_tasks``, ...)."""
        self._engine.record_worker_metric(worker_id, metric_name, float(value))

    def remove_worker(self, worker_id: str) -> None:
        self._engine.remove_worker(worker_id)

    def increment_counter(self, name: str, value: float = 1) -> None:
        """Counters only go up; exported as ``truthound_<name>_total``."""
        self._engine.increment_counter(name, float(value))

    def set_gauge(self, name: str, value: float) -> None:
        self._engine.set_gauge(name, float(value))

    def reset(self) -> None:
        self._engine.reset()

    # ------------------------------------------------------------------ reading

    def get_metrics(self) -> DistributedMetrics:
        s = self._engine.snapshot()
        counters = dict(s.counters)
        gauges = dict(s.gauges)
        fixed = self._engine.duration_quantiles([0.5, 0.75, 0.9, 0.95, 0.99])
        empty = s.all.count == 0
        nan = math.nan
        return DistributedMetrics(
            tasks_completed=int(counters.get("tasks_completed", 0)),
            tasks_failed=int(counters.get("tasks_failed", 0)),
            tasks_retried=int(counters.get("tasks_retried", 0)),
            rows_processed=int(counters.get("rows_processed", 0)),
            rows_per_second=gauges.get("rows_per_second", 0.0),
            task_count=s.all.count,
            avg_task_duration_seconds=nan if empty else s.all.mean,
            min_task_duration_seconds=nan if empty else s.all.min,
            max_task_duration_seconds=nan if empty else s.all.max,
            task_duration_p50=fixed[0], task_duration_p75=fixed[1], task_duration_p90=fixed[2],
            task_duration_p95=fixed[3], task_duration_p99=fixed[4],
            percentiles=dict(s.all.quantiles),
            durations_by_type={
                d.task_type: DurationStats(d.task_type, d.count, d.sum, d.min, d.max, d.mean,
                                           dict(d.quantiles))
                for d in s.by_type
            },
            counters=counters, gauges=gauges,
            worker_metrics={w: dict(values) for w, values in s.workers},
            partition_progress=dict(s.partition_progress),
        )

    def export_prometheus(self) -> str:
        """Every metric in the Prometheus text format (0.0.4)."""
        return self._engine.export_prometheus()

    # ------------------------------------------------------------------ /metrics

    def start_server(self, port: int | None = None, host: str | None = None) -> int:
        """Serve ``/metrics`` over HTTP (default ``prometheus_host``:``prometheus_port``, i.e.
        127.0.0.1: this machine only; port 0 picks a free one) until :meth:`stop_server`.
        Returns the port. OSError when the address is taken."""
        with self._lock:
            if self._server is not None:
                return self._server.port
            self._server = MetricsServer(
                self.export_prometheus,
                host=self.config.prometheus_host if host is None else host,
                port=self.config.prometheus_port if port is None else port,
            )
            return self._server.port

    def stop_server(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.close()

    @property
    def server_port(self) -> int | None:
        """The port ``/metrics`` is served on, or None."""
        server = self._server
        return None if server is None else server.port


class MetricsServer:
    """``GET /metrics`` answered by ``render()`` on a daemon thread (other paths: 404)."""

    def __init__(self, render: Callable[[], str], *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"option 'prometheus_port' must be 0..65535, got {port!r}")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404, "only /metrics is served here")
                    return
                try:
                    body = render().encode("utf-8")
                except Exception:  # noqa: BLE001 - a scrape never takes the run down
                    _log.exception("rendering /metrics failed")
                    self.send_error(500)
                    return
                self.send_response(200)
                self.send_header("Content-Type", PROMETHEUS_CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # scrapes are not news

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name="truthound-metrics-http", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
