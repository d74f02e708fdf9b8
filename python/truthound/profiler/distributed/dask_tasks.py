"""What a Dask worker runs for one driver task: read the task's rows (files with truthound's own
readers; a Dask DataFrame's partitions as Arrow), feed the engine, return the serialized partials
(one per hash bucket; one for other strategies).

Workers tell the driver that a try started and how many rows it read through Dask's event
topics (``Worker.log_event``), tagged with a token unique to the try: a second token for one task
means the scheduler ran it again (its worker died). Nothing here computes a statistic.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from truthound.errors import SourceReadError, one_line
from truthound.profiler.distributed import driver
from truthound.profiler.distributed.driver import Task

__all__ = ["TaskResult", "run_file_task", "run_frame_task", "run_local_task"]

# (rows profiled, serialized partials (one per bucket), worker, seconds)
TaskResult = tuple[int, tuple[bytes, ...], str, float]

class _Reporter:
    """Sends a try's start and its rows read to the driver's topic (a no-op off a Dask worker)."""

    def __init__(self, task: Task, topic: str | None) -> None:
        self.key = task.key
        self.token = uuid.uuid4().hex
        self._log: Callable[[str, Any], None] | None = None
        self.worker = f"pid {os.getpid()} {threading.current_thread().name}"
        if topic is not None:
            try:
                from distributed import get_worker

                w = get_worker()
                self.worker = str(w.address)
                self._log = w.log_event
            except (ImportError, ValueError):  # not on a distributed worker
                self._log = None
        self.topic = topic
        # each report is a message to the scheduler
        self.rows = driver.Throttled(self._send_rows, interval=0.25)

    def started(self) -> None:
        if self._log is not None:
            self._log(self.topic or "", ("started", self.key, self.worker, self.token))

    def _send_rows(self, n: int) -> None:
        if self._log is not None:
            self._log(self.topic or "", ("progress", self.key, self.worker, self.token, n))


def run_file_task(task: Task, engine_options: str, topic: str | None) -> TaskResult:
    """A task of file pieces (or in-memory rows shipped with it): read and profile them here."""
    report = _Reporter(task, topic)
    report.started()
    began = time.perf_counter()
    out = driver.run_task(task, engine_options, on_rows=report.rows)
    return out.total_rows, out.payloads(), report.worker, time.perf_counter() - began


def _frame_batches(task: Task, schema: pa.Schema, frames: tuple[Any, ...]) -> Iterator[pa.RecordBatch]:
    """The task's pandas partitions as Arrow batches of the columns it reads, typed as planned."""
    columns = task.work.read_columns
    target = pa.schema([schema.field(c) for c in columns])
    for piece, frame in zip(task.work.pieces, frames):
        try:
            table = pa.Table.from_pandas(frame[columns], schema=target, preserve_index=False)
        except (pa.ArrowException, KeyError, ValueError, TypeError) as exc:
            raise SourceReadError(f"{piece.describe()}: cannot convert the pandas partition to "
                                  f"Arrow: {one_line(exc)}") from exc
        yield from table.to_batches(max_chunksize=task.work.batch_size)


def run_frame_task(
    task: Task, engine_options: str, topic: str | None, schema: pa.Schema, *frames: Any
) -> TaskResult:
    """A task over partitions of a Dask DataFrame (``frames``: its pandas partitions, in the
    order of the task's pieces), converted to Arrow here and profiled."""
    report = _Reporter(task, topic)
    report.started()
    began = time.perf_counter()
    out = driver.run_task(task, engine_options, batches=_frame_batches(task, schema, frames),
                          on_rows=report.rows)
    return out.total_rows, out.payloads(), report.worker, time.perf_counter() - began


def run_local_task(
    task: Task, engine_options: str, schema: pa.Schema | None, *frames: Any
) -> TaskResult | BaseException:
    """A task on a local Dask scheduler (threads, processes, synchronous): its result, or the
    exception it raised (returned, so the driver learns which task failed)."""
    try:
        if schema is None:
            return run_file_task(task, engine_options, None)
        return run_frame_task(task, engine_options, None, schema, *frames)
    except Exception as exc:  # noqa: BLE001 - reported to the driver as this task's failure
        return exc
