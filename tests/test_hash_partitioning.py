"""Hash partitioning reads the source once: each task reads one row part of the source, splits
its rows by the engine's row hash into the buckets and returns one partial per bucket; the
driver merges each bucket over the tasks, then the buckets. The result is the profile of the
whole: exact fields against an independent reference (pyarrow.compute, Python), and the same as
profile() and the row strategy, for 1, 2 and 4 buckets, threads and processes, with and without
key columns, on Parquet (row groups), CSV (byte ranges), an in-memory table and a stream."""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from _profiles import assert_equivalent, mixed_table
from test_reference import check_column
from truthound.profiler import TableProfile, profile
from truthound.profiler.distributed import HashPartitioner, LocalBackend, PartitionStrategy
from truthound.profiler.distributed import csv_ranges as csv_ranges_module
from truthound.profiler.distributed.driver import TaskEvent, TaskFinished, partition_plan, run
from truthound.profiler.distributed.local import ThreadExecutor
from truthound.profiler.distributed.observer import NullObserver
from truthound.profiler.distributed.planning import plan_source
from truthound.profiler.distributed.worker import run_partition

ROWS = 3000
SOURCES = ("parquet", "csv", "table")


@pytest.fixture(autouse=True)
def _small_csv_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """CSV files of a few hundred kilobytes are cut into byte ranges."""
    monkeypatch.setattr(csv_ranges_module, "CSV_MIN_RANGE_BYTES", 4096)
    monkeypatch.setattr(csv_ranges_module, "CSV_MAX_RANGE_BYTES", 8192)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, pa.Table]]:
    """Each source with the table it holds (read independently of truthound)."""
    root = tmp_path_factory.mktemp("hash")
    table = mixed_table(ROWS, seed=5)
    # duplicate rows across row groups and byte ranges
    table = pa.concat_tables([table, table.slice(0, 200)]).combine_chunks()
    pq.write_table(table, root / "t.parquet", row_group_size=400)
    no_ts = table.drop_columns(["ts"])
    pa_csv.write_csv(no_ts, root / "t.csv", pa_csv.WriteOptions(quoting_style="none"))
    csv_back = pa_csv.read_csv(root / "t.csv", convert_options=pa_csv.ConvertOptions(
        strings_can_be_null=True))
    return {
        "parquet": (str(root / "t.parquet"), pq.read_table(root / "t.parquet")),
        "csv": (str(root / "t.csv"), csv_back),
        "table": (table, table),
    }


@pytest.fixture(scope="module")
def wanted(data: dict[str, tuple[Any, pa.Table]]) -> dict[str, TableProfile]:
    return {name: profile(src, num_workers=1) for name, (src, _) in data.items()}


def _same_source(got: TableProfile, want: TableProfile) -> None:
    got.sources = want.sources
    assert_equivalent(got, want)


def _check_exact(got: TableProfile, table: pa.Table) -> None:
    """Counts, nulls, min/max, exact distinct and top values against pyarrow.compute and
    Python (the data is below the sketch regime: nothing is approximate)."""
    assert got.row_count == table.num_rows
    assert got.column_names == table.column_names
    for column in got.columns:
        assert not column.distinct_approximate and not column.top_values_approximate
        check_column(column, table.column(column.name).combine_chunks())


def _no_children() -> None:
    assert multiprocessing.active_children() == []


# --------------------------------------------------------------------------- the same answer


def _hash_run(source: Any, buckets: int, keys: list[str] | None, processes: bool) -> TableProfile:
    # three row parts, whatever the buckets: tasks and buckets are independent
    partitioner = HashPartitioner(buckets, key_columns=keys, row_parts=3)
    backend = LocalBackend(num_workers=2, use_processes=processes, partition_strategy=partitioner)
    return backend.profile(source)


@pytest.mark.parametrize("keys", [None, ["id"]], ids=["whole-row", "key-id"])
@pytest.mark.parametrize("buckets", [1, 2, 4])
@pytest.mark.parametrize("name", SOURCES)
def test_hash_runs_give_the_profile_of_the_whole_threads(
    data: dict[str, tuple[Any, pa.Table]], wanted: dict[str, TableProfile], name: str,
    buckets: int, keys: list[str] | None,
) -> None:
    source, table = data[name]
    got = _hash_run(source, buckets, keys, processes=False)
    _check_exact(got, table)
    _same_source(got, wanted[name])
    rows = LocalBackend(num_workers=2, partition_strategy=PartitionStrategy.ROW_BASED).profile(source)
    _same_source(got, rows)
    assert got.duplicate_row_count == wanted[name].duplicate_row_count >= 200
    assert got.execution is not None
    assert got.execution.partition_strategy == "HashPartitioner"
    assert got.execution.num_partitions == buckets


