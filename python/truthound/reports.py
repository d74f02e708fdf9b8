"""The report formats of a :class:`~truthound.profiler.model.TableProfile`, by name.

``th profile`` and ``th show`` choose one with ``-f NAME`` or by the extension of ``-o FILE``;
adding a format is one entry in :data:`REPORT_FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from truthound.report_console import render_console
from truthound.report_style import Style
from truthound.report_table import render_csv, render_markdown, render_table

if TYPE_CHECKING:
    from truthound.profiler.model import TableProfile

__all__ = ["REPORT_FORMATS", "ReportFormat", "format_of_extension", "render"]


def _json(p: TableProfile, style: Style) -> str:
    return p.to_json(indent=2) + "\n"


def _html(p: TableProfile, style: Style) -> str:
    from truthound.report_html import render_html  # its page template loads only when asked for

    return render_html(p)


def _yaml(p: TableProfile, style: Style) -> str:
    import yaml

    # libyaml's emitter writes the same text as the pure-Python one, faster (a profile of 500
    # columns: 14.5 s -> 3.5 s); the pure one where PyYAML was built without libyaml
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(p.to_dict(), Dumper=dumper, sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class ReportFormat:
    """A report format: its name (``-f NAME``), the ``-o`` extensions that choose it, what it
    shows (for ``--help``), its renderer, and whether it is the one-row-per-column summary
    (what ``--summary`` writes)."""

    name: str
    extensions: tuple[str, ...]
    description: str
    render: Callable[[TableProfile, Style], str]
    summary: bool = False


REPORT_FORMATS: dict[str, ReportFormat] = {f.name: f for f in (
    ReportFormat("console", (".txt", ""), "a readable block per column", render_console),
    ReportFormat("table", (), "one aligned row per column", render_table, summary=True),
    ReportFormat("markdown", (".md", ".markdown"), "the table in GitHub markdown", render_markdown,
                 summary=True),
    ReportFormat("csv", (".csv",), "the table as CSV, raw numbers", render_csv, summary=True),
    ReportFormat("json", (".json",), "the full profile", _json),
    ReportFormat("yaml", (".yaml", ".yml"), "the full profile", _yaml),
    ReportFormat("html", (".html", ".htm"), "a self-contained HTML page", _html),
)}


def format_of_extension(ext: str) -> ReportFormat | None:
    """The format an ``-o`` extension (``.md``, lower case; ``""`` for none) chooses."""
    return next((f for f in REPORT_FORMATS.values() if ext in f.extensions), None)


def render(p: TableProfile, fmt: str, style: Style | None = None) -> str:
    """The report of ``p`` in format ``fmt`` (a key of :data:`REPORT_FORMATS`); colors only
    where ``style`` asks for them and the format has any (console, table)."""
    return REPORT_FORMATS[fmt].render(p, style or Style())
