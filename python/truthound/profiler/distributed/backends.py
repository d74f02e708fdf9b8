"""The backend interface and the Spark, Dask and Ray backends.

A backend profiles a source: ``profile(data, **options) -> TableProfile``. Every backend does the
same three steps -- plan partitions, run :func:`~truthound.profiler.distributed.worker.profile_partition`
on each (getting the engine's serialized partial back), merge the partials in the engine -- and
differs only in where step two runs. The Spark backend lives in :mod:`.spark_backend` (re-exported
here); Dask and Ray land in the next release: their classes validate their configuration today
and raise BackendNotAvailableError from ``profile``.
"""

from __future__ import annotations

from typing import Any

from truthound.errors import BackendNotAvailableError, ConfigurationError
from truthound.profiler.distributed.config import DaskConfig, RayConfig

__all__ = ["BaseBackend", "SparkBackend", "DaskBackend", "RayBackend"]


class BaseBackend:
    """Base class of the backends: ``profile(data, **options) -> TableProfile``."""

    name = "base"
    # False for a backend that cannot run here: automatic selection never picks it.
    available = True

    def profile(self, data: Any, **options: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        """Stop what this backend started (a Spark session, a Dask cluster, a Ray instance);
        an engine it connected to is left running. A closed backend may start again."""

    def profile_file(self, path: str, **options: Any) -> Any:
        """Profile a file, glob, directory or URI (same as :meth:`profile` of the path)."""
        return self.profile(path, **options)


class _PendingBackend(BaseBackend):
    config_class: type = object
    engine = ""
    available = False

    def __init__(
        self, config: Any = None, *, num_workers: int | None = None, partition_strategy: Any = None
    ) -> None:
        if config is None:
            config = self.config_class()
        if not isinstance(config, self.config_class):
            raise ConfigurationError(
                f"{type(self).__name__} takes a {self.config_class.__name__}, got {type(config).__name__}"
            )
        validate = getattr(config, "validate", None)
        if callable(validate):
            validate()
        self.config = config
        self.num_workers = num_workers
        self.partition_strategy = partition_strategy

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    def profile(self, data: Any, **options: Any) -> Any:
        raise BackendNotAvailableError(
            f"the {self.name} backend is not available yet: it comes in the next truthound "
            f"release; use --backend local (DistributedBackend.LOCAL) meanwhile"
        )


class DaskBackend(_PendingBackend):
    """Dask Distributed backend (one task per fragment or partition; not available yet)."""

    name = "dask"
    config_class = DaskConfig


class RayBackend(_PendingBackend):
    """Ray backend (``map_batches`` / remote tasks over fragments; not available yet)."""

    name = "ray"
    config_class = RayConfig


from truthound.profiler.distributed.spark_backend import SparkBackend  # noqa: E402
