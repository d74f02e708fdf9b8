"""The Python API: options, errors, the result model."""

from __future__ import annotations

import json
from dataclasses import fields

import pyarrow as pa
import pytest

import truthound
from truthound import _core
from truthound.errors import (
    ArrowImportError,
    BackendNotAvailableError,
    ColumnNotFoundError,
    ConfigurationError,
    CorruptProfileError,
    SchemaError,
    SourceNotFoundError,
    SourceReadError,
    TruthoundError,
    UnsupportedTypeError,
)
from truthound.profiler import ColumnProfile, TableProfile, profile

TABLE = pa.table({"id": [1, 2, 3, 4], "name": ["a", "b", None, "b"], "x": [0.5, 1.5, 2.5, None]})


def test_exports() -> None:
    assert truthound.profile is profile
    assert truthound.TableProfile is TableProfile and truthound.ColumnProfile is ColumnProfile
    assert isinstance(truthound.__version__, str) and truthound.__version__


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (SourceNotFoundError, FileNotFoundError),
        (SourceReadError, OSError),
        (UnsupportedTypeError, TypeError),
        (SchemaError, ValueError),
        (CorruptProfileError, ValueError),
        (ConfigurationError, ValueError),
        (ArrowImportError, ValueError),
        (ColumnNotFoundError, KeyError),
        (BackendNotAvailableError, RuntimeError),
    ],
)
def test_error_hierarchy(cls: type, builtin: type) -> None:
    assert issubclass(cls, TruthoundError) and issubclass(cls, builtin)
    assert str(cls("column 'x' is bad")) == "column 'x' is bad"


def test_column_not_found_message_has_no_keyerror_quotes() -> None:
    with pytest.raises(ColumnNotFoundError) as info:
        profile(TABLE, columns=["nope"])
    text = str(info.value)
    assert text.startswith("column 'nope' not found") and "id, name, x" in text


def test_result_json_fields_match_the_model() -> None:
    """Every field of the engine's result JSON is a model field and vice versa."""
    state = _core.PartialProfile("{}")
    state.consume_batch(TABLE.to_batches()[0])
    raw = json.loads(state.finalize())
    table_fields = {f.name for f in fields(TableProfile) if not f.name.startswith("_")}
    assert set(raw) == table_fields - {"source", "profiled_at", "profile_duration_ms", "execution"}
    column_fields = {f.name for f in fields(ColumnProfile)}
    for col in raw["columns"]:
        assert set(col) == column_fields, col["name"]
    # and the model reproduces the engine's JSON exactly
    p = TableProfile.from_dict(raw)
    d = p.to_dict()
    for key in ("source", "profiled_at", "profile_duration_ms", "execution"):
        d.pop(key)
    assert d == raw


def test_json_round_trip_and_lookup() -> None:
    p = profile(TABLE)
    q = TableProfile.from_json(p.to_json())
    assert q == p
    assert q.to_dict() == p.to_dict()
    assert p["name"] is p.column("name") and "name" in p and "zz" not in p
    assert p.column_names == ["id", "name", "x"]
    with pytest.raises(ColumnNotFoundError, match="available columns: id, name, x"):
        p["zz"]
    assert "rows=4" in repr(p) and "name='name'" in repr(p["name"])


def test_metadata_fields() -> None:
    p = profile(TABLE)
    assert p.source == "pyarrow.Table"
    assert p.profiled_at.endswith("Z") and "T" in p.profiled_at
    assert p.profile_duration_ms > 0


def test_columns_projection_keeps_order() -> None:
    p = profile(TABLE, columns=["x", "id"])
    assert p.column_names == ["x", "id"] and p.column_count == 2


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"top_n": -1}, "top_n"),
        ({"top_n": "5"}, "top_n"),
        ({"top_n": True}, "top_n"),
        ({"histogram_bins": 0}, "histogram_bins"),
        ({"pattern_threshold": 1.5}, "pattern_threshold"),
        ({"patterns": "yes"}, "patterns"),
        ({"correlations": 1}, "correlations"),
        ({"batch_size": 0}, "batch_size"),
        ({"columns": []}, "columns"),
        ({"columns": ["id", "id"]}, "columns"),
        ({"no_such_option": 1}, "no_such_option"),
        ({"hll_precision": 2}, "hll_precision"),
        ({"kll_k": 1}, "kll_k"),
        ({"format": "xls"}, "format"),
        ({"progress": "loud"}, "progress"),
    ],
)
def test_bad_options_name_the_option(kwargs: dict, option: str, customers_csv) -> None:
    source = str(customers_csv) if "format" in kwargs else TABLE
    with pytest.raises(ConfigurationError, match=option):
        profile(source, **kwargs)


def test_progress_callback_advances_by_rows() -> None:
    seen: list[tuple[int, int | None]] = []
    table = pa.table({"x": list(range(1000))})
    profile(table, batch_size=300, num_workers=1,
            progress=lambda done, total: seen.append((done, total)))
    assert seen == [(300, 1000), (600, 1000), (900, 1000), (1000, 1000)]
    # two workers: each reports its rows as it goes; the sum only grows and ends at every row
    seen.clear()
    profile(table, batch_size=300, num_workers=2,
            progress=lambda done, total: seen.append((done, total)))
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == 1000 and len(done) >= 4
    assert {t for _, t in seen} == {1000}


def test_batch_size_does_not_change_the_result() -> None:
    table = pa.table({"x": list(range(1000)), "s": [str(i % 7) for i in range(1000)]})
    a, b = profile(table, batch_size=7), profile(table, batch_size=1000)
    # estimated_memory_bytes sums the Arrow buffers as batched (one offsets entry more per batch)
    same = {"profiled_at": 0, "profile_duration_ms": 0, "estimated_memory_bytes": 0}
    assert a.to_dict() | same == b.to_dict() | same
    assert 0 < b.estimated_memory_bytes <= a.estimated_memory_bytes


def test_empty_table_keeps_its_columns() -> None:
    p = profile(TABLE.slice(0, 0))
    assert p.row_count == 0 and p.column_names == ["id", "name", "x"]
    assert p["id"].null_count == 0 and p["id"].min is None


def test_unsupported_object() -> None:
    with pytest.raises(UnsupportedTypeError, match="int"):
        profile(42)


def test_engine_rejects_a_non_arrow_batch() -> None:
    state = _core.PartialProfile("{}")
    with pytest.raises((TruthoundError, TypeError)):
        state.consume_batch(object())


def test_corrupt_engine_bytes() -> None:
    with pytest.raises(CorruptProfileError):
        _core.PartialProfile.from_bytes(b"\x00" * 10)


def test_decimal_scale_outside_the_engine_range_is_unsupported() -> None:
    import decimal

    from truthound.errors import UnsupportedTypeError

    ok = pa.table({"d": pa.array([decimal.Decimal("1.5")], pa.decimal128(5, 1))})
    assert profile(ok)["d"].max == "1.5"
    table = pa.table({"d": pa.array([None], pa.decimal128(38, 200))})
    with pytest.raises(UnsupportedTypeError, match="scale 200"):
        profile(table)
