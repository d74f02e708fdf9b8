"""Planning: a source opened for partitioning (:class:`SourcePlan`): its schema, its columns,
its description and its finest row units (row groups or row ranges of Parquet files, byte ranges
of CSV files, whole other files, one in-memory table, row slices of a polars LazyFrame), or a
stream read once by the driver.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from truthound import _core
from truthound.errors import ArrowImportError, SourceReadError, UnsupportedTypeError, one_line
from truthound.profiler.remote import display_path
from truthound.profiler.distributed import csv_ranges as _csv
from truthound.profiler.distributed.pieces import (
    ExternalPiece,
    FilePiece,
    LazyPiece,
    Piece,
    TablePiece,
)
from truthound.profiler.sources import DEFAULT_BATCH_SIZE, open_source
from truthound.profiler.sources import base as _base
from truthound.profiler.sources.base import _check_columns, _validate_columns, empty_batch, is_dataset, rechunk
from truthound.profiler.sources.datasets import file_dataset
from truthound.profiler.sources.encodings import text_encoding
from truthound.profiler.sources.files import path_sources
from truthound.profiler.sources.native_parquet import ParquetFileSource, native_parquet_readable

if TYPE_CHECKING:
    import pyarrow.dataset as ds
else:
    ds = _base.ds  # imported on first use

__all__ = ["SourcePlan", "SourceKind", "plan_source", "external_plan", "PARQUET_MIN_RANGE_ROWS"]

# files: row units of files, read by each worker; memory: one in-memory table, sliced; lazy: a
# polars LazyFrame of counted rows, sliced; stream: batches read once by the driver and dealt out;
# external: the partitions of a frame held by a distributed engine (Spark, Dask, Ray), run there.
SourceKind = Literal["files", "memory", "lazy", "stream", "external"]


@dataclass
class SourcePlan:
    """A source opened for partitioning: schema, columns, row units and description."""

    description: str
    schema: pa.Schema
    columns: tuple[str, ...]
    kind: SourceKind
    units: list[Piece] = field(default_factory=list)
    total_rows: int | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    # stream kind: a factory of the source's batches (already projected to read columns)
    open_stream: Callable[[Sequence[str]], Iterator[pa.RecordBatch]] | None = None

    @property
    def projected_schema(self) -> pa.Schema:
        return pa.schema([self.schema.field(c) for c in self.columns])


# Batches are sized to hold about this many bytes of the columns read (at most
# DEFAULT_BATCH_SIZE rows, at least MIN_BATCH_ROWS): 131,072 rows of a 1,000-column table would be
# about 1 GB per batch per worker.
TARGET_BATCH_BYTES = 32 * 1024 * 1024
MIN_BATCH_ROWS = 256
# Bytes a row of a variable-width value is assumed to take (offsets and data).
_VARIABLE_WIDTH_BYTES = 24


def _value_bytes(t: pa.DataType) -> int:
    if pa.types.is_struct(t):
        return sum(_value_bytes(f.type) for f in t)
    if pa.types.is_dictionary(t):
        return _value_bytes(t.index_type)
    if pa.types.is_boolean(t) or pa.types.is_null(t):
        return 1
    try:
        return max(1, t.byte_width)
    except ValueError:  # variable width: strings, binary, lists, ...
        return _VARIABLE_WIDTH_BYTES


def batch_rows(schema: pa.Schema) -> int:
    """Rows per batch for ``schema`` (the columns read): about TARGET_BATCH_BYTES a batch."""
    row = sum(_value_bytes(f.type) for f in schema) or 1
    return max(MIN_BATCH_ROWS, min(DEFAULT_BATCH_SIZE, TARGET_BATCH_BYTES // row))


# A row group is not split into row ranges of fewer rows than this.
PARQUET_MIN_RANGE_ROWS = 65_536


def _row_group_units(
    pfs: ParquetFileSource, fmt: str, min_units: int, columns: tuple[str, ...]
) -> list[FilePiece]:
    """One unit per row group of a local Parquet file; when there are fewer row groups than
    ``min_units`` and the engine's own reader reads the file, row groups are split into row
    ranges (a worker skips the pages before its range by their headers)."""
    groups = [(i, rows) for i, rows in enumerate(pfs.row_group_rows) if rows]
    parts = 1
    if 0 < len(groups) < min_units and native_parquet_readable(pfs.path, columns):
        parts = -(-min_units // len(groups))
    units = []
    for i, rows in groups:
        k = max(1, min(parts, rows // PARQUET_MIN_RANGE_ROWS))
        if k == 1:
            units.append(FilePiece(pfs.path, fmt, row_groups=(i,), num_rows=rows, weight=rows))
            continue
        bounds = [rows * j // k for j in range(k + 1)]
        for lo, hi in zip(bounds, bounds[1:]):
            units.append(FilePiece(pfs.path, fmt, row_groups=(i,), row_range=(lo, hi - lo),
                                   num_rows=hi - lo, weight=hi - lo))
    return units


def _parquet_units(
    dataset: ds.FileSystemDataset | ParquetFileSource, fmt: str, min_units: int = 1,
    columns: tuple[str, ...] = (),
) -> list[FilePiece]:
    if isinstance(dataset, ParquetFileSource):  # one local file: no filesystem object
        return _row_group_units(dataset, fmt, min_units, columns)
    units: list[FilePiece] = []
    for frag in dataset.get_fragments():
        try:
            frag.ensure_complete_metadata()
            groups = [(rg.id, rg.num_rows) for rg in frag.row_groups]
        except (pa.ArrowException, OSError) as exc:
            where = display_path(frag.path, dataset.filesystem)
            raise SourceReadError(f"{where}: {one_line(exc)}") from exc
        for rg_id, rows in groups:
            if rows:
                units.append(
                    FilePiece(
                        frag.path, fmt, dataset.filesystem, frag.partition_expression,
                        row_groups=(rg_id,), num_rows=rows, weight=rows,
                    )
                )
    return units


def _text_units(
    dataset: ds.FileSystemDataset, fmt: str, min_units: int, encoding: str | None = None
) -> list[FilePiece]:
    frags = list(dataset.get_fragments())
    sizes = []
    for frag in frags:
        try:
            sizes.append(dataset.filesystem.get_file_info(frag.path).size or 1)
        except (pa.ArrowException, OSError):
            sizes.append(1)
    range_bytes = min(_csv.CSV_MAX_RANGE_BYTES, max(_csv.CSV_MIN_RANGE_BYTES, sum(sizes) // max(1, min_units)))
    units: list[FilePiece] = []
    for frag, size in zip(frags, sizes):
        expr = frag.partition_expression
        ranges = None
        if (fmt in ("csv", "tsv") and min_units > 1 and expr.equals(ds.scalar(True))
                and _csv.splits_at_newlines(encoding)):
            ranges = _csv.csv_ranges(frag.path, dataset.filesystem, range_bytes)
        if ranges is None:
            units.append(FilePiece(frag.path, fmt, dataset.filesystem, expr, weight=size,
                                   encoding=encoding))
        else:
            header = tuple(frag.physical_schema.names)
            units.extend(
                FilePiece(frag.path, fmt, dataset.filesystem, expr, byte_range=r, weight=r[1] - r[0],
                          file_columns=header, encoding=encoding)
                for r in ranges
            )
    return units


def _is_lazy(data: Any) -> bool:
    if type(data).__module__.split(".")[0] != "polars" or "polars" not in sys.modules:
        return False
    import polars as pl

    return isinstance(data, pl.LazyFrame)


def _leaf_names(fields: Iterable[pa.Field], prefix: str = "") -> Iterator[str]:
    """The engine's column names of ``fields``: struct fields as ``parent.child``."""
    for f in fields:
        name = prefix + f.name
        if pa.types.is_struct(f.type):
            yield from _leaf_names(f.type, name + ".")
        else:
            yield name


