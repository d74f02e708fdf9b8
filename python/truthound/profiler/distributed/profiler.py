"""``DistributedProfiler``: one interface over every backend."""

from __future__ import annotations

from typing import Any

from truthound.errors import ConfigurationError
from truthound.profiler.distributed.auto import auto_select_backend
from truthound.profiler.distributed.config import (
    DaskConfig,
    DistributedBackend,
    PartitionStrategy,
    RayConfig,
    SparkConfig,
    check_num_workers,
    default_backend,
)
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
        monitor: Any = None,
    ) -> None:
        self.backend = backend
        self.backend_name = backend_name
        self.partition_strategy = partition_strategy
        # Kept for the monitoring layer (DESIGN.md §6), which subscribes to partition events.
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
        monitor: Any = None,
        *,
        use_processes: bool | None = None,
    ) -> "DistributedProfiler":
        """A profiler on ``backend`` (default: TRUTHOUND_DISTRIBUTED_BACKEND, else local).

        ``auto`` picks Spark / Dask / Ray when a session / client / initialized Ray exists, else
        local. ``config`` is the backend's config (SparkConfig, DaskConfig, RayConfig); for the
        local backend ``num_workers`` (default TRUTHOUND_NUM_WORKERS, else the CPU count) and
        ``use_processes`` apply.
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

    def profile(self, source: Any, **options: Any) -> TableProfile:
        """Profile ``source`` (anything truthound.profiler.profile accepts) on the backend.

        Options are those of :func:`truthound.profiler.profile`.
        """
        from truthound.profiler.distributed.local import LocalBackend

        if isinstance(self.backend, LocalBackend):
            return self.backend.profile(source, partition_strategy=self.partition_strategy, **options)
        return self.backend.profile(source, **options)
