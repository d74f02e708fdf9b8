"""The local backend: every core of this machine, threads (default) or worker processes.

Both are executors of the one driver (:mod:`.driver`), which plans, merges and assembles.
Threads: each worker thread takes a task, profiles it into a fresh engine partial (the engine
releases the GIL; each worker decodes on its own thread) and reports its rows read (at most every
``driver.PROGRESS_INTERVAL_SECONDS``). One worker is the caller's thread itself
(:class:`InlineExecutor`): no hand-off between threads.
Processes: a ``ProcessPoolExecutor`` (``forkserver``, else ``spawn``: no engine or thread state
is forked) runs a task per call and returns its serialized partial; rows read come back through a
queue. Either way every report reaches the driver's thread as an event.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from collections.abc import Iterator
from typing import Any

from truthound.errors import ConfigurationError
from truthound.profiler.distributed import driver
from truthound.profiler.distributed.backends import BaseBackend
from truthound.profiler.distributed.config import PartitionStrategy, check_num_workers
from truthound.profiler.distributed.driver import (
    Task,
    TaskEvent,
    TaskFailed,
    TaskFinished,
    TaskProgress,
    TaskStarted,
)
from truthound.profiler.distributed.observer import RunObserver
from truthound.profiler.distributed.partitioners import Partitioner
from truthound.profiler.model import ColumnProfile, TableProfile

__all__ = ["LocalBackend", "InlineExecutor", "ThreadExecutor", "ProcessExecutor", "local_threads"]

# Tasks an executor holds beyond the ones running, per worker: a worker never waits for the
# driver to hand it the next one.
_QUEUED_PER_WORKER = 1


class EventQueue:
    """Events for the driver's thread: put from anywhere, taken in batches (every executor's)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[TaskEvent] = queue.Queue()

    def put(self, event: TaskEvent) -> None:
        self._queue.put(event)

    def take(self, timeout: float) -> list[TaskEvent]:
        try:
            events = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events


class _Cancelled(Exception):
    """A task stopped because the run failed (its report is not read)."""


class QueuedExecutor:
    """An executor whose tasks wait in a local queue for its own workers or runner: at most
    ``_QUEUED_PER_WORKER`` tasks per worker beyond the running ones, events through an
    :class:`EventQueue`. Subclasses call :meth:`_open_queue` in ``start``."""

    num_workers: int

    def _open_queue(self, engine_options: str) -> None:
        self._options = engine_options
        self._work: queue.Queue[Task | None] = queue.Queue()
        self._events = EventQueue()
        self._pending = 0  # submitted, not finished
        self._lock = threading.Lock()
        self._cancel = threading.Event()

    def capacity(self) -> int:
        with self._lock:
            return self.num_workers * (1 + _QUEUED_PER_WORKER) - self._pending

    def submit(self, task: Task) -> None:
        with self._lock:
            self._pending += 1
        self._work.put(task)

    def events(self, timeout: float) -> list[TaskEvent]:
        events = self._events.take(timeout)
        done = sum(isinstance(e, (TaskFinished, TaskFailed)) for e in events)
        if done:
            with self._lock:
                self._pending -= done
        return events


def local_threads(num_workers: int) -> InlineExecutor | ThreadExecutor:
    """The executor of ``num_workers`` threads of this process (one: the caller's thread)."""
    return InlineExecutor() if num_workers == 1 else ThreadExecutor(num_workers)


