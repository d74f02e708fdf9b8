"""The backend interface and the Spark, Dask and Ray backends.

A backend profiles a source: ``profile(data, **options) -> TableProfile``. Every backend does the
same three steps -- plan partitions, run :func:`~truthound.profiler.distributed.worker.profile_partition`
on each (getting the engine's serialized partial back), merge the partials in the engine -- and
differs only in where step two runs: Spark (:mod:`.spark_backend`), Dask (:mod:`.dask_backend`)
and Ray (:mod:`.ray_backend`) bring executors of their own, re-exported here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from truthound.errors import ConfigurationError

_C = TypeVar("_C")

__all__ = ["BaseBackend", "SparkBackend", "DaskBackend", "RayBackend"]


class BaseBackend:
    """Base class of the backends: ``profile(data, **options) -> TableProfile``."""

    name = "base"
    # False for a backend that cannot run here: automatic selection never picks it.
    available = True

    def profile(self, data: Any, **options: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def _checked_config(cls, config: object, config_class: type[_C]) -> _C:
        """``config`` (default: ``config_class()``), validated; ConfigurationError when it is
        another backend's configuration."""
        if config is None:
            config = config_class()
        if not isinstance(config, config_class):
            raise ConfigurationError(
                f"{cls.__name__} takes a {config_class.__name__}, got {type(config).__name__}")
        validate = getattr(config, "validate", None)
        if callable(validate):
            validate()
        return config

    def close(self) -> None:
        """Stop what this backend started (a Spark session, a Dask cluster, a Ray instance);
        an engine it connected to is left running. A closed backend may start again."""

    def profile_file(self, path: str, **options: Any) -> Any:
        """Profile a file, glob, directory or URI (same as :meth:`profile` of the path)."""
        return self.profile(path, **options)


from truthound.profiler.distributed.dask_backend import DaskBackend  # noqa: E402
from truthound.profiler.distributed.ray_backend import RayBackend  # noqa: E402
from truthound.profiler.distributed.spark_backend import SparkBackend  # noqa: E402
