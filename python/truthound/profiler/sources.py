"""Turn any supported source into a bounded-memory stream of pyarrow RecordBatches.

A source is opened into an :class:`ArrowSource`: its schema (after column projection), a short
description for the profile's ``source`` field, the total row count when it is cheap to know
(Parquet metadata, in-memory frames) and an iterator of record batches. Files are read with
``pyarrow.dataset`` one fragment (file) at a time, so memory stays bounded by the batch size and
pyarrow's read-ahead, and a read error names the file that caused it. A single local Parquet file
is read with ``pyarrow.parquet`` alone: importing ``pyarrow.dataset`` imports pandas (0.2 s) when
it is installed, so that module is loaded only when a source needs it.
"""

from __future__ import annotations

import codecs
import glob as _glob
import importlib
import io
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.fs as pa_fs
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from truthound.errors import (
    ColumnNotFoundError,
    ConfigurationError,
    SchemaError,
    SourceNotFoundError,
    SourceReadError,
    TruthoundError,
    UnsupportedTypeError,
)
from truthound.profiler import remote as _remote

_log = logging.getLogger("truthound")

__all__ = ["ArrowSource", "CsvTypeConflict", "empty_batch", "file_dataset", "open_source", "FILE_FORMATS",
           "DEFAULT_BATCH_SIZE", "describe_sources", "path_sources"]


class _LazyModule:
    """A module imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


if TYPE_CHECKING:
    import pyarrow.dataset as ds

    from truthound import _core
else:
    ds = _LazyModule("pyarrow.dataset")


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    """A batch of ``schema`` with no rows. (``RecordBatch.from_pylist`` would do, but it makes
    pyarrow import pandas, 0.2 s, to ask whether the list is a pandas object.)"""
    return pa.RecordBatch.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


def is_dataset(obj: Any, kind: str = "Dataset") -> bool:
    """Is ``obj`` a pyarrow.dataset ``kind`` (without importing pyarrow.dataset: when it is not
    loaded, nothing can be one)?"""
    module = sys.modules.get("pyarrow.dataset")
    return module is not None and isinstance(obj, getattr(module, kind))

DEFAULT_BATCH_SIZE = 131_072
# Parquet string columns whose dictionary pages are at most this size are read dictionary-encoded.
_SMALL_DICTIONARY_PAGE = 64 * 1024
_DICTIONARY_INDEX_BYTES = 3

# Compression suffixes that pyarrow detects from the file name and decompresses while reading.
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".lz4", ".br")

# Extension (lower case, without compression suffix) -> format name.
FILE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
    ".arrows": "ipc_stream",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
_FORMAT_NAMES = frozenset(FILE_FORMATS.values())

# Directory entries that are never data (Spark/Hadoop markers, checksums, hidden files).
_IGNORED_PREFIXES = (".", "_")


@dataclass
class ArrowSource:
    """An opened source: schema, description, cheap row count and a batch iterator."""

    description: str
    schema: pa.Schema
    total_rows: int | None
    _batches: Callable[[], Iterator[pa.RecordBatch]]

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the record batches of the source, each projected to :attr:`schema`."""
        return self._batches()


