"""Comparing two profiles of the same data (exact fields equal, sketches within their bounds),
and a small mixed table: shared by the tests of every backend."""

from __future__ import annotations

import math
import random
from typing import Any

import pyarrow as pa

from truthound.profiler import TableProfile

_APPROX_DIST = ("median", "q1", "q3", "quantiles", "histogram")


# --------------------------------------------------------------------------- comparison


def without_duplicate_rows(d: dict[str, Any]) -> dict[str, Any]:
    """A profile's dict without what depends on counting duplicate rows (unknown after column
    partitions or parts of other columns): the three fields and the duplicate_rows alert."""
    d = dict(d)
    for k in ("duplicate_row_count", "duplicate_row_ratio", "duplicate_rows_approximate"):
        d.pop(k)
    d["alerts"] = [a for a in d["alerts"] if a["kind"] != "duplicate_rows"]
    return d


def _close(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), where
        else:
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * max(abs(a), abs(b), 1.0)), (
                f"{where}: {a} != {b}"
            )
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _ranking(a: list, b: list, where: str) -> None:
    assert [r["count"] for r in a] == [r["count"] for r in b], where
    if not a:
        return
    cutoff = a[-1]["count"]
    sa = {repr(r["value"]): r for r in a if r["count"] != cutoff}
    sb = {repr(r["value"]): r for r in b if r["count"] != cutoff}
    assert sa.keys() == sb.keys(), where


def assert_equivalent(got: TableProfile, want: TableProfile, *, duplicates: bool = True) -> None:
    """Exact in exact fields, to rounding in moments, within the flags/bounds in sketches."""
    g, w = got.to_dict(), want.to_dict()
    for key in ("row_count", "column_count", "sources"):
        assert g[key] == w[key], key
    if duplicates:
        for key in ("duplicate_row_count", "duplicate_row_ratio", "duplicate_rows_approximate"):
            _close(g[key], w[key], key)
    else:
        assert g["duplicate_row_count"] is None and g["duplicate_row_ratio"] is None
    _close(g["correlations"], w["correlations"], "correlations")
    assert [c["name"] for c in g["columns"]] == [c["name"] for c in w["columns"]]
    for cg, cw in zip(g["columns"], w["columns"]):
        name = cg["name"]
        assert cg.keys() == cw.keys()
        for key in cg:
            a, b = cg[key], cw[key]
            where = f"{name}.{key}"
            if key in _APPROX_DIST and cw["quantiles_approximate"]:
                assert (a is None) == (b is None), where
            elif key in ("quantile_rank_error",) and cw["quantiles_approximate"]:
                continue
            elif key in ("distinct_count", "distinct_count_lower", "distinct_count_upper",
                         "unique_ratio", "is_unique") and cw["distinct_approximate"]:
                if key == "distinct_count":
                    assert cg["distinct_count_lower"] <= b <= cg["distinct_count_upper"] or \
                        cw["distinct_count_lower"] <= a <= cw["distinct_count_upper"], where
            elif key in ("top_values", "bottom_values"):
                if a and b and not cw["top_values_approximate"]:
                    _ranking(a, b, where)
                else:
                    assert (a is None) == (b is None), where
            elif key == "detected_patterns" and a is not None and b is not None:
                strip = lambda ps: [{k: v for k, v in p.items() if k != "samples"} for p in ps]  # noqa: E731
                _close(strip(a), strip(b), where)
            else:
                _close(a, b, where)


def mixed_table(n: int, seed: int = 0) -> pa.Table:
    rnd = random.Random(seed)
    ids = [rnd.randrange(0, 50) for _ in range(n)]
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "score": pa.array([None if i % 7 == 0 else rnd.random() * 100 - 20 for i in range(n)]),
            "email": pa.array([f"user{v}@example.com" if v % 9 else None for v in ids]),
            "name": pa.array([rnd.choice(["Ann", "Bob", "Cé", "", "Dmitri"]) for _ in range(n)]),
            "flag": pa.array([v % 3 == 0 for v in ids]),
            "small": pa.array([v % 4 for v in ids], pa.int32()),
            "ts": pa.array([1_600_000_000_000 + v * 3_600_000 for v in ids], pa.timestamp("ms")),
        }
    )


def assert_equivalent_rows(got: TableProfile, want: TableProfile) -> None:
    got.sources = want.sources
    assert_equivalent(got, want)