@pytest.mark.slow
@pytest.mark.parametrize("keys", [None, ["id"]], ids=["whole-row", "key-id"])
@pytest.mark.parametrize("buckets", [1, 2, 4])
@pytest.mark.parametrize("name", SOURCES)
def test_hash_runs_give_the_profile_of_the_whole_processes(
    data: dict[str, tuple[Any, pa.Table]], wanted: dict[str, TableProfile], name: str,
    buckets: int, keys: list[str] | None,
) -> None:
    source, table = data[name]
    got = _hash_run(source, buckets, keys, processes=True)
    _check_exact(got, table)
    _same_source(got, wanted[name])
    assert got.execution is not None and got.execution.executor == "processes"
    assert got.execution.num_partitions == buckets
    _no_children()


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_the_hash_strategy_has_a_bucket_per_worker(
    data: dict[str, tuple[Any, pa.Table]], wanted: dict[str, TableProfile], workers: int
) -> None:
    source, table = data["parquet"]
    got = LocalBackend(num_workers=workers, partition_strategy="hash").profile(source)
    _check_exact(got, table)
    _same_source(got, wanted["parquet"])
    assert got.execution is not None and got.execution.num_partitions == workers
    # as many tasks as the row strategy has: each reads its row part once
    plan = plan_source(source, min_units=4 * workers if workers > 1 else 1)
    tasks = partition_plan(plan, "hash", workers, {})
    assert [p.pieces for p in tasks] == [p.pieces for p in partition_plan(plan, "row_based",
                                                                          workers, {})]
    assert all(p.num_buckets == workers for p in tasks)


# --------------------------------------------------------------------------- read once


class _RowsRead(NullObserver):
    """The most rows each partition (task) reported reading, and the rows it profiled."""

    def __init__(self) -> None:
        self.read: dict[int, int] = defaultdict(int)
        self.profiled: dict[int, int] = {}

    def partition_progress(
        self, partition: int, attempt: int, *, rows_processed: int, total_rows: int | None
    ) -> None:
        self.read[partition] = max(self.read[partition], rows_processed)

    def partition_completed(
        self, partition: int, attempt: int, *, rows: int, duration_seconds: float, payload_bytes: int
    ) -> None:
        self.profiled[partition] = rows


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
@pytest.mark.parametrize("name", [*SOURCES, "stream"])
def test_a_hash_run_reads_each_row_once(
    data: dict[str, tuple[Any, pa.Table]], name: str, processes: bool
) -> None:
    """The rows the tasks read (the engine's row progress, reported after every batch) total
    the source's rows, not the buckets times them."""
    source, table = data["table" if name == "stream" else name]
    if name == "stream":
        source = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=256))
    seen = _RowsRead()
    backend = LocalBackend(num_workers=2, use_processes=processes,
                           partition_strategy=HashPartitioner(4, row_parts=3))
    got = backend.profile(source, monitor=seen, batch_size=256)
    assert got.row_count == table.num_rows
    assert got.execution is not None and got.execution.num_partitions == 4
    assert len(seen.read) >= 2  # several tasks
    assert sum(seen.read.values()) == table.num_rows
    assert sum(seen.profiled.values()) == table.num_rows
    if processes:
        _no_children()


@pytest.mark.parametrize("name", SOURCES)
def test_hash_tasks_cover_every_row_piece_once(
    data: dict[str, tuple[Any, pa.Table]], name: str
) -> None:
    source, table = data[name]
    tasks = HashPartitioner(4, key_columns=["id"], row_parts=3).partition(source)
    assert len(tasks) == 3
    pieces = [piece for p in tasks for piece in p.pieces]
    assert len(pieces) == len(set(map(repr, pieces)))
    keys: dict[Any, int] = {}
    rows = 0
    for task in tasks:
        output = run_partition(task, {"top_n": 64})  # every id among the top values
        assert len(output.states) == 4 and task.num_rows in (None, output.total_rows)
        rows += output.total_rows
        for bucket, state in enumerate(output.states):
            column = TableProfile._from_state(state, source=None)["id"]
            for value in column.top_values or []:  # a key lands in one bucket in every task
                assert keys.setdefault(value.value, bucket) == bucket
    assert len(keys) == 50 and rows == table.num_rows


# --------------------------------------------------------------------------- the contract


class _CountingThreads(ThreadExecutor):
    """Threads, counting the partials each finished task hands back."""

    def __init__(self, num_workers: int) -> None:
        super().__init__(num_workers)
        self.partials: list[int] = []

    def events(self, timeout: float) -> list[TaskEvent]:
        events = super().events(timeout)
        self.partials.extend(len(e.partials) for e in events if isinstance(e, TaskFinished))
        return events


def test_each_task_returns_one_partial_per_bucket(data: dict[str, tuple[Any, pa.Table]]) -> None:
    source, table = data["parquet"]
    executor = _CountingThreads(2)
    got = run(source, executor, strategy=HashPartitioner(4, row_parts=3))
    assert got.row_count == table.num_rows
    assert executor.partials == [4, 4, 4]
    executor = _CountingThreads(2)
    run(source, executor, strategy="row_based")
    assert executor.partials and set(executor.partials) == {1}


class _OnePartialThreads(ThreadExecutor):
    """A broken executor: it hands back only the first partial of each task."""

    def events(self, timeout: float) -> list[TaskEvent]:
        return [replace(e, partials=e.partials[:1]) if isinstance(e, TaskFinished) else e
                for e in super().events(timeout)]


def test_a_task_missing_a_bucket_fails_the_run(data: dict[str, tuple[Any, pa.Table]]) -> None:
    source, _ = data["table"]
    with pytest.raises(RuntimeError, match=r"returned 1 partial profiles, expected 4 \(one per bucket\)"):
        run(source, _OnePartialThreads(2), strategy=HashPartitioner(4, row_parts=2))
