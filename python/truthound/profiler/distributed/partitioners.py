"""Partitions and partitioners.

A :class:`Partition` is a *description* that any worker (a thread, a process, a Spark/Dask/Ray
task) can turn into Arrow record batches: a list of pieces (a Parquet file's row groups, a byte
range of a CSV file, a whole file, or a row slice of an in-memory table), the columns to profile,
and for hash partitions the bucket of rows it keeps. Partitions are plain picklable objects.

A source is first *planned* (:func:`plan_source`): its schema, description and its finest row
units. Partitioners then group the units (rows) and the columns:

- :class:`RowBasedPartitioner` splits the rows: in memory, slices whose sizes differ by at most
  one; files, whole row groups / CSV byte ranges / files, balanced by rows (bytes for text files);
- :class:`ColumnBasedPartitioner` splits the columns into contiguous groups of balanced estimated
  cost (strings cost more than integers); contiguous groups keep the profile's column order;
- :class:`HybridPartitioner` makes R x C partitions;
- :class:`HashPartitioner` sends each row to the partition of its key's hash (or the whole row's
  hash): each partition reads the source and keeps its bucket, which suits engines that shuffle.

Every partitioner covers every row and every column exactly once.
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs  # noqa: F401 - pa.fs.LocalFileSystem below

from truthound.errors import ConfigurationError, ColumnNotFoundError, SourceReadError
from truthound.profiler import sources as _sources
from truthound.profiler.sources import DEFAULT_BATCH_SIZE, open_source

if TYPE_CHECKING:
    import pyarrow.dataset as ds
else:
    ds = _sources.ds  # imported on first use

__all__ = [
    "FilePiece",
    "TablePiece",
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

# CSV files larger than this are split into byte ranges (when they hold no quote character).
CSV_MAX_RANGE_BYTES = 64 * 1024 * 1024
CSV_MIN_RANGE_BYTES = 1 * 1024 * 1024


# --------------------------------------------------------------------------- pieces


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

    def describe(self) -> str:
        if self.row_range is not None and self.row_groups is not None:
            first, count = self.row_range
            return f"{self.path} (row group {self.row_groups[0]}, rows {first}-{first + count})"
        if self.row_groups is not None:
            return f"{self.path} (row groups {list(self.row_groups)})"
        if self.byte_range is not None:
            return f"{self.path} (bytes {self.byte_range[0]}-{self.byte_range[1]})"
        return self.path


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


# --------------------------------------------------------------------------- partitions


@dataclass
class Partition:
    """What one task profiles: pieces of rows, a column subset and, for hash partitions, a bucket.

    ``pieces`` is empty for a partition of a stream: the backend routes the stream's batches to it
    (batch ``k`` goes to row part ``k % row_parts``).
    """

    index: int
    pieces: tuple[Any, ...]
    columns: tuple[str, ...]
    schema: pa.Schema  # the source's full schema (files: the unified dataset schema)
    source: str
    batch_size: int = DEFAULT_BATCH_SIZE
    row_part: int = 0
    row_parts: int = 1
    column_group: int = 0
    column_groups: int = 1
    hash_bucket: int | None = None
    num_buckets: int = 1
    key_columns: tuple[str, ...] | None = None

    @property
    def num_rows(self) -> int | None:
        """The rows of the pieces when known (before hash bucketing), else None."""
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
        if self.hash_bucket is not None:
            need.update(self.key_columns or self.schema.names)
        return [n for n in self.schema.names if n in need]

    def describe(self) -> str:
        parts = ", ".join(p.describe() for p in self.pieces[:3])
        if len(self.pieces) > 3:
            parts += f", ... ({len(self.pieces)} pieces)"
        return f"partition {self.index} of {self.source}: {parts or 'stream'}"


# --------------------------------------------------------------------------- planning


@dataclass
class SourcePlan:
    """A source opened for partitioning: schema, columns, row units and description."""

    description: str
    schema: pa.Schema
    columns: tuple[str, ...]
    kind: str  # "files", "memory" or "stream"
    units: list[Any] = field(default_factory=list)
    total_rows: int | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    # stream kind: a factory of the source's batches (already projected to read columns)
    open_stream: Callable[[Sequence[str]], Iterator[pa.RecordBatch]] | None = None

    @property
    def projected_schema(self) -> pa.Schema:
        return pa.schema([self.schema.field(c) for c in self.columns])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _file_dataset(
    source: Any, fmt: str | None, encoding: str | None
) -> tuple[ds.Dataset | _sources.ParquetFileSource, str] | None:
    """The pyarrow dataset (and format name) profile() builds for a path/glob/dir/URI (or a
    list of local ones); ``encoding`` as :func:`truthound.profiler.sources.text_encoding` gives."""
    paths = _sources.path_sources(source)
    assert paths is not None
    return _sources.file_dataset(paths, fmt, None, encoding)


# A row group is not split into row ranges of fewer rows than this.
PARQUET_MIN_RANGE_ROWS = 65_536


def _row_group_units(
    pfs: _sources.ParquetFileSource, fmt: str, min_units: int, columns: tuple[str, ...]
) -> list[FilePiece]:
    """One unit per row group of a local Parquet file; when there are fewer row groups than
    ``min_units`` and the engine's own reader reads the file, row groups are split into row
    ranges (a worker skips the pages before its range by their headers)."""
    groups = [(i, rows) for i, rows in enumerate(pfs.row_group_rows) if rows]
    parts = 1
    if 0 < len(groups) < min_units and _sources.native_parquet_readable(pfs.path, columns):
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
    dataset: ds.FileSystemDataset | _sources.ParquetFileSource, fmt: str, min_units: int = 1,
    columns: tuple[str, ...] = (),
) -> list[FilePiece]:
    if isinstance(dataset, _sources.ParquetFileSource):  # one local file: no filesystem object
        return _row_group_units(dataset, fmt, min_units, columns)
    units: list[FilePiece] = []
    for frag in dataset.get_fragments():
        try:
            frag.ensure_complete_metadata()
            groups = [(rg.id, rg.num_rows) for rg in frag.row_groups]
        except (pa.ArrowException, OSError) as exc:
            raise SourceReadError(f"{frag.path}: {_one_line(exc)}") from exc
        for rg_id, rows in groups:
            if rows:
                units.append(
                    FilePiece(
                        frag.path, fmt, dataset.filesystem, frag.partition_expression,
                        row_groups=(rg_id,), num_rows=rows, weight=rows,
                    )
                )
    return units


_SCAN_BYTES = 1 << 24  # read size when scanning a CSV file for quotes
_MAX_RECORD_BYTES = 1 << 24  # a quoted CSV record longer than this: the file is not split


def _csv_ranges(path: str, fs: Any, range_bytes: int) -> list[tuple[int, int]] | None:
    """Byte ranges of a plain local CSV file after its header, or None to read it whole.

    A worker reads the lines whose first byte falls in its range. In a file with quoted fields a
    newline inside quotes does not end a record, so each range then starts at a record start: a
    newline preceded by an even number of '"' bytes (RFC 4180 escapes a quote by doubling it,
    which keeps the parity). The file is scanned with reads of 16 MiB, not mapped: a mapping
    would count the whole file in the process's resident memory."""
    if not isinstance(fs, pa.fs.LocalFileSystem) or _sources._split_compression(path) != path.lower():
        return None
    try:
        size = os.path.getsize(path)
        if size <= range_bytes:
            return None
        fd = os.open(path, os.O_RDONLY)
        try:
            head = os.pread(fd, min(size, 1 << 20), 0)
            header_end = head.find(b"\n")
            if header_end < 0 or head[:header_end].count(b'"') % 2:
                return None
            start = header_end + 1
            if _has_quote(fd, start, size):
                return _quoted_csv_ranges(fd, start, size, range_bytes)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SourceReadError(f"{path}: {_one_line(exc)}") from exc
    ranges = []
    while start < size:
        end = min(size, start + range_bytes)
        ranges.append((start, end))
        start = end
    return ranges


