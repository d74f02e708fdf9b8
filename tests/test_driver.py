"""The driver: one path for profile() and every backend, told to a RunObserver partition by
partition, and the CSV type-conflict retry in planning."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from _profiles import assert_equivalent, without_duplicate_rows
from truthound.errors import SourceReadError
from truthound.profiler import TableProfile, profile
from truthound.profiler.distributed import (
    DistributedProfiler,
    LocalBackend,
    PartitionStrategy,
    RunObserver,
)
from truthound.profiler.distributed import csv_ranges as csv_ranges_module
from truthound.profiler.distributed import driver

Call = tuple[Any, ...]


class Recorder:
    """A RunObserver that writes down every call, in order."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def run_started(
        self, *, backend: str, num_workers: int, num_partitions: int, total_rows: int | None
    ) -> None:
        self.calls.append(("run_started", backend, num_workers, num_partitions, total_rows))

    def partition_submitted(
        self, partition: int, attempt: int, *, total_rows: int | None, description: str
    ) -> None:
        self.calls.append(("submitted", partition, attempt, total_rows))

    def partition_started(self, partition: int, attempt: int, *, worker: str) -> None:
        self.calls.append(("started", partition, attempt, worker))

    def partition_progress(
        self, partition: int, attempt: int, *, rows_processed: int, total_rows: int | None
    ) -> None:
        self.calls.append(("progress", partition, attempt, rows_processed))

    def partition_completed(
        self, partition: int, attempt: int, *, rows: int, duration_seconds: float, payload_bytes: int
    ) -> None:
        self.calls.append(("completed", partition, attempt, rows, payload_bytes))

    def partition_failed(
        self, partition: int, attempt: int, *, error: str, will_retry: bool
    ) -> None:
        self.calls.append(("failed", partition, attempt, error, will_retry))

    def merge_completed(self, *, partitions: int, duration_seconds: float) -> None:
        self.calls.append(("merge_completed", partitions))

    def run_finished(self, *, success: bool, duration_seconds: float, rows: int) -> None:
        self.calls.append(("run_finished", success, rows))

    def of(self, partition: int) -> list[Call]:
        return [c for c in self.calls if c[0] in _PARTITION_CALLS and c[1] == partition]


_PARTITION_CALLS = {"submitted", "started", "progress", "completed", "failed"}


def _ten_row_groups(tmp_path: Path) -> Path:
    path = tmp_path / "t.parquet"
    table = pa.table({"k": [i % 97 for i in range(20_000)], "s": [f"v{i % 13}" for i in range(20_000)]})
    pq.write_table(table, path, row_group_size=2_000)
    return path


@pytest.mark.parametrize("use_processes", [False, True])
def test_a_run_tells_the_observer_every_partition_in_order(tmp_path: Path,
                                                            use_processes: bool) -> None:
    path = _ten_row_groups(tmp_path)
    seen = Recorder()
    assert isinstance(seen, RunObserver)
    backend = LocalBackend(num_workers=2, use_processes=use_processes)
    result = backend.profile(str(path), batch_size=500, monitor=seen)
    calls = seen.calls
    assert calls[0] == ("run_started", "local", 2, 2, 20_000)
    assert calls[-2] == ("merge_completed", 2) and calls[-1] == ("run_finished", True, 20_000)
    last_completed = max(i for i, c in enumerate(calls) if c[0] == "completed")
    assert last_completed < len(calls) - 2
    rows = 0
    for p in (0, 1):
        mine = seen.of(p)
        kinds = [c[0] for c in mine]
        # submitted -> started -> progress... -> completed, all in attempt 0
        assert kinds[:2] == ["submitted", "started"] and kinds[-1] == "completed", kinds
        assert set(kinds[2:-1]) == {"progress"} and len(kinds) - 3 >= 2, kinds
        assert {c[2] for c in mine} == {0}
        progress = [c[3] for c in mine if c[0] == "progress"]
        assert progress == sorted(progress)  # cumulative rows, batch by batch
        total = mine[0][3]
        assert total == 10_000 and progress[-1] == total == mine[-1][3]
        rows += total
        payload = mine[-1][4]
        assert payload > 0 if use_processes else payload == 0  # bytes shipped between processes
        worker = mine[1][3]
        assert worker.startswith("pid ") if use_processes else worker.startswith("truthound-local-")
    assert rows == result.row_count == 20_000
    assert result.execution is not None and result.execution.num_partitions == 2
    assert result.execution.executor == ("processes" if use_processes else "threads")


