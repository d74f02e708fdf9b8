"""The ``th`` command line.

``th profile SOURCE`` profiles a file, glob or directory and prints a report (truthound.reports:
console, the one-row-per-column table, markdown, CSV, or the full profile as JSON/YAML). Errors
are one line on stderr, ``th: error: <message>``, with exit status 1 when the data could not be
read or profiled and 2 when the command line is wrong; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

from truthound.cli_report import (
    REPORT_OPTIONS,
    check_output,
    output_format,
    with_options,
    write_report,
)
from truthound.errors import ColumnNotFoundError, ConfigurationError, TruthoundError
from truthound.profiler.api import ALERT_OPTIONS
from truthound.profiler.distributed.cli_support import (
    DISTRIBUTED_OPTIONS,
    distributed_kwargs,
)
from truthound.profiler.remote import parse_storage_options

if TYPE_CHECKING:
    from truthound.profiler.distributed.monitoring import DistributedMonitor

__all__ = ["build_monitor", "cli", "main"]

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# Errors about the command line itself exit with 2 (like click's usage errors); errors about the
# data exit with 1.
_USAGE_ERRORS: tuple[type[TruthoundError], ...] = (ConfigurationError, ColumnNotFoundError)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    # looked up only when asked for: importlib.metadata takes 25 ms to load
    if not value or ctx.resilient_parsing:
        return
    from truthound import __version__

    click.echo(f"th {__version__}")
    ctx.exit()


@click.group(context_settings=_CONTEXT)
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
def cli() -> None:
    """truthound: profile tables in one pass with a C++ engine."""


def _parse_columns(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    cols = [c.strip() for c in value.split(",")]
    if not all(cols):
        raise click.BadParameter(f"empty column name in {value!r}", ctx=ctx, param=param)
    return cols


def _parse_alerts(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> dict[str, float]:
    """``--alert NAME=VALUE`` (repeatable) as profile()'s ``alert_NAME=VALUE`` options; the
    engine checks each value's range and names the option."""
    out: dict[str, float] = {}
    for item in value:
        name, sep, text = item.partition("=")
        key = "alert_" + name.strip().removeprefix("alert_")
        if not sep or key not in ALERT_OPTIONS:
            known = ", ".join(n.removeprefix("alert_") for n in ALERT_OPTIONS)
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE, NAME one of {known}",
                                     ctx=ctx, param=param)
        try:
            out[key] = float(text)
        except ValueError:
            raise click.BadParameter(f"{item!r}: {text!r} is not a number", ctx=ctx,
                                     param=param) from None
    return out


def _alert_help() -> str:
    names = "; ".join(
        f"{name.removeprefix('alert_')} ({meaning}, default {default:g})"
        for name, (default, _, meaning) in ALERT_OPTIONS.items()
    )
    return ("An alert threshold, NAME=VALUE; repeat for several. An alert fires above its "
            f"threshold: {names}.")


# The options of `th profile`, in --help order. Each entry is a click decorator; adding an option
# (the distributed flags, say) is one entry here and one line in _profile_kwargs.
PROFILE_OPTIONS: list[Callable[[Any], Any]] = [
    *REPORT_OPTIONS,
    click.option(
        "--save-profile", type=click.Path(dir_okay=False), default=None, metavar="FILE.thp",
        help="Also save the mergeable profile to FILE.thp (atomically), for th merge, th show "
             "and th diff.",
    ),
    click.option(
        "--cache", "cache_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
        help="Keep one saved profile per input file in DIR, keyed by path, size, modification "
             "time and options; a later run re-reads only new or changed files.",
    ),
    click.option(
        "--columns", callback=_parse_columns, metavar="A,B,...", default=None,
        help="Profile only these columns, comma-separated. [default: every column]",
    ),
    click.option(
        "--top-n", type=click.IntRange(min=0), default=10, show_default=True, metavar="N",
        help="Number of top (and bottom) values kept per column.",
    ),
    click.option(
        "--histogram-bins", type=click.IntRange(min=1), default=20, show_default=True,
        metavar="N",
        help="Number of equal-width histogram bins for numeric and temporal columns.",
    ),
    click.option(
        "--patterns/--no-patterns", default=True, show_default=True,
        help="Detect patterns (email, url, phone, uuid, dates, ...) in string columns.",
    ),
    click.option(
        "--pattern-threshold", type=click.FloatRange(0.0, 1.0), default=0.8, show_default=True,
        metavar="R", help="Share of non-null values a pattern must match to be reported.",
    ),
    click.option(
        "--correlations/--no-correlations", default=False, show_default=True,
        help="Compute Pearson correlations between numeric columns.",
    ),
    click.option(
        "--alert", "alerts", multiple=True, metavar="NAME=VALUE", callback=_parse_alerts,
        help=_alert_help(),
    ),
    click.option(
        "--input-format", type=click.Choice(["csv", "tsv", "parquet", "ipc", "json"],
                                            case_sensitive=False),
        default=None,
        help="Format of the input files. [default: from the file extension]",
    ),
    click.option(
        "--encoding", default=None, metavar="NAME",
        help="Text encoding of CSV, TSV and JSON files (latin-1, cp1252, utf-16, ...). "
             "[default: UTF-8, or UTF-16/32 when a byte-order mark says so]",
    ),
    click.option(
        "--storage-option", "storage_option", multiple=True, metavar="KEY=VALUE",
        help="A setting of a remote URI's filesystem (s3://: access_key, secret_key, "
             "session_token, region, endpoint_url, profile, anonymous, connect_timeout, "
             "request_timeout, max_attempts); repeat for several. [default: the AWS_* "
             "environment variables]",
    ),
    click.option(
        "--progress/--no-progress", default=None,
        help="Show a progress bar on stderr. [default: when stderr is a terminal]",
    ),
    click.option("--debug", is_flag=True, help="Show the full traceback on errors."),
]
PROFILE_OPTIONS[-1:-1] = DISTRIBUTED_OPTIONS  # keeps --debug last in --help