class CsvTypeConflict(SourceReadError):
    """A CSV column holds a value that does not fit the type pyarrow inferred from the first
    block (say ``x`` in a column of integers). Profiling again with the column read as text
    (``csv_column_types``) resolves it."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column

    def __reduce__(self) -> tuple[type[CsvTypeConflict], tuple[str, str]]:
        # (crosses from a worker process to the driver, which plans again)
        return (CsvTypeConflict, (str(self), self.column))


_CSV_CONVERSION = re.compile(r"In CSV column #(\d+): .*CSV conversion error")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _check_columns(available: Sequence[str], columns: Sequence[str] | None, where: str) -> None:
    if columns is None:
        return
    missing = [c for c in columns if c not in available]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        plural = "s" if len(missing) > 1 else ""
        raise ColumnNotFoundError(
            f"column{plural} {names} not found in {where}; available columns: "
            + ", ".join(available)
        )


def _validate_columns(columns: Iterable[str] | None) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, (str, bytes)):
        columns = [columns] if isinstance(columns, str) else [columns.decode()]
    cols = list(columns)
    if not cols:
        raise ConfigurationError("option 'columns' must name at least one column")
    for c in cols:
        if not isinstance(c, str) or not c:
            raise ConfigurationError(f"option 'columns' must be non-empty strings, got {c!r}")
    dups = sorted({c for c in cols if cols.count(c) > 1})
    if dups:
        raise ConfigurationError(f"option 'columns' names {', '.join(dups)} more than once")
    return cols


def rechunk(batches: Iterable[pa.RecordBatch], batch_size: int) -> Iterator[pa.RecordBatch]:
    """Split batches larger than batch_size into zero-copy slices (progress granularity)."""
    for batch in batches:
        n = batch.num_rows
        if n <= batch_size:
            yield batch
            continue
        for start in range(0, n, batch_size):
            yield batch.slice(start, min(batch_size, n - start))


def _project(batch: pa.RecordBatch, columns: list[str] | None) -> pa.RecordBatch:
    return batch if columns is None else batch.select(columns)


# --------------------------------------------------------------------------- files


def _split_compression(name: str) -> str:
    lower = name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        if lower.endswith(suffix):
            return lower[: -len(suffix)]
    return lower


def format_of(path: str) -> str | None:
    """The file format of a path from its extension (case-insensitive), or None."""
    return FILE_FORMATS.get(os.path.splitext(_split_compression(os.path.basename(path)))[1])


def _file_format(
    fmt: str, column_types: dict[str, pa.DataType] | None = None, encoding: str | None = None
) -> ds.FileFormat:
    # Empty fields (and pyarrow's usual null spellings) are nulls in every column, strings
    # included, as in pandas and polars.
    convert = pa_csv.ConvertOptions(strings_can_be_null=True, column_types=column_types or {})
    read = pa_csv.ReadOptions(encoding=encoding or "utf8")
    if fmt == "csv":
        return ds.CsvFileFormat(convert_options=convert, read_options=read)
    if fmt == "tsv":
        return ds.CsvFileFormat(
            parse_options=pa_csv.ParseOptions(delimiter="\t"), convert_options=convert,
            read_options=read,
        )
    if fmt == "parquet":
        return ds.ParquetFileFormat()
    if fmt == "ipc":
        return ds.IpcFileFormat()
    if fmt == "json":
        return ds.JsonFileFormat()
    raise ConfigurationError(
        f"option 'format' must be one of {', '.join(sorted(_FORMAT_NAMES))}, got {fmt!r}"
    )


def _is_data_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(_IGNORED_PREFIXES)


def _glob_base(pattern: str) -> str:
    """The directory part of a glob before its first wildcard (the hive partition base)."""
    parts = Path(pattern).parts
    base: list[str] = []
    for part in parts:
        if _glob.has_magic(part):
            break
        base.append(part)
    return str(Path(*base)) if base else "."


def _resolve_files(source: str) -> tuple[list[str], str | None, str]:
    """(files, partition base directory, description) of a path, glob or directory."""
    path = Path(source).expanduser()
    if _glob.has_magic(source):
        files = sorted(
            p for p in _glob.glob(str(path), recursive=True) if _is_data_file(Path(p))
        )
        if not files:
            raise SourceNotFoundError(f"{source}: no file matches")
        return files, _glob_base(str(path)), source
    if path.is_dir():
        files = sorted(
            str(p)
            for p in path.rglob("*")
            if _is_data_file(p)
            and not any(part.startswith(_IGNORED_PREFIXES) for part in p.relative_to(path).parts)
        )
        if not files:
            raise SourceNotFoundError(f"{source}: a directory that holds no data file")
        return files, str(path), source
    if path.is_file():
        return [str(path)], None, source
    if path.exists():
        raise SourceReadError(f"{source}: neither a file nor a directory")
    raise SourceNotFoundError(f"{source}: no such file or directory")


# --------------------------------------------------------------------------- text encodings

_TEXT_FORMATS = ("csv", "tsv", "json")
# Byte-order marks that tell an encoding for sure (UTF-32 first: its LE mark starts like UTF-16's).
# A UTF-8 mark needs nothing: pyarrow skips it.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def encoding_name(encoding: str | None) -> str | None:
    """The codec name of the ``encoding`` option, None for UTF-8 (pyarrow's own); an unknown
    name raises ConfigurationError."""
    if encoding is None:
        return None
    if not isinstance(encoding, str) or not encoding:
        raise ConfigurationError(f"option 'encoding' must be a codec name, got {encoding!r}")
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise ConfigurationError(
            f"option 'encoding' names no known text encoding: {encoding!r} (try latin-1, cp1252, "
            "utf-16)"
        ) from exc
    return None if name in ("utf-8", "utf-8-sig") else name


def _byte_order_mark(path: str, filesystem: pa_fs.FileSystem | None = None) -> str | None:
    fs = filesystem if filesystem is not None else pa_fs.LocalFileSystem()
    try:
        with fs.open_input_stream(path, compression="detect") as f:
            head = f.read(4)
    except (pa.ArrowException, OSError):
        return None  # the reader names the file when it fails
    for mark, name in _BOMS:
        if head.startswith(mark):
            return name
    return None


def _not_utf8_message(path: str, column: str | None = None) -> str:
    where = f" (column {column!r})" if column else ""
    return (f"{path}: not valid UTF-8 text{where}; pass its encoding: encoding='latin-1' "
            "(th profile --encoding latin-1), or cp1252, utf-16, ...")


def text_encoding(
    paths: Sequence[str], fmt: str | None, encoding: str | None
) -> tuple[str | None, str]:
    """The encoding to read the text files of ``paths`` with (None: UTF-8) and a note for the
    profile's source: when no encoding is given and every file starts with the same UTF-16 or
    UTF-32 byte-order mark, that encoding, reported as detected. Other files that are not UTF-8
    fail while they are read, with an error that says to pass the encoding."""
    name = encoding_name(encoding)
    local = [p for p in paths if "://" not in p or p.startswith("file://")]
    if len(local) != len(paths):
        if encoding is not None and fmt is not None and fmt not in _TEXT_FORMATS:
            raise ConfigurationError("option 'encoding' applies to CSV, TSV and JSON files")
        return name, ""
    files = _resolve_many(paths)
    chosen, files = _choose_format(files, describe_sources(paths), fmt)
    if chosen not in _TEXT_FORMATS:
        if encoding is not None:
            raise ConfigurationError(
                f"option 'encoding' applies to CSV, TSV and JSON files, not {chosen}")
        return None, ""
    if encoding is not None:
        return name, ""
    marks = {f: _byte_order_mark(f) for f in files}
    found = set(marks.values())
    if found == {None}:
        return None, ""
    if len(found) > 1:
        marked = next(f for f, m in marks.items() if m is not None)
        plain = next(f for f, m in marks.items() if m != marks[marked])
        raise SourceReadError(
            f"{marked}: starts with a {marks[marked]} byte-order mark but {plain} does not; "
            "pass the encoding (encoding=, th profile --encoding) or profile them apart"
        )
    (detected,) = found
    assert detected is not None
    return detected, f" (encoding {detected}, detected from the byte-order mark)"


class _Utf8Checked(io.RawIOBase):
    """A binary stream that passes bytes through and fails when they are not UTF-8 (pyarrow's JSON
    reader would put U+FFFD in place of each bad byte, silently)."""

    def __init__(self, raw: Any, path: str) -> None:
        super().__init__()
        self._raw = raw
        self._path = path
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(size if size is not None and size >= 0 else -1)
        try:
            self._decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise SourceReadError(_not_utf8_message(self._path)) from None
        return bytes(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _text_stream(filesystem: pa_fs.FileSystem, path: str, encoding: str | None) -> Any:
    """A (decompressed) text file as UTF-8 bytes: transcoded from ``encoding``, or checked."""
    raw = filesystem.open_input_stream(path, compression="detect")
    if encoding is not None:
        return pa.transcoding_input_stream(raw, encoding, "utf-8")
    return _Utf8Checked(raw, path)


_JSON_BLOCK = 1 << 20


def _json_schema(filesystem: pa_fs.FileSystem, path: str, encoding: str | None) -> pa.Schema:
    """A JSON-lines file's columns, inferred from its first block, as the reader will see them."""
    try:
        with _text_stream(filesystem, path, encoding) as f:
            return pa_json.open_json(f, read_options=pa_json.ReadOptions(block_size=_JSON_BLOCK)).schema
    except (pa.ArrowException, OSError, ValueError) as exc:
        if isinstance(exc, SourceReadError):
            raise
        raise SourceReadError(f"{path}: {_one_line(exc)}") from exc


def path_sources(source: Any) -> list[str] | None:
    """The paths of a file source: a path, glob or directory (str or os.PathLike), or a non-empty
    list or tuple of them (several sources profiled as one table, as ``th profile a.csv b.csv``
    gives); None for anything else."""
    if isinstance(source, (str, os.PathLike)):
        return [os.fsdecode(os.fspath(source))]
    if isinstance(source, (list, tuple)) and source and all(
        isinstance(s, (str, os.PathLike)) for s in source
    ):
        return [os.fsdecode(os.fspath(s)) for s in source]
    return None


def describe_sources(paths: Sequence[str]) -> str:
    """The profile's ``source`` text for one or several paths."""
    if len(paths) <= 3:
        return ", ".join(paths)
    return f"{paths[0]}, {paths[1]}, ... {paths[-1]} ({len(paths)} sources)"


def _resolve_many(paths: Sequence[str]) -> list[str]:
    """The files of several local paths, globs or directories, in the order given, each once."""
    files: dict[str, None] = {}
    for source in paths:
        if "://" in source and not source.startswith("file://"):
            raise SourceReadError(
                f"{source}: several sources are read from local paths only; profile a URI alone"
            )
        local = source[len("file://") :] if source.startswith("file://") else source
        for f in _resolve_files(local)[0]:
            files.setdefault(f, None)
    return list(files)


_E = TypeVar("_E", bound=TruthoundError)


def _braces(text: str) -> str:
    """``text`` for a template of :func:`_input_format_error` (a path may hold braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def _input_format_error(cls: type[_E], template: str, value: str | None = None) -> _E:
    """An error whose message names the input format option: ``{option}`` in ``template`` is
    ``format=`` (``format='csv'`` with a ``value``) for Python and ``--input-format`` (``--input-format
    csv``) in the message the CLI shows."""
    python = "format=" if value is None else f"format={value!r}"
    cli = "--input-format" if value is None else f"--input-format {value}"
    exc = cls(template.format(option=python))
    exc.cli_message = template.format(option=cli)
    return exc


def _choose_format(files: list[str], source: str, fmt: str | None) -> tuple[str, list[str]]:
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in _FORMAT_NAMES:
            raise ConfigurationError(
                f"option 'format' must be one of {', '.join(sorted(_FORMAT_NAMES))}, got {fmt!r}"
            )
        if len(files) == 1:
            return fmt, files
        return fmt, [f for f in files if format_of(f) in (fmt, None)] or files
    by_format: dict[str, list[str]] = {}
    unknown: list[str] = []
    for f in files:
        detected = format_of(f)
        if detected is None:
            unknown.append(f)
        else:
            by_format.setdefault(detected, []).append(f)
    if not by_format:
        raise _input_format_error(
            SourceReadError,
            f"{_braces(unknown[0])}: cannot tell the format from its extension; use one of "
            + ", ".join(sorted(FILE_FORMATS))
            + " (optionally compressed: .gz, .bz2, .zst, .lz4) or pass {option}",
        )
    if len(by_format) > 1:
        found = ", ".join(sorted(by_format))
        raise _input_format_error(
            SourceReadError,
            f"{_braces(source)}: mixes file formats ({found}); pass {{option}} to choose one",
        )
    ((detected, chosen),) = by_format.items()
    return detected, chosen


def _ipc_stream_source(
    path: str, columns: list[str] | None, batch_size: int
) -> ArrowSource:
    try:
        with pa.ipc.open_stream(path) as reader:
            schema = reader.schema
    except (pa.ArrowException, OSError) as exc:
        raise SourceReadError(f"{path}: {_one_line(exc)}") from exc
    _check_columns(schema.names, columns, repr(path))
    projected = pa.schema([schema.field(c) for c in columns]) if columns else schema

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            with pa.ipc.open_stream(path) as reader:
                for batch in rechunk(reader, batch_size):
                    yield _project(batch, columns)
        except (pa.ArrowException, OSError) as exc:
            raise SourceReadError(f"{path}: {_one_line(exc)}") from exc

    return ArrowSource(path, projected, None, batches)


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


def file_dataset(
    source: str | Sequence[str],
    fmt: str | None = None,
    csv_column_types: dict[str, pa.DataType] | None = None,
    encoding: str | None = None,
    storage_options: Mapping[str, object] | None = None,
) -> tuple[ds.Dataset | ParquetFileSource, str] | None:
    """The pyarrow dataset (and format name) that profile() reads for a path, glob, directory or
    URI (or a list of local ones), or None for an Arrow IPC stream file (read with pyarrow.ipc
    instead). A single local Parquet file is a :class:`ParquetFileSource` instead.

    Hive partitions become columns (of a single directory or glob); several files get one schema,
    the union of their columns by name with types widened losslessly (SchemaError when two files'
    types cannot be combined; CSV/TSV columns then read as text). Text files are read in
    ``encoding`` (a codec name from :func:`text_encoding`; None: UTF-8). A remote URI (``s3://``,
    ...: :mod:`truthound.profiler.remote`) is read through its filesystem, configured by
    ``storage_options``.
    """
    if not isinstance(source, str):
        paths = list(source)
        if len(paths) != 1:
            if any(_remote.is_remote(p) for p in paths):
                found = _remote.resolve_many(paths, storage_options)
                shown = describe_sources([_remote.public_uri(p) for p in paths])
                return _remote_dataset(found, shown, fmt, csv_column_types, encoding)
            files = _resolve_many(paths)
            return _files_dataset(files, None, describe_sources(paths), fmt, csv_column_types,
                                  encoding)
        source = paths[0]
    if _remote.is_remote(source):
        found = _remote.resolve_remote(source, storage_options)
        return _remote_dataset(found, _remote.public_uri(source), fmt, csv_column_types, encoding)
    if source.startswith("file://"):
        source = source[len("file://") :]
    files, base, _description = _resolve_files(source)
    return _files_dataset(files, base, source, fmt, csv_column_types, encoding)


def _remote_dataset(
    found: _remote.RemoteFiles,
    description: str,
    fmt: str | None,
    csv_column_types: dict[str, pa.DataType] | None,
    encoding: str | None,
) -> tuple[ds.Dataset | ParquetFileSource, str] | None:
    """The dataset of remote files; an error names the file by its URI, without secrets."""
    try:
        return _files_dataset(found.files, found.base, description, fmt, csv_column_types,
                              encoding, found.filesystem)
    except (SourceReadError, SourceNotFoundError, SchemaError) as exc:
        message = _remote.public_message(str(exc), found.filesystem, found.files, found.secrets)
        if message == str(exc):
            raise
        error = type(exc)(message)
        if exc.cli_message is not None:
            error.cli_message = _remote.public_message(
                exc.cli_message, found.filesystem, found.files, found.secrets)
        raise error from None


def _files_dataset(
    files: list[str],
    base: str | None,
    source: str,
    fmt: str | None,
    csv_column_types: dict[str, pa.DataType] | None,
    encoding: str | None,
    filesystem: pa_fs.FileSystem | None = None,
) -> tuple[ds.Dataset | ParquetFileSource, str] | None:
    chosen_by_user = fmt
    fmt, files = _choose_format(files, source, fmt)
    if fmt == "ipc_stream":
        return None
    if fmt == "parquet" and base is None and len(files) == 1 and filesystem is None:
        try:
            return _open_parquet_file(files[0]), fmt
        except SourceReadError as exc:
            if chosen_by_user is None:
                raise
            raise _input_format_error(
                SourceReadError,
                _braces(str(exc)) + " (read as parquet because of {option})",
                chosen_by_user,
            ) from exc
    file_format = _file_format(fmt, csv_column_types, encoding)
    options: dict[str, Any] = {"format": file_format}
    if filesystem is not None:
        options["filesystem"] = filesystem
    if base is not None:
        options["partitioning"] = "hive"
        options["partition_base_dir"] = base
    if fmt == "json" and encoding is not None:
        # pyarrow would infer the schema from the raw bytes: read it through the transcoder
        if base is not None:
            raise SourceReadError(
                f"{source}: hive-partitioned JSON files in {encoding} are not read yet; "
                "profile a glob of the files, or transcode them to UTF-8"
            )
        lfs = filesystem if filesystem is not None else pa_fs.LocalFileSystem()
        schemas = [(f, _json_schema(lfs, f, encoding)) for f in files]
        options["schema"] = _union_of(schemas, text=False)
    try:
        dataset = ds.dataset(files, **options)
    except (pa.ArrowException, OSError, ValueError) as exc:
        message = _describe_open_error(files, file_format, exc)
        if chosen_by_user is None:
            raise SourceReadError(message) from exc
        # Read as the format the caller chose: say so, with the option's own spelling.
        raise _input_format_error(
            SourceReadError,
            _braces(message) + f" (read as {fmt} because of {{option}})",
            chosen_by_user,
        ) from exc
    if "schema" in options:
        return dataset, fmt
    physical: Callable[[ds.Fragment], pa.Schema] | None = None
    if fmt == "json":  # read by pyarrow.json on a checked or transcoded stream, not the scanner
        physical = lambda fragment: _json_schema(fragment.filesystem, fragment.path, encoding)  # noqa: E731
    if len(files) > 1 or physical is not None:
        # pyarrow takes the schema of the first file: combine every file's by column name instead
        # (Parquet/IPC footers are cheap to read; a text file's types are inferred from its first
        # block), so a column only some files hold is null in the others and int32 + int64 or
        # int + float files read as one column.
        dataset = ds.dataset(
            files, schema=_unified_schema(dataset, text=fmt in ("csv", "tsv"), physical=physical),
            **options,
        )
    if fmt in ("csv", "tsv") and encoding is None:
        _check_utf8_columns(dataset)
    return dataset, fmt


def _check_utf8_columns(dataset: ds.FileSystemDataset) -> None:
    """pyarrow reads a CSV column with bytes that are not UTF-8 as binary: say so, and that an
    encoding is missing, instead of profiling text as hex."""
    if not any(pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) for f in dataset.schema):
        return
    for fragment in dataset.get_fragments():
        for field in fragment.physical_schema:
            if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
                raise SourceReadError(_not_utf8_message(fragment.path, field.name))


def _file_source(
    paths: list[str],
    columns: list[str] | None,
    batch_size: int,
    fmt: str | None,
    csv_column_types: dict[str, pa.DataType] | None = None,
    encoding: str | None = None,
    storage_options: Mapping[str, object] | None = None,
) -> ArrowSource:
    encoding, note = text_encoding(paths, fmt, encoding)
    source = describe_sources([_remote.public_uri(p) for p in paths]) + note
    opened = file_dataset(paths, fmt, csv_column_types, encoding, storage_options)
    if opened is None:
        if len(paths) == 1:
            path = source[len("file://") :] if source.startswith("file://") else source
            if "://" in path:
                raise SourceReadError(
                    f"{source}: Arrow IPC stream files are read from local paths only")
            files, _base, _description = _resolve_files(path)
        else:
            files = _resolve_many(paths)
        if len(files) != 1:
            raise SourceReadError(
                f"{source}: Arrow IPC stream files (.arrows) are read one at a time"
            )
        return _ipc_stream_source(files[0], columns, batch_size)
    dataset, fmt = opened
    if isinstance(dataset, ParquetFileSource):
        return _parquet_file_source(dataset, columns, batch_size, source)
    return _dataset_source(dataset, columns, batch_size, source, fmt, encoding)


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


def _unified_schema(
    dataset: ds.FileSystemDataset,
    text: bool = False,
    physical: Callable[[ds.Fragment], pa.Schema] | None = None,
) -> pa.Schema:
    """The union of the files' columns (see :func:`_union_of`) and the hive partition columns.
    ``physical`` reads a fragment's schema (default: pyarrow's inference)."""
    schemas = []
    for fragment in dataset.get_fragments():
        try:
            schemas.append(
                (fragment.path, physical(fragment) if physical else fragment.physical_schema))
        except SourceReadError:
            raise
        except (pa.ArrowException, OSError) as exc:
            raise SourceReadError(f"{fragment.path}: {_one_line(exc)}") from exc
    unified = _union_of(schemas, text)
    # partition columns (hive) come from the paths, not the files
    extra = [f for f in dataset.schema if f.name not in unified.names]
    return pa.schema(list(unified) + extra)


def _union_of(schemas: Iterable[tuple[str, pa.Schema]], text: bool) -> pa.Schema:
    """The union of the files' columns, by name, in order of first appearance, each with a type
    every file's values widen to without loss (int32 + int64 -> int64, int + float -> float,
    string + large_string, timestamp units -> the finer); else SchemaError naming the column,
    both types and both files. With ``text`` (CSV/TSV, whose values are text, types inferred per
    file), two types that do not combine read as text, as a value that does not fit the type
    inferred within one file does."""
    seen: dict[str, tuple[pa.DataType, str]] = {}
    types: dict[str, pa.DataType] = {}
    for path, file_schema in schemas:
        for field in file_schema:
            first = seen.setdefault(field.name, (field.type, path))
            current = types.setdefault(field.name, field.type)
            try:
                pa.unify_schemas([pa.schema([pa.field(field.name, first[0])]), pa.schema([field])],
                                 promote_options="permissive")
                types[field.name] = pa.unify_schemas(
                    [pa.schema([pa.field(field.name, current)]), pa.schema([field])],
                    promote_options="permissive").field(field.name).type
            except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                if text:
                    wide = pa.types.is_large_string(current) or pa.types.is_large_string(field.type)
                    types[field.name] = pa.large_string() if wide else pa.string()
                    continue
                raise SchemaError(
                    f"column {field.name!r} is {first[0]} in {first[1]!r} but {field.type} in "
                    f"{path!r}; the types cannot be combined without loss"
                ) from exc
    return pa.schema([pa.field(name, t) for name, t in types.items()])


def _describe_open_error(files: list[str], file_format: ds.FileFormat, exc: BaseException) -> str:
    # pyarrow infers the schema from the first file; find the one that is actually broken.
    bad = files[0]
    if len(files) > 1:
        for f in files:
            try:
                ds.dataset(f, format=file_format)
            except (pa.ArrowException, OSError, ValueError):
                bad = f
                break
    return f"{bad}: {_one_line(exc)}"


# --------------------------------------------------------------------------- datasets


# Parquet is read page by page: no pre-buffering of whole column chunks and a 1 MiB read buffer,
# so memory stays near one batch per column instead of whole decoded row groups (a 1M-row row
# group of a 12-column table is ~175 MB; pyarrow's scanner also decodes several ahead).
_PARQUET_READ_BUFFER = 1 << 20
_CSV_BLOCK = 1 << 22


def fragment_batches(
    fragment: ds.Fragment,
    schema: pa.Schema,
    columns: list[str] | None,
    batch_size: int,
    *,
    use_threads: bool = True,
    row_groups: Sequence[int] | None = None,
    encoding: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """The batches of one dataset fragment, in ``schema`` (projected to ``columns``): columns a
    file lacks are null, narrower types are widened, hive partition columns are filled in. Text
    files are read in ``encoding`` (None: UTF-8, checked)."""
    csv = isinstance(getattr(fragment, "format", None), ds.CsvFileFormat)
    if isinstance(getattr(fragment, "format", None), ds.JsonFileFormat):
        yield from _json_fragment_batches(fragment, schema, columns, batch_size, use_threads,
                                          encoding)
        return
    if not csv and not isinstance(fragment, ds.ParquetFileFragment):
        kwargs: dict[str, Any] = {"schema": schema, "columns": columns, "batch_size": batch_size,
                                  "use_threads": use_threads}
        yield from ds.Scanner.from_fragment(fragment, **kwargs).to_batches()
        return
    if csv:
        yield from _csv_fragment_batches(fragment, schema, columns, batch_size, use_threads,
                                         encoding)
        return
    yield from parquet_file_batches(
        fragment.path, fragment.filesystem, schema, columns, batch_size, use_threads=use_threads,
        row_groups=row_groups, keys=ds.get_partition_keys(fragment.partition_expression),
    )


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
) -> list[tuple[str, int, int, list[tuple[int, int, int, int, int]]]] | None:
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
    plan = []
    for name in columns:
        i = leaf_index.get(name)
        if i is None:
            return None
        leaf = parquet_schema.column(i)
        t = arrow_schema.field(name).type
        if (footer.leaf_max_repetition[i] != 0 or footer.leaf_max_definition[i] > 1
                or leaf.max_repetition_level != 0 or leaf.max_definition_level > 1
                or leaf.physical_type not in _NATIVE_PHYSICAL or not _native_fits(leaf, t)):
            return None
        physical = _NATIVE_PHYSICAL[leaf.physical_type]
        chunks = []
        for g in row_groups:
            chunk = footer.row_groups[g].columns[i]
            if (chunk.external or chunk.physical_type != physical or chunk.codec not in _NATIVE_CODECS
                    or not _NATIVE_ENCODINGS.issuperset(chunk.encodings)):
                return None
            chunks.append((chunk.start, chunk.length, chunk.num_values, chunk.codec, chunk.padding))
        plan.append((name, physical, footer.leaf_max_definition[i], chunks))
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
    reader = _core.ParquetReader(os.fspath(local), schema, plan, rows, batch_size, list(row_ranges))

    def batches() -> Iterator[pa.RecordBatch]:
        while (capsule := reader.next()) is not None:
            yield pa.record_batch(_NativeBatch(schema, capsule))

    return batches()


def _encodes(batch_type: pa.DataType, field_type: pa.DataType) -> bool:
    """Is ``batch_type`` a dictionary encoding of ``field_type`` values (pyarrow's read_dictionary
    gives dictionary<int32, string> for large_string columns too)?"""
    if not pa.types.is_dictionary(batch_type):
        return False
    values = batch_type.value_type
    return values == field_type or (values, field_type) in (
        (pa.string(), pa.large_string()), (pa.binary(), pa.large_binary()))


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
    for name in wanted:
        i = leaf_index[name]
        for g in row_groups:
            chunk = footer.row_groups[g].columns[i]
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


def _conform(batch: pa.RecordBatch, projected: pa.Schema, keys: dict[str, Any]) -> pa.RecordBatch:
    """``batch`` in the dataset's schema: hive partition values filled in, columns the file lacks
    as nulls, narrower types widened."""
    n = batch.num_rows
    present = set(batch.schema.names)
    arrays = []
    for field in projected:
        if field.name in keys:
            value = keys[field.name]
            arrays.append(pa.nulls(n, field.type) if value is None
                          else pa.array([value] * n, field.type))
        elif field.name in present:
            column = batch.column(field.name)
            if column.type == field.type or _encodes(column.type, field.type):
                arrays.append(column)  # dictionary-encoded values stay encoded for the engine
            else:
                arrays.append(column.cast(field.type))
        else:
            arrays.append(pa.nulls(n, field.type))
    return pa.RecordBatch.from_arrays(arrays, names=projected.names)


def _csv_fragment_batches(
    fragment: ds.Fragment,
    schema: pa.Schema,
    columns: list[str] | None,
    batch_size: int,
    use_threads: bool,
    encoding: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """A CSV/TSV file through pyarrow's streaming reader (the dataset scanner buffers ~1 GB of a
    large file ahead of a slower consumer; this reader keeps a few blocks), with the dataset's
    column types forced so every file and every run reads the same types."""
    names = list(columns) if columns else list(schema.names)
    projected = pa.schema([schema.field(n) for n in names])
    keys = ds.get_partition_keys(fragment.partition_expression)
    fmt = fragment.format
    read = [n for n in names if n not in keys]
    convert = pa_csv.ConvertOptions(
        strings_can_be_null=True,
        column_types={f.name: f.type for f in schema if f.name not in keys},
        include_columns=read,
        include_missing_columns=True,
    )
    options = pa_csv.ReadOptions(use_threads=use_threads, block_size=_CSV_BLOCK,
                                 encoding=encoding or "utf8")
    with fragment.filesystem.open_input_stream(fragment.path, compression="detect") as f:
        reader = pa_csv.open_csv(f, read_options=options, parse_options=fmt.parse_options,
                                 convert_options=convert)
        for batch in rechunk(reader, batch_size):
            yield _conform(batch, projected, keys)


def _json_fragment_batches(
    fragment: ds.Fragment,
    schema: pa.Schema,
    columns: list[str] | None,
    batch_size: int,
    use_threads: bool,
    encoding: str | None,
) -> Iterator[pa.RecordBatch]:
    """A JSON-lines file through pyarrow's streaming reader on a stream checked as UTF-8 or
    transcoded from ``encoding``, in the dataset's schema."""
    names = list(columns) if columns else list(schema.names)
    projected = pa.schema([schema.field(n) for n in names])
    keys = ds.get_partition_keys(fragment.partition_expression)
    options = pa_json.ReadOptions(use_threads=use_threads, block_size=_JSON_BLOCK)
    with _text_stream(fragment.filesystem, fragment.path, encoding) as f:
        for batch in rechunk(pa_json.open_json(f, read_options=options), batch_size):
            yield _conform(batch, projected, keys)


