"""Executors of the driver that run partitions as Spark tasks.

:class:`SparkFrameExecutor` profiles a Spark DataFrame: each selection of columns (a column group)
is one ``mapInArrow`` over the frame, the selections are one union, and one Spark job runs them
all. Each Spark task feeds every Arrow batch of its partition to the engine and yields one row
``(partition, attempt, bucket, rows, payload)`` per bucket of its rows (one bucket unless hash
partitioned: then the task splits its rows by the engine's row hash, so the frame is read once
whatever the number of buckets): the bucket's serialized partial.

:class:`SparkFileExecutor` runs truthound's own planned tasks (file pieces read by truthound's
readers, in-memory slices) as Spark tasks: one Spark partition per task, one job.

Both run their job on a background thread under the run's job group (the adapter finds the job,
cancelling the group stops it) and turn the collected rows into the driver's events. A Spark
retry of a task (attempt > 0) is reported as :class:`~.driver.TaskRetrying` before the task
finishes, so its rows count once. An error truthound raises in a task (a file it cannot read,
an engine error) comes back as the error itself; anything else fails the Spark task, which Spark
retries, and after its last try fails the run naming the partition.
"""

from __future__ import annotations

import pickle
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from truthound import _core
from truthound.errors import BackendNotAvailableError, SourceReadError, TruthoundError
from truthound.profiler.distributed.local import EventQueue
from truthound.profiler.distributed.driver import (
    Task,
    TaskEvent,
    TaskFailed,
    TaskFinished,
    TaskRetrying,
    TaskStarted,
)
from truthound.profiler.distributed.pieces import ExternalPiece, Partition
from truthound.profiler.distributed.worker import run_partition

__all__ = ["SparkFrameExecutor", "SparkFileExecutor", "RESULT_SCHEMA"]

# The fixed output of every task, a row per bucket of its rows: its Spark partition, its attempt,
# the bucket, the rows the bucket holds and the bucket's serialized partial (rows == FAILED_ROWS:
# one row whose payload is a pickled truthound error).
RESULT_SCHEMA = "partition int, attempt int, bucket int, rows long, payload binary"
FAILED_ROWS = -1
# The first words of an error a Spark task raises (found again in Spark's error text).
TASK_ERROR_MARK = "truthound spark task failed:"
_MARKED = re.compile(re.escape(TASK_ERROR_MARK) + r" partition (\d+)(?: attempt \d+)?: ([^\n]*)")


# --------------------------------------------------------------------------- in the workers
#
# These functions are sent to Spark's Python workers by value (closures): they import truthound
# only when they run, so a worker whose interpreter lacks truthound fails with a message naming
# that interpreter instead of an unpickling error.


