"""In-memory sources: pyarrow Tables, RecordBatches and RecordBatchReaders, polars and pandas
DataFrames, and any object with ``__arrow_c_stream__``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from truthound.errors import SourceReadError, UnsupportedTypeError
from truthound.profiler.sources.base import ArrowSource, _check_columns, _one_line, _project, rechunk

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
