"""Where the report of ``th profile`` and ``th show`` goes: their ``-o``, ``-f`` and ``--summary``
options, the format they choose, the check of the output path, and writing the report.

A report on stdout gets colors when stdout is a terminal (and ``NO_COLOR`` is unset); a report
written with ``-o`` never does, and is written atomically.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from truthound._atomic import write_atomic
from truthound.report_style import Style
from truthound.reports import REPORT_FORMATS, format_of_extension, render

if TYPE_CHECKING:
    from truthound.profiler.model import TableProfile

__all__ = ["REPORT_OPTIONS", "check_output", "output_format", "with_options", "write_report"]

def _extensions(summary_only: bool = False) -> str:
    return ", ".join(e for f in REPORT_FORMATS.values() if f.summary or not summary_only
                     for e in f.extensions if e)


def _format_help() -> str:
    kinds = "; ".join(f"{f.name}: {f.description}" for f in REPORT_FORMATS.values())
    return (f"Report format ({kinds}). [default: from the -o extension ({_extensions()}), "
            "else console]")


REPORT_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "-o", "--output", type=click.Path(dir_okay=False, writable=False), default=None,
        help="Write the report to FILE (atomically: a temporary file, then a rename) instead of "
             "stdout. [default: stdout]",
    ),
    click.option(
        "-f", "--format", "fmt", type=click.Choice(list(REPORT_FORMATS), case_sensitive=False),
        default=None, help=_format_help(),
    ),
    click.option(
        "--summary", is_flag=True,
        help="One row per column (name, type, nulls, distinct, min, max, mean, std, q1, median, "
             "q3, top value), as -f table; with -o, .md and .csv write it as markdown and CSV.",
    ),
]


def with_options(options: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """A decorator applying click ``options`` in order (the first shows first in --help)."""

    def decorate(func: Any) -> Any:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def output_format(fmt: str | None, output: str | None, summary: bool = False) -> str:
    """The report format from -f, --summary and the -o extension; a UsageError (exit 2) names
    what fits."""
    ext = os.path.splitext(output)[1].lower() if output is not None else ""
    if fmt is not None:
        name = fmt.lower()
        if summary and not REPORT_FORMATS[name].summary:
            raise click.UsageError(
                f"--summary writes the one-row-per-column table, not -f {name}; drop one of them "
                "(the table's formats: -f table, markdown or csv)")
        return name
    chosen = format_of_extension(ext)
    if chosen is None:
        raise click.UsageError(
            f"-o {output}: cannot tell the report format from the extension {ext!r}; use one of "
            f"{_extensions()}, or choose the format with -f {'|'.join(REPORT_FORMATS)}"
        )
    if summary and not chosen.summary:
        if chosen.name == "console":  # .txt or no extension: the aligned text table
            return "table"
        raise click.UsageError(
            f"--summary -o {output}: the one-row-per-column table is written as "
            f"{_extensions(summary_only=True)} or text (-f table); drop --summary for {ext}")
    return chosen.name


def check_output(output: str, option: str = "-o") -> None:
    """Fail before profiling when -o cannot be written: its directory must exist and be
    writable, and the path must not be a directory."""
    target = os.path.abspath(output)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise click.UsageError(f"{option} {output}: the directory {directory} does not exist")
    if os.path.isdir(target):
        raise click.UsageError(f"{option} {output}: is a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise click.UsageError(f"{option} {output}: the directory {directory} is not writable")


def write_report(p: TableProfile, fmt: str, output: str | None) -> None:
    """Print the report of ``p`` (colored on a terminal) or write it to ``output`` atomically."""
    if output is not None:
        write_atomic(output, render(p, fmt))
        return
    text = render(p, fmt, Style.for_stream(sys.stdout))
    click.echo(text, nl=not text.endswith("\n"))
