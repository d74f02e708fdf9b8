"""The C++ engine (private): see docs/engine-interface.md for the contract."""

from collections.abc import Callable
from typing import Any

FORMAT_VERSION: int

def alert_options() -> list[tuple[str, float, float, str]]:
    """The alert threshold options: (option name, default, maximum (``inf``: unbounded),
    meaning); each ranges from 0 to its maximum and fires strictly above."""

def row_hashes(batch: Any, keys: list[str]) -> bytes:
    """The engine's 64-bit hash of each row of a record batch (``__arrow_c_array__``) over its
    columns ``keys``, as little-endian uint64 bytes; ConfigurationError for an unknown key,
    UnsupportedTypeError for a list, map or union key."""

class PartialProfile:
    """Mergeable profile state of a set of columns over a set of rows."""

    def __init__(self, options: str = "{}") -> None:
        """``options``: a JSON object of engine options; ConfigurationError on a bad one."""
    def consume(self, stream: Any) -> None:
        """Every batch of an object with ``__arrow_c_stream__`` (or an ``arrow_array_stream`` capsule)."""
    def consume_batch(self, batch: Any) -> None:
        """One record batch: an object with ``__arrow_c_array__``."""
    def add_source(self, source: str) -> None:
        """Record the name of a source (file, table) this profile covers."""
    def merge(self, other: PartialProfile, columns: bool = False) -> None:
        """Merge ``other`` in place: other rows (default) or, with ``columns=True``, other
        columns; SchemaError on a type conflict."""
    def compact(self) -> None:
        """Before the partial ships: fewer top-value counters where the error bound allows,
        and no buffered quantile items (every bound still holds)."""
    def serialized_sizes(self) -> dict[str, dict[str, int]]:
        """Bytes ``to_bytes()`` spends on each column: ``{name: {"total", "distinct",
        "quantiles", "top_values"}}`` (its whole state and its three sketches)."""
    @property
    def duplicate_counter_bytes(self) -> int:
        """Bytes ``to_bytes()`` spends on the table-wide duplicate-row counter."""
    def to_bytes(self) -> bytes:
        """The state as versioned, checksummed bytes."""
    @staticmethod
    def from_bytes(data: bytes) -> PartialProfile:
        """Restore state from :meth:`to_bytes`; CorruptProfileError on bad bytes."""
    def finalize(self) -> str:
        """The result JSON (see docs/engine-interface.md)."""
    def diff(self, current: PartialProfile) -> str:
        """What changed from this profile (the base) to ``current``, as JSON text
        (cpp/include/truthound/profile/diff.hpp lists the fields)."""
    @property
    def row_count(self) -> int:
        """Rows consumed so far; while a stream is consumed, the batches profiled so far. Safe to
        read from any thread, and from the stream's own Python code."""
    @property
    def column_names(self) -> list[str]: ...
    @property
    def sources(self) -> list[str]: ...

class ParquetReader:
    """The engine's reader of flat Parquet column chunks (plain and dictionary pages, v1/v2,
    uncompressed or snappy), one Arrow batch at a time."""

    def __init__(
        self,
        path: str,
        schema: Any,
        columns: list[tuple[str, int, int, list[tuple[int, int, int, int, int]]]],
        row_group_rows: list[int],
        batch_rows: int,
        row_ranges: list[tuple[int, int]] = ...,
    ) -> None:
        """``columns``: (name, physical type, max definition level, [(offset, length, values,
        codec, padding)] per row group); ``schema``: the batches' struct schema (``__arrow_c_schema__``);
        ``row_ranges``: optional (first, count) rows to read of each row group."""
    def next(self) -> Any | None:
        """The next batch as an ``arrow_array`` capsule (a struct array of ``schema``), or None."""

class ParquetColumnChunk:
    """A column chunk of a Parquet footer as the engine reads it (cpp/include/truthound/parquet/
    footer.hpp): values as written, the byte range checked against the file."""

    physical_type: int
    codec: int
    encodings: list[int]
    num_values: int
    data_page_offset: int
    dictionary_page_offset: int
    total_compressed_size: int
    start: int
    length: int
    padding: int
    external: bool