def test_one_worker_profiles_on_the_callers_thread_and_reports_progress(tmp_path: Path) -> None:
    # One worker needs no thread: the driver's thread profiles each task between its events
    # (a thread hand-off per batch cost a single-worker run about a fifth of its time).
    path = _ten_row_groups(tmp_path)
    on_thread: list[str] = []

    class OnThread(Recorder):
        def partition_progress(self, partition: int, attempt: int, *, rows_processed: int,
                               total_rows: int | None) -> None:
            on_thread.append(threading.current_thread().name)
            super().partition_progress(partition, attempt, rows_processed=rows_processed,
                                       total_rows=total_rows)

    seen = OnThread()
    one = LocalBackend(num_workers=1).profile(str(path), batch_size=500, monitor=seen)
    me = threading.current_thread().name
    parts = {c[1] for c in seen.calls if c[0] == "submitted"}
    assert parts
    for p in parts:
        mine = seen.of(p)
        kinds = [c[0] for c in mine]
        assert kinds[:2] == ["submitted", "started"] and kinds[-1] == "completed", kinds
        assert "progress" in kinds[2:-1], kinds  # while the task ran, before it completed
        assert mine[1][3] == me  # the worker is the caller's thread
    assert set(on_thread) == {me}
    assert one.row_count == 20_000
    assert_equivalent(one, LocalBackend(num_workers=2).profile(str(path), batch_size=500))


def test_task_progress_reaches_the_driver_at_most_once_an_interval() -> None:
    now = [0.0]
    got: list[int] = []
    report = driver.Throttled(got.append, interval=0.1, clock=lambda: now[0])
    for rows, step in enumerate([0.0, 0.05, 0.04, 0.02, 0.3, 0.01]):
        now[0] += step
        report(rows)
    # at 0 (the first), 0.11 (0.1 after it), 0.41; not 0.05, 0.09 or 0.42
    assert got == [0, 3, 4]


def _csv_with_a_bad_row(root: Path) -> None:
    table = pa.table({"n": list(range(200)), "s": [f"v{i}" for i in range(200)]})
    for i in range(3):
        pa_csv.write_csv(table, root / f"f{i}.csv")
    # a row of three fields after the first block, from which planning infers the columns
    good = "".join(f"{i},v{i}\n" for i in range(100_000))
    (root / "f1.csv").write_text("n,s\n" + good + "1,a,extra\n")


@pytest.mark.parametrize("use_processes", [False, True])
def test_a_failing_partition_is_reported_and_the_run_fails(tmp_path: Path,
                                                            use_processes: bool) -> None:
    _csv_with_a_bad_row(tmp_path)
    seen = Recorder()
    with pytest.raises(SourceReadError, match="f1.csv"):
        LocalBackend(num_workers=2, use_processes=use_processes).profile(str(tmp_path), monitor=seen)
    calls = seen.calls
    assert calls[0][0] == "run_started" and calls[-1][0] == "run_finished"
    assert calls[-1][1] is False
    assert not any(c[0] == "merge_completed" for c in calls)
    failed = [c for c in calls if c[0] == "failed"]
    assert any("f1.csv" in c[3] and c[4] is False for c in failed)
    # every partition handed to the executor ends, completed or failed, once
    for p in {c[1] for c in calls if c[0] == "submitted"}:
        ends = [c[0] for c in seen.of(p) if c[0] in ("completed", "failed")]
        assert len(ends) == 1, (p, seen.of(p))


