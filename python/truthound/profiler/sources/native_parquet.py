"""Parquet files read page by page: one local file without pyarrow.dataset, the engine's own
Parquet reader (its checked footer, page checks, the plan of column chunks it reads, the reader)
with pyarrow as the fallback, and string columns read dictionary-encoded.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq

from truthound.errors import SourceReadError
from truthound.profiler.sources.base import ArrowSource, _check_columns, _conform, _one_line

if TYPE_CHECKING:
    from truthound import _core

_log = logging.getLogger("truthound")

# Parquet string columns whose dictionary pages are at most this size are read dictionary-encoded.
_SMALL_DICTIONARY_PAGE = 64 * 1024
_DICTIONARY_INDEX_BYTES = 3

# Parquet is read page by page: no pre-buffering of whole column chunks and a 1 MiB read buffer,
# so memory stays near one batch per column instead of whole decoded row groups (a 1M-row row
# group of a 12-column table is ~175 MB; pyarrow's scanner also decodes several ahead).
_PARQUET_READ_BUFFER = 1 << 20


@dataclass(frozen=True)
class ParquetFileSource:
    """One local Parquet file, read with pyarrow.parquet alone (no pyarrow.dataset)."""

    path: str
    schema: pa.Schema
    num_rows: int
    row_group_rows: tuple[int, ...]


def _open_parquet_file(path: str) -> ParquetFileSource:
    try:
        with pq.ParquetFile(path) as pf:
            metadata, schema = pf.metadata, pf.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise SourceReadError(f"{path}: {_one_line(exc)}") from exc
    rows = tuple(metadata.row_group(i).num_rows for i in range(metadata.num_row_groups))
    if metadata.num_rows < 0 or any(r < 0 for r in rows):
        raise SourceReadError(f"{path}: a negative row count in the footer")
    names = schema.names
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise SourceReadError(f"{path}: two columns are named {twice!r}")
    return ParquetFileSource(path, schema, metadata.num_rows, rows)


def _parquet_file_source(
    pfs: ParquetFileSource, columns: list[str] | None, batch_size: int, description: str
) -> ArrowSource:
    _check_columns(pfs.schema.names, columns, repr(description))
    projected = pa.schema([pfs.schema.field(c) for c in columns]) if columns else pfs.schema

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in parquet_file_batches(pfs.path, None, pfs.schema, columns, batch_size):
                if batch.num_rows:
                    yield batch
        except SourceReadError:
            raise  # names the file already
        except (pa.ArrowException, OSError) as exc:
            raise SourceReadError(f"{pfs.path}: {_one_line(exc)}") from exc

    return ArrowSource(description, projected, pfs.num_rows, batches)


def parquet_file_batches(
    path: str,
    filesystem: pa_fs.FileSystem | None,
    schema: pa.Schema,
    columns: list[str] | None,
    batch_size: int,
    *,
    use_threads: bool = True,
    row_groups: Sequence[int] | None = None,
    keys: dict[str, Any] | None = None,
    row_range: tuple[int, int] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The batches of one Parquet file (its ``row_groups``, default all) in ``schema`` projected to
    ``columns``; ``keys`` are hive partition values (columns not in the file). ``row_range``
    (first, count), with a single row group: only those rows of it."""
    keys = keys or {}
    names = list(columns) if columns else list(schema.names)
    projected = pa.schema([schema.field(n) for n in names])
    fs = filesystem if filesystem is not None else pa_fs.LocalFileSystem()
    with fs.open_input_file(path) as f:
        pf = pq.ParquetFile(f, pre_buffer=False, buffer_size=_PARQUET_READ_BUFFER)
        in_file = set(pf.schema_arrow.names)
        read = [n for n in names if n in in_file and n not in keys]
        groups = list(row_groups) if row_groups is not None else list(range(pf.num_row_groups))
        if not groups:
            return
        footer = _engine_footer(f, path)
        dictionary = _small_dictionary_columns(pf, footer, read, groups)
        if row_range is not None and len(groups) != 1:
            raise ValueError("a row range reads one row group")
        ranges = [row_range] if row_range is not None else []
        try:
            native = _native_reader(path, filesystem, pf, footer, read, groups, dictionary,
                                    batch_size, ranges)
        except SourceReadError as exc:  # counts in the footer the engine's reader refuses
            _log.debug("%s: the engine's Parquet reader refused the file (%s); pyarrow reads it",
                       path, exc)
            native = None
        done = 0  # rows the engine's reader handed out before it refused the file
        if native is not None:
            try:
                for batch in native:
                    done += batch.num_rows
                    yield _conform(batch, projected, keys)
                return
            except SourceReadError as exc:
                # the file may still be one pyarrow reads (a feature or a writer quirk the
                # engine's reader does not handle): read the rows it did not hand out with pyarrow
                _log.debug("%s: the engine's Parquet reader stopped after %d rows (%s); pyarrow "
                           "reads the rest", path, done, exc)
        if done:
            first, count = row_range if row_range is not None else (
                0, sum(pf.metadata.row_group(g).num_rows for g in groups))
            row_range = (first + done, count - done)
        # pyarrow allocates the sizes a page header claims before it reads the page (2 GiB for
        # a 400-byte file, measured): the engine checks every page header of the chunks pyarrow
        # will read first. Without the engine's footer nothing can be checked: pyarrow's
        # unbuffered stream reads each column chunk whole, bounded by the file, instead.
        if footer is not None:
            _check_pages(f, footer, path, read, groups)
        if dictionary or footer is None:
            pf = pq.ParquetFile(f, pre_buffer=False,
                                buffer_size=_PARQUET_READ_BUFFER if footer is not None else 0,
                                read_dictionary=dictionary or None, metadata=pf.metadata)
        expected = row_range[1] if row_range is not None else sum(
            pf.metadata.row_group(g).num_rows for g in groups)
        batches = pf.iter_batches(batch_size=batch_size, row_groups=groups, columns=read,
                                  use_threads=use_threads)
        if row_range is not None:  # pyarrow decodes the whole row group: keep the range
            batches = _slice_rows(batches, *row_range)
        got = 0
        for batch in batches:
            got += batch.num_rows
            yield _conform(batch, projected, keys)
        if got != expected and read:
            # pyarrow's batch reader ends quietly on a row group whose columns hold fewer values
            # than it claims: never profile part of a file as if it were all of it
            raise SourceReadError(
                f"{path}: row groups {groups} claim {expected} rows, their columns "
                f"hold {got}"
            )