class ThreadExecutor(QueuedExecutor):
    """Worker threads of this process, each profiling one task at a time."""

    backend = "local"
    mode = "threads"

    def __init__(self, num_workers: int) -> None:
        self.num_workers = num_workers
        self._threads: list[threading.Thread] = []

    def start(self, engine_options: str) -> None:
        self._open_queue(engine_options)
        self._threads = [
            threading.Thread(target=self._worker, name=f"truthound-local-{i}", daemon=True)
            for i in range(self.num_workers)
        ]
        for t in self._threads:
            t.start()

    def close(self, cancel: bool) -> None:
        if cancel:
            self._cancel.set()
        for _ in self._threads:
            self._work.put(None)
        for t in self._threads:
            t.join()
        self._threads = []

    def _worker(self) -> None:
        name = threading.current_thread().name
        while (task := self._work.get()) is not None:
            if self._cancel.is_set():
                continue  # drain: tasks not started are dropped
            key = task.key
            self._events.put(TaskStarted(key, name))
            began = time.perf_counter()
            def progress(n: int, key: tuple[int, int, int] = key) -> None:
                self._events.put(TaskProgress(key, n))

            report = driver.Throttled(progress)

            def on_rows(n: int) -> None:
                if self._cancel.is_set():
                    raise _Cancelled  # the run failed: stop at the next batch
                report(n)

            try:
                out = driver.run_task(task, self._options, on_rows=on_rows)
                self._events.put(TaskFinished(key, name, out.total_rows,
                                              time.perf_counter() - began,
                                              partials=tuple(out.states)))
            except BaseException as exc:  # noqa: BLE001 - re-raised by the driver
                self._events.put(TaskFailed(key, exc))


class InlineExecutor:
    """One worker: the driver's own thread, running each task as the driver takes its events
    (a task's progress after each batch, as a worker thread reports it). With a single worker
    a thread only adds hand-offs: the batches stay on one core, as a direct call keeps them."""

    backend = "local"
    mode = "threads"
    num_workers = 1

    def start(self, engine_options: str) -> None:
        self._options = engine_options
        self._tasks: collections.deque[Task] = collections.deque()

    def capacity(self) -> int:
        return 1 - len(self._tasks)

    def submit(self, task: Task) -> None:
        self._tasks.append(task)

    def events(self, timeout: float) -> Iterator[TaskEvent]:
        if not self._tasks:
            return
        task = self._tasks.popleft()
        key, name = task.key, threading.current_thread().name
        yield TaskStarted(key, name)
        began = time.perf_counter()
        try:
            steps = driver.task_steps(task, self._options)
            while True:
                try:
                    rows = next(steps)
                except StopIteration as done:
                    out = done.value
                    break
                yield TaskProgress(key, rows)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the driver
            yield TaskFailed(key, exc)
            return
        yield TaskFinished(key, name, out.total_rows, time.perf_counter() - began,
                           partials=tuple(out.states))

    def close(self, cancel: bool) -> None:
        self._tasks.clear()


# --------------------------------------------------------------------------- processes

# In a worker process: where rows read go (set by the pool's initializer).
_child_events: Any = None


def _init_child(events: Any) -> None:
    global _child_events
    _child_events = events


def _run_in_child(task: Task, engine_options: str) -> tuple[tuple[bytes, ...], int, float, str]:
    """A task in a worker process: (serialized partials, rows, seconds, worker)."""
    worker = f"pid {os.getpid()}"
    key = task.key
    if _child_events is not None:
        _child_events.put(("started", key, worker))
    began = time.perf_counter()

    def on_rows(n: int) -> None:
        if _child_events is not None:
            _child_events.put(("progress", key, n))

    out = driver.run_task(task, engine_options, on_rows=driver.Throttled(on_rows))
    return out.payloads(), out.total_rows, time.perf_counter() - began, worker


