"""The one-row-per-column summary of a :class:`~truthound.profiler.model.TableProfile` (as
DuckDB's ``SUMMARIZE``): an aligned text table (``th profile --summary``, ``-f table``), a
GitHub markdown table (``-f markdown``) and CSV (``-f csv``).

Every format has the same rows in table order. Text and markdown write figures as the console
report does, strings unquoted unless empty or with spaces at an end (an approximate distinct
count or quantile starts with ``~``); CSV writes the raw figures of the profile, with the
approximation flags as columns of their own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from truthound.profiler.model import ColumnProfile, TableProfile
from truthound.report_console import alert_lines
from truthound.report_style import Style
from truthound.report_values import count_range, num, pct, short, value

__all__ = ["SUMMARY_FIELDS", "SummaryField", "render_csv", "render_markdown", "render_table"]

_VALUE_WIDTH = 20  # characters of a string value (min, max, top value) in the text table


@dataclass(frozen=True)
class SummaryField:
    """One column of the summary: its heading, how a cell reads as text, the CSV columns with
    their raw values (the first is the cell's value), and how cells align: ``right`` (always
    numbers), ``left`` (text), or ``value`` (a value of the column: right when it is a number)."""

    heading: str
    text: Callable[[ColumnProfile], str]
    csv: tuple[tuple[str, Callable[[ColumnProfile], Any]], ...]
    align: Literal["left", "right", "value"] = "value"

    @property
    def numeric(self) -> bool:
        """Whether every cell is a number (the heading is right-aligned too)."""
        return self.align == "right"

    def right(self, c: ColumnProfile) -> bool:
        """Whether the cell of ``c`` is right-aligned."""
        if self.align != "value":
            return self.numeric
        x = self.csv[0][1](c)
        return isinstance(x, (int, float)) and not isinstance(x, bool)


def _approx(flag: bool | None, text: str) -> str:
    return "~" + text if flag and text != "-" else text


def _cell(x: Any) -> str:
    return "-" if x is None else value(x, _VALUE_WIDTH, quote=False)


def _quantile(get: Callable[[ColumnProfile], Any]) -> Callable[[ColumnProfile], str]:
    return lambda c: _approx(c.quantiles_approximate, _cell(get(c)))


def _top(c: ColumnProfile) -> str:
    if not c.top_values:
        return "-"
    v = c.top_values[0]
    return f"{_cell(v.value)} ({count_range(v)})"


def _top_raw(c: ColumnProfile, key: str) -> Any:
    return getattr(c.top_values[0], key) if c.top_values else None


SUMMARY_FIELDS: tuple[SummaryField, ...] = (
    SummaryField("column", lambda c: short(c.name), (("name", lambda c: c.name),), "left"),
    SummaryField("type", lambda c: c.physical_type or "-",
                 (("physical_type", lambda c: c.physical_type),), "left"),
    SummaryField("inferred", lambda c: c.inferred_type or "-",
                 (("inferred_type", lambda c: c.inferred_type),), "left"),
    SummaryField("nulls", lambda c: pct(c.null_ratio),
                 (("null_count", lambda c: c.null_count), ("null_ratio", lambda c: c.null_ratio)),
                 align="right"),
    SummaryField("distinct", lambda c: _approx(c.distinct_approximate, num(c.distinct_count)),
                 (("distinct_count", lambda c: c.distinct_count),
                  ("distinct_approximate", lambda c: c.distinct_approximate)), align="right"),
    SummaryField("min", lambda c: _cell(c.min), (("min", lambda c: c.min),)),
    SummaryField("max", lambda c: _cell(c.max), (("max", lambda c: c.max),)),
    SummaryField("mean", lambda c: _cell(c.mean), (("mean", lambda c: c.mean),), align="right"),
    SummaryField("std", lambda c: _cell(c.std), (("std", lambda c: c.std),), align="right"),
    SummaryField("q1", _quantile(lambda c: c.q1), (("q1", lambda c: c.q1),)),
    SummaryField("median", _quantile(lambda c: c.median), (("median", lambda c: c.median),)),
    SummaryField("q3", _quantile(lambda c: c.q3),
                 (("q3", lambda c: c.q3),
                  ("quantiles_approximate", lambda c: c.quantiles_approximate))),
    SummaryField("top value", _top,
                 (("top_value", lambda c: _top_raw(c, "value")),
                  ("top_count", lambda c: _top_raw(c, "count"))), "left"),
)


def _text_rows(p: TableProfile) -> list[list[str]]:
    return [[f.text(c) for f in SUMMARY_FIELDS] for c in p.columns]


def _aligned(p: TableProfile) -> list[list[str]]:
    """The heading and the rows, each cell padded to its column's width: numbers to the right,
    text to the left."""
    rows = [[f.heading for f in SUMMARY_FIELDS], *_text_rows(p)]
    right = [[f.numeric for f in SUMMARY_FIELDS],
             *([f.right(c) for f in SUMMARY_FIELDS] for c in p.columns)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(SUMMARY_FIELDS))]
    return [[cell.rjust(w) if r else cell.ljust(w) for cell, w, r in zip(row, widths, flags)]
            for row, flags in zip(rows, right)]


def _line(cells: Sequence[str]) -> str:
    return "  ".join(cells).rstrip()


def render_table(p: TableProfile, style: Style | None = None) -> str:
    """The summary as an aligned text table under a line naming the source, then the alerts."""
    style = style or Style()
    cells = _aligned(p)
    lines = [style.bold(f"{p.source} · rows {num(p.row_count)} · columns {num(p.column_count)}"),
             "", style.bold(_line(cells[0])), _line(["-" * len(x) for x in cells[0]])]
    lines.extend(_line([style.bold(r[0]), *r[1:]]) for r in cells[1:])
    alerts = alert_lines(p, style, indent="")
    if alerts:
        lines.extend(["", *alerts])
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def render_markdown(p: TableProfile, style: Style | None = None) -> str:
    """The summary as a GitHub markdown table (numbers right-aligned)."""
    del style  # markdown is never colored
    lines = ["| " + " | ".join(f.heading for f in SUMMARY_FIELDS) + " |",
             "|" + "|".join("---:" if f.numeric else ":---" for f in SUMMARY_FIELDS) + "|"]
    lines.extend("| " + " | ".join(_markdown_cell(x) for x in row) + " |" for row in _text_rows(p))
    return "\n".join(lines) + "\n"


def _csv_value(x: Any) -> Any:
    if isinstance(x, bool):
        return "true" if x else "false"
    return "" if x is None else x


def render_csv(p: TableProfile, style: Style | None = None) -> str:
    """The summary as CSV: a header row, then one row per column with the profile's raw values
    (an empty cell where a field does not apply)."""
    del style  # CSV is never colored
    columns = [pair for f in SUMMARY_FIELDS for pair in f.csv]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    for c in p.columns:
        writer.writerow([_csv_value(get(c)) for _, get in columns])
    return out.getvalue()