def _slice_rows(batches: Iterable[pa.RecordBatch], first: int, count: int) -> Iterator[pa.RecordBatch]:
    """Rows [first, first + count) of a stream of batches, as zero-copy slices."""
    pos = 0
    for batch in batches:
        lo, hi = max(first - pos, 0), min(first + count - pos, batch.num_rows)
        if lo < hi:
            yield batch.slice(lo, hi - lo)
        pos += batch.num_rows
        if pos >= first + count:
            return


# ---------------------------------------------------------------- the engine's Parquet reader

_NATIVE_PHYSICAL = {"BOOLEAN": 0, "INT32": 1, "INT64": 2, "FLOAT": 4, "DOUBLE": 5, "BYTE_ARRAY": 6}
# parquet.thrift's CompressionCodec UNCOMPRESSED, SNAPPY; Encoding PLAIN, PLAIN_DICTIONARY, RLE,
# RLE_DICTIONARY
_NATIVE_CODECS = frozenset({0, 1})
_NATIVE_ENCODINGS = frozenset({0, 2, 3, 8})
_TIME_UNITS = {"milliseconds": "ms", "microseconds": "us", "nanoseconds": "ns"}


def _native_fits(column: Any, t: pa.DataType) -> bool:
    """Does pyarrow read this Parquet leaf as ``t`` with no conversion (the same bytes)?"""
    physical = column.physical_type
    logical = json.loads(column.logical_type.to_json())
    kind = logical.get("Type", "None")
    unit = _TIME_UNITS.get(logical.get("timeUnit", ""))
    if physical == "BOOLEAN":
        return pa.types.is_boolean(t)
    if physical == "FLOAT":
        return pa.types.is_float32(t) and kind == "None"
    if physical == "DOUBLE":
        return pa.types.is_float64(t) and kind == "None"
    if physical == "INT32":
        if kind == "Date":
            return t == pa.date32()
        if kind == "Time":
            return pa.types.is_time32(t) and t.unit == unit
        if kind == "Int":
            return logical.get("bitWidth") == 32 and t == (pa.int32() if logical.get("isSigned") else pa.uint32())
        return kind == "None" and t == pa.int32()
    if physical == "INT64":
        if kind == "Timestamp":
            return pa.types.is_timestamp(t) and t.unit == unit
        if kind == "Time":
            return pa.types.is_time64(t) and t.unit == unit
        if kind == "Int":
            return logical.get("bitWidth") == 64 and t == (pa.int64() if logical.get("isSigned") else pa.uint64())
        return kind == "None" and (t == pa.int64() or pa.types.is_duration(t))
    if physical == "BYTE_ARRAY":
        if kind == "String":
            return pa.types.is_string(t) or pa.types.is_large_string(t)
        return kind == "None" and (pa.types.is_binary(t) or pa.types.is_large_binary(t))
    return False


