"""The engine's results on random tables of many Arrow types, against independent references."""

from __future__ import annotations

import functools
from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _reference import (
    QUANTILE_KEYS,
    close,
    exact_fields,
    kind,
    leaf_columns,
    moments,
    numeric_values,
    parse_reported,
    same_instant,
    value_counts,
    canonical,
)
from _strategies import arrow_table, numeric_table
from truthound.profiler import ColumnProfile, profile

COUNT_FIELDS = ("row_count", "null_count", "empty_string_count", "nan_count", "inf_count",
                "zero_count", "negative_count", "true_count", "false_count", "min_length",
                "max_length")


def _reported_key(value, k: str):
    """A reported top value as the key of the reference Counter."""
    if k == "float":
        # JSON has no NaN or inf: the engine writes them as text ("NaN", "inf", "-inf")
        return canonical(float(value))
    if k == "binary":
        return bytes.fromhex(value)
    return parse_reported(value, k)


def check_column(c: ColumnProfile, arr: pa.Array, top_n: int = 10) -> None:
    k = kind(arr.type)
    exp = exact_fields(arr)
    where = f"column {c.name} ({arr.type}, {len(arr)} rows)"
    for f in COUNT_FIELDS:
        if f in exp:
            assert getattr(c, f) == exp[f], f"{where}: {f}"
    if exp.get("null_ratio") is not None:
        assert close(c.null_ratio, exp["null_ratio"]), where
    if k in ("int", "float", "string", "binary", "decimal", "date", "timestamp"):
        got_min, got_max = parse_reported(c.min, k), parse_reported(c.max, k)
        if k in ("date", "timestamp"):
            assert same_instant(got_min, exp["min"]), f"{where}: min {c.min!r} vs {exp['min']!r}"
            assert same_instant(got_max, exp["max"]), f"{where}: max {c.max!r} vs {exp['max']!r}"
        else:
            assert got_min == exp["min"], f"{where}: min"
            assert got_max == exp["max"], f"{where}: max"
    if "distinct_count" in exp:
        if c.distinct_approximate:
            assert c.distinct_count_lower <= exp["distinct_count"] <= c.distinct_count_upper, where
        else:
            assert c.distinct_count == exp["distinct_count"], f"{where}: distinct_count"
            assert c.distinct_count_lower == c.distinct_count_upper == c.distinct_count, where
            non_null = len(arr) - exp["null_count"]
            distinct = exp["distinct_count"]
            assert c.is_unique == (non_null > 0 and distinct == non_null), f"{where}: is_unique"
            assert c.is_constant == (exp["null_count"] == 0 and distinct == 1), f"{where}: constant"
            if non_null:
                assert close(c.unique_ratio, distinct / non_null), f"{where}: unique_ratio"
    if k in ("date", "timestamp"):
        assert same_instant(parse_reported(c.min_date, k), exp["min"]), f"{where}: min_date"
        assert same_instant(parse_reported(c.max_date, k), exp["max"]), f"{where}: max_date"
    if k in ("string", "list") and exp["max_length"] is not None:
        assert close(c.avg_length, exp["sum_length"] / exp["length_count"]), f"{where}: avg_length"
    if k in ("int", "float"):
        ref = moments(arr)
        xs = numeric_values(arr)
        scale = float(np.max(np.abs(xs))) if xs is not None and len(xs) else 0.0
        if ref.get("mean") is None:
            assert c.mean is None, f"{where}: mean of no finite value"
        else:
            assert close(c.mean, ref["mean"], abs_tol=1e-12 * max(scale, 1)), f"{where}: mean"
            assert close(c.variance, ref["variance"], abs_tol=1e-12 * max(scale, 1) ** 2), (
                f"{where}: variance"
            )
            assert close(c.std, ref["std"], abs_tol=1e-9 * max(scale, 1)), f"{where}: std"
            # skewness and kurtosis need M2 well inside double range (M2^2 must not underflow)
            # and not tiny against the values' magnitude (cancellation)
            var = ref["variance"]
            if "skewness" in ref and var is not None and var > max(1e-6 * scale**2, 1e-100):
                assert close(c.skewness, ref["skewness"], rel=1e-7, abs_tol=1e-7), f"{where}: skew"
                assert close(c.kurtosis, ref["kurtosis"], rel=1e-7, abs_tol=1e-7), f"{where}: kurt"
        if xs is not None and len(xs) and not c.quantiles_approximate:
            assert c.quantile_rank_error == 0.0
            for key, q in QUANTILE_KEYS.items():
                expected = float(np.quantile(xs, q, method="linear"))
                assert close(c.quantiles[key], expected, abs_tol=1e-12 * max(scale, 1)), (
                    f"{where}: {key}"
                )
            assert close(c.median, float(np.quantile(xs, 0.5))), f"{where}: median"
            assert close(c.q1, float(np.quantile(xs, 0.25))), f"{where}: q1"
            assert close(c.q3, float(np.quantile(xs, 0.75))), f"{where}: q3"
        if xs is not None and len(xs) and c.histogram is not None:
            h = c.histogram
            assert len(h.edges) == len(h.counts) + 1, where
            if not h.approximate:
                assert sum(h.counts) == len(xs), f"{where}: histogram total"
    if k not in ("list", "struct", "null", "other") and c.top_values is not None:
        counts = value_counts(arr)
        ranked = sorted(counts.values(), reverse=True)
        if not c.top_values_approximate:
            assert [v.count for v in c.top_values] == ranked[:top_n], f"{where}: top counts"
            for v in c.top_values:
                key = _reported_key(v.value, k)
                assert counts[key] == v.count, f"{where}: top value {v.value!r}"
                assert v.count_lower == v.count == v.count_upper, where
                # ratio: the share of non-null values
                assert close(v.ratio, v.count / (len(arr) - exp["null_count"])), f"{where}: ratio"
            assert c.bottom_values is not None, f"{where}: bottom values when exact"
            assert [v.count for v in c.bottom_values] == sorted(counts.values())[:top_n], (
                f"{where}: bottom counts"
            )
    if k == "null" or exp["null_count"] == len(arr):
        assert c.min is None and c.max is None and c.mean is None, f"{where}: all null"


