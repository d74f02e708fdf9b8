"""The per-partition work every backend runs: read a partition's batches, feed the engine.

:func:`run_partition` is the one function every executor (threads, processes, Spark, Dask, Ray)
runs for a task: it turns a :class:`~truthound.profiler.distributed.partitioners.Partition` into
the engine's partial profiles, one per hash bucket (one for other strategies), which
:meth:`PartitionOutput.payloads` serializes for shipping. Nothing here computes a statistic; the
engine does (the bucket of a row too: the engine's row hash).
"""

from __future__ import annotations

import ctypes
import functools
import json
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from truthound import _core
from truthound.errors import ConfigurationError, SourceReadError, TruthoundError, one_line
from truthound.profiler.sources import open_source
from truthound.profiler.sources.base import _CSV_CONVERSION, CsvTypeConflict, _conform, empty_batch, rechunk
from truthound.profiler.sources.datasets import fragment_batches
from truthound.profiler.sources.encodings import _not_utf8_message
from truthound.profiler.sources.files import _file_format
from truthound.profiler.sources.native_parquet import parquet_file_batches
from truthound.profiler.distributed.csv_ranges import csv_range_bytes
from truthound.profiler.distributed.hashing import row_buckets
from truthound.profiler.distributed.pieces import (
    BatchPiece,
    ExternalPiece,
    FilePiece,
    LazyPiece,
    Partition,
    TablePiece,
)

__all__ = [
    "profile_partition",
    "run_partition",
    "partition_steps",
    "PartitionOutput",
    "partition_batches",
    "new_state",
    "shipped_bytes",
]


def new_state(engine_options: dict[str, Any] | str | None) -> _core.PartialProfile:
    """A fresh engine partial profile with these options (a dict or its JSON)."""
    if engine_options is None:
        engine_options = {}
    text = engine_options if isinstance(engine_options, str) else json.dumps(engine_options)
    return _core.PartialProfile(text)


# --------------------------------------------------------------------------- reading pieces


def _csv_range_batches(
    piece: FilePiece, schema: pa.Schema, columns: list[str], batch_size: int
) -> Iterator[pa.RecordBatch]:
    start, end = piece.byte_range  # type: ignore[misc]
    fs = piece.filesystem
    with fs.open_input_file(piece.path) as f:
        data = csv_range_bytes(f, start, end, f.size())
    if not data:
        return
    # The file's own columns, typed as the dataset (profile() of the whole) reads them; columns
    # other files of the source hold are null here.
    names = list(piece.file_columns) if piece.file_columns is not None else list(schema.names)
    present = set(names)
    # one worker is one core: decode on this thread (see _file_batches)
    read = pa_csv.ReadOptions(column_names=names, block_size=1 << 22, use_threads=False,
                              encoding=piece.encoding or "utf8")
    parse = pa_csv.ParseOptions(delimiter="\t" if piece.format == "tsv" else ",")
    convert = pa_csv.ConvertOptions(
        column_types={f.name: f.type for f in schema if f.name in present},
        strings_can_be_null=True,
        # (an empty list would mean every column)
        include_columns=[c for c in columns if c in present] or names[:1],
    )
    projected = pa.schema([schema.field(c) for c in columns])
    reader = pa_csv.open_csv(pa.py_buffer(data), read_options=read, parse_options=parse,
                             convert_options=convert)
    for batch in rechunk(reader, batch_size):
        if batch.num_rows:
            yield _conform(batch, projected, {})


