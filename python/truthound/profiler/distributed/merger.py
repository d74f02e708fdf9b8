"""Merge partial or whole profiles into one, in the engine (DESIGN.md §2).

Row partitions (profiles of the same columns over different rows) merge column by column: counts
add up, moments merge pairwise, min/max are global, distinct counts, quantiles and top values
merge their sketches. Column partitions (disjoint column sets over the same rows) merge by union.
A mix -- column groups, each split in rows (the hybrid strategy) -- merges the rows within each
column group first, then unions the groups. Profiles whose column sets overlap without being equal
(files whose schemas drifted) merge as rows: a column missing from one side counts as nulls there,
and a type conflict raises SchemaError naming the column, the types and the sources.

Duplicate rows cannot be counted from column partitions (no partial sees whole rows): after a
column union ``duplicate_row_count`` is None.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from truthound import _core
from truthound.errors import ConfigurationError
from truthound.profiler.model import TableProfile

__all__ = ["ProfileMerger", "merge_states"]


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


def merge_states(states: Sequence[Any], groups: Sequence[int] | None = None) -> Any:
    """Merge owned engine partials in place and return the merged one.

    ``groups`` gives each state's column group (partitions of the same group hold the same
    columns over different rows); groups are unioned in ascending order. Without ``groups`` the
    states are grouped by column set: disjoint sets are column partitions, anything else rows.
    """
    if not states:
        raise ConfigurationError("nothing to merge: pass at least one profile")
    if groups is None:
        by_columns: dict[frozenset[str], list[Any]] = {}
        for s in states:
            by_columns.setdefault(frozenset(s.column_names), []).append(s)
        sets = list(by_columns)
        disjoint = len(sets) > 1 and all(
            not (a & b) for i, a in enumerate(sets) for b in sets[i + 1 :]
        ) and all(sets)
        if not disjoint:
            return _merge_rows(states)
        grouped = list(by_columns.values())
    else:
        if len(groups) != len(states):
            raise ConfigurationError("merge_states: one group per state")
        ordered: dict[int, list[Any]] = {}
        for g, s in sorted(zip(groups, range(len(states))), key=lambda t: t[0]):
            ordered.setdefault(g, []).append(states[s])
        grouped = list(ordered.values())
    parts = [_merge_rows(g) for g in grouped]
    if len(parts) == 1:
        return parts[0]
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
        self, profiles: Iterable[Any], *, source: str | None = None
    ) -> TableProfile:
        """Merge ``profiles`` (TableProfile objects with state, ``_core.PartialProfile`` objects
        or their bytes); the inputs are not changed. ``source`` names the result's source
        (default: the inputs' common source, or their sources joined with " + ")."""
        started = time.perf_counter()
        items = list(profiles)
        if not items:
            raise ConfigurationError("nothing to merge: pass at least one profile")
        states, names, durations = [], [], 0.0
        for item in items:
            state, name = _state_of(item, copy=True)
            states.append(state)
            if name and name not in names:
                names.append(name)
            if isinstance(item, TableProfile):
                durations += item.profile_duration_ms or 0.0
        merged = merge_states(states)
        if source is None:
            source = " + ".join(names) if names else None
        elapsed = (time.perf_counter() - started) * 1000.0
        return TableProfile._from_state(merged, source=source, profile_duration_ms=durations + elapsed)
