"""Every source kind gives the same profile as the in-memory table it holds."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as ds
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from truthound import _core
from truthound.errors import (
    ColumnNotFoundError,
    SchemaError,
    SourceNotFoundError,
    SourceReadError,
    UnsupportedTypeError,
)
from truthound.profiler import TableProfile, open_source, profile

N = 500
TABLE = pa.table(
    {
        "id": pa.array(range(N), pa.int64()),
        "amount": pa.array([None if i % 17 == 0 else i * 1.25 - 100 for i in range(N)], pa.float64()),
        "city": pa.array([None if i % 11 == 0 else ["Oslo", "Rome", "Seoul", "Lima"][i % 4]
                          for i in range(N)], pa.string()),
        "active": pa.array([i % 3 == 0 for i in range(N)], pa.bool_()),
        "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i % 40) for i in range(N)],
                        pa.date32()),
    }
)

COMPARED = ("row_count", "null_count", "distinct_count", "min", "max", "mean", "true_count",
            "min_length", "max_length", "top_values")


@pytest.fixture(scope="module")
def expected() -> TableProfile:
    return profile(TABLE)


def assert_matches(p: TableProfile, expected: TableProfile, columns=None) -> None:
    assert p.row_count == expected.row_count
    for name in columns or expected.column_names:
        got, exp = p[name], expected[name]
        for f in COMPARED:
            g, e = getattr(got, f), getattr(exp, f)
            if f == "top_values" and g is not None:
                g, e = [(v.value, v.count) for v in g], [(v.value, v.count) for v in e]
            if isinstance(e, float):
                assert g == pytest.approx(e, rel=1e-12), f"{name}.{f}"
            else:
                assert g == e, f"{name}.{f}"


def _write_csv(path: Path, table: pa.Table, delimiter: str = ",") -> None:
    pa_csv.write_csv(table, path, write_options=pa_csv.WriteOptions(delimiter=delimiter))


def _write_jsonl(path: Path, table: pa.Table) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in table.to_pylist():
            row["day"] = row["day"].isoformat()
            f.write(json.dumps(row) + "\n")


@pytest.mark.parametrize(
    "name",
    ["data.csv", "DATA.CSV", "data.tsv", "data.parquet", "data.arrow", "data.feather",
     "data.arrows", "data.csv.gz", "data.jsonl"],
)
def test_file_formats(tmp_path: Path, name: str, expected: TableProfile) -> None:
    path = tmp_path / name
    lower = name.lower()
    if lower.endswith(".csv.gz"):
        plain = tmp_path / "plain.csv"
        _write_csv(plain, TABLE)
        with open(plain, "rb") as src, gzip.open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
    elif lower.endswith(".csv"):
        _write_csv(path, TABLE)
    elif lower.endswith(".tsv"):
        _write_csv(path, TABLE, "\t")
    elif lower.endswith(".parquet"):
        pq.write_table(TABLE, path, row_group_size=100)
    elif lower.endswith((".arrow", ".feather")):
        feather.write_feather(TABLE, path, chunksize=64)
    elif lower.endswith(".arrows"):
        with pa.ipc.new_stream(path, TABLE.schema) as w:
            w.write_table(TABLE, max_chunksize=64)
    elif lower.endswith(".jsonl"):
        _write_jsonl(path, TABLE)
    p = profile(path)
    assert p.source == str(path)
    columns = None
    if lower.endswith(".jsonl"):  # JSON has no date type: the day column is read as a timestamp
        columns = ["id", "amount", "city", "active"]
    assert_matches(p, expected, columns)


def test_parquet_row_count_known_up_front(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path, row_group_size=100)
    src = open_source(path, batch_size=64)
    assert src.total_rows == N
    sizes = [b.num_rows for b in src.batches()]
    assert sum(sizes) == N and max(sizes) <= 64, "streamed in batches, not read whole"
    seen = []
    # one worker (the caller's thread) reports after every batch; worker threads at most every
    # driver.PROGRESS_INTERVAL_SECONDS
    profile(path, batch_size=64, num_workers=1,
            progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (N, N) and len(seen) == len(sizes)
    seen.clear()
    profile(path, batch_size=64, num_workers=2,
            progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (N, N) and 1 <= len(seen) <= len(sizes)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_hive_partitioned_directory(tmp_path: Path, expected: TableProfile) -> None:
    root = tmp_path / "sales"
    ds.write_dataset(TABLE.append_column("region", pa.array(["north", "south"] * (N // 2))),
                     root, format="parquet", partitioning=["region"], partitioning_flavor="hive")
    (root / "_SUCCESS").write_text("")
    p = profile(root)
    assert_matches(p, expected, ["id", "amount", "city", "active"])
    region = p["region"]
    assert region.row_count == N and region.distinct_count == 2 and region.null_count == 0
    assert {v.value: v.count for v in region.top_values} == {"north": N // 2, "south": N // 2}


def test_glob_of_files(tmp_path: Path, expected: TableProfile) -> None:
    for i, lo in enumerate(range(0, N, 200)):
        _write_csv(tmp_path / f"part-{i}.csv", TABLE.slice(lo, 200))
    (tmp_path / "notes.txt").write_text("not data")
    p = profile(str(tmp_path / "part-*.csv"))
    assert_matches(p, expected)
    assert p.source == str(tmp_path / "part-*.csv")


def test_directory_of_csv_files(tmp_path: Path, expected: TableProfile) -> None:
    for i, lo in enumerate(range(0, N, 150)):
        _write_csv(tmp_path / f"part-{i}.csv", TABLE.slice(lo, 150))
    assert_matches(profile(tmp_path), expected)


def test_in_memory_sources(expected: TableProfile) -> None:
    batches = TABLE.to_batches(max_chunksize=100)
    sources = {
        "pyarrow.Table": TABLE,
        "pyarrow.RecordBatch": TABLE.combine_chunks().to_batches()[0],
        "pyarrow.RecordBatchReader": pa.RecordBatchReader.from_batches(TABLE.schema, batches),
        "pyarrow.InMemoryDataset": ds.dataset(TABLE),
        "polars.DataFrame": pl.from_arrow(TABLE),
        "polars.LazyFrame": pl.from_arrow(TABLE).lazy(),
        "pandas.DataFrame": TABLE.to_pandas(),
    }
    for description, source in sources.items():
        p = profile(source)
        assert p.source == description
        columns = None
        if description == "pandas.DataFrame":  # pandas holds dates as objects: still dates
            columns = ["id", "amount", "city", "active"]
        assert_matches(p, expected, columns)


def test_arrow_c_stream_object(expected: TableProfile) -> None:
    class Stream:
        def __arrow_c_stream__(self, requested_schema=None):
            return TABLE.__arrow_c_stream__(requested_schema)

    assert_matches(profile(Stream()), expected)


def test_column_projection_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path)
    for source in (path, TABLE, pl.from_arrow(TABLE), pl.from_arrow(TABLE).lazy(),
                   TABLE.to_pandas()):
        p = profile(source, columns=["city", "id"])
        assert p.column_names == ["city", "id"]
        with pytest.raises(ColumnNotFoundError, match="'nope'.*available columns: id, amount"):
            profile(source, columns=["id", "nope"])


def test_missing_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match="missing.csv") as info:
        profile(tmp_path / "missing.csv")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(SourceNotFoundError, match=r"\*\.parquet"):
        profile(str(tmp_path / "*.parquet"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceNotFoundError, match="empty"):
        profile(tmp_path / "empty")


def test_malformed_files_name_the_file(tmp_path: Path) -> None:
    bad_parquet = tmp_path / "bad.parquet"
    bad_parquet.write_bytes(b"PAR1 this is not parquet")
    # "<file>: <what>", the file as given (the CLI prints it after "th: error: ")
    with pytest.raises(SourceReadError, match=f"^{re.escape(str(bad_parquet))}: "):
        profile(bad_parquet)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n3\n")
    with pytest.raises(SourceReadError, match=f"^{re.escape(str(bad_csv))}: "):
        profile(bad_csv)
    unknown = tmp_path / "data.xyz"
    unknown.write_text("1,2\n")
    with pytest.raises(SourceReadError, match="format"):
        profile(unknown)


def test_malformed_file_in_a_directory_is_named(tmp_path: Path) -> None:
    for i in range(3):
        pq.write_table(TABLE.slice(i * 100, 100), tmp_path / f"part-{i}.parquet")
    (tmp_path / "part-1.parquet").write_bytes(b"garbage that is not parquet at all")
    with pytest.raises(SourceReadError, match=f"^{re.escape(str(tmp_path / 'part-1.parquet'))}: "):
        profile(tmp_path)


def test_unsupported_sources() -> None:
    with pytest.raises(UnsupportedTypeError):
        profile([1, 2, 3])
    with pytest.raises(UnsupportedTypeError):
        profile({"a": [1]})


def test_csv_value_that_does_not_fit_the_inferred_type(tmp_path: Path) -> None:
    """pyarrow infers CSV types from the first block; a later misfit is read as text instead."""
    path = tmp_path / "late.csv"
    n = 200_000
    with open(path, "w") as f:
        f.write("a,b\n")
        f.writelines(f"{i},{i * 2}\n" for i in range(n))
        f.write("oops,7\n")
    p = profile(path)
    assert p.row_count == n + 1
    assert p["a"].physical_type in ("large_string", "string")
    assert p["a"].distinct_count == n + 1 and p["a"].max == "oops"
    assert p["b"].physical_type == "int64" and p["b"].max == 2 * (n - 1)


def test_schema_drift_across_files(tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": pa.array([1, 2], pa.int32()), "y": [1, 2]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": pa.array([3, 2**40], pa.int64()), "y": [1.5, 2.5]}),
                   tmp_path / "b.parquet")
    p = profile(tmp_path)  # int32 + int64 -> int64, int64 + double -> double
    assert p["x"].physical_type == "int64" and p["x"].max == 2**40
    assert p["y"].physical_type == "double" and p["y"].max == 2.5 and p["y"].min == 1.0
    pq.write_table(pa.table({"x": ["s", "t"], "y": [1, 2]}), tmp_path / "c.parquet")
    with pytest.raises(SchemaError, match=r"'x'.*int32.*a\.parquet.*string.*c\.parquet"):
        profile(tmp_path)


def test_parquet_small_dictionary_strings(tmp_path: Path) -> None:
    """String columns with small dictionaries are read dictionary-encoded (the engine hashes,
    measures and matches each entry once); columns whose writer fell back to plain pages are not.
    Either way the profile is the plain table's, column types included."""
    from truthound.profiler.distributed import DistributedProfiler
    from truthound.profiler.sources.native_parquet import _small_dictionary_columns

    n = 20_000
    table = pa.table({
        "code": [f"c{i % 37}" if i % 13 else None for i in range(n)],
        "mail": [f"user.{i * 7919 % n:06d}@example.org" for i in range(n)],
        "amount": [i * 0.5 for i in range(n)],
    })
    expected = profile(table)
    for limit, chosen in ((16 * 1024, ["code"]), (1 << 20, ["code", "mail"])):
        path = tmp_path / f"t{limit}.parquet"
        pq.write_table(table, path, row_group_size=5000, dictionary_pagesize_limit=limit)
        pf = pq.ParquetFile(path)
        assert _small_dictionary_columns(pf, _core.read_parquet_footer(str(path)), ["code", "mail"], range(pf.num_row_groups)) == chosen
        runs = [profile(path), profile(path, batch_size=3000),
                DistributedProfiler.create(backend="local", num_workers=2).profile(str(path))]
        for k, p in enumerate(runs):
            # 20,000 distinct mails (and amounts) overflow the frequent-items sketch: merged from two
            # workers, its top values are estimates, not the one-pass ones
            assert_matches(p, expected, ["code"] if k == 2 else None)
            assert p["mail"].distinct_count == expected["mail"].distinct_count
            for name in ("code", "mail"):
                got, exp = p[name], expected[name]
                assert got.physical_type == "string"
                assert got.avg_length == pytest.approx(exp.avg_length, rel=1e-12)
                assert got.empty_string_count == exp.empty_string_count
                assert got.detected_patterns == exp.detected_patterns
            assert p.duplicate_row_count == expected.duplicate_row_count


