"""Distributed profiling: one API over the local machine (threads or processes), Spark, Dask, Ray.

One driver (:mod:`.driver`) plans partitions of the source (:mod:`.planning`,
:mod:`.partitioners`), runs the engine on each on a backend's executor (threads and processes
here, :mod:`.local`) and merges the partials in partition order in the engine; a
:class:`RunObserver` hears about every partition. The result equals
:func:`truthound.profiler.profile` of the whole source: exactly for counts, min/max, lengths and
patterns, within the sketches' bounds for distinct counts, quantiles and top values.

Column-based and hybrid strategies cannot count duplicate rows (no worker sees whole rows):
their ``duplicate_row_count`` is None. With ``correlations=True`` they keep all columns in one
group, so correlations stay complete.
"""

from __future__ import annotations

from truthound.profiler.distributed.auto import auto_select_backend
from truthound.profiler.distributed.backends import BaseBackend, DaskBackend, RayBackend, SparkBackend
from truthound.profiler.distributed.config import (
    DaskConfig,
    DistributedBackend,
    PartitionStrategy,
    RayConfig,
    SparkConfig,
)
from truthound.profiler.distributed.local import LocalBackend
from truthound.profiler.distributed.merger import ProfileMerger
from truthound.profiler.distributed.observer import NullObserver, RunObserver
from truthound.profiler.distributed.partitioners import (
    ColumnBasedPartitioner,
    HashPartitioner,
    HybridPartitioner,
    Partition,
    Partitioner,
    RowBasedPartitioner,
    plan_source,
)
from truthound.profiler.distributed.profiler import DistributedProfiler
from truthound.profiler.distributed.registry import BackendRegistry
from truthound.profiler.distributed.worker import profile_partition

BackendRegistry.register("local", LocalBackend)
BackendRegistry.register("spark", SparkBackend)
BackendRegistry.register("dask", DaskBackend)
BackendRegistry.register("ray", RayBackend)

__all__ = [
    "BackendRegistry",
    "BaseBackend",
    "ColumnBasedPartitioner",
    "DaskBackend",
    "DaskConfig",
    "DistributedBackend",
    "DistributedProfiler",
    "HashPartitioner",
    "HybridPartitioner",
    "LocalBackend",
    "NullObserver",
    "Partition",
    "PartitionStrategy",
    "Partitioner",
    "ProfileMerger",
    "RayBackend",
    "RayConfig",
    "RowBasedPartitioner",
    "RunObserver",
    "SparkBackend",
    "SparkConfig",
    "auto_select_backend",
    "plan_source",
    "profile_partition",
]