def _has_quote(fd: int, start: int, size: int) -> bool:
    pos = start
    while pos < size:
        chunk = os.pread(fd, min(_SCAN_BYTES, size - pos), pos)
        if not chunk:
            return False
        if b'"' in chunk:
            return True
        pos += len(chunk)
    return False


def _quoted_csv_ranges(
    fd: int, start: int, size: int, range_bytes: int
) -> list[tuple[int, int]] | None:
    """Ranges of about ``range_bytes`` from ``start`` (a record start) that each begin at a record
    start, by the parity of the '"' bytes before each candidate newline."""
    from concurrent.futures import ThreadPoolExecutor

    def quotes(lo: int, hi: int) -> int:
        n, pos = 0, lo
        while pos < hi:  # os.pread and pyarrow's kernels release the GIL: blocks count in parallel
            chunk = os.pread(fd, min(_SCAN_BYTES, hi - pos), pos)
            if not chunk:
                break
            chars = pa.Array.from_buffers(pa.uint8(), len(chunk), [None, pa.py_buffer(chunk)])
            n += pc.sum(pc.equal(chars, 34)).as_py() or 0
            pos += len(chunk)
        return n

    def record_end(p: int, parity: int) -> int:
        """The first record start after a newline at or after ``p``, where ``parity`` is that
        of the quotes in [start, p); -1 if the file ends first, -2 if none comes within
        _MAX_RECORD_BYTES (unbalanced quotes, or records that long: the file is read whole)."""
        limit = min(size, p + _MAX_RECORD_BYTES)
        while p < limit:
            chunk = os.pread(fd, min(1 << 16, size - p), p)
            if not chunk:
                return -1
            i = 0
            while (nl := chunk.find(b"\n", i)) >= 0:
                parity ^= chunk.count(b'"', i, nl + 1) & 1
                if parity == 0:
                    return p + nl + 1
                i = nl + 1
            parity ^= chunk.count(b'"', i) & 1
            p += len(chunk)
        return -1 if p >= size else -2

    bounds = list(range(start, size, range_bytes)) + [size]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = list(pool.map(quotes, bounds[:-1], bounds[1:]))
    ranges: list[tuple[int, int]] = []
    lo, parity = start, 0  # parity of the quotes in [start, bound): positional, whatever the cuts
    for bound, count in zip(bounds[1:-1], counts):
        parity ^= count & 1
        cut = record_end(bound, parity)
        if cut == -2:
            return None
        if cut < 0 or cut >= size:
            break
        if cut > lo:
            ranges.append((lo, cut))
            lo = cut
    ranges.append((lo, size))
    return ranges


