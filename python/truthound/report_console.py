"""The console report of a :class:`~truthound.profiler.model.TableProfile`: a header, the alerts,
then one block per column in table order.

A block shows the counts, the range and moments, the quantiles p05/q1/q3/p95, a sparkline of
the engine's histogram (numeric and temporal columns), lengths, patterns, top values and, when
they are exact and say something the top values do not, bottom values. Skewness is shown where a
``skewed`` alert fired. Every figure comes from the profile; this module only writes text.
"""

from __future__ import annotations

from collections.abc import Sequence

from truthound.profiler.model import ColumnProfile, Histogram, TableProfile, ValueCount
from truthound.report_style import Style
from truthound.report_values import count_range, num, pct, size, value

__all__ = ["alert_lines", "render_console", "sparkline"]

_BLOCKS = "▁▂▃▄▅▆▇█"
_LISTED_VALUES = 5  # top and bottom values shown per column


def sparkline(counts: Sequence[int]) -> str:
    """One character per histogram bin, its height proportional to the bin's count: ``█`` for
    the fullest bin, ``▁`` for the least full non-empty one, a space for an empty bin."""
    top = max(counts, default=0)
    if top <= 0:
        return ""
    return "".join(" " if c <= 0 else _BLOCKS[(c * len(_BLOCKS) - 1) // top] for c in counts)


def _header(p: TableProfile, style: Style) -> list[str]:
    dup = ("~" if p.duplicate_rows_approximate else "") + num(p.duplicate_row_count)
    duration = f"{p.profile_duration_ms:,.1f} ms" if p.profile_duration_ms is not None else "-"
    lines = [
        style.bold(f"Profile of {p.source}"),
        f"  rows {num(p.row_count)} · columns {num(p.column_count)} · "
        f"duplicate rows {dup} ({pct(p.duplicate_row_ratio)}) · "
        f"memory {size(p.estimated_memory_bytes)}",
        f"  profiled in {duration} at {p.profiled_at}",
    ]
    run = p.execution
    if run is not None:
        workers = f"{run.num_workers} worker{'s' if run.num_workers != 1 else ''}"
        parts = f"{run.num_partitions} partition{'s' if run.num_partitions != 1 else ''}"
        lines.append(f"  ran on {run.backend} ({run.executor}, {workers}) · "
                     f"{run.partition_strategy}, {parts}")
    return lines


def alert_lines(p: TableProfile, style: Style, indent: str = "  ") -> list[str]:
    """One line per alert of ``p`` (its message), in yellow; none when no alert fired."""
    return [style.warn(f"{indent}! {a.message or a.kind}") for a in p.alerts or ()]


def _alerts(p: TableProfile, style: Style) -> list[str]:
    lines = alert_lines(p, style)
    return ["", style.warn(f"Alerts ({len(lines)})"), *lines] if lines else []


def _values(values: Sequence[ValueCount]) -> str:
    shown = ", ".join(f"{value(v.value)} {count_range(v)}" for v in values[:_LISTED_VALUES])
    more = f", … ({len(values)} kept)" if len(values) > _LISTED_VALUES else ""
    return shown + more


def _histogram(h: Histogram | None, style: Style) -> str | None:
    if h is None or len(h.counts) < 2 or len(h.edges) != len(h.counts) + 1:
        return None
    approx = " (approx.)" if h.approximate else ""
    return (f"  histogram {value(h.edges[0])} {style.accent(sparkline(h.counts))} "
            f"{value(h.edges[-1])}{approx}")


def _counts(c: ColumnProfile) -> str:
    counts = [f"nulls {num(c.null_count)} ({pct(c.null_ratio)})"]
    if c.distinct_count is not None:
        if c.distinct_approximate:
            counts.append(f"distinct ~{num(c.distinct_count)} "
                          f"[{num(c.distinct_count_lower)}..{num(c.distinct_count_upper)}]")
        else:
            counts.append(f"distinct {num(c.distinct_count)}")
    if c.is_unique:
        counts.append("unique")
    if c.is_constant:
        counts.append("constant")
    for label, n in (("empty", c.empty_string_count), ("NaN", c.nan_count), ("inf", c.inf_count),
                     ("zeros", c.zero_count), ("negative", c.negative_count)):
        if n:
            counts.append(f"{label} {num(n)}")
    return "  " + " · ".join(counts)


def _bottom(c: ColumnProfile) -> list[ValueCount] | None:
    """The bottom values to show: when exact (the engine reports them only then) and when the
    top values do not list every value already; never for a unique column (every count is 1)."""
    if not c.bottom_values or c.is_unique or c.distinct_approximate:
        return None
    shown = c.distinct_count is not None and c.distinct_count > len(c.top_values or [])
    return c.bottom_values if shown else None


def _column(c: ColumnProfile, alert_kinds: list[str], style: Style) -> list[str]:
    flags = style.warn("  ! " + ", ".join(alert_kinds)) if alert_kinds else ""
    lines = ["", f"{style.bold(c.name)}  {style.dim(f'[{c.physical_type} → {c.inferred_type}]')}"
                 f"{flags}", _counts(c)]
    if c.true_count is not None or c.false_count is not None:
        lines.append(f"  true {num(c.true_count)} · false {num(c.false_count)}")
    if c.min is not None or c.max is not None:
        rng = [f"min {value(c.min)}", f"max {value(c.max)}"]
        stats: list[tuple[str, object]] = [("mean", c.mean), ("std", c.std), ("median", c.median)]
        if "skewed" in alert_kinds:
            stats.append(("skewness", c.skewness))
        rng.extend(f"{label} {value(x)}" for label, x in stats if x is not None)
        lines.append("  " + " · ".join(rng))
    if c.q1 is not None and c.q3 is not None:
        q = c.quantiles or {}
        marks = [("p05", q.get("p05")), ("q1", c.q1), ("q3", c.q3), ("p95", q.get("p95"))]
        approx = style.dim(" (approx.)") if c.quantiles_approximate else ""
        lines.append("  " + " · ".join(f"{label} {value(x)}" for label, x in marks
                                       if x is not None) + approx)
    hist = _histogram(c.histogram, style)
    if hist is not None:
        lines.append(hist)
    if c.min_length is not None:
        avg = f" (avg {num(c.avg_length)})" if c.avg_length is not None else ""
        lines.append(f"  length {num(c.min_length)}..{num(c.max_length)}{avg}")
    if c.detected_patterns:
        pats = []
        for m in c.detected_patterns:
            sample = f" e.g. {value(m.samples[0])}" if m.samples else ""
            pats.append(f"{m.name} {pct(m.match_ratio)}{sample}")
        lines.append("  patterns: " + ", ".join(pats))
    if c.top_values:
        lines.append(f"  top: {_values(c.top_values)}")
    if c.top_values_note:
        lines.append(f"  top: {c.top_values_note}" if not c.top_values
                     else f"  ({c.top_values_note})")
    bottom = _bottom(c)
    if bottom:
        lines.append(f"  bottom: {_values(bottom)}")
    return lines


def render_console(p: TableProfile, style: Style | None = None) -> str:
    """The readable report of ``p``: header, alerts, one block per column, correlations."""
    style = style or Style()
    lines = _header(p, style) + _alerts(p, style)
    kinds: dict[str, list[str]] = {}
    for a in p.alerts or ():
        for name in (a.column, a.other_column):
            if name is not None and a.kind is not None and a.kind not in kinds.setdefault(name, []):
                kinds[name].append(a.kind)
    for c in p.columns:
        lines.extend(_column(c, kinds.get(c.name, []), style))
    if p.correlations:
        lines.extend(["", style.bold("Correlations (Pearson)")])
        lines.extend(f"  {r.column_a} ~ {r.column_b}: {num(r.pearson)} (n={num(r.count)})"
                     for r in p.correlations)
    return "\n".join(lines) + "\n"
