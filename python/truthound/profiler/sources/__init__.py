"""Turn any supported source into a bounded-memory stream of pyarrow RecordBatches.

A source is opened into an :class:`ArrowSource`: its schema (after column projection), a short
description for the profile's ``source`` field, the total row count when it is cheap to know
(Parquet metadata, in-memory frames) and an iterator of record batches. Files are read with
``pyarrow.dataset`` one fragment (file) at a time, so memory stays bounded by the batch size and
pyarrow's read-ahead, and a read error names the file that caused it. A single local Parquet file
is read with ``pyarrow.parquet`` alone: importing ``pyarrow.dataset`` imports pandas (0.2 s) when
it is installed, so that module is loaded only when a source needs it.

The package splits by concept: :mod:`.base` (the opened source, shared helpers), :mod:`.files`
(paths, globs, directories, formats), :mod:`.encodings` (text encodings), :mod:`.datasets`
(``pyarrow.dataset`` sources), :mod:`.native_parquet` (the engine's Parquet reader) and
:mod:`.frames` (in-memory sources); :func:`open_source` picks one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from truthound.errors import ConfigurationError, UnsupportedTypeError
from truthound.profiler.sources.base import (
    DEFAULT_BATCH_SIZE,
    ArrowSource,
    CsvTypeConflict,
    _validate_columns,
    empty_batch,
    is_dataset,
)
from truthound.profiler.sources.datasets import _dataset_source, _file_source, file_dataset
from truthound.profiler.sources.files import FILE_FORMATS, describe_sources, path_sources
from truthound.profiler.sources.frames import (
    _c_stream_readers,
    _module_of,
    _pandas_source,
    _polars_source,
    _reader_source,
    _table_source,
    _type_name,
)

__all__ = ["ArrowSource", "CsvTypeConflict", "empty_batch", "file_dataset", "open_source", "FILE_FORMATS",
           "DEFAULT_BATCH_SIZE", "describe_sources", "path_sources"]


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