def _dataset_source(
    dataset: ds.Dataset,
    columns: list[str] | None,
    batch_size: int,
    description: str,
    fmt: str | None = None,
    encoding: str | None = None,
) -> ArrowSource:
    schema = dataset.schema
    _check_columns(schema.names, columns, repr(description))
    projected = pa.schema([schema.field(c) for c in columns]) if columns else schema
    total: int | None = None
    if isinstance(dataset, ds.InMemoryDataset) or fmt == "parquet" or (
        fmt is None
        and isinstance(dataset, ds.FileSystemDataset)
        and isinstance(dataset.format, ds.ParquetFileFormat)
    ):
        try:
            total = dataset.count_rows()  # Parquet: read from the footers, no data decoded
        except (pa.ArrowException, OSError) as exc:
            raise SourceReadError(f"{description}: {_one_line(exc)}") from exc

    def batches() -> Iterator[pa.RecordBatch]:
        for fragment in dataset.get_fragments():
            where = getattr(fragment, "path", description)
            try:
                for batch in fragment_batches(fragment, schema, columns, batch_size,
                                              encoding=encoding):
                    if batch.num_rows:
                        yield batch
            except SourceReadError:
                raise
            except (pa.ArrowException, OSError) as exc:
                if "invalid UTF8" in str(exc) and encoding is None:
                    raise SourceReadError(_not_utf8_message(where)) from exc
                message = f"{where}: {_one_line(exc)}"
                match = _CSV_CONVERSION.search(str(exc))
                if match and isinstance(dataset.format, ds.CsvFileFormat):
                    index = int(match.group(1))
                    if index < len(schema):
                        raise CsvTypeConflict(message, schema.names[index]) from exc
                raise SourceReadError(message) from exc

    return ArrowSource(description, projected, total, batches)


