"""The Spark backend on a real Spark (pyspark's own jars, Java 17): DataFrames, files, a
standalone cluster, a retried task, errors and monitoring. Every profile is compared with the
local backend's profile of the same data: exact fields identical, sketches within bounds."""

from __future__ import annotations

import datetime
import decimal
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _profiles import assert_equivalent, mixed_table
from _spark import PANDAS_WARNING, StandaloneCluster, free_port, local_session, spark_env
from truthound.errors import BackendNotAvailableError, ConfigurationError, SourceReadError
from truthound.profiler import TableProfile, profile
from truthound.profiler.distributed import (
    DistributedBackend,
    DistributedProfiler,
    PartitionStrategy,
    SparkBackend,
    SparkConfig,
)
from truthound.profiler.distributed.cli_support import run_distributed
from truthound.profiler.distributed.monitoring import DistributedMonitor, MonitorConfig
from truthound.profiler.distributed.monitoring.adapters import SparkMonitorAdapter

pyspark = pytest.importorskip("pyspark")

pytestmark = [pytest.mark.filterwarnings(PANDAS_WARNING)]

STRATEGIES = list(PartitionStrategy)


def _table(n: int = 3000) -> pa.Table:
    """mixed_table with microsecond timestamps (Spark holds timestamps in microseconds)."""
    t = mixed_table(n, seed=5)
    return t.set_column(t.schema.get_field_index("ts"), "ts", t.column("ts").cast(pa.timestamp("us")))


def _same(got: TableProfile, want: TableProfile, strategy: PartitionStrategy | None = None) -> None:
    got.sources = want.sources = []
    hashed = strategy in (None, PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)
    assert_equivalent(got, want, duplicates=hashed)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local session for the module: 2 cores, a task tried at most twice (local[2,2])."""
    session = local_session("local[2,2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three Parquet files of one table."""
    root = tmp_path_factory.mktemp("spark") / "ds"
    root.mkdir()
    t = _table()
    for i in range(3):
        pq.write_table(t.slice(i * 1000, 1000), root / f"part-{i}.parquet")
    return root


@pytest.fixture(scope="module")
def local_profile(dataset: Path) -> TableProfile:
    return profile(str(dataset))


# --------------------------------------------------------------------------- DataFrames


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_dataframe_equals_local_for_every_strategy(spark: Any, dataset: Path,
                                                   local_profile: TableProfile,
                                                   strategy: PartitionStrategy) -> None:
    df = spark.read.parquet(str(dataset))
    got = SparkBackend().profile(df, partition_strategy=strategy)
    _same(got, local_profile, strategy)
    assert got.execution is not None
    assert (got.execution.backend, got.execution.executor) == ("spark", "mapInArrow")
    assert got.execution.partition_strategy == strategy.value


def test_num_partitions_repartitions(spark: Any, dataset: Path, local_profile: TableProfile) -> None:
    got = SparkBackend().profile(spark.read.parquet(str(dataset)), num_partitions=5)
    _same(got, local_profile)
    assert got.execution is not None and got.execution.num_partitions == 5


@pytest.mark.parametrize("large", ["false", "true"])
def test_types_as_the_local_backend_handles_them(spark: Any, tmp_path: Path, large: str) -> None:
    n = 400
    table = pa.table({
        "s": pa.array([None if i % 11 == 0 else f"v{i % 37}" for i in range(n)], pa.string()),
        "ls": pa.array([f"long-{i % 5}" for i in range(n)], pa.large_string()),
        "b": pa.array([bytes([i % 7, 1]) for i in range(n)], pa.binary()),
        "lb": pa.array([bytes([i % 3]) for i in range(n)], pa.large_binary()),
        "dec": pa.array([decimal.Decimal(i % 50) / 4 for i in range(n)], pa.decimal128(12, 2)),
        "ts": pa.array([1_600_000_000_000_000 + i * 10**9 for i in range(n)],
                       pa.timestamp("us", tz="UTC")),
        "d": pa.array([datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 90)
                       for i in range(n)]),
        "flag": pa.array([i % 3 == 0 if i % 13 else None for i in range(n)]),
        "st": pa.array([{"x": i % 9, "y": f"k{i % 4}"} for i in range(n)]),
        "i": pa.array(range(n), pa.int32()),
    })
    path = tmp_path / "types.parquet"
    pq.write_table(table, path, row_group_size=100)
    spark.conf.set("spark.sql.execution.arrow.useLargeVarTypes", large)
    try:
        df = spark.read.parquet(str(path)).repartition(3)
        got = SparkBackend().profile(df)
    finally:
        spark.conf.unset("spark.sql.execution.arrow.useLargeVarTypes")
    # what Spark holds: strings and binaries of its own width (the engine profiles both alike),
    # timestamps in the session time zone
    arrow = df.toArrow()
    if large == "true":  # Spark's Arrow batches then carry large strings and binaries
        from pyspark.sql.pandas.types import to_arrow_schema

        arrow = arrow.cast(to_arrow_schema(df.schema, timezone="UTC", prefers_large_types=True))
        assert arrow.schema.field("s").type == pa.large_string()
    want = profile(arrow)
    _same(got, want)
    by_name = {c.name: c for c in got.columns}
    assert by_name["dec"].min is not None and by_name["st.x"].distinct_count == 9
    assert "UTC" in by_name["ts"].physical_type
    strings = profile(table.select(["s", "ls", "b", "lb", "i"]))
    assert [c.distinct_count for c in got.columns if c.name in ("s", "ls", "b", "lb", "i")] == \
        [c.distinct_count for c in strings.columns]


