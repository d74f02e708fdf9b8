"""The Dask backend: the engine runs in Dask's workers, the driver merges their partial profiles.

``DaskConfig.scheduler``:

- ``distributed``: a live ``distributed.Client`` (the default client), else the scheduler at
  ``scheduler_address`` (``DASK_SCHEDULER_ADDRESS``), else a ``LocalCluster`` of
  ``num_workers`` single-threaded worker processes on 127.0.0.1 that :meth:`DaskBackend.close`
  stops;
- an address (``tcp://host:port``): that scheduler;
- ``threads``, ``processes``, ``synchronous``: Dask's local schedulers (``dask.compute``).

Paths, globs and directories are planned as the local backend plans them (Parquet row groups,
CSV byte ranges, files), one task per partition, read in the worker by truthound's own readers.
A Dask DataFrame keeps its partitioning: one task per partition (per column group too; a hash
task splits its partition's rows into the buckets), converted to Arrow in the worker. Dask and distributed are imported only
when a backend runs.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import pyarrow as pa

from truthound.errors import BackendNotAvailableError, SourceReadError, one_line
from truthound.profiler.distributed import driver
from truthound.profiler.distributed.backends import BaseBackend
from truthound.profiler.distributed.config import (
    DaskConfig,
    PartitionStrategy,
    check_num_workers,
    default_num_workers,
)
from truthound.profiler.distributed.dask_executor import (
    DaskClusterExecutor,
    DaskFrame,
    DaskLocalExecutor,
)
from truthound.profiler.distributed.observer import RunObserver
from truthound.profiler.distributed.partitioners import Partitioner
from truthound.profiler.distributed.planning import external_plan
from truthound.profiler.model import TableProfile

__all__ = ["DaskBackend", "live_client"]

_INSTALL = "pip install 'truthound[dask]'"
_LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")


def _import_dask() -> Any:
    try:
        import dask
    except ImportError as exc:
        raise BackendNotAvailableError(
            f"the dask backend needs the 'dask' package, which is not installed: {_INSTALL}"
        ) from exc
    return dask


def _import_distributed() -> Any:
    _import_dask()
    try:
        import distributed
    except ImportError as exc:
        raise BackendNotAvailableError(
            "the dask backend's distributed scheduler needs the 'distributed' package, which is "
            f"not installed: {_INSTALL}"
        ) from exc
    return distributed


def live_client() -> Any:
    """The default ``distributed.Client`` of this process when one is running, else None
    (without importing distributed when the program has not)."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import default_client

        client = default_client()
    except (ValueError, ImportError):
        return None
    return client if getattr(client, "status", "") == "running" else None


def is_dask_frame(data: Any) -> bool:
    """Is ``data`` a Dask DataFrame (without importing dask)?"""
    return (type(data).__module__.split(".")[0] == "dask" and hasattr(data, "to_delayed")
            and hasattr(data, "npartitions") and hasattr(data, "_meta")
            and hasattr(data._meta, "columns"))


def _frame_schema(df: Any) -> pa.Schema:
    """The Arrow schema of a Dask DataFrame's columns, from its meta; columns of Python objects
    (no type in the meta) are typed from its first partition."""
    meta = df._meta
    try:
        schema = pa.Schema.from_pandas(meta, preserve_index=False).remove_metadata()
        objects = [str(c) for c, t in meta.dtypes.items() if t == object]
        if objects:
            sample = df[objects].partitions[0].compute()
            typed = pa.Schema.from_pandas(sample, preserve_index=False)
            schema = pa.schema([typed.field(f.name) if f.name in objects else f for f in schema])
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise SourceReadError(f"dask DataFrame: cannot type its columns in Arrow: {one_line(exc)}") from exc
    return schema


