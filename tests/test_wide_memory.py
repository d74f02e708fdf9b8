"""Wide tables in bounded memory (issue 12): a Parquet source too wide for one task per row part
within the task memory budget is planned in column groups that fit it, and profiles to the same
columns, counts, distinct bounds, quantiles and top values as the plan of one task for every
column (references: that plan, and exact counts from pyarrow.compute)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from truthound.profiler import TableProfile, profile
from truthound.profiler.distributed import memory
from truthound.profiler.distributed.driver import partition_plan
from truthound.profiler.distributed.planning import plan_source

ROWS = 20_000  # more distinct floats than the 16,384 exact top-value counters: sketch regime
BUDGET = 24 * 1024 * 1024


def _wide(path: Path, floats: int = 45, strings: int = 15) -> Path:
    rng = np.random.default_rng(12)
    cols: dict[str, pa.Array] = {f"f{j}": pa.array(rng.standard_normal(ROWS)) for j in range(floats)}
    for j in range(strings):
        card = 10 + 130 * j  # 10 .. 1,830 distinct values: exact top values
        cols[f"s{j}"] = pa.array(np.char.add("v", rng.integers(0, card, ROWS).astype(str)))
    cols["f0"] = pc.if_else(pc.greater(cols["f0"], 1.5), None, cols["f0"])  # some nulls
    pq.write_table(pa.table(cols), path, row_group_size=ROWS)
    return path


@pytest.fixture(scope="module")
def wide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _wide(tmp_path_factory.mktemp("wide") / "wide.parquet")


def test_the_plan_cuts_a_wide_parquet_table_into_groups_within_the_budget(
    wide_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "TASK_MEMORY_BUDGET", BUDGET)
    plan = plan_source(str(wide_file), min_units=8)
    parts = partition_plan(plan, "row_based", 2, {})
    assert len(parts) > 2
    assert all(p.shipped and p.column_groups == len(parts) for p in parts)
    # every column once, in order, each group's task within the budget
    assert [c for p in parts for c in p.columns] == list(plan.columns)
    for p in parts:
        assert memory.task_bytes(plan, p) <= BUDGET, (p.index, len(p.columns))
    # correlations need whole rows of both columns: no column groups
    assert len(partition_plan(plan, "row_based", 2, {"correlations": True})) == 1
    # a narrow table, or one within the budget, keeps one task per row part
    monkeypatch.setattr(memory, "TASK_MEMORY_BUDGET", 1 << 40)
    assert [p.column_groups for p in partition_plan(plan, "row_based", 2, {})] == [1]


def test_an_in_memory_or_csv_source_is_not_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "TASK_MEMORY_BUDGET", 1024)
    table = pa.table({f"c{j}": pa.array(np.arange(1000.0)) for j in range(20)})
    csv = tmp_path / "t.csv"
    pa_csv.write_csv(table, csv)
    for source in (table, str(csv)):
        parts = partition_plan(plan_source(source, min_units=8), "row_based", 2, {})
        assert {p.column_groups for p in parts} == {1}


# What a shipped (compacted) partial reports within the sketches' stated bounds rather than to the
# last digit, as every multi-process backend's partials do: KLL quantiles (and the histogram's
# counts drawn from them) and the note on how often an unlisted value can occur.
_WITHIN_BOUNDS = {"median", "q1", "q3", "quantiles", "histogram", "top_values_note"}


def _columns(p: TableProfile) -> dict[str, dict[str, object]]:
    return {c.name: {k: v for k, v in c.to_dict().items() if k not in _WITHIN_BOUNDS}
            for c in p.columns}


def _check_quantiles(grouped: TableProfile, table: pa.Table) -> None:
    """Each reported quantile's rank in the column's sorted values is within the reported rank
    error of the quantile asked for."""
    for c in grouped.columns:
        if c.quantiles is None or not c.name.startswith("f"):
            continue
        values = np.sort(table[c.name].drop_null().to_numpy())
        err = c.quantile_rank_error or 0.0
        for key, q in c.quantiles.items():
            target = int(key[1:]) / 100
            lo = np.searchsorted(values, q, side="left") / len(values)
            hi = np.searchsorted(values, q, side="right") / len(values)
            assert lo - err <= target <= hi + err, (c.name, key, q, lo, hi, err)


def test_column_groups_profile_like_one_task(wide_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "TASK_MEMORY_BUDGET", 1 << 40)
    whole = profile(str(wide_file), num_workers=2)
    assert whole.execution is not None and whole.execution.num_partitions == 1
    monkeypatch.setattr(memory, "TASK_MEMORY_BUDGET", BUDGET)
    grouped = profile(str(wide_file), num_workers=2)
    assert grouped.execution is not None and grouped.execution.num_partitions > 2
    assert grouped.row_count == whole.row_count == ROWS
    assert [c.name for c in grouped.columns] == [c.name for c in whole.columns]
    assert _columns(grouped) == _columns(whole)
    # a column partition sees no whole row: duplicates are not counted
    assert whole.duplicate_row_count == 0 and grouped.duplicate_row_count is None
    for c in grouped.columns:  # the histogram covers the same range and every value
        if not c.name.startswith("f"):
            assert c.histogram == whole[c.name].histogram
            continue
        assert c.histogram is not None and whole[c.name].histogram is not None
        assert c.histogram.edges == whole[c.name].histogram.edges
        assert sum(c.histogram.counts) == sum(whole[c.name].histogram.counts)
    # against exact references: quantile ranks, counts, the top values of an exact column
    table = pq.read_table(wide_file)
    _check_quantiles(grouped, table)
    assert grouped["f0"].null_count == table["f0"].null_count
    counts = pc.value_counts(table["s3"]).to_pylist()
    top = sorted(counts, key=lambda d: (-d["counts"], d["values"]))[:3]
    assert [(t.value, t.count) for t in grouped["s3"].top_values[:3]] == \
        [(d["values"], d["counts"]) for d in top]
    assert grouped["s3"].distinct_count == len(counts)


def test_the_groups_state_is_their_column_union(wide_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The groups are finalized one by one and kept as bytes; the engine state rebuilt from them
    on demand (their column union) gives the same profile, and it serializes and merges."""
    monkeypatch.setattr(memory, "TASK_MEMORY_BUDGET", BUDGET)
    grouped = profile(str(wide_file), num_workers=2)
    assert grouped.has_state and grouped._state is None and len(grouped._state_parts) > 2
    united = TableProfile._from_state(grouped._require_state("test"), source=grouped.source)
    skip = {"profiled_at", "profile_duration_ms", "execution"}
    assert {k: v for k, v in united.to_dict().items() if k not in skip} == \
        {k: v for k, v in grouped.to_dict().items() if k not in skip}
    again = TableProfile.from_bytes(grouped.to_bytes())
    assert again.columns == grouped.columns and again.row_count == ROWS
    twice = grouped.merge(again)
    assert twice.row_count == 2 * ROWS and twice["s3"].distinct_count == grouped["s3"].distinct_count


def test_worker_processes_profile_the_groups_alike(wide_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes ship their partials as bytes anyway: the same plan gives the same
    profile as threads."""
    from truthound.profiler.distributed.local import LocalBackend

    monkeypatch.setattr(memory, "TASK_MEMORY_BUDGET", BUDGET)
    threads = profile(str(wide_file), num_workers=2)
    processes = LocalBackend(2, use_processes=True).profile(str(wide_file))
    assert processes.execution is not None and threads.execution is not None
    assert processes.execution.num_partitions == threads.execution.num_partitions > 2
    assert processes.columns == threads.columns and processes.duplicate_row_count is None
