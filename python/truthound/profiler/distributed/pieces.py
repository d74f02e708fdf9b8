"""The pieces of rows a partition is made of, and the partition itself.

A :class:`Partition` is a *description* that any worker (a thread, a process, a Spark/Dask/Ray
task) turns into Arrow record batches: its pieces (a Parquet file's row groups or a row range of
one, a byte range of a CSV file, a whole file, a row slice of an in-memory table or of a polars
LazyFrame, or batches already read from a one-shot stream), the columns to profile and, for hash
partitioning, the buckets its rows are split into (one engine partial each). Partitions are plain
picklable objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from truthound.profiler.distributed.hashing import hashable_columns
from truthound.profiler.remote import display_path
from truthound.profiler.sources import DEFAULT_BATCH_SIZE

__all__ = [
    "FilePiece", "TablePiece", "LazyPiece", "BatchPiece", "ExternalPiece", "Piece", "Partition"
]

@dataclass(frozen=True)
class FilePiece:
    """Rows of one file: Parquet row groups, a CSV byte range, or the whole file."""

    path: str
    format: str
    filesystem: Any = None
    partition_expression: Any = None
    row_groups: tuple[int, ...] | None = None
    byte_range: tuple[int, int] | None = None  # [start, end) of a CSV file, lines by first byte
    row_range: tuple[int, int] | None = None  # (first, count) rows of its one Parquet row group
    num_rows: int | None = None  # when known from metadata
    weight: int = 1  # rows when known, else bytes: used to balance partitions
    # a CSV byte range: the file's own header (files of one source may differ in their columns)
    file_columns: tuple[str, ...] | None = None
    encoding: str | None = None  # of a text file (None: UTF-8)

    @property
    def uri(self) -> str:
        """The file as messages name it: its path, or its URI on a remote filesystem."""
        return display_path(self.path, self.filesystem)

    def describe(self) -> str:
        if self.row_range is not None and self.row_groups is not None:
            first, count = self.row_range
            return f"{self.uri} (row group {self.row_groups[0]}, rows {first}-{first + count})"
        if self.row_groups is not None:
            return f"{self.uri} (row groups {list(self.row_groups)})"
        if self.byte_range is not None:
            return f"{self.uri} (bytes {self.byte_range[0]}-{self.byte_range[1]})"
        return self.uri


@dataclass(frozen=True)
class TablePiece:
    """Rows ``[offset, offset + length)`` of an in-memory pyarrow Table."""

    table: pa.Table
    offset: int = 0
    length: int | None = None

    @property
    def weight(self) -> int:
        return self.table.num_rows - self.offset if self.length is None else self.length

    @property
    def num_rows(self) -> int:
        return self.weight

    def sliced(self) -> pa.Table:
        return self.table.slice(self.offset, self.length)

    def describe(self) -> str:
        return f"rows {self.offset}-{self.offset + self.weight}"

    # Ship only the slice to another process (pickling a slice would carry whole buffers).
    def __reduce__(self) -> Any:
        sink = pa.BufferOutputStream()
        table = self.sliced()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return (_table_piece_from_ipc, (sink.getvalue().to_pybytes(),))


def _table_piece_from_ipc(data: bytes) -> TablePiece:
    return TablePiece(pa.ipc.open_stream(data).read_all())


@dataclass(frozen=True)
class BatchPiece:
    """Record batches already decoded (from a one-shot stream)."""

    batches: tuple[pa.RecordBatch, ...]

    @property
    def weight(self) -> int:
        return sum(b.num_rows for b in self.batches)

    num_rows = weight

    def describe(self) -> str:
        return f"{len(self.batches)} batches"



@dataclass(frozen=True)
class LazyPiece:
    """Rows ``[offset, offset + length)`` of a polars LazyFrame (collected by the worker with the
    streaming engine; a LazyFrame pickles as its query plan). ``length`` None: every row from
    ``offset`` (not counted: a frame profiled whole is not run twice)."""

    frame: Any  # polars.LazyFrame
    offset: int = 0
    length: int | None = None

    @property
    def weight(self) -> int:
        return self.length if self.length is not None else 1

    @property
    def num_rows(self) -> int | None:
        return self.length

    def counted(self) -> LazyPiece:
        """This piece with its rows counted (the query runs once for its length)."""
        if self.length is not None:
            return self
        import polars as pl

        rows = int(self.frame.slice(self.offset).select(pl.len()).collect().item())
        return LazyPiece(self.frame, self.offset, rows)

    def describe(self) -> str:
        end = "end" if self.length is None else str(self.offset + self.length)
        return f"rows {self.offset}-{end}"


@dataclass(frozen=True)
class ExternalPiece:
    """Partition ``index`` of a frame that lives in a distributed engine (a Spark or Dask
    DataFrame, a Ray Dataset). Only that engine's executor runs it: it reads the partition where
    the engine holds it and hands its Arrow batches to :func:`~.worker.run_partition`.
    ``frame`` names the frame for the executor (the frame itself never travels in a piece)."""

    frame: str
    index: int
    num_rows: int | None = None

    @property
    def weight(self) -> int:
        return self.num_rows if self.num_rows is not None else 1

    def describe(self) -> str:
        return f"{self.frame} partition {self.index}"


Piece = FilePiece | TablePiece | LazyPiece | BatchPiece | ExternalPiece


# --------------------------------------------------------------------------- partitions


@dataclass
class Partition:
    """What one task profiles: pieces of rows and a column subset.

    Hash partitioning (``num_buckets`` > 1) splits the task's rows by the engine's hash of
    ``key_columns`` (None: every hashable column) into ``num_buckets`` buckets, each profiled into
    a partial of its own: the map side of a shuffle, every row read once. Each task returns one
    partial per bucket; the driver merges bucket ``b`` of every task, then the buckets.

    ``pieces`` is empty for a partition of a stream: the backend routes the stream's batches to it
    (batch ``k`` goes to row part ``k % row_parts``). A partition of an engine's frame holds
    :class:`ExternalPiece` s: the engine's executor feeds their batches.

    ``shipped``: the task returns its partials as they ship (compacted and rebuilt from their
    bytes, :func:`~.worker.shipped_bytes`) even to a driver in its own process, which then holds
    a finished task's partials in a fraction of a working state's memory (a plan cut into
    column groups to bound memory sets it: :mod:`.memory`).
    """

    index: int
    pieces: tuple[Piece, ...]
    columns: tuple[str, ...]
    schema: pa.Schema  # the source's full schema (files: the unified dataset schema)
    source: str
    batch_size: int = DEFAULT_BATCH_SIZE
    row_part: int = 0
    row_parts: int = 1
    column_group: int = 0
    column_groups: int = 1
    num_buckets: int = 1
    key_columns: tuple[str, ...] | None = None
    shipped: bool = False

    @property
    def num_rows(self) -> int | None:
        """The rows of the pieces when known (all buckets), else None."""
        if not self.pieces:
            return None
        total = 0
        for p in self.pieces:
            n = p.num_rows
            if n is None:
                return None
            total += n
        return total

    @property
    def projected_schema(self) -> pa.Schema:
        return pa.schema([self.schema.field(c) for c in self.columns])

    @property
    def read_columns(self) -> list[str]:
        """The columns a worker reads: the profiled ones plus hash keys, in schema order."""
        need = set(self.columns)
        if self.num_buckets > 1:
            need.update(self.hash_keys)
        return [n for n in self.schema.names if n in need]

    @property
    def hashed(self) -> bool:
        """Is this a task of a hash partitioning (its key columns are set, or it has buckets)?"""
        return self.key_columns is not None or self.num_buckets > 1

    @property
    def hash_keys(self) -> tuple[str, ...]:
        """The columns whose engine hash picks a row's bucket: ``key_columns``, else every
        column the engine hashes (lists, maps and unions have no value hash)."""
        if self.key_columns is not None:
            return self.key_columns
        return hashable_columns(self.schema, self.schema.names)

    def describe(self) -> str:
        parts = ", ".join(p.describe() for p in self.pieces[:3])
        if len(self.pieces) > 3:
            parts += f", ... ({len(self.pieces)} pieces)"
        buckets = f" into {self.num_buckets} hash buckets" if self.num_buckets > 1 else ""
        return f"partition {self.index} of {self.source}: {parts or 'stream'}{buckets}"

