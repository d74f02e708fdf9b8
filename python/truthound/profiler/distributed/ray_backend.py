"""The Ray backend: the driver's partitions run as Ray remote tasks.

Files (a path, glob, directory or URI): the driver plans the same pieces the local backend plans
(Parquet row groups, CSV byte ranges, whole files); each task is one ``@ray.remote`` call that
reads its pieces with truthound's own readers inside the Ray worker and returns the engine's
serialized partial profile. A Ray Dataset: its blocks (``Dataset.to_arrow_refs()``, Arrow tables in
the object store) are planned with :func:`~.planning.external_plan`, one piece per block, and a
task receives the block refs its partition reads (Ray hands them to the worker, zero-copy on the
node that holds them) and feeds their Arrow batches to the engine. Either way the driver merges
the bytes in partition order; nothing here computes a statistic.

Progress: a small reporter actor (``num_cpus=0``) receives each try's start (its worker PID and
node) and rows read; the driver collects finished tasks with ``ray.wait`` on its own thread.
Ray runs a task again when its worker dies (``max_retries``): the new try reports a new worker,
and the executor tells the driver ``TaskRetrying`` before the new try's events, so the
partition's rows count once and the monitor shows TASK_RETRYING.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from truthound.errors import BackendNotAvailableError, ConfigurationError, TruthoundError, one_line
from truthound.profiler.distributed import driver
from truthound.profiler.distributed.backends import BaseBackend
from truthound.profiler.distributed.config import PartitionStrategy, RayConfig
from truthound.profiler.distributed.driver import (
    Task,
    TaskEvent,
    TaskFailed,
    TaskFinished,
    TaskProgress,
    TaskRetrying,
    TaskStarted,
)
from truthound.profiler.distributed.observer import RunObserver
from truthound.profiler.distributed.partitioners import Partitioner
from truthound.profiler.distributed.pieces import ExternalPiece, FilePiece
from truthound.profiler.distributed.planning import SourcePlan, external_plan
from truthound.profiler.model import TableProfile

__all__ = ["RayBackend", "RayExecutor", "import_ray", "is_ray_dataset", "running_executors"]

INSTALL_HINT = "pip install 'truthound[ray]'"
# How long the backend waits for a Ray address to accept a connection before it gives up
# (ray.init itself retries an unreachable GCS for minutes).
CONNECT_TIMEOUT_SECONDS = 10.0
# Seconds the driver waits for the reporter actor to hand over the tries' reports.
_REPORTER_TIMEOUT = 60.0
# Tasks queued in Ray beyond the ones running, per worker.
_QUEUED_PER_WORKER = 1

# A hook run in the worker after a task's first batch is profiled and its rows reported (tests use
# it to hold a task mid-way while they kill its worker): called with the task and the worker's
# PID; it must be picklable by Ray.
AfterFirstBatch = Callable[[Task, int], None]


def import_ray(*, local_cluster: bool = False) -> Any:
    """The ``ray`` module, or BackendNotAvailableError naming the extra to install.

    ``local_cluster``: this process is about to start a local Ray; when Ray is imported here
    for the first time, it is told to keep the instance on the loopback address
    (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read by Ray at import).
    """
    if local_cluster and "ray" not in sys.modules:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError as exc:
        raise BackendNotAvailableError(
            f"the ray backend needs the 'ray' package, which is not installed: {INSTALL_HINT}"
        ) from exc
    return ray


def is_ray_dataset(data: Any) -> bool:
    """Is ``data`` a Ray Dataset (without importing Ray)?"""
    return type(data).__module__.startswith("ray.data") and hasattr(data, "to_arrow_refs")


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """BackendNotAvailableError naming ``address`` unless a TCP connection to it opens within
    ``timeout`` seconds (``auto`` and ``local`` are left to Ray)."""
    if address in ("auto", "local") or "://" not in address and ":" not in address:
        return
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ConfigurationError(
            f"RayConfig.address must be host:port or ray://host:port, got {address!r}")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise BackendNotAvailableError(
            f"cannot reach the Ray cluster at {address}: {one_line(exc)} (after at most "
            f"{timeout:g} s; is the cluster running, and is the address right?)"
        ) from exc


def other_cluster(ray: Any, address: str | None) -> str | None:
    """Why ``address`` is not the Ray this process is connected to (None when it is, or when
    no address is asked for: None, ``auto``, ``local``)."""
    if address is None or address in ("auto", "local"):
        return None
    current = ray.get_runtime_context().gcs_address
    if address == current:
        return None
    return (f"asked for the Ray cluster at {address}, but this process is connected to the Ray "
            f"at {current} already: call ray.shutdown() first, or leave the address out")


# --------------------------------------------------------------------------- in the worker


class _Reporter:
    """A Ray actor (``num_cpus=0``) that takes tries' reports from the workers; the driver
    drains them. Reports: ("started", key, worker, pid) and ("progress", key, rows)."""

    def __init__(self) -> None:
        self._reports: list[tuple[Any, ...]] = []

    def started(self, key: tuple[int, int, int], worker: str, pid: int) -> None:
        self._reports.append(("started", key, worker, pid))

    def progress(self, key: tuple[int, int, int], rows: int) -> None:
        self._reports.append(("progress", key, rows))

    def drain(self) -> list[tuple[Any, ...]]:
        out, self._reports = self._reports, []
        return out


def _worker_name(pid: int) -> str:
    """This Ray worker as the monitor names it: node address and PID."""
    import ray

    try:
        ip = ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - a name without the address is still a name
        ip = socket.gethostname()
    return f"ray {ip} pid {pid}"


def _run_on_ray(
    task: Task,
    engine_options: str,
    reporter: Any,
    after_first_batch: AfterFirstBatch | None,
    *blocks: pa.Table,
) -> tuple[int, tuple[bytes, ...], str, int, float]:
    """One task in a Ray worker: (rows, serialized partials, worker, pid, seconds). ``blocks``
    are the Arrow tables of the task's Ray Dataset blocks (Ray resolves the refs), in order."""
    import ray

    pid = os.getpid()
    worker = _worker_name(pid)
    key = task.key
    # waited for: the driver knows this try (and its worker) before any row is read
    ray.get(reporter.started.remote(key, worker, pid))
    began = time.perf_counter()
    first = [True]
    progress = driver.Throttled(lambda n: reporter.progress.remote(key, n))

    def on_rows(n: int) -> None:
        progress(n)
        if first[0] and after_first_batch is not None:
            first[0] = False
            after_first_batch(task, pid)

    size = task.work.batch_size
    batches = (b for t in blocks for b in t.to_batches(max_chunksize=size)) if blocks else None
    out = driver.run_task(task, engine_options, batches=batches, on_rows=on_rows)
    return out.total_rows, out.payloads(), worker, pid, time.perf_counter() - began


