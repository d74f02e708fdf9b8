"""The HTML report of a :class:`~truthound.profiler.model.TableProfile`: one self-contained page.

The page needs nothing but itself: the styles are inline, the charts are inline SVG drawn here
from the engine's figures (histogram edges and counts, quantiles, Pearson correlations), and one
small inline script filters the column index. No statistic is computed here: the only arithmetic
is layout (bar heights, positions on an axis, a cell's colour from its correlation). Every value
from the profile is escaped; approximate figures carry a ``~`` whose tooltip states the bound.

Sections: the overview (size, duplicates, how the profile ran, its sources), the alerts, the
correlation heat map when correlations were computed, then one section per column with its
counts, statistics, quantiles, histogram, top and bottom values and patterns. Column sections
use ``content-visibility: auto``, so a browser lays out only the ones on screen (at 500 columns
the load event came after 0.5-1.6 s with it, 2.5-2.8 s without; bench/html_report.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from truthound._html import page, text
from truthound.profiler.model import (
    Alert,
    ColumnProfile,
    Correlation,
    Histogram,
    PatternMatch,
    TableProfile,
    ValueCount,
)
from truthound.report_values import num, pct
from truthound.report_values import size as byte_size

__all__ = ["render_html", "write_html"]

# Longest value shown whole; a longer one is cut with "…" and shown in its tooltip, itself cut
# at _TOOLTIP characters (a column's min or max can be a whole document).
_CUT = 64
_TOOLTIP = 1000
# The heat map draws at most this many columns; beyond, the strongest pairs are listed instead.
_HEATMAP_MAX = 60
_STRONGEST_PAIRS = 50


def render_html(profile: TableProfile) -> str:
    """The report of ``profile`` as one self-contained HTML page (see the module docstring)."""
    # a profile built by from_dict() from JSON that lacks a list has None there
    columns, pairs, alerts = profile.columns or [], profile.correlations or [], profile.alerts or []
    ids = {c.name: f"c{i}" for i, c in enumerate(columns)}
    by_column: dict[str, list[Alert]] = {}
    for a in alerts:
        for name in dict.fromkeys((a.column, a.other_column)):
            if name is not None:
                by_column.setdefault(name, []).append(a)
    title = f"Profile of {profile.source}" if profile.source else "Profile"
    main = [
        f"<header><h1>{text(title)}</h1>{_subtitle(profile)}</header>",
        _overview(profile),
        _alerts(alerts, ids),
    ]
    if pairs:
        main.append(_correlations(columns, pairs, ids))
    main.append('<h2 id="columns">Columns</h2>')
    main.extend(_column(c, f"c{i}", by_column.get(c.name, [])) for i, c in enumerate(columns))
    nav = _nav(columns, by_column, len(alerts), bool(pairs))
    return page(title, f"{nav}<main>{''.join(main)}</main>", _CSS, _SCRIPT)


# --------------------------------------------------------------------------- small pieces


def _approx(shown: str, bound: str) -> str:
    """An approximate figure (HTML ``shown``): a marked ``~`` whose tooltip says the bound."""
    return f'<span class="ap" title="{text(bound)}">~</span>{shown}'


def _value(value: Any) -> str:
    """A value of a column (min, max, a quantile, a top value) as HTML: numbers as the column
    holds them (no thousands separators), text cut at _CUT characters (whole in the tooltip)."""
    if value is None:
        return '<span class="na">-</span>'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return num(value).replace(",", "")
    s = str(value)
    if s == "":
        return '<span class="na">(empty)</span>'
    if len(s) > _CUT:
        whole = s if len(s) <= _TOOLTIP else s[: _TOOLTIP - 1] + "…"
        return f'<span title="{text(whole)}">{text(s[: _CUT - 1])}…</span>'
    return text(s)


def _kv(pairs: Iterable[tuple[str, str]]) -> str:
    """A table of (label, HTML value) rows, the values right-aligned."""
    rows = "".join(f"<tr><th>{text(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f'<table class="kv">{rows}</table>'


def _u(v: float) -> str:
    """An SVG coordinate: one decimal at most (``15``, ``4.5``)."""
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _card(title: str, content: str, cls: str = "") -> str:
    extra = f" {cls}" if cls else ""
    return f'<div class="card{extra}"><h4>{text(title)}</h4>{content}</div>'


def _duration(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms / 1000:,.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


# --------------------------------------------------------------------------- table sections


def _subtitle(p: TableProfile) -> str:
    when = f"profiled at {text(p.profiled_at)}" if p.profiled_at else ""
    return f'<p class="sub">{when}</p>' if when else ""


def _overview(p: TableProfile) -> str:
    dup = f"{num(p.duplicate_row_count)} ({pct(p.duplicate_row_ratio)})"
    if p.duplicate_row_count is None:
        dup = '<span class="na" title="not known after profiling by columns, or with list, map ' \
              'or union columns">-</span>'
    elif p.duplicate_rows_approximate:
        dup = _approx(dup, "approximate: counted on a sample of rows chosen by hash, every copy "
                           "of a row kept or dropped together")
    size = [
        ("Rows", num(p.row_count)),
        ("Columns", num(p.column_count)),
        ("Memory (Arrow buffers)", byte_size(p.estimated_memory_bytes)),
        ("Duplicate rows", dup),
    ]
    run = [("Duration", _duration(p.profile_duration_ms))]
    ex = p.execution
    if ex is not None:
        run += [
            ("Backend", text(ex.backend or "-")),
            ("Executor", text(ex.executor or "-")),
            ("Workers", num(ex.num_workers)),
            ("Partitions", f"{num(ex.num_partitions)} ({text(ex.partition_strategy or '-')})"),
        ]
    else:
        run.append(("Execution", "- (merged, or not recorded)"))
    sources = p.sources or ([p.source] if p.source else [])
    items = "".join(f"<li>{_value(s)}</li>" for s in sources[:10])
    if len(sources) > 10:
        rest = "".join(f"<li>{_value(s)}</li>" for s in sources[10:])
        items += f"<li><details><summary>{len(sources) - 10:,} more</summary><ul>{rest}</ul>" \
                 "</details></li>"
    return (
        '<section id="overview"><h2>Overview</h2><div class="grid">'
        + _card("Table", _kv(size))
        + _card("Run", _kv(run))
        + _card(f"Sources ({len(sources):,})", f'<ul class="src">{items}</ul>', "wide")
        + "</div></section>"
    )


def _column_link(name: str | None, ids: dict[str, str]) -> str:
    if name is None:
        return '<span class="na">table</span>'
    if name in ids:
        return f'<a href="#{ids[name]}">{text(name)}</a>'
    return text(name)


def _alerts(alerts: Sequence[Alert], ids: dict[str, str]) -> str:
    if not alerts:
        return '<section id="alerts"><h2>Alerts</h2><p class="na">No alerts.</p></section>'
    rows = []
    for a in alerts:
        where = _column_link(a.column, ids)
        if a.other_column is not None:
            where += " ~ " + _column_link(a.other_column, ids)
        rows.append(f'<tr><td><span class="kind">{text(a.kind or "-")}</span></td>'
                    f"<td>{where}</td><td>{text(a.message or '')}</td></tr>")
    return (f'<section id="alerts"><h2>Alerts ({len(alerts):,})</h2><div class="box">'
            '<table class="list"><tr><th>kind</th><th>column</th><th>what</th></tr>'
            + "".join(rows) + "</table></div></section>")


def _heat_colour(r: float | None) -> str:
    """The fill of a heat map cell: white at 0, red towards +1, blue towards -1."""
    if r is None or r != r:
        return "#eee"
    t = min(abs(r), 1.0)
    end = (200, 40, 40) if r > 0 else (40, 90, 200)
    rgb = (round(255 + (c - 255) * t) for c in end)
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _correlations(columns: Sequence[ColumnProfile], pairs: Sequence[Correlation],
                  ids: dict[str, str]) -> str:
    """The heat map of the pairs (columns in table order), and the strongest pairs beyond
    _HEATMAP_MAX columns."""
    involved = {name for r in pairs for name in (r.column_a, r.column_b)}
    names = [c.name for c in columns if c.name in involved]
    parts = ['<section id="correlations"><h2>Correlations (Pearson, '
             f"{len(pairs):,} pairs)</h2>", _heatmap(names[:_HEATMAP_MAX], pairs)]
    if len(names) > _HEATMAP_MAX:
        strongest = sorted((r for r in pairs if r.pearson is not None),
                           key=lambda r: -abs(r.pearson or 0.0))[:_STRONGEST_PAIRS]
        rows = "".join(
            f"<tr><td>{_column_link(r.column_a, ids)} ~ {_column_link(r.column_b, ids)}</td>"
            f'<td class="n">{num(r.pearson)}</td><td class="n">{num(r.count)}</td></tr>'
            for r in strongest)
        parts.append(f'<p class="na">The map shows the first {_HEATMAP_MAX} of '
                     f"{len(names):,} columns; the {len(strongest)} strongest pairs:</p>"
                     '<div class="box"><table class="list"><tr><th>pair</th><th>r</th>'
                     f"<th>rows</th></tr>{rows}</table></div>")
    parts.append("</section>")
    return "".join(parts)


def _heatmap(names: Sequence[str], pairs: Sequence[Correlation]) -> str:
    index = {n: i for i, n in enumerate(names)}
    k = len(names)
    cell = max(8, min(28, 560 // max(k, 1)))
    label = 8 + min(24, max((len(n) for n in names), default=1)) * 6
    size = label + k * cell
    out = [f'<svg class="heat" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
           f'role="img" aria-label="correlation heat map of {k} columns">']
    for i, n in enumerate(names):
        short = n if len(n) <= 24 else n[:23] + "…"
        y = label + i * cell + cell / 2
        out.append(f'<text x="{label - 4}" y="{y:.1f}" text-anchor="end" '
                   f'dominant-baseline="middle">{text(short)}</text>')
        out.append(f'<text transform="translate({y:.1f},{label - 4}) rotate(-90)" '
                   f'dominant-baseline="middle">{text(short)}</text>')
    for r in pairs:
        a, b = index.get(r.column_a or ""), index.get(r.column_b or "")
        if a is None or b is None:
            continue
        tip = text(f"{r.column_a} ~ {r.column_b}: r = {num(r.pearson)} "
                   f"over {num(r.count)} rows")
        fill = _heat_colour(r.pearson)
        for row, col in ((a, b), (b, a)):
            out.append(f'<rect x="{label + col * cell}" y="{label + row * cell}" '
                       f'width="{cell - 1}" height="{cell - 1}" fill="{fill}">'
                       f"<title>{tip}</title></rect>")
    out.append("</svg>")
    legend = ('<p class="legend"><span style="background:#285ac8"></span> -1 '
              '<span style="background:#fff"></span> 0 <span style="background:#c82828"></span>'
              " +1</p>")
    return '<div class="scroll">' + "".join(out) + "</div>" + legend


def _nav(columns: Sequence[ColumnProfile], by_column: dict[str, list[Alert]], n_alerts: int,
         correlations: bool) -> str:
    """The column index (each entry linked to its section, a dot when it has alerts) and its
    filter box."""
    items = []
    for i, c in enumerate(columns):
        flag = ' <span class="dot" title="has alerts">●</span>' if c.name in by_column else ""
        items.append(f'<li data-name="{text(c.name)}"><a href="#c{i}">{text(c.name)}'
                     f'</a>{flag} <small>{text(c.inferred_type or "")}</small></li>')
    top = ['<a href="#overview">Overview</a>', f'<a href="#alerts">Alerts ({n_alerts:,})</a>']
    if correlations:
        top.append('<a href="#correlations">Correlations</a>')
    return ('<nav><p class="top">' + " · ".join(top) + "</p>"
            f'<input id="q" type="search" placeholder="Filter {len(columns):,} columns" '
            'aria-label="Filter columns"><ol>' + "".join(items) + "</ol></nav>")


# --------------------------------------------------------------------------- one column


def _column(c: ColumnProfile, cid: str, alerts: Sequence[Alert]) -> str:
    badges = []
    if c.is_unique:
        badges.append('<span class="badge">unique</span>')
    if c.is_constant:
        badges.append('<span class="badge">constant</span>')
    head = (f'<h3><a href="#{cid}">{text(c.name)}</a> <span class="ty">{text(c.physical_type)}'
            f" → {text(c.inferred_type)}</span>{' '.join(badges)}</h3>")
    notes = ""
    if alerts:
        notes = '<ul class="alerts">' + "".join(
            f'<li><span class="kind">{text(a.kind or "-")}</span> {text(a.message or "")}</li>'
            for a in alerts) + "</ul>"
    cards = [_card("Counts", _kv(_counts(c)))]
    stats = _statistics(c)
    if stats:
        cards.append(_card("Statistics", _kv(stats)))
    if c.quantiles or c.median is not None:
        cards.append(_quantiles(c))
    if c.histogram is not None and c.histogram.counts:
        cards.append(_card("Histogram", _histogram(c, c.histogram), "chart"))
    if c.top_values or c.top_values_note:
        cards.append(_values("Top values", c.top_values or [], c.top_values_note))
    if c.bottom_values:
        cards.append(_values("Bottom values", c.bottom_values, None))
    if c.detected_patterns:
        cards.append(_patterns(c.detected_patterns))
    return (f'<section class="col" id="{cid}" data-name="{text(c.name)}">{head}{notes}'
            f'<div class="grid">{"".join(cards)}</div></section>')


def _counts(c: ColumnProfile) -> list[tuple[str, str]]:
    rows = [("Rows", num(c.row_count)),
            ("Nulls", f"{num(c.null_count)} ({pct(c.null_ratio)})")]
    if c.distinct_count is not None:
        distinct = f"{num(c.distinct_count)} ({pct(c.unique_ratio)})"
        if c.distinct_approximate:
            distinct = _approx(
                distinct, f"approximate (HyperLogLog): between {num(c.distinct_count_lower)} "
                          f"and {num(c.distinct_count_upper)}")
            distinct += (f'<br><small>{num(c.distinct_count_lower)}–'
                         f"{num(c.distinct_count_upper)}</small>")
        rows.append(("Distinct", distinct))
    for label, value in (("Empty strings", c.empty_string_count), ("NaN", c.nan_count),
                         ("Infinite", c.inf_count), ("Zeros", c.zero_count),
                         ("Negative", c.negative_count), ("True", c.true_count),
                         ("False", c.false_count)):
        if value is not None:
            rows.append((label, num(value)))
    return rows


def _statistics(c: ColumnProfile) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if c.min is not None or c.max is not None:
        rows += [("Min", _value(c.min)), ("Max", _value(c.max))]
    for label, value in (("Mean", c.mean), ("Std", c.std), ("Variance", c.variance),
                         ("Skewness", c.skewness), ("Kurtosis (excess)", c.kurtosis)):
        if value is not None:
            rows.append((label, num(value)))
    if c.min_length is not None:
        rows.append(("Length", f"{num(c.min_length)} – {num(c.max_length)}"))
        if c.avg_length is not None:
            rows.append(("Mean length", num(c.avg_length)))
    if c.min_date is not None or c.max_date is not None:
        rows.append(("Date range", f"{_value(c.min_date)} – {_value(c.max_date)}"))
    return rows


def _rank_bound(c: ColumnProfile) -> str:
    return (f"approximate (KLL sketch): within ±{pct(c.quantile_rank_error, 2)} of rank of "
            "the true quantile")


def _quantiles(c: ColumnProfile) -> str:
    quantiles = c.quantiles or {"p25": c.q1, "p50": c.median, "p75": c.q3}
    approx = bool(c.quantiles_approximate)
    rows = []
    for name, value in quantiles.items():
        shown = _value(value)
        rows.append((name, _approx(shown, _rank_bound(c)) if approx else shown))
    note = f'<p class="na">~ ±{pct(c.quantile_rank_error, 2)} of rank</p>' if approx else ""
    return _card("Quantiles", _kv(rows) + note)


# The histogram's drawing area, in SVG units; the labels sit below it.
_W, _H, _LABELS = 300.0, 80.0, 30.0


def _histogram(c: ColumnProfile, h: Histogram) -> str:
    """Bars of the engine's counts over its edges, and under them the quantiles p05..p95 as a
    box (p25..p75) with a median tick, placed on the same axis."""
    n = len(h.counts)
    tallest = max(h.counts) or 1
    width = _W / n
    lo, hi = h.edges[0], h.edges[-1]
    bars = []
    for i, k in enumerate(h.counts):
        height = 0.0 if k == 0 else max(1.0, k / tallest * _H)
        tip = f"{_value(h.edges[i])} – {_value(h.edges[i + 1])}: {num(k)}"
        bars.append(f'<rect x="{_u(i * width)}" y="{_u(_H - height)}" '
                    f'width="{_u(max(width - 1, 0.5))}" height="{_u(height)}">'
                    f"<title>{tip}</title></rect>")
    box = ""
    q = c.quantiles or {}
    marks = [q.get(k) for k in ("p05", "p25", "p50", "p75", "p95")]
    # numeric edges only: a temporal column's edges and quantiles are ISO 8601 text
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and hi > lo and \
            all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in marks):
        x = [(float(v) - lo) / (hi - lo) * _W for v in marks]  # type: ignore[arg-type]
        y = _H + 8
        box = (f'<g class="box"><title>p05 {_value(marks[0])} · p25 {_value(marks[1])} · '
               f"median {_value(marks[2])} · p75 {_value(marks[3])} · p95 {_value(marks[4])}"
               f'</title><line x1="{_u(x[0])}" x2="{_u(x[4])}" y1="{y}" y2="{y}"/>'
               f'<rect x="{_u(x[1])}" y="{y - 4}" width="{_u(max(x[3] - x[1], 1.0))}" '
               f'height="8"/><line class="med" x1="{_u(x[2])}" x2="{_u(x[2])}" '
               f'y1="{y - 5}" y2="{y + 5}"/></g>')
    bottom = _H + _LABELS - 4
    svg = (f'<svg class="hist" viewBox="-1 -12 {_W + 2:.0f} {_H + _LABELS + 12:.0f}" role="img" '
           f'aria-label="histogram of {text(c.name)}, {n} bins">'
           f'<text x="0" y="-3">max {num(tallest)}</text>'
           f'<g class="bars">{"".join(bars)}</g>'
           f'<line class="axis" x1="0" x2="{_W:.0f}" y1="{_H}" y2="{_H}"/>{box}'
           f'<text x="0" y="{bottom}">{_value(lo)}</text>'
           f'<text x="{_W:.0f}" y="{bottom}" text-anchor="end">{_value(hi)}</text></svg>')
    note = f"{n} equal-width bins"
    if h.approximate:
        rank = pct(c.quantile_rank_error, 2)
        note += " · " + _approx(f"counts (edge ranks ±{rank})",
                                f"approximate (KLL sketch): the rank of each bin edge is within "
                                f"±{rank} of the values, so each bin's count is within twice that")
    return f'{svg}<p class="na">{note}</p>'


def _values(title: str, values: Sequence[ValueCount], note: str | None) -> str:
    """Top or bottom values: the value, its count (the range that holds the true count when the
    sketch answered) and its share of the non-null values, drawn as a bar behind the figure."""
    rows = []
    for v in values:
        lo, hi = v.count_lower, v.count_upper
        shown, ratio = num(v.count), pct(v.ratio)
        if lo is not None and hi is not None and lo != hi:
            bound = (f"approximate (frequent-items sketch): the true count is between "
                     f"{num(lo)} and {num(hi)}")
            shown = _approx(f"{num(lo)}–{num(hi)}", bound)
            ratio = _approx(ratio, f"{bound}; the share is of the midpoint {num(v.count)}")
        width = min(max(v.ratio or 0.0, 0.0), 1.0) * 100
        rows.append(f'<tr><td class="v">{_value(v.value)}</td><td class="n">{shown}</td>'
                    f'<td class="share"><span style="width:{width:.1f}%"></span>'
                    f"<em>{ratio}</em></td></tr>")
    table = ('<table class="vals"><tr><th>value</th><th>count</th><th>share of non-null</th></tr>'
             + "".join(rows) + "</table>") if rows else ""
    extra = f'<p class="na">{text(note)}</p>' if note else ""
    return _card(title, table + extra)


def _patterns(patterns: Sequence[PatternMatch]) -> str:
    rows = []
    for p in patterns:
        samples = ", ".join(f"<code>{_value(s)}</code>" for s in p.samples)
        rows.append(f"<tr><td>{text(p.name or '-')}</td><td class=\"n\">{pct(p.match_ratio)}"
                    f'</td><td class="n">{num(p.match_count)}</td><td>{samples}</td></tr>')
    return _card("Patterns", '<table class="vals"><tr><th>pattern</th><th>share</th>'
                 "<th>count</th><th>samples</th></tr>" + "".join(rows) + "</table>", "wide")


# --------------------------------------------------------------------------- style and script

_CSS = (
    ":root{--fg:#1d2330;--mut:#5f6b7a;--line:#dde2e8;--bg:#f5f6f8;--acc:#1f5fbf;--bar:#4a78c8;"
    "--ap:#b45309}"
    "*{box-sizing:border-box}[hidden]{display:none!important}"
    "body{margin:0;display:flex;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "sans-serif;color:var(--fg);background:var(--bg)}"
    "a{color:var(--acc);text-decoration:none}a:hover{text-decoration:underline}"
    "nav{position:sticky;top:0;height:100vh;width:240px;flex:none;overflow:auto;"
    "background:#fff;border-right:1px solid var(--line);padding:10px 12px}"
    "nav ol{margin:6px 0 0;padding:0;list-style:none}nav li{white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis}nav small{color:var(--mut)}"
    "nav input{width:100%;padding:4px 6px;border:1px solid var(--line);border-radius:4px}"
    ".top{margin:0 0 8px}.dot{color:var(--ap);font-size:10px}"
    "main{flex:1;min-width:0;padding:8px 24px 40px}"
    "h1{font-size:22px;margin:10px 0 0;overflow-wrap:anywhere}h2{font-size:18px;margin:22px 0 8px}"
    "h3{font-size:16px;margin:0 0 8px;overflow-wrap:anywhere}"
    "h4{font-size:12px;margin:0 0 4px;color:var(--mut);text-transform:uppercase;"
    "letter-spacing:.04em}.sub{color:var(--mut);margin:2px 0 0}"
    "section.col{content-visibility:auto;contain-intrinsic-size:auto 420px;background:#fff;"
    "border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:0 0 12px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px 16px;"
    "grid-auto-flow:dense}"
    "#overview .card,div.box,#correlations .scroll{background:#fff;border:1px solid "
    "var(--line);border-radius:6px;padding:10px 12px}"
    ".card{min-width:0}.wide{grid-column:span 2}@media(max-width:700px){.wide{grid-column:auto}}"
    "table{border-collapse:collapse}th,td{padding:1px 10px 1px 0;text-align:left;"
    "vertical-align:top}th{font-weight:500;color:var(--mut);white-space:nowrap}"
    ".kv td,td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.v{overflow-wrap:anywhere}table.vals{width:100%;font-size:13px}"
    "table.list td{border-top:1px solid var(--line);padding:3px 12px 3px 0}"
    "td.share{position:relative;min-width:90px}td.share span{position:absolute;left:0;top:3px;"
    "bottom:3px;background:#dbe6f7;border-radius:2px}td.share em{position:relative;"
    "font-style:normal;padding-left:4px}"
    ".ap{color:var(--ap);font-weight:700;cursor:help}.na{color:var(--mut)}"
    ".ty{font-weight:400;color:var(--mut);font-size:13px}"
    ".badge,.kind{display:inline-block;font-size:11px;font-weight:500;padding:0 6px;"
    "border-radius:8px;background:#eef1f5;margin-left:6px}.kind{background:#fdecd8;"
    "color:#8a3c00;margin:0}"
    "ul.alerts{margin:0 0 8px;padding:0;list-style:none}ul.src{margin:0;padding-left:1.2em;"
    "overflow-wrap:anywhere}"
    "svg.hist{width:100%;max-width:380px;height:auto;display:block}"
    "svg.hist .bars rect{fill:var(--bar)}svg.hist .bars rect:hover{fill:var(--acc)}"
    "svg text{font-size:10px;fill:var(--mut)}svg .axis{stroke:var(--line)}"
    "svg .box line,svg .box rect{stroke:var(--fg);fill:#fff}svg .box .med{stroke-width:2}"
    ".scroll{overflow:auto;max-width:100%}svg.heat text{font-size:9px}"
    ".legend span{display:inline-block;width:14px;height:10px;border:1px solid var(--line)}"
    "code{font-size:12px;background:#f1f3f6;padding:0 3px;border-radius:3px}"
    "@media(max-width:800px){body{display:block}nav{position:static;height:auto;width:auto;"
    "max-height:40vh}}"
)

# Filters the column index and the column sections by name as the reader types.
_SCRIPT = (
    "(function(){var q=document.getElementById('q');q.addEventListener('input',function(){"
    "var t=q.value.toLowerCase();document.querySelectorAll('[data-name]').forEach(function(e){"
    "e.hidden=t!==''&&e.getAttribute('data-name').toLowerCase().indexOf(t)<0;});});})();"
)


def write_html(profile: TableProfile, path: str | os.PathLike[str]) -> str:
    """Write the report of ``profile`` to ``path`` atomically; return its text."""
    from truthound._atomic import write_atomic

    report = render_html(profile)
    write_atomic(path, report)
    return report