# --------------------------------------------------------------------------- monitoring
# The monitoring flags and the one function that turns them into a DistributedMonitor, handed
# to the profile call as monitor= (DESIGN.md §6).

MONITOR_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--monitor", "monitor_preset", default=None, metavar="PRESET",
        help="Monitor the run with a preset: minimal, standard, full, console, logging, "
             "production, or one registered with MonitorRegistry. [default: standard when "
             "another monitoring option is given]",
    ),
    click.option(
        "--monitor-log", type=click.Path(dir_okay=False), default=None, metavar="FILE.jsonl",
        help="Append the monitoring events to FILE, one JSON object per line.",
    ),
    click.option(
        "--metrics-port", type=click.IntRange(0, 65535), default=None, metavar="N",
        help="Serve Prometheus metrics on http://127.0.0.1:N/metrics while the run lasts.",
    ),
    click.option(
        "--webhook", default=None, metavar="URL",
        help="POST monitoring events of severity WARNING and worse to URL as JSON.",
    ),
]
PROFILE_OPTIONS[-1:-1] = MONITOR_OPTIONS


def build_monitor(
    preset: str | None = None,
    log_path: str | None = None,
    metrics_port: int | None = None,
    webhook_url: str | None = None,
) -> DistributedMonitor | None:
    """The monitor of ``--monitor PRESET --monitor-log FILE --metrics-port N --webhook URL``;
    None when none is given. ConfigurationError (exit 2) names a bad value."""
    if preset is None and log_path is None and metrics_port is None and webhook_url is None:
        return None
    from truthound.profiler.distributed.monitoring import (
        EventSeverity,
        FileMonitorCallback,
        MonitorRegistry,
        WebhookMonitorCallback,
    )

    monitor = MonitorRegistry.create_monitor(preset or "standard")
    if metrics_port is not None:
        if monitor.metrics_collector is None:
            raise ConfigurationError(
                f"--metrics-port: the monitor preset {preset!r} collects no metrics; use "
                "--monitor standard (or full, production)")
        monitor.config.metrics.enable_prometheus = True
        monitor.config.metrics.prometheus_port = metrics_port
        monitor.config.metrics.prometheus_host = "127.0.0.1"
    if log_path is not None:
        monitor.add_callback(FileMonitorCallback(log_path, "jsonl"))
    if webhook_url is not None:
        monitor.add_callback(
            WebhookMonitorCallback(webhook_url, min_severity=EventSeverity.WARNING))
    return monitor


def _monitor_kwargs(params: dict[str, Any]) -> DistributedMonitor | None:
    """Pop the monitoring options out of click's ``params`` and build the monitor."""
    return build_monitor(params.pop("monitor_preset", None), params.pop("monitor_log", None),
                         params.pop("metrics_port", None), params.pop("webhook", None))


def _profile_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of truthound.profiler.profile() from the parsed CLI options."""
    progress = params["progress"]
    if progress is None:
        progress = sys.stderr.isatty()
    return {
        "columns": params["columns"],
        "top_n": params["top_n"],
        "histogram_bins": params["histogram_bins"],
        "patterns": params["patterns"],
        "pattern_threshold": params["pattern_threshold"],
        "correlations": params["correlations"],
        "format": params["input_format"].lower() if params["input_format"] else None,
        "encoding": params["encoding"],
        "progress": progress,
        "storage_options": parse_storage_options(list(params["storage_option"])) or None,
        **params["alerts"],
    }


_PROFILE_EPILOG = """\b
SOURCE is a file, a glob ('data/*.parquet') or a directory (hive partitions
are read as columns) of CSV, TSV, Parquet, Arrow IPC/Feather or JSON-lines
files; .gz/.bz2/.zst compressed text files are read as they are. Several
SOURCEs (an unquoted glob) are profiled as one table: the union of their
columns, by name.

