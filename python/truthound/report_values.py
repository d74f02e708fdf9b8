"""How the text reports (console, summary table, markdown) write one figure.

Counts get thousands separators (``rows 2,000``); values of a column are written as the column
holds them (``min 2007`` for a year, strings quoted and cut to a width). Nothing is computed
here: every figure comes from the profile.
"""

from __future__ import annotations

import math
from typing import Any

from truthound.profiler.model import ValueCount

__all__ = ["count_range", "num", "pct", "short", "size", "value"]


def num(x: Any) -> str:
    """A count or a statistic: thousands separators (``2,000``), at most 4 decimals, ``-`` for
    None, ``true``/``false`` for booleans."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if x != 0 and (abs(x) >= 1e9 or abs(x) < 1e-4):
            return f"{x:.4g}"
        return f"{x:,.4f}".rstrip("0").rstrip(".")
    return short(str(x))


def short(text: str, width: int = 32) -> str:
    """``text`` on one line, cut to ``width`` characters (the last one ``…``)."""
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def pct(ratio: float | None, digits: int = 1) -> str:
    """A ratio as a percentage with ``digits`` decimals (``12.5%``)."""
    return "-" if ratio is None else f"{ratio * 100:.{digits}f}%"


def size(n: int | None) -> str:
    """A size in bytes in binary units (``512 B``, ``1.5 MiB``)."""
    if n is None:
        return "-"
    amount = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def value(x: Any, width: int = 24, quote: bool = True) -> str:
    """A value of the column (min, max, quantiles, top values): strings cut to ``width`` and
    quoted (with ``quote=False`` only when empty or with spaces at an end), numbers without
    thousands separators (``2007``, ``1234567.5``)."""
    if isinstance(x, str):
        text = short(x, width)
        return repr(text) if quote or not text or text != text.strip() else text
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return num(x)
    return num(x).replace(",", "")


def count_range(v: ValueCount) -> str:
    """A top or bottom value's count: the exact count, or the range that holds the true count."""
    lo, hi = v.count_lower, v.count_upper
    if lo is None or hi is None or lo == hi:
        return num(v.count)
    return f"{num(lo)}–{num(hi)}"
