"""The driver and the monitor together: a known local run (N partitions) produces exactly the
expected monitoring events in a valid order, with threads and with processes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from truthound.profiler.distributed import DistributedProfiler, HashPartitioner
from truthound.profiler.distributed.monitoring import (
    DistributedMonitor,
    MonitorCallbackAdapter,
    MonitorConfig,
    MonitorEvent,
    MonitorEventType,
)

T = MonitorEventType


class Recorder(MonitorCallbackAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[MonitorEvent] = []

    def on_event(self, event: MonitorEvent) -> None:
        self.events.append(event)


def _parquet(tmp_path: Path, row_groups: int, rows_per_group: int) -> Path:
    rng = np.random.default_rng(3)
    n = row_groups * rows_per_group
    table = pa.table({"x": rng.integers(0, 1000, n), "s": [f"v{i % 97}" for i in range(n)]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=rows_per_group)
    return path


# Per partition, in this order; progress events may repeat between PARTITION_START and
# PARTITION_COMPLETE.
_PARTITION_ORDER = [T.TASK_SUBMITTED, T.TASK_STARTED, T.PARTITION_START, T.PARTITION_COMPLETE,
                    T.TASK_COMPLETED]


@pytest.mark.parametrize("processes", [False, True])
def test_a_local_run_reports_every_partition_in_order(tmp_path: Path, processes: bool) -> None:
    path = _parquet(tmp_path, row_groups=4, rows_per_group=70_000)
    recorder = Recorder()
    monitor = DistributedMonitor(MonitorConfig.standard(), callbacks=[recorder])
    profiler = DistributedProfiler.create(
        backend="local", num_workers=2, use_processes=processes, monitor=monitor,
        partition_strategy="row_based",
    )
    with monitor:
        p = profiler.profile(str(path), batch_size=20_000)
    assert p.row_count == 280_000
    partitions = p.execution.num_partitions if p.execution is not None else None
    assert partitions is not None and partitions >= 2
    _check_events(recorder, monitor, partitions)


@pytest.mark.parametrize("processes", [False, True])
def test_a_hash_run_reports_every_task_in_order(tmp_path: Path, processes: bool) -> None:
    """Hash partitioning: the tasks (two row parts, each split into four buckets) report as
    partitions do, and their rows count once."""
    path = _parquet(tmp_path, row_groups=4, rows_per_group=70_000)
    recorder = Recorder()
    monitor = DistributedMonitor(MonitorConfig.standard(), callbacks=[recorder])
    profiler = DistributedProfiler.create(
        backend="local", num_workers=2, use_processes=processes, monitor=monitor,
        partition_strategy=HashPartitioner(4, key_columns=["x"], row_parts=2),
    )
    with monitor:
        p = profiler.profile(str(path), batch_size=20_000)
    assert p.row_count == 280_000
    assert p.execution is not None and p.execution.num_partitions == 4  # buckets
    _check_events(recorder, monitor, 2)


def _check_events(recorder: Recorder, monitor: DistributedMonitor, partitions: int) -> None:
    """Every one of ``partitions`` tasks reported in order, with row progress, before the
    aggregation; the run's 280,000 rows counted once."""
    types = [e.event_type for e in recorder.events]
    assert types[0] == T.MONITOR_START and types[-1] == T.MONITOR_STOP
    assert types.count(T.AGGREGATION_COMPLETE) == 1
    agg = types.index(T.AGGREGATION_COMPLETE)
    by_partition: dict[int, list[MonitorEventType]] = defaultdict(list)
    for i, e in enumerate(recorder.events):
        part = e.data.get("partition_id", e.data.get("partition"))
        if part is not None and e.event_type in (*_PARTITION_ORDER, T.TASK_PROGRESS):
            assert i < agg, f"{e.event_type} after aggregation"
            by_partition[int(part)].append(e.event_type)
    assert sorted(by_partition) == list(range(partitions))
    for part, seq in by_partition.items():
        skeleton = [t for t in seq if t != T.TASK_PROGRESS]
        assert skeleton == _PARTITION_ORDER, (part, seq)
        start, end = seq.index(T.PARTITION_START), seq.index(T.PARTITION_COMPLETE)
        assert all(t == T.TASK_PROGRESS for t in seq[start + 1:end]), (part, seq)
        assert T.TASK_PROGRESS in seq[start + 1:end], f"no row progress for partition {part}"
    stats = monitor.get_statistics()
    assert stats["tasks_completed"] == partitions and stats["tasks_failed"] == 0
    assert stats["rows_processed"] == 280_000
    assert stats["success_rate"] == 1.0
