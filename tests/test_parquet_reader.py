"""The engine's own Parquet reader (cpp/src/parquet/) against pyarrow's, on files pyarrow writes.

Every test reads a file both ways and asks for the same table: the values, the nulls and the
types, whatever the page version, compression, encoding, page size, row groups and batch size.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truthound import _core
from truthound.errors import SourceReadError
from truthound.profiler import profile
from truthound.profiler.sources import native_parquet

N = 5000


def _mixed_table(n: int = N, seed: int = 7) -> pa.Table:
    rng = random.Random(seed)

    def maybe(v: Any, share: float) -> Any:
        return None if rng.random() < share else v

    words = ["alpha", "beta", "gamma", "delta", "", "épsilon", "zeta 字"]
    columns = {
        "b": pa.array([maybe(rng.random() < 0.3, 0.1) for _ in range(n)], pa.bool_()),
        "i32": pa.array([maybe(rng.randint(-2**31, 2**31 - 1), 0.05) for _ in range(n)], pa.int32()),
        "u32": pa.array([rng.randint(0, 2**32 - 1) for _ in range(n)], pa.uint32()),
        "i64": pa.array([maybe(rng.randint(-2**63, 2**63 - 1), 0.2) for _ in range(n)], pa.int64()),
        "u64": pa.array([rng.randint(0, 2**64 - 1) for _ in range(n)], pa.uint64()),
        "small": pa.array([rng.randint(0, 9) for _ in range(n)], pa.int64()),
        "f32": pa.array([maybe(rng.uniform(-1e3, 1e3), 0.1) for _ in range(n)], pa.float32()),
        "f64": pa.array([maybe(rng.gauss(0, 1e6), 0.5) for _ in range(n)], pa.float64()),
        "d": pa.array([maybe(dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 9000)), 0.1)
                       for _ in range(n)], pa.date32()),
        "t_ms": pa.array([rng.randint(0, 86_399_999) for _ in range(n)], pa.time32("ms")),
        "t_us": pa.array([rng.randint(0, 86_399_999_999) for _ in range(n)], pa.time64("us")),
        "ts_us": pa.array([maybe(rng.randint(0, 2**50), 0.1) for _ in range(n)],
                          pa.timestamp("us", tz="UTC")),
        "ts_ns": pa.array([rng.randint(0, 2**60) for _ in range(n)], pa.timestamp("ns")),
        "dur": pa.array([rng.randint(-10**9, 10**9) for _ in range(n)], pa.duration("ms")),
        "s_low": pa.array([maybe(rng.choice(words), 0.1) for _ in range(n)], pa.string()),
        "s_high": pa.array([maybe(f"user{rng.randint(0, 10**9)}@example.com", 0.05)
                            for _ in range(n)], pa.string()),
        "s_long": pa.array([" ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
                            for _ in range(n)], pa.large_string()),
        "bin": pa.array([maybe(rng.randbytes(rng.randint(0, 20)), 0.1) for _ in range(n)],
                        pa.binary()),
        "all_null": pa.nulls(n, pa.string()),
    }
    table = pa.table(columns)
    # a required (non-nullable) column: definition level 0
    required = pa.field("req", pa.int64(), nullable=False)
    return table.append_column(required, pa.array(range(n), pa.int64()))


def _footer(path: Path) -> _core.ParquetFooter:
    return _core.read_parquet_footer(str(path))


def _native(path: Path, batch_size: int, dictionary: Sequence[str] = (),
            columns: Sequence[str] | None = None) -> list[pa.RecordBatch]:
    pf = pq.ParquetFile(path)
    names = list(columns) if columns is not None else pf.schema_arrow.names
    reader = native_parquet._native_reader(str(path), None, pf, _footer(path), names,
                                    range(pf.num_row_groups),
                                    dictionary, batch_size)
    assert reader is not None, "the engine's reader declined a file it should read"
    return list(reader)  # all alive at once: the reader must not reuse a live batch's buffers


def _decoded(batches: list[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    arrays = []
    for field in schema:
        chunks = [b.column(field.name) for b in batches]
        chunks = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in chunks]
        arrays.append(pa.chunked_array(chunks, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _check_same(path: Path, batch_size: int, dictionary: Sequence[str] = ()) -> list[pa.RecordBatch]:
    expected = pq.read_table(path)
    batches = _native(path, batch_size, dictionary)
    rows_per_group = [pq.ParquetFile(path).metadata.row_group(g).num_rows
                      for g in range(pq.ParquetFile(path).num_row_groups)]
    # batches never span row groups, and hold at most batch_size rows
    sizes = [b.num_rows for b in batches]
    assert max(sizes, default=0) <= batch_size
    expected_sizes = [min(batch_size, r - s) for r in rows_per_group for s in range(0, r, batch_size)]
    assert sizes == expected_sizes
    got = _decoded(batches, expected.schema)
    for name in expected.column_names:
        assert got.column(name).equals(expected.column(name)), name
    for b in batches:
        b.validate(full=True)
    return batches


@pytest.mark.parametrize("version", ["1.0", "2.0"])
@pytest.mark.parametrize("compression", ["none", "snappy"])
@pytest.mark.parametrize("dictionary", [True, False])
def test_every_type_page_version_codec_and_encoding(tmp_path: Path, version: str, compression: str,
                                                    dictionary: bool) -> None:
    path = tmp_path / "mixed.parquet"
    pq.write_table(_mixed_table(), path, data_page_version=version, compression=compression,
                   use_dictionary=dictionary, row_group_size=2000, data_page_size=4096)
    _check_same(path, 700)


@pytest.mark.parametrize("batch_size", [1, 999, 2000, 100_000])
def test_batch_sizes_and_row_groups(tmp_path: Path, batch_size: int) -> None:
    path = tmp_path / "mixed.parquet"
    pq.write_table(_mixed_table(3000), path, row_group_size=1200)
    _check_same(path, batch_size)


def test_string_columns_read_dictionary_encoded(tmp_path: Path) -> None:
    path = tmp_path / "dict.parquet"
    pq.write_table(_mixed_table(), path, row_group_size=2000, data_page_size=2048)
    batches = _check_same(path, 512, dictionary=["s_low", "bin", "all_null"])
    assert pa.types.is_dictionary(batches[0].schema.field("s_low").type)
    # one row group's dictionary, shared by its batches, holds each distinct value once
    assert len(batches[0].column("s_low").dictionary) <= 7


def test_dictionary_read_column_with_plain_pages(tmp_path: Path) -> None:
    # a tiny dictionary page limit makes the writer fall back to plain pages mid-chunk: those
    # values join the batch's dictionary
    path = tmp_path / "fallback.parquet"
    pq.write_table(_mixed_table(), path, dictionary_pagesize_limit=256, data_page_size=1024)
    meta = pq.ParquetFile(path).metadata.row_group(0).column(
        pq.ParquetFile(path).schema_arrow.get_field_index("s_high"))
    assert "PLAIN" in meta.encodings and meta.has_dictionary_page
    _check_same(path, 1000, dictionary=["s_high", "s_long"])


def test_empty_file_and_empty_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(_mixed_table(0), path)
    pf = pq.ParquetFile(path)
    assert _native(path, 100) == [] or all(b.num_rows == 0 for b in _native(path, 100))
    assert pf.metadata.num_rows == 0


def test_profiles_are_the_same_with_either_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                  ) -> None:
    path = tmp_path / "mixed.parquet"
    pq.write_table(_mixed_table(20_000), path, row_group_size=4096)
    native = profile(str(path)).to_dict()
    monkeypatch.setenv("TRUTHOUND_PARQUET_READER", "pyarrow")
    reference = profile(str(path)).to_dict()
    for key in ("profiled_at", "profile_duration_ms"):
        native.pop(key, None)
        reference.pop(key, None)
    assert native == reference


@pytest.mark.parametrize(
    "table, kwargs",
    [
        (pa.table({"x": pa.array([1, 2], pa.int64())}), {"compression": "zstd"}),
        (pa.table({"x": pa.array([1, 2], pa.int8())}), {}),
        (pa.table({"x": pa.array([b"abcd"], pa.binary(4))}), {}),
        (pa.table({"x": pa.array([{"a": 1}], pa.struct([("a", pa.int64())]))}), {}),
        (pa.table({"x": pa.array([[1], [2, 3]])}), {}),
        (pa.table({"x": pa.array(["a", "b"], pa.string())}), {"column_encoding": {"x": "DELTA_BYTE_ARRAY"},
                                                              "use_dictionary": False}),
        (pa.table({"x": pa.array([decimal.Decimal("1.5")], pa.decimal128(5, 2))}), {}),
    ],
    ids=["zstd", "int8", "fixed_size_binary", "struct", "list", "delta", "decimal"],
)
def test_files_it_cannot_read_go_to_pyarrow(tmp_path: Path, table: pa.Table, kwargs: dict) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(table, path, **kwargs)
    pf = pq.ParquetFile(path)
    names = [n for n in pf.schema_arrow.names]
    assert native_parquet._native_reader(str(path), None, pf, _footer(path), names, [0], (), 100) is None
    assert profile(str(path)).row_count == table.num_rows


def test_truncated_file_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "whole.parquet"
    pq.write_table(_mixed_table(), path, compression="snappy")
    pf = pq.ParquetFile(path)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    reader = native_parquet._native_reader(str(cut), None, pf, _footer(path), pf.schema_arrow.names, [0],
                                    (), 1000)
    assert reader is not None
    with pytest.raises(SourceReadError, match=r"cut\.parquet: column '\w+'"):
        list(reader)


@pytest.mark.parametrize("compression", ["none", "snappy"])
def test_corrupted_bytes_raise_or_read_never_crash(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "ok.parquet"
    pq.write_table(_mixed_table(2000), path, compression=compression, data_page_size=2048)
    pf = pq.ParquetFile(path)
    data = bytearray(path.read_bytes())
    end = pf.metadata.row_group(0).column(pf.metadata.num_columns - 1).data_page_offset
    rng = random.Random(3)
    raised = 0
    for trial in range(60):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            bad[rng.randrange(4, end)] = rng.randrange(256)
        p = tmp_path / f"bad{trial}.parquet"
        p.write_bytes(bytes(bad))
        reader = native_parquet._native_reader(str(p), None, pf, _footer(path), pf.schema_arrow.names,
                                        [0], (), 500)
        assert reader is not None
        try:
            for batch in reader:
                batch.validate()
        except SourceReadError as exc:
            assert "bad" in str(exc)
            raised += 1
    assert raised > 0


@st.composite
def _column(draw: Any) -> pa.Array:
    n = draw(st.integers(0, 300))
    kind = draw(st.sampled_from(["int64", "int32", "float64", "bool", "string", "date"]))
    nulls = draw(st.sampled_from([0.0, 0.3, 1.0]))
    distinct = draw(st.sampled_from([3, 1000]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    make = {
        "int64": (lambda: rng.randint(-distinct, distinct), pa.int64()),
        "int32": (lambda: rng.randint(-distinct, distinct), pa.int32()),
        "float64": (lambda: rng.randint(0, distinct) / 7, pa.float64()),
        "bool": (lambda: rng.random() < 0.5, pa.bool_()),
        "string": (lambda: "x" * rng.randint(0, 3) + str(rng.randint(0, distinct)), pa.string()),
        "date": (lambda: dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, distinct)),
                 pa.date32()),
    }[kind]
    return pa.array([None if rng.random() < nulls else make[0]() for _ in range(n)], make[1])


@settings(max_examples=60)
@given(column=_column(), data=st.data())
def test_random_columns_and_layouts(tmp_path_factory: pytest.TempPathFactory, column: pa.Array,
                                   data: st.DataObject) -> None:
    path = tmp_path_factory.mktemp("h") / "r.parquet"
    pq.write_table(
        pa.table({"c": column, "n": pa.array(range(len(column)), pa.int64())}), path,
        row_group_size=data.draw(st.integers(1, 400)),
        data_page_size=data.draw(st.sampled_from([64, 1024, 1 << 20])),
        data_page_version=data.draw(st.sampled_from(["1.0", "2.0"])),
        compression=data.draw(st.sampled_from(["none", "snappy"])),
        use_dictionary=data.draw(st.booleans()),
    )
    dictionary = ["c"] if pa.types.is_string(column.type) and data.draw(st.booleans()) else []
    _check_same(path, data.draw(st.integers(1, 500)), dictionary)


@pytest.mark.parametrize("writer", ["duckdb", "polars"])
@pytest.mark.parametrize("compression", ["snappy", "uncompressed"])
def test_files_of_other_writers(tmp_path: Path, writer: str, compression: str) -> None:
    table = _mixed_table(12_000).drop_columns(["u64", "dur", "t_ms", "t_us"])
    path = tmp_path / f"{writer}.parquet"
    if writer == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.register("t", table)
        con.execute(f"COPY t TO '{path}' (FORMAT PARQUET, COMPRESSION {compression}, "
                    "ROW_GROUP_SIZE 5000)")
    else:
        import polars as pl

        pl.from_arrow(table).write_parquet(path, compression=compression, row_group_size=5000)
    dictionary = native_parquet._small_dictionary_columns(pq.ParquetFile(path), _footer(path), ["s_low"], [0])
    _check_same(path, 3000, dictionary)


# ---------------------------------------------------------------- row ranges of a row group


def _read_range(path: Path, first: int, count: int, batch_size: int) -> pa.Table:
    pf = pq.ParquetFile(path)
    batches = list(native_parquet.parquet_file_batches(str(path), None, pf.schema_arrow, None, batch_size,
                                                row_groups=[0], row_range=(first, count)))
    return _decoded(batches, pf.schema_arrow)


@pytest.mark.parametrize("reader", ["native", "pyarrow"])
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_row_range_of_a_row_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str,
                                  version: str) -> None:
    monkeypatch.setenv("TRUTHOUND_PARQUET_READER", reader)
    table = _mixed_table(6000)
    path = tmp_path / "one_group.parquet"
    pq.write_table(table, path, data_page_version=version, data_page_size=2048,
                   row_group_size=6000, dictionary_pagesize_limit=4096)
    for first, count in [(0, 6000), (0, 1), (1, 0), (2999, 3001), (1234, 777), (5999, 1)]:
        got = _read_range(path, first, count, 500)
        assert got.equals(table.slice(first, count)), (first, count)


@settings(max_examples=40)
@given(column=_column(), data=st.data())
def test_random_row_ranges(tmp_path_factory: pytest.TempPathFactory, column: pa.Array,
                           data: st.DataObject) -> None:
    path = tmp_path_factory.mktemp("r") / "r.parquet"
    table = pa.table({"c": column, "n": pa.array(range(len(column)), pa.int64())})
    pq.write_table(table, path, row_group_size=max(len(column), 1),
                   data_page_size=data.draw(st.sampled_from([64, 1024])),
                   data_page_version=data.draw(st.sampled_from(["1.0", "2.0"])),
                   compression=data.draw(st.sampled_from(["none", "snappy"])),
                   use_dictionary=data.draw(st.booleans()))
    if pq.ParquetFile(path).num_row_groups == 0:
        return
    first = data.draw(st.integers(0, len(column)))
    count = data.draw(st.integers(0, len(column) - first))
    assert _read_range(path, first, count, data.draw(st.integers(1, 300))).equals(
        table.slice(first, count))


def test_a_single_row_group_is_split_among_workers(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from truthound.profiler.distributed import DistributedProfiler
    from truthound.profiler.distributed import planning

    monkeypatch.setattr(planning, "PARQUET_MIN_RANGE_ROWS", 1000)
    table = _mixed_table(9000)
    path = tmp_path / "one_group.parquet"
    pq.write_table(table, path, row_group_size=9000, data_page_size=4096)
    plan = planning.plan_source(str(path), min_units=3)
    ranges = [u.row_range for u in plan.units]
    assert ranges == [(0, 3000), (3000, 3000), (6000, 3000)]
    assert "rows 3000-6000" in plan.units[1].describe()
    profiler = DistributedProfiler.create(backend="local", num_workers=3)
    split = profiler.profile(str(path)).to_dict()
    whole = profile(str(path), num_workers=1).to_dict()
    assert split["row_count"] == whole["row_count"] == 9000
    for cs, cw in zip(split["columns"], whole["columns"]):
        for key in ("count", "null_count", "min", "max", "min_length", "max_length", "mean"):
            if key in cw:
                assert cs[key] == pytest.approx(cw[key], rel=1e-12) if isinstance(cw[key], float) \
                    else cs[key] == cw[key], (cw["name"], key)
    # the pyarrow reader cannot skip pages: the row group is not split
    monkeypatch.setenv("TRUTHOUND_PARQUET_READER", "pyarrow")
    assert [u.row_range for u in planning.plan_source(str(path), min_units=3).units] == [None]
