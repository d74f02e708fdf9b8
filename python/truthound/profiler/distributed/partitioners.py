"""The partitioners of the spec: each turns a source into a list of :class:`Partition`.

- :class:`RowBasedPartitioner` splits the rows: in memory and polars LazyFrames, slices whose
  sizes differ by at most one; files, whole row groups / row ranges / CSV byte ranges / files,
  balanced by rows (bytes for text files);
- :class:`ColumnBasedPartitioner` splits the columns into contiguous groups of balanced estimated
  cost (strings cost more than integers); contiguous groups keep the profile's column order;
- :class:`HybridPartitioner` makes R x C partitions;
- :class:`HashPartitioner` sends each row to the bucket of its key's hash (the engine's 64-bit
  value hash), as a shuffle's map side does: each task reads one row part (as the row strategy
  cuts them) and profiles each bucket's rows into that bucket's partial, so the source is read
  once whatever the number of buckets.

Every partitioner covers every row and every column exactly once. Planning (the source's row
units) is :mod:`.planning`, the grouping of units and columns :mod:`.grouping`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from truthound.errors import ColumnNotFoundError, ConfigurationError, positive_int
from truthound.profiler.distributed.grouping import column_cost, column_groups, split_rows
from truthound.profiler.distributed.hashing import hashable_columns
from truthound.profiler.distributed.pieces import (
    BatchPiece,
    FilePiece,
    LazyPiece,
    Partition,
    Piece,
    TablePiece,
)
from truthound.profiler.distributed.planning import SourcePlan, plan_source

__all__ = [
    "FilePiece",
    "TablePiece",
    "LazyPiece",
    "BatchPiece",
    "Partition",
    "SourcePlan",
    "plan_source",
    "Partitioner",
    "RowBasedPartitioner",
    "ColumnBasedPartitioner",
    "HybridPartitioner",
    "HashPartitioner",
    "column_cost",
]


class Partitioner:
    """Base of the partitioners: ``partition(data) -> list[Partition]``."""

    def partition(self, data: Any, **options: Any) -> list[Partition]:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def _make(
        plan: SourcePlan,
        row_groups: list[tuple[Piece, ...]],
        column_groups: list[tuple[str, ...]],
        **extra: Any,
    ) -> list[Partition]:
        out: list[Partition] = []
        for c, cols in enumerate(column_groups):
            for r, pieces in enumerate(row_groups):
                out.append(
                    Partition(
                        index=len(out), pieces=pieces, columns=cols, schema=plan.schema,
                        source=plan.description, batch_size=plan.batch_size,
                        row_part=r, row_parts=len(row_groups),
                        column_group=c, column_groups=len(column_groups), **extra,
                    )
                )
        return out


class RowBasedPartitioner(Partitioner):
    """``num_partitions`` partitions of rows, every column each.

    In memory: row counts differ by at most one. Files: whole row groups (Parquet), byte ranges
    (plain CSV) or files, balanced by rows; fewer partitions when there are fewer such units.
    ``min_units`` (default ``num_partitions``) asks for the source to be cut into at least that
    many such units before they are grouped: more units than partitions balance the groups when
    row groups or files differ in size.
    """

    def __init__(self, num_partitions: int = 4, *, min_units: int | None = None) -> None:
        self.num_partitions = positive_int("num_partitions", num_partitions)
        self.min_units = self.num_partitions if min_units is None else positive_int("min_units", min_units)

    def partition(self, data: Any, **options: Any) -> list[Partition]:
        plan = plan_source(data, min_units=max(self.min_units, self.num_partitions), **options)
        return self._make(plan, split_rows(plan, self.num_partitions), [plan.columns])


class ColumnBasedPartitioner(Partitioner):
    """Contiguous column groups (one per worker) of balanced estimated cost, all rows each."""

    def __init__(self, num_partitions: int | None = None) -> None:
        self.num_partitions = None if num_partitions is None else positive_int("num_partitions", num_partitions)

    def partition(self, data: Any, num_workers: int | None = None, **options: Any) -> list[Partition]:
        k = num_workers if num_workers is not None else (self.num_partitions or 1)
        positive_int("num_workers", k)
        plan = plan_source(data, **options)
        return self._make(plan, split_rows(plan, 1), column_groups(plan, k))


class HybridPartitioner(Partitioner):
    """``row_partitions`` x ``column_partitions`` partitions (fewer if the data is smaller)."""

    def __init__(self, row_partitions: int = 2, column_partitions: int = 2) -> None:
        self.row_partitions = positive_int("row_partitions", row_partitions)
        self.column_partitions = positive_int("column_partitions", column_partitions)

    def partition(self, data: Any, **options: Any) -> list[Partition]:
        plan = plan_source(data, min_units=self.row_partitions, **options)
        return self._make(
            plan, split_rows(plan, self.row_partitions), column_groups(plan, self.column_partitions)
        )


class HashPartitioner(Partitioner):
    """``num_partitions`` buckets of rows by the hash of their key columns (the whole row's
    without keys).

    The tasks are ``row_parts`` (default ``num_partitions``) row parts of the source, cut as
    :class:`RowBasedPartitioner` cuts them: each reads its rows once and returns one partial per
    bucket (:attr:`Partition.num_buckets`); the driver merges each bucket over the tasks, then
    the buckets.
    """

    def __init__(
        self,
        num_partitions: int = 4,
        key_columns: Sequence[str] | None = None,
        *,
        row_parts: int | None = None,
    ) -> None:
        self.num_partitions = positive_int("num_partitions", num_partitions)
        if isinstance(key_columns, str):
            key_columns = [key_columns]
        self.key_columns = tuple(key_columns) if key_columns is not None else None
        if self.key_columns is not None and not self.key_columns:
            raise ConfigurationError("option 'key_columns' must name at least one column")
        self.row_parts = self.num_partitions if row_parts is None else positive_int("row_parts", row_parts)

    def partition(self, data: Any, **options: Any) -> list[Partition]:
        plan = plan_source(data, min_units=self.row_parts, **options)
        keys = self.key_columns
        if keys is not None:
            missing = [k for k in keys if k not in plan.schema.names]
            if missing:
                raise ColumnNotFoundError(
                    f"key column(s) {', '.join(map(repr, missing))} not found in "
                    f"{plan.description!r}; available columns: {', '.join(plan.schema.names)}"
                )
        else:
            keys = hashable_columns(plan.schema, plan.columns)
        return self._make(plan, split_rows(plan, self.row_parts), [plan.columns],
                          num_buckets=self.num_partitions, key_columns=tuple(keys))