def _check_schema(schema: pa.Schema, description: str) -> None:
    """Refuse, naming the source, what the engine cannot profile: two columns of one name (a
    file's duplicate names, or a JSON key ``"a.b"`` beside the struct field ``a.b``: they would
    be profiled as one column over both), or a type the engine rejects (200 levels of nested
    JSON)."""
    seen: set[str] = set()
    for name in _leaf_names(schema):
        if name in seen:
            raise SourceReadError(f"{description}: two columns are named "
                                  f"{name!r} (struct fields are named parent.child)")
        seen.add(name)
    try:
        _core.PartialProfile("{}").consume_batch(empty_batch(schema))
    except (ArrowImportError, UnsupportedTypeError) as exc:
        raise type(exc)(f"{description}: {exc}") from exc


def plan_source(
    data: Any,
    *,
    columns: Iterable[str] | None = None,
    batch_size: int | None = None,
    format: str | None = None,
    min_units: int = 1,
    encoding: str | None = None,
    csv_column_types: dict[str, pa.DataType] | None = None,
    storage_options: Mapping[str, object] | None = None,
) -> SourcePlan:
    """Open ``data`` (anything :func:`truthound.profiler.profile` accepts) for partitioning.

    ``min_units`` asks for at least that many row units where the source can be split that
    finely (CSV byte ranges; with 1, a CSV file is not split); Parquet splits at row groups (and
    a local file with fewer row groups than ``min_units`` into row ranges of them), other files
    per file. ``csv_column_types`` forces the type of CSV/TSV columns (the driver reads a column
    as text after a value that does not fit the type inferred from the file's first block).
    ``batch_size`` None: rows per batch from the columns' widths (:func:`batch_rows`).
    ``storage_options`` configures a remote URI's filesystem, which its pieces carry to the
    workers (each opens its own file).
    """
    if isinstance(data, SourcePlan):
        return data
    # open_source validates everything exactly as profile() does (columns, formats, errors).
    src = open_source(data, columns=columns, batch_size=DEFAULT_BATCH_SIZE if batch_size is None else batch_size,
                      format=format, encoding=encoding, csv_column_types=csv_column_types,
                      storage_options=storage_options)
    _check_schema(src.schema, src.description)
    if batch_size is None:
        batch_size = batch_rows(src.schema)
    cols = tuple(src.schema.names)
    if path_sources(data) is not None or is_dataset(data, "FileSystemDataset"):
        opened: tuple[ds.Dataset | ParquetFileSource, str] | None
        if is_dataset(data, "FileSystemDataset"):
            opened = (data, _format_name(data.format))
        else:
            paths = path_sources(data)
            assert paths is not None
            encoding = text_encoding(paths, format, encoding)[0]
            opened = file_dataset(paths, format, csv_column_types, encoding,
                                           storage_options)
        if opened is not None:
            dataset, fmt = opened
            if isinstance(dataset, ParquetFileSource) or fmt == "parquet":
                units = _parquet_units(dataset, fmt, min_units, cols)
            else:
                units = _text_units(dataset, fmt, min_units, encoding)
            return SourcePlan(
                src.description, dataset.schema, cols, "files", list(units), src.total_rows,
                batch_size,
            )
    if _is_lazy(data):
        # Split into row slices like an in-memory table; counting runs the query once, so a
        # frame profiled whole (min_units 1) is not counted.
        full = open_source(data, batch_size=batch_size) if columns is not None else src
        piece = LazyPiece(data)
        if min_units > 1:
            piece = piece.counted()
        return SourcePlan(src.description, full.schema, cols, "lazy", [piece], piece.num_rows,
                          batch_size)
    if src.total_rows is not None:
        table = pa.Table.from_batches(list(src.batches()), schema=src.schema)
        return SourcePlan(
            src.description, table.schema, cols, "memory",
            [TablePiece(table, 0, table.num_rows)], table.num_rows, batch_size,
        )
    # A stream (one-shot reader, other Arrow stream): the driver reads it once and deals its
    # batches to the partitions.
    full = open_source(data, batch_size=batch_size, format=format) if columns is not None else src
    schema = full.schema

    def open_stream(read_columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        s = open_source(data, columns=list(read_columns), batch_size=batch_size, format=format)
        return s.batches()

    if columns is None:
        # Reuse the opened source for the first read (one-shot streams can be read only once).
        first = [src]

        def open_stream(read_columns: Sequence[str]) -> Iterator[pa.RecordBatch]:  # noqa: F811
            if first and list(read_columns) == list(cols):
                # opened before the batch size was known: cut its batches to it
                return rechunk(first.pop().batches(), batch_size)
            first.clear()
            return open_source(
                data, columns=list(read_columns), batch_size=batch_size, format=format
            ).batches()

    return SourcePlan(src.description, schema, cols, "stream", [], None, batch_size, open_stream)


def external_plan(
    description: str,
    schema: pa.Schema,
    frame: str,
    partition_rows: Sequence[int | None],
    *,
    columns: Iterable[str] | None = None,
    batch_size: int | None = None,
) -> SourcePlan:
    """The plan of a frame a distributed engine holds in ``len(partition_rows)`` partitions
    (their row counts where known): one :class:`ExternalPiece` per partition, kept as the
    engine partitioned them. ``columns`` is checked against ``schema`` as profile() checks it."""
    selected = _validate_columns(columns)
    _check_columns(schema.names, selected, description)
    _check_schema(schema, description)
    cols = tuple(selected) if selected is not None else tuple(schema.names)
    units: list[Piece] = [ExternalPiece(frame, i, n) for i, n in enumerate(partition_rows)]
    known = [n for n in partition_rows if n is not None]
    total = sum(known) if len(known) == len(partition_rows) else None
    if batch_size is None:
        batch_size = batch_rows(pa.schema([schema.field(c) for c in cols]))
    return SourcePlan(description, schema, cols, "external", units, total, batch_size)


def _format_name(file_format: ds.FileFormat) -> str:
    if isinstance(file_format, ds.ParquetFileFormat):
        return "parquet"
    if isinstance(file_format, ds.IpcFileFormat):
        return "ipc"
    if isinstance(file_format, ds.CsvFileFormat):
        return "tsv" if file_format.parse_options.delimiter == "\t" else "csv"
    if isinstance(file_format, ds.JsonFileFormat):
        return "json"
    raise SourceReadError(f"unsupported dataset format {file_format!r}")