@dataclass(frozen=True)
class NativeChunk:
    """One column chunk the engine's reader reads: its bytes in the file (``start``, ``length``),
    its value count, its codec (parquet.thrift's CompressionCodec) and its ``padding``: bytes at
    its end that may belong to the next chunk (PARQUET-816; see parquet/reader.hpp)."""

    start: int
    length: int
    num_values: int
    codec: int
    padding: int


@dataclass(frozen=True)
class NativeColumnPlan:
    """One column the engine's reader reads: its name, its physical type (the engine's
    ``PhysicalType``, see ``_NATIVE_PHYSICAL``), its maximum definition level (0 or 1) and its
    column chunks, one per row group read."""

    name: str
    physical_type: int
    max_definition: int
    chunks: tuple[NativeChunk, ...]

    def as_engine_tuple(self) -> tuple[str, int, int, list[tuple[int, int, int, int, int]]]:
        """The column as ``_core.ParquetReader`` takes it."""
        return (self.name, self.physical_type, self.max_definition,
                [(c.start, c.length, c.num_values, c.codec, c.padding) for c in self.chunks])


class _NativeBatch:
    """A batch of the engine's Parquet reader, for ``pa.record_batch`` (__arrow_c_array__)."""

    __slots__ = ("_schema", "_capsule")

    def __init__(self, schema: pa.Schema, capsule: Any) -> None:
        self._schema = schema
        self._capsule = capsule

    def __arrow_c_array__(self, requested_schema: Any = None) -> tuple[Any, Any]:
        return self._schema.__arrow_c_schema__(), self._capsule


def _engine_footer(f: pa.NativeFile, path: str) -> _core.ParquetFooter | None:
    """The footer of the open Parquet file ``f`` as the engine reads and checks it, or None when
    the engine refuses it (then pyarrow alone reads the file, and gives its own error).

    The plan is built from this and not from pyarrow's metadata objects: some of their getters
    throw C++ exceptions that Python cannot catch (a codec value out of range, level histograms
    that disagree with the schema), which aborts the process.
    """
    from truthound import _core

    try:
        size = f.size()
        last = f.read_at(8, size - 8) if size >= 12 else b""
        length = int.from_bytes(last[:4], "little") if len(last) == 8 else 0
        # the engine checks the length against the file; read no more than the file holds
        want = length + 8 if length + 12 <= size else len(last)
        tail = f.read_at(want, size - want) if want else b""
        return _core.parse_parquet_footer(tail, size)
    except (SourceReadError, pa.ArrowException, OSError) as exc:
        _log.debug("%s: the engine does not read this Parquet footer (%s); pyarrow reads the file",
                   path, exc)
        return None