def test_an_observer_that_raises_does_not_break_the_run(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Recorder):
        def partition_progress(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("observer bug")

    seen = Broken()
    result = profile(pa.table({"x": list(range(1000))}), monitor=seen, num_workers=2)
    assert result.row_count == 1000 and seen.calls[-1] == ("run_finished", True, 1000)
    assert sum("observer bug" in r.getMessage() or "observer bug" in str(r.exc_info)
               for r in caplog.records) == 1


def test_distributed_profiler_passes_the_monitor_through(tmp_path: Path) -> None:
    path = _ten_row_groups(tmp_path)
    seen, later = Recorder(), Recorder()
    profiler = DistributedProfiler.create(backend="local", num_workers=2, monitor=seen)
    profiler.profile(str(path))
    assert seen.calls[0][0] == "run_started" and seen.calls[-1][:2] == ("run_finished", True)
    before = len(seen.calls)
    profiler.profile(str(path), monitor=later)  # this run's monitor instead
    assert later.calls[-1][:2] == ("run_finished", True) and len(seen.calls) == before


# --------------------------------------------------------------------------- the CSV retry


def _csv_with_an_x(path: Path) -> None:
    # 300,000 rows (about 2 MB): the x comes well after pyarrow's first block, from which the
    # column's type (int64) is inferred
    lines = [f"{i % 1000},c{i % 7}\n" for i in range(300_000)]
    lines[250_000] = "x,c0\n"
    path.write_text("n,c\n" + "".join(lines))


def _comparable(p: TableProfile, *, rows_whole: bool) -> dict[str, Any]:
    d = p.to_dict()
    for k in ("profiled_at", "profile_duration_ms", "execution", "estimated_memory_bytes"):
        d.pop(k)
    # column partitions cannot count duplicate rows
    return d if rows_whole else without_duplicate_rows(d)


@pytest.mark.parametrize("use_processes", [False, True])
def test_an_x_in_an_integer_csv_column_gives_one_answer_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_processes: bool
) -> None:
    # small ranges, so 2 workers split the file (ranges are planned in this process)
    monkeypatch.setattr(csv_ranges_module, "CSV_MIN_RANGE_BYTES", 64 * 1024)
    monkeypatch.setattr(csv_ranges_module, "CSV_MAX_RANGE_BYTES", 256 * 1024)
    path = tmp_path / "x.csv"
    _csv_with_an_x(path)
    seen = Recorder()
    want = profile(str(path), num_workers=1, monitor=seen)
    assert want["n"].physical_type in ("large_string", "string") and want["n"].max == "x"
    assert want.row_count == 300_000 and want["n"].distinct_count == 1001
    assert [c[4] for c in seen.calls if c[0] == "failed"] == [True]  # read again, as text
    for workers in (1, 2):
        if not use_processes:
            got = profile(str(path), num_workers=workers)
            assert _comparable(got, rows_whole=True) == _comparable(want, rows_whole=True)
        for strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.COLUMN_BASED,
                         PartitionStrategy.HYBRID):
            seen = Recorder()
            got = LocalBackend(num_workers=workers, use_processes=use_processes,
                               partition_strategy=strategy).profile(str(path), monitor=seen)
            whole = strategy is PartitionStrategy.ROW_BASED
            assert _comparable(got, rows_whole=whole) == _comparable(want, rows_whole=whole), \
                (workers, strategy)
            if workers == 2 and whole:
                assert got.execution is not None and got.execution.num_partitions == 2
            # the partition that met the x failed in attempt 0 (others may have completed, or
            # were stopped) and every partition ran again in attempt 1
            retried = [c for c in seen.calls if c[0] == "failed"]
            assert retried and all(c[2] == 0 and c[4] is True for c in retried), seen.calls
            partitions = {c[1] for c in seen.calls if c[0] == "submitted"}
            again = {c[1] for c in seen.calls if c[0] == "completed" and c[2] == 1}
            assert again == partitions and seen.calls[-1][:2] == ("run_finished", True)


# --------------------------------------------------------------------------- planning


