"""How figures read in reports: counts, statistics, shares and byte sizes as text.

Shared by the HTML reports (profile and diff); formatting only, no arithmetic on the data.
"""

from __future__ import annotations

__all__ = ["byte_size", "count", "percent", "statistic"]


def statistic(value: float | None) -> str:
    """A statistic: 4 decimals without trailing zeros, thousands separators, ``%.4g`` when very
    large or small (``1,234.5``, ``0.0713``, ``1.2e+10``); ``-`` when absent."""
    if value is None:
        return "-"
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value != 0 and (abs(value) >= 1e9 or abs(value) < 1e-4):
        return f"{value:.4g}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def count(value: int | None) -> str:
    """A count with thousands separators (``2,000``); ``-`` when absent."""
    return "-" if value is None else f"{value:,}"


def percent(ratio: float | None, digits: int = 1) -> str:
    """A ratio as a percentage (``0.125`` -> ``12.5%``); ``-`` when absent."""
    return "-" if ratio is None else f"{ratio * 100:.{digits}f}%"


def byte_size(n: int | None) -> str:
    """A size in bytes in binary units (``512 B``, ``1.5 MiB``); ``-`` when absent."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
