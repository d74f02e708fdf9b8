"""Automatic backend selection without importing an engine that is not already in use."""

from __future__ import annotations

import sys

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


def auto_select_backend() -> DistributedBackend:
    """Spark if a Spark session is active, Dask if a Dask client exists, Ray if Ray is
    initialized, else local. Only engines the program already imported are looked at."""
    if _spark_active():
        return DistributedBackend.SPARK
    if _dask_client():
        return DistributedBackend.DASK
    if _ray_initialized():
        return DistributedBackend.RAY
    return DistributedBackend.LOCAL