def test_row_partitions_of_a_lazy_frame_hold_a_tenth_of_its_rows_each() -> None:
    import polars as pl

    from truthound.profiler.distributed import RowBasedPartitioner
    from truthound.profiler.distributed.worker import new_state, run_partition

    lf = pl.LazyFrame({"x": range(200_000), "s": [f"v{i % 5}" for i in range(200_000)]})
    parts = RowBasedPartitioner(num_partitions=10).partition(lf)
    assert len(parts) == 10 and [p.num_rows for p in parts] == [20_000] * 10
    merged = new_state({})
    for p in parts:  # each partition reads its own rows
        output = run_partition(p, {})
        assert output.rows == [20_000]
        merged.merge(output.states[0])
    got = TableProfile._from_state(merged, source=None)
    assert got.row_count == 200_000 and got["x"].min == 0 and got["x"].max == 199_999
    whole = profile(lf, num_workers=2)
    assert whole.execution is not None and whole.execution.num_partitions == 2
    assert whole.row_count == 200_000 and whole["s"].distinct_count == 5


def test_auto_never_picks_a_backend_that_cannot_run() -> None:
    from truthound.profiler.distributed import DistributedBackend, auto_select_backend
    from truthound.profiler.distributed.auto import _can_run

    # every backend of this release runs; auto picks Spark / Dask / Ray only when a session /
    # client / initialized Ray exists (tests/test_spark_backend.py, test_dask_backend.py,
    # test_ray_backend.py)
    assert all(_can_run(b) for b in DistributedBackend if b is not DistributedBackend.AUTO)
    from truthound.profiler.distributed.spark_session import active_session

    expected = DistributedBackend.SPARK if active_session() is not None else DistributedBackend.LOCAL
    assert auto_select_backend() is expected


def test_hash_buckets_come_from_the_engine_value_hash() -> None:
    from truthound.profiler.distributed.hashing import row_buckets, row_hashes

    batch = pa.record_batch({"a": pa.array([3, 3, None, 7], pa.int32()),
                             "b": pa.array([3.0, 3.0, None, 7.5]), "s": ["x", "x", "y", None]})
    h = row_hashes(batch, ["a"]).to_pylist()
    assert h[0] == h[1] and len(set(h)) == 3
    # 3 (int32) and 3.0 (float64) are one value to the engine: the same hash
    assert row_hashes(batch, ["a"]).to_pylist()[:2] == row_hashes(batch, ["b"]).to_pylist()[:2]
    assert row_hashes(batch, ["a", "s"]).to_pylist() != row_hashes(batch, ["s", "a"]).to_pylist()
    buckets = row_buckets(batch, ["a", "s"], 3).to_pylist()
    assert all(0 <= b < 3 for b in buckets) and buckets[0] == buckets[1]
    from truthound.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="'nope'"):
        row_hashes(batch, ["nope"])


def test_batches_are_sized_by_bytes(tmp_path: Path) -> None:
    """A wide table's batches hold about 32 MiB of its columns, not 131,072 rows (1,000 float
    columns: 4,194 rows); a narrow table keeps 131,072; an explicit batch_size wins."""
    from truthound.profiler.distributed.planning import (
        TARGET_BATCH_BYTES,
        batch_rows,
        plan_source,
    )

    wide = pa.schema([pa.field(f"c{i}", pa.float64()) for i in range(1000)])
    assert batch_rows(wide) == TARGET_BATCH_BYTES // 8000
    assert batch_rows(pa.schema([("a", pa.int64()), ("s", pa.string())])) == 131_072
    assert batch_rows(pa.schema([pa.field(f"c{i}", pa.string()) for i in range(100_000)])) == 256
    table = pa.table({f"c{i}": pa.array(range(i, i + 3000), pa.float64()) for i in range(400)})
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path)
    assert plan_source(str(path)).batch_size == TARGET_BATCH_BYTES // 3200
    assert plan_source(str(path), columns=["c1"]).batch_size == 131_072
    assert plan_source(str(path), batch_size=1000).batch_size == 1000
    small = profile(str(path), batch_size=100, num_workers=1)
    auto = profile(str(path), num_workers=2)
    assert_equivalent(auto, small)
