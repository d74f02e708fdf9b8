"""``DistributedProfiler``: one interface over every backend."""

from __future__ import annotations

from typing import Any

from truthound.errors import ConfigurationError
from truthound.profiler.distributed.auto import auto_select_backend
from truthound.profiler.distributed.backends import BaseBackend
from truthound.profiler.distributed.config import (
    DaskConfig,
    DistributedBackend,
    PartitionStrategy,
    RayConfig,
    SparkConfig,
    check_num_workers,
    default_backend,
)
from truthound.profiler.distributed.observer import RunObserver
from truthound.profiler.distributed.partitioners import Partitioner
from truthound.profiler.distributed.registry import BackendRegistry
from truthound.profiler.model import TableProfile

__all__ = ["DistributedProfiler"]

_CONFIG_OF = {"spark": SparkConfig, "dask": DaskConfig, "ray": RayConfig}


class DistributedProfiler:
    """A unified distributed profiler interface.

    >>> import pyarrow as pa
    >>> profiler = DistributedProfiler.create(backend="local", num_workers=2)
    >>> profiler.profile(pa.table({"x": [1, 2, 3]})).row_count
    3
    """

    def __init__(
        self,
        backend: Any,
        *,
        backend_name: str,
        partition_strategy: PartitionStrategy | Partitioner,
        monitor: RunObserver | None = None,
    ) -> None:
        self.backend = backend
        self.backend_name = backend_name
        self.partition_strategy = partition_strategy
        # Told about every partition of every run (a RunObserver, such as DistributedMonitor).
        self.monitor = monitor

    def __repr__(self) -> str:
        return f"DistributedProfiler(backend={self.backend!r}, strategy={self.partition_strategy})"

    @classmethod
    def create(
        cls,
        backend: DistributedBackend | str | None = None,
        config: Any = None,
        partition_strategy: PartitionStrategy | str | Partitioner = PartitionStrategy.ROW_BASED,
        num_workers: int | None = None,
        monitor: RunObserver | None = None,
        *,
        use_processes: bool | None = None,
    ) -> "DistributedProfiler":
        """A profiler on ``backend`` (default: TRUTHOUND_DISTRIBUTED_BACKEND, else local).

        ``auto`` picks Spark / Dask / Ray when a session / client / initialized Ray exists, else
        local. ``config`` is the backend's config (SparkConfig, DaskConfig, RayConfig); for the
        local backend ``num_workers`` (default TRUTHOUND_NUM_WORKERS, else the CPU count) and
        ``use_processes`` apply. ``monitor`` (a RunObserver) is told about every partition of
        every run.
        """
        name = str(getattr(backend, "value", backend) if backend is not None else default_backend())
        name = name.strip().lower()
        if name == DistributedBackend.AUTO.value:
            name = auto_select_backend().value
        if not isinstance(partition_strategy, Partitioner):
            partition_strategy = PartitionStrategy.parse(partition_strategy)
        klass = BackendRegistry.get(name)  # unknown name: ConfigurationError listing the known
        expected = _CONFIG_OF.get(name)
        if config is not None and expected is not None and not isinstance(config, expected):
            raise ConfigurationError(
                f"the {name} backend takes a {expected.__name__}, got {type(config).__name__}"
            )
        if num_workers is not None:
            check_num_workers(num_workers)
        options: dict[str, Any] = {"num_workers": num_workers, "partition_strategy": partition_strategy}
        if use_processes is not None:
            options["use_processes"] = use_processes
        instance = BackendRegistry.create(name, config=config, **options)
        del klass
        return cls(instance, backend_name=name, partition_strategy=partition_strategy, monitor=monitor)

    def profile(self, source: Any, *, monitor: RunObserver | None = None, **options: Any) -> TableProfile:
        """Profile ``source`` (anything truthound.profiler.profile accepts) on the backend.

        Options are those of :func:`truthound.profiler.profile`; ``monitor`` (default: the one
        given to :meth:`create`) is told about every partition.
        """
        watcher = monitor if monitor is not None else self.monitor
        if isinstance(self.backend, BaseBackend):
            # local, Spark, Dask, Ray: the backend plans (a frame its engine holds, or a path)
            # and runs the driver on its executor
            return self.backend.profile(source, partition_strategy=self.partition_strategy,
                                        monitor=watcher, **options)
        # a registered backend of its own (BackendRegistry.register): profile(data) is its API
        return self.backend.profile(source, **options)
