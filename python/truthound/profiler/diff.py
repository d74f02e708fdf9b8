"""ProfileDiff: what changed between two profiles of one table, as the engine computed it.

``TableProfile.diff(other)`` hands both profiles' mergeable state to the engine
(``_core.PartialProfile.diff``), which compares them column by column: type changes, null ratio,
distinct count, mean and std, quantiles, top-value shares, pattern match ratios, the PSI over the
base histogram's bins and the Kolmogorov-Smirnov statistic between the two quantile sketches
(with its error bound). This module only reads that JSON; no statistic is computed here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ColumnDiff", "ProfileDiff"]


@dataclass
class ColumnDiff:
    """The changes of one column present in both profiles (the engine's JSON object).

    ``data`` holds every field of ``cpp/include/truthound/profile/diff.hpp``: ``null_ratio``,
    ``distinct_count``, ``mean``, ``std`` and ``quantiles`` (``{base, current, change, ...}``),
    ``psi``, ``ks`` (``{statistic, bound, exact}``), ``top_values``, ``patterns``, ...
    """

    name: str
    data: dict[str, Any]

    @property
    def type_changed(self) -> bool:
        """Whether the column's Arrow type differs between the profiles."""
        return bool(self.data["type_changed"])

    @property
    def psi(self) -> float | None:
        """The population stability index over the base's histogram bins (numeric columns)."""
        value = self.data.get("psi")
        return None if value is None else float(value)

    @property
    def ks(self) -> float | None:
        """The two-sample Kolmogorov-Smirnov statistic from the quantile sketches."""
        ks = self.data.get("ks")
        return None if ks is None else float(ks["statistic"])

    @property
    def ks_bound(self) -> float | None:
        """How far :attr:`ks` may be from the exact statistic (0 when both sketches are exact)."""
        ks = self.data.get("ks")
        return None if ks is None else float(ks["bound"])

    @property
    def changed(self) -> bool:
        """Whether anything of this column changed at all."""
        d = self.data
        parts: list[Any] = [d["type_changed"], d["null_ratio"]["change"], d["top_share_change"],
                            d["pattern_change"], d.get("psi"), self.ks]
        for key in ("distinct_count", "mean", "std"):
            if d.get(key) is not None:
                parts.append(d[key]["change"])
        for q in (d.get("quantiles") or {}).values():
            parts.append(q["change"])
        return any(p for p in parts if p is not None)


@dataclass
class ProfileDiff:
    """What changed from a base profile to a current one: added and removed columns and, per
    column present in both, a :class:`ColumnDiff`.

    >>> import pyarrow as pa
    >>> from truthound.profiler import profile
    >>> p = profile(pa.table({"x": [1.0, 2.0, 3.0]}))
    >>> p.diff(p).is_empty
    True
    """

    base_rows: int
    current_rows: int
    added_columns: list[str] = field(default_factory=list)
    removed_columns: list[str] = field(default_factory=list)
    columns: list[ColumnDiff] = field(default_factory=list)
    base_source: str | None = None
    current_source: str | None = None

    @classmethod
    def from_engine_json(cls, text: str, base_source: str | None = None,
                         current_source: str | None = None) -> ProfileDiff:
        """Read the engine's diff JSON."""
        data = json.loads(text)
        return cls(
            base_rows=data["base_rows"], current_rows=data["current_rows"],
            added_columns=list(data["added_columns"]),
            removed_columns=list(data["removed_columns"]),
            columns=[ColumnDiff(c["name"], c) for c in data["columns"]],
            base_source=base_source, current_source=current_source,
        )

    @property
    def is_empty(self) -> bool:
        """True when nothing changed: same columns, types and statistics."""
        return (not self.added_columns and not self.removed_columns
                and self.base_rows == self.current_rows
                and not any(c.changed for c in self.columns))

    def column(self, name: str) -> ColumnDiff:
        """The diff of column ``name`` (KeyError when it is not in both profiles)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"column {name!r} is not in both profiles")

    def to_dict(self) -> dict[str, Any]:
        """The diff as plain JSON-compatible values (the engine's shape plus the sources)."""
        return {
            "base_source": self.base_source, "current_source": self.current_source,
            "base_rows": self.base_rows, "current_rows": self.current_rows,
            "added_columns": self.added_columns, "removed_columns": self.removed_columns,
            "columns": [c.data for c in self.columns],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The diff as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
