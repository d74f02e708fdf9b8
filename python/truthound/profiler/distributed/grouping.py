"""Grouping a plan's row units into row parts and its columns into column groups.

Row units (row groups, row ranges, CSV byte ranges, files) are grouped into at most ``n`` parts of
balanced weight, consecutive units together when that balances nearly as well (one reader per
file, read in order); columns into contiguous groups of balanced estimated cost (strings cost more
than integers), which keeps the profile's column order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa

from truthound.profiler.distributed.pieces import FilePiece, LazyPiece, Piece, TablePiece
from truthound.profiler.distributed.planning import SourcePlan

__all__ = ["split_rows", "contiguous_groups", "column_cost", "column_groups"]


def split_rows(plan: SourcePlan, n: int) -> list[tuple[Piece, ...]]:
    """The plan's rows as at most ``n`` groups of pieces (n for in-memory data, lazy frames and
    streams; a stream's groups are empty: the driver deals its batches out). An engine's frame
    keeps its partitions whatever ``n`` is (an engine repartitions before planning)."""
    if plan.kind == "stream":
        return [() for _ in range(n)]
    if plan.kind == "external":
        # the engine's own partitioning is kept: one row part per engine partition
        return [(u,) for u in plan.units] or [()]
    if plan.kind in ("memory", "lazy"):
        (piece,) = plan.units
        assert isinstance(piece, (TablePiece, LazyPiece))
        if isinstance(piece, LazyPiece):
            if n == 1:
                return [(piece,)]
            piece = piece.counted()
        base, extra = divmod(piece.weight, n)
        out: list[tuple[Piece, ...]] = []
        offset = 0
        for i in range(n):
            length = base + (1 if i < extra else 0)
            if isinstance(piece, TablePiece):
                out.append((TablePiece(piece.table, offset, length),))
            else:
                out.append((LazyPiece(piece.frame, offset, length),))
            offset += length
        return out
    units = plan.units
    if not units:
        return [()]
    n = min(n, len(units))
    weights = [u.weight for u in units]
    # Longest-processing-time first: each unit to the lightest group; keep file order inside.
    loads = [0] * n
    groups: list[list[int]] = [[] for _ in range(n)]
    for i in sorted(range(len(units)), key=lambda i: -weights[i]):
        g = min(range(n), key=lambda g: (loads[g], g))
        loads[g] += weights[i]
        groups[g].append(i)
    # Runs of consecutive units read better (one reader per file, adjacent row ranges joined,
    # the file read in order): take them when they balance nearly as well.
    runs = contiguous_groups(weights, n)
    if max(sum(weights[i] for i in r) for r in runs) <= max(loads) * _CONTIGUOUS_SLACK:
        groups = runs
    return [_coalesce([units[i] for i in sorted(g)]) for g in groups if g]


# Consecutive units are preferred while their largest group is at most this much heavier than
# the longest-processing-time grouping's.
_CONTIGUOUS_SLACK = 1.05


def contiguous_groups(weights: list[int], n: int) -> list[list[int]]:
    """The indices in order, cut into at most ``n`` runs: of the runs whose largest sum is the
    smallest possible (a binary search on that sum; a greedy cut tests each candidate) and the
    runs cut nearest to each n-th of the total, the more even."""
    n = min(n, len(weights))

    def cut(limit: int) -> list[list[int]]:
        runs: list[list[int]] = [[]]
        load = 0
        for i, w in enumerate(weights):
            if runs[-1] and load + w > limit:
                runs.append([])
                load = 0
            runs[-1].append(i)
            load += w
        return runs

    lo, hi = max(weights), sum(weights)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(cut(mid)) <= n:
            hi = mid
        else:
            lo = mid + 1
    total, prefix = sum(weights), [0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    bounds = [0]
    for j in range(1, n):
        target = total * j / n
        # the prefix end nearest the target, after the previous cut, leaving a unit per run
        ends = range(bounds[-1] + 1, len(weights) - (n - j) + 1)
        bounds.append(min(ends, key=lambda e: abs(prefix[e] - target)))
    bounds.append(len(weights))
    even = [list(range(a, b)) for a, b in zip(bounds, bounds[1:])]

    def spread(runs: list[list[int]]) -> tuple[int, int]:
        sums = [prefix[r[-1] + 1] - prefix[r[0]] for r in runs]
        return max(sums), max(sums) - min(sums)

    return min((cut(lo), even), key=spread)


def _same_file(a: FilePiece, b: FilePiece) -> bool:
    def same(x: Any, y: Any) -> bool:  # filesystems and expressions compare with .equals
        return x is y or (x is not None and y is not None and x.equals(y))

    return (a.path, a.format) == (b.path, b.format) and same(a.filesystem, b.filesystem) and same(
        a.partition_expression, b.partition_expression)


def _coalesce(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Consecutive whole row groups of the same file as one piece, and adjacent row ranges of
    one row group as one range: one reader reads them all (its buffers are reused from one row
    group to the next, the file is opened once)."""
    out: list[Piece] = []
    for p in pieces:
        prev = out[-1] if out else None
        if not (
            isinstance(p, FilePiece) and isinstance(prev, FilePiece)
            and p.row_groups is not None and prev.row_groups is not None and _same_file(p, prev)
        ):
            out.append(p)
            continue
        rows = None if p.num_rows is None or prev.num_rows is None else prev.num_rows + p.num_rows
        if p.row_range is None and prev.row_range is None:
            out[-1] = replace(prev, row_groups=prev.row_groups + p.row_groups, num_rows=rows,
                              weight=prev.weight + p.weight)
        elif (
            p.row_range is not None and prev.row_range is not None
            and p.row_groups == prev.row_groups and sum(prev.row_range) == p.row_range[0]
        ):
            out[-1] = replace(prev, row_range=(prev.row_range[0], prev.row_range[1] + p.row_range[1]),
                              num_rows=rows, weight=prev.weight + p.weight)
        else:
            out.append(p)
    return tuple(out)