# --------------------------------------------------------------------------- in memory


def _reader_source(
    make_reader: Callable[[], pa.RecordBatchReader],
    schema: pa.Schema,
    columns: list[str] | None,
    batch_size: int,
    description: str,
    total: int | None,
    once: bool = False,
) -> ArrowSource:
    _check_columns(schema.names, columns, description)
    projected = pa.schema([schema.field(c) for c in columns]) if columns else schema
    used = False

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal used
        if once and used:
            raise SourceReadError(f"{description} is a one-shot stream and was already read")
        used = True
        for batch in rechunk(make_reader(), batch_size):
            yield _project(batch, columns)

    return ArrowSource(description, projected, total, batches)


def _table_source(
    table: pa.Table, columns: list[str] | None, batch_size: int, description: str
) -> ArrowSource:
    _check_columns(table.schema.names, columns, description)
    if columns is not None:
        table = table.select(columns)
    return ArrowSource(
        description,
        table.schema,
        table.num_rows,
        lambda: iter(table.to_batches(max_chunksize=batch_size)),
    )


def _type_name(obj: object) -> str:
    cls = type(obj)
    module = cls.__module__.split(".")[0]
    return f"{module}.{cls.__name__}"


def _polars_source(
    obj: Any, columns: list[str] | None, batch_size: int, description: str
) -> ArrowSource:
    import polars as pl

    if isinstance(obj, pl.LazyFrame):
        schema_names = list(obj.collect_schema().names())
        _check_columns(schema_names, columns, description)
        lazy = obj.select(columns) if columns is not None else obj
        # The polars schema maps onto Arrow types only after a collect; take it from an empty one.
        schema = lazy.head(0).collect().to_arrow().schema

        def frames() -> Iterator[Any]:
            if hasattr(lazy, "collect_batches"):
                yield from lazy.collect_batches(chunk_size=batch_size, engine="streaming")
            else:  # older polars: one streaming collect
                yield lazy.collect(streaming=True)  # type: ignore[call-overload]

        def lazy_batches() -> Iterator[pa.RecordBatch]:
            for frame in frames():
                for batch in rechunk(frame.to_arrow().to_batches(), batch_size):
                    if batch.num_rows:
                        yield batch.cast(schema) if batch.schema != schema else batch

        return ArrowSource(description, schema, None, lazy_batches)
    # DataFrame: zero-copy through the Arrow C stream interface.
    _check_columns(list(obj.columns), columns, description)
    frame = obj.select(columns) if columns is not None else obj
    schema, make_reader = _c_stream_readers(frame)
    return _reader_source(make_reader, schema, None, batch_size, description, frame.height)


