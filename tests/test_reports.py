"""The console report and the one-row-per-column table (markdown, CSV): what they show, against
the profile they render and independent references; `th` options and colors as subprocesses."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_cli import assert_one_line_error, th
from truthound.profiler import TableProfile, profile
from truthound.report_console import render_console, sparkline
from truthound.report_style import Style
from truthound.report_table import SUMMARY_FIELDS, render_csv, render_markdown, render_table
from truthound.report_values import value

ANSI = re.compile(r"\033\[[0-9;]*m")


def _table() -> pa.Table:
    rng = np.random.default_rng(7)
    n = 400
    amount = rng.lognormal(3, 1, n)
    # 40 days apart at most: 20 bins 2 days wide
    day = [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 41, n)]
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "amount": pa.array([None if i % 10 == 0 else float(a) for i, a in enumerate(amount)]),
        "day": pa.array(day, pa.date32()),
        "city": pa.array([["Oslo", "Rome", "Lima", "Pisa|Tower"][i % 4] if i < 380 else f"c{i}"
                          for i in range(n)]),
    })


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return _table()


@pytest.fixture(scope="module")
def prof(table: pa.Table) -> TableProfile:
    return profile(table, num_workers=1)


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory, table: pa.Table) -> Path:
    path = tmp_path_factory.mktemp("reports") / "t.parquet"
    pq.write_table(table, path)
    return path


def _block(report: str, column: str) -> str:
    """The block of `column` in a console report."""
    start = report.index(f"\n{column}  [")
    end = report.find("\n\n", start + 1)
    return report[start + 1: end if end != -1 else None]


# ---------------------------------------------------------------- console


def test_sparkline_heights() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == " ▁▂▄█"
    assert sparkline([3, 3]) == "██"
    assert sparkline([1, 1000]) == "▁█"
    assert sparkline([]) == "" and sparkline([0, 0]) == ""


def test_console_histogram_and_quantiles(prof: TableProfile) -> None:
    out = render_console(prof)
    amount = prof["amount"]
    assert amount.histogram is not None and len(amount.histogram.counts) == 20
    block = _block(out, "amount")
    h = amount.histogram
    assert f"  histogram {value(h.edges[0])} {sparkline(h.counts)} {value(h.edges[-1])}" in block
    assert h.edges[0] == amount.min and h.edges[-1] == amount.max
    q = amount.quantiles or {}
    line = next(x for x in block.splitlines() if x.startswith("  p05 "))
    assert line == (f"  p05 {value(q['p05'])} · q1 {value(amount.q1)} · q3 {value(amount.q3)} · "
                    f"p95 {value(q['p95'])}")
    # no skewness without a `skewed` alert
    assert "skewness" not in out


def test_temporal_histogram_is_the_engine_s(prof: TableProfile, table: pa.Table) -> None:
    day = prof["day"]
    h = day.histogram
    assert h is not None and not h.approximate
    assert h.edges[0] == day.min and h.edges[-1] == day.max  # ISO text, as min and max
    days = np.array(table["day"].cast(pa.int32()).to_numpy())
    assert days.max() - days.min() == 40
    want, _ = np.histogram(days, bins=len(h.counts), range=(days.min(), days.max()))
    assert h.counts == want.tolist()
    block = _block(render_console(prof), "day")
    assert f"histogram '{day.min}' {sparkline(h.counts)} '{day.max}'" in block


def test_bottom_values_only_when_they_add_something(prof: TableProfile) -> None:
    out = render_console(prof)
    city = prof["city"]
    assert city.bottom_values and not city.distinct_approximate
    bottom = next(x for x in _block(out, "city").splitlines() if x.startswith("  bottom: "))
    assert bottom.startswith(f"  bottom: '{city.bottom_values[0].value}' 1, ")
    assert "bottom:" not in _block(out, "id"), "a unique column: every count is 1"
    few = profile(pa.table({"x": ["a", "b", "a"]}))
    assert "bottom:" not in render_console(few), "the top values list every value already"


def _with_alerts(p: TableProfile, alerts: list[dict[str, object]] | None = None) -> TableProfile:
    """``p`` with the given alerts instead of the engine's (two made-up ones by default)."""
    data = p.to_dict()
    data["alerts"] = [
        {"kind": "skewed", "column": "amount", "other_column": None, "value": 3.2,
         "threshold": 1.0, "message": "amount is skewed: skewness 3.2 > 1"},
        {"kind": "duplicate_rows", "column": None, "other_column": None, "value": 0.5,
         "threshold": 0.1, "message": "50.0% of the rows are duplicates (> 10.0%)"},
    ] if alerts is None else alerts
    return TableProfile.from_dict(data)


