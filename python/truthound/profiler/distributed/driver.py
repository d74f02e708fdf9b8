"""The driver: one path from a source to a :class:`TableProfile`, whatever runs the partitions.

    plan (partitions from the source and the strategy)
      -> run each partition on an executor (threads, processes; Spark, Dask, Ray bring theirs)
      -> merge the partial profiles in partition order (hash partitioning: bucket by bucket)
      -> assemble the TableProfile (with how it ran: backend, workers, strategy, partitions)

:func:`truthound.profiler.profile` and every backend call :func:`run`; a backend supplies only an
:class:`Executor`. The driver tells a :class:`~.observer.RunObserver` about every partition it
runs, keyed by ``(partition, attempt)``, on its own thread.

A CSV column whose later values do not fit the type inferred from the file's first block (an
``x`` in a column of integers) is planned again as text: every partition is run again under the
next attempt, so every backend and strategy gives the answer ``profile()`` gives.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import pyarrow as pa

from truthound import _core
from truthound.errors import ConfigurationError, one_line
from truthound.profiler.distributed.config import PartitionStrategy
from truthound.profiler.distributed.grouping import split_rows
from truthound.profiler.distributed.memory import assemble_columns, memory_column_groups
from truthound.profiler.distributed.merger import merge_states
from truthound.profiler.distributed.observer import NullObserver, RunObserver
from truthound.profiler.distributed.partitioners import (
    ColumnBasedPartitioner,
    HashPartitioner,
    HybridPartitioner,
    Partitioner,
    RowBasedPartitioner,
)
from truthound.profiler.distributed.pieces import BatchPiece, Partition
from truthound.profiler.distributed.planning import SourcePlan, plan_source
from truthound.profiler.distributed.worker import PartitionOutput, partition_steps, run_partition
from truthound.profiler.model import Execution, TableProfile
from truthound.profiler.progress import ProgressCallback, RowProgress, check_progress
from truthound.profiler.sources import DEFAULT_BATCH_SIZE, CsvTypeConflict

__all__ = [
    "Task",
    "TaskStarted",
    "TaskProgress",
    "TaskFinished",
    "TaskFailed",
    "TaskRetrying",
    "TaskEvent",
    "Executor",
    "run",
    "split_options",
    "partition_plan",
]

_log = logging.getLogger("truthound.profiler.distributed")

# Files are cut into this many row units (row groups, row ranges, CSV byte ranges) per worker,
# then grouped by rows into one partition per worker: the finer cut balances uneven row groups or
# files, and one partition per worker starts each sketch once per worker, not once per unit
# (10M rows, 10 row groups, 2 workers: 2.45 -> 2.25 s against 8 partitions).
UNITS_PER_WORKER = 4
# Rows of a stream per task: a stream is read once, by the driver, and dealt out in chunks.
STREAM_CHUNK_ROWS = 2 * DEFAULT_BATCH_SIZE
# Tasks issued ahead of the oldest unmerged one, per worker: bounds the finished partials that
# wait for their turn to merge (and the stream chunks in memory).
MERGE_WINDOW_PER_WORKER = 4
_SOURCE_OPTIONS = ("columns", "batch_size", "format", "encoding", "storage_options")


# --------------------------------------------------------------------------- tasks and events


@dataclass(frozen=True)
class Task:
    """One unit an executor runs: partition ``partition`` (its ``chunk``-th piece of a stream; 0
    otherwise) in attempt ``attempt``. ``work`` is picklable; the result is its partial
    profiles, one per bucket of ``work`` (:func:`run_task`)."""

    partition: int
    attempt: int
    chunk: int
    work: Partition

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.partition, self.attempt, self.chunk)


@dataclass(frozen=True)
class TaskStarted:
    key: tuple[int, int, int]
    worker: str


@dataclass(frozen=True)
class TaskProgress:
    key: tuple[int, int, int]
    rows: int  # rows of this task read so far (cumulative)


@dataclass(frozen=True)
class TaskFinished:
    key: tuple[int, int, int]
    worker: str
    rows: int  # rows profiled
    duration_seconds: float
    # the partial profiles, one per bucket of the partition (one unless hash partitioned), in
    # bucket order: _core.PartialProfile objects in this process, or their serialized bytes
    partials: tuple[_core.PartialProfile | bytes, ...] = ()


@dataclass(frozen=True)
class TaskFailed:
    key: tuple[int, int, int]
    error: BaseException


@dataclass(frozen=True)
class TaskRetrying:
    """The engine runs the task again (its worker died, Ray or Dask retries it): what the task
    reported so far is void, and its partition reports again under the next attempt."""

    key: tuple[int, int, int]
    worker: str
    error: BaseException


TaskEvent = TaskStarted | TaskProgress | TaskFinished | TaskFailed | TaskRetrying


class Executor(Protocol):
    """Where tasks run. The driver calls every method from its own thread.

    ``start`` before the first task and ``close`` after the last (``cancel``: drop the tasks not
    started, after a failure); ``capacity`` is how many more tasks it takes now; ``submit`` must
    not block; ``events`` returns what happened since the last call (waiting up to ``timeout``
    seconds for something), each task ending with one TaskFinished or TaskFailed; an executor
    that runs tasks on the driver's own thread returns an iterator that runs them as the driver
    takes its events. An executor
    whose engine retries a task by itself reports TaskRetrying before the new try's events.

    An executor may set ``window``, the tasks the driver issues ahead of the oldest unmerged one
    (default ``MERGE_WINDOW_PER_WORKER * num_workers``; ``sys.maxsize``: every task is submitted
    before the first ``events`` call, for an engine that schedules a whole job itself, as Spark
    does). A source planned by :func:`~.planning.external_plan` runs only on the executor of
    the engine that holds it: its tasks' partitions hold :class:`~.pieces.ExternalPiece` s, and
    the executor feeds their batches with ``run_task(task, options, batches=...)``.

    Every executor runs :func:`run_task` for a task and passes its output through as it is:
    ``TaskFinished.partials`` is ``output.states`` (in this process) or ``output.payloads()``.
    """

    backend: str  # "local", "spark", ...
    mode: str  # "threads", "processes", ...
    num_workers: int

    def start(self, engine_options: str) -> None: ...

    def capacity(self) -> int: ...

    def submit(self, task: Task) -> None: ...

    def events(self, timeout: float) -> Iterable[TaskEvent]: ...

    def close(self, cancel: bool) -> None: ...


# A task's rows read reach the driver at most this often. Each report wakes the driver's thread
# (or crosses a process): one per batch cost a single-threaded run about a fifth of its time.
PROGRESS_INTERVAL_SECONDS = 0.1


class Throttled:
    """``report(rows)`` at most once per ``interval`` seconds: the first call, then the first
    after each interval (the task's end is reported by its TaskFinished)."""

    def __init__(self, report: Callable[[int], None],
                 interval: float = PROGRESS_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._report = report
        self._interval = interval
        self._clock = clock
        self._last = -math.inf

    def __call__(self, rows: int) -> None:
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self._report(rows)


def run_task(
    task: Task,
    engine_options: str,
    *,
    batches: Iterable[pa.RecordBatch] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> PartitionOutput:
    """Profile a task's rows (what every executor runs): one engine partial per bucket of its
    partition. ``batches``: the rows of an engine's frame, which its executor reads."""
    return run_partition(task.work, engine_options, batches=batches, on_rows=on_rows)


def task_steps(task: Task, engine_options: str) -> Generator[int, None, PartitionOutput]:
    """:func:`run_task` one batch at a time (rows read so far after each; returns the output),
    for an executor that runs a task on the driver's thread."""
    return partition_steps(task.work, engine_options)


# --------------------------------------------------------------------------- planning


def split_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(source options, validated engine options) from profile()-style keyword arguments."""
    from truthound.profiler.api import engine_options

    rest = dict(options)
    source = {k: rest.pop(k) for k in _SOURCE_OPTIONS if k in rest}
    if source.get("batch_size", 0) is None:
        del source["batch_size"]  # planning sizes batches by bytes
    return source, engine_options(**rest)


def partition_plan(
    plan: SourcePlan,
    strategy: PartitionStrategy | str | Partitioner,
    num_workers: int,
    engine_options: Mapping[str, Any],
) -> list[Partition]:
    """The partitions ``num_workers`` workers run for ``strategy``.

    With correlations on, column groups are not split (a correlation needs both columns).
    Row-based: a Parquet source too wide for one task per row part within
    :data:`~.memory.TASK_MEMORY_BUDGET` is cut into column groups as well (:mod:`.memory`).
    """
    if isinstance(strategy, Partitioner):
        return strategy.partition(plan)
    strategy = PartitionStrategy.parse(strategy)
    ncols = max(1, len(plan.columns))
    split_columns = not engine_options.get("correlations", False)
    units = num_workers * (UNITS_PER_WORKER if plan.kind == "files" else 1)
    if strategy is PartitionStrategy.ROW_BASED:
        if split_columns:
            # a wide Parquet source: column groups whose tasks fit the memory budget
            row_parts = split_rows(plan, num_workers)
            bounded = memory_column_groups(plan, row_parts)
            if bounded is not None:
                return Partitioner._make(plan, row_parts, bounded, shipped=True)
        return RowBasedPartitioner(num_workers, min_units=units).partition(plan)
    if strategy is PartitionStrategy.COLUMN_BASED:
        groups = min(num_workers, ncols) if split_columns else 1
        return ColumnBasedPartitioner().partition(plan, num_workers=groups)
    if strategy is PartitionStrategy.HYBRID:
        cols = min(2, ncols) if split_columns else 1
        # rows x columns work items for the workers to share out: a column group's cost is
        # only estimated, so items are not matched one to one with workers here
        rows = max(1, math.ceil(units / cols))
        return HybridPartitioner(rows, cols).partition(plan)
    return HashPartitioner(num_workers, row_parts=num_workers).partition(plan)


def _num_partitions(partitions: list[Partition]) -> int:
    """How many partitions the source was split into: the tasks' (row parts x column groups),
    or the hash buckets x column groups of a hash partitioning (its tasks are its map side)."""
    if partitions and partitions[0].hashed:
        return partitions[0].num_buckets * partitions[0].column_groups
    return len(partitions)


def _strategy_name(strategy: PartitionStrategy | str | Partitioner) -> str:
    if isinstance(strategy, Partitioner):
        return type(strategy).__name__
    return PartitionStrategy.parse(strategy).value


# --------------------------------------------------------------------------- the run


def run(
    source: Any,
    executor: Executor,
    *,
    strategy: PartitionStrategy | str | Partitioner = PartitionStrategy.ROW_BASED,
    observer: RunObserver | None = None,
    progress: bool | ProgressCallback = False,
    **options: Any,
) -> TableProfile:
    """Profile ``source`` (anything :func:`truthound.profiler.profile` accepts) with
    ``executor``; ``options`` are profile()'s (columns, top_n, batch_size, format, ...).
    ``observer`` is told about every partition; ``progress`` as in profile()."""
    started = time.perf_counter()
    source_options, engine_options = split_options(options)
    observers: list[RunObserver] = [observer if observer is not None else NullObserver()]
    progress = check_progress(progress)
    if progress is not False:
        observers.append(RowProgress(progress))
    watcher = _Guarded(observers)
    workers = executor.num_workers
    # one worker: nothing to split (a file read whole streams faster than in ranges)
    min_units = workers * UNITS_PER_WORKER if workers > 1 else 1
    csv_types: dict[str, pa.DataType] = {}

    def retryable(error: BaseException) -> bool:
        return isinstance(error, CsvTypeConflict) and error.column not in csv_types

    attempt = 0
    current: _Run | None = None
    announced = False
    try:
        while True:
            plan = plan_source(source, min_units=min_units, csv_column_types=csv_types or None,
                               **source_options)
            partitions = partition_plan(plan, strategy, workers, engine_options)
            if not announced:
                watcher.run_started(backend=executor.backend, num_workers=workers,
                                    num_partitions=len(partitions), total_rows=plan.total_rows)
                announced = True
            current = _Run(plan, partitions, executor, attempt, engine_options, watcher,
                           retryable)
            try:
                state = current.execute()
                break
            except CsvTypeConflict as exc:
                # The type pyarrow inferred from the first block does not hold for a later
                # value: plan again with the column read as text, the only lossless choice.
                if not retryable(exc):
                    raise
                csv_types[exc.column] = pa.large_string()
                attempt = current.next_attempt()
        merge_started = time.perf_counter()
        if isinstance(state, _GroupResults):
            result = TableProfile._from_column_groups(assemble_columns(state.results),
                                                      state.parts, source=plan.description)
        else:
            state.add_source(plan.description)
            result = TableProfile._from_state(state, source=plan.description)
        watcher.merge_completed(partitions=len(partitions),
                                duration_seconds=time.perf_counter() - merge_started)
    except BaseException:
        watcher.run_finished(success=False, duration_seconds=time.perf_counter() - started,
                             rows=current.rows() if current is not None else 0)
        raise
    rows = current.rows()
    result.execution = Execution(
        backend=executor.backend, executor=executor.mode, num_workers=workers,
        partition_strategy=_strategy_name(strategy), num_partitions=_num_partitions(partitions),
    )
    result.profile_duration_ms = (time.perf_counter() - started) * 1000.0
    watcher.run_finished(success=True, duration_seconds=time.perf_counter() - started, rows=rows)
    return result


@dataclass
class _GroupResults:
    """A run planned in column groups to bound memory: each group's finalized result (the
    engine's JSON, parsed) and serialized state, in group order."""

    results: list[dict[str, Any]]
    parts: tuple[bytes, ...]


@dataclass
class _PartitionState:
    """A partition's progress in one attempt: its chunks' rows and its merged partials (one
    per bucket)."""

    submitted: bool = False
    started: bool = False
    done: bool = False
    chunks: int | None = None  # known once every chunk is issued
    merged_chunks: int = 0
    rows_done: int = 0  # rows of merged chunks
    rows_running: dict[int, int] = field(default_factory=dict)  # chunk -> rows read so far
    # chunk -> (partials, rows)
    waiting: dict[int, tuple[list[_core.PartialProfile], int]] = field(default_factory=dict)
    retries: int = 0  # tries the engine started again (TaskRetrying)
    states: list[_core.PartialProfile] | None = None  # per bucket
    duration: float = 0.0
    payload_bytes: int = 0

    def rows_read(self) -> int:
        return self.rows_done + sum(self.rows_running.values())


class _Run:
    """One attempt of a plan on an executor: issue tasks, collect events, merge in order."""

    def __init__(
        self,
        plan: SourcePlan,
        partitions: list[Partition],
        executor: Executor,
        attempt: int,
        engine_options: Mapping[str, Any],
        watcher: _Guarded,
        retryable: Callable[[BaseException], bool],
    ) -> None:
        self.plan = plan
        self.partitions = partitions
        self.executor = executor
        self.attempt = attempt
        self.options = json.dumps(dict(engine_options))
        self.watcher = watcher
        self.retryable = retryable
        self.parts = [_PartitionState() for _ in partitions]
        window = getattr(executor, "window", None)
        self.window = window if window is not None else \
            MERGE_WINDOW_PER_WORKER * max(1, executor.num_workers)
        self.in_flight = 0  # issued tasks not yet merged into their partition
        self.finished: set[tuple[int, int, int]] = set()
        self.next_to_merge = 0  # partitions before it are merged into `groups`
        # column group -> merged partial per bucket
        self.groups: dict[int, list[_core.PartialProfile]] = {}
        # a plan cut into column groups to bound memory (.memory): each group, once complete, is
        # finalized and kept as (result, bytes) here instead of as a working state
        self.finalize_groups = bool(partitions) and partitions[0].shipped \
            and partitions[0].column_groups > 1 and partitions[0].num_buckets == 1
        self.finals: dict[int, tuple[dict[str, Any], bytes]] = {}

    # ------------------------------------------------------------------ issuing

    def _tasks(self) -> Iterator[Task]:
        if self.plan.kind != "stream":
            for p in self.partitions:
                self.parts[p.index].chunks = 1
                yield Task(p.index, self.attempt, 0, p)
            return
        # A stream is read once, here, and dealt out in chunks: chunk k goes to row part
        # k % row_parts of every column group (whose task splits it into its hash buckets).
        issued = [0] * len(self.partitions)
        for k, chunk in enumerate(_chunks(self.plan, self.partitions, STREAM_CHUNK_ROWS)):
            for p in self.partitions:
                if p.row_part == k % p.row_parts:
                    yield Task(p.index, self.attempt, issued[p.index],
                               replace(p, pieces=(BatchPiece(chunk),)))
                    issued[p.index] += 1
        for p in self.partitions:
            self.parts[p.index].chunks = issued[p.index]

    def _submit(self, task: Task) -> None:
        part = self.parts[task.partition]
        if not part.submitted:
            part.submitted = True
            p = self.partitions[task.partition]
            self.watcher.partition_submitted(task.partition, self._attempt(task.partition),
                                             total_rows=p.num_rows,
                                             description=p.describe())
        self.executor.submit(task)
        self.in_flight += 1

    # ------------------------------------------------------------------ the loop

    def execute(self) -> Any:
        """Run every partition; the merged partial."""
        self.executor.start(self.options)
        ok = False
        try:
            tasks = self._tasks()
            exhausted = False
            while True:
                while (not exhausted and self.in_flight < self.window
                       and self.executor.capacity() > 0):
                    task = next(tasks, None)
                    if task is None:
                        exhausted = True
                        self._complete_empty()
                        break
                    self._submit(task)
                if exhausted and self.in_flight == 0:
                    break
                for event in self.executor.events(timeout=0.05):
                    self._handle(event)
                if exhausted:
                    self._complete_ready()
            ok = True
        except BaseException as exc:
            self._fail_unfinished(will_retry=self.retryable(exc))
            raise
        finally:
            self.executor.close(cancel=not ok)
        return self._result()

    def _handle(self, event: TaskEvent) -> None:
        partition, _attempt, chunk = event.key
        part = self.parts[partition]
        if event.key in self.finished:
            return  # a late message from a worker process about a finished task
        if isinstance(event, TaskStarted):
            self._started(partition, event.worker)
        elif isinstance(event, TaskProgress):
            self._started(partition, "")
            part.rows_running[chunk] = event.rows
            self.watcher.partition_progress(partition, self._attempt(partition),
                                            rows_processed=part.rows_read(),
                                            total_rows=self.partitions[partition].num_rows)
        elif isinstance(event, TaskRetrying):
            self._retrying(partition, chunk, event)
        elif isinstance(event, TaskFinished):
            self.finished.add(event.key)
            self._started(partition, event.worker)
            states = self._partials(event)
            part.duration += event.duration_seconds
            part.rows_running[chunk] = event.rows
            part.waiting[chunk] = (states, event.rows)
            self._merge_chunks(partition)
        else:
            self.finished.add(event.key)
            self.watcher.partition_failed(partition, self._attempt(partition),
                                          error=one_line(event.error),
                                          will_retry=self.retryable(event.error))
            part.done = True
            raise event.error

    def _partials(self, event: TaskFinished) -> list[_core.PartialProfile]:
        """A finished task's partials as engine objects, one per bucket of its partition."""
        expected = self.partitions[event.key[0]].num_buckets
        if len(event.partials) != expected:
            raise RuntimeError(f"task {event.key} returned {len(event.partials)} partial "
                               f"profiles, expected {expected} (one per bucket)")
        states: list[_core.PartialProfile] = []
        for partial in event.partials:
            if isinstance(partial, bytes):
                self.parts[event.key[0]].payload_bytes += len(partial)
                partial = _core.PartialProfile.from_bytes(partial)
            states.append(partial)
        return states

    def _attempt(self, partition: int) -> int:
        return self.attempt + self.parts[partition].retries

    def next_attempt(self) -> int:
        """The attempt number a new run of this plan starts at (after every retry here)."""
        return self.attempt + 1 + max((part.retries for part in self.parts), default=0)

    def _retrying(self, partition: int, chunk: int, event: TaskRetrying) -> None:
        """The engine runs a task again: the partition's try so far is void (its merged chunks
        stay, they finished), and it reports again under the next attempt."""
        part = self.parts[partition]
        part.rows_running.pop(chunk, None)
        self.watcher.partition_failed(partition, self._attempt(partition),
                                      error=one_line(event.error), will_retry=True)
        part.retries += 1
        part.started = False
        self.watcher.partition_submitted(partition, self._attempt(partition),
                                         total_rows=self.partitions[partition].num_rows,
                                         description=self.partitions[partition].describe())

    def _started(self, partition: int, worker: str) -> None:
        part = self.parts[partition]
        if not part.started:
            part.started = True
            self.watcher.partition_started(partition, self._attempt(partition),
                                           worker=worker or "?")

    def _merge_chunks(self, partition: int) -> None:
        """Fold the partition's finished chunks into its partial, in chunk order."""
        part = self.parts[partition]
        while part.merged_chunks in part.waiting:
            states, rows = part.waiting.pop(part.merged_chunks)
            part.rows_running.pop(part.merged_chunks, None)
            part.states = _merged(part.states, states)
            part.rows_done += rows
            part.merged_chunks += 1
            self.in_flight -= 1
        self._complete_ready()

    def _complete_ready(self) -> None:
        for index, part in enumerate(self.parts):
            if not part.done and part.chunks is not None and part.merged_chunks == part.chunks \
                    and part.states is not None:
                part.done = True
                # the last word on rows before the partition completes: progress is cumulative
                self.watcher.partition_progress(index, self._attempt(index),
                                                rows_processed=part.rows_done,
                                                total_rows=self.partitions[index].num_rows)
                self.watcher.partition_completed(index, self._attempt(index), rows=part.rows_done,
                                                 duration_seconds=part.duration,
                                                 payload_bytes=part.payload_bytes)
        # partitions merge into their column group in partition order, as they complete (each
        # bucket into that bucket's partial)
        while self.next_to_merge < len(self.parts) and self.parts[self.next_to_merge].done:
            part = self.parts[self.next_to_merge]
            group = self.partitions[self.next_to_merge].column_group
            if part.states is not None:
                self.groups[group] = _merged(self.groups.get(group), part.states)
                part.states = None
            self.next_to_merge += 1
            if self.finalize_groups and group in self.groups and (
                    self.next_to_merge == len(self.parts)
                    or self.partitions[self.next_to_merge].column_group != group):
                self._finalize_group(group)

    def _finalize_group(self, group: int) -> None:
        """A complete column group: its result and bytes, its working state dropped."""
        (state,) = self.groups.pop(group)
        state.add_source(self.plan.description)
        self.finals[group] = (json.loads(state.finalize()), bytes(state.to_bytes()))

    def _complete_empty(self) -> None:
        """Partitions that got no task (a stream with fewer chunks than partitions) still
        profile their columns, with no rows: every column appears in the profile."""
        for index, part in enumerate(self.parts):
            if part.chunks == 0:
                p = self.partitions[index]
                self._submit_nothing(index, p)

    def _submit_nothing(self, index: int, p: Partition) -> None:
        part = self.parts[index]
        states = run_partition(p, self.options, batches=()).states
        if not part.submitted:
            part.submitted = True
            self.watcher.partition_submitted(index, self._attempt(index), total_rows=0,
                                             description=p.describe())
        self._started(index, "driver")
        part.states = states
        part.chunks = 0

    def _fail_unfinished(self, will_retry: bool) -> None:
        """Tell the observer that partitions issued but not finished end here (and run again
        in the next attempt when ``will_retry``)."""
        for index, part in enumerate(self.parts):
            if part.submitted and not part.done:
                part.done = True
                self.watcher.partition_failed(index, self._attempt(index),
                                              error="cancelled: another partition failed",
                                              will_retry=will_retry)

    def rows(self) -> int:
        """Rows of the partitions merged so far."""
        return sum(part.rows_done for part in self.parts)

    def _result(self) -> Any:
        """The merged partial: in each column group its buckets by rows, in bucket order, then
        the groups by columns (a plan of finalized groups: their results and bytes)."""
        if self.finalize_groups:
            order = sorted(self.finals)
            return _GroupResults([self.finals[g][0] for g in order],
                                 tuple(self.finals[g][1] for g in order))
        groups = [(g, state) for g in sorted(self.groups) for state in self.groups[g]]
        return merge_states([state for _, state in groups], [g for g, _ in groups])


def _merged(
    into: list[_core.PartialProfile] | None, states: list[_core.PartialProfile]
) -> list[_core.PartialProfile]:
    """``states`` merged by rows into ``into``, bucket by bucket (``states`` when ``into`` is
    None); the engine releases the GIL while it merges."""
    if into is None:
        return states
    for mine, other in zip(into, states):
        mine.merge(other)
    return into


def _chunks(plan: SourcePlan, partitions: list[Partition],
            chunk_rows: int) -> Iterator[tuple[pa.RecordBatch, ...]]:
    """The stream's batches, with every column any partition reads, in chunks of about
    ``chunk_rows`` rows."""
    need: set[str] = set()
    for p in partitions:
        need.update(p.read_columns)
    assert plan.open_stream is not None
    chunk: list[pa.RecordBatch] = []
    rows = 0
    for batch in plan.open_stream([n for n in plan.schema.names if n in need]):
        chunk.append(batch)
        rows += batch.num_rows
        if rows >= chunk_rows:
            yield tuple(chunk)
            chunk, rows = [], 0
    if chunk:
        yield tuple(chunk)


class _Guarded:
    """Calls every observer in turn; one that raises does not break the run (logged once)."""

    def __init__(self, observers: list[RunObserver]) -> None:
        for observer in observers:
            if not isinstance(observer, RunObserver):
                raise ConfigurationError(
                    "option 'monitor' must implement RunObserver (run_started, "
                    f"partition_submitted, ...), got {type(observer).__name__}"
                )
        self._observers = observers
        self._logged: set[int] = set()

    def __getattr__(self, name: str) -> Callable[..., None]:
        methods = [(id(o), type(o).__name__, getattr(o, name)) for o in self._observers]

        def call(*args: Any, **kwargs: Any) -> None:
            for ident, kind, method in methods:
                try:
                    method(*args, **kwargs)
                except Exception:  # noqa: BLE001 - a watcher never breaks the profile
                    if ident not in self._logged:
                        self._logged.add(ident)
                        _log.exception("run observer %s raised in %s; the run goes on", kind, name)

        return call
