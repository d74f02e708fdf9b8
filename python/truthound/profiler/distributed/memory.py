"""Memory bounded by bytes: a wide columnar source is profiled in column groups.

A task's memory grows with its columns, not with its rows: each column holds an engine state
(in the worst case its frequent-items table at 16,384 counters, the HyperLogLog's 2^16 dense
registers, a KLL sketch: about 1.7 MB for a float64 column of 50,000 distinct values, measured
with mallinfo2) and the reader holds a page of each column it reads. A task over all
1,000 columns of a 50,000-row row group peaks near 2 GB. So when the row-based plan's tasks
would each need more than :data:`TASK_MEMORY_BUDGET` bytes, the columns are cut into contiguous
groups that fit (as whylogs slices wide tables), and each group's rows form their own task: the
driver merges a group's row parts by rows, then the groups by columns, as for the hybrid
strategy. A task returns its partial as it would ship (compacted, about 80 KB a float64 column
of 50,000 distinct values instead of 1.7 MB). A finished column group is finalized at once (the
engine computes its columns' results and alerts) and kept only as its result and its serialized
state: its working state is dropped, since a column in its exact top-value regime still takes
about 1.5 MB in memory against 180 KB serialized at 10,000 distinct values. The profile is the
groups' results put side by side (:func:`assemble_columns`); its engine state, the groups'
united, is rebuilt from their bytes only when asked for (to_bytes, merge, diff).

Only Parquet files are cut this way: a worker reads only its group's column chunks, so the
source is still read once. A CSV or JSON file would be parsed again for every group, and an
in-memory table or a stream is already in memory; they keep one task per row part.

A column partition sees no whole row, so a profile planned in column groups does not count
duplicate rows (``duplicate_row_count`` is None), as with the hybrid and column-based strategies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from truthound.profiler.distributed.grouping import contiguous_groups
from truthound.profiler.distributed.pieces import FilePiece, Partition, Piece
from truthound.profiler.distributed.planning import SourcePlan, _value_bytes

__all__ = [
    "TASK_MEMORY_BUDGET",
    "assemble_columns",
    "column_task_bytes",
    "memory_column_groups",
    "task_bytes",
]

# The bytes one task's engine state and reader may hold (estimated as below): 2 workers stay
# under about 600 MB on the 1,000 x 50,000 table with the driver's share (the finished groups'
# results and bytes, about 45 KB a column there).
TASK_MEMORY_BUDGET = 192 * 1024 * 1024
# A column's frequent-items sketch stops growing at this many counters (FrequentItems'
# default capacity; below it every distinct value is one counter).
_FREQUENT_ITEMS_CAPACITY = 16_384
# Bytes per counter (a 16-byte slot at load 1/2, the item's 16-byte value reference and 4-byte
# slot index, the value in the arena, the purges' scratch, the allocator's slack; measured 1.7 MB
# a float64 column of 50,000 distinct values at the end of a task, mallinfo2).
_BYTES_PER_COUNTER = 100
# HyperLogLog dense registers (p = 16), a KLL sketch and the column's fixed state.
_FIXED_COLUMN_BYTES = 64 * 1024 + 16 * 1024
# The reader reads a column page by page: it holds about this many times a column's plain values
# of a page (the page, its decoded values, the batch; measured 1.25 MB a float64 column of a
# 50,000-row row group, one 400 KB page), pages of at most _PAGE_BYTES (pyarrow's default).
_READER_FACTOR = 3
_PAGE_BYTES = 1024 * 1024


def column_task_bytes(dtype: pa.DataType, rows: int, read_rows: int) -> int:
    """Estimated peak bytes of one column of type ``dtype`` in a task of ``rows`` rows read
    ``read_rows`` at a time (a row group, or a range of one): engine state plus the reader's
    buffers."""
    counters = min(rows, _FREQUENT_ITEMS_CAPACITY)
    page = min(read_rows * _value_bytes(dtype), _PAGE_BYTES)
    return counters * _BYTES_PER_COUNTER + _FIXED_COLUMN_BYTES + _READER_FACTOR * page


def _rows(pieces: Sequence[Piece]) -> tuple[int, int]:
    """(rows, rows of the largest piece) of a task's pieces (unknown counts as 0)."""
    counts = [p.num_rows or 0 for p in pieces]
    return sum(counts), max(counts, default=0)


def task_bytes(plan: SourcePlan, partition: Partition) -> int:
    """Estimated peak bytes of ``partition``'s task."""
    rows, read_rows = _rows(partition.pieces)
    return sum(column_task_bytes(plan.schema.field(c).type, rows, read_rows)
               for c in partition.columns)


def memory_column_groups(
    plan: SourcePlan, row_parts: Sequence[Sequence[Piece]], budget: int | None = None
) -> list[tuple[str, ...]] | None:
    """The plan's columns in contiguous groups such that the task of any of ``row_parts``
    (each a task's pieces) over a group fits ``budget``; None when one group of all columns
    fits or the source is not Parquet files (see the module's docstring). A column that alone
    exceeds the budget is a group of its own. ``budget`` None: :data:`TASK_MEMORY_BUDGET`."""
    if budget is None:
        budget = TASK_MEMORY_BUDGET
    if plan.kind != "files" or not plan.units or not all(
        isinstance(u, FilePiece) and u.format == "parquet" for u in plan.units
    ):
        return None
    rows = max((_rows(part)[0] for part in row_parts), default=0)
    read_rows = max((_rows(part)[1] for part in row_parts), default=0)
    sizes = [column_task_bytes(plan.schema.field(c).type, rows, read_rows) for c in plan.columns]
    if sum(sizes) <= budget:
        return None
    groups = 1
    load = 0
    for size in sizes:
        if load and load + size > budget:
            groups += 1
            load = 0
        load += size
    # as many groups as a greedy cut needs, evened out (the largest group as small as it can
    # be, so under the budget whenever the greedy cut is)
    return [tuple(plan.columns[i] for i in run) for run in contiguous_groups(sizes, groups)]


# Table-level figures of a group's result that only a partial of whole rows has: the groups'
# union counts no duplicate rows (and raises no duplicate-rows alert), as the engine's column
# merge does.
_WHOLE_ROW_KEYS = ("duplicate_row_count", "duplicate_row_ratio", "duplicate_rows_approximate")
_WHOLE_ROW_ALERTS = ("duplicate_rows",)


def assemble_columns(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The engine results (finalize JSON, parsed) of disjoint column groups of the same rows,
    side by side as the engine's result of their column union: the columns and their alerts in
    group order, the column count and estimated memory summed over the groups, no duplicate-row
    figures. Correlations are off in a plan of column groups."""
    out = {k: v for k, v in results[0].items() if k not in _WHOLE_ROW_KEYS}
    out["columns"] = [c for r in results for c in r["columns"]]
    out["column_count"] = len(out["columns"])
    out["estimated_memory_bytes"] = sum(r["estimated_memory_bytes"] for r in results)
    out["alerts"] = [a for r in results for a in r["alerts"] if a.get("kind") not in _WHOLE_ROW_ALERTS]
    out["correlations"] = [c for r in results for c in r["correlations"]]
    return out