\b
Exit status: 0 on success, 1 when the source cannot be read or profiled,
2 when the command line is wrong (bad option value, unknown column).
"""


@cli.command("profile", epilog=_PROFILE_EPILOG, context_settings=_CONTEXT)
@click.argument("sources", metavar="SOURCE...", nargs=-1, required=True)
@with_options(PROFILE_OPTIONS)
def profile_command(
    sources: tuple[str, ...], output: str | None, fmt: str | None, summary: bool, **params: Any
) -> None:
    """Profile every column of SOURCE in one pass and print a report."""
    from truthound.profiler import profile

    source: str | list[str] = sources[0] if len(sources) == 1 else list(sources)
    fmt = output_format(fmt, output, summary)
    if output is not None:
        check_output(output)
    save_path = params.pop("save_profile")
    if save_path is not None:
        check_output(save_path, "--save-profile")
    cache_dir = params.pop("cache_dir")
    dist = distributed_kwargs(params)
    monitor = _monitor_kwargs(params)
    kwargs = _profile_kwargs(params)
    if cache_dir is not None:
        ctx = click.get_current_context()
        others = [n for n in ("distributed", "processes", "master", "scheduler", "address",
                              "partition_strategy")
                  if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE]
        if others or dist.get("backend") not in (None, "local") or monitor is not None:
            raise click.UsageError(
                "--cache runs on the local backend's threads (--workers N) without a monitor; "
                "drop the other distributed and monitoring options, or --cache")
        from truthound.profiler.file_cache import profile_cached

        kwargs.pop("progress")
        result, stats = profile_cached(list(sources), cache_dir, num_workers=dist.get("workers"),
                                       **kwargs)
        click.echo(f"cache: reused {stats.reused} of {stats.files} files, profiled "
                   f"{stats.profiled}", err=True)
        _finish(result, fmt, output, save_path)
        return
    if monitor is not None:
        kwargs["monitor"] = monitor
    # a started monitor serves /metrics and keeps its files open until the run ends
    with monitor if monitor is not None else contextlib.nullcontext():
        if dist["distributed"]:
            from truthound.profiler.distributed.cli_support import run_distributed

            result = run_distributed(source, **dist, **kwargs)
        else:
            result = profile(source, **kwargs)
    _finish(result, fmt, output, save_path)


def _finish(result: Any, fmt: str, output: str | None, save_path: str | None) -> None:
    """Save the profile (--save-profile) and print or write its report."""
    if save_path is not None:
        from truthound.profiler.saved import save_profile

        save_profile(result, save_path)
    write_report(result, fmt, output)


from truthound.cli_history import diff_command, merge_command, show_command  # noqa: E402

cli.add_command(diff_command)
cli.add_command(merge_command)
cli.add_command(show_command)

# --------------------------------------------------------------------------- entry point


def _fail(message: str, code: int) -> NoReturn:
    text = " ".join(message.split())
    sys.stderr.write(f"th: error: {text}\n")
    sys.stderr.flush()
    sys.exit(code)


def _keep_freed_memory() -> None:
    """Give pyarrow a jemalloc pool that never returns freed pages to the OS, unless the user chose
    a pool (ARROW_DEFAULT_MEMORY_POOL).

    The process is ours: every batch frees about as much as the next one allocates, and a pool
    that hands pages back makes the kernel fault in and zero fresh ones (huge pages among them)
    for every batch. Measured on 10M rows x 12 columns of Parquet, 2 workers, 4 runs each against
    pyarrow's default pool: 4.06 -> 3.90 s, system time 0.89 -> 0.65 s, peak RSS 547 -> 488 MB.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(-1)
    except (NotImplementedError, pa.ArrowException):  # a pyarrow built without jemalloc
        return
    pa.set_memory_pool(pool)


def _keep_freed_heap() -> None:
    """Keep the engine's freed memory in the C heap for its next allocation (glibc only).

    Each work item builds fresh partial profiles and Parquet batch buffers (tens of MB) and frees
    them at its end; glibc served such sizes with mmap and gave them back with munmap, so the
    kernel faulted in and zeroed them again for the next item. Measured on 10M rows x 12 columns
    of Parquet, 2 workers, against glibc's defaults in the same batch of runs: 2.80 -> 2.70 s,
    system time 0.64 -> 0.42 s, peak RSS +30 MB. ``MALLOC_*`` environment variables win.
    """
    if any(k.startswith("MALLOC_") for k in os.environ) or not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest allowed value
    mallopt(m_trim_threshold, 1 << 30)
    mallopt(m_top_pad, 64 << 20)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run ``th`` with ``argv`` (default: sys.argv[1:]) and exit."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:  # `th` alone: the help on stdout, not a usage error
        args = ["--help"]
    debug = "--debug" in args
    _keep_freed_memory()
    _keep_freed_heap()
    try:
        code = cli.main(args=args, prog_name="th", standalone_mode=False)
    except click.UsageError as exc:
        _fail(exc.format_message(), 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        _fail("interrupted", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if debug:
            traceback.print_exc()
            sys.exit(1)
        if isinstance(exc, _USAGE_ERRORS):
            _fail(exc.cli_message or str(exc), 2)
        if isinstance(exc, TruthoundError):
            _fail(exc.cli_message or str(exc), 1)
        if isinstance(exc, OSError):
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}", 1)
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", 1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
