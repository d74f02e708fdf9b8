"""Progress aggregated over partitions (on the engine's thread-safe aggregator): percent,
completed/total partitions, a smoothed rows/s and an ETA, milestone events; and a streaming
variant that updates a UI between real reports."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from truthound import _core
from truthound.errors import ConfigurationError
from truthound.profiler.distributed.monitoring._util import Clock, maybe_time
from truthound.profiler.distributed.monitoring.events import (
    EventSeverity,
    MonitorEvent,
    MonitorEventType,
)

__all__ = [
    "AggregatedProgress",
    "DistributedProgressAggregator",
    "PartitionProgressInfo",
    "StreamingProgressAggregator",
]


@dataclass(frozen=True)
class AggregatedProgress:
    """Progress of a run. ``rows_per_second`` is smoothed (an exponential moving average, as
    tqdm's); ``estimated_remaining_seconds`` is ``math.nan`` while unknown; ``total_rows`` is None
    until every partition has said its rows; ``interpolated``: estimated between reports."""

    total_partitions: int
    completed_partitions: int
    failed_partitions: int
    running_partitions: int
    rows_processed: int
    total_rows: int | None
    fraction: float
    percent: float
    rows_per_second: float
    average_rows_per_second: float
    elapsed_seconds: float
    estimated_remaining_seconds: float
    interpolated: bool = False

    @property
    def is_complete(self) -> bool:
        return self.total_partitions > 0 and self.completed_partitions == self.total_partitions

    def to_dict(self) -> dict[str, Any]:
        eta = self.estimated_remaining_seconds
        return {
            "total_partitions": self.total_partitions,
            "completed_partitions": self.completed_partitions,
            "failed_partitions": self.failed_partitions,
            "running_partitions": self.running_partitions,
            "rows_processed": self.rows_processed,
            "total_rows": self.total_rows,
            "percent": round(self.percent, 3),
            "rows_per_second": round(self.rows_per_second, 3),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "estimated_remaining_seconds": None if math.isnan(eta) else round(eta, 3),
        }

    @classmethod
    def _of(cls, s: _core.MonitorProgressSnapshot) -> AggregatedProgress:
        return cls(
            total_partitions=s.total_partitions, completed_partitions=s.completed_partitions,
            failed_partitions=s.failed_partitions, running_partitions=s.running_partitions,
            rows_processed=s.rows_processed,
            total_rows=None if s.total_rows < 0 else s.total_rows, fraction=s.fraction,
            percent=s.percent, rows_per_second=s.rows_per_second,
            average_rows_per_second=s.average_rows_per_second, elapsed_seconds=s.elapsed_seconds,
            estimated_remaining_seconds=s.estimated_remaining_seconds, interpolated=s.interpolated,
        )


@dataclass(frozen=True)
class PartitionProgressInfo:
    partition_id: int
    attempt: int
    state: str
    rows_processed: int
    total_rows: int | None
    progress: float
    started_at: float | None
    ended_at: float | None


class DistributedProgressAggregator:
    """Aggregates progress from many partitions; thread-safe.

    Each report carries the partition's ``attempt``: a newer attempt replaces the older one's
    rows (rows never count twice) and an older attempt's late reports are ignored.
    ``on_progress`` receives an :class:`AggregatedProgress` after each report, at most every
    ``update_interval_seconds`` (always after a partition completes or fails); ``on_event``
    receives PARTITION_START/COMPLETE/ERROR, PROGRESS_UPDATE (same pacing) and PROGRESS_MILESTONE
    each time the percent crosses a multiple of ``milestone_interval``.
    """

    def __init__(
        self,
        on_progress: Callable[[AggregatedProgress], None] | None = None,
        milestone_interval: float = 10,
        *,
        on_event: Callable[[MonitorEvent], None] | None = None,
        smoothing: float = 0.3,
        update_interval_seconds: float = 0.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if not 0 < smoothing <= 1:
            raise ConfigurationError(f"option 'smoothing' must be in (0, 1], got {smoothing!r}")
        if milestone_interval < 0 or update_interval_seconds < 0:
            raise ConfigurationError("options 'milestone_interval' and 'update_interval_seconds' "
                                     "must be >= 0")
        self.milestone_interval = milestone_interval
        self.update_interval_seconds = update_interval_seconds
        self._on_progress = on_progress
        self._on_event = on_event
        self._clock = clock
        self._engine = _core.MonitorProgress(float(milestone_interval), float(smoothing))
        self._lock = threading.Lock()
        self._last_update: float | None = None
        self._last_report = clock()

    # ------------------------------------------------------------------ reports

    def reset(self) -> None:
        self._engine.reset()
        with self._lock:
            self._last_update = None

    def set_total_partitions(self, total: int) -> None:
        self._engine.set_total_partitions(total)

    def start(self) -> None:
        """The run's clock starts now (otherwise at the first report)."""
        self._engine.start(self._clock())

    def start_partition(
        self, partition_id: int, total_rows: int | None = None, *, attempt: int = 0
    ) -> None:
        now = self._clock()
        accepted, milestones = self._engine.start_partition(
            partition_id, attempt, -1 if total_rows is None else total_rows, now)
        if accepted:
            self._event(MonitorEventType.PARTITION_START, EventSeverity.INFO,
                        f"partition {partition_id} started"
                        + (f" (attempt {attempt + 1})" if attempt else ""),
                        partition=partition_id, attempt=attempt, total_rows=total_rows)
            self._after(now, milestones, force=False)

    def update_partition(
        self,
        partition_id: int,
        progress: float | None = None,
        rows_processed: int | None = None,
        *,
        total_rows: int | None = None,
        attempt: int = 0,
    ) -> None:
        """``progress`` in [0, 1] (default: rows / total rows); ``rows_processed`` cumulative."""
        now = self._clock()
        accepted, milestones = self._engine.update_partition(
            partition_id, attempt, -1.0 if progress is None else float(progress),
            -1 if rows_processed is None else rows_processed,
            -1 if total_rows is None else total_rows, now)
        if accepted:
            self._after(now, milestones, force=False)

    def complete_partition(
        self, partition_id: int, rows_processed: int | None = None, *, attempt: int = 0
    ) -> None:
        now = self._clock()
        accepted, milestones = self._engine.complete_partition(
            partition_id, attempt, -1 if rows_processed is None else rows_processed, now)
        if accepted:
            info = self.get_partition(partition_id)
            self._event(MonitorEventType.PARTITION_COMPLETE, EventSeverity.INFO,
                        f"partition {partition_id} complete"
                        + (f": {info.rows_processed:,} rows" if info else ""),
                        partition=partition_id, attempt=attempt,
                        rows=info.rows_processed if info else rows_processed)
            self._after(now, milestones, force=True)

    def fail_partition(
        self, partition_id: int, error: str | None = None, *, attempt: int = 0,
        will_retry: bool = False,
    ) -> None:
        """The attempt failed; its rows no longer count (a retry starts the partition over)."""
        now = self._clock()
        accepted, milestones = self._engine.fail_partition(partition_id, attempt, now)
        if accepted:
            self._event(MonitorEventType.PARTITION_ERROR,
                        EventSeverity.WARNING if will_retry else EventSeverity.ERROR,
                        f"partition {partition_id} failed (attempt {attempt + 1})"
                        + (f": {error}" if error else "") + ("; it will run again" if will_retry else ""),
                        partition=partition_id, attempt=attempt, error=error, will_retry=will_retry)
            self._after(now, milestones, force=True)

    # ------------------------------------------------------------------ queries

    def get_progress(self) -> AggregatedProgress:
        return AggregatedProgress._of(self._engine.snapshot(self._clock()))

    def get_partition(self, partition_id: int) -> PartitionProgressInfo | None:
        p = self._engine.partition(partition_id)
        return None if p is None else _partition_info(p)

    def get_partitions(self) -> list[PartitionProgressInfo]:
        return [_partition_info(p) for p in self._engine.partitions()]

    # ------------------------------------------------------------------ emission

    def _after(self, now: float, milestones: list[float], *, force: bool) -> None:
        with self._lock:
            self._last_report = now
            due = force or self._last_update is None or (
                now - self._last_update >= self.update_interval_seconds)
            if due:
                self._last_update = now
        if not due and not milestones:
            return
        progress = AggregatedProgress._of(self._engine.snapshot(now))
        for m in milestones:
            self._event(MonitorEventType.PROGRESS_MILESTONE, EventSeverity.INFO,
                        f"{m:g}% done: {progress.completed_partitions}/"
                        f"{progress.total_partitions} partitions, {progress.rows_processed:,} rows",
                        milestone=m, **progress.to_dict())
        if due:
            self._publish(progress)

    def _publish(self, progress: AggregatedProgress) -> None:
        self._event(MonitorEventType.PROGRESS_UPDATE, EventSeverity.DEBUG,
                    _progress_text(progress), **progress.to_dict())
        if self._on_progress is not None:
            self._on_progress(progress)

    def _event(self, kind: MonitorEventType, severity: EventSeverity, message: str,
               **data: Any) -> None:
        if self._on_event is not None:
            self._on_event(MonitorEvent(kind, severity, message,
                                        data={k: v for k, v in data.items() if v is not None}))


class StreamingProgressAggregator(DistributedProgressAggregator):
    """A :class:`DistributedProgressAggregator` for live displays: between real reports it
    calls ``on_progress`` every ``interpolation_interval_ms`` with progress moved forward by the
    smoothed rates (``interpolated=True``), never past what the running partitions can reach.

    The updates come from a background thread started by :meth:`start` (or the first
    ``start_partition``) and stopped by :meth:`stop`; :meth:`tick` makes one update by hand.
    """

    def __init__(
        self,
        on_progress: Callable[[AggregatedProgress], None] | None = None,
        interpolation_interval_ms: float = 100,
        milestone_interval: float = 10,
        *,
        on_event: Callable[[MonitorEvent], None] | None = None,
        smoothing: float = 0.3,
        update_interval_seconds: float = 0.0,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(on_progress, milestone_interval, on_event=on_event, smoothing=smoothing,
                         update_interval_seconds=update_interval_seconds, clock=clock)
        if not interpolation_interval_ms > 0:
            raise ConfigurationError("option 'interpolation_interval_ms' must be > 0, got "
                                     f"{interpolation_interval_ms!r}")
        self.interpolation_interval_ms = interpolation_interval_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        super().start()
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="truthound-progress-stream",
                                            daemon=True)
            self._thread.start()

    def start_partition(
        self, partition_id: int, total_rows: int | None = None, *, attempt: int = 0
    ) -> None:
        if self._thread is None:
            self.start()
        super().start_partition(partition_id, total_rows, attempt=attempt)

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def tick(self) -> AggregatedProgress | None:
        """One interpolated update when ``interpolation_interval_ms`` passed since the last real
        report and the run is not complete; returns what it published."""
        now = self._clock()
        with self._lock:
            if now - self._last_report < self.interpolation_interval_ms / 1000.0:
                return None
        progress = AggregatedProgress._of(self._engine.interpolate(now))
        if not progress.interpolated:
            return None
        if self._on_progress is not None:
            self._on_progress(progress)
        return progress

    def _run(self) -> None:
        interval = self.interpolation_interval_ms / 1000.0
        while not self._stop.wait(interval):
            self.tick()

    def __enter__(self) -> StreamingProgressAggregator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _partition_info(p: _core.MonitorPartitionProgress) -> PartitionProgressInfo:
    return PartitionProgressInfo(
        partition_id=p.partition, attempt=p.attempt, state=p.state, rows_processed=p.rows,
        total_rows=None if p.total_rows < 0 else p.total_rows, progress=p.progress,
        started_at=maybe_time(p.started_at), ended_at=maybe_time(p.ended_at),
    )


def _progress_text(p: AggregatedProgress) -> str:
    eta = p.estimated_remaining_seconds
    eta_text = "" if math.isnan(eta) else f", ETA {eta:.0f} s"
    return (f"{p.percent:.1f}%: {p.completed_partitions}/{p.total_partitions} partitions, "
            f"{p.rows_processed:,} rows, {p.rows_per_second:,.0f} rows/s{eta_text}")