def _splits_at_newlines(encoding: str | None) -> bool:
    """Can a file in ``encoding`` be cut at its newline bytes (ASCII-compatible encodings)?"""
    return encoding is None or "\n\",".encode(encoding, errors="replace") == b'\n",'


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
    range_bytes = min(CSV_MAX_RANGE_BYTES, max(CSV_MIN_RANGE_BYTES, sum(sizes) // max(1, min_units)))
    units: list[FilePiece] = []
    for frag, size in zip(frags, sizes):
        expr = frag.partition_expression
        ranges = None
        if (fmt in ("csv", "tsv") and min_units > 1 and expr.equals(ds.scalar(True))
                and _splits_at_newlines(encoding)):
            ranges = _csv_ranges(frag.path, dataset.filesystem, range_bytes)
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


def plan_source(
    data: Any,
    *,
    columns: Iterable[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    format: str | None = None,
    min_units: int = 1,
    encoding: str | None = None,
) -> SourcePlan:
    """Open ``data`` (anything :func:`truthound.profiler.profile` accepts) for partitioning.

    ``min_units`` asks for at least that many row units where the source can be split that
    finely (CSV byte ranges; with 1, a CSV file is not split); Parquet splits at row groups (and
    a local file with fewer row groups than ``min_units`` into row ranges of them), other files
    per file.
    """
    if isinstance(data, SourcePlan):
        return data
    # open_source validates everything exactly as profile() does (columns, formats, errors).
    src = open_source(data, columns=columns, batch_size=batch_size, format=format,
                      encoding=encoding)
    cols = tuple(src.schema.names)
    if _sources.path_sources(data) is not None or _sources.is_dataset(data, "FileSystemDataset"):
        opened: tuple[ds.Dataset | _sources.ParquetFileSource, str] | None
        if _sources.is_dataset(data, "FileSystemDataset"):
            opened = (data, _format_name(data.format))
        else:
            paths = _sources.path_sources(data)
            assert paths is not None
            encoding = _sources.text_encoding(paths, format, encoding)[0]
            opened = _file_dataset(data, format, encoding)
        if opened is not None:
            dataset, fmt = opened
            if isinstance(dataset, _sources.ParquetFileSource) or fmt == "parquet":
                units = _parquet_units(dataset, fmt, min_units, cols)
            else:
                units = _text_units(dataset, fmt, min_units, encoding)
            return SourcePlan(
                src.description, dataset.schema, cols, "files", units, src.total_rows, batch_size
            )
    if src.total_rows is not None and not _is_lazy(data):
        table = pa.Table.from_batches(list(src.batches()), schema=src.schema)
        return SourcePlan(
            src.description, table.schema, cols, "memory",
            [TablePiece(table, 0, table.num_rows)], table.num_rows, batch_size,
        )
    # A stream (one-shot reader, lazy frame, other Arrow stream): the backend reads it once and
    # routes its batches to the partitions.
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
                return first.pop().batches()
            first.clear()
            return open_source(
                data, columns=list(read_columns), batch_size=batch_size, format=format
            ).batches()

    return SourcePlan(src.description, schema, cols, "stream", [], None, batch_size, open_stream)


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


# --------------------------------------------------------------------------- splitting helpers


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"option {name!r} must be a positive integer, got {value!r}")
    return value


def _split_rows(plan: SourcePlan, n: int) -> list[tuple[Any, ...]]:
    """The plan's rows as at most ``n`` groups of pieces (n for in-memory data and streams)."""
    if plan.kind == "stream":
        return [() for _ in range(n)]
    if plan.kind == "memory":
        (piece,) = plan.units
        total = piece.weight
        base, extra = divmod(total, n)
        out, offset = [], 0
        for i in range(n):
            length = base + (1 if i < extra else 0)
            out.append((TablePiece(piece.table, offset, length),))
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
    runs = _contiguous_groups(weights, n)
    if max(sum(weights[i] for i in r) for r in runs) <= max(loads) * _CONTIGUOUS_SLACK:
        groups = runs
    return [_coalesce([units[i] for i in sorted(g)]) for g in groups if g]


# Consecutive units are preferred while their largest group is at most this much heavier than
# the longest-processing-time grouping's.
_CONTIGUOUS_SLACK = 1.05


def _contiguous_groups(weights: list[int], n: int) -> list[list[int]]:
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


def _coalesce(pieces: list[Any]) -> tuple[Any, ...]:
    """Consecutive whole row groups of the same file as one piece, and adjacent row ranges of
    one row group as one range: one reader reads them all (its buffers are reused from one row
    group to the next, the file is opened once)."""
    out: list[Any] = []
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


def _balanced_contiguous(costs: list[float], k: int) -> list[tuple[int, int]]:
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


def _column_groups(plan: SourcePlan, k: int) -> list[tuple[str, ...]]:
    cols = list(plan.columns)
    costs = [column_cost(plan.schema.field(c).type) for c in cols]
    return [tuple(cols[a:b]) for a, b in _balanced_contiguous(costs, k)]


class Partitioner:
    """Base of the partitioners: ``partition(data) -> list[Partition]``."""

    def partition(self, data: Any, **options: Any) -> list[Partition]:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def _make(
        plan: SourcePlan,
        row_groups: list[tuple[Any, ...]],
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
        self.num_partitions = _check_count("num_partitions", num_partitions)
        self.min_units = self.num_partitions if min_units is None else _check_count("min_units", min_units)

    def partition(self, data: Any, **options: Any) -> list[Partition]:
        plan = plan_source(data, min_units=max(self.min_units, self.num_partitions), **options)
        return self._make(plan, _split_rows(plan, self.num_partitions), [plan.columns])


class ColumnBasedPartitioner(Partitioner):
    """Contiguous column groups (one per worker) of balanced estimated cost, all rows each."""

    def __init__(self, num_partitions: int | None = None) -> None:
        self.num_partitions = None if num_partitions is None else _check_count("num_partitions", num_partitions)

    def partition(self, data: Any, num_workers: int | None = None, **options: Any) -> list[Partition]:
        k = num_workers if num_workers is not None else (self.num_partitions or 1)
        _check_count("num_workers", k)
        plan = plan_source(data, **options)
        return self._make(plan, _split_rows(plan, 1), _column_groups(plan, k))


class HybridPartitioner(Partitioner):
    """``row_partitions`` x ``column_partitions`` partitions (fewer if the data is smaller)."""

    def __init__(self, row_partitions: int = 2, column_partitions: int = 2) -> None:
        self.row_partitions = _check_count("row_partitions", row_partitions)
        self.column_partitions = _check_count("column_partitions", column_partitions)

    def partition(self, data: Any, **options: Any) -> list[Partition]:
        plan = plan_source(data, min_units=self.row_partitions, **options)
        return self._make(
            plan, _split_rows(plan, self.row_partitions), _column_groups(plan, self.column_partitions)
        )


class HashPartitioner(Partitioner):
    """Rows go to the partition of their key columns' hash (the whole row's without keys)."""

    def __init__(self, num_partitions: int = 4, key_columns: Sequence[str] | None = None) -> None:
        self.num_partitions = _check_count("num_partitions", num_partitions)
        if isinstance(key_columns, str):
            key_columns = [key_columns]
        self.key_columns = tuple(key_columns) if key_columns is not None else None
        if self.key_columns is not None and not self.key_columns:
            raise ConfigurationError("option 'key_columns' must name at least one column")

    def partition(self, data: Any, **options: Any) -> list[Partition]:
        plan = plan_source(data, **options)
        keys = self.key_columns
        if keys is not None:
            missing = [k for k in keys if k not in plan.schema.names]
            if missing:
                raise ColumnNotFoundError(
                    f"key column(s) {', '.join(map(repr, missing))} not found in "
                    f"{plan.description!r}; available columns: {', '.join(plan.schema.names)}"
                )
        else:
            keys = plan.columns
        (pieces,) = _split_rows(plan, 1) if plan.kind != "stream" else [()]
        return [
            Partition(
                index=i, pieces=pieces, columns=plan.columns, schema=plan.schema,
                source=plan.description, batch_size=plan.batch_size,
                hash_bucket=i, num_buckets=self.num_partitions, key_columns=tuple(keys),
            )
            for i in range(self.num_partitions)
        ]


# --------------------------------------------------------------------------- row hashing


_NULL_HASH = 0x9E3779B97F4A7C15
_MULT = 0x100000001B3


def row_buckets(batch: pa.RecordBatch, key_columns: Sequence[str], num_buckets: int) -> pa.Array:
    """The bucket (0..num_buckets-1) of each row of ``batch`` (an int64 array): a stable hash of
    its key values.

    Stable across processes and machines (CRC32 of each distinct value's text, combined per row
    with wrapping uint64 arithmetic). pyarrow kernels only: numpy is not a dependency.
    """
    mult = pa.scalar(_MULT, pa.uint64())
    h: pa.Array = pa.nulls(batch.num_rows, pa.uint64()).fill_null(0)
    for name in key_columns:
        col = batch.column(name)
        try:
            enc = col.dictionary_encode() if not pa.types.is_dictionary(col.type) else col
            values, indices = enc.dictionary.to_pylist(), enc.indices
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, TypeError):
            values = col.to_pylist()
            indices = pa.array(range(len(values)), pa.int64())
        codes = pa.array([zlib.crc32(repr(v).encode()) for v in values] + [_NULL_HASH], pa.uint64())
        row_codes = codes.take(indices.fill_null(len(values)))
        h = pc.bit_wise_xor(pc.multiply(h, mult), row_codes)  # multiply wraps, as uint64 does
    n = pa.scalar(num_buckets, pa.uint64())
    return pc.subtract(h, pc.multiply(pc.divide(h, n), n)).cast(pa.int64())  # h % n


def replace_batch_size(partitions: list[Partition], batch_size: int) -> list[Partition]:
    return [replace(p, batch_size=batch_size) for p in partitions]