class DaskBackend(BaseBackend):
    """Dask backend: one task per file piece or DataFrame partition, on a cluster or one of
    Dask's local schedulers.

    >>> backend = DaskBackend(DaskConfig(scheduler="synchronous"))
    >>> import pyarrow as pa
    >>> backend.profile(pa.table({"x": [1, 2, 3]})).row_count
    3
    """

    name = "dask"
    available = True

    def __init__(
        self,
        config: DaskConfig | None = None,
        *,
        num_workers: int | None = None,
        partition_strategy: PartitionStrategy | str | Partitioner | None = None,
    ) -> None:
        # no config: a live client is used when there is one (automatic selection picks Dask
        # for it), else the threads scheduler
        self._configured = config is not None
        self.config = self._checked_config(config, DaskConfig)
        self.num_workers = check_num_workers(num_workers) if num_workers is not None else None
        if partition_strategy is None:
            partition_strategy = PartitionStrategy.ROW_BASED
        if not isinstance(partition_strategy, Partitioner):
            partition_strategy = PartitionStrategy.parse(partition_strategy)
        self.partition_strategy = partition_strategy
        self._client: Any = None
        self._own_client = False
        self._cluster: Any = None

    def __repr__(self) -> str:
        return f"DaskBackend({self.config!r})"

    @property
    def scheduler(self) -> str:
        """The scheduler this backend runs on: threads, processes, synchronous, distributed,
        or an address."""
        if not self._configured and self.config.scheduler == "threads" and live_client() is not None:
            return "distributed"
        return self.config.scheduler

    def _workers(self) -> int:
        if self.num_workers is not None:
            return self.num_workers
        if self.config.num_workers is not None:
            return self.config.num_workers
        return default_num_workers()

    # ------------------------------------------------------------------ the cluster

    def connect(self) -> Any:
        """The ``distributed.Client`` this backend runs on, connected (or its cluster started)
        on first use; None on a local scheduler."""
        if self.scheduler in _LOCAL_SCHEDULERS:
            return None
        if self._client is not None and self._client.status == "running":
            return self._client
        distributed = _import_distributed()
        address = self.scheduler if "://" in self.scheduler else None
        if address is None:
            client = live_client()
            if client is not None:
                self._client, self._own_client = client, False
                return client
            address = self.config.scheduler_address
        if address is not None:
            timeout = self.config.connect_timeout_seconds
            try:
                client = distributed.Client(address, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise BackendNotAvailableError(
                    f"cannot reach the Dask scheduler at {address} within {timeout:g} s: "
                    f"{one_line(exc)}") from exc
            self._client, self._own_client = client, True
            return client
        dashboard = self.config.dashboard_address or None
        if dashboard is not None and dashboard.startswith(":"):
            dashboard = "127.0.0.1" + dashboard  # bind this machine only unless told otherwise
        self._cluster = distributed.LocalCluster(
            n_workers=self._workers(), threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=dashboard, memory_limit=self.config.memory_limit,
        )
        self._client = distributed.Client(self._cluster, set_as_default=False)
        self._own_client = True
        return self._client

    def close(self) -> None:
        """Close the client this backend connected and the cluster it started; a client or
        cluster it was given is left running."""
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        if client is not None and self._own_client:
            client.close()
        if cluster is not None:
            cluster.close()
        self._own_client = False

    def _cluster_workers(self, client: Any) -> int:
        info = client.scheduler_info(n_workers=-1)
        threads = sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values())
        if threads < 1:
            raise BackendNotAvailableError(
                f"the Dask scheduler at {client.scheduler.address} has no workers")
        return threads

    # ------------------------------------------------------------------ profiling

    def profile(
        self,
        data: Any,
        *,
        partition_strategy: PartitionStrategy | str | Partitioner | None = None,
        monitor: RunObserver | None = None,
        **options: Any,
    ) -> TableProfile:
        """Profile ``data``: a Dask DataFrame, or anything truthound.profiler.profile accepts
        (paths, globs and directories are read by the workers). Options are profile()'s;
        ``monitor`` is told about every partition."""
        strategy = partition_strategy if partition_strategy is not None else self.partition_strategy
        frames: dict[str, DaskFrame] = {}
        source = data
        if is_dask_frame(data):
            _import_dask()
            name = f"dask-frame-{uuid.uuid4().hex[:8]}"
            schema = _frame_schema(data)
            source = external_plan(
                f"dask DataFrame ({data.npartitions} partitions)", schema, name,
                [None] * data.npartitions, columns=options.pop("columns", None),
                batch_size=options.pop("batch_size", None),
            )
            frames[name] = DaskFrame(list(data.to_delayed()), schema)
        scheduler = self.scheduler
        executor: DaskClusterExecutor | DaskLocalExecutor
        if scheduler in _LOCAL_SCHEDULERS:
            _import_dask()
            executor = DaskLocalExecutor(scheduler, self._workers(), frames)
        else:
            client = self.connect()
            executor = DaskClusterExecutor(client, self._cluster_workers(client), frames)
        return driver.run(source, executor, strategy=strategy, observer=monitor, **options)