def test_columns_option_and_empty_partitions(spark: Any, dataset: Path) -> None:
    df = spark.read.parquet(str(dataset)).repartition(6)  # some partitions hold few rows
    got = SparkBackend().profile(df, columns=["email", "id"], partition_strategy="hybrid")
    want = profile(str(dataset), columns=["email", "id"])
    _same(got, want, PartitionStrategy.HYBRID)
    empty = spark.read.parquet(str(dataset)).limit(0)
    assert SparkBackend().profile(empty).row_count == 0


def test_other_sources_run_as_truthound_tasks_on_spark(spark: Any) -> None:
    table = _table(1200)
    got = SparkBackend().profile(table, partition_strategy="hybrid")
    _same(got, profile(table), PartitionStrategy.HYBRID)
    assert got.execution is not None and got.execution.executor == "tasks"


# --------------------------------------------------------------------------- files


def test_a_compressed_csv_is_read_as_csv(spark: Any, tmp_path: Path) -> None:
    """reader="auto" takes data.csv.gz for a CSV file (it took the format for Parquet)."""
    import gzip

    import pyarrow.csv as pa_csv

    table = pa.table({"a": list(range(500)), "b": [f"v{i % 37}" for i in range(500)]})
    plain = tmp_path / "data.csv"
    pa_csv.write_csv(table, plain)
    packed = tmp_path / "data.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    got = SparkBackend().profile_file(str(packed))
    _same(got, profile(str(plain)), PartitionStrategy.ROW_BASED)