def test_single_parquet_file_needs_neither_pyarrow_dataset_nor_pandas(tmp_path: Path) -> None:
    """Importing pyarrow.dataset imports pandas (0.2 s when installed): a single Parquet file,
    the commonest input of `th profile`, is read without either, in both the plain and the
    distributed local paths, and gives the same profile as its table."""
    import subprocess
    import sys

    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path, row_group_size=100)
    code = (
        "import sys\n"
        "from truthound.profiler import profile\n"
        "from truthound.profiler.distributed import DistributedProfiler\n"
        f"a = profile({str(path)!r})\n"
        f"b = DistributedProfiler.create(backend='local', num_workers=2).profile({str(path)!r})\n"
        "assert a.row_count == b.row_count == 500, (a.row_count, b.row_count)\n"
        "print(sorted(m for m in ('pyarrow.dataset', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert_matches(profile(path), profile(TABLE))


def test_parquet_large_string_column_read_encoded(tmp_path: Path) -> None:
    """pyarrow reads a large_string column with read_dictionary as dictionary<int32, string>: the
    batches keep that encoding and the engine consumes it into the large_string column."""
    from truthound.profiler.sources.base import _conform
    from truthound.profiler.sources.native_parquet import _small_dictionary_columns

    n = 6000
    table = pa.table({"code": pa.array([f"k{i % 9}" for i in range(n)], pa.large_string())})
    path = tmp_path / "large.parquet"
    pq.write_table(table, path, row_group_size=2000)
    pf = pq.ParquetFile(path)
    assert _small_dictionary_columns(pf, _core.read_parquet_footer(str(path)), ["code"], range(pf.num_row_groups)) == ["code"]
    encoded = pq.ParquetFile(path, read_dictionary=["code"])
    batch = next(encoded.iter_batches(batch_size=1000))
    conformed = _conform(batch, table.schema, {})
    assert pa.types.is_dictionary(conformed.column(0).type)  # not decoded back
    p = profile(path)
    assert p["code"].physical_type == "large_string"
    assert_matches(p, profile(table))
