"""truthound.profiler.distributed: the same profile every way (real engine, no mocks)."""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _profiles import assert_equivalent, assert_equivalent_rows, mixed_table
from _strategies import arrow_table
from truthound.errors import (
    BackendNotAvailableError,
    ColumnNotFoundError,
    ConfigurationError,
    SchemaError,
    SourceReadError,
)
from truthound.profiler import TableProfile, profile
from truthound.profiler.distributed import (
    BackendRegistry,
    ColumnBasedPartitioner,
    DaskBackend,
    DaskConfig,
    DistributedBackend,
    DistributedProfiler,
    HashPartitioner,
    HybridPartitioner,
    LocalBackend,
    PartitionStrategy,
    ProfileMerger,
    RayBackend,
    RayConfig,
    RowBasedPartitioner,
    SparkBackend,
    SparkConfig,
    auto_select_backend,
    profile_partition,
)
from truthound.profiler.distributed import csv_ranges as csv_ranges_module
from truthound.profiler.distributed import grouping as grouping_module
from truthound.profiler.distributed import planning as planning_module
from truthound.profiler.distributed.partitioners import column_cost, plan_source

STRATEGIES = list(PartitionStrategy)
def no_children() -> None:
    assert multiprocessing.active_children() == []


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def parquet_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three Parquet files, several row groups each, uneven sizes; duplicate rows included."""
    root = tmp_path_factory.mktemp("pq")
    table = mixed_table(2600, seed=1)
    pq.write_table(table.slice(0, 1200), root / "a.parquet", row_group_size=250)
    pq.write_table(table.slice(1200, 900), root / "b.parquet", row_group_size=400)
    pq.write_table(table.slice(2100), root / "c.parquet", row_group_size=100)
    return root


@pytest.fixture(scope="module")
def whole_parquet(parquet_dataset: Path) -> TableProfile:
    return profile(str(parquet_dataset))


# --------------------------------------------------------------------------- enums & configs


def test_enums_and_configs_have_the_spec_values() -> None:
    assert [b.value for b in DistributedBackend] == ["local", "spark", "dask", "ray", "auto"]
    assert [s.value for s in PartitionStrategy] == ["row_based", "column_based", "hybrid", "hash"]
    assert isinstance(DistributedBackend.LOCAL, str) and DistributedBackend.LOCAL == "local"
    assert PartitionStrategy.HASH == "hash"
    s = SparkConfig()
    assert (s.app_name, s.master, s.executor_memory, s.executor_cores, s.num_executors, s.spark_config) == (
        "truthound-profiler", "local[*]", "4g", 2, 4, {}
    )
    d = DaskConfig()
    assert (d.scheduler, d.num_workers, d.memory_limit, d.dashboard_address) == ("threads", None, "4GB", ":8787")
    r = RayConfig()
    assert (r.num_cpus, r.num_gpus, r.object_store_memory) == (None, None, None)


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_HOME", "/opt/spark")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:8786")
    monkeypatch.setenv("RAY_ADDRESS", "ray://127.0.0.1:10001")
    monkeypatch.setenv("TRUTHOUND_NUM_WORKERS", "3")
    assert SparkConfig().spark_home == "/opt/spark"
    assert DaskConfig().scheduler_address == "tcp://127.0.0.1:8786"
    assert RayConfig().address == "ray://127.0.0.1:10001"
    assert LocalBackend().num_workers == 3
    monkeypatch.setenv("TRUTHOUND_DISTRIBUTED_BACKEND", "spark")
    assert isinstance(DistributedProfiler.create().backend, SparkBackend)
    monkeypatch.setenv("TRUTHOUND_DISTRIBUTED_BACKEND", "local")
    p = DistributedProfiler.create()
    assert isinstance(p.backend, LocalBackend) and p.backend.num_workers == 3
    monkeypatch.setenv("TRUTHOUND_NUM_WORKERS", "zero")
    with pytest.raises(ConfigurationError, match="TRUTHOUND_NUM_WORKERS"):
        LocalBackend()
    monkeypatch.delenv("TRUTHOUND_NUM_WORKERS")
    assert LocalBackend().num_workers >= 1


def test_bad_configuration_is_named() -> None:
    with pytest.raises(ConfigurationError, match="num_workers"):
        LocalBackend(num_workers=0)
    with pytest.raises(ConfigurationError, match="partition_strategy"):
        DistributedProfiler.create(backend="local", partition_strategy="diagonal")
    with pytest.raises(ConfigurationError, match="scheduler"):
        DaskBackend(DaskConfig(scheduler="telepathy"))
    with pytest.raises(ConfigurationError, match="SparkConfig"):
        DistributedProfiler.create(backend="spark", config=DaskConfig())
    with pytest.raises(ConfigurationError, match="num_partitions"):
        RowBasedPartitioner(0)


# --------------------------------------------------------------------------- spec examples


def test_spec_distributed_profiler_examples(parquet_dataset: Path, whole_parquet: TableProfile) -> None:
    profiler = DistributedProfiler.create(backend=DistributedBackend.AUTO)
    assert isinstance(profiler.backend, LocalBackend)
    assert_equivalent(profiler.profile(str(parquet_dataset)), whole_parquet)

    # the spec's master does not exist here: it fails within the connect timeout, named
    profiler = DistributedProfiler.create(
        backend=DistributedBackend.SPARK,
        config=SparkConfig(master="spark://master:7077", connect_timeout_seconds=2),
    )
    started = time.monotonic()
    with pytest.raises(BackendNotAvailableError,
                       match="Spark master spark://master:7077 cannot be reached within 2 s"):
        profiler.profile(str(parquet_dataset))
    assert time.monotonic() - started < 10
    # the dask backend runs (on a cluster in tests/test_dask_backend.py; here on its
    # synchronous scheduler, no cluster)
    profiler = DistributedProfiler.create(
        backend=DistributedBackend.DASK, config=DaskConfig(scheduler="distributed"),
    )
    assert isinstance(profiler.backend, DaskBackend)
    profiler = DistributedProfiler.create(
        backend=DistributedBackend.DASK, config=DaskConfig(scheduler="synchronous"),
    )
    assert_equivalent(profiler.profile(str(parquet_dataset)), whole_parquet)


def test_spec_backend_classes(parquet_dataset: Path) -> None:
    """Every backend of the spec runs: Spark's unreachable master and Ray's unresolvable address
    fail naming them; Dask runs here on threads (clusters: tests/test_*_backend.py)."""
    config = SparkConfig(master="spark://master:7077", executor_memory="8g", num_executors=10,
                         connect_timeout_seconds=2)
    backend = SparkBackend(config)
    with pytest.raises(BackendNotAvailableError, match="spark://master:7077 cannot be reached"):
        backend.profile_file("hdfs://data/large.parquet")
    backend = DaskBackend(DaskConfig(scheduler="threads", num_workers=2, memory_limit="8GB"))
    assert backend.profile_file(str(parquet_dataset)).row_count == 2600
    backend = RayBackend(RayConfig(address="ray://cluster.invalid:10001", num_cpus=16))
    with pytest.raises(BackendNotAvailableError,
                       match="cannot reach the Ray cluster at ray://cluster.invalid:10001"):
        backend.profile(str(parquet_dataset))


def test_spec_integration_example_runs_on_local(parquet_dataset: Path, whole_parquet: TableProfile) -> None:
    profiler = DistributedProfiler.create(
        backend=DistributedBackend.LOCAL, partition_strategy=PartitionStrategy.HYBRID,
    )
    result = profiler.profile(str(parquet_dataset))
    assert_equivalent(result, whole_parquet, duplicates=False)
    assert f"Rows: {result.row_count:,}" == "Rows: 2,600"
    assert result.column_count == 7 and result.profile_duration_ms > 0


def test_spec_registry_example(parquet_dataset: Path) -> None:
    assert BackendRegistry.list()[:4] == ["local", "spark", "dask", "ray"]
    spark_config = SparkConfig()
    assert isinstance(BackendRegistry.create("spark", config=spark_config), SparkBackend)
    assert isinstance(BackendRegistry.create("local"), LocalBackend)

    @BackendRegistry.register("my_backend")
    class MyCustomBackend:
        def profile(self, data, **options):
            # Custom profiling logic: the engine on the whole source, one partial.
            return profile(data, **options)

    try:
        assert "my_backend" in BackendRegistry.list()
        result = DistributedProfiler.create(backend="my_backend").profile(str(parquet_dataset))
        assert result.row_count == 2600
    finally:
        BackendRegistry.unregister("my_backend")
    with pytest.raises(ConfigurationError, match="registered backends: local, spark, dask, ray"):
        BackendRegistry.create("my_backend")
    with pytest.raises(ConfigurationError, match="unknown backend 'nope'"):
        DistributedProfiler.create(backend="nope")


def test_spec_partitioner_examples_with_a_lazy_frame() -> None:
    pl = pytest.importorskip("polars")
    lf = pl.LazyFrame(mixed_table(1000).to_pandas())

    partitions = RowBasedPartitioner(num_partitions=10).partition(lf)
    assert len(partitions) == 10 and all(p.columns == tuple(lf.collect_schema().names()) for p in partitions)

    column_groups = ColumnBasedPartitioner().partition(lf, num_workers=4)
    assert len(column_groups) == 4
    flat = [c for p in column_groups for c in p.columns]
    assert flat == list(lf.collect_schema().names())

    partitioner = HybridPartitioner(row_partitions=4, column_partitions=2)
    assert len(partitioner.partition(lf)) == 8


def test_spec_auto_select_backend_does_not_import_engines() -> None:
    code = (
        "import sys\n"
        "from truthound.profiler.distributed import auto_select_backend\n"
        "b = auto_select_backend()\n"
        "assert b == 'local', b\n"
        "bad = [m for m in ('pyspark', 'dask', 'distributed', 'ray') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert auto_select_backend() is DistributedBackend.LOCAL


def test_spec_profile_merger_example() -> None:
    table = mixed_table(800)
    profile1, profile2, profile3, profile4 = (profile(table.slice(i * 200, 200)) for i in range(4))
    merger = ProfileMerger()
    partial_profiles = [profile1, profile2, profile3, profile4]
    merged = merger.merge(partial_profiles)
    want = profile(table)
    assert merged.row_count == 800 and merged["id"].min == want["id"].min
    assert_equivalent_rows(merged, want)
    assert profile1.row_count == 200  # inputs unchanged


@pytest.mark.slow
def test_spec_local_backend_processes_profile_columns_parallel() -> None:
    pl = pytest.importorskip("polars")
    table = mixed_table(3000)
    lf = pl.LazyFrame(table)
    columns = ["id", "email", "score"]
    backend = LocalBackend(num_workers=4, use_processes=True)
    results = backend.profile_columns_parallel(lf, columns)
    assert list(results) == columns
    want = profile(lf, columns=columns)
    for name in columns:
        assert results[name].row_count == 3000
        assert results[name].null_count == want[name].null_count
        assert results[name].min == want[name].min and results[name].max == want[name].max
    no_children()


# --------------------------------------------------------------------------- the same answer


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_parquet_dataset_threads(parquet_dataset: Path, whole_parquet: TableProfile,
                                 strategy: PartitionStrategy, workers: int) -> None:
    result = LocalBackend(num_workers=workers, partition_strategy=strategy).profile(str(parquet_dataset))
    by_rows = strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)
    assert_equivalent(result, whole_parquet, duplicates=by_rows or workers == 1 and strategy is PartitionStrategy.COLUMN_BASED)


def test_eight_workers_every_strategy(parquet_dataset: Path, whole_parquet: TableProfile) -> None:
    for strategy in STRATEGIES:
        result = DistributedProfiler.create(
            backend="local", partition_strategy=strategy, num_workers=8
        ).profile(str(parquet_dataset))
        by_rows = strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)
        assert_equivalent(result, whole_parquet, duplicates=by_rows)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_parquet_dataset_processes(parquet_dataset: Path, whole_parquet: TableProfile,
                                   strategy: PartitionStrategy) -> None:
    result = LocalBackend(num_workers=2, use_processes=True, partition_strategy=strategy).profile(
        str(parquet_dataset)
    )
    by_rows = strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)
    assert_equivalent(result, whole_parquet, duplicates=by_rows)
    no_children()


def test_options_columns_and_correlations(parquet_dataset: Path) -> None:
    opts = dict(columns=["score", "id", "small"], correlations=True, top_n=3, histogram_bins=5)
    want = profile(str(parquet_dataset), **opts)
    for strategy in STRATEGIES:
        got = LocalBackend(num_workers=3, partition_strategy=strategy).profile(str(parquet_dataset), **opts)
        # With correlations on, column groups stay whole: duplicates stay countable.
        assert_equivalent(got, want)
        assert got.column_names == ["score", "id", "small"] and got.correlations


def test_duplicates_are_none_for_column_strategies() -> None:
    table = pa.table({"a": [1, 1, 2, 2, 3] * 20, "b": ["x", "x", "y", "z", "w"] * 20})
    want = profile(table)
    assert want.duplicate_row_count == 96
    for strategy in (PartitionStrategy.COLUMN_BASED, PartitionStrategy.HYBRID):
        got = LocalBackend(num_workers=2, partition_strategy=strategy).profile(table)
        assert got.duplicate_row_count is None and got.duplicate_row_ratio is None
        assert_equivalent(got, want, duplicates=False)
    for strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH):
        assert LocalBackend(num_workers=2, partition_strategy=strategy).profile(table).duplicate_row_count == 96


@settings(max_examples=25)
@given(table=arrow_table(max_columns=4, max_size=40), workers=st.integers(1, 4),
       strategy=st.sampled_from(STRATEGIES))
def test_random_tables_threads(table: pa.Table, workers: int, strategy: PartitionStrategy) -> None:
    want = profile(table)
    got = LocalBackend(num_workers=workers, partition_strategy=strategy).profile(table)
    by_rows = strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)
    assert_equivalent(got, want, duplicates=by_rows or len(table.column_names) == 1 or
                      (workers == 1 and strategy is PartitionStrategy.COLUMN_BASED))


def test_in_memory_and_stream_sources() -> None:
    pl = pytest.importorskip("polars")
    pd = pytest.importorskip("pandas")
    table = mixed_table(1500)
    backend = LocalBackend(num_workers=3)
    cases = {
        "table": (table, table),
        "batch": (table.combine_chunks().to_batches()[0], table.combine_chunks().to_batches()[0]),
        "polars": (pl.from_arrow(table), pl.from_arrow(table)),
        "lazy": (pl.LazyFrame(table), pl.LazyFrame(table)),
        "pandas": (table.to_pandas(), table.to_pandas()),
    }
    for name, (src, ref) in cases.items():
        for strategy in STRATEGIES:
            got = backend.profile(src, partition_strategy=strategy, batch_size=100)
            by_rows = strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)
            assert_equivalent(got, profile(ref), duplicates=by_rows), name
    def reader() -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=128))

    for strategy in STRATEGIES:
        by_rows = strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)
        got = backend.profile(reader(), partition_strategy=strategy, batch_size=128)
        assert_equivalent(got, profile(reader()), duplicates=by_rows)


def test_csv_byte_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_ranges_module, "CSV_MIN_RANGE_BYTES", 4096)
    monkeypatch.setattr(csv_ranges_module, "CSV_MAX_RANGE_BYTES", 8192)
    table = mixed_table(3000).drop_columns(["ts"])
    for i in range(2):
        pa_csv.write_csv(table.slice(i * 1500, 1500), tmp_path / f"part{i}.csv",
                         pa_csv.WriteOptions(quoting_style="none"))
    plan = plan_source(str(tmp_path), min_units=8)
    assert sum(1 for u in plan.units if u.byte_range is not None) >= 8
    want = profile(str(tmp_path))
    for strategy in STRATEGIES:
        got = LocalBackend(num_workers=3, partition_strategy=strategy).profile(str(tmp_path))
        by_rows = strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)
        assert_equivalent(got, want, duplicates=by_rows)


def test_quoted_csv_byte_ranges_start_at_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Quoted fields may hold newlines, commas and doubled quotes: ranges start only where a newline
    ends a record (an even number of quotes before it), and the profile is the whole file's."""
    monkeypatch.setattr(csv_ranges_module, "CSV_MIN_RANGE_BYTES", 2048)
    monkeypatch.setattr(csv_ranges_module, "CSV_MAX_RANGE_BYTES", 4096)
    texts = ["plain", 'say "hi"', "two\nlines", "a,b", "\n", '""', "x\n\ny,\"z\"\n"]
    n = 3000
    table = pa.table({
        "id": list(range(n)),
        "text": [texts[i % len(texts)] + str(i % 97) for i in range(n)],
        "amount": [i * 0.25 for i in range(n)],
    })
    path = tmp_path / "quoted.csv"
    pa_csv.write_csv(table, path)  # pyarrow quotes every string
    raw = path.read_bytes()
    plan = plan_source(str(path), min_units=8)
    ranges = [u.byte_range for u in plan.units if u.byte_range is not None]
    assert len(ranges) >= 8
    for lo, hi in ranges:
        assert raw[lo - 1 : lo] == b"\n" and raw[:lo].count(b'"') % 2 == 0, lo
    assert [r[0] for r in ranges[1:]] == [r[1] for r in ranges[:-1]] and ranges[-1][1] == len(raw)
    # some cut fell inside a quoted field's lines and was moved to the record's end
    newlines = [i + 1 for i, b in enumerate(raw) if b == 10 and raw[: i + 1].count(b'"') % 2]
    assert newlines, "the file holds newlines inside quotes"
    want = profile(str(path))
    assert want.row_count == n
    got = LocalBackend(num_workers=3).profile(str(path))
    assert_equivalent(got, want)
    assert got["text"].distinct_count == want["text"].distinct_count


