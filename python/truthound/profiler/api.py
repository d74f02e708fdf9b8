"""``profile()``: profile a source with the C++ engine on every core and return a
:class:`TableProfile` (the driver's path with the local backend)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from truthound import _core
from truthound.errors import ConfigurationError
from truthound.profiler.model import TableProfile
from truthound.profiler.progress import ProgressCallback

if TYPE_CHECKING:
    from truthound.profiler.distributed.observer import RunObserver

__all__ = ["profile", "ALERT_OPTIONS", "ENGINE_OPTIONS"]

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

# The alert thresholds (``alert_high_null_ratio``, ``alert_skewness``, ...), each with its default,
# its maximum and what it bounds, as the engine defines them (README "Alerts"). They only decide
# what the engine's finalize flags: profiles made with other thresholds still merge.
ALERT_OPTIONS: dict[str, tuple[float, float, str]] = {
    name: (default, maximum, meaning) for name, default, maximum, meaning in _core.alert_options()
}


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
        if name in ALERT_OPTIONS:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(f"option {name!r} must be a number, got {value!r}")
            options[name] = float(value)  # the engine checks the range and names the option
            continue
        if name not in ENGINE_OPTIONS:
            known = sorted(
                {"columns", "top_n", "histogram_bins", "patterns", "pattern_threshold",
                 "correlations", "batch_size", "progress", "format", "encoding", "num_workers",
                 "monitor", "storage_options"} | ENGINE_OPTIONS | set(ALERT_OPTIONS)
            )
            raise ConfigurationError(
                f"unknown option {name!r}; known options: {', '.join(known)}"
            )
        options[name] = _check_int(name, value, 0)
    # The engine's own checks (ranges, combinations) before any work starts.
    _core.PartialProfile(json.dumps(options))
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
    batch_size: int | None = None,
    progress: bool | ProgressCallback = False,
    format: str | None = None,
    encoding: str | None = None,
    num_workers: int | None = None,
    monitor: RunObserver | None = None,
    storage_options: Mapping[str, object] | None = None,
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
    ``batch_size`` (rows per batch handed to the engine; default: as many as fit about
    32 MiB of the columns read, at most 131,072, so a wide table's batches stay small), ``progress`` (True: a tqdm bar on
    stderr; or a callable ``(rows_done, total_rows_or_None)``), ``encoding`` (of CSV, TSV and
    JSON files: latin-1, cp1252, utf-16, ...; default UTF-8, or UTF-16/32 told by a byte-order
    mark, reported in ``source``; a file that is not UTF-8 otherwise raises SourceReadError
    saying to pass it), and the engine's own options
    ``pattern_samples``, ``hll_precision``, ``kll_k``, ``frequent_items_capacity``,
    ``duplicate_exact_limit``, and the alert thresholds ``alert_high_null_ratio``,
    ``alert_high_cardinality``, ``alert_imbalance``, ``alert_skewness``, ``alert_zeros``,
    ``alert_mixed_types``, ``alert_duplicate_rows``, ``alert_correlation`` (``ALERT_OPTIONS``
    lists their defaults; the result's ``alerts`` are what fired). A bad option raises
    ConfigurationError naming it.

    A URI (``s3://bucket/prefix/*.parquet``, ``gs://``, ``abfs://``, ``https://``, any scheme
    pyarrow or an installed fsspec implementation reads) is profiled where it lies;
    ``storage_options`` configures its filesystem (``s3://``: ``access_key``, ``secret_key``,
    ``session_token``, ``region``, ``endpoint_url``, ``profile``, ``anonymous``,
    ``connect_timeout``, ``request_timeout``, ``max_attempts``; defaults from the standard AWS
    environment variables; other schemes: the fsspec filesystem's arguments).

    It runs on every core: ``num_workers`` threads (default: TRUTHOUND_NUM_WORKERS, else the CPU
    count; 1 for one) profile parts of the source, whose partial profiles the engine merges in
    order, the same path as every distributed backend (``result.execution`` says how it ran).
    ``monitor`` (a :class:`~truthound.profiler.distributed.observer.RunObserver`) is told about
    every partition.

    >>> import pyarrow as pa
    >>> p = profile(pa.table({"x": [1, 2, 2, None]}))
    >>> p["x"].null_count, p["x"].distinct_count, p["x"].max
    (1, 2, 2)
    """
    from truthound.profiler.distributed import driver
    from truthound.profiler.distributed.config import check_num_workers
    from truthound.profiler.distributed.local import local_threads

    workers = check_num_workers(num_workers)
    return driver.run(
        source, local_threads(workers), observer=monitor, progress=progress, columns=columns,
        top_n=top_n, histogram_bins=histogram_bins, patterns=patterns,
        pattern_threshold=pattern_threshold, correlations=correlations, batch_size=batch_size,
        format=format, encoding=encoding, storage_options=storage_options, **engine_opts,
    )