def _pandas_source(
    obj: Any, columns: list[str] | None, batch_size: int, description: str
) -> ArrowSource:
    names = [str(c) for c in obj.columns]
    _check_columns(names, columns, description)
    frame = obj[columns] if columns is not None else obj
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise UnsupportedTypeError(
            f"cannot convert the pandas DataFrame to Arrow: {_one_line(exc)}"
        ) from exc
    return _table_source(table, None, batch_size, description)


def _c_stream_readers(obj: Any) -> tuple[pa.Schema, Callable[[], pa.RecordBatchReader]]:
    """The schema of an ``__arrow_c_stream__`` object and a factory of readers over it.

    The reader opened to learn the schema is handed out first; later calls ask the object again,
    which works for re-readable objects (frames) and fails clearly for one-shot streams.
    """
    try:
        reader = pa.RecordBatchReader.from_stream(obj)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise UnsupportedTypeError(
            f"cannot read the Arrow stream of {_type_name(obj)}: {_one_line(exc)}"
        ) from exc
    first = [reader]

    def make_reader() -> pa.RecordBatchReader:
        return first.pop() if first else pa.RecordBatchReader.from_stream(obj)

    return reader.schema, make_reader


def _module_of(obj: object) -> str:
    return type(obj).__module__.split(".")[0]