def test_csv_with_an_unbalanced_quote_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stray quote leaves every later newline inside quotes: no record start is found near the
    cut points, so the file is not split (and reads as it does whole)."""
    monkeypatch.setattr(csv_ranges_module, "CSV_MIN_RANGE_BYTES", 2048)
    monkeypatch.setattr(csv_ranges_module, "CSV_MAX_RANGE_BYTES", 4096)
    monkeypatch.setattr(csv_ranges_module, "_MAX_RECORD_BYTES", 8192)
    lines = ["id,text"] + [f'{i},row {i}' for i in range(30000)]  # ~400 KB
    lines[10] = '9,"stray quote'
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(lines) + "\n")
    plan = plan_source(str(path), min_units=8)
    assert all(u.byte_range is None for u in plan.units)
    assert len(plan.units) == 1


def test_hive_partitions_and_schema_drift(tmp_path: Path) -> None:
    for year, dtype in ((2023, pa.int32()), (2024, pa.int64())):
        d = tmp_path / f"year={year}"
        d.mkdir()
        pq.write_table(pa.table({"v": pa.array(range(year % 10, 300), dtype)}), d / "x.parquet",
                       row_group_size=50)
    want = profile(str(tmp_path))
    got = LocalBackend(num_workers=2).profile(str(tmp_path))
    assert_equivalent(got, want)
    assert "year" in got.column_names


# --------------------------------------------------------------------------- partitioners


def test_row_partitions_cover_every_row_once() -> None:
    table = mixed_table(1003)
    parts = RowBasedPartitioner(num_partitions=10).partition(table)
    sizes = [p.num_rows for p in parts]
    assert sum(sizes) == 1003 and max(sizes) - min(sizes) <= 1
    offsets = sorted((p.pieces[0].offset, p.pieces[0].length) for p in parts)
    assert all(a[0] + a[1] == b[0] for a, b in zip(offsets, offsets[1:]))


def test_file_row_partitions_follow_row_groups(parquet_dataset: Path) -> None:
    parts = RowBasedPartitioner(num_partitions=4).partition(str(parquet_dataset))
    assert len(parts) == 4
    units = [(u.path, g) for p in parts for u in p.pieces for g in u.row_groups]
    assert len(units) == len(set(units)) == 5 + 3 + 5
    # a partition's row groups of one file are one piece (one reader)
    for p in parts:
        paths = [u.path for u in p.pieces]
        assert len(paths) == len(set(paths))
    rows = [p.num_rows for p in parts]
    assert sum(rows) == 2600 and max(rows) - min(rows) <= 400


def test_local_backend_runs_one_balanced_partition_per_worker(tmp_path: Path) -> None:
    from truthound.profiler.distributed.driver import partition_plan

    # one file of 10 equal row groups, as the benchmark's: 5 per worker, one reader each
    path = tmp_path / "ten.parquet"
    pq.write_table(mixed_table(2000, seed=3), path, row_group_size=200)
    for workers in (1, 2, 3):
        plan = plan_source(str(path), min_units=4 * workers)
        parts = partition_plan(plan, PartitionStrategy.ROW_BASED, workers, {})
        assert len(parts) == workers
        groups = [g for p in parts for u in p.pieces for g in u.row_groups]
        ranges = [(u.row_groups, u.row_range) for p in parts for u in p.pieces if u.row_range]
        assert sorted(groups) == sorted(set(groups)) and not ranges
        assert set(groups) == set(range(10))
        rows = [p.num_rows for p in parts]
        assert max(rows) == 200 * math.ceil(10 / workers) and max(rows) - min(rows) <= 200
        assert all(len(p.pieces) == 1 for p in parts)  # one file: one reader per partition
        # contiguous row groups: the file is read in order
        assert all(list(u.row_groups) == list(range(u.row_groups[0], u.row_groups[-1] + 1))
                   for p in parts for u in p.pieces)
    profiled = LocalBackend(num_workers=2).profile(str(path))
    whole = profile(str(path))
    assert profiled.row_count == whole.row_count == 2000
    assert profiled.duplicate_row_count == whole.duplicate_row_count


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=1, max_size=9), st.integers(1, 5))
def test_contiguous_groups_have_the_smallest_largest_run(weights: list[int], n: int) -> None:
    from itertools import combinations

    runs = grouping_module.contiguous_groups(weights, n)
    assert [i for r in runs for i in r] == list(range(len(weights)))
    assert 1 <= len(runs) <= n and all(runs)
    best = min(
        max(sum(weights[a:b]) for a, b in zip((0, *cuts), (*cuts, len(weights))))
        for k in range(min(n, len(weights)))
        for cuts in combinations(range(1, len(weights)), k)
    )
    assert max(sum(weights[i] for i in r) for r in runs) == best


def test_row_ranges_of_one_row_group_join_per_worker(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from truthound.profiler.distributed.driver import partition_plan

    monkeypatch.setattr(planning_module, "PARQUET_MIN_RANGE_ROWS", 1000)
    path = tmp_path / "one_group.parquet"
    pq.write_table(mixed_table(12000, seed=4), path, row_group_size=12000)
    plan = plan_source(str(path), min_units=8)
    assert len(plan.units) == 8
    parts = partition_plan(plan, PartitionStrategy.ROW_BASED, 2, {})
    assert [[u.row_range for u in p.pieces] for p in parts] == [[(0, 6000)], [(6000, 6000)]]


def test_column_groups_balance_cost() -> None:
    assert column_cost(pa.string()) > column_cost(pa.int64())
    table = pa.table({"s1": ["a"], "s2": ["b"], "i1": [1], "i2": [2], "i3": [3], "i4": [4]})
    groups = [p.columns for p in ColumnBasedPartitioner().partition(table, num_workers=2)]
    assert groups == [("s1",), ("s2", "i1", "i2", "i3", "i4")]
    groups = [p.columns for p in ColumnBasedPartitioner().partition(table, num_workers=10)]
    assert [c for g in groups for c in g] == table.column_names and len(groups) == 6


def test_hybrid_is_rows_times_columns() -> None:
    table = mixed_table(100)
    parts = HybridPartitioner(row_partitions=4, column_partitions=2).partition(table)
    assert len(parts) == 8
    assert {(p.row_part, p.column_group) for p in parts} == {(r, c) for r in range(4) for c in range(2)}


def test_hash_partitions_by_key() -> None:
    from truthound.profiler.distributed.worker import run_partition

    table = mixed_table(500)
    parts = HashPartitioner(num_partitions=3, key_columns=["id"]).partition(table)
    # three tasks, each over a third of the rows, each splitting them into three buckets
    assert [p.num_rows for p in parts] == [167, 167, 166]
    assert all(p.num_buckets == 3 and p.key_columns == ("id",) for p in parts)
    seen: dict[Any, int] = {}
    total = 0
    for p in parts:
        output = run_partition(p, {"top_n": 64})  # every id among the top values
        assert len(output.states) == 3 and output.total_rows == p.num_rows
        for bucket, state in enumerate(output.states):
            assert state.row_count == output.rows[bucket]
            total += state.row_count
            ids = TableProfile._from_state(state, source=None)
            for row in ids["id"].top_values or []:  # a key is in one bucket, whatever the task
                value = row["value"] if isinstance(row, dict) else row.value
                assert seen.setdefault(value, bucket) == bucket
    assert total == 500 and len(seen) == 50
    with pytest.raises(ColumnNotFoundError, match="nope"):
        HashPartitioner(2, key_columns=["nope"]).partition(table)


def test_profile_partition_is_shippable(parquet_dataset: Path, whole_parquet: TableProfile) -> None:
    parts = RowBasedPartitioner(3).partition(str(parquet_dataset))
    blobs = [profile_partition(pickle.loads(pickle.dumps(p)), {}) for p in parts]
    merged = ProfileMerger().merge(blobs, source=str(parquet_dataset))
    assert merged.row_count == 2600
    table_parts = RowBasedPartitioner(2).partition(mixed_table(300))
    shipped = pickle.loads(pickle.dumps(table_parts[1]))
    assert shipped.pieces[0].table.num_rows == 150


# --------------------------------------------------------------------------- merger


def test_merger_row_and_column_partitions() -> None:
    table = mixed_table(400)
    want = profile(table)
    left = table.select(["id", "score", "email"])
    right = table.select(["name", "flag", "small", "ts"])
    pieces = [profile(left.slice(0, 150)), profile(right.slice(0, 150)),
              profile(left.slice(150)), profile(right.slice(150))]
    # rows within each column group, then the groups by columns: the mode is said, not guessed
    lefts = ProfileMerger().merge([pieces[0], pieces[2]])
    rights = ProfileMerger().merge([pieces[1], pieces[3]], how="rows")
    merged = ProfileMerger().merge([lefts, rights], how="columns")
    assert merged.column_names == table.column_names
    assert merged.duplicate_row_count is None
    merged.sources = want.sources
    assert_equivalent(merged, want, duplicates=False)
    # engine partials and bytes work too; by rows (the default) the four pieces are 800 rows,
    # each column null in the other group's rows
    states = [p._state for p in pieces]
    assert ProfileMerger().merge(states).row_count == 800
    by_rows = ProfileMerger().merge([p.to_bytes() for p in pieces])
    assert by_rows.row_count == 800 and by_rows["id"].null_count == 400 + want["id"].null_count


def test_merger_schema_conflict_and_empty() -> None:
    a = profile(pa.table({"x": [1, 2]}))
    b = profile(pa.table({"x": ["a", "b"]}))
    with pytest.raises(SchemaError, match="x"):
        ProfileMerger().merge([a, b])
    with pytest.raises(ConfigurationError, match="nothing to merge"):
        ProfileMerger().merge([])
    drift = ProfileMerger().merge([a, profile(pa.table({"x": pa.array([3], pa.int32())}))])
    assert drift["x"].max == 3


# --------------------------------------------------------------------------- errors


def _csv_files_with_a_corrupt_one(root: Path) -> Path:
    table = pa.table({"n": list(range(200)), "s": [f"v{i}" for i in range(200)]})
    for i in range(6):
        pa_csv.write_csv(table, root / f"f{i}.csv")
    # A row of three fields after the first block (1 MiB, from which the file's columns are
    # inferred while planning), so a worker meets it. (A word among numbers is no longer an
    # error: files whose types do not combine read the column as text.)
    good = "".join(f"{i},v{i}\n" for i in range(100_000))
    (root / "f4.csv").write_text("n,s\n" + good + "1,a,extra\n")
    return root / "f4.csv"


def test_corrupt_file_among_many_threads(tmp_path: Path) -> None:
    bad = _csv_files_with_a_corrupt_one(tmp_path)
    for strategy in STRATEGIES:
        with pytest.raises(SourceReadError, match="f4.csv"):
            LocalBackend(num_workers=3, partition_strategy=strategy).profile(str(tmp_path))


@pytest.mark.slow
def test_corrupt_file_among_many_processes(tmp_path: Path) -> None:
    _csv_files_with_a_corrupt_one(tmp_path)
    with pytest.raises(SourceReadError, match="f4.csv"):
        LocalBackend(num_workers=2, use_processes=True).profile(str(tmp_path))
    no_children()


def test_corrupt_parquet_among_many(tmp_path: Path) -> None:
    for i in range(3):
        pq.write_table(pa.table({"x": list(range(100))}), tmp_path / f"p{i}.parquet")
    (tmp_path / "p1.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(SourceReadError, match="p1.parquet"):
        LocalBackend(num_workers=2).profile(str(tmp_path))


# --------------------------------------------------------------------------- CLI


def _cli() -> Any:
    import click

    from truthound.profiler.distributed.cli_support import add_distributed_options, distributed_kwargs, run_distributed

    @click.command()
    @click.argument("source")
    @add_distributed_options
    def cmd(source: str, **params: Any) -> None:
        opts = distributed_kwargs(params)
        result = run_distributed(source, **opts, top_n=5)
        click.echo(f"{result.row_count} {result.column_count} {result.duplicate_row_count}")

    return cmd


def test_cli_support(parquet_dataset: Path) -> None:
    from click.testing import CliRunner

    runner = CliRunner()
    res = runner.invoke(_cli(), [str(parquet_dataset), "--distributed", "--backend", "local", "--workers", "2"])
    assert res.exit_code == 0, res.output
    assert res.output.split()[:2] == ["2600", "7"]
    res = runner.invoke(_cli(), [str(parquet_dataset), "--distributed", "--backend", "auto",
                                 "--partition-strategy", "column_based"])
    assert res.exit_code == 0 and res.output.split() == ["2600", "7", "None"], res.output
    res = runner.invoke(_cli(), [str(parquet_dataset), "--distributed", "--backend", "spark",
                                 "--master", "spark://master:7077"])
    assert isinstance(res.exception, BackendNotAvailableError)
    assert "spark://master:7077 cannot be reached" in str(res.exception)
    res = runner.invoke(_cli(), [str(parquet_dataset), "--distributed", "--backend", "local",
                                 "--master", "spark://x:7077"])
    assert isinstance(res.exception, ConfigurationError)


def test_th_profile_distributed_subprocess(tmp_path: Path, parquet_dataset: Path) -> None:
    help_text = subprocess.run([sys.executable, "-m", "truthound", "profile", "--help"],
                               capture_output=True, text=True, timeout=60).stdout
    if "--distributed" not in help_text:
        pytest.skip("th profile --distributed is not wired into truthound.cli yet")
    csv = tmp_path / "data.csv"
    pa_csv.write_csv(mixed_table(500), csv)
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(csv), "--distributed", "--backend",
         "local", "--workers", "4", "-f", "json"], capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert '"row_count": 500' in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(parquet_dataset), "--distributed",
         "--backend", "auto"], capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(csv), "--distributed", "--backend",
         "dask", "--scheduler", "synchronous"], capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr


def test_th_profile_with_a_custom_backend_registered_in_a_module(tmp_path: Path) -> None:
    plugin = tmp_path / "my_truthound_plugin.py"
    plugin.write_text(
        "from truthound.profiler import profile\n"
        "from truthound.profiler.distributed import BackendRegistry\n\n"
        "@BackendRegistry.register('my_backend')\n"
        "class MyBackend:\n"
        "    def __init__(self, **options):\n"
        "        pass\n"
        "    def profile(self, data, **options):\n"
        "        return profile(data, **options)\n"
    )
    csv = tmp_path / "data.csv"
    pa_csv.write_csv(mixed_table(300), csv)
    env = dict(os.environ, PYTHONPATH=str(tmp_path), TRUTHOUND_BACKEND_MODULES="my_truthound_plugin")
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(csv), "--distributed", "--backend",
         "my_backend", "-f", "json"], capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert '"row_count": 300' in out.stdout
    env["TRUTHOUND_BACKEND_MODULES"] = "no_such_plugin_module"
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(csv), "--distributed", "--backend",
         "my_backend"], capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 2 and "no_such_plugin_module" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("use_processes", [False, True])
def test_runs_of_the_same_command_agree_to_the_last_digit(tmp_path: Path, use_processes: bool) -> None:
    """Quantile and frequent-item sketches and float sums depend on the order of their merges: the
    local backend merges in partition order, whichever worker finishes first."""
    import numpy as np

    rng = np.random.default_rng(5)
    n = 400_000
    table = pa.table({
        "x": rng.normal(size=n),
        "k": rng.integers(0, 5000, size=n),
        "s": pa.array(rng.integers(0, 3000, size=n).astype(str)),
    })
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=25_000)
    backend = LocalBackend(num_workers=2, use_processes=use_processes)

    def run() -> dict[str, Any]:
        d = backend.profile(str(path)).to_dict()
        d.pop("profiled_at"), d.pop("profile_duration_ms")
        return d

    first = run()
    assert first["columns"][0]["quantiles"] is not None
    for _ in range(3 if not use_processes else 1):
        assert run() == first