def _file_batches(
    piece: FilePiece, schema: pa.Schema, columns: list[str], batch_size: int
) -> Iterator[pa.RecordBatch]:
    try:
        if piece.byte_range is not None:
            yield from _csv_range_batches(piece, schema, columns, batch_size)
            return
        if piece.format == "parquet" and piece.filesystem is None and piece.partition_expression is None:
            # one local file, read without pyarrow.dataset
            for batch in parquet_file_batches(
                piece.path, None, schema, columns, batch_size, use_threads=False,
                row_groups=piece.row_groups, row_range=piece.row_range,
            ):
                if batch.num_rows:
                    yield batch
            return
        file_format = _file_format(piece.format, None, piece.encoding)
        kwargs: dict[str, Any] = {"filesystem": piece.filesystem}
        if piece.partition_expression is not None:
            kwargs["partition_expression"] = piece.partition_expression
        fragment = file_format.make_fragment(piece.path, **kwargs)
        # One worker is one core: the worker decodes on its own thread instead of pyarrow's pool,
        # so N workers use N cores (and a Spark/Dask/Ray task stays within its task slot).
        for batch in fragment_batches(
            fragment, schema, columns, batch_size, use_threads=False, row_groups=piece.row_groups,
            encoding=piece.encoding,
        ):
            if batch.num_rows:
                yield batch
    except TruthoundError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        if "invalid UTF8" in str(exc) and piece.encoding is None:
            raise SourceReadError(_not_utf8_message(piece.uri)) from exc
        message = f"{piece.uri}: {one_line(exc)}"
        column = _conflicting_csv_column(piece, exc)
        if column is not None:
            raise CsvTypeConflict(message, column) from exc
        raise SourceReadError(message) from exc


def _conflicting_csv_column(piece: FilePiece, exc: BaseException) -> str | None:
    """The column of a CSV file whose value does not fit the type inferred from the file's
    first block (the driver then plans again with that column read as text), or None."""
    match = _CSV_CONVERSION.search(str(exc))
    if match is None or piece.format not in ("csv", "tsv"):
        return None
    names = piece.file_columns
    if names is None:
        try:
            fragment = _file_format(piece.format, None, piece.encoding).make_fragment(
                piece.path, filesystem=piece.filesystem)
            names = tuple(fragment.physical_schema.names)
        except (pa.ArrowException, OSError, ValueError):
            return None
    index = int(match.group(1))
    return names[index] if index < len(names) else None


def partition_batches(partition: Partition) -> Iterator[pa.RecordBatch]:
    """The batches of a partition's pieces, with the columns it reads (its hash keys too)."""
    columns = partition.read_columns
    for piece in partition.pieces:
        if isinstance(piece, FilePiece):
            # Text files: the file's own columns (the hive partition columns come from the path).
            yield from _file_batches(piece, partition.schema, columns, partition.batch_size)
        elif isinstance(piece, TablePiece):
            table = piece.sliced().select(columns)
            yield from table.to_batches(max_chunksize=partition.batch_size)
        elif isinstance(piece, BatchPiece):
            for batch in piece.batches:
                yield batch.select(columns)
        elif isinstance(piece, LazyPiece):
            rows = piece.frame if piece.offset == 0 and piece.length is None else \
                piece.frame.slice(piece.offset, piece.length)
            yield from open_source(rows, columns=columns,
                                            batch_size=partition.batch_size).batches()
        elif isinstance(piece, ExternalPiece):
            raise ConfigurationError(
                f"{partition.describe()} is held by a distributed engine: only that engine's "
                "backend runs it"
            )
        else:  # pragma: no cover - partitions are built by the partitioners
            raise TypeError(f"unknown partition piece {type(piece).__name__}")


def _runs(mask: pa.BooleanArray) -> Iterator[tuple[int, int]]:
    """(start, length) of the runs of True in a boolean array."""
    rows = pc.indices_nonzero(mask)
    if len(rows) == 0:
        return
    # a run ends where the next true row is not the next row
    steps = pc.subtract(rows[1:], rows[:-1])
    ends = pc.indices_nonzero(pc.not_equal(steps, 1)).to_pylist() + [len(rows) - 1]
    first = 0
    for last in ends:
        start = rows[first].as_py()
        yield start, rows[last].as_py() - start + 1
        first = last + 1


def _kept(batch: pa.RecordBatch, mask: pa.BooleanArray) -> Iterator[pa.RecordBatch]:
    """The rows of ``batch`` where ``mask`` is true."""
    try:
        yield batch.filter(mask)
    except pa.ArrowNotImplementedError:
        # Types the filter kernel lacks (string_view in older pyarrow): zero-copy slices.
        for start, length in _runs(mask):
            yield batch.slice(start, length)


