"""profile(A ∪ B) equals merge(profile(A), profile(B)), also through to_bytes/from_bytes."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _strategies import arrow_table
from truthound.errors import CorruptProfileError, SchemaError, TruthoundError
from truthound.profiler import TableProfile, profile

# Metadata that differs between runs by design; estimated_memory_bytes sums the Arrow buffers as
# batched, so it depends on how the rows were split.
_RUN_FIELDS = {"source", "sources", "profiled_at", "profile_duration_ms", "estimated_memory_bytes"}
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
