"""Files that combine: CSV and JSON-lines files whose columns differ are one table, the union of
their columns by name (as ``pyarrow.concat_tables(..., promote_options="default")`` builds it),
several sources on the command line or in a list are one table, and profiles read in different
timestamp units merge."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import Counter
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

from test_reference import check_column
from truthound.errors import ConfigurationError, SchemaError, SourceReadError
from truthound.profiler import TableProfile, profile
from truthound.profiler.distributed import LocalBackend, PartitionStrategy
from truthound.profiler.distributed import csv_ranges as csv_ranges_module
from truthound.profiler.distributed.partitioners import plan_source

ROOT = Path(__file__).resolve().parent.parent

# Fields that depend on when and how a run took place, not on the data: the Arrow buffers as
# read depend on how the rows were cut into batches and partitions (an offsets entry and a bitmap
# byte more per batch).
_RUN_FIELDS = ("profiled_at", "profile_duration_ms", "source", "sources", "execution",
               "estimated_memory_bytes")


def _without_run_fields(p: TableProfile) -> dict[str, Any]:
    d = p.to_dict()
    for k in _RUN_FIELDS:
        d.pop(k)
    return d


def _csv_reference(path: Path) -> pa.Table:
    """A CSV file as profile() reads it: empty fields (and NULL, NA, ...) are nulls everywhere."""
    return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))


def _check_exact(p: TableProfile, table: pa.Table) -> None:
    """Every column's exact fields against pyarrow/numpy, and the row and column counts."""
    assert p.row_count == table.num_rows
    assert p.column_names == table.column_names
    for name in table.column_names:
        check_column(p[name], table.column(name).combine_chunks())


N = 700
FIRST = pa.table({
    "id": pa.array(range(N), pa.int64()),
    "city": pa.array([None if i % 9 == 0 else ["Oslo", "Rome", "Lima"][i % 3] for i in range(N)]),
    "amount": pa.array([i * 0.5 - 20 for i in range(N)], pa.float64()),
})
SECOND = pa.table({
    "amount": pa.array([None if i % 5 == 0 else i * 1.5 for i in range(N)], pa.float64()),
    "note": pa.array([f"n{i % 13}" for i in range(N)]),
    "id": pa.array(range(N, 2 * N), pa.int64()),
    "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i % 50) for i in range(N)]),
})


@pytest.fixture()
def differing_csvs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pa_csv.write_csv(FIRST, a)
    pa_csv.write_csv(SECOND, b)
    return a, b


def test_csv_files_whose_headers_differ_combine_by_name(differing_csvs: tuple[Path, Path]) -> None:
    a, b = differing_csvs
    want = pa.concat_tables([_csv_reference(a), _csv_reference(b)], promote_options="default")
    assert want.column_names == ["id", "city", "amount", "note", "day"]
    expected = profile(want)
    for source in (str(a.parent / "*.csv"), a.parent, [a, b], [str(a), str(b)]):
        got = profile(source)
        _check_exact(got, want)
        assert _without_run_fields(got) == _without_run_fields(expected), source
    # the second file's columns are there, null for the first file's rows
    got = profile([a, b])
    assert got["note"].null_count == N and got["day"].null_count == N
    assert got["city"].null_count == N + sum(1 for i in range(N) if i % 9 == 0)
    assert got.source == f"{a}, {b}"


def test_json_lines_files_whose_keys_differ_combine_by_name(tmp_path: Path) -> None:
    rows_a = [{"id": i, "name": f"u{i % 7}"} for i in range(300)]
    rows_b = [{"score": i / 4, "id": 300 + i, "tags": None if i % 3 else "x"} for i in range(200)]
    for name, rows in (("a.jsonl", rows_a), ("b.jsonl", rows_b)):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    want = pa.concat_tables([pa_json.read_json(tmp_path / "a.jsonl"),
                             pa_json.read_json(tmp_path / "b.jsonl")], promote_options="default")
    got = profile(tmp_path / "*.jsonl")
    _check_exact(got, want)
    assert _without_run_fields(got) == _without_run_fields(profile(want))
    assert got["score"].null_count == 300 and got["name"].null_count == 200


def test_types_widen_losslessly_across_text_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,t\n1,2024-01-01 10:00:00\n2,2024-01-02 00:00:00\n")
    (tmp_path / "b.csv").write_text("x,t\n2.5,2024-01-01 10:00:00.250\n")
    got = profile(tmp_path)
    assert got["x"].physical_type == "double" and got["x"].max == 2.5 and got["x"].min == 1.0
    assert got["t"].physical_type == "timestamp[ns]"
    assert got["t"].min == "2024-01-01T10:00:00" and got["t"].max == "2024-01-02T00:00:00"
    assert got["t"].distinct_count == 3


