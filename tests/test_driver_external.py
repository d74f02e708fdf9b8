"""The driver's hook for frames a distributed engine holds (Spark, Dask, Ray): a plan of
ExternalPieces, kept as the engine partitioned them, run by an executor that feeds each
partition's own batches. Here the "engine" is a list of in-memory tables in this process."""

from __future__ import annotations

import sys
import time

import pyarrow as pa
import pytest

from _profiles import assert_equivalent, mixed_table
from truthound.errors import ColumnNotFoundError, ConfigurationError
from truthound.profiler import profile
from truthound.profiler.distributed import PartitionStrategy, profile_partition
from truthound.profiler.distributed.driver import (
    Task,
    TaskEvent,
    TaskFinished,
    TaskStarted,
    partition_plan,
    run,
    run_task,
)
from truthound.profiler.distributed.pieces import ExternalPiece
from truthound.profiler.distributed.planning import external_plan


class ListEngine:
    """Runs every task of a job at once when asked for events, as Spark runs a stage."""

    backend = "test-engine"
    mode = "jobs"
    window = sys.maxsize

    def __init__(self, parts: list[pa.Table]) -> None:
        self.parts = parts
        self.num_workers = 2
        self.pending: list[Task] = []
        self.seen: list[tuple[int, tuple[int, ...]]] = []

    def start(self, engine_options: str) -> None:
        self.options = engine_options

    def capacity(self) -> int:
        return sys.maxsize

    def submit(self, task: Task) -> None:
        self.pending.append(task)

    def events(self, timeout: float) -> list[TaskEvent]:
        out: list[TaskEvent] = []
        # the job's tasks finish in any order: the driver merges in partition order
        for task in reversed(self.pending):
            pieces = task.work.pieces
            assert all(isinstance(p, ExternalPiece) and p.frame == "frame-1" for p in pieces)
            self.seen.append((task.partition, tuple(p.index for p in pieces)))
            began = time.perf_counter()
            batches = [b for p in pieces for b in self.parts[p.index].to_batches(max_chunksize=100)]
            output = run_task(task, self.options, batches=batches)
            out.append(TaskStarted(task.key, "engine-worker"))
            out.append(TaskFinished(task.key, "engine-worker", output.total_rows,
                                    time.perf_counter() - began, partials=output.payloads()))
        self.pending = []
        return out

    def close(self, cancel: bool) -> None:
        pass


@pytest.fixture(scope="module")
def parts() -> list[pa.Table]:
    table = mixed_table(1500, seed=3)
    return [table.slice(0, 700), table.slice(700, 0), table.slice(700, 450), table.slice(1150)]


@pytest.mark.parametrize("strategy", list(PartitionStrategy))
def test_external_frame_gives_the_profile_of_the_whole(parts: list[pa.Table],
                                                       strategy: PartitionStrategy) -> None:
    whole = pa.concat_tables(parts)
    plan = external_plan("frame-1", whole.schema, "frame-1", [t.num_rows for t in parts])
    engine = ListEngine(parts)
    got = run(plan, engine, strategy=strategy)
    want = profile(whole)
    got.sources = want.sources = []
    assert_equivalent(got, want, duplicates=strategy in (PartitionStrategy.ROW_BASED,
                                                         PartitionStrategy.HASH))
    assert got.execution is not None and got.execution.backend == "test-engine"
    # the engine's partitioning is kept: each of its partitions is a row part of its own, read
    # once (hash: by one task, which splits its rows into the buckets)
    if strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH):
        assert sorted(engine.seen) == [(i, (i,)) for i in range(4)]
    else:
        assert len(engine.seen) == 4 * len({p.column_group for p in partition_plan(
            plan, strategy, 2, {})})


def test_external_plan_checks_columns_and_only_its_engine_runs_it(parts: list[pa.Table]) -> None:
    schema = parts[0].schema
    with pytest.raises(ColumnNotFoundError, match="nope"):
        external_plan("frame-1", schema, "frame-1", [1], columns=["id", "nope"])
    plan = external_plan("frame-1", schema, "frame-1", [700, None], columns=["email"])
    assert plan.columns == ("email",) and plan.total_rows is None
    (partition, _) = partition_plan(plan, "row_based", 2, {})
    with pytest.raises(ConfigurationError, match="frame-1 partition 0 is held by a distributed"):
        profile_partition(partition)
