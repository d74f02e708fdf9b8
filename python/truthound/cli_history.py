"""The ``th`` commands over saved profiles: ``th merge``, ``th show`` (and ``th diff``).

A saved profile (``th profile X --save-profile day1.thp``) holds the engine's mergeable state;
these commands merge saved profiles into one and render one in every report format.
"""

from __future__ import annotations

import click

__all__ = ["merge_command", "show_command"]

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
@click.option("-f", "--format", "fmt", type=click.Choice(["console", "json", "yaml"],
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
