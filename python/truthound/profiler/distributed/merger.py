"""Merge partial or whole profiles into one, in the engine (DESIGN.md §2).

The caller says how parts combine; nothing is guessed from their column names. By rows (the
default: profiles of other rows of one table), columns merge column by column: counts add up,
moments merge pairwise, min/max are global, distinct counts, quantiles and top values merge their
sketches; a column missing from a part counts that part's rows as nulls, and a type conflict
raises SchemaError naming the column, the types and the sources. By columns (disjoint columns of
the same rows), the result is the union of the columns. The driver's hybrid partitions merge the
rows within each column group first, then unite the groups.

Duplicate rows cannot be counted from column partitions (no partial sees whole rows): after a
column union ``duplicate_row_count`` is None.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from truthound import _core
from truthound.errors import ConfigurationError, SchemaError
from truthound.profiler.model import TableProfile

__all__ = ["ProfileMerger", "MergeHow", "merge_states"]


def _state_of(item: Any, copy: bool) -> tuple[Any, str | None]:
    if isinstance(item, TableProfile):
        state = item._require_state("merge")
        return (_core.PartialProfile.from_bytes(state.to_bytes()) if copy else state), item.source
    if isinstance(item, _core.PartialProfile):
        return (_core.PartialProfile.from_bytes(item.to_bytes()) if copy else item), None
    if isinstance(item, (bytes, bytearray, memoryview)):
        data = bytes(item)
        if data[:4] == b"THTP":
            profile = TableProfile.from_bytes(data)
            return profile._state, profile.source
        return _core.PartialProfile.from_bytes(data), None
    raise TypeError(
        "ProfileMerger.merge takes TableProfile objects (with engine state), "
        f"_core.PartialProfile objects or their bytes, not {type(item).__name__}"
    )


def _merge_rows(states: Sequence[Any]) -> Any:
    merged = states[0]
    for other in states[1:]:
        merged.merge(other)
    return merged


MergeHow = Literal["rows", "columns"]


def check_how(how: object) -> MergeHow:
    if how not in ("rows", "columns"):
        raise ConfigurationError(f"option 'how' must be 'rows' or 'columns', got {how!r}")
    return how


def _check_column_parts(states: Sequence[Any], names: Sequence[str | None]) -> None:
    """Parts merged by columns must hold disjoint columns over the same rows."""

    def part(i: int) -> str:
        return f"part {i}" + (f" ({names[i]})" if names[i] else "")

    owner: dict[str, int] = {}
    for i, s in enumerate(states):
        for c in s.column_names:
            if c in owner:
                raise SchemaError(
                    f"merge how='columns' needs disjoint columns: column {c!r} is in "
                    f"{part(owner[c])} and {part(i)}; merge them how='rows' if they hold other rows"
                )
            owner[c] = i
    rows = [s.row_count for s in states]
    for i, n in enumerate(rows):
        if n != rows[0]:
            raise SchemaError(
                f"merge how='columns' needs parts of the same rows: {part(0)} has {rows[0]} rows, "
                f"{part(i)} has {n}; merge them how='rows' if they hold other rows"
            )


def merge_states(
    states: Sequence[Any], groups: Sequence[int] | None = None, *, how: MergeHow = "rows",
    names: Sequence[str | None] | None = None,
) -> Any:
    """Merge owned engine partials in place and return the merged one.

    ``how="rows"``: the partials hold other rows (a column missing from one counts its rows as
    nulls); ``how="columns"``: disjoint columns of the same rows. ``groups`` (the driver's
    partitions) gives each state's column group: partitions of one group hold the same columns
    over different rows and merge by rows, then the groups merge by columns, in ascending order.
    ``names`` name the parts in errors.
    """
    if not states:
        raise ConfigurationError("nothing to merge: pass at least one profile")
    if groups is None:
        if check_how(how) == "rows":
            return _merge_rows(states)
        _check_column_parts(states, list(names) if names is not None else [None] * len(states))
        grouped = [[s] for s in states]
    else:
        if len(groups) != len(states):
            raise ConfigurationError("merge_states: one group per state")
        ordered: dict[int, list[Any]] = {}
        for g, s in sorted(zip(groups, range(len(states))), key=lambda t: t[0]):
            ordered.setdefault(g, []).append(states[s])
        grouped = list(ordered.values())
    parts = [_merge_rows(g) for g in grouped]
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part, columns=True)
    return merged


class ProfileMerger:
    """Merge distributed processing results into one :class:`TableProfile`.

    >>> import pyarrow as pa
    >>> from truthound.profiler import profile
    >>> t = pa.table({"x": [1, 2, 3, 4]})
    >>> merged = ProfileMerger().merge([profile(t.slice(0, 2)), profile(t.slice(2))])
    >>> merged.row_count, merged["x"].max
    (4, 4)
    """

    def merge(
        self, profiles: Iterable[Any], *, how: MergeHow = "rows", source: str | None = None
    ) -> TableProfile:
        """Merge ``profiles`` (TableProfile objects with state, ``_core.PartialProfile`` objects
        or their bytes); the inputs are not changed.

        ``how="rows"`` (default): the profiles cover other rows of one table; a column missing
        from a part counts that part's rows as nulls (the profile of the union
        ``pyarrow.concat_tables(..., promote_options="default")`` builds; its duplicate rows
        are not counted when the parts' columns differ). ``how="columns"``: they cover other
        columns of the same rows (equal row counts, disjoint columns, else SchemaError).
        ``source`` names the result's source (default: the inputs' common source, or their
        sources joined with " + ")."""
        check_how(how)
        started = time.perf_counter()
        items = list(profiles)
        if not items:
            raise ConfigurationError("nothing to merge: pass at least one profile")
        states, names, durations = [], [], 0.0
        part_names: list[str | None] = []
        for item in items:
            state, name = _state_of(item, copy=True)
            states.append(state)
            part_names.append(name)
            if name and name not in names:
                names.append(name)
            if isinstance(item, TableProfile):
                durations += item.profile_duration_ms or 0.0
        merged = merge_states(states, how=how, names=part_names)
        if source is None:
            source = " + ".join(names) if names else None
        elapsed = (time.perf_counter() - started) * 1000.0
        return TableProfile._from_state(merged, source=source, profile_duration_ms=durations + elapsed)
