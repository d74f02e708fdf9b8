"""The Spark backend: the C++ engine runs in Spark's Python workers, the driver merges.

``profile(spark_df)`` plans the DataFrame's partitions as the driver's external pieces and runs
them with :class:`~.spark_executor.SparkFrameExecutor` (``mapInArrow``; each task returns one
serialized partial profile per hash bucket: one unless hash partitioned). ``profile_file(path)`` reads the files with ``spark.read`` (Parquet,
CSV, JSON lines, ORC; every filesystem Spark knows) and profiles the DataFrame the same way, or,
for local files of a format truthound reads, ships truthound's own file pieces as Spark tasks
(``reader="files"``; ``reader="auto"`` picks it for local files: see BENCHMARKS.md). Object-store
URIs truthound reads itself (``s3://``, ``s3a://``, ``gs://``, ``abfs://``, ``http(s)://``:
:data:`FILE_SCHEMES`) take the same ``files`` path under ``auto``: each Spark task opens its own
file through the pickled pyarrow filesystem (credentials from ``storage_options`` or the AWS
environment of the driver), so no S3A connector is needed; ``reader="spark"`` hands the URI to
``spark.read`` instead (``s3://`` given as ``s3a://``), which needs the installation's connector.
No statistic comes from Spark SQL or Python: the engine computes, Spark moves bytes.
"""

from __future__ import annotations

import glob as _glob
import os
import uuid
from typing import Any

from truthound.errors import ConfigurationError
from truthound.profiler.distributed import driver
from truthound.profiler.distributed.backends import BaseBackend
from truthound.profiler.distributed.config import PartitionStrategy, SparkConfig
from truthound.profiler.distributed.observer import RunObserver
from truthound.profiler.distributed.partitioners import Partitioner
from truthound.profiler.distributed.planning import external_plan
from truthound.profiler.distributed.spark_executor import SparkFileExecutor, SparkFrameExecutor
from truthound.profiler.distributed.spark_session import (
    active_session,
    build_session,
    check_reachable,
)
from truthound.profiler.model import TableProfile
from truthound.profiler.remote import public_uri

__all__ = ["SparkBackend", "READERS"]