_STRING_COST = 4.0


def column_cost(dtype: pa.DataType) -> float:
    """Estimated relative cost per value of profiling a column of this Arrow type."""
    t = pa.types
    if t.is_dictionary(dtype):
        return 1.0 + column_cost(dtype.value_type) / 2
    if t.is_string(dtype) or t.is_large_string(dtype) or getattr(t, "is_string_view", lambda _: False)(dtype):
        return _STRING_COST
    if t.is_binary(dtype) or t.is_large_binary(dtype) or t.is_fixed_size_binary(dtype):
        return 3.0
    if t.is_nested(dtype):
        return 4.0
    if t.is_decimal(dtype):
        return 2.5
    if t.is_temporal(dtype):
        return 1.5
    if t.is_floating(dtype):
        return 1.5
    if t.is_boolean(dtype):
        return 0.5
    return 1.0


def balanced_contiguous(costs: list[float], k: int) -> list[tuple[int, int]]:
    """Split ``costs`` into ``k`` contiguous non-empty ranges minimizing the largest sum."""
    n = len(costs)
    k = max(1, min(k, n))
    prefix = [0.0]
    for c in costs:
        prefix.append(prefix[-1] + c)
    inf = float("inf")
    # best[j][i]: minimal largest-group cost of splitting the first i columns into j groups
    best = [[inf] * (n + 1) for _ in range(k + 1)]
    cut = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = 0.0
    for j in range(1, k + 1):
        for i in range(j, n + 1):
            for p in range(j - 1, i):
                v = max(best[j - 1][p], prefix[i] - prefix[p])
                if v < best[j][i]:
                    best[j][i], cut[j][i] = v, p
    ranges, i = [], n
    for j in range(k, 0, -1):
        p = cut[j][i]
        ranges.append((p, i))
        i = p
    return ranges[::-1]


def column_groups(plan: SourcePlan, k: int) -> list[tuple[str, ...]]:
    cols = list(plan.columns)
    costs = [column_cost(plan.schema.field(c).type) for c in cols]
    return [tuple(cols[a:b]) for a, b in balanced_contiguous(costs, k)]