@pytest.mark.parametrize("reader", ["spark", "files"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_files_by_uri_and_glob(spark: Any, dataset: Path, local_profile: TableProfile,
                               reader: str, strategy: PartitionStrategy) -> None:
    got = SparkBackend(reader=reader).profile_file(f"file://{dataset}/*.parquet",
                                                   partition_strategy=strategy)
    _same(got, local_profile, strategy)
    assert got.execution is not None
    assert got.execution.executor == ("tasks" if reader == "files" else "mapInArrow")


def test_csv_json_and_orc_through_spark_read(spark: Any, tmp_path: Path) -> None:
    n = 600
    table = pa.table({"id": pa.array(range(n), pa.int32()),
                      "x": pa.array([i * 0.5 if i % 9 else None for i in range(n)]),
                      "name": pa.array([f"n{i % 13}" for i in range(n)])})
    want = profile(table)
    import pyarrow.csv as pa_csv
    import pyarrow.orc as orc

    pa_csv.write_csv(table.slice(0, 300), tmp_path / "a.csv")
    pa_csv.write_csv(table.slice(300), tmp_path / "b.csv")
    with open(tmp_path / "rows.jsonl", "w") as f:
        for r in table.to_pylist():
            f.write(json.dumps(r) + "\n")
    orc.write_table(table, tmp_path / "t.orc")
    backend = SparkBackend(reader="spark")
    for path, options in ((f"file://{tmp_path}/*.csv", {}), (str(tmp_path / "rows.jsonl"), {}),
                          (str(tmp_path / "t.orc"), {})):
        got = backend.profile_file(path, **options)
        assert got.row_count == n
        for c in ("id", "x", "name"):
            g, w = got[c], want[c]
            assert (g.null_count, g.distinct_count, g.min, g.max) == \
                (w.null_count, w.distinct_count, w.min, w.max), (path, c)
        assert got["x"].mean == pytest.approx(want["x"].mean)
    # reader="auto" reads local CSV with truthound's own reader: identical to the local backend
    got = SparkBackend().profile_file(f"{tmp_path}/*.csv")
    _same(got, profile(f"{tmp_path}/*.csv"))


# --------------------------------------------------------------------------- retries, errors


def _fail_partition_1(always: bool) -> Any:
    def passthrough(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        assert ctx is not None
        for i, batch in enumerate(batches):
            yield batch
            if ctx.partitionId() == 1 and (always or ctx.attemptNumber() == 0):
                raise RuntimeError("injected failure")

    return passthrough


def test_a_task_failing_once_is_retried_and_counted_once(spark: Any, dataset: Path,
                                                         local_profile: TableProfile) -> None:
    df = spark.read.parquet(str(dataset)).repartition(3)
    failing = df.mapInArrow(_fail_partition_1(always=False), df.schema)
    monitor = DistributedMonitor(MonitorConfig.standard())
    with monitor:
        got = SparkBackend().profile(failing, monitor=monitor)
    _same(got, local_profile)
    assert monitor.get_statistics()["tasks_retried"] == 1
    progress = monitor.get_progress()
    assert progress is not None and progress.completed_partitions == 3
    assert progress.rows_processed == 3000  # the retried partition counts once


def test_a_task_failing_every_try_fails_the_run_with_its_error(spark: Any, dataset: Path) -> None:
    df = spark.read.parquet(str(dataset)).repartition(3)
    failing = df.mapInArrow(_fail_partition_1(always=True), df.schema)
    with pytest.raises(SourceReadError, match="Spark job failed: RuntimeError: injected failure"):
        SparkBackend().profile(failing)


def test_a_read_error_in_a_task_is_truthounds_own_naming_the_partition(spark: Any,
                                                                      tmp_path: Path) -> None:
    # a row that does not parse, past the block planning reads: a worker's CSV range meets it
    good = SparkBackend(reader="files")
    bad = tmp_path / "data.csv"
    bad.write_text("a,b\n1,2\n" + "3,4\n" * 1_500_000 + "5\n")  # past the first block
    with pytest.raises(SourceReadError, match=r"Spark partition \d+: .*data.csv"):
        good.profile_file(str(bad))


def test_unreachable_master_fails_in_bounded_time(spark: Any) -> None:
    port = free_port()
    started = time.monotonic()
    config = SparkConfig(master=f"spark://127.0.0.1:{port}", connect_timeout_seconds=2)
    with pytest.raises(BackendNotAvailableError, match=f"spark://127.0.0.1:{port} cannot be reached"):
        SparkBackend(config).profile_file("file:///nonexistent/*.parquet")
    assert time.monotonic() - started < 10


def test_config_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="SparkConfig"):
        SparkBackend(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="connect_timeout_seconds"):
        SparkBackend(SparkConfig(connect_timeout_seconds=0))
    with pytest.raises(ConfigurationError, match="reader"):
        SparkBackend(reader="nope")


# --------------------------------------------------------------------------- the spec, monitoring


def test_spec_examples(spark: Any, dataset: Path, local_profile: TableProfile) -> None:
    spark_df = spark.read.parquet(str(dataset))
    # the spec's master spark://master:7077 -> the test session's (the active one is used)
    config = SparkConfig(
        master=spark.sparkContext.master,
        executor_memory="8g",
        num_executors=10,
    )
    backend = SparkBackend(config)
    # Profile Spark DataFrame
    profile_ = backend.profile(spark_df)
    _same(profile_, local_profile)
    # Profile HDFS file (here: a local file URI; hdfs:// goes the same way through spark.read)
    profile_ = backend.profile_file(f"file://{dataset}")
    _same(profile_, local_profile)

    profiler = DistributedProfiler.create(
        backend=DistributedBackend.SPARK,
        config=SparkConfig(master=spark.sparkContext.master),
        partition_strategy=PartitionStrategy.HYBRID,
    )
    _same(profiler.profile(spark_df), local_profile, PartitionStrategy.HYBRID)
    profiler = DistributedProfiler.create(backend=DistributedBackend.AUTO)
    assert isinstance(profiler.backend, SparkBackend)
    _same(profiler.profile(spark_df), local_profile)


def test_cli_runs_on_spark(spark: Any, dataset: Path, local_profile: TableProfile) -> None:
    got = run_distributed(str(dataset), backend="spark", master="local[2]",
                          partition_strategy="column_based")
    _same(got, local_profile, PartitionStrategy.COLUMN_BASED)
    assert not spark.sparkContext._jsc.sc().isStopped()  # the active session is not stopped


def test_monitor_sees_every_partition_and_the_adapter_reads_the_tracker(
        spark: Any, dataset: Path) -> None:
    backend = SparkBackend()
    monitor = DistributedMonitor(MonitorConfig.full())
    df = spark.read.parquet(str(dataset)).repartition(4)
    with monitor:
        backend.profile(df, monitor=monitor)
    progress = monitor.get_progress()
    assert progress is not None and progress.total_partitions == 4 and progress.completed_partitions == 4
    adapter = SparkMonitorAdapter(spark_session=spark, poll_interval_seconds=5.0,
                                  job_group=backend.last_job_group)
    adapter.connect()
    workers = adapter.get_workers()
    assert workers and all(w.active_tasks is not None for w in workers)
    done = adapter.get_progress()
    # the run's job group: the read and the profile's 4 tasks (a skipped stage counts no task)
    assert done.jobs >= 1 and done.completed_tasks >= 4 and done.failed_tasks == 0
    assert adapter.get_metrics()["spark_tasks_total"] == float(done.total_tasks)
    with DistributedMonitor(MonitorConfig.full()) as live:
        live.attach_adapter(adapter)
        adapter.poll(live)
        assert live.health_monitor is not None


# --------------------------------------------------------------------------- a cluster

_CLUSTER_SCRIPT = """
import json, sys
from truthound.profiler.distributed import SparkBackend, SparkConfig
config = SparkConfig(master=sys.argv[1], executor_cores=1, num_executors=1,
                     executor_memory="512m", connect_timeout_seconds=60,
                     spark_config={conf})
backend = SparkBackend(config, reader="spark")
try:
    conf = backend.session.sparkContext.getConf()
    assert conf.get("spark.executor.memory") == "512m", conf.get("spark.executor.memory")
    assert conf.get("spark.executor.instances") == "1" and conf.get("spark.executor.cores") == "1"
    assert conf.get("spark.app.name") == "truthound-profiler"
    result = backend.profile_file(sys.argv[2], partition_strategy=sys.argv[3])
    print(json.dumps(result.to_dict(), default=str))
finally:
    backend.close()
"""


@pytest.mark.slow
def test_standalone_cluster_profiles_a_multi_file_dataset(tmp_path: Path, dataset: Path,
                                                          local_profile: TableProfile) -> None:
    from _spark import TEST_CONF

    spark_env()
    cluster = StandaloneCluster(tmp_path)
    cluster.start()
    try:
        conf = {k: v for k, v in TEST_CONF.items()}
        script = _CLUSTER_SCRIPT.replace("{conf}", repr(conf))
        env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
        out = subprocess.run([sys.executable, "-c", script, cluster.master,
                              f"file://{dataset}/*.parquet", "hybrid"],
                             capture_output=True, text=True, timeout=240, env=env)
        assert out.returncode == 0, out.stderr[-3000:]
        got = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        cluster.stop()
    want = local_profile.to_dict()
    assert got["row_count"] == want["row_count"] == 3000
    assert got["execution"]["backend"] == "spark"
    for g, w in zip(got["columns"], want["columns"]):
        assert (g["name"], g["null_count"], g["distinct_count"], str(g["min"]), str(g["max"])) == \
            (w["name"], w["null_count"], w["distinct_count"], str(w["min"]), str(w["max"]))


_NO_ENGINE_SCRIPT = """
import sys
from truthound.errors import BackendNotAvailableError
from truthound.profiler.distributed import SparkBackend, SparkConfig
backend = SparkBackend(SparkConfig(master="local[1]", spark_config={conf}), reader="files")
try:
    backend.profile_file(sys.argv[1])
except BackendNotAvailableError as exc:
    print(exc)
finally:
    backend.close()
"""


@pytest.mark.slow
def test_a_worker_python_without_truthound_fails_naming_the_interpreter(tmp_path: Path,
                                                                          dataset: Path) -> None:
    """PYSPARK_PYTHON set by the user is kept: here an interpreter that cannot see truthound
    (this Python without its site-packages; Spark's own pyspark.zip is on its path)."""
    from _spark import TEST_CONF

    wrapper = tmp_path / "python-without-site"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    wrapper.chmod(0o755)
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=str(wrapper))
    script = _NO_ENGINE_SCRIPT.replace("{conf}", repr(dict(TEST_CONF)))
    out = subprocess.run([sys.executable, "-c", script, str(dataset)], capture_output=True,
                         text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    message = out.stdout.strip().splitlines()[-1]
    assert "Spark partition" in message and "cannot import truthound's engine" in message
    assert sys.executable in message and "PYSPARK_PYTHON" in message


@pytest.mark.slow
def test_th_profile_distributed_on_spark(dataset: Path, local_profile: TableProfile) -> None:
    """``th profile PATH --distributed --backend spark --master URL`` in a process of its own
    (it builds its session and stops it)."""
    from _spark import TEST_CONF

    conf = " ".join(f"--conf {k}={v}" for k, v in TEST_CONF.items())
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_SUBMIT_ARGS=f"{conf} pyspark-shell")
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", f"file://{dataset}/*.parquet",
         "--distributed", "--backend", "spark", "--master", "local[1]",
         "--partition-strategy", "hash", "-f", "json"],
        capture_output=True, text=True, env=env, timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout)
    assert got["row_count"] == 3000 and got["execution"]["backend"] == "spark"
    assert got["duplicate_row_count"] == local_profile.duplicate_row_count