# --------------------------------------------------------------------------- the executor

# The Ray executors running in this process: RayMonitorAdapter reports their task counts.
_running: weakref.WeakSet[RayExecutor] = weakref.WeakSet()
_running_lock = threading.Lock()


def running_executors() -> list[RayExecutor]:
    """The Ray executors of this process between start and close."""
    with _running_lock:
        return list(_running)


class _WorkerLost(RuntimeError):
    """A task's worker died and Ray runs the task again (what TaskRetrying carries)."""


class RayExecutor:
    """Runs the driver's tasks as Ray remote tasks, collected with ``ray.wait``.

    ``blocks``: the object refs of a Ray Dataset's blocks, by block index, for a plan of
    :class:`ExternalPiece` s (None for files and in-memory sources). ``max_retries`` is Ray's:
    how often a task whose worker died runs again.
    """

    backend = "ray"
    mode = "tasks"

    def __init__(
        self,
        ray: Any,
        num_workers: int,
        *,
        max_retries: int = 3,
        blocks: list[Any] | None = None,
        after_first_batch: AfterFirstBatch | None = None,
    ) -> None:
        self._ray = ray
        self.num_workers = num_workers
        self.max_retries = max_retries
        self._blocks = blocks
        self._after_first_batch = after_first_batch
        self._pending: dict[Any, Task] = {}
        self._reporter: Any = None
        # task key -> the worker its current try reported
        self._workers: dict[tuple[int, int, int], str] = {}
        self._done: set[tuple[int, int, int]] = set()  # finished or failed: late reports dropped
        # counts for the monitor adapter: submitted, finished, failed, retried
        self.counts = {"submitted": 0, "finished": 0, "failed": 0, "retried": 0}

    # ------------------------------------------------------------------ Executor protocol

    def start(self, engine_options: str) -> None:
        ray = self._ray
        self._options = engine_options
        self._pending = {}
        self._workers = {}
        self._done = set()
        self._reporter = ray.remote(num_cpus=0)(_Reporter).remote()
        self._remote = ray.remote(_run_on_ray).options(
            max_retries=self.max_retries, retry_exceptions=False, num_cpus=1)
        with _running_lock:
            _running.add(self)

    def capacity(self) -> int:
        return self.num_workers * (1 + _QUEUED_PER_WORKER) - len(self._pending)

    def submit(self, task: Task) -> None:
        refs: list[Any] = []
        for piece in task.work.pieces:
            if isinstance(piece, ExternalPiece):
                if self._blocks is None:
                    raise ConfigurationError(
                        f"{task.work.describe()} is held by another engine, not by Ray")
                refs.append(self._blocks[piece.index])
        ref = self._remote.remote(task, self._options, self._reporter,
                                  self._after_first_batch, *refs)
        self._pending[ref] = task
        self.counts["submitted"] += 1

    def events(self, timeout: float) -> list[TaskEvent]:
        ray = self._ray
        ready: list[Any] = []
        if self._pending:
            refs = list(self._pending)
            ready, rest = ray.wait(refs, num_returns=1, timeout=timeout, fetch_local=True)
            if ready and rest:
                more, _ = ray.wait(rest, num_returns=len(rest), timeout=0, fetch_local=True)
                ready += more
        else:
            time.sleep(timeout)
        # the reports first: a try's start comes before its result
        events = self._reports()
        for ref in ready:
            task = self._pending.pop(ref)
            events.extend(self._result(task, ref))
        return events

    def close(self, cancel: bool) -> None:
        ray = self._ray
        if cancel:
            for ref in self._pending:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - finished meanwhile
                    pass
        self._pending = {}
        if self._reporter is not None:
            ray.kill(self._reporter)
            self._reporter = None
        with _running_lock:
            _running.discard(self)

    # ------------------------------------------------------------------ events

    def running(self) -> int:
        """Tasks submitted and not finished."""
        return len(self._pending)

    def _reports(self) -> list[TaskEvent]:
        if self._reporter is None:
            return []
        try:
            reports = self._ray.get(self._reporter.drain.remote(), timeout=_REPORTER_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - the actor died or the cluster is gone
            raise BackendNotAvailableError(
                f"ray: lost the task reporter actor (is the cluster still up?): {one_line(exc)}"
            ) from exc
        events: list[TaskEvent] = []
        for report in reports:
            key = report[1]
            if key in self._done:
                continue
            if report[0] == "started":
                events.extend(self._started(key, report[2]))
            elif key in self._workers:
                events.append(TaskProgress(key, report[2]))
        return events

    def _started(self, key: tuple[int, int, int], worker: str) -> list[TaskEvent]:
        """A try of ``key`` began on ``worker``: after an earlier try on another worker, that
        worker died and Ray runs the task again."""
        before = self._workers.get(key)
        if before == worker:
            return []
        self._workers[key] = worker
        if before is None:
            return [TaskStarted(key, worker)]
        self.counts["retried"] += 1
        lost = _WorkerLost(f"Ray worker {before} died running task {key}; Ray runs it again "
                           f"(max_retries={self.max_retries})")
        return [TaskRetrying(key, before, lost), TaskStarted(key, worker)]

    def _result(self, task: Task, ref: Any) -> list[TaskEvent]:
        key = task.key
        try:
            rows, payloads, worker, _pid, seconds = self._ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - becomes the task's failure
            self.counts["failed"] += 1
            self._workers.pop(key, None)
            self._done.add(key)
            return [TaskFailed(key, self._error(task, exc))]
        events = self._started(key, worker)  # its start report may not be drained yet
        self._workers.pop(key, None)
        self._done.add(key)
        self.counts["finished"] += 1
        return events + [TaskFinished(key, worker, rows, seconds, partials=payloads)]

    def _error(self, task: Task, exc: BaseException) -> BaseException:
        """The error a failed task raises in the driver: the task's own truthound error (naming
        its file), or one naming the partition for a lost worker or another failure."""
        exceptions = self._ray.exceptions
        cause = exc
        if isinstance(exc, exceptions.RayTaskError):
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
        if isinstance(cause, TruthoundError):
            paths = [p.path for p in task.work.pieces if isinstance(p, FilePiece)]
            if not paths or any(path in str(cause) for path in paths):
                return cause
            return _prefixed(task, cause)
        what = task.work.describe()
        if isinstance(exc, (exceptions.WorkerCrashedError, exceptions.NodeDiedError)) or \
                "worker" in type(exc).__name__.lower():
            return BackendNotAvailableError(
                f"ray: the worker running {what} died and Ray's retries are used up "
                f"(max_retries={self.max_retries}): {one_line(exc)}")
        return BackendNotAvailableError(f"ray: the task for {what} failed: {one_line(cause)}")


def _prefixed(task: Task, cause: TruthoundError) -> TruthoundError:
    """``cause`` again, its message prefixed with the task's partition (its files)."""
    try:
        return type(cause)(f"{task.work.describe()}: {cause}")
    except TypeError:  # an error class with another signature: keep it as it is
        return cause


# --------------------------------------------------------------------------- the backend


class RayBackend(BaseBackend):
    """Ray backend: one remote task per partition of files, or per block group of a Dataset.

    Connects to ``config.address`` (default ``RAY_ADDRESS``; a running Ray when ``ray.init`` was
    called already), else starts a local Ray with ``num_cpus``, ``num_gpus`` and
    ``object_store_memory`` on 127.0.0.1; :meth:`close` shuts down what it started.
    """

    name = "ray"
    available = True

    def __init__(
        self,
        config: RayConfig | None = None,
        *,
        num_workers: int | None = None,
        partition_strategy: PartitionStrategy | str | Partitioner | None = None,
    ) -> None:
        config = self._checked_config(config, RayConfig)
        if num_workers is not None:
            from truthound.errors import positive_int

            positive_int("num_workers", num_workers)
        self.config = config
        self.num_workers = num_workers
        if partition_strategy is not None and not isinstance(partition_strategy, Partitioner):
            partition_strategy = PartitionStrategy.parse(partition_strategy)
        self.partition_strategy: PartitionStrategy | Partitioner = (
            partition_strategy if partition_strategy is not None else PartitionStrategy.ROW_BASED)
        self._ray: Any = None
        self._started = False  # this backend called ray.init (it calls ray.shutdown)
        # seconds the last connect or start of Ray took (0 when Ray was running already)
        self.startup_seconds = 0.0

    def __repr__(self) -> str:
        return f"RayBackend({self.config!r})"

    # ------------------------------------------------------------------ Ray itself

    def connect(self) -> Any:
        """The ``ray`` module, connected: a Ray initialized already, ``config.address``, or a
        local Ray this backend starts."""
        address = self.config.address
        if address is not None and "ray" not in sys.modules:
            check_reachable(address)  # Ray is not initialized: fail fast, before importing it
        ray = import_ray(local_cluster=address is None)
        if ray.is_initialized():
            other = other_cluster(ray, address)
            if other is not None:
                raise ConfigurationError(f"RayConfig.address: {other}")
            self._ray = ray
            return ray
        began = time.perf_counter()
        if address is not None:
            check_reachable(address)
            try:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            except Exception as exc:  # noqa: BLE001 - Ray's errors vary by version
                raise BackendNotAvailableError(
                    f"cannot connect to the Ray cluster at {address}: {one_line(exc)}") from exc
        else:
            c = self.config
            # WARNING: Ray's INFO lines ("Started a local Ray instance") are not the user's news
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "logging_level": logging.WARNING,
                                      "_node_ip_address": "127.0.0.1"}
            for name in ("num_cpus", "num_gpus", "object_store_memory"):
                if getattr(c, name) is not None:
                    kwargs[name] = getattr(c, name)
            try:
                ray.init(**kwargs)
            except Exception as exc:  # noqa: BLE001
                raise BackendNotAvailableError(
                    f"cannot start a local Ray: {one_line(exc)}") from exc
        self._started = True
        self.startup_seconds = time.perf_counter() - began
        self._ray = ray
        return ray

    def close(self) -> None:
        """Shut down the Ray this backend started or connected to (a Ray initialized by the
        program before is left as it is)."""
        if self._started and self._ray is not None:
            self._ray.shutdown()
        self._started = False
        self._ray = None

    def _workers(self, ray: Any) -> int:
        if self.num_workers is not None:
            return self.num_workers
        cpus = ray.cluster_resources().get("CPU", 1)
        return max(1, int(cpus))

    def ray_executor(
        self, *, blocks: list[Any] | None = None, after_first_batch: AfterFirstBatch | None = None
    ) -> RayExecutor:
        """The executor the driver runs this backend's partitions on (connecting first).

        Not named ``executor``: DistributedProfiler would then hand it every source, a Ray
        Dataset too, instead of calling :meth:`profile` (which plans a Dataset's blocks)."""
        ray = self.connect()
        return RayExecutor(ray, self._workers(ray), max_retries=self.config.max_retries,
                           blocks=blocks, after_first_batch=after_first_batch)

    # ------------------------------------------------------------------ profiling

    def plan_dataset(self, dataset: Any, **options: Any) -> tuple[SourcePlan, list[Any]]:
        """A Ray Dataset's plan (one piece per block) and its blocks' object refs."""
        ray = self.connect()
        refs = list(dataset.to_arrow_refs())
        schema = dataset.schema()
        arrow_schema = getattr(schema, "base_schema", schema)
        if not isinstance(arrow_schema, pa.Schema):
            if not refs:
                raise ConfigurationError("the Ray Dataset has no blocks and no Arrow schema")
            arrow_schema = ray.get(ray.remote(_block_schema).remote(refs[0]))
        description = f"ray Dataset ({len(refs)} blocks)"
        plan = external_plan(description, arrow_schema, "ray-dataset", [None] * len(refs),
                             columns=options.get("columns"), batch_size=options.get("batch_size"))
        return plan, refs

    def profile(
        self,
        data: Any,
        *,
        partition_strategy: PartitionStrategy | str | Partitioner | None = None,
        monitor: RunObserver | None = None,
        **options: Any,
    ) -> TableProfile:
        """Profile ``data`` on Ray: a Ray Dataset, or anything
        :func:`truthound.profiler.profile` accepts (paths are read inside the Ray workers).
        Options are profile()'s; ``monitor`` is told about every partition."""
        strategy = partition_strategy if partition_strategy is not None else self.partition_strategy
        if is_ray_dataset(data):
            plan, refs = self.plan_dataset(data, **options)
            rest = {k: v for k, v in options.items() if k not in ("columns", "batch_size")}
            return driver.run(plan, self.ray_executor(blocks=refs), strategy=strategy,
                              observer=monitor, **rest)
        return driver.run(data, self.ray_executor(), strategy=strategy, observer=monitor, **options)

    def profile_file(self, path: str, **options: Any) -> TableProfile:
        """Profile a file, glob, directory or URI: each task reads its pieces in a Ray worker."""
        return self.profile(path, **options)


def _block_schema(block: pa.Table) -> pa.Schema:
    """A block's Arrow schema (run where the block is)."""
    return block.schema