def _frame_function(
    selection: int, num_partitions: int, template: bytes, options: str
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The ``mapInArrow`` function of selection ``selection`` (its Spark partition ids start at
    ``selection * num_partitions`` in the union); ``template`` is the pickled Partition whose
    columns (and hash buckets) it profiles."""
    mark = TASK_ERROR_MARK
    failed_rows = FAILED_ROWS

    def profile_spark_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pickle as _pickle
        import sys as _sys

        import pyarrow as pa
        from pyspark import TaskContext

        ctx = TaskContext.get()
        assert ctx is not None  # in a Spark task
        spark_partition = ctx.partitionId()
        attempt = ctx.attemptNumber()
        index = spark_partition - selection * num_partitions
        try:
            from truthound.errors import TruthoundError as _TruthoundError
            from truthound.errors import one_line as _one_line
            from truthound.profiler.distributed.worker import run_partition
        except ImportError as exc:
            raise RuntimeError(
                f"{mark} partition {index}: the Spark worker's Python ({_sys.executable}) "
                f"cannot import truthound's engine ({exc}); set PYSPARK_PYTHON to the "
                "interpreter truthound is installed in"
            ) from exc

        def rows_of(rows: list[int], payloads: list[bytes]) -> Any:
            n = len(rows)
            return pa.record_batch({
                "partition": pa.array([spark_partition] * n, pa.int32()),
                "attempt": pa.array([attempt] * n, pa.int32()),
                "bucket": pa.array(range(n), pa.int32()),
                "rows": pa.array(rows, pa.int64()),
                "payload": pa.array(payloads, pa.binary()),
            })

        partition = _pickle.loads(template)
        try:
            out = run_partition(partition, options, batches=batches)
            payloads = list(out.payloads())
        except _TruthoundError as exc:  # the engine's or a reader's own error: no retry helps
            yield rows_of([failed_rows], [_pickle.dumps(exc)])
            return
        except Exception as exc:  # noqa: BLE001 - Spark retries the task, then fails the job
            raise RuntimeError(
                f"{mark} partition {index} attempt {attempt}: {_one_line(exc)}"
            ) from exc
        yield rows_of(out.rows, payloads)

    return profile_spark_partition


def _task_function(options: str) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The ``mapPartitions`` function running truthound's own tasks (pickled driver Tasks)."""
    mark = TASK_ERROR_MARK
    failed_rows = FAILED_ROWS

    def run_truthound_tasks(items: Iterator[tuple[int, bytes]]) -> Iterator[Any]:
        import pickle as _pickle
        import sys as _sys

        from pyspark import TaskContext

        ctx = TaskContext.get()
        assert ctx is not None  # in a Spark task
        attempt = ctx.attemptNumber()
        for index, blob in items:
            try:
                from truthound.errors import TruthoundError as _TruthoundError
                from truthound.errors import one_line as _one_line
                from truthound.profiler.distributed.driver import run_task
            except ImportError as exc:
                raise RuntimeError(
                    f"{mark} partition {index}: the Spark worker's Python ({_sys.executable}) "
                    f"cannot import truthound's engine ({exc}); set PYSPARK_PYTHON to the "
                    "interpreter truthound is installed in"
                ) from exc
            try:
                task = _pickle.loads(blob)
                out = run_task(task, options)
                payloads = out.payloads()
            except _TruthoundError as exc:
                yield (index, attempt, 0, failed_rows, _pickle.dumps(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - Spark retries the task
                raise RuntimeError(
                    f"{mark} partition {index} attempt {attempt}: {_one_line(exc)}"
                ) from exc
            for bucket, (rows, payload) in enumerate(zip(out.rows, payloads)):
                yield (index, attempt, bucket, rows, payload)

    return run_truthound_tasks


# --------------------------------------------------------------------------- on the driver


# A row of a job's result: (Spark partition or piece, attempt, bucket, rows, payload).
_Row = tuple[int, int, int, int, bytes]


@dataclass
class _Outcome:
    """What came back for one driver task: a row per bucket of each Spark partition it covers."""

    task: Task
    pieces: tuple[int, ...]  # the Spark partitions (or the piece) it covers, in order
    rows: list[_Row] = field(default_factory=list)  # with the piece in place of the partition


def job_error(exc: BaseException) -> tuple[int | None, TruthoundError]:
    """(partition, one-line error) from a failed Spark job's error."""
    text = str(exc)
    found = _MARKED.search(text)
    if found is not None:
        index, message = int(found.group(1)), found.group(2).strip()
        if "cannot import truthound's engine" in message:
            return index, BackendNotAvailableError(f"Spark partition {index}: {message}")
        return index, SourceReadError(f"Spark partition {index}: {message}")
    # a Python error elsewhere in the job (a UDF upstream): its last line says what it was
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    python_error = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line)]
    what = python_error[-1] if python_error else (lines[0] if lines else type(exc).__name__)
    return None, SourceReadError(f"the Spark job failed: {what}")


def _with_partition(error: BaseException, partition: int) -> BaseException:
    """A task's truthound error, its message naming the Spark partition (an error the driver
    acts on, such as a CSV type conflict, is kept as it is)."""
    from truthound.profiler.sources import CsvTypeConflict

    if isinstance(error, CsvTypeConflict) or len(error.args) != 1:
        return error
    try:
        named = type(error)(f"Spark partition {partition}: {error.args[0]}")
    except Exception:  # noqa: BLE001 - an error class built otherwise is passed on as it is
        return error
    named.__cause__ = error
    return named


class _SparkJobExecutor:
    """The shared part: tasks are collected, one job runs them on a background thread, its
    rows become events."""

    backend = "spark"
    mode = ""
    # the driver submits every task before it asks for events: Spark schedules the whole job
    window = sys.maxsize

    def __init__(self, session: Any, job_group: str, description: str) -> None:
        self.session = session
        self.job_group = job_group
        self.description = description
        self.num_workers = max(1, int(session.sparkContext.defaultParallelism))
        self._thread: threading.Thread | None = None

    # -- the Executor protocol

    def start(self, engine_options: str) -> None:
        self._options = engine_options
        self._tasks: list[Task] = []
        self._events = EventQueue()
        self._thread = None

    def capacity(self) -> int:
        return sys.maxsize

    def submit(self, task: Task) -> None:
        self._tasks.append(task)

    def events(self, timeout: float) -> list[TaskEvent]:
        if self._thread is None and self._tasks:
            self._thread = threading.Thread(target=self._run_job, name="truthound-spark-job",
                                            daemon=True)
            self._thread.start()
        return self._events.take(timeout)

    def close(self, cancel: bool) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if cancel and thread.is_alive():
            self.session.sparkContext.cancelJobGroup(self.job_group)
        thread.join()

    # -- the job

    def _outcomes(self) -> tuple[Any, dict[int, tuple[_Outcome, int]]]:
        """The job to collect and, per ``partition`` value of its rows, the task and piece
        (a task over no Spark partition has none: it profiles no rows)."""
        raise NotImplementedError

    def _collect(self, job: Any) -> list[_Row]:
        raise NotImplementedError

    def _run_job(self) -> None:
        began = time.perf_counter()
        try:
            job, slots = self._outcomes()
            # a job group per run (set on this thread, which ends with the job): the adapter
            # finds the run's job by it, and cancelling the group stops it
            self.session.sparkContext.setJobGroup(self.job_group, self.description,
                                                  interruptOnCancel=True)
            rows = self._collect(job) if job is not None else []
        except Exception as exc:  # noqa: BLE001 - reported to the driver as a failed task
            index, error = job_error(exc)
            error.__cause__ = exc
            key = self._key_of(index)
            self._events.put(TaskFailed(key, error))
            return
        seconds = time.perf_counter() - began  # rows carry no duration: each task gets the job's
        seen: set[tuple[int, int]] = set()
        for spark_partition, attempt, bucket, count, payload in rows:
            if spark_partition not in slots or (spark_partition, bucket) in seen:
                self._events.put(TaskFailed(self._key_of(None), SourceReadError(
                    f"the Spark job returned an unexpected partition {spark_partition}")))
                return
            seen.add((spark_partition, bucket))
            outcome, piece = slots[spark_partition]
            outcome.rows.append((piece, attempt, bucket, count, payload))
        outcomes = {id(o): o for o, _ in slots.values()}
        for outcome in outcomes.values():
            self._finish(outcome, seconds)
        covered = {o.task.key for o in outcomes.values()}
        for task in self._tasks:
            if task.key not in covered:  # no Spark partition: its columns, with no rows
                states = run_partition(task.work, self._options, batches=()).states
                self._events.put(TaskStarted(task.key, "driver"))
                self._events.put(TaskFinished(task.key, "driver", 0, 0.0, partials=tuple(states)))

    def _finish(self, outcome: _Outcome, seconds: float) -> None:
        key = outcome.task.key
        outcome.rows.sort(key=lambda r: (r[0], r[2]))  # by piece, then bucket
        for piece, _attempt, _bucket, count, payload in outcome.rows:
            if count == FAILED_ROWS:
                self._events.put(TaskFailed(key, _with_partition(pickle.loads(payload), piece)))
                return
        buckets = outcome.task.work.num_buckets
        got = [(r[0], r[2]) for r in outcome.rows]
        if got != [(p, b) for p in sorted(outcome.pieces) for b in range(buckets)]:
            self._events.put(TaskFailed(key, SourceReadError(
                f"the Spark job returned {len(got)} of the {len(outcome.pieces) * buckets} "
                f"partials of task {key[0]}")))
            return
        worker = "spark partition " + ",".join(str(p) for p in outcome.pieces)
        self._events.put(TaskStarted(key, worker))
        for piece, attempt, bucket, _count, _payload in outcome.rows:
            for tried in range(attempt if bucket == 0 else 0):
                self._events.put(TaskRetrying(key, worker, RuntimeError(
                    f"Spark ran partition {piece} again (attempt {tried} failed)")))
                self._events.put(TaskStarted(key, worker))
        total = sum(r[3] for r in outcome.rows)
        # bucket b of the k-th piece is row k * buckets + b
        partials: tuple[_core.PartialProfile | bytes, ...] = tuple(r[4] for r in outcome.rows[:buckets])
        if len(outcome.pieces) > 1:
            # a task over several Spark partitions: the engine merges each bucket's partials
            states = [_core.PartialProfile.from_bytes(r[4]) for r in outcome.rows[:buckets]]
            for i, r in enumerate(outcome.rows[buckets:]):
                states[i % buckets].merge(_core.PartialProfile.from_bytes(r[4]))
            partials = tuple(states)
        self._events.put(TaskFinished(key, worker, total, seconds, partials=partials))

    def _key_of(self, partition: int | None) -> tuple[int, int, int]:
        """The key of the task a failed Spark task's ``partition`` belongs to (the first task
        when it is not known)."""
        for task in self._tasks:
            if partition is not None and self._covers(task, partition):
                return task.key
        return self._tasks[0].key

    def _covers(self, task: Task, partition: int) -> bool:
        """Does ``task`` read the rows of the failed task numbered ``partition``?"""
        return task.partition == partition


class SparkFrameExecutor(_SparkJobExecutor):
    """Profiles the partitions of a Spark DataFrame with ``mapInArrow`` (see the module)."""

    mode = "mapInArrow"

    def __init__(self, session: Any, frame: Any, num_partitions: int, job_group: str,
                 description: str) -> None:
        super().__init__(session, job_group, description)
        self.frame = frame
        self.num_partitions = num_partitions

    def _outcomes(self) -> tuple[Any, dict[int, tuple[_Outcome, int]]]:
        # one selection per column group (the columns it reads); a Spark partition feeds one task
        # of each, which returns a partial per hash bucket
        selections: dict[tuple[str, ...], list[Task]] = {}
        for task in self._tasks:
            selections.setdefault(tuple(task.work.read_columns), []).append(task)
        slots: dict[int, tuple[_Outcome, int]] = {}
        job = None
        p = self.num_partitions
        if p == 0:
            return job, slots
        for k, (columns, tasks) in enumerate(selections.items()):
            template: Partition = replace(tasks[0].work, pieces=())
            for task in tasks:
                pieces = tuple(x.index for x in task.work.pieces if isinstance(x, ExternalPiece))
                outcome = _Outcome(task, pieces)
                for index in pieces:
                    slots[k * p + index] = (outcome, index)
            fn = _frame_function(k, p, pickle.dumps(template), self._options)
            mapped = self.frame.select(*[_column(c) for c in columns]).mapInArrow(fn, RESULT_SCHEMA)
            job = mapped if job is None else job.union(mapped)
        return job, slots

    def _covers(self, task: Task, partition: int) -> bool:
        # the frame's Spark partition ``partition`` (of any selection)
        return any(isinstance(p, ExternalPiece) and p.index == partition
                   for p in task.work.pieces)

    def _collect(self, job: Any) -> list[_Row]:
        table = job.toArrow()
        return list(zip(*(table.column(c).to_pylist()
                          for c in ("partition", "attempt", "bucket", "rows", "payload"))))


def _column(name: str) -> Any:
    from pyspark.sql.functions import col

    return col("`" + name.replace("`", "``") + "`")


class SparkFileExecutor(_SparkJobExecutor):
    """Runs truthound's planned tasks (files read by truthound's readers) as Spark tasks."""

    mode = "tasks"

    def _outcomes(self) -> tuple[Any, dict[int, tuple[_Outcome, int]]]:
        slots = {i: (_Outcome(task, (i,)), i) for i, task in enumerate(self._tasks)}
        items = [(i, pickle.dumps(task)) for i, task in enumerate(self._tasks)]
        sc = self.session.sparkContext
        job = sc.parallelize(items, len(items)).mapPartitions(_task_function(self._options))
        return job, slots

    def _collect(self, job: Any) -> list[_Row]:
        return [(int(r[0]), int(r[1]), int(r[2]), int(r[3]), bytes(r[4])) for r in job.collect()]
