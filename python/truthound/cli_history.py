"""The ``th`` commands over saved profiles: ``th merge``, ``th show`` (and ``th diff``).

A saved profile (``th profile X --save-profile day1.thp``) holds the engine's mergeable state;
these commands merge saved profiles into one and render one in every report format.
"""

from __future__ import annotations

import click

__all__ = ["diff_command", "merge_command", "show_command"]

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("merge", context_settings=_CONTEXT)
@click.argument("profiles", metavar="PROFILE.thp...", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              metavar="OUT.thp", help="Write the merged profile to OUT.thp (atomically).")
@click.option("--by", "how", type=click.Choice(["rows", "columns"]), default="rows",
              show_default=True,
              help="rows: the profiles cover other rows of one table; columns: other columns of "
                   "the same rows.")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
def merge_command(profiles: tuple[str, ...], output: str, how: str, debug: bool) -> None:
    """Merge saved profiles into one saved profile."""
    from truthound.cli import check_output
    from truthound.profiler.distributed.merger import ProfileMerger, check_how
    from truthound.profiler.saved import load_profile, save_profile

    check_output(output)
    loaded = [load_profile(p) for p in profiles]
    merged = ProfileMerger().merge(loaded, how=check_how(how))
    save_profile(merged, output)
    click.echo(f"merged {len(loaded)} profiles ({merged.row_count:,} rows, "
               f"{merged.column_count} columns) into {output}", err=True)


@click.command("show", context_settings=_CONTEXT)
@click.argument("profile_path", metavar="PROFILE.thp")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to FILE (atomically) instead of stdout.")
@click.option("-f", "--format", "fmt", type=click.Choice(["console", "json", "yaml", "html"],
                                                         case_sensitive=False), default=None,
              help="Report format. [default: from the -o extension, else console]")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
def show_command(profile_path: str, output: str | None, fmt: str | None, debug: bool) -> None:
    """Print the report of a saved profile, as `th profile` prints it."""
    from truthound.cli import check_output, output_format, render, write_atomic
    from truthound.profiler.saved import load_profile

    fmt = output_format(fmt, output)
    if output is not None:
        check_output(output)
    text = render(load_profile(profile_path), fmt)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(output, text)


_DIFF_EPILOG = """\b
--fail-on RULES: comma-separated rules [COLUMN:]METRIC>X (also >=, <, <=),
or a YAML file with a list of them; repeatable. A threshold with a sign
(+0.05) compares the signed change, without one the size of the change.
METRIC: psi, ks; null_ratio, p01..p99 (changes); distinct, mean, std
(relative changes); top_share, pattern (largest share change);
type_changed, added_columns, removed_columns (bare: > 0).
Example: --fail-on 'psi>0.2,null_ratio>+0.05,removed_columns'

\b
Exit status: 0 when no rule fired, 1 when one did (each is listed on
stderr) or the profiles cannot be read, 2 when the command line is wrong.
"""


@click.command("diff", epilog=_DIFF_EPILOG, context_settings=_CONTEXT)
@click.argument("base", metavar="BASE.thp")
@click.argument("current", metavar="CURRENT.thp")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to FILE (atomically) instead of stdout.")
@click.option("-f", "--format", "fmt", type=click.Choice(["console", "json", "html"],
                                                         case_sensitive=False), default=None,
              help="Report format. [default: from the -o extension (.json, .html), else console]")
@click.option("--fail-on", "fail_on", multiple=True, metavar="RULES",
              help="Exit 1 when a drift rule fires (see below).")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
def diff_command(base: str, current: str, output: str | None, fmt: str | None,
                 fail_on: tuple[str, ...], debug: bool) -> None:
    """Compare two saved profiles column by column; check drift rules.

    Shows what changed from BASE (say yesterday's data) to CURRENT.
    """
    import os
    import sys

    from truthound.cli import check_output, write_atomic
    from truthound.diff_report import render_diff_console, render_diff_html
    from truthound.profiler.drift_rules import check, rules_from_option
    from truthound.profiler.saved import load_profile

    if fmt is None:
        ext = os.path.splitext(output)[1].lower() if output else ""
        fmt = {".json": "json", ".html": "html", ".htm": "html"}.get(ext, "console")
    fmt = fmt.lower()
    if output is not None:
        check_output(output)
    rules = rules_from_option(fail_on)
    diff = load_profile(base).diff(load_profile(current))
    diff.base_source = diff.base_source or base
    diff.current_source = diff.current_source or current
    fired = check(diff, rules)
    if fmt == "json":
        import json

        data = diff.to_dict()
        data["fired_rules"] = [
            {"rule": f.rule.text, "column": f.column, "value": f.value} for f in fired]
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "html":
        text = render_diff_html(diff, fired)
    else:
        text = render_diff_console(diff, fired)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(output, text)
    if fired:
        for f in fired:
            sys.stderr.write(f"th: drift: {f}\n")
        sys.stderr.flush()
        raise click.exceptions.Exit(1)