def test_alerts_section_and_skewness(prof: TableProfile) -> None:
    p = _with_alerts(prof)
    out = render_console(p)
    lines = out.splitlines()
    alerts = lines.index("Alerts (2)")
    first_column = lines.index(next(x for x in lines if x.startswith("id  [")))
    assert lines[1].startswith("  rows ") and alerts < first_column, "after the header"
    assert lines[alerts + 1: alerts + 3] == ["  ! amount is skewed: skewness 3.2 > 1",
                                             "  ! 50.0% of the rows are duplicates (> 10.0%)"]
    block = _block(out, "amount")
    assert block.splitlines()[0].endswith("  ! skewed")
    skew = prof["amount"].skewness
    assert skew is not None and f"skewness {round(skew, 4):.4f}".rstrip("0") in block
    assert "skewness" not in _block(out, "day")
    assert out.endswith("\n") and "Alerts" not in render_console(_with_alerts(prof, []))
    table = render_table(p)
    assert table.rstrip().endswith("! 50.0% of the rows are duplicates (> 10.0%)")


def test_colors_only_when_asked(prof: TableProfile) -> None:
    p = _with_alerts(prof)
    plain = render_console(p)
    colored = render_console(p, Style(color=True))
    assert ANSI.search(plain) is None
    assert ANSI.sub("", colored) == plain
    assert "\033[1mamount\033[0m" in colored  # column names bold
    assert "\033[33m  ! amount is skewed: skewness 3.2 > 1\033[0m" in colored  # alerts yellow
    assert ANSI.sub("", render_table(p, Style(color=True))) == render_table(p)


# ---------------------------------------------------------------- table, markdown, CSV


def test_table_rows_align(prof: TableProfile) -> None:
    lines = render_table(_with_alerts(prof, [])).splitlines()
    assert lines[0] == f"{prof.source} · rows 400 · columns 4"
    head, rule, *rows = lines[2:]
    assert head.split() == ["column", "type", "inferred", "nulls", "distinct", "min", "max",
                            "mean", "std", "q1", "median", "q3", "top", "value"]
    assert set(rule) == {"-", " "}
    assert [r.split()[0] for r in rows] == prof.column_names, "table order"
    # every column of the table starts where its rule starts (numbers end where it ends)
    starts = [m.start() for m in re.finditer(r"-+", rule)]
    ends = [m.end() for m in re.finditer(r"-+", rule)]
    for r in rows:
        assert r[starts[1]:].startswith(prof[r.split()[0]].physical_type or "")
        for i, f in enumerate(SUMMARY_FIELDS):
            if f.numeric:
                assert r[ends[i] - 1] != " " and r[ends[i]:ends[i] + 2].strip() == "", (r, f)
    amount = next(r for r in rows if r.startswith("amount "))
    assert " 10.0% " in amount
    assert " 400 " in rows[0] and "~" not in rows[0], "an exact distinct count"


def test_markdown_is_a_github_table(prof: TableProfile) -> None:
    lines = render_markdown(prof).splitlines()
    assert len(lines) == 2 + len(prof.columns)
    cells = [re.split(r"(?<!\\)\|", x)[1:-1] for x in lines]
    assert all(len(c) == len(SUMMARY_FIELDS) for c in cells)
    aligns = ["---:" if f.numeric else ":---" for f in SUMMARY_FIELDS]
    assert [c.strip() for c in cells[1]] == aligns
    assert [c[0].strip() for c in cells[2:]] == prof.column_names
    # pipes escaped; strings quoted only when empty or with spaces at an end
    piped = render_markdown(profile(pa.table({"a|b": ["x|y", "x|y", "z"], "s": ["", " a", "b"]})))
    assert piped.splitlines()[2:] == [
        "| a\\|b | string | string | 0.0% | 2 | x\\|y | z | - | - | - | - | - | x\\|y (2) |",
        "| s | string | string | 0.0% | 3 | '' | b | - | - | - | - | - | '' (1) |"]


def test_csv_holds_the_raw_numbers(prof: TableProfile) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(prof))))
    header = [name for f in SUMMARY_FIELDS for name, _ in f.csv]
    assert list(rows[0]) == header
    assert [r["name"] for r in rows] == prof.column_names
    for r in rows:
        c = prof[r["name"]]
        for key in ("null_count", "distinct_count"):
            assert int(r[key]) == getattr(c, key)
        for key in ("null_ratio", "mean", "std"):
            want = getattr(c, key)
            assert (r[key] == "") if want is None else float(r[key]) == want, (c.name, key)
        assert r["distinct_approximate"] == str(bool(c.distinct_approximate)).lower()
        top = (c.top_values or [None])[0]
        assert r["top_count"] == ("" if top is None else str(top.count))
    amount = prof["amount"]
    row = rows[prof.column_names.index("amount")]
    assert float(row["q1"]) == amount.q1 and float(row["max"]) == amount.max
    assert rows[prof.column_names.index("day")]["min"] == prof["day"].min  # ISO text as is


