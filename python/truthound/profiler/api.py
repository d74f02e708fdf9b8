"""``profile()``: stream a source through the C++ engine and return a :class:`TableProfile`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from truthound import _core
from truthound.errors import (
    ArrowImportError,
    ConfigurationError,
    SourceReadError,
    UnsupportedTypeError,
)
from truthound.profiler.model import TableProfile
from truthound.profiler.sources import (
    DEFAULT_BATCH_SIZE,
    ArrowSource,
    CsvTypeConflict,
    empty_batch,
    open_source,
)

__all__ = ["profile", "ENGINE_OPTIONS"]

# Engine options that profile() accepts as keyword arguments beyond its named ones; the engine
# checks their ranges and names the option when a value is bad.
ENGINE_OPTIONS = frozenset(
    {
        "pattern_samples",
        "hll_precision",
        "kll_k",
        "frequent_items_capacity",
        "duplicate_exact_limit",
    }
)

ProgressCallback = Callable[[int, "int | None"], None]


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"option {name!r} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigurationError(f"option {name!r} must be at least {minimum}, got {value}")
    return value


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"option {name!r} must be True or False, got {value!r}")
    return value


def engine_options(
    *,
    top_n: int = 10,
    histogram_bins: int = 20,
    patterns: bool = True,
    pattern_threshold: float = 0.8,
    correlations: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """Validate the profile options and return the engine's options object."""
    options: dict[str, Any] = {
        "top_n": _check_int("top_n", top_n, 0),
        "histogram_bins": _check_int("histogram_bins", histogram_bins, 1),
        "patterns": _check_bool("patterns", patterns),
        "correlations": _check_bool("correlations", correlations),
    }
    if isinstance(pattern_threshold, bool) or not isinstance(pattern_threshold, (int, float)):
        raise ConfigurationError(
            f"option 'pattern_threshold' must be a number in [0, 1], got {pattern_threshold!r}"
        )
    if not 0.0 <= float(pattern_threshold) <= 1.0:
        raise ConfigurationError(
            f"option 'pattern_threshold' must be in [0, 1], got {pattern_threshold}"
        )
    options["pattern_threshold"] = float(pattern_threshold)
    for name, value in extra.items():
        if name not in ENGINE_OPTIONS:
            known = sorted(
                {"columns", "top_n", "histogram_bins", "patterns", "pattern_threshold",
                 "correlations", "batch_size", "progress", "format", "encoding"} | ENGINE_OPTIONS
            )
            raise ConfigurationError(
                f"unknown option {name!r}; known options: {', '.join(known)}"
            )
        options[name] = _check_int(name, value, 0)
    return options