def _check_pages(f: pa.NativeFile, footer: _core.ParquetFooter, path: str,
                 columns: Sequence[str], row_groups: Sequence[int]) -> None:
    """Raises SourceReadError naming ``path`` when a page of ``columns`` in ``row_groups`` claims
    a size its column chunk or its codec cannot hold (the engine walks the page headers)."""
    from truthound import _core

    leaves = [i for i, leaf in enumerate(footer.leaf_paths)
              if any(leaf == c or leaf.startswith(c + ".") for c in columns)]
    if leaves:
        _core.check_parquet_pages(footer, list(row_groups), leaves,
                                  lambda offset, size: f.read_at(size, offset), path)


def _native_plan(
    filesystem: pa_fs.FileSystem | None,
    pf: pq.ParquetFile,
    footer: _core.ParquetFooter | None,
    columns: Sequence[str],
    row_groups: Sequence[int],
) -> list[NativeColumnPlan] | None:
    """The engine reader's plan for ``columns`` of ``row_groups``, from the engine's checked
    ``footer``, or None when it cannot read them all (see :func:`_native_reader`)."""
    if os.environ.get("TRUTHOUND_PARQUET_READER", "").lower() == "pyarrow":
        return None
    if filesystem is not None and not isinstance(filesystem, pa_fs.LocalFileSystem):
        return None
    if not columns or footer is None:
        return None
    arrow_schema = pf.schema_arrow
    parquet_schema = pf.schema
    paths = [parquet_schema.column(i).path for i in range(len(parquet_schema))]
    if paths != footer.leaf_paths or any(not 0 <= g < len(footer.row_groups) for g in row_groups):
        return None
    leaf_index = {path: i for i, path in enumerate(paths)}
    # The footer's lists are copied out of the engine once: each access copies a whole list
    # (a 10,000-column file: seconds per worker task when indexed column by column).
    max_repetition, max_definition = footer.leaf_max_repetition, footer.leaf_max_definition
    group_chunks = {g: footer.row_groups[g].columns for g in row_groups}
    plan: list[NativeColumnPlan] = []
    for name in columns:
        i = leaf_index.get(name)
        if i is None:
            return None
        leaf = parquet_schema.column(i)
        t = arrow_schema.field(name).type
        if (max_repetition[i] != 0 or max_definition[i] > 1
                or leaf.max_repetition_level != 0 or leaf.max_definition_level > 1
                or leaf.physical_type not in _NATIVE_PHYSICAL or not _native_fits(leaf, t)):
            return None
        physical = _NATIVE_PHYSICAL[leaf.physical_type]
        chunks: list[NativeChunk] = []
        for g in row_groups:
            chunk = group_chunks[g][i]
            if (chunk.external or chunk.physical_type != physical or chunk.codec not in _NATIVE_CODECS
                    or not _NATIVE_ENCODINGS.issuperset(chunk.encodings)):
                return None
            chunks.append(NativeChunk(chunk.start, chunk.length, chunk.num_values, chunk.codec,
                                      chunk.padding))
        plan.append(NativeColumnPlan(name, physical, max_definition[i], tuple(chunks)))
    return plan


def native_parquet_readable(path: str, columns: Sequence[str] | None) -> bool:
    """Can the engine's own reader read ``columns`` (default all) of this local Parquet file?
    Then a row group can be split into row ranges (see :func:`parquet_file_batches`)."""
    try:
        with pa_fs.LocalFileSystem().open_input_file(path) as f:
            pf = pq.ParquetFile(f)
            names = list(columns) if columns else pf.schema_arrow.names
            footer = _engine_footer(f, path)
            return _native_plan(None, pf, footer, names, range(pf.num_row_groups)) is not None
    except (pa.ArrowException, OSError, ValueError):
        return False