def test_csv_columns_whose_types_do_not_combine_read_as_text(tmp_path: Path) -> None:
    """In CSV the values are text: a column of numbers in one file and words in another reads as
    text, as it does when the words come later in one file."""
    (tmp_path / "a.csv").write_text("code,n\n1,1\n22,2\n")
    (tmp_path / "b.csv").write_text("code,n\nx7,3\n")
    got = profile(tmp_path)
    assert got["code"].physical_type == "string"
    assert got["code"].min == "1" and got["code"].max == "x7" and got["code"].distinct_count == 3
    assert got["n"].physical_type == "int64" and got["n"].max == 3


def test_json_columns_whose_types_do_not_combine_raise_schema_error(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"k": 1}\n')
    (tmp_path / "b.jsonl").write_text('{"k": "one"}\n')
    with pytest.raises(SchemaError, match=r"'k'.*int64.*a\.jsonl.*string.*b\.jsonl"):
        profile(tmp_path)


def test_csv_byte_ranges_see_the_union_schema(
    differing_csvs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers reading byte ranges of files with different headers read each file by its own
    header and fill the other files' columns with nulls."""
    monkeypatch.setattr(csv_ranges_module, "CSV_MIN_RANGE_BYTES", 2048)
    monkeypatch.setattr(csv_ranges_module, "CSV_MAX_RANGE_BYTES", 4096)
    a, b = differing_csvs
    plan = plan_source([a, b], min_units=8)
    ranged = [u for u in plan.units if u.byte_range is not None]
    assert {u.path for u in ranged} == {str(a), str(b)}
    want = profile([a, b])
    for strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.COLUMN_BASED):
        got = LocalBackend(num_workers=3, partition_strategy=strategy).profile([a, b])
        g, w = got.to_dict(), want.to_dict()
        for column_g, column_w in zip(g["columns"], w["columns"]):
            for key in ("name", "physical_type", "row_count", "null_count", "min", "max",
                        "distinct_count", "true_count", "min_length", "max_length"):
                assert column_g[key] == column_w[key], (strategy, column_g["name"], key)
        assert g["row_count"] == w["row_count"] == 2 * N


