"""profile(A ∪ B) equals merge(profile(A), profile(B)), also through to_bytes/from_bytes."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _profiles import without_duplicate_rows
from _strategies import arrow_table
from truthound.errors import CorruptProfileError, SchemaError, TruthoundError
from truthound.profiler import TableProfile, profile

# Metadata that differs between runs by design; estimated_memory_bytes sums the Arrow buffers as
# batched, so it depends on how the rows were split.
_RUN_FIELDS = {"source", "sources", "profiled_at", "profile_duration_ms", "estimated_memory_bytes",
               "execution"}
# Moments: equal to floating-point rounding, not bit for bit.
_FLOAT_REL = 1e-9


def assert_same_profile(a: TableProfile, b: TableProfile) -> None:
    da = {k: v for k, v in a.to_dict().items() if k not in _RUN_FIELDS}
    db = {k: v for k, v in b.to_dict().items() if k not in _RUN_FIELDS}
    _assert_same(da, db, "profile")


def _assert_same(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            if key == "samples":  # which matches are kept as samples may depend on order
                assert (a[key] is None) == (b[key] is None), where
                continue
            if key in ("top_values", "bottom_values") and a[key] and b[key]:
                _assert_same_ranking(a[key], b[key], f"{where}.{key}")
                continue
            _assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and not isinstance(a, bool):
        scale = max(abs(a), abs(b), 1.0)
        assert math.isclose(a, b, rel_tol=_FLOAT_REL, abs_tol=1e-9 * scale), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _assert_same_ranking(a: list, b: list, where: str) -> None:
    """Same counts in the same order; values may differ only within a tie at the cut-off."""
    assert [r["count"] for r in a] == [r["count"] for r in b], where
    cutoff = a[-1]["count"]
    strict_a = {repr(r["value"]): r for r in a if r["count"] != cutoff}
    strict_b = {repr(r["value"]): r for r in b if r["count"] != cutoff}
    assert strict_a.keys() == strict_b.keys(), where
    for key in strict_a:
        _assert_same(strict_a[key], strict_b[key], f"{where}[{key}]")


@given(arrow_table(max_size=60), st.data())
def test_merge_of_two_splits_equals_whole(table: pa.Table, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, table.num_rows))
    whole = profile(table)
    left = profile(table.slice(0, cut))
    right = profile(table.slice(cut))
    merged = left.merge(right)
    assert_same_profile(merged, whole)
    # through bytes, in the other order: merge is commutative
    again = TableProfile.from_bytes(right.to_bytes()).merge(TableProfile.from_bytes(left.to_bytes()))
    assert_same_profile(again, whole)


@given(arrow_table(max_size=60), st.lists(st.integers(0, 60), max_size=4))
def test_merge_of_many_splits_is_associative(table: pa.Table, cuts: list[int]) -> None:
    bounds = sorted({0, table.num_rows, *(min(c, table.num_rows) for c in cuts)})
    parts = [profile(table.slice(lo, hi - lo)) for lo, hi in zip(bounds, bounds[1:])]
    if not parts:
        parts = [profile(table)]
    left_fold = parts[0]
    for p in parts[1:]:
        left_fold = left_fold.merge(p)
    right_fold = parts[-1]
    for p in reversed(parts[:-1]):
        right_fold = p.merge(right_fold)
    whole = profile(table)
    assert_same_profile(left_fold, whole)
    assert_same_profile(right_fold, whole)


def test_merge_leaves_inputs_unchanged() -> None:
    a = profile(pa.table({"x": [1, 2, 3]}))
    b = profile(pa.table({"x": [4, 5]}))
    before = a.to_dict()
    merged = a.merge(b)
    assert merged.row_count == 5 and merged["x"].max == 5
    assert a.to_dict() == before and a.row_count == 3
    assert merged.profile_duration_ms >= a.profile_duration_ms + b.profile_duration_ms


def test_bytes_round_trip_keeps_everything() -> None:
    p = profile(pa.table({"x": [1, 2, None], "s": ["a", "b", "b"]}))
    q = TableProfile.from_bytes(p.to_bytes())
    assert q == p  # every field, metadata included
    assert q.source == p.source and q.profiled_at == p.profiled_at
    assert q.has_state


def test_merge_with_empty_profile_is_identity() -> None:
    table = pa.table({"x": [3, 1, 2, 2], "s": ["a", None, "c", "c"]})
    p = profile(table)
    empty = profile(table.slice(0, 0))
    assert_same_profile(p.merge(empty), p)
    assert_same_profile(empty.merge(p), p)


def test_type_conflict_is_a_schema_error() -> None:
    a = profile(pa.table({"x": [1, 2]}))
    b = profile(pa.table({"x": ["a", "b"]}))
    with pytest.raises(SchemaError, match="x"):
        a.merge(b)


def test_lossless_promotion_int32_int64() -> None:
    a = profile(pa.table({"x": pa.array([1, 2], pa.int32())}))
    b = profile(pa.table({"x": pa.array([3, 2**40], pa.int64())}))
    m = a.merge(b)
    assert m["x"].max == 2**40 and m["x"].row_count == 4


def test_profile_from_json_cannot_merge() -> None:
    p = profile(pa.table({"x": [1, 2]}))
    loaded = TableProfile.from_json(p.to_json())
    assert loaded == p and not loaded.has_state
    with pytest.raises(TruthoundError, match="to_bytes"):
        loaded.merge(p)
    with pytest.raises(TruthoundError, match="without engine state"):
        loaded.to_bytes()


@pytest.mark.parametrize("cut", [0, 3, 8, 12, 20, -1])
def test_truncated_bytes_are_rejected(cut: int) -> None:
    data = profile(pa.table({"x": [1, 2, 3], "s": ["a", "b", None]})).to_bytes()
    with pytest.raises(CorruptProfileError):
        TableProfile.from_bytes(data[:cut] if cut >= 0 else data[: len(data) // 2])


def test_corrupted_bytes_are_rejected() -> None:
    data = bytearray(profile(pa.table({"x": list(range(50))})).to_bytes())
    with pytest.raises(CorruptProfileError, match="magic"):
        TableProfile.from_bytes(b"XXXX" + bytes(data[4:]))
    meta_len = int.from_bytes(data[8:12], "little")
    engine_part = range(12 + meta_len, len(data), max(1, (len(data) - 12 - meta_len) // 97))
    for i in engine_part:
        broken = bytearray(data)
        broken[i] ^= 0x5A
        with pytest.raises(CorruptProfileError):
            TableProfile.from_bytes(bytes(broken))


# ---- the wrapper's metadata JSON (not covered by the engine's checksum) ----


def _with_metadata(data: bytes, meta: bytes) -> bytes:
    """`data` (TableProfile bytes) with its metadata JSON replaced by `meta`."""
    meta_len = int.from_bytes(data[8:12], "little")
    return data[:8] + len(meta).to_bytes(4, "little") + meta + data[12 + meta_len :]


def _assert_usable(p: TableProfile, other: TableProfile) -> None:
    """Everything a loaded profile offers works, and saving it loads the same profile back."""
    from truthound.report_console import render_console

    p.to_json()
    repr(p)
    render_console(p)
    again = TableProfile.from_bytes(p.to_bytes())
    assert again == p
    merged = p.merge(other)
    merged.to_json()
    assert merged.row_count == (p.row_count or 0) + (other.row_count or 0)
    assert TableProfile.from_bytes(merged.to_bytes()) == merged


@pytest.mark.parametrize(
    "meta",
    [
        b'{"source": 5}',
        b'{"source": ["a"]}',
        b'{"source": "\\ud800"}',
        b'{"profiled_at": 1714000000}',
        b'{"profiled_at": "yesterday"}',
        b'{"profile_duration_ms": NaN}',
        b'{"profile_duration_ms": Infinity}',
        b'{"profile_duration_ms": -Infinity}',
        b'{"profile_duration_ms": 1e400}',
        b'{"profile_duration_ms": -1}',
        b'{"profile_duration_ms": "12"}',
        b'{"profile_duration_ms": true}',
        b'{"profile_duration_ms": ' + b"9" * 400 + b"}",
        b'{"sources": []}',
        b"[]",
        b'"source"',
        b"null",
        b"[" * 100000 + b"]" * 100000,
        b'{"source": "a"',
        b"\xff\xfe",
    ],
)
def test_malformed_metadata_is_a_corrupt_profile(meta: bytes) -> None:
    data = profile(pa.table({"x": [1, 2, 3]})).to_bytes()
    with pytest.raises(CorruptProfileError, match="metadata"):
        TableProfile.from_bytes(_with_metadata(data, meta))


def test_metadata_fields_may_be_null_or_missing() -> None:
    p = profile(pa.table({"x": [1, 2, 3]}))
    data = p.to_bytes()
    for meta in (b"{}", b'{"source": null, "profiled_at": null, "profile_duration_ms": null}'):
        q = TableProfile.from_bytes(_with_metadata(data, meta))
        assert q.source is None and q.profile_duration_ms is None and q.row_count == 3
        assert q.profiled_at  # a profile without a timestamp gets the load time
        _assert_usable(q, p)
    q = TableProfile.from_bytes(_with_metadata(data, b'{"profile_duration_ms": 7}'))
    assert q.profile_duration_ms == 7.0 and isinstance(q.profile_duration_ms, float)


def test_reserved_wrapper_field_must_be_zero() -> None:
    data = bytearray(profile(pa.table({"x": [1]})).to_bytes())
    data[6] = 1
    with pytest.raises(CorruptProfileError, match="reserved"):
        TableProfile.from_bytes(bytes(data))


def test_mutated_metadata_loads_usable_or_raises_corrupt_profile_error() -> None:
    """Random edits of the metadata JSON: from_bytes raises CorruptProfileError and nothing else,
    and whatever it accepts can be printed, saved and merged."""
    import random

    base = profile(pa.table({"x": [1, 2, 3], "s": ["a", None, "c"]}))
    base.source = "data/part-1.parquet"
    data = base.to_bytes()
    meta_len = int.from_bytes(data[8:12], "little")
    meta = data[12 : 12 + meta_len]
    values = [b"null", b"0", b"-0.0", b"1e308", b"5", b"true", b'""', b'"x"', b"[]", b"{}",
              b'"2024-02-30T00:00:00Z"', b'"2024-01-01"', b'"\\u0000"', b'"\\udfff"', b"NaN",
              b"-1e-320", b'"\\ud83d\\ude00"', b"12345678901234567890123"]
    rng = random.Random(20240610)
    accepted = rejected = 0
    for _ in range(3000):
        m = bytearray(meta)
        kind = rng.randrange(4)
        if kind == 0:  # flip bits of a few bytes
            for _ in range(rng.randint(1, 3)):
                m[rng.randrange(len(m))] ^= 1 << rng.randrange(8)
        elif kind == 1:  # replace a value with another JSON value
            colon = [i for i, c in enumerate(m) if c == ord(":")]
            at = rng.choice(colon) + 2
            end = min(j for j in (m.find(b",", at), m.find(b"}", at)) if j >= 0)
            m[at:end] = rng.choice(values)
        elif kind == 2:  # delete or duplicate a span
            a = rng.randrange(len(m))
            b = min(len(m), a + rng.randint(1, 12))
            m[a:b] = b"" if rng.random() < 0.5 else bytes(m[a:b]) * 2
        else:  # rename a key
            quote = [i for i, c in enumerate(m) if c == ord('"')]
            m[rng.choice(quote) + 1 : rng.choice(quote) + 1] = rng.choice([b"x", b"", b"_"])
        try:
            loaded = TableProfile.from_bytes(_with_metadata(data, bytes(m)))
        except CorruptProfileError:
            rejected += 1
            continue
        accepted += 1
        _assert_usable(loaded, base)
    assert accepted > 100 and rejected > 1000, (accepted, rejected)


# --------------------------------------------------------------------------- how="rows" | "columns"


def test_rows_merge_with_a_missing_column_is_the_profile_of_the_promoted_union() -> None:
    from truthound.profiler.distributed import ProfileMerger

    a = pa.table({"id": [1, 2, 3, 4], "city": ["Oslo", None, "Rome", "Oslo"]})
    b = pa.table({"id": [5, 6, 7], "score": [0.5, 1.5, None], "city": ["Rome", "Lima", "Oslo"]})
    union = pa.concat_tables([a, b], promote_options="default")
    want = profile(union, num_workers=1)
    for got in (profile(a).merge(profile(b)), ProfileMerger().merge([profile(a), profile(b)])):
        assert got.column_names == union.column_names == ["id", "city", "score"]
        assert got["score"].null_count == 4 + 1 and got["score"].row_count == 7
        d, w = without_duplicate_rows(got.to_dict()), without_duplicate_rows(want.to_dict())
        _assert_same({k: v for k, v in d.items() if k not in _RUN_FIELDS},
                     {k: v for k, v in w.items() if k not in _RUN_FIELDS}, "union")
        # the parts hashed their rows over other columns: the union's duplicates are unknown
        assert got.duplicate_row_count is None
    # parts of the same columns count duplicates across them
    same = profile(a).merge(profile(a))
    assert same.duplicate_row_count == 4


def test_merge_mode_is_explicit_never_guessed() -> None:
    from truthound.errors import ConfigurationError
    from truthound.profiler.distributed import ProfileMerger

    left, right = profile(pa.table({"a": [1, 2, 3]})), profile(pa.table({"b": ["x", "y", "z"]}))
    # disjoint columns are still rows by default: six rows, each column null in the other's
    rows = left.merge(right)
    assert rows.row_count == 6 and rows["a"].null_count == 3 and rows["b"].null_count == 3
    cols = left.merge(right, how="columns")
    assert cols.row_count == 3 and cols["a"].null_count == 0 and cols["b"].distinct_count == 3
    assert ProfileMerger().merge([left, right], how="columns").to_dict()["columns"] == \
        cols.to_dict()["columns"]
    want = profile(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    assert [c.to_dict() for c in cols.columns] == [c.to_dict() for c in want.columns]
    with pytest.raises(SchemaError, match=r"disjoint columns: column 'a' is in part 0 .* and part 1"):
        left.merge(left, how="columns")
    with pytest.raises(SchemaError, match="part 0 .*has 3 rows, part 1 .*has 2"):
        left.merge(profile(pa.table({"c": [1, 2]})), how="columns")
    with pytest.raises(ConfigurationError, match="'rows' or 'columns'"):
        left.merge(right, how="guess")