def profile(
    source: Any,
    *,
    columns: Iterable[str] | None = None,
    top_n: int = 10,
    histogram_bins: int = 20,
    patterns: bool = True,
    pattern_threshold: float = 0.8,
    correlations: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool | ProgressCallback = False,
    format: str | None = None,
    encoding: str | None = None,
    **engine_opts: Any,
) -> TableProfile:
    """Profile every column of ``source`` in one pass and return a :class:`TableProfile`.

    ``source``: a path, glob or directory of CSV, TSV, Parquet, Arrow IPC/Feather or JSON-lines
    files (format from the extension, or ``format=``; hive partitions are read as columns), or a
    list of them (one table; files whose columns differ combine by name, the union of their
    columns, missing ones null), a
    pyarrow Table/RecordBatch/RecordBatchReader/Dataset, a polars DataFrame/LazyFrame, a pandas
    DataFrame, or any object with ``__arrow_c_stream__``. Files are streamed batch by batch.

    Options: ``columns`` (profile only these), ``top_n`` top/bottom values per column,
    ``histogram_bins``, ``patterns`` (string pattern detection) and ``pattern_threshold`` (the
    share of non-null values a pattern must match), ``correlations`` (Pearson for numeric pairs),
    ``batch_size`` (rows per batch handed to the engine), ``progress`` (True: a tqdm bar on
    stderr; or a callable ``(rows_done, total_rows_or_None)``), ``encoding`` (of CSV, TSV and
    JSON files: latin-1, cp1252, utf-16, ...; default UTF-8, or UTF-16/32 told by a byte-order
    mark, reported in ``source``; a file that is not UTF-8 otherwise raises SourceReadError
    saying to pass it), and the engine's own options
    ``pattern_samples``, ``hll_precision``, ``kll_k``, ``frequent_items_capacity``,
    ``duplicate_exact_limit``. A bad option raises ConfigurationError naming it.

    >>> import pyarrow as pa
    >>> p = profile(pa.table({"x": [1, 2, 2, None]}))
    >>> p["x"].null_count, p["x"].distinct_count, p["x"].max
    (1, 2, 2)
    """
    options = engine_options(
        top_n=top_n,
        histogram_bins=histogram_bins,
        patterns=patterns,
        pattern_threshold=pattern_threshold,
        correlations=correlations,
        **engine_opts,
    )
    if not (isinstance(progress, bool) or callable(progress)):
        raise ConfigurationError(
            f"option 'progress' must be True, False or a callable, got {progress!r}"
        )
    started = time.perf_counter()
    column_types: dict[str, pa.DataType] = {}
    while True:
        src = open_source(source, columns=columns, batch_size=batch_size, format=format,
                          csv_column_types=column_types, encoding=encoding)
        try:
            state = _consume(src, json.dumps(options), progress)
            break
        except CsvTypeConflict as exc:
            # pyarrow inferred the column's type from the first block and a later value does not
            # fit: profile again with the column read as text (the only lossless choice).
            if exc.column in column_types:
                raise
            column_types[exc.column] = pa.large_string()
    result = TableProfile._from_state(state, source=src.description)
    result.profile_duration_ms = (time.perf_counter() - started) * 1000.0
    return result


def _leaf_names(fields: Iterable[pa.Field], prefix: str = "") -> Iterable[str]:
    """The engine's column names of ``fields``: struct fields as ``parent.child``."""
    for field in fields:
        name = prefix + field.name
        if pa.types.is_struct(field.type):
            yield from _leaf_names(field.type, name + ".")
        else:
            yield name


def _check_unique_columns(src: ArrowSource) -> None:
    """Two columns of one name (a file's duplicate names, or a JSON key ``"a.b"`` beside the
    struct field ``a.b``) would be profiled as one column over both: refuse the source."""
    seen: set[str] = set()
    for name in _leaf_names(src.schema):
        if name in seen:
            raise SourceReadError(f"{src.description}: two columns are named "
                                  f"{name!r} (struct fields are named parent.child)")
        seen.add(name)


def _consume(src: ArrowSource, options: str, progress: bool | ProgressCallback) -> Any:
    """Stream every batch of ``src`` into a new engine state, advancing the progress by rows."""
    _check_unique_columns(src)
    state = _core.PartialProfile(options)
    state.add_source(src.description)
    bar = None
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(
            total=src.total_rows, unit="rows", unit_scale=True, file=sys.stderr,
            desc="profiling", leave=False, dynamic_ncols=True,
        )
    callback = progress if callable(progress) else None
    done = 0
    try:
        # The schema first, with no rows: every column appears in the profile (even with no rows)
        # with its declared type, whatever encoding the batches use (dictionary-encoded strings).
        try:
            state.consume_batch(empty_batch(src.schema))
        except (ArrowImportError, UnsupportedTypeError) as exc:
            # the source's schema (a file's: 200 levels of nested JSON): name the source
            raise type(exc)(f"{src.description}: {exc}") from exc
        for batch in src.batches():
            state.consume_batch(batch)
            done += batch.num_rows
            if bar is not None:
                bar.update(batch.num_rows)
            if callback is not None:
                callback(done, src.total_rows)
    finally:
        if bar is not None:
            bar.close()
    return state