def th(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "truthound.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_several_sources_on_the_command_line_are_one_table(tmp_path: Path) -> None:
    tables = [FIRST.slice(0, 300), FIRST.slice(300, 400).select(["amount", "id"])]
    paths = []
    for i, t in enumerate(tables):
        paths.append(tmp_path / f"p{i}.parquet")
        pq.write_table(t, paths[-1])
    result = th("profile", *paths, "-f", "json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    want = pa.concat_tables(tables, promote_options="default")
    assert got["row_count"] == N and got["source"] == f"{paths[0]}, {paths[1]}"
    by_name = {c["name"]: c for c in got["columns"]}
    assert list(by_name) == ["id", "city", "amount"]
    assert by_name["city"]["null_count"] == want.column("city").null_count
    assert by_name["id"]["max"] == N - 1 and by_name["amount"]["min"] == -20
    reference = profile(want).to_dict()
    for c in reference["columns"]:
        assert {k: v for k, v in by_name[c["name"]].items()} == c
    # the distributed path reads the same list
    result = th("profile", *paths, "-f", "json", "--distributed", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["columns"] == got["columns"]


def test_csv_and_parquet_profiles_of_the_same_rows_merge(tmp_path: Path) -> None:
    """The README's example: the CSV reads timestamps in seconds, Parquet (written by pandas or
    pyarrow from it) in milliseconds; the merge is in milliseconds and counts each instant once."""
    csv_path = ROOT / "examples" / "customers.csv"
    table = _csv_reference(csv_path)
    assert table.schema.field("last_order_at").type == pa.timestamp("s")
    parquet_path = tmp_path / "customers.parquet"
    pq.write_table(table.cast(table.schema.set(
        table.schema.get_field_index("last_order_at"),
        pa.field("last_order_at", pa.timestamp("ms")))), parquet_path)
    blob = profile(csv_path).to_bytes()
    later = profile(parquet_path)
    assert later["last_order_at"].physical_type == "timestamp[ms]"
    total = TableProfile.from_bytes(blob).merge(later)
    both = pa.concat_tables([table, table])
    _check_exact(total, both.cast(both.schema.set(
        both.schema.get_field_index("last_order_at"),
        pa.field("last_order_at", pa.timestamp("ms")))))
    assert total.duplicate_row_count == table.num_rows
    ts = total["last_order_at"]
    assert ts.physical_type == "timestamp[ms]"
    assert ts.distinct_count == profile(csv_path)["last_order_at"].distinct_count
    # 1,692 distinct instants exceed the frequent-items capacity: counts are bounded, and an
    # instant read in seconds and in milliseconds is one item whose bounds hold its true count
    true = Counter(both.column("last_order_at").to_pylist())
    for v in ts.top_values:
        assert v.count_lower <= true[dt.datetime.fromisoformat(v.value)] <= v.count_upper, v


def test_timestamp_units_that_do_not_fit_raise_schema_error(tmp_path: Path) -> None:
    far = pa.table({"t": pa.array([dt.datetime(2400, 1, 1)], pa.timestamp("s"))})
    near = pa.table({"t": pa.array([dt.datetime(2000, 1, 1)], pa.timestamp("ns"))})
    pq.write_table(far, tmp_path / "far.parquet")
    pq.write_table(near, tmp_path / "near.parquet")
    a, b = profile(tmp_path / "far.parquet"), profile(tmp_path / "near.parquet")
    # (Parquet has no seconds: the file holds milliseconds)
    with pytest.raises(SchemaError, match=r"'t'.*timestamp\[ms\].*timestamp\[ns\].*2400-01-01"
                                          r".*far\.parquet.*near\.parquet"):
        a.merge(b)


# --------------------------------------------------------------------------- text encodings

NAMES = ["José", "Zoë", "Ångström", "Müller", "abc", None, "Çelik", "Zoë"]
ENCODED = pa.table({"name": NAMES, "n": list(range(len(NAMES)))})


def _write_text(path: Path, text: str, encoding: str) -> None:
    path.write_bytes(text.encode(encoding))


def _csv_text() -> str:
    return "name,n\n" + "".join(f"{'' if v is None else v},{i}\n" for i, v in enumerate(NAMES))


def _jsonl_text() -> str:
    return "".join(json.dumps({"name": v, "n": i}, ensure_ascii=False) + "\n"
                   for i, v in enumerate(NAMES))


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_text_files_in_a_given_encoding(tmp_path: Path, encoding: str, suffix: str) -> None:
    path = tmp_path / f"names.{suffix}"
    _write_text(path, _csv_text() if suffix == "csv" else _jsonl_text(), encoding)
    got = profile(path, encoding=encoding)
    _check_exact(got, ENCODED)
    assert got["name"].physical_type == "string" and got["name"].max == "Çelik"  # UTF-8 order
    assert got.source == str(path)
    result = th("profile", path, "--encoding", encoding, "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["columns"] == got.to_dict()["columns"]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_utf16_with_a_byte_order_mark_is_detected_and_reported(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"names.{suffix}"
    _write_text(path, _csv_text() if suffix == "csv" else _jsonl_text(), "utf-16")
    got = profile(path)
    _check_exact(got, ENCODED)
    assert got.source == f"{path} (encoding utf-16, detected from the byte-order mark)"


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
@pytest.mark.parametrize("late", [False, True])
def test_text_that_is_not_utf8_names_the_file_and_the_option(
    tmp_path: Path, suffix: str, late: bool
) -> None:
    """Never hex bytes, never replacement characters: a one-line error that says what to pass,
    whether the bad byte is in the first block (where types are inferred) or far later."""
    path = tmp_path / f"names.{suffix}"
    padding = 300_000 if late else 0
    if suffix == "csv":
        text = "name,n\n" + "abc,1\n" * padding + "José,2\n"
    else:
        text = '{"name": "abc"}\n' * padding + '{"name": "José"}\n'
    _write_text(path, text, "latin-1")
    with pytest.raises(SourceReadError, match=r"names\.\w+.*not valid UTF-8.*encoding"):
        profile(path)
    result = th("profile", path)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "not valid UTF-8" in lines[0] and "--encoding" in lines[0]
    assert str(path) in lines[0]


def test_encoding_option_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n")
    with pytest.raises(ConfigurationError, match="encoding.*nope"):
        profile(path, encoding="nope")
    pq.write_table(pa.table({"a": [1]}), tmp_path / "a.parquet")
    with pytest.raises(ConfigurationError, match="encoding.*CSV, TSV and JSON"):
        profile(tmp_path / "a.parquet", encoding="latin-1")


def test_distributed_reads_the_encoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_ranges_module, "CSV_MIN_RANGE_BYTES", 1024)
    monkeypatch.setattr(csv_ranges_module, "CSV_MAX_RANGE_BYTES", 2048)
    rows = "".join(f"Zoë{i % 50},{i}\n" for i in range(2000))
    for encoding in ("cp1252", "utf-16"):
        path = tmp_path / f"{encoding}.csv"
        _write_text(path, "name,n\n" + rows, encoding)
        want = profile(path, encoding=encoding)
        plan = plan_source(path, min_units=6, encoding=encoding)
        # cp1252 is cut at newlines like ASCII; UTF-16 is read whole
        assert any(u.byte_range for u in plan.units) == (encoding == "cp1252")
        got = LocalBackend(num_workers=3).profile(path, encoding=encoding)
        for name in ("name", "n"):
            for key in ("row_count", "null_count", "min", "max", "distinct_count", "max_length"):
                assert getattr(got[name], key) == getattr(want[name], key), (encoding, name, key)
        assert want["name"].max == "Zoë9" and want["name"].distinct_count == 50
