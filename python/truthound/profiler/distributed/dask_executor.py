"""Executors of the driver on Dask: a distributed cluster (one future per task) and Dask's local
schedulers (threads, processes, synchronous: ``dask.compute`` of delayed calls).

On a cluster each driver task is a future whose Dask key names the run, the partition, the
attempt and the chunk (``truthound-<run>-p<partition>-a<attempt>-c<chunk>``). Workers report a
try's start and rows through an event topic; when a second try of a task starts (the scheduler
ran it again after its worker died) the executor reports :class:`~.driver.TaskRetrying` for the
lost worker first, so the try's rows are void and count once. A task that fails names its
partition (its file or frame partition); a task whose workers kept dying fails with the
scheduler's ``KilledWorker``, named the same way -- never a partial profile.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import Executor as PoolExecutor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from truthound.errors import TruthoundError, one_line
from truthound.profiler.distributed.dask_tasks import (
    TaskResult,
    run_file_task,
    run_frame_task,
    run_local_task,
)
from truthound.profiler.distributed.local import QueuedExecutor
from truthound.profiler.distributed.driver import (
    Task,
    TaskEvent,
    TaskFailed,
    TaskFinished,
    TaskProgress,
    TaskRetrying,
    TaskStarted,
)
from truthound.profiler.distributed.pieces import ExternalPiece

__all__ = ["DaskFrame", "DaskClusterExecutor", "DaskLocalExecutor", "DaskTaskError",
           "DaskWorkerLost"]

# Tasks held beyond the ones running, per worker: a worker never waits for the driver.
_QUEUED_PER_WORKER = 1


class DaskTaskError(TruthoundError, RuntimeError):
    """A Dask task failed in a way that is not a truthound error (its message names the
    partition: the file or the frame partition it profiled)."""


class DaskWorkerLost(TruthoundError, RuntimeError):
    """The worker running a task died; the scheduler runs the task again elsewhere."""


@dataclass(frozen=True)
class DaskFrame:
    """A Dask DataFrame as the executor reads it: its partitions (delayed) and its Arrow schema."""

    parts: list[Any]  # dask.delayed objects, one per partition
    schema: pa.Schema


def _task_error(task: Task, exc: BaseException) -> BaseException:
    """``exc`` as the driver reports it: truthound's own errors as they are (they name their
    file), anything else naming the task's partition."""
    if isinstance(exc, TruthoundError):
        return exc
    kind = type(exc).__name__
    if kind == "KilledWorker":
        return DaskTaskError(f"dask: the workers running {task.work.describe()} died "
                             f"(KilledWorker: {one_line(exc)})")
    return DaskTaskError(f"dask: {task.work.describe()} failed: {kind}: {one_line(exc)}")


def _frame_inputs(task: Task, frames: Mapping[str, DaskFrame]) -> tuple[pa.Schema | None, list[Any]]:
    """The schema and the delayed partitions a task over a Dask DataFrame reads (None, [] for a
    task of files or in-memory rows)."""
    pieces = task.work.pieces
    if not pieces or not isinstance(pieces[0], ExternalPiece):
        return None, []
    frame = frames[pieces[0].frame]
    parts = []
    for piece in pieces:
        assert isinstance(piece, ExternalPiece)
        parts.append(frame.parts[piece.index])
    return frame.schema, parts


# --------------------------------------------------------------------------- a cluster


