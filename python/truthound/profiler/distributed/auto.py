"""Automatic backend selection without importing an engine that is not already in use."""

from __future__ import annotations

import sys

from truthound.errors import ConfigurationError
from truthound.profiler.distributed.config import DistributedBackend

__all__ = ["auto_select_backend"]


def _spark_active() -> bool:
    if "pyspark" not in sys.modules:
        return False
    try:
        from pyspark.sql import SparkSession

        return SparkSession.getActiveSession() is not None
    except Exception:  # noqa: BLE001 - a half-installed pyspark is "no session"
        return False


def _dask_client() -> bool:
    if "distributed" not in sys.modules:
        return False
    try:
        from distributed import default_client

        default_client()
        return True
    except Exception:  # noqa: BLE001 - ValueError when there is no client
        return False


def _ray_initialized() -> bool:
    if "ray" not in sys.modules:
        return False
    try:
        import ray

        return bool(ray.is_initialized())
    except Exception:  # noqa: BLE001
        return False


def _can_run(backend: DistributedBackend) -> bool:
    """Is the backend registered under this name one that runs (not a placeholder)?"""
    from truthound.profiler.distributed.registry import BackendRegistry

    try:
        klass = BackendRegistry.get(backend.value)
    except ConfigurationError:
        return False
    return bool(getattr(klass, "available", True))


def auto_select_backend() -> DistributedBackend:
    """Spark if a Spark session is active, Dask if a Dask client exists, Ray if Ray is
    initialized, else local; never a backend that cannot run here (one not available in this
    release is passed over). Only engines the program already imported are looked at."""
    for found, backend in ((_spark_active, DistributedBackend.SPARK),
                           (_dask_client, DistributedBackend.DASK),
                           (_ray_initialized, DistributedBackend.RAY)):
        if found() and _can_run(backend):
            return backend
    return DistributedBackend.LOCAL
