"""The profile result model: plain typed dataclasses read from the engine's result JSON.

Every number here comes from ``_core.PartialProfile.finalize()``; this module only moves fields
between the engine's JSON, Python objects, JSON/YAML text and bytes. A :class:`TableProfile`
produced by :func:`truthound.profiler.profile` (or loaded with :meth:`TableProfile.from_bytes`)
also keeps the engine's mergeable state, so it can be merged with a profile of more data later.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from truthound import _core
from truthound.errors import ColumnNotFoundError, CorruptProfileError, TruthoundError

__all__ = [
    "Alert",
    "ColumnProfile",
    "Correlation",
    "Execution",
    "Histogram",
    "PatternMatch",
    "TableProfile",
    "ValueCount",
]

if TYPE_CHECKING:
    from truthound.profiler.diff import ProfileDiff

_T = TypeVar("_T")


def _from_mapping(cls: Any, data: Any, what: str) -> Any:
    """Build dataclass ``cls`` from a mapping: unknown keys are ignored, missing ones take the
    field's default (None, or an empty list: a profile written before a list field existed reads
    as one where nothing was listed)."""
    if not isinstance(data, dict):
        raise CorruptProfileError(f"{what}: expected a JSON object, got {type(data).__name__}")
    kwargs = {
        f.name: data[f.name]
        for f in fields(cls)
        if f.init and not f.name.startswith("_") and f.name in data
    }
    converters: dict[str, Any] = getattr(cls, "_converters", {})
    for name, convert in converters.items():
        if kwargs.get(name) is not None:
            kwargs[name] = convert(kwargs[name], f"{what}.{name}")
    return cls(**kwargs)


def _list_of(cls: type[_T]) -> Any:
    def convert(items: Any, what: str) -> list[_T]:
        if not isinstance(items, list):
            raise CorruptProfileError(f"{what}: expected a JSON array, got {type(items).__name__}")
        return [_from_mapping(cls, item, f"{what}[{i}]") for i, item in enumerate(items)]

    return convert


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class _Record:
    """Shared conversions of the result dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON-compatible Python values (the engine's JSON shape)."""
        return {
            f.name: _plain(getattr(self, f.name))
            for f in fields(self)  # type: ignore[arg-type]
            if not f.name.startswith("_")
        }


@dataclass(eq=True)
class ValueCount(_Record):
    """One row of top/bottom values: the value, its count and share of rows, with count bounds."""

    value: Any = None
    count: int | None = None
    ratio: float | None = None
    count_lower: int | None = None
    count_upper: int | None = None


@dataclass(eq=True)
class Histogram(_Record):
    """Equal-width histogram from min to max: ``len(edges) == len(counts) + 1``. The edges of a
    temporal column are values of the column (ISO 8601 text rounded to its unit, as its
    quantiles); of a numeric or duration column, numbers."""

    edges: list[float | str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    approximate: bool | None = None


@dataclass(eq=True)
class PatternMatch(_Record):
    """A detected pattern: its name, share and count of matching non-null values, samples."""

    name: str | None = None
    match_ratio: float | None = None
    match_count: int | None = None
    samples: list[str] = field(default_factory=list)


@dataclass(eq=True)
class Correlation(_Record):
    """Pearson correlation of two numeric columns over the rows where both are valid."""

    column_a: str | None = None
    column_b: str | None = None
    pearson: float | None = None
    count: int | None = None


@dataclass(eq=True)
class Alert(_Record):
    """Something in the data worth a look, found by the engine's finalize from the profile: its
    ``kind`` (``constant``, ``all_null``, ``high_null_ratio``, ``unique``, ``high_cardinality``,
    ``imbalanced``, ``skewed``, ``zeros``, ``infinite``, ``mixed_types``, ``duplicate_rows``,
    ``high_correlation``), the column (``None`` for the table; ``other_column`` for a pair), the
    figure that fired it, the threshold it exceeded and a one-line message naming all three."""

    kind: str | None = None
    column: str | None = None
    other_column: str | None = None
    value: float | None = None
    threshold: float | None = None
    message: str | None = None


@dataclass(eq=True)
class Execution(_Record):
    """How a profile ran: the backend, its executor (threads, processes, ...) and number of
    workers, the partition strategy and the number of partitions the source was split into."""

    backend: str | None = None
    executor: str | None = None
    num_workers: int | None = None
    partition_strategy: str | None = None
    num_partitions: int | None = None


@dataclass(eq=True, repr=False)
class ColumnProfile(_Record):
    """The profile of one column. Fields that do not apply to the column's type are ``None``.

    Values (``min``, ``max``, quantiles, top values) are numbers for numeric columns, strings for
    string, temporal (ISO 8601) and decimal columns, hex strings for binary columns and booleans
    for boolean columns.
    """

    name: str
    physical_type: str | None = None
    inferred_type: str | None = None
    # counts
    row_count: int | None = None
    null_count: int | None = None
    null_ratio: float | None = None
    empty_string_count: int | None = None
    nan_count: int | None = None
    inf_count: int | None = None
    zero_count: int | None = None
    negative_count: int | None = None
    # uniqueness
    distinct_count: int | None = None
    distinct_count_lower: int | None = None
    distinct_count_upper: int | None = None
    distinct_approximate: bool | None = None
    unique_ratio: float | None = None
    is_unique: bool | None = None
    is_constant: bool | None = None
    # distribution
    mean: float | None = None
    std: float | None = None
    variance: float | None = None
    skewness: float | None = None
    kurtosis: float | None = None
    min: Any = None
    max: Any = None
    median: Any = None
    q1: Any = None
    q3: Any = None
    quantiles: dict[str, Any] | None = None
    quantiles_approximate: bool | None = None
    quantile_rank_error: float | None = None
    histogram: Histogram | None = None
    # values
    top_values: list[ValueCount] | None = None
    top_values_approximate: bool | None = None
    bottom_values: list[ValueCount] | None = None
    # why top_values lists fewer values than asked for (approximate columns only)
    top_values_note: str | None = None
    # strings (characters) and lists (elements)
    min_length: int | None = None
    max_length: int | None = None
    avg_length: float | None = None
    # booleans
    true_count: int | None = None
    false_count: int | None = None
    # temporal
    min_date: str | None = None
    max_date: str | None = None
    # patterns
    detected_patterns: list[PatternMatch] | None = None

    _converters: ClassVar[dict[str, Any]] = {
        "histogram": lambda v, what: _from_mapping(Histogram, v, what),
        "top_values": _list_of(ValueCount),
        "bottom_values": _list_of(ValueCount),
        "detected_patterns": _list_of(PatternMatch),
    }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnProfile:
        """Build a column profile from the engine's JSON object of one column."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise CorruptProfileError("column profile: expected a JSON object with a 'name'")
        return _from_mapping(cls, data, f"column {data['name']!r}")

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}", f"type={self.physical_type}/{self.inferred_type}"]
        parts.append(f"rows={self.row_count}")
        parts.append(f"nulls={self.null_count}")
        if self.distinct_count is not None:
            approx = "~" if self.distinct_approximate else ""
            parts.append(f"distinct={approx}{self.distinct_count}")
        if self.min is not None or self.max is not None:
            parts.append(f"min={self.min!r}")
            parts.append(f"max={self.max!r}")
        if self.mean is not None:
            parts.append(f"mean={self.mean:.6g}")
        return f"ColumnProfile({', '.join(parts)})"


# The wrapper around the engine's state in TableProfile.to_bytes():
#
#   offset  size  field
#   0       4     magic b"THTP"
#   4       2     wrapper format version, little-endian (1)
#   6       2     reserved, 0
#   8       4     M: length of the metadata JSON, little-endian
#   12      M     metadata JSON (UTF-8): source, profiled_at, profile_duration_ms
#   12+M    ...   the engine's PartialProfile bytes (own header, version and checksum)
_MAGIC = b"THTP"
_WRAPPER_VERSION = 1
_HEADER = struct.Struct("<4sHHI")


def _utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_META_KEYS = ("source", "profiled_at", "profile_duration_ms", "execution")


def _meta_text(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorruptProfileError(
            f"profile metadata is malformed: '{key}' must be a string or null, "
            f"got {type(value).__name__}"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate from a \ud800 escape
        raise CorruptProfileError(
            f"profile metadata is malformed: '{key}' is not valid Unicode text"
        ) from exc
    return value


_EXECUTION_TEXT = ("backend", "executor", "partition_strategy")
_EXECUTION_COUNTS = ("num_workers", "num_partitions")


def _read_execution(value: Any) -> Execution | None:
    """The ``execution`` of the wrapper's metadata (absent in profiles of older versions)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= set(_EXECUTION_TEXT + _EXECUTION_COUNTS):
        raise CorruptProfileError(
            "profile metadata is malformed: 'execution' must be an object with "
            + ", ".join(_EXECUTION_TEXT + _EXECUTION_COUNTS)
        )
    for key in _EXECUTION_TEXT:
        _meta_text(value, key)
    for key in _EXECUTION_COUNTS:
        n = value.get(key)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise CorruptProfileError(
                f"profile metadata is malformed: 'execution.{key}' must be a count, got {n!r}"
            )
    return Execution(**value)


def _read_metadata(meta: Any) -> tuple[str | None, str | None, float | None]:
    """(source, profiled_at, profile_duration_ms) of the wrapper's metadata JSON, checked so that
    a profile that loads can also be printed, merged and saved again."""
    if not isinstance(meta, dict):
        raise CorruptProfileError(
            f"profile metadata is malformed: expected a JSON object, got {type(meta).__name__}"
        )
    unknown = sorted(set(meta) - set(_META_KEYS))
    if unknown:
        raise CorruptProfileError(
            f"profile metadata is malformed: unknown field {unknown[0]!r} "
            f"(expected {', '.join(_META_KEYS)})"
        )
    source = _meta_text(meta, "source")
    profiled_at = _meta_text(meta, "profiled_at")
    if profiled_at is not None:
        try:
            datetime.fromisoformat(profiled_at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CorruptProfileError(
                "profile metadata is malformed: 'profiled_at' is not an ISO 8601 timestamp: "
                f"{profiled_at[:64]!r}"
            ) from exc
    duration = meta.get("profile_duration_ms")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise CorruptProfileError(
                "profile metadata is malformed: 'profile_duration_ms' must be a number or null, "
                f"got {type(duration).__name__}"
            )
        try:
            value = float(duration)
        except OverflowError:  # an integer beyond the range of a float
            value = math.inf
        if not math.isfinite(value) or value < 0:
            raise CorruptProfileError(
                "profile metadata is malformed: 'profile_duration_ms' must be a finite number "
                f">= 0, got {str(duration)[:32]}"
            )
        return source, profiled_at, value
    return source, profiled_at, None


@dataclass(eq=True, repr=False)
class TableProfile(_Record):
    """The profile of a table: table-level fields and one :class:`ColumnProfile` per column.

    >>> import pyarrow as pa
    >>> from truthound.profiler import profile
    >>> p = profile(pa.table({"id": [1, 2, 3], "city": ["Oslo", "Rome", "Oslo"]}))
    >>> p.row_count, p["city"].distinct_count
    (3, 2)
    >>> TableProfile.from_bytes(p.to_bytes()).merge(p).row_count
    6
    """

    source: str | None = None
    profiled_at: str | None = None
    profile_duration_ms: float | None = None
    # How the run that made this profile ran (None after a merge or for an engine partial).
    execution: Execution | None = None
    row_count: int | None = None
    column_count: int | None = None
    estimated_memory_bytes: int | None = None
    duplicate_row_count: int | None = None
    duplicate_row_ratio: float | None = None
    duplicate_rows_approximate: bool | None = None
    # Every source this profile covers (more than one after a merge), as the engine records them.
    sources: list[str] = field(default_factory=list)
    correlations: list[Correlation] = field(default_factory=list)
    # What the engine's finalize flagged (empty when nothing fired; see Alert).
    alerts: list[Alert] = field(default_factory=list)
    columns: list[ColumnProfile] = field(default_factory=list)
    # The engine's mergeable state (a _core.PartialProfile); None for a profile read from JSON.
    _state: Any = field(default=None, compare=False)
    # Or the serialized states of disjoint column groups of the same rows (a profile planned in
    # column groups to bound memory, see distributed/memory.py), united into _state on first use.
    _state_parts: tuple[bytes, ...] = field(default=(), compare=False)

    _converters: ClassVar[dict[str, Any]] = {
        "execution": lambda v, what: _from_mapping(Execution, v, what),
        "correlations": _list_of(Correlation),
        "alerts": _list_of(Alert),
        "columns": lambda v, what: [
            ColumnProfile.from_dict(c) if isinstance(c, dict) else _bad_column(c, what) for c in v
        ]
        if isinstance(v, list)
        else _bad_column(v, what),
    }

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableProfile:
        """Build a table profile from a dict in the shape of :meth:`to_dict` (no engine state)."""
        return _from_mapping(cls, data, "table profile")

    @classmethod
    def from_json(cls, text: str | bytes) -> TableProfile:
        """Read a profile written by :meth:`to_json` (or the engine's result JSON).

        A profile read from JSON has no engine state: it cannot be merged or turned into bytes.
        """
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptProfileError(f"profile JSON is malformed: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def _from_column_groups(
        cls, result: dict[str, Any], parts: tuple[bytes, ...], *, source: str | None
    ) -> TableProfile:
        """The profile of a run planned in column groups: ``result`` is the groups' finalized
        results assembled (distributed.memory.assemble_columns), ``parts`` their states."""
        result = dict(result, source=source, profiled_at=_utc_now_iso(), profile_duration_ms=None)
        profile = cls.from_dict(result)
        profile._state_parts = parts
        return profile

    @classmethod
    def _from_state(
        cls,
        state: Any,
        *,
        source: str | None,
        profiled_at: str | None = None,
        profile_duration_ms: float | None = None,
    ) -> TableProfile:
        result = json.loads(state.finalize())
        result["source"] = source
        result["profiled_at"] = profiled_at or _utc_now_iso()
        result["profile_duration_ms"] = profile_duration_ms
        profile = cls.from_dict(result)
        profile._state = state
        return profile

    # ------------------------------------------------------------------ output

    def to_json(self, indent: int | None = 2) -> str:
        """The full profile as JSON text (without the engine state; see :meth:`to_bytes`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """The report as one self-contained HTML page (inline CSS and SVG charts, no network
        requests); also written to ``path`` atomically when given. See
        :mod:`truthound.report_html`."""
        from truthound.report_html import render_html, write_html

        return render_html(self) if path is None else write_html(self, path)

    # ------------------------------------------------------------------ mergeable state

    @property
    def has_state(self) -> bool:
        """Whether this profile carries the engine's mergeable state (False after from_json)."""
        return self._state is not None or bool(self._state_parts)

    def _require_state(self, action: str) -> Any:
        if self._state is None and self._state_parts:
            # the column groups united as the engine merges column partitions
            states = [_core.PartialProfile.from_bytes(b) for b in self._state_parts]
            for other in states[1:]:
                states[0].merge(other, columns=True)
            self._state, self._state_parts = states[0], ()
        if self._state is None:
            raise TruthoundError(
                f"cannot {action} a profile without engine state (one loaded from JSON/YAML); "
                "save profiles with to_bytes() and load them with TableProfile.from_bytes() to "
                "merge them later"
            )
        return self._state

    def to_bytes(self) -> bytes:
        """The mergeable engine state and the metadata, as versioned bytes.

        :meth:`from_bytes` restores a profile equal to this one that can still be merged.
        """
        state = self._require_state("serialize")
        meta = json.dumps(
            {
                "source": self.source,
                "profiled_at": self.profiled_at,
                "profile_duration_ms": self.profile_duration_ms,
                "execution": self.execution.to_dict() if self.execution is not None else None,
            },
            ensure_ascii=False,
            allow_nan=False,  # from_bytes rejects NaN and infinities
        ).encode()
        return _HEADER.pack(_MAGIC, _WRAPPER_VERSION, 0, len(meta)) + meta + state.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> TableProfile:
        """Restore a profile written by :meth:`to_bytes`; CorruptProfileError on bad bytes."""
        data = bytes(data)
        if len(data) < _HEADER.size:
            raise CorruptProfileError(
                f"profile bytes are truncated: expected at least {_HEADER.size} bytes, got {len(data)}"
            )
        magic, version, reserved, meta_len = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise CorruptProfileError(
                f"not a truthound profile: expected magic {_MAGIC!r}, got {magic!r}"
            )
        if version != _WRAPPER_VERSION:
            raise CorruptProfileError(
                f"unsupported profile format version: expected {_WRAPPER_VERSION}, got {version}"
            )
        if reserved != 0:
            raise CorruptProfileError(
                f"profile bytes are corrupted: reserved header field is {reserved}, expected 0"
            )
        end = _HEADER.size + meta_len
        if end > len(data):
            raise CorruptProfileError(
                f"profile bytes are truncated: metadata needs {end} bytes, got {len(data)}"
            )
        try:
            # NaN and Infinity are not JSON; to_bytes never writes them.
            meta = json.loads(data[_HEADER.size : end].decode(), parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise CorruptProfileError(f"profile metadata is malformed: {exc}") from exc
        source, profiled_at, duration = _read_metadata(meta)
        execution = _read_execution(meta.get("execution"))
        state = _core.PartialProfile.from_bytes(data[end:])
        profile = cls._from_state(
            state, source=source, profiled_at=profiled_at, profile_duration_ms=duration
        )
        profile.execution = execution
        return profile

    def merge(self, other: TableProfile, how: str = "rows") -> TableProfile:
        """A new profile of both profiles' data (neither input is changed).

        ``how="rows"`` (default): ``other`` profiles other rows of the same table; a column one
        side lacks counts that side's rows as nulls. ``how="columns"``: ``other`` profiles other
        columns of the same rows (equal row counts, disjoint columns, else SchemaError).
        ``profile_duration_ms`` of the result is the sum of both; ``source`` lists both sources.
        """
        if not isinstance(other, TableProfile):
            raise TypeError(f"can only merge a TableProfile, not {type(other).__name__}")
        from truthound.profiler.distributed.merger import ProfileMerger, check_how

        return ProfileMerger().merge([self, other], how=check_how(how))

    def diff(self, other: TableProfile) -> ProfileDiff:
        """What changed from this profile (the base) to ``other`` (the current data), computed
        by the engine from both profiles' mergeable state: added/removed columns, type changes,
        null ratio, distinct count, mean/std, quantiles, top-value shares, pattern ratios, PSI
        and the Kolmogorov-Smirnov statistic with its bound (see :class:`ProfileDiff`)."""
        if not isinstance(other, TableProfile):
            raise TypeError(f"can only diff a TableProfile, not {type(other).__name__}")
        from truthound.profiler.diff import ProfileDiff

        base, current = self._require_state("diff"), other._require_state("diff")
        return ProfileDiff.from_engine_json(base.diff(current), self.source, other.source)

    # ------------------------------------------------------------------ lookup

    @property
    def column_names(self) -> list[str]:
        """The profiled column names, in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnProfile:
        """The profile of column ``name``; ColumnNotFoundError lists the available ones."""
        for c in self.columns:
            if c.name == name:
                return c
        raise ColumnNotFoundError(
            f"column {name!r} not found in the profile; available columns: "
            + ", ".join(self.column_names)
        )

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.column(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __repr__(self) -> str:
        dup = self.duplicate_row_count
        dup_text = f"~{dup}" if self.duplicate_rows_approximate else str(dup)
        duration = (
            f"{self.profile_duration_ms:.1f} ms" if self.profile_duration_ms is not None else "?"
        )
        return (
            f"TableProfile(source={self.source!r}, rows={self.row_count}, "
            f"columns={self.column_count}, duplicates={dup_text}, duration={duration}, "
            f"mergeable={self.has_state})"
        )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _bad_column(value: Any, what: str) -> list[ColumnProfile]:
    raise CorruptProfileError(f"{what}: expected a JSON array of column objects")