def _native_reader(
    path: str,
    filesystem: pa_fs.FileSystem | None,
    pf: pq.ParquetFile,
    footer: _core.ParquetFooter | None,
    columns: Sequence[str],
    row_groups: Sequence[int],
    dictionary: Sequence[str],
    batch_size: int,
    row_ranges: Sequence[tuple[int, int]] = (),
) -> Iterator[pa.RecordBatch] | None:
    """The batches of ``columns`` of ``row_groups`` (with ``row_ranges``: rows [first, first +
    count) of each) read by the engine's own Parquet reader, or None when it cannot read them
    all (then pyarrow does). It reads local files of flat columns whose pages are plain or
    dictionary-encoded, uncompressed or snappy, as the Arrow types pyarrow would give with no
    conversion (see cpp/include/truthound/parquet/reader.hpp).
    ``TRUTHOUND_PARQUET_READER=pyarrow`` turns it off."""
    plan = _native_plan(filesystem, pf, footer, columns, row_groups)
    if plan is None or footer is None:
        return None
    from truthound import _core

    arrow_schema = pf.schema_arrow
    schema = pa.schema([
        pa.field(n, pa.dictionary(pa.int32(), t) if n in dictionary else t)
        for n, t in ((n, arrow_schema.field(n).type) for n in columns)
    ])
    rows = [footer.row_groups[g].num_rows for g in row_groups]
    local = filesystem.normalize_path(path) if filesystem is not None else path
    reader = _core.ParquetReader(os.fspath(local), schema,
                                 [column.as_engine_tuple() for column in plan], rows, batch_size,
                                 list(row_ranges))

    def batches() -> Iterator[pa.RecordBatch]:
        while (capsule := reader.next()) is not None:
            yield pa.record_batch(_NativeBatch(schema, capsule))

    return batches()


def _small_dictionary_columns(
    pf: pq.ParquetFile,
    footer: _core.ParquetFooter | None,
    columns: Sequence[str],
    row_groups: Sequence[int],
) -> list[str]:
    """String columns to read dictionary-encoded: in every row group read, the column chunk
    starts with a dictionary page of at most _SMALL_DICTIONARY_PAGE bytes and its data pages hold
    at most _DICTIONARY_INDEX_BYTES per value.

    The engine then hashes, measures and pattern-matches each dictionary entry once instead of
    every row, and pyarrow skips building the strings. The size per value tells dictionary indices
    from plain strings: a writer falls back to plain pages when the dictionary outgrows its limit
    (1 MiB by default), and pyarrow would have to dictionary-encode those again, slowly.
    """
    if footer is None or any(not 0 <= g < len(footer.row_groups) for g in row_groups):
        return []  # pyarrow reads the file as it is
    arrow_schema = pf.schema_arrow
    leaf_index = {path: i for i, path in enumerate(footer.leaf_paths)}
    wanted = []
    for name in columns:
        t = arrow_schema.field(name).type
        if name in leaf_index and (pa.types.is_string(t) or pa.types.is_large_string(t)
                                   or pa.types.is_binary(t) or pa.types.is_large_binary(t)):
            wanted.append(name)
    chosen = []
    group_chunks = {g: footer.row_groups[g].columns for g in row_groups} if wanted else {}
    for name in wanted:
        i = leaf_index[name]
        for g in row_groups:
            chunk = group_chunks[g][i]
            if chunk.dictionary_page_offset < 0:
                break
            page = chunk.data_page_offset - chunk.dictionary_page_offset
            data = chunk.total_compressed_size - page
            if not 0 < page <= _SMALL_DICTIONARY_PAGE:
                break
            if data > _DICTIONARY_INDEX_BYTES * max(chunk.num_values, 1):
                break
        else:
            chosen.append(name)
    return chosen
