"""What every source module shares: the opened source (:class:`ArrowSource`), the CSV type
conflict error, column checks, rechunking, and conforming a file's batch to its dataset's schema.
``ds`` is ``pyarrow.dataset``, imported on first use (it imports pandas, 0.2 s, when installed).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from truthound.errors import ColumnNotFoundError, ConfigurationError, SourceReadError


class _LazyModule:
    """A module imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


if TYPE_CHECKING:
    import pyarrow.dataset as ds
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


def _encodes(batch_type: pa.DataType, field_type: pa.DataType) -> bool:
    """Is ``batch_type`` a dictionary encoding of ``field_type`` values (pyarrow's read_dictionary
    gives dictionary<int32, string> for large_string columns too)?"""
    if not pa.types.is_dictionary(batch_type):
        return False
    values = batch_type.value_type
    return values == field_type or (values, field_type) in (
        (pa.string(), pa.large_string()), (pa.binary(), pa.large_binary()))


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
