"""The profiler: ``profile(source, **options) -> TableProfile``."""

from __future__ import annotations

from truthound.profiler.api import profile
from truthound.profiler.model import (
    Alert,
    ColumnProfile,
    Correlation,
    Histogram,
    PatternMatch,
    TableProfile,
    ValueCount,
)
from truthound.profiler.sources import ArrowSource, open_source

__all__ = [
    "Alert",
    "ArrowSource",
    "ColumnProfile",
    "Correlation",
    "Histogram",
    "PatternMatch",
    "TableProfile",
    "ValueCount",
    "open_source",
    "profile",
]