class ParquetRowGroup:
    num_rows: int
    columns: list[ParquetColumnChunk]

class ParquetFooter:
    """A Parquet file's footer, every count and byte range checked by the engine."""

    file_size: int
    num_rows: int
    created_by: str
    leaf_paths: list[str]
    leaf_max_definition: list[int]
    leaf_max_repetition: list[int]
    row_groups: list[ParquetRowGroup]

def read_parquet_footer(path: str) -> ParquetFooter:
    """The footer of the Parquet file at ``path``; SourceReadError when malformed."""

def parse_parquet_footer(tail: bytes, file_size: int) -> ParquetFooter:
    """The footer parsed from the last bytes of a Parquet file (footer, length, ``PAR1``)."""

# ---- the monitoring core (cpp/include/truthound/monitor): thread-safe, time passed in as `now`
# (seconds on a monotonic clock); NaN times mean "not yet"; states and statuses are strings.

def monitor_clock() -> float:
    """Seconds on the engine's monotonic clock (CLOCK_MONOTONIC, as time.monotonic())."""

class MonitorTaskRecord:
    id: int
    task_type: str
    partition_id: int
    attempt: int
    worker_id: str
    state: str
    submitted_at: float
    started_at: float
    ended_at: float
    progress: float
    rows_processed: int
    retry_count: int
    error: str
    def duration_seconds(self, now: float) -> float: ...

class MonitorTaskCounts:
    submitted: int
    started: int
    completed: int
    failed: int
    retried: int
    timed_out: int
    cancelled: int
    pending: int
    running: int
    completed_seconds: float
    rows_completed: int
    rows_in_flight: int
    average_duration: float

class MonitorTaskTable:
    def __init__(
        self, max_history_size: int, timeout_seconds: float, max_retries: int,
        enable_progress_tracking: bool,
    ) -> None: ...
    def submit(self, task_type: str, partition_id: int, attempt: int, now: float) -> int: ...
    def start(self, id: int, worker_id: str, now: float) -> None: ...
    def update_progress(self, id: int, progress: float, rows: int, now: float) -> None: ...
    def complete(self, id: int, rows: int, duration: float, now: float) -> list[int]: ...
    def fail(self, id: int, error: str, now: float) -> list[int]: ...
    def retry(self, id: int, error: str, now: float, force: bool = False) -> bool: ...
    def resubmit(self, id: int, attempt: int, now: float) -> None: ...
    def cancel(self, id: int, now: float) -> list[int]: ...
    def check_timeouts(self, now: float) -> list[int]: ...
    def get(self, id: int) -> MonitorTaskRecord | None: ...
    def active(self) -> list[MonitorTaskRecord]: ...
    def history(self) -> list[MonitorTaskRecord]: ...
    def counts(self) -> MonitorTaskCounts: ...

class MonitorPartitionProgress:
    partition: int
    attempt: int
    state: str
    total_rows: int
    rows: int
    progress: float
    started_at: float
    updated_at: float
    ended_at: float

class MonitorProgressSnapshot:
    total_partitions: int
    completed_partitions: int
    failed_partitions: int
    running_partitions: int
    rows_processed: int
    total_rows: int
    fraction: float
    percent: float
    rows_per_second: float
    average_rows_per_second: float
    elapsed_seconds: float
    estimated_remaining_seconds: float
    interpolated: bool

class MonitorProgress:
    def __init__(self, milestone_interval: float, smoothing: float) -> None: ...
    def reset(self) -> None: ...
    def set_total_partitions(self, n: int) -> None: ...
    def start(self, now: float) -> None: ...
    def start_partition(
        self, partition: int, attempt: int, total_rows: int, now: float
    ) -> tuple[bool, list[float]]: ...
    def update_partition(
        self, partition: int, attempt: int, progress: float, rows: int, total_rows: int, now: float
    ) -> tuple[bool, list[float]]: ...
    def complete_partition(
        self, partition: int, attempt: int, rows: int, now: float
    ) -> tuple[bool, list[float]]: ...
    def fail_partition(self, partition: int, attempt: int, now: float) -> tuple[bool, list[float]]: ...
    def snapshot(self, now: float) -> MonitorProgressSnapshot: ...
    def interpolate(self, now: float) -> MonitorProgressSnapshot: ...
    def partition(self, partition: int) -> MonitorPartitionProgress | None: ...
    def partitions(self) -> list[MonitorPartitionProgress]: ...