class DaskClusterExecutor:
    """Tasks as futures on a ``distributed.Client``'s cluster."""

    backend = "dask"
    mode = "distributed"

    def __init__(self, client: Any, num_workers: int, frames: Mapping[str, DaskFrame]) -> None:
        self.client = client
        self.num_workers = num_workers
        self.frames = frames
        self._futures: dict[tuple[int, int, int], Any] = {}

    def start(self, engine_options: str) -> None:
        self._options = engine_options
        self._run = uuid.uuid4().hex[:12]
        self._topic = f"truthound-{self._run}"
        self._messages: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._done: queue.Queue[tuple[Task, Any]] = queue.Queue()
        self._futures = {}
        self._tries: dict[tuple[int, int, int], tuple[str, str]] = {}  # key -> (worker, token)
        self.client.subscribe_topic(self._topic, self._on_message)

    def _on_message(self, event: Any) -> None:
        _timestamp, message = event
        if isinstance(message, (tuple, list)):
            self._messages.put(tuple(message))

    def capacity(self) -> int:
        return self.num_workers * (1 + _QUEUED_PER_WORKER) - len(self._futures)

    def key(self, task: Task) -> str:
        """The Dask key of a task: its run, partition, attempt and chunk."""
        return f"truthound-{self._run}-p{task.partition}-a{task.attempt}-c{task.chunk}"

    def submit(self, task: Task) -> None:
        schema, parts = _frame_inputs(task, self.frames)
        if schema is None:
            future = self.client.submit(run_file_task, task, self._options, self._topic,
                                        key=self.key(task), pure=False, retries=0)
        else:
            import dask

            call = dask.delayed(run_frame_task, pure=False)(
                task, self._options, self._topic, schema, *parts, dask_key_name=self.key(task))
            future = self.client.compute(call, retries=0)
        self._futures[task.key] = future
        future.add_done_callback(lambda f, task=task: self._done.put((task, f)))

    def events(self, timeout: float) -> list[TaskEvent]:
        done: list[tuple[Task, Any]] = []
        try:
            if self._messages.empty():
                done.append(self._done.get(timeout=timeout))
            while True:
                done.append(self._done.get_nowait())
        except queue.Empty:
            pass
        # what workers said before the results taken above
        events: list[TaskEvent] = []
        while True:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                break
            events.extend(self._message_events(message))
        for task, future in done:
            events.append(self._result_event(task, future))
        return events

    def _message_events(self, message: tuple[Any, ...]) -> list[TaskEvent]:
        kind, key, worker, token = message[0], tuple(message[1]), str(message[2]), message[3]
        if key not in self._futures:
            return []  # finished: a late word from its worker
        current = self._tries.get(key)
        if kind == "started":
            if current is not None and current[1] == token:
                return []
            self._tries[key] = (worker, token)
            if current is None:
                return [TaskStarted(key, worker)]
            lost = DaskWorkerLost(f"dask worker {current[0]} was lost while running task "
                                  f"{key}; the scheduler runs it again on {worker}")
            return [TaskRetrying(key, current[0], lost), TaskStarted(key, worker)]
        if kind == "progress" and current is not None and current[1] == token:
            return [TaskProgress(key, int(message[4]))]
        return []  # rows of a try that is no longer the current one

    def _result_event(self, task: Task, future: Any) -> TaskEvent:
        self._futures.pop(task.key, None)
        self._tries.pop(task.key, None)
        status = future.status
        try:
            if status == "finished":
                rows, payloads, worker, seconds = future.result()
                return TaskFinished(task.key, worker, rows, seconds, partials=payloads)
            error = future.exception() if status == "error" else None
        except Exception as exc:  # noqa: BLE001 - the scheduler or the connection went away
            error = exc
        if error is None:
            error = RuntimeError(f"the task was {status} (the scheduler or the client stopped)")
        return TaskFailed(task.key, _task_error(task, error))

    def close(self, cancel: bool) -> None:
        futures = list(self._futures.values())
        self._futures = {}
        if cancel and futures:
            try:
                self.client.cancel(futures)
            except Exception:  # noqa: BLE001 - a client already gone has nothing to cancel
                pass
        try:
            self.client.unsubscribe_topic(self._topic)
        except Exception:  # noqa: BLE001
            pass


# --------------------------------------------------------------------------- local schedulers


class DaskLocalExecutor(QueuedExecutor):
    """Tasks through ``dask.compute`` on one of Dask's local schedulers: ``threads``,
    ``processes`` (a process pool kept for the run) or ``synchronous``. A runner thread computes
    the tasks submitted so far as one graph, then the next ones."""

    backend = "dask"

    def __init__(self, scheduler: str, num_workers: int, frames: Mapping[str, DaskFrame]) -> None:
        self.mode = scheduler
        self.num_workers = 1 if scheduler == "synchronous" else num_workers
        self.frames = frames
        self._runner: threading.Thread | None = None

    def start(self, engine_options: str) -> None:
        self._open_queue(engine_options)
        self._pool: PoolExecutor | None = None
        if self.mode == "processes":
            from truthound.profiler.distributed.local import _mp_context

            self._pool = ProcessPoolExecutor(self.num_workers, mp_context=_mp_context())
        self._runner = threading.Thread(target=self._run, name="truthound-dask-local",
                                        daemon=True)
        self._runner.start()

    def _run(self) -> None:
        import dask

        while (first := self._work.get()) is not None:
            tasks = [first]
            stop = False
            while True:
                try:
                    task = self._work.get_nowait()
                except queue.Empty:
                    break
                if task is None:
                    stop = True
                    break
                tasks.append(task)
            if not self._cancel.is_set():
                self._compute(dask, tasks)
            if stop:
                return

    def _compute(self, dask: Any, tasks: list[Task]) -> None:
        calls = []
        for task in tasks:
            schema, parts = _frame_inputs(task, self.frames)
            calls.append(dask.delayed(run_local_task, pure=False)(task, self._options, schema,
                                                                    *parts))
        kwargs: dict[str, Any] = {"scheduler": self.mode}
        if self.mode != "synchronous":
            kwargs["num_workers"] = self.num_workers
        if self._pool is not None:
            kwargs["pool"] = self._pool
        try:
            results: tuple[TaskResult | BaseException, ...] = dask.compute(*calls, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a partition of the frame could not be computed
            for task in tasks:
                self._events.put(TaskFailed(task.key, _task_error(task, exc)))
            return
        for task, result in zip(tasks, results):
            if isinstance(result, BaseException):
                self._events.put(TaskFailed(task.key, _task_error(task, result)))
                continue
            rows, payloads, worker, seconds = result
            self._events.put(TaskStarted(task.key, worker))
            self._events.put(TaskFinished(task.key, worker, rows, seconds, partials=payloads))

    def close(self, cancel: bool) -> None:
        if cancel:
            self._cancel.set()
        self._work.put(None)
        if self._runner is not None:
            self._runner.join()
            self._runner = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