# ---------------------------------------------------------------- th


def test_summary_and_formats_by_extension(parquet: Path, tmp_path: Path) -> None:
    summary = th("profile", parquet, "--summary", "--workers", "1")
    assert summary.returncode == 0, summary.stderr
    same = th("profile", parquet, "-f", "table", "--workers", "1").stdout
    assert summary.stdout == same
    assert summary.stdout.splitlines()[4].split()[0] == "id"
    for name, fmt in (("t.md", "markdown"), ("t.csv", "csv"), ("t.MARKDOWN", "markdown")):
        out = tmp_path / name
        r = th("profile", parquet, "-o", out, "--workers", "1")
        assert r.returncode == 0 and r.stdout == "", r.stderr
        assert out.read_text() == th("profile", parquet, "-f", fmt, "--workers", "1").stdout
    with_summary = tmp_path / "s.md"
    assert th("profile", parquet, "--summary", "-o", with_summary).returncode == 0
    assert with_summary.read_text().startswith("| column | type |")
    txt = tmp_path / "s.txt"
    assert th("profile", parquet, "--summary", "-o", txt, "--workers", "1").returncode == 0
    assert txt.read_text() == same


def test_summary_errors(parquet: Path, tmp_path: Path) -> None:
    assert_one_line_error(th("profile", parquet, "--summary", "-f", "json"), 2, "--summary",
                          "-f json")
    assert_one_line_error(th("profile", parquet, "--summary", "-o", tmp_path / "x.json"), 2,
                          "--summary", ".md, .markdown, .csv")
    assert_one_line_error(th("profile", parquet, "-o", tmp_path / "x.data"), 2, "'.data'",
                          ".md", ".csv", "-f console|table|markdown|csv|json|yaml")
    assert list(tmp_path.iterdir()) == []


def test_help_lists_the_formats() -> None:
    for command in ("profile", "show"):
        text = " ".join(th(command, "--help").stdout.split())
        assert "[console|table|markdown|csv|json|yaml|html]" in text, command
        assert "--summary" in text and "table: one aligned row per column" in text


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """What `th ARGS` writes to stdout when stdout is a terminal."""
    import pty

    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "truthound", *args], stdout=secondary,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=120)
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: no writer left
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if secondary != -1:
            os.close(secondary)
        os.close(primary)
    assert proc.returncode == 0, proc.stderr
    return b"".join(chunks).decode()


def test_colors_on_a_terminal_only(parquet: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    args = ["profile", str(parquet), "--no-progress"]
    colored = _on_a_terminal(args, env)
    assert "\033[1mamount\033[0m" in colored
    assert "\033[1m" in _on_a_terminal([*args, "--summary"], env)
    assert ANSI.search(_on_a_terminal(args, dict(env, NO_COLOR="1"))) is None
    piped = th(*args)
    assert piped.returncode == 0 and ANSI.search(piped.stdout) is None
    out = tmp_path / "r.txt"
    assert _on_a_terminal([*args, "-o", str(out)], env) == ""
    assert ANSI.search(out.read_text()) is None and "amount  [" in out.read_text()


def test_approximate_figures_are_marked() -> None:
    # past the exact limits (4,096 distinct values, 4,096 values in the quantile sketch)
    p = profile(pa.table({"x": pa.array(range(50_000), pa.int64())}), num_workers=1)
    c = p["x"]
    assert c.distinct_approximate and c.quantiles_approximate
    row = render_table(p).splitlines()[4]
    assert f" ~{c.distinct_count:,} " in row
    assert f" ~{value(c.q1)} " in row and f" ~{value(c.median)} " in row
    assert f" ~{value(c.q3)} " in row
    assert f" {value(c.min)} " in row and "~0" not in row, "min and max are exact"
    block = _block(render_console(p), "x")
    assert "(approx.)" in block.splitlines()[3]
    assert c.bottom_values is None and "bottom:" not in block


def test_column_blocks_in_table_order(parquet: Path, table: pa.Table) -> None:
    # columns profiled by different workers still print in the order of the table
    r = th("profile", parquet, "--workers", "2", "--partition-strategy", "column_based")
    assert r.returncode == 0, r.stderr
    assert "column_based, 2 partitions" in r.stdout
    heads = [line.split("  [")[0] for line in r.stdout.splitlines() if "  [" in line]
    assert heads == table.column_names
