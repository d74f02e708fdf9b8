"""`th` usage and output errors, and how the console report prints values (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_cli import assert_one_line_error, th


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("usage") / "years.parquet"
    n = 5000
    pq.write_table(pa.table({
        "id": list(range(1, n + 1)),
        "year": [2007 + i % 12 for i in range(n)],
        "amount": [1234567.5 + i for i in range(n)],
    }), path)
    return path


def test_no_arguments_prints_the_help_and_exits_0() -> None:
    result = th()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Usage: th "), lines[0]
    assert len(lines) > 5 and any(line.strip().startswith("profile") for line in lines)


def test_output_directory_is_checked_before_profiling(tmp_path: Path, years: Path) -> None:
    missing = tmp_path / "nowhere"
    result = th("profile", years, "-o", missing / "out.json")
    assert_one_line_error(result, 2, "-o", f"the directory {missing} does not exist")
    assert ".out.json." not in result.stderr, "names the directory, not the temporary file"
    result = th("profile", years, "-o", tmp_path)
    assert_one_line_error(result, 2, "is a directory")


@pytest.mark.parametrize("name", ["report.html", "REPORT.HTM"])
def test_html_output_follows_the_extension_and_f_wins(
    tmp_path: Path, years: Path, name: str
) -> None:
    assert th("profile", years, "-o", tmp_path / name).returncode == 0
    assert (tmp_path / name).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert th("profile", years, "-o", tmp_path / name, "-f", "console").returncode == 0
    assert (tmp_path / name).read_text(encoding="utf-8").startswith("Profile of ")


def test_unknown_output_extension_needs_a_format(tmp_path: Path, years: Path) -> None:
    result = th("profile", years, "-o", tmp_path / "report.data")
    assert_one_line_error(result, 2, "'.data'", "-f")
    assert th("profile", years, "-o", tmp_path / "report.data", "-f", "json").returncode == 0
    assert json.loads((tmp_path / "report.data").read_text())["row_count"] == 5000
    assert th("profile", years, "-o", tmp_path / "report.txt").returncode == 0
    assert (tmp_path / "report.txt").read_text().startswith("Profile of ")


def test_input_format_errors_name_the_cli_option(tmp_path: Path, years: Path) -> None:
    odd = tmp_path / "data.xyz"
    odd.write_text("a,b\n1,2\n")
    result = th("profile", odd)
    assert_one_line_error(result, 1, "pass --input-format")
    assert "format=" not in result.stderr
    assert th("profile", odd, "--input-format", "csv").returncode == 0
    result = th("profile", years, "--input-format", "csv")
    assert_one_line_error(result, 1, "years.parquet", "read as csv because of --input-format csv")
    assert "format=" not in result.stderr


def test_input_format_errors_name_the_python_argument(tmp_path: Path, years: Path) -> None:
    from truthound.errors import SourceReadError
    from truthound.profiler import profile

    odd = tmp_path / "data.xyz"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(SourceReadError, match="pass format=$"):
        profile(str(odd))
    with pytest.raises(SourceReadError, match="because of format='csv'") as info:
        profile(str(years), format="csv")
    assert "--input-format" not in str(info.value)
    csv_as_parquet = tmp_path / "data.csv"
    csv_as_parquet.write_text("a,b\n1,2\n")
    with pytest.raises(SourceReadError, match="because of format='parquet'"):
        profile(str(csv_as_parquet), format="parquet")


def test_values_print_without_separators_counts_with(years: Path) -> None:
    result = th("profile", years)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "rows 5,000" in out
    year = out[out.index("\nyear  ["):]
    assert "min 2007 · max 2018" in year, year[:400]
    assert "2,0" not in year.split("\n\n")[0].split("top:")[0], "no separator in year values"
    amount = out[out.index("\namount  ["):]
    assert "min 1234567.5 · max 1239566.5" in amount, amount[:400]
    ident = out[out.index("\nid  ["):]
    assert "distinct ~5,0" in ident or "distinct 5,000" in ident, ident[:300]


def test_sequential_integer_ids_are_identifiers(years: Path) -> None:
    from truthound.profiler import profile

    p = profile(str(years))
    assert p["id"].inferred_type == "identifier"  # 5,000 rows: past the exact distinct limit
    assert p["year"].inferred_type == "integer"
    result = th("profile", years)
    assert "\nid  [int64 → identifier]" in result.stdout
