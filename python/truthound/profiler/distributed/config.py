"""Backends, partition strategies, backend configurations and the environment defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum

from truthound.errors import ConfigurationError, positive_int

__all__ = [
    "DistributedBackend",
    "PartitionStrategy",
    "SparkConfig",
    "DaskConfig",
    "RayConfig",
    "default_backend",
    "default_num_workers",
]


class DistributedBackend(str, Enum):
    """Distributed processing backends"""

    LOCAL = "local"  # Local multithread/multiprocess
    SPARK = "spark"  # Apache Spark
    DASK = "dask"  # Dask Distributed
    RAY = "ray"  # Ray
    AUTO = "auto"  # Automatic detection

    def __str__(self) -> str:
        return self.value


class PartitionStrategy(str, Enum):
    """Partition strategies"""

    ROW_BASED = "row_based"  # Row-based partitioning
    COLUMN_BASED = "column_based"  # Column-based partitioning
    HYBRID = "hybrid"  # Hybrid (row + column)
    HASH = "hash"  # Hash-based partitioning

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: "PartitionStrategy | str") -> "PartitionStrategy":
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower().replace("-", "_")
        for member in cls:
            if member.value == text:
                return member
        raise ConfigurationError(
            f"option 'partition_strategy' must be one of "
            f"{', '.join(m.value for m in cls)}, got {value!r}"
        )


def _check_positive(name: str, value: object, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    positive_int(name, value)


@dataclass
class SparkConfig:
    """Spark configuration"""

    app_name: str = "truthound-profiler"
    master: str = "local[*]"
    executor_memory: str = "4g"
    executor_cores: int = 2
    num_executors: int = 4
    spark_config: dict[str, str] = field(default_factory=dict)
    # Read from SPARK_HOME when not given (used to find the Spark installation).
    spark_home: str | None = field(default_factory=lambda: os.environ.get("SPARK_HOME") or None)
    # A spark:// master that does not answer (or gives no executor) within this fails the run.
    connect_timeout_seconds: float = 60.0

    def validate(self) -> None:
        if not isinstance(self.master, str) or not self.master:
            raise ConfigurationError(f"SparkConfig.master must be a non-empty string, got {self.master!r}")
        if not isinstance(self.app_name, str) or not self.app_name:
            raise ConfigurationError(f"SparkConfig.app_name must be a non-empty string, got {self.app_name!r}")
        _check_positive("SparkConfig.executor_cores", self.executor_cores, allow_none=False)
        _check_positive("SparkConfig.num_executors", self.num_executors, allow_none=False)
        timeout = self.connect_timeout_seconds
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(
                f"SparkConfig.connect_timeout_seconds must be a positive number, got {timeout!r}"
            )
        if not isinstance(self.spark_config, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.spark_config.items()
        ):
            raise ConfigurationError("SparkConfig.spark_config must map strings to strings")


_DASK_SCHEDULERS = ("threads", "processes", "synchronous", "distributed")


@dataclass
class DaskConfig:
    """Dask configuration"""

    scheduler: str = "threads"  # threads, processes, synchronous, distributed, or an address
    num_workers: int | None = None  # None = number of CPU cores
    memory_limit: str = "4GB"
    dashboard_address: str = ":8787"
    # The scheduler to connect to with scheduler="distributed"; DASK_SCHEDULER_ADDRESS by default.
    scheduler_address: str | None = field(
        default_factory=lambda: os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    )
    # How long connecting to a scheduler address may take before the backend gives up.
    connect_timeout_seconds: float = 10.0

    def validate(self) -> None:
        if not isinstance(self.scheduler, str) or not self.scheduler:
            raise ConfigurationError(f"DaskConfig.scheduler must be a non-empty string, got {self.scheduler!r}")
        if self.scheduler not in _DASK_SCHEDULERS and "://" not in self.scheduler:
            raise ConfigurationError(
                f"DaskConfig.scheduler must be one of {', '.join(_DASK_SCHEDULERS)} or a "
                f"scheduler address (tcp://host:port), got {self.scheduler!r}"
            )
        _check_positive("DaskConfig.num_workers", self.num_workers)
        timeout = self.connect_timeout_seconds
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(
                f"DaskConfig.connect_timeout_seconds must be a positive number, got {timeout!r}")


@dataclass
class RayConfig:
    """Ray configuration"""

    address: str | None = field(
        default_factory=lambda: os.environ.get("RAY_ADDRESS") or None
    )  # None = local cluster (RAY_ADDRESS when set)
    num_cpus: int | None = None
    num_gpus: int | None = None
    object_store_memory: int | None = None
    # How often Ray runs a task again when its worker dies (Ray's max_retries).
    max_retries: int = 3

    def validate(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or \
                self.max_retries < 0:
            raise ConfigurationError(
                f"RayConfig.max_retries must be a non-negative integer, got {self.max_retries!r}")
        if self.address is not None and (not isinstance(self.address, str) or not self.address):
            raise ConfigurationError(f"RayConfig.address must be a non-empty string or None, got {self.address!r}")
        _check_positive("RayConfig.num_cpus", self.num_cpus)
        if self.num_gpus is not None and (
            isinstance(self.num_gpus, bool) or not isinstance(self.num_gpus, int) or self.num_gpus < 0
        ):
            raise ConfigurationError(f"RayConfig.num_gpus must be a non-negative integer, got {self.num_gpus!r}")
        _check_positive("RayConfig.object_store_memory", self.object_store_memory)


def default_backend() -> str:
    """TRUTHOUND_DISTRIBUTED_BACKEND, or "local"."""
    value = os.environ.get("TRUTHOUND_DISTRIBUTED_BACKEND", "").strip().lower()
    return value or DistributedBackend.LOCAL.value


def default_num_workers() -> int:
    """TRUTHOUND_NUM_WORKERS, or the number of CPU cores available to this process."""
    value = os.environ.get("TRUTHOUND_NUM_WORKERS", "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise ConfigurationError(
                f"environment variable TRUTHOUND_NUM_WORKERS must be a positive integer, got {value!r}"
            )
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_num_workers(value: object) -> int:
    """``None`` -> the default; otherwise a positive integer or ConfigurationError."""
    if value is None:
        return default_num_workers()
    return positive_int("num_workers", value)
