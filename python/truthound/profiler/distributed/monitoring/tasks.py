"""Task tracking: the lifecycle of each task (usually one attempt of a partition) on the
engine's thread-safe task table; ``metadata`` and ``result`` stay here, in Python."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from truthound import _core
from truthound.profiler.distributed.monitoring._util import Clock, maybe_time
from truthound.profiler.distributed.monitoring.config import TaskTrackerConfig
from truthound.profiler.distributed.monitoring.events import (
    EventSeverity,
    MonitorEvent,
    MonitorEventType,
)

__all__ = ["TaskInfo", "TaskState", "TaskTracker"]


class TaskState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in (TaskState.COMPLETED, TaskState.FAILED, TaskState.TIMED_OUT,
                        TaskState.CANCELLED)


@dataclass(frozen=True)
class TaskInfo:
    """A task as it was when asked for. Times are on the tracker's monotonic clock (None: not
    yet); ``duration_seconds`` is the worker's own measure when it gave one, else start → end
    (→ now while it runs)."""

    task_id: int
    task_type: str
    partition_id: int | None
    attempt: int
    worker_id: str | None
    state: TaskState
    progress: float
    rows_processed: int
    retry_count: int
    error: str | None
    submitted_at: float | None
    started_at: float | None
    ended_at: float | None
    duration_seconds: float
    metadata: Mapping[str, Any] = field(default_factory=dict)
    result: Any = None


class TaskTracker:
    """Tracks tasks across workers; thread-safe.

    >>> tracker = TaskTracker()
    >>> task_id = tracker.submit_task(task_type="profile_partition", partition_id=0)
    >>> tracker.start_task(task_id, worker_id="worker-1")
    >>> tracker.complete_task(task_id, result={"rows": 10}, rows_processed=10)
    >>> tracker.get_task(task_id).state
    <TaskState.COMPLETED: 'completed'>
    """

    def __init__(
        self,
        config: TaskTrackerConfig | None = None,
        *,
        on_event: Callable[[MonitorEvent], None] | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = config or TaskTrackerConfig()
        self._on_event = on_event
        self._clock = clock
        self._table = _core.MonitorTaskTable(
            self.config.max_history_size, float(self.config.timeout_seconds),
            self.config.max_retries, self.config.enable_progress_tracking,
        )
        # Python-side objects of each task, dropped with the task from the engine's history
        self._lock = threading.Lock()
        self._metadata: dict[int, Mapping[str, Any]] = {}
        self._results: dict[int, Any] = {}

    # ------------------------------------------------------------------ lifecycle

    def submit_task(
        self,
        task_type: str = "profile_partition",
        partition_id: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        attempt: int = 0,
    ) -> int:
        """A new pending task; returns its id."""
        task_id = self._table.submit(task_type, -1 if partition_id is None else partition_id,
                                     attempt, self._clock())
        if metadata:
            with self._lock:
                self._metadata[task_id] = dict(metadata)
        self._emit(MonitorEventType.TASK_SUBMITTED, EventSeverity.DEBUG, task_id,
                   f"task {task_id} submitted{self._where(partition_id)}")
        return task_id

    def start_task(self, task_id: int, worker_id: str | None = None) -> None:
        self._table.start(task_id, worker_id or "", self._clock())
        self._emit(MonitorEventType.TASK_STARTED, EventSeverity.DEBUG, task_id,
                   f"task {task_id} started" + (f" on {worker_id}" if worker_id else ""))

    def update_progress(
        self, task_id: int, progress: float | None = None, rows_processed: int | None = None
    ) -> None:
        """``progress`` in [0, 1]; ``rows_processed`` cumulative for this attempt."""
        self._table.update_progress(task_id, -1.0 if progress is None else float(progress),
                                    -1 if rows_processed is None else rows_processed,
                                    self._clock())
        self._emit(MonitorEventType.TASK_PROGRESS, EventSeverity.DEBUG, task_id,
                   f"task {task_id} progress", progress=progress, rows_processed=rows_processed)

    def complete_task(
        self,
        task_id: int,
        result: Any = None,
        *,
        rows_processed: int | None = None,
        duration_seconds: float | None = None,
    ) -> None:
        """Finished; ``duration_seconds`` is the worker's own measure when it has one."""
        evicted = self._table.complete(
            task_id, -1 if rows_processed is None else rows_processed,
            -1.0 if duration_seconds is None else float(duration_seconds), self._clock(),
        )
        with self._lock:
            if result is not None:
                self._results[task_id] = result
            self._forget(evicted)
        info = self.get_task(task_id)
        duration = info.duration_seconds if info else duration_seconds
        self._emit(MonitorEventType.TASK_COMPLETED, EventSeverity.INFO, task_id,
                   f"task {task_id} completed in {duration or 0:.2f} s", duration_seconds=duration,
                   rows_processed=info.rows_processed if info else rows_processed)

    def fail_task(self, task_id: int, error: str | BaseException) -> None:
        """Failed for good."""
        text = _error_text(error)
        evicted = self._table.fail(task_id, text, self._clock())
        with self._lock:
            self._forget(evicted)
        self._emit(MonitorEventType.TASK_FAILED, EventSeverity.ERROR, task_id,
                   f"task {task_id} failed: {text}", error=text)

    def retry_task(
        self, task_id: int, error: str | BaseException = "", *, force: bool = False
    ) -> bool:
        """The attempt failed and the task runs again: True while fewer than ``max_retries``
        retries happened (the task is RETRYING until the next ``start_task``), else False and the
        task FAILED. ``force``: the executor already decided to run it again (recorded whatever
        ``max_retries`` says)."""
        text = _error_text(error)
        again = self._table.retry(task_id, text, self._clock(), force)
        if again:
            info = self.get_task(task_id)
            self._emit(MonitorEventType.TASK_RETRYING, EventSeverity.WARNING, task_id,
                       f"task {task_id} failed ({text or 'no reason given'}), retry "
                       f"{info.retry_count if info else '?'}"
                       + ("" if force else f" of {self.config.max_retries}"),
                       error=text)
        else:
            self._emit(MonitorEventType.TASK_FAILED, EventSeverity.ERROR, task_id,
                       f"task {task_id} failed after {self.config.max_retries} retries: {text}",
                       error=text)
        return again

    def cancel_task(self, task_id: int) -> None:
        evicted = self._table.cancel(task_id, self._clock())
        with self._lock:
            self._forget(evicted)

    def check_timeouts(self) -> list[int]:
        """Running tasks older than ``timeout_seconds`` become TIMED_OUT; returns their ids."""
        ids = self._table.check_timeouts(self._clock())
        for task_id in ids:
            self._emit(MonitorEventType.TASK_FAILED, EventSeverity.ERROR, task_id,
                       f"task {task_id} timed out after {self.config.timeout_seconds:g} s",
                       timed_out=True)
        return ids

    def restart_task(self, task_id: int, attempt: int) -> None:
        """The executor runs attempt ``attempt`` of the task (its own retry decision): recorded
        whatever ``max_retries`` says; the new attempt's rows replace the old one's."""
        self._table.resubmit(task_id, attempt, self._clock())

    # ------------------------------------------------------------------ queries

    def get_task(self, task_id: int) -> TaskInfo | None:
        record = self._table.get(task_id)
        return None if record is None else self._info(record)

    def get_active_tasks(self) -> list[TaskInfo]:
        return [self._info(r) for r in self._table.active()]

    def get_history(self) -> list[TaskInfo]:
        """Finished tasks, oldest first (at most ``max_history_size``)."""
        return [self._info(r) for r in self._table.history()]

    def get_statistics(self) -> dict[str, float | int]:
        c = self._table.counts()
        finished = c.completed + c.failed
        return {
            "tasks_submitted": c.submitted,
            "tasks_started": c.started,
            "tasks_completed": c.completed,
            "tasks_failed": c.failed,
            "tasks_retried": c.retried,
            "tasks_timed_out": c.timed_out,
            "tasks_cancelled": c.cancelled,
            "tasks_pending": c.pending,
            "tasks_running": c.running,
            "avg_task_duration": c.average_duration,
            "success_rate": c.completed / finished if finished else 1.0,
            "rows_completed": c.rows_completed,
            "rows_in_flight": c.rows_in_flight,
        }

    # ------------------------------------------------------------------ helpers

    def _info(self, r: _core.MonitorTaskRecord) -> TaskInfo:
        with self._lock:
            metadata = self._metadata.get(r.id, {})
            result = self._results.get(r.id)
        return TaskInfo(
            task_id=r.id, task_type=r.task_type,
            partition_id=None if r.partition_id < 0 else r.partition_id, attempt=r.attempt,
            worker_id=r.worker_id or None, state=TaskState(r.state), progress=r.progress,
            rows_processed=r.rows_processed, retry_count=r.retry_count, error=r.error or None,
            submitted_at=maybe_time(r.submitted_at), started_at=maybe_time(r.started_at),
            ended_at=maybe_time(r.ended_at), duration_seconds=r.duration_seconds(self._clock()),
            metadata=metadata, result=result,
        )

    def _forget(self, evicted: list[int]) -> None:
        for task_id in evicted:
            self._metadata.pop(task_id, None)
            self._results.pop(task_id, None)

    @staticmethod
    def _where(partition_id: int | None) -> str:
        return "" if partition_id is None else f" (partition {partition_id})"

    def _emit(self, kind: MonitorEventType, severity: EventSeverity, task_id: int, message: str,
              **data: Any) -> None:
        if self._on_event is None:
            return
        record = self._table.get(task_id)
        base: dict[str, Any] = {"task_id": task_id}
        if record is not None:
            base.update(task_type=record.task_type, attempt=record.attempt,
                        worker=record.worker_id or None,
                        partition=None if record.partition_id < 0 else record.partition_id)
        base.update({k: v for k, v in data.items() if v is not None})
        self._on_event(MonitorEvent(kind, severity, message, data=base))


def _error_text(error: str | BaseException) -> str:
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"
    return str(error)
