"""Reports of a :class:`~truthound.profiler.diff.ProfileDiff`: a console summary and an HTML page.

Both show what the engine computed; the fired drift rules (``th diff --fail-on``) are listed
first when there are any.
"""

from __future__ import annotations

from collections.abc import Sequence

from truthound._html import page
from truthound._html import text as e
from truthound.profiler.diff import ColumnDiff, ProfileDiff
from truthound.profiler.drift_rules import FiredRule
from truthound.report_values import num as _n
from truthound.report_values import pct as _pct

__all__ = ["column_lines", "render_diff_console", "render_diff_html"]


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + _n(value)


def column_lines(c: ColumnDiff) -> list[str]:
    """The changes of one column, one short phrase each (empty when nothing changed)."""
    d = c.data
    out: list[str] = []
    if d["type_changed"]:
        out.append(f"type {d['base_type']} → {d['current_type']}")
    nr = d["null_ratio"]
    if nr["change"]:
        out.append(f"null ratio {_pct(nr['base'])} → {_pct(nr['current'])}")
    dc = d.get("distinct_count")
    if dc is not None and dc["change"]:
        mark = " (beyond bounds)" if dc["beyond_bounds"] else " (within bounds)"
        out.append(f"distinct {dc['base']:,} → {dc['current']:,}{mark}")
    for key in ("mean", "std"):
        m = d.get(key)
        if m is not None and m["change"]:
            out.append(f"{key} {_n(m['base'])} → {_n(m['current'])}")
    q = d.get("quantiles")
    if q is not None and q["p50"]["change"]:
        out.append(f"median {_n(q['p50']['base'])} → {_n(q['p50']['current'])}")
    if c.psi:
        out.append(f"PSI {_n(c.psi)}")
    if c.ks:
        bound = f" ±{_n(c.ks_bound)}" if c.ks_bound else ""
        out.append(f"KS {_n(c.ks)}{bound}")
    if d["top_share_change"]:
        top = max(d["top_values"], key=lambda v: abs(v["change"]))
        out.append(f"top value {top['value']!r} share {_pct(top['base_ratio'])} → "
                   f"{_pct(top['current_ratio'])}")
    if d["pattern_change"]:
        pat = max(d["patterns"], key=lambda v: abs(v["change"]))
        out.append(f"pattern {pat['name']} {_pct(pat['base_ratio'])} → "
                   f"{_pct(pat['current_ratio'])}")
    return out


def render_diff_console(diff: ProfileDiff, fired: Sequence[FiredRule] = ()) -> str:
    """A readable summary: rows, added/removed columns, then each column that changed."""
    lines = [f"Diff of {diff.base_source} → {diff.current_source}",
             f"  rows {diff.base_rows:,} → {diff.current_rows:,}"]
    if fired:
        lines.append(f"  {len(fired)} drift rule{'s' if len(fired) != 1 else ''} fired:")
        lines.extend(f"    {f}" for f in fired)
    if diff.added_columns:
        lines.append("  added columns: " + ", ".join(diff.added_columns))
    if diff.removed_columns:
        lines.append("  removed columns: " + ", ".join(diff.removed_columns))
    unchanged = []
    for c in diff.columns:
        changes = column_lines(c)
        if not changes:
            unchanged.append(c.name)
            continue
        lines.append("")
        lines.append(c.name)
        lines.extend(f"  {x}" for x in changes)
    if unchanged:
        lines.append("")
        lines.append("unchanged: " + ", ".join(unchanged))
    if diff.is_empty:
        lines.append("  no changes")
    return "\n".join(lines) + "\n"


def render_diff_html(diff: ProfileDiff, fired: Sequence[FiredRule] = ()) -> str:
    """A self-contained HTML page: fired rules, then one table row per column."""
    rows = []
    for c in diff.columns:
        d = c.data
        changes = column_lines(c)
        rows.append(
            "<tr{cls}><td>{name}</td><td>{type}</td><td>{nulls}</td><td>{psi}</td><td>{ks}</td>"
            "<td>{changes}</td></tr>".format(
                cls=' class="changed"' if changes else "",
                name=e(c.name),
                type=e(d["current_type"] if not d["type_changed"]
                       else f"{d['base_type']} → {d['current_type']}"),
                nulls=e(_signed(d["null_ratio"]["change"])),
                psi=e(_n(c.psi)), ks=e(_n(c.ks)),
                changes="<br>".join(e(x) for x in changes) or "unchanged"))
    fired_html = ("<h2>Drift rules fired</h2><ul>" + "".join(f"<li>{e(str(f))}</li>" for f in fired)
                  + "</ul>") if fired else ""
    cols = ""
    if diff.added_columns:
        cols += f"<p>Added columns: {e(', '.join(diff.added_columns))}</p>"
    if diff.removed_columns:
        cols += f"<p>Removed columns: {e(', '.join(diff.removed_columns))}</p>"
    title = f"Diff of {diff.base_source} → {diff.current_source}"
    body = (
        f"<h1>{e(title)}</h1><p>Rows {diff.base_rows:,} → {diff.current_rows:,}</p>"
        f"{fired_html}{cols}<table><tr><th>column</th><th>type</th><th>null ratio change</th>"
        "<th>PSI</th><th>KS</th><th>changes</th></tr>" + "".join(rows) + "</table>"
    )
    return page(title, body, _DIFF_CSS)


_DIFF_CSS = ("body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid "
             "#ccc;padding:4px 8px;vertical-align:top}tr.changed{background:#fff4e0}")