@given(arrow_table())
def test_exact_fields_match_reference(table: pa.Table) -> None:
    p = profile(table)
    assert p.row_count == table.num_rows
    assert p.column_count == len(p.columns)
    for name, arr in leaf_columns(table).items():
        if kind(arr.type) == "struct":
            if name in p:
                assert p[name].row_count == len(arr)
                assert p[name].null_count == arr.null_count
            continue
        check_column(p[name], arr)


@given(arrow_table(max_columns=3), st.integers(0, 5))
def test_top_n_is_respected(table: pa.Table, top_n: int) -> None:
    p = profile(table, top_n=top_n)
    for c in p.columns:
        if c.top_values is not None:
            assert len(c.top_values) <= top_n
            if c.bottom_values is not None:
                assert len(c.bottom_values) <= top_n


@functools.cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _duplicates_reference(table: pa.Table) -> int:
    con = _duckdb()
    con.register("t", table)
    ((duplicates,),) = con.execute(
        "SELECT (SELECT count(*) FROM t) - (SELECT count(*) FROM (SELECT DISTINCT * FROM t))"
    ).fetchall()
    con.unregister("t")
    return duplicates


@given(numeric_table(max_size=60))
def test_duplicate_rows_match_duckdb(table: pa.Table) -> None:
    small = table.select(["a", "s"])  # few distinct values: many duplicate rows
    for t in (table, small):
        p = profile(t)
        assert p.duplicate_rows_approximate is False
        assert p.duplicate_row_count == _duplicates_reference(t)
        if t.num_rows:
            assert close(p.duplicate_row_ratio, p.duplicate_row_count / t.num_rows)


@given(numeric_table(max_size=120))
def test_correlations_match_numpy(table: pa.Table) -> None:
    p = profile(table, correlations=True)
    pairs = {(r.column_a, r.column_b): r for r in p.correlations}
    assert set(pairs) <= {("a", "b"), ("b", "a")}, "only numeric pairs are correlated"
    r = pairs.get(("a", "b")) or pairs.get(("b", "a"))
    a = table.column("a").to_numpy(zero_copy_only=False)
    b = table.column("b").to_numpy(zero_copy_only=False)
    both = ~(np.isnan(a.astype(float)) | np.isnan(b.astype(float)))
    n = int(both.sum())
    if r is None:
        return
    assert r.count == n
    x, y = a[both].astype(float), b[both].astype(float)
    if n >= 2 and np.std(x) > 0 and np.std(y) > 0:
        assert close(r.pearson, float(np.corrcoef(x, y)[0, 1]), rel=1e-7, abs_tol=1e-9)
    assert profile(table).correlations == [], "correlations are off by default"