def _mp_context() -> BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class ProcessExecutor:
    """Worker processes, each returning a task's serialized partial profile."""

    backend = "local"
    mode = "processes"

    def __init__(self, num_workers: int) -> None:
        self.num_workers = num_workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self, engine_options: str) -> None:
        self._options = engine_options
        context = _mp_context()
        # synchronous puts: a task's reports are in the pipe before its result is sent
        self._rows: Any = context.SimpleQueue()
        self._events = EventQueue()
        self._futures: set[Future[tuple[tuple[bytes, ...], int, float, str]]] = set()
        self._pool = ProcessPoolExecutor(max_workers=self.num_workers, mp_context=context,
                                         initializer=_init_child, initargs=(self._rows,))

    def capacity(self) -> int:
        return self.num_workers * (1 + _QUEUED_PER_WORKER) - len(self._futures)

    def submit(self, task: Task) -> None:
        assert self._pool is not None
        future = self._pool.submit(_run_in_child, task, self._options)
        self._futures.add(future)
        key = task.key

        def done(f: Future[tuple[tuple[bytes, ...], int, float, str]]) -> None:
            if f.cancelled():
                return
            error = f.exception()
            if error is not None:
                self._events.put(TaskFailed(key, error))
                return
            payloads, rows, seconds, worker = f.result()
            self._events.put(TaskFinished(key, worker, rows, seconds, partials=payloads))

        future.add_done_callback(done)

    def events(self, timeout: float) -> list[TaskEvent]:
        ended = self._events.take(0 if not self._rows.empty() else timeout)
        # read after the results: whatever a task reported before its result is here
        events: list[TaskEvent] = []
        while not self._rows.empty():
            kind, key, value = self._rows.get()
            events.append(TaskStarted(key, value) if kind == "started" else TaskProgress(key, value))
        if ended:
            self._futures = {f for f in self._futures if not f.done()}
        return events + ended

    def close(self, cancel: bool) -> None:
        if self._pool is not None:
            if cancel:
                for f in self._futures:
                    f.cancel()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._rows.close()


# --------------------------------------------------------------------------- the backend


class LocalBackend(BaseBackend):
    """Local multithread/multiprocess backend.

    >>> import pyarrow as pa
    >>> backend = LocalBackend(num_workers=2)
    >>> backend.profile(pa.table({"x": list(range(10))})).row_count
    10
    """

    name = "local"

    def __init__(
        self,
        num_workers: int | None = None,
        use_processes: bool = False,
        *,
        partition_strategy: PartitionStrategy | str | Partitioner = PartitionStrategy.ROW_BASED,
        config: Any = None,
    ) -> None:
        self.num_workers = check_num_workers(num_workers)
        if not isinstance(use_processes, bool):
            raise ConfigurationError(f"option 'use_processes' must be True or False, got {use_processes!r}")
        self.use_processes = use_processes
        if not isinstance(partition_strategy, Partitioner):
            partition_strategy = PartitionStrategy.parse(partition_strategy)
        self.partition_strategy = partition_strategy
        self.config = config

    def __repr__(self) -> str:
        mode = "processes" if self.use_processes else "threads"
        return f"LocalBackend(num_workers={self.num_workers}, {mode}, strategy={self.partition_strategy})"

    def executor(self) -> InlineExecutor | ThreadExecutor | ProcessExecutor:
        """The executor the driver runs this backend's partitions on."""
        if self.use_processes:
            return ProcessExecutor(self.num_workers)
        return local_threads(self.num_workers)

    def profile(
        self,
        data: Any,
        *,
        partition_strategy: PartitionStrategy | str | Partitioner | None = None,
        monitor: RunObserver | None = None,
        **options: Any,
    ) -> TableProfile:
        """Profile ``data`` (anything truthound.profiler.profile accepts) on this machine.

        Options are those of :func:`truthound.profiler.profile` (``columns``, ``top_n``, ...);
        ``monitor`` is told about every partition (a :class:`~.observer.RunObserver`).
        """
        strategy = partition_strategy if partition_strategy is not None else self.partition_strategy
        return driver.run(data, self.executor(), strategy=strategy, observer=monitor, **options)

    def profile_columns_parallel(
        self, data: Any, columns: Any = None, **options: Any
    ) -> dict[str, ColumnProfile]:
        """Profile ``columns`` (default: all) in parallel column groups; profiles by name."""
        if columns is not None:
            options["columns"] = list(columns) if not isinstance(columns, str) else [columns]
        result = self.profile(data, partition_strategy=PartitionStrategy.COLUMN_BASED, **options)
        return {c.name: c for c in result.columns}