def open_source(
    source: Any,
    *,
    columns: Iterable[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    format: str | None = None,
    csv_column_types: dict[str, pa.DataType] | None = None,
    encoding: str | None = None,
    storage_options: Mapping[str, object] | None = None,
) -> ArrowSource:
    """Open ``source`` for streaming.

    ``source`` is a path, glob or directory (CSV, TSV, Parquet, Arrow IPC/Feather, JSON lines; the
    format comes from the extension unless ``format`` is given) or a list of them (one table:
    the union of their columns), a pyarrow Table, RecordBatch,
    RecordBatchReader or Dataset, a polars DataFrame or LazyFrame, a pandas DataFrame, or any
    object with ``__arrow_c_stream__``. ``csv_column_types`` overrides the types pyarrow infers
    for CSV/TSV columns. ``encoding`` is the text encoding of CSV, TSV and JSON files (a Python
    codec name: latin-1, cp1252, utf-16, ...; default UTF-8, or the one a UTF-16/32 byte-order
    mark tells, which the source description reports). ``storage_options`` configures the
    filesystem of a remote URI (``s3://``: see :mod:`truthound.profiler.remote`).

    >>> import pyarrow as pa
    >>> src = open_source(pa.table({"a": [1, 2], "b": ["x", "y"]}), columns=["b"])
    >>> src.schema.names, src.total_rows
    (['b'], 2)
    """
    cols = _validate_columns(columns)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigurationError(f"option 'batch_size' must be a positive integer, got {batch_size!r}")
    paths = path_sources(source)
    if paths is not None:
        return _file_source(paths, cols, batch_size, format, csv_column_types, encoding,
                            storage_options)
    if storage_options is not None:
        raise ConfigurationError("option 'storage_options' applies to paths and URIs only")
    if isinstance(source, pa.Table):
        return _table_source(source, cols, batch_size, "pyarrow.Table")
    if isinstance(source, pa.RecordBatch):
        return _table_source(
            pa.Table.from_batches([source]), cols, batch_size, "pyarrow.RecordBatch"
        )
    if isinstance(source, pa.RecordBatchReader):
        return _reader_source(
            lambda: source, source.schema, cols, batch_size, "pyarrow.RecordBatchReader", None,
            once=True,
        )
    if is_dataset(source):
        return _dataset_source(source, cols, batch_size, _type_name(source))
    module = _module_of(source)
    if module == "polars" and "polars" in sys.modules:
        import polars as pl

        if isinstance(source, (pl.DataFrame, pl.LazyFrame)):
            return _polars_source(source, cols, batch_size, _type_name(source))
    if module == "pandas" and "pandas" in sys.modules:
        import pandas as pd

        if isinstance(source, pd.DataFrame):
            return _pandas_source(source, cols, batch_size, "pandas.DataFrame")
    if hasattr(source, "__arrow_c_stream__"):
        schema, make_reader = _c_stream_readers(source)
        return _reader_source(make_reader, schema, cols, batch_size, _type_name(source), None)
    raise UnsupportedTypeError(
        f"cannot profile an object of type {_type_name(source)}: pass a path, a glob, a "
        "directory, a pyarrow Table/RecordBatch/RecordBatchReader/Dataset, a polars or pandas "
        "DataFrame, or an object with __arrow_c_stream__"
    )