def test_customers_fields(customers_csv) -> None:
    """The bundled example, against duckdb reading the same file."""
    p = profile(str(customers_csv))
    rel = f"read_csv_auto('{customers_csv}')"
    ((n, nulls_email, distinct_country, min_id, max_id, sum_spent),) = _duckdb().execute(
        f"SELECT count(*), count(*) - count(email), count(DISTINCT country), min(customer_id), "
        f"max(customer_id), avg(total_spent) FROM {rel}"
    ).fetchall()
    assert p.row_count == n == 2000
    assert p["email"].null_count == nulls_email
    assert p["country"].distinct_count == distinct_country
    assert (p["customer_id"].min, p["customer_id"].max) == (min_id, max_id)
    assert p["customer_id"].is_unique is True
    assert close(p["total_spent"].mean, sum_spent)
    assert "email" in [d.name for d in p["email"].detected_patterns]
    assert p["is_active"].true_count + p["is_active"].false_count == 2000


# --------------------------------------------------------------------------- approximate modes


def _distinct_values(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.permutation(n).astype(np.int64) * 7919 + seed


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [5_000, 50_000])
def test_distinct_count_bounds_hold_when_approximate(n: int, seed: int) -> None:
    values = _distinct_values(n, seed)
    c = profile(pa.table({"x": np.concatenate([values, values[: n // 3]])}))["x"]
    assert c.distinct_approximate is True
    assert c.distinct_count_lower <= n <= c.distinct_count_upper
    assert abs(c.distinct_count - n) / n < 0.02  # 0.41 % relative standard error: ~5 sigma


@pytest.mark.parametrize("seed", range(2))
def test_distinct_count_bounds_hold_at_millions(seed: int) -> None:
    n = 3_000_000
    c = profile(pa.table({"x": _distinct_values(n, seed)}))["x"]
    assert c.distinct_count_lower <= n <= c.distinct_count_upper
    assert abs(c.distinct_count - n) / n < 0.02


def test_distinct_count_exact_below_threshold() -> None:
    values = np.arange(4000, dtype=np.int64) * 3
    c = profile(pa.table({"x": np.concatenate([values, values])}))["x"]
    assert c.distinct_approximate is False
    assert c.distinct_count == 4000


_DISTRIBUTIONS = {
    "normal": lambda rng, n: rng.normal(0, 1, n),
    "uniform": lambda rng, n: rng.uniform(-1e6, 1e6, n),
    "lognormal": lambda rng, n: rng.lognormal(0, 2, n),
    "sorted": lambda rng, n: np.sort(rng.normal(0, 1, n)),
    "reversed": lambda rng, n: np.sort(rng.normal(0, 1, n))[::-1].copy(),
    "few_distinct": lambda rng, n: rng.integers(0, 50, n).astype(np.float64),
}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dist", sorted(_DISTRIBUTIONS))
def test_quantiles_within_reported_rank_error(dist: str, seed: int) -> None:
    xs = _DISTRIBUTIONS[dist](np.random.default_rng(seed), 200_000)
    c = profile(pa.table({"x": xs}))["x"]
    assert c.quantiles_approximate is True
    assert 0 < c.quantile_rank_error <= 0.007
    ordered = np.sort(xs)
    n = len(xs)
    for key, q in QUANTILE_KEYS.items():
        # the reported value sits at some rank in [rank of values < it, rank of values <= it]
        lo = np.searchsorted(ordered, c.quantiles[key], side="left") / n
        hi = np.searchsorted(ordered, c.quantiles[key], side="right") / n
        assert lo - c.quantile_rank_error <= q <= hi + c.quantile_rank_error, (key, lo, hi)
    assert c.min == ordered[0] and c.max == ordered[-1]
    assert c.histogram is not None and sum(c.histogram.counts) == n
    edges = np.asarray(c.histogram.edges)
    true_counts, _ = np.histogram(xs, bins=edges)
    # each bin's count is off by at most the rank error at both of its edges
    assert np.max(np.abs(np.asarray(c.histogram.counts) - true_counts)) <= (
        2 * c.quantile_rank_error * n + 1
    )


@pytest.mark.parametrize("seed", range(4))
def test_top_values_bounds_hold_when_approximate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xs = rng.zipf(1.3, 60_000)
    xs = xs[xs < 10**6].astype(np.int64)
    truth = Counter(xs.tolist())
    assert len(truth) > 1024
    c = profile(pa.table({"x": xs}), frequent_items_capacity=1024)["x"]
    assert c.top_values_approximate is True
    assert c.bottom_values is None, "bottom values only when exact"
    for v in c.top_values:
        assert v.count_lower <= truth[v.value] <= v.count_upper, v
        assert v.count_lower > v.count_upper - v.count_lower, "only guaranteed heavy hitters"
    heavy = [value for value, _ in truth.most_common(3)]
    assert [v.value for v in c.top_values[:3]] == heavy


def test_duplicates_approximate_above_the_exact_limit() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    table = pa.table({"x": rng.integers(0, 150_000, n)})
    exact = profile(table)
    approx = profile(table, duplicate_exact_limit=10_000)
    truth = _duplicates_reference(table)
    assert exact.duplicate_rows_approximate is False and exact.duplicate_row_count == truth
    assert approx.duplicate_rows_approximate is True
    # ~110,000 distinct rows: the counter keeps a 1/16 hash slice (<= 10,000 distinct), holding
    # about truth / 16 ~ 5,600 duplicates: relative standard error ~ 1/sqrt(5,600) ~ 1.3 %
    assert abs(approx.duplicate_row_count - truth) <= 0.04 * truth


def test_no_duplicates_are_reported_as_none_above_the_exact_limit() -> None:
    table = pa.table({"x": np.arange(300_000, dtype=np.int64)})
    p = profile(table, duplicate_exact_limit=1000)
    assert p.duplicate_rows_approximate is True
    assert p.duplicate_row_count == 0


def test_float_special_values() -> None:
    xs = pa.array([1.5, float("nan"), float("inf"), float("-inf"), -0.0, 0.0, None, -2.0],
                  pa.float64())
    c = profile(pa.table({"x": xs}))["x"]
    assert (c.nan_count, c.inf_count, c.zero_count, c.null_count) == (1, 2, 2, 1)
    assert (c.min, c.max) == (-2.0, 1.5), "NaN and inf stay out of min/max"
    assert close(c.mean, (1.5 + 0.0 + 0.0 - 2.0) / 4)
    assert c.quantiles["p50"] == 0.0


def test_unicode_lengths_are_characters() -> None:
    c = profile(pa.table({"s": ["é", "한국어", "🙂🙂", ""]}))["s"]
    assert (c.min_length, c.max_length, c.empty_string_count) == (0, 3, 1)
    assert close(c.avg_length, 6 / 4)


def test_inferred_types_of_the_example(customers_csv) -> None:
    p = profile(str(customers_csv))
    expected = {
        "customer_id": "identifier",
        "first_name": "categorical",
        "country": "categorical",
        "segment": "categorical",
        "email": "email",
        "phone": "phone",
    }
    assert {name: p[name].inferred_type for name in expected} == expected


def test_inferred_types_of_string_content() -> None:
    n = 200
    table = pa.table({
        "ints": [str(i * 37 % 1000) for i in range(n)],
        "floats": [f"{i * 0.37:.2f}" for i in range(n)],
        "dates": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        "uuids": [f"123e4567-e89b-12d3-a456-{i:012d}" for i in range(n)],
        "urls": [f"https://example.com/item/{i}" for i in range(n)],
        "empty": pa.nulls(n, pa.string()),
    })
    p = profile(table)
    got = {c.name: c.inferred_type for c in p.columns}
    assert got == {"ints": "integer", "floats": "float", "dates": "date", "uuids": "uuid",
                   "urls": "url", "empty": "null"}