class MonitorWorkerRecord:
    worker_id: str
    status: str
    reason: str
    stalled: bool
    registered_at: float
    last_heartbeat: float
    last_activity: float
    cpu_percent: float
    memory_percent: float
    active_tasks: int
    tasks_completed: int
    tasks_failed: int
    total_task_seconds: float
    error_rate: float
    avg_task_seconds: float

class MonitorHealthTransition:
    worker_id: str
    from_status: str
    to_status: str
    stalled: bool
    recovered: bool
    reason: str

class MonitorHealth:
    def __init__(
        self, heartbeat_timeout_seconds: float, stall_threshold_seconds: float,
        memory_warning_percent: float, memory_critical_percent: float, cpu_warning_percent: float,
        error_rate_warning: float, error_rate_critical: float, error_window: int,
        error_rate_min_tasks: int, slow_task_factor: float,
    ) -> None: ...
    def register_worker(self, worker: str, now: float) -> bool: ...
    def unregister_worker(self, worker: str) -> bool: ...
    def heartbeat(
        self, worker: str, cpu_percent: float, memory_percent: float, active_tasks: int, now: float
    ) -> None: ...
    def task_started(self, worker: str, now: float) -> None: ...
    def task_progress(self, worker: str, now: float) -> None: ...
    def task_finished(self, worker: str, duration_seconds: float, success: bool, now: float) -> None: ...
    def evaluate(self, now: float) -> list[MonitorHealthTransition]: ...
    def get(self, worker: str) -> MonitorWorkerRecord: ...
    def contains(self, worker: str) -> bool: ...
    def workers(self) -> list[MonitorWorkerRecord]: ...
    def overall(self) -> str: ...

class MonitorDurationSummary:
    task_type: str
    count: int
    sum: float
    min: float
    max: float
    mean: float
    quantiles: list[tuple[float, float]]

class MonitorMetricsSnapshot:
    counters: list[tuple[str, float]]
    gauges: list[tuple[str, float]]
    all: MonitorDurationSummary
    by_type: list[MonitorDurationSummary]
    workers: list[tuple[str, list[tuple[str, float]]]]
    partition_progress: list[tuple[int, float]]

class MonitorMetrics:
    def __init__(
        self, percentiles: list[float], enable_percentiles: bool, max_samples: int, prefix: str,
        labels: list[tuple[str, str]],
    ) -> None: ...
    def record_task_duration(self, task_type: str, seconds: float) -> None: ...
    def record_partition_progress(self, partition: int, fraction: float) -> None: ...
    def record_worker_metric(self, worker: str, name: str, value: float) -> None: ...
    def remove_worker(self, worker: str) -> None: ...
    def increment_counter(self, name: str, by: float = 1.0) -> None: ...
    def set_gauge(self, name: str, value: float) -> None: ...
    def counter(self, name: str) -> float: ...
    def reset(self) -> None: ...
    def snapshot(self) -> MonitorMetricsSnapshot: ...
    def export_prometheus(self) -> str: ...
    def duration_quantiles(self, qs: list[float]) -> list[float]: ...

def check_parquet_pages(
    footer: ParquetFooter,
    row_groups: list[int],
    leaves: list[int],
    read_at: Callable[[int, int], bytes],
    name: str,
) -> None:
    """Walks the page headers of the column chunks of ``leaves`` (indices into
    ``footer.leaf_paths``) in ``row_groups``, reading with ``read_at(offset, size)``; raises
    SourceReadError naming ``name`` when a page runs past its column chunk or claims more
    uncompressed bytes than its codec can expand its compressed bytes to."""