def _buckets(batch: pa.RecordBatch, partition: Partition) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(bucket, rows) of a batch: its rows split by the engine's hash of the partition's keys,
    with the partition's columns (one bucket: the batch as it is)."""
    columns = list(partition.columns)
    if partition.num_buckets == 1:
        yield 0, batch if batch.schema.names == columns else batch.select(columns)
        return
    buckets = row_buckets(batch, partition.hash_keys, partition.num_buckets)
    batch = batch.select(columns)
    for bucket in range(partition.num_buckets):
        for rows in _kept(batch, pc.equal(buckets, bucket)):
            yield bucket, rows


@dataclass
class PartitionOutput:
    """What a task makes of a partition: one engine partial per bucket of its rows (one unless
    hash partitioned), in bucket order, and the rows each profiled."""

    states: list[_core.PartialProfile]
    rows: list[int]

    @property
    def total_rows(self) -> int:
        return sum(self.rows)

    def payloads(self) -> tuple[bytes, ...]:
        """The partials as they ship to the driver (:func:`shipped_bytes`), in bucket order."""
        return tuple(shipped_bytes(state) for state in self.states)


def run_partition(
    partition: Partition,
    engine_options: dict[str, Any] | str | None,
    *,
    batches: Iterable[pa.RecordBatch] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> PartitionOutput:
    """Profile the partition's rows (or the given ``batches``): the one thing every executor
    runs for a task. ``on_rows`` is called after each batch with the rows read so far (every
    bucket's); see :func:`partition_steps`."""
    steps = partition_steps(partition, engine_options, batches=batches)
    while True:
        try:
            read = next(steps)
        except StopIteration as done:
            return done.value
        if on_rows is not None:
            on_rows(read)


def partition_steps(
    partition: Partition,
    engine_options: dict[str, Any] | str | None,
    *,
    batches: Iterable[pa.RecordBatch] | None = None,
) -> Generator[int, None, PartitionOutput]:
    """:func:`run_partition` one batch at a time: yields the rows read so far (every bucket's)
    after each batch and returns the output, so a caller can report progress between batches on
    its own thread.

    Each bucket's partial is given the partition's columns first, with no rows, so every column
    appears with its declared type (whatever encoding the batches use). A ``shipped`` partition
    returns its partials as they ship (:attr:`Partition.shipped`).
    """
    n = partition.num_buckets
    out = PartitionOutput([new_state(engine_options) for _ in range(n)], [0] * n)
    empty = empty_batch(partition.projected_schema)
    for state in out.states:
        state.consume_batch(empty)
    read = 0
    for whole in partition_batches(partition) if batches is None else batches:
        for bucket, batch in _buckets(whole, partition):
            if batch.num_rows:
                out.states[bucket].consume_batch(batch)  # the engine releases the GIL
                out.rows[bucket] += batch.num_rows
        read += whole.num_rows
        yield read
    if partition.shipped:
        out.states = [_core.PartialProfile.from_bytes(shipped_bytes(state)) for state in out.states]
        release_free_memory()
    return out


def release_free_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``; nothing
    elsewhere): a task's working state is freed in its worker thread's malloc arena, which
    otherwise keeps the pages for that thread alone, so the process's RSS stays at the sum of
    every thread's peak."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return cast(Callable[[int], int], trim)


def profile_partition(partition: Partition, engine_options: dict[str, Any] | str | None = None) -> bytes:
    """Profile one partition and return the engine's serialized partial profile (a hash
    partition's buckets merged in bucket order).

    Ship ``partition`` (picklable) and the engine options to a worker, run this, return the
    bytes, merge them with :class:`ProfileMerger`.
    """
    states = run_partition(partition, engine_options).states
    for state in states[1:]:
        states[0].merge(state)
    return shipped_bytes(states[0])


def shipped_bytes(state: _core.PartialProfile) -> bytes:
    """A worker's partial as it ships to the driver: compacted (columns past their exact
    top-value regime keep fewer counters, within every bound), then serialized."""
    state.compact()
    return bytes(state.to_bytes())