READERS = ("auto", "spark", "files")
# URI schemes reader="auto" reads with truthound's own readers (truthound.profiler.remote)
FILE_SCHEMES = ("s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "http", "https")
# spark.read's format of a file extension
_SPARK_FORMATS = {
    ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".json": "json",
    ".jsonl": "json", ".ndjson": "json", ".orc": "orc",
}
# formats truthound's own readers read (reader="files")
_OWN_FORMATS = ("parquet", "csv", "tsv", "json")


def _is_spark_frame(data: Any) -> bool:
    return type(data).__module__.startswith("pyspark.sql") and hasattr(data, "mapInArrow")


def _local_path(path: str) -> str | None:
    """The local filesystem path of ``path`` (a plain path or a ``file://`` URI), else None."""
    if path.startswith("file://"):
        return path[len("file://"):]
    return None if "://" in path else path


def _format_of(path: str, format: str | None) -> str:
    """spark.read's format for ``path``: ``format`` if given, else from its extension (a
    directory's or glob's: its first file's); parquet when nothing tells."""
    if format is not None:
        fmt = format.strip().lower()
        fmt = {"jsonl": "json", "ndjson": "json"}.get(fmt, fmt)
        if fmt not in ("parquet", "csv", "tsv", "json", "orc"):
            raise ConfigurationError(
                f"option 'format' of the spark backend must be parquet, csv, tsv, json or orc, "
                f"got {format!r}")
        return fmt
    candidates = [path]
    local = _local_path(path)
    if local is not None:
        if os.path.isdir(local):
            candidates = sorted(
                os.path.join(root, f) for root, _, files in os.walk(local) for f in files
                if not f.startswith((".", "_"))
            )
        elif _glob.has_magic(local):
            candidates = sorted(_glob.glob(local, recursive=True)) or [path]
    for candidate in candidates:
        name = candidate.rstrip("/").lower()
        for compression in (".gz", ".bz2", ".zst", ".lz4"):  # data.csv.gz is a CSV file
            name = name.removesuffix(compression)
        ext = os.path.splitext(name)[1]
        if ext in _SPARK_FORMATS:
            return _SPARK_FORMATS[ext]
    return "parquet"


class SparkBackend(BaseBackend):
    """Apache Spark backend.

    ``config`` (a :class:`SparkConfig`) says how to build a session when none is active;
    ``reader`` how files are read (``"spark"``: ``spark.read``; ``"files"``: truthound's readers
    in Spark tasks; ``"auto"``: ``files`` for local files truthound reads, else ``spark``).
    """

    name = "spark"
    available = True

    def __init__(
        self,
        config: SparkConfig | None = None,
        *,
        num_workers: int | None = None,
        partition_strategy: PartitionStrategy | str | Partitioner | None = None,
        reader: str = "auto",
    ) -> None:
        config = self._checked_config(config, SparkConfig)
        if reader not in READERS:
            raise ConfigurationError(
                f"option 'reader' must be one of {', '.join(READERS)}, got {reader!r}")
        if partition_strategy is not None and not isinstance(partition_strategy, Partitioner):
            partition_strategy = PartitionStrategy.parse(partition_strategy)
        self.config = config
        # Spark decides the parallelism (its executors' cores); kept for the common interface
        self.num_workers = num_workers
        self.partition_strategy = partition_strategy or PartitionStrategy.ROW_BASED
        self.reader = reader
        self._session: Any = None
        self._own_session = False
        self.last_job_group: str | None = None

    def __repr__(self) -> str:
        return f"SparkBackend({self.config!r})"

    # ------------------------------------------------------------------ the session

    @property
    def session(self) -> Any:
        """The SparkSession profiles run on: the active one, else one built from the config."""
        if self._session is not None and self._session_alive(self._session):
            return self._session
        session = active_session()
        if session is not None:
            active = session.sparkContext.master
            wanted = self.config.master
            if wanted.startswith("local") or wanted == active:
                self._session, self._own_session = session, False
                return session
            # one SparkContext per process: a cluster the active session is not on is refused
            # (after checking that it answers, so an unreachable address is named as such)
            check_reachable(wanted, self.config.connect_timeout_seconds)
            raise ConfigurationError(
                f"a Spark session on {active} is active in this process: stop it to profile on "
                f"{wanted}, or profile on the active session (SparkConfig() uses it)")
        self._session, self._own_session = build_session(self.config), True
        return self._session

    @staticmethod
    def _session_alive(session: Any) -> bool:
        return getattr(session.sparkContext, "_jsc", None) is not None

    def close(self) -> None:
        """Stop the session this backend built (a session it found active is left running)."""
        session, self._session = self._session, None
        if session is not None and self._own_session and self._session_alive(session):
            session.stop()
        self._own_session = False

    # ------------------------------------------------------------------ profiling

    def profile(
        self,
        data: Any,
        *,
        partition_strategy: PartitionStrategy | str | Partitioner | None = None,
        monitor: RunObserver | None = None,
        **options: Any,
    ) -> TableProfile:
        """Profile a Spark DataFrame, a path / glob / directory / URI, or anything
        :func:`truthound.profiler.profile` accepts (run as truthound's tasks on Spark).

        Options are profile()'s (``columns``, ``top_n``, ...), plus ``num_partitions`` (a
        DataFrame is repartitioned to it) and, for paths, ``reader`` and ``format``.
        """
        strategy = partition_strategy if partition_strategy is not None else self.partition_strategy
        if _is_spark_frame(data):
            return self._profile_frame(data, "Spark DataFrame", strategy, monitor, **options)
        if isinstance(data, (str, os.PathLike)):
            return self.profile_file(os.fspath(data), partition_strategy=strategy,
                                     monitor=monitor, **options)
        options.pop("num_partitions", None)
        options.pop("reader", None)
        return driver.run(data, self._file_executor("profile"), strategy=strategy,
                          observer=monitor, **options)

    def profile_file(self, path: str, **options: Any) -> TableProfile:
        """Profile files: Parquet, CSV, TSV, JSON lines or ORC, by path, glob, directory or URI
        (``file://``, ``hdfs://``, every filesystem the Spark installation knows)."""
        strategy = options.pop("partition_strategy", None) or self.partition_strategy
        monitor = options.pop("monitor", None)
        reader = options.pop("reader", None) or self.reader
        if reader not in READERS:
            raise ConfigurationError(
                f"option 'reader' must be one of {', '.join(READERS)}, got {reader!r}")
        path = os.fspath(path)
        given = options.pop("format", None)
        fmt = _format_of(path, given)
        local = _local_path(path)
        remote = local is None and path.split("://", 1)[0].lower() in FILE_SCHEMES
        if reader == "auto":
            reader = "files" if (local is not None and fmt in _OWN_FORMATS) or remote else "spark"
        if reader == "files":
            options.pop("num_partitions", None)
            if local is None:
                # truthound's remote readers: the format from the files unless given
                shown = public_uri(path)
                return driver.run(path, self._file_executor(shown), strategy=strategy,
                                  observer=monitor, format=given, **options)
            return driver.run(local, self._file_executor(path), strategy=strategy,
                              observer=monitor, format=fmt, **options)
        options.pop("storage_options", None)
        if path.startswith("s3://"):
            path = "s3a://" + path[len("s3://"):]
        frame = self._read(path, fmt, options.pop("encoding", None))
        return self._profile_frame(frame, path, strategy, monitor, **options)

    def _read(self, path: str, fmt: str, encoding: str | None) -> Any:
        reader = self.session.read
        if fmt in ("csv", "tsv"):
            reader = reader.option("header", "true").option("inferSchema", "true")
            if fmt == "tsv":
                reader = reader.option("sep", "\t")
            if encoding is not None:
                reader = reader.option("encoding", encoding)
            return reader.csv(path)
        if fmt == "json":
            if encoding is not None:
                reader = reader.option("encoding", encoding)
            return reader.json(path)
        return reader.format(fmt).load(path)

    def _job_group(self) -> str:
        self.last_job_group = f"truthound-{uuid.uuid4().hex[:12]}"
        return self.last_job_group

    def _file_executor(self, description: str) -> SparkFileExecutor:
        return SparkFileExecutor(self.session, self._job_group(),
                                 f"truthound profile of {description}")

    def _profile_frame(
        self,
        frame: Any,
        description: str,
        strategy: PartitionStrategy | str | Partitioner,
        monitor: RunObserver | None,
        **options: Any,
    ) -> TableProfile:
        from pyspark.sql.pandas.types import to_arrow_schema

        session = frame.sparkSession
        num_partitions = options.pop("num_partitions", None)
        if num_partitions is not None:
            from truthound.errors import positive_int

            frame = frame.repartition(positive_int("num_partitions", num_partitions))
        for name in ("reader", "format", "encoding"):
            options.pop(name, None)
        conf = session.conf
        large = str(conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false")).lower()
        schema = to_arrow_schema(frame.schema, timezone=conf.get("spark.sql.session.timeZone"),
                                 prefers_large_types=large == "true")
        parts = frame.rdd.getNumPartitions()
        frame_name = f"spark frame {uuid.uuid4().hex[:8]}"
        plan = external_plan(description, schema, frame_name, [None] * parts,
                             columns=options.pop("columns", None),
                             batch_size=options.pop("batch_size", None))
        executor = SparkFrameExecutor(session, frame, parts, self._job_group(),
                                      f"truthound profile of {description}")
        return driver.run(plan, executor, strategy=strategy, observer=monitor, **options)
