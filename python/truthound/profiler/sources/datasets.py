"""Files read through ``pyarrow.dataset``: the dataset of local or remote files (hive partitions,
one schema unified over the files), each fragment's batches (CSV and JSON through pyarrow's
streaming readers, Parquet through :mod:`.native_parquet`), and the source a path opens into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.fs as pa_fs
import pyarrow.json as pa_json

from truthound.errors import SchemaError, SourceNotFoundError, SourceReadError
from truthound.profiler import remote as _remote
from truthound.profiler.sources.base import (
    _CSV_CONVERSION,
    ArrowSource,
    CsvTypeConflict,
    _check_columns,
    _conform,
    _one_line,
    _project,
    ds,
    rechunk,
)
from truthound.profiler.sources.encodings import _not_utf8_message, _text_stream, text_encoding
from truthound.profiler.sources.files import (
    _braces,
    _choose_format,
    _file_format,
    _input_format_error,
    _resolve_files,
    _resolve_many,
    describe_sources,
)
from truthound.profiler.sources.native_parquet import (
    ParquetFileSource,
    _open_parquet_file,
    _parquet_file_source,
    parquet_file_batches,
)

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


_CSV_BLOCK = 1 << 22


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
