"""Alerts computed by the engine's finalize (README "Alerts"): a table built to fire each one,
each figure checked against numpy/pyarrow; tables built to fire none; the bundled example;
thresholds as options (API and CLI), bad thresholds, and alerts after a merge."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from truthound.errors import ConfigurationError
from truthound.profiler import TableProfile, profile
from truthound.profiler.api import ALERT_OPTIONS
from truthound.profiler.model import Alert

N = 1000


def alert_table() -> pa.Table:
    """One column per column alert; x and y for the correlation."""
    k = np.arange(N)
    amount = [str(i % 13) if i % 10 < 7 else "n/a" for i in k]
    skew = np.where(k == N - 1, 1e6, 1.0 + k % 3)
    ratio = (k % 50 + 1).astype(float)
    ratio[7] = np.inf
    return pa.table({
        "id": pa.array(k, pa.int64()),
        "empty": pa.nulls(N, pa.int64()),
        "status": ["active"] * N,
        "notes": [None if i % 5 < 3 else ("late" if i % 5 == 3 else "early") for i in k],
        "comment": [f"remark {i % 700}" for i in k],
        "flag": pa.array(k % 20 != 0),
        "amount": amount,
        "skew": skew,
        "zeros": pa.array(np.where(k % 4 == 0, 0, k % 9 + 1), pa.int64()),
        "ratio": ratio,
        "x": pa.array(k % 100, pa.int64()),
        "y": pa.array(3 * (k % 100) + k % 2, pa.int64()),
        "quiet": [f"q{i % 3}" for i in k],
    })


def by_kind(alerts: list[Alert]) -> dict[tuple[str | None, str | None], Alert]:
    return {(a.kind, a.column): a for a in alerts}


def kinds(alerts: list[Alert]) -> list[tuple[str | None, str | None]]:
    return [(a.kind, a.column) for a in alerts]


def non_null(arr: pa.ChunkedArray) -> int:
    return len(arr) - arr.null_count


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return alert_table()


@pytest.fixture(scope="module")
def result(table: pa.Table) -> TableProfile:
    return profile(table, correlations=True)


def test_each_alert_fires_in_table_order(result: TableProfile) -> None:
    assert kinds(result.alerts) == [
        ("unique", "id"),
        ("all_null", "empty"),
        ("constant", "status"),
        ("high_null_ratio", "notes"),
        ("high_cardinality", "comment"),
        ("imbalanced", "flag"),
        ("mixed_types", "amount"),
        ("skewed", "skew"),
        ("zeros", "zeros"),
        ("infinite", "ratio"),
        ("high_correlation", "x"),
    ]
    pair = result.alerts[-1]
    assert pair.other_column == "y"
    for a in result.alerts[:-1]:
        assert a.other_column is None
        assert a.message is not None and a.message.startswith(f"{a.column}: ")


def test_figures_match_an_exact_reference(table: pa.Table, result: TableProfile) -> None:
    got = by_kind(result.alerts)
    notes = table["notes"]
    assert got["high_null_ratio", "notes"].value == notes.null_count / len(notes)
    assert got["high_null_ratio", "notes"].threshold == 0.5
    assert got["high_null_ratio", "notes"].message == "notes: 60.0 % nulls (threshold 50 %)"

    comment = table["comment"]
    distinct = pc.count_distinct(comment).as_py()
    assert got["high_cardinality", "comment"].value == distinct / non_null(comment)

    flag = table["flag"]
    counts = pc.value_counts(flag).field("counts").to_numpy()
    assert got["imbalanced", "flag"].value == counts.max() / non_null(flag)
    assert got["imbalanced", "flag"].message == (
        "flag: 'true' is 95.0 % of non-null values (threshold 90 %)")

    amount = table["amount"]
    integers = pc.sum(pc.match_substring_regex(amount, r"^\d+$")).as_py()
    assert got["mixed_types", "amount"].value == integers / non_null(amount)
    assert "read as integer" in (got["mixed_types", "amount"].message or "")

    skew = table["skew"].to_numpy()
    d = skew - skew.mean()
    reference = math.sqrt(len(d)) * (d**3).sum() / (d**2).sum() ** 1.5  # scipy bias=True
    assert got["skewed", "skew"].value == pytest.approx(reference, rel=1e-9)
    assert got["skewed", "skew"].threshold == 20

    zeros = table["zeros"].to_numpy()
    assert got["zeros", "zeros"].value == np.count_nonzero(zeros == 0) / len(zeros)

    ratio = table["ratio"].to_numpy()
    assert got["infinite", "ratio"].value == np.count_nonzero(np.isinf(ratio))
    assert got["infinite", "ratio"].threshold is None

    x, y = table["x"].to_numpy(), table["y"].to_numpy()
    assert got["high_correlation", "x"].value == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-9)
    assert got["high_correlation", "x"].threshold == 0.9

    ids = table["id"]
    assert got["unique", "id"].value == pc.count_distinct(ids).as_py() / non_null(ids) == 1.0
    assert got["all_null", "empty"].value == 1.0
    assert got["constant", "status"].value == 1.0
    assert pc.count_distinct(table["status"]).as_py() == 1


def test_duplicate_rows_come_first_with_their_share() -> None:
    t = pa.table({"k": [i % 15 for i in range(20)], "v": ["a" if i % 15 < 8 else "b" for i in range(20)]})
    p = profile(t)
    rows = t.num_rows
    distinct_rows = t.group_by(["k", "v"]).aggregate([([], "count_all")]).num_rows
    first = p.alerts[0]
    assert (first.kind, first.column, first.other_column) == ("duplicate_rows", None, None)
    assert first.value == (rows - distinct_rows) / rows
    assert first.message == "table: 5 duplicate rows, 25.0 % of rows (threshold 0 %)"


def test_past_the_exact_counts_figures_stay_within_their_bounds() -> None:
    n = 200_000
    k = np.arange(n)
    t = pa.table({
        # one heavy value among 40,000 distinct others: top values are approximate
        "status": pa.array(np.where(k % 5 == 0, np.char.add("s", k.astype(str)), "ok")),
        # about 120,000 distinct texts: the distinct count is estimated
        "comment": pa.array(np.char.add("note ", (k % 120_000).astype(str))),
    })
    p = profile(t, num_workers=1, alert_imbalance=0.7)
    assert p["status"].top_values_approximate and p["comment"].distinct_approximate
    got = by_kind(p.alerts)
    status = t["status"]
    true_share = pc.sum(pc.equal(status, "ok")).as_py() / n
    top = p["status"].top_values[0]
    # the share comes from the count's lower bound: never above the truth
    assert got["imbalanced", "status"].value == top.count_lower / n <= true_share
    assert true_share <= top.count_upper / n
    c = p["comment"]
    value = got["high_cardinality", "comment"].value
    assert value == c.distinct_count / n
    assert c.distinct_count_lower <= pc.count_distinct(t["comment"]).as_py() <= c.distinct_count_upper


def test_quiet_tables_fire_nothing() -> None:
    k = np.arange(500)
    rng = np.random.default_rng(7)
    quiet = pa.table({
        "category": [f"c{i % 7}" for i in k],
        "measure": rng.normal(100, 15, len(k)),
        "count": pa.array(k % 17 + 1, pa.int64()),
        "when": pa.array(k.astype("datetime64[D]")),
        "maybe": [None if i % 10 == 0 else f"v{i % 4}" for i in k],
        "active": pa.array(k % 3 != 0),
        "noise": rng.uniform(0, 1, len(k)),
    })
    assert profile(quiet, correlations=True).alerts == []
    assert profile(pa.table({"x": pa.array([], pa.int64())})).alerts == []  # no rows


def test_bundled_example(customers_csv: Path) -> None:
    p = profile(str(customers_csv))
    # customer_id is 1..2000; orders and total_spent are 0 for customers without an order (about
    # 15 %); discount_rate is missing for about half the customers, just above the 0.5 threshold.
    # Nothing else: emails and phones have their own types, names and segments are categories,
    # is_active is 80 % true, no row repeats.
    assert kinds(p.alerts) == [
        ("unique", "customer_id"),
        ("zeros", "orders"),
        ("zeros", "total_spent"),
        ("high_null_ratio", "discount_rate"),
    ]
    import pyarrow.csv as pacsv

    t = pacsv.read_csv(customers_csv)
    got = by_kind(p.alerts)
    for column in ("orders", "total_spent"):
        values = t[column]
        zeros = pc.sum(pc.equal(values, 0)).as_py()
        assert got["zeros", column].value == zeros / non_null(values)
    discount = t["discount_rate"]
    assert got["high_null_ratio", "discount_rate"].value == discount.null_count / len(discount)


def test_thresholds_are_options(table: pa.Table) -> None:
    p = profile(table, correlations=True, alert_high_null_ratio=0.7, alert_high_cardinality=1,
                alert_imbalance=0.99, alert_mixed_types=0.75, alert_skewness=40,
                alert_zeros=0.3, alert_correlation=1)
    assert kinds(p.alerts) == [
        ("unique", "id"), ("all_null", "empty"), ("constant", "status"), ("infinite", "ratio"),
    ]
    # x is 0 in 1 % of rows, and 90 % of its rows repeat an earlier one: at, not above
    x = table.select(["x"])
    assert profile(x, alert_zeros=0.01, alert_duplicate_rows=0.9).alerts == []
    assert kinds(profile(x, alert_zeros=0.01, alert_duplicate_rows=0.89).alerts) == [
        ("duplicate_rows", None)]


def test_lower_thresholds_fire_more(table: pa.Table) -> None:
    p = profile(table.select(["x", "quiet"]), alert_zeros=0.005, alert_imbalance=0.3)
    got = by_kind(p.alerts)
    x = table["x"].to_numpy()
    assert got["zeros", "x"].value == np.count_nonzero(x == 0) / len(x) == 0.01
    assert got["zeros", "x"].threshold == 0.005
    assert got["zeros", "x"].message == "x: 10 zeros, 1.0 % of non-null values (threshold 0.5 %)"
    quiet = table["quiet"]
    top = pc.value_counts(quiet).field("counts").to_numpy().max()
    assert got["imbalanced", "quiet"].value == top / len(quiet)


def test_every_threshold_has_a_default_and_a_range() -> None:
    assert set(ALERT_OPTIONS) == {
        "alert_high_null_ratio", "alert_high_cardinality", "alert_imbalance", "alert_skewness",
        "alert_zeros", "alert_mixed_types", "alert_duplicate_rows", "alert_correlation",
    }
    assert ALERT_OPTIONS["alert_skewness"][:2] == (20.0, math.inf)
    assert ALERT_OPTIONS["alert_correlation"][:2] == (0.9, 1.0)


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("alert_zeros", 1.5, "option 'alert_zeros' must be a number from 0 to 1, got 1.5"),
        ("alert_skewness", -2, "option 'alert_skewness' must be a number >= 0, got -2"),
        ("alert_correlation", "high", "option 'alert_correlation' must be a number"),
        ("alert_imbalance", True, "option 'alert_imbalance' must be a number"),
        ("alert_nope", 0.5, "unknown option 'alert_nope'"),
    ],
)
def test_a_bad_threshold_is_a_one_line_error(option: str, value: object, needle: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        profile(pa.table({"x": [1, 2]}), **{option: value})
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_merged_profile_gives_the_alerts_of_the_union(table: pa.Table) -> None:
    whole = profile(table, correlations=True)
    parts = [profile(table.slice(0, 400), correlations=True),
             profile(table.slice(400), correlations=True, alert_zeros=0.9)]
    merged = parts[0].merge(parts[1])
    assert kinds(merged.alerts) == kinds(whole.alerts)
    for a, b in zip(merged.alerts, whole.alerts):
        assert a.value == pytest.approx(b.value, rel=1e-9), a.message
        assert a.threshold == b.threshold
    # a part's own thresholds travel with its bytes (the merge kept the first part's)
    again = TableProfile.from_bytes(parts[1].to_bytes())
    assert ("zeros", "zeros") not in by_kind(again.alerts)


def test_saved_profiles_keep_their_thresholds(table: pa.Table) -> None:
    p = profile(table, alert_zeros=0.5)
    assert ("zeros", "zeros") not in by_kind(p.alerts)
    assert TableProfile.from_bytes(p.to_bytes()).alerts == p.alerts


def test_json_round_trip_keeps_alerts(result: TableProfile) -> None:
    back = TableProfile.from_json(result.to_json())
    assert back.alerts == result.alerts
    assert json.loads(result.to_json())["alerts"][0] == {
        "kind": "unique", "column": "id", "other_column": None, "value": 1.0, "threshold": None,
        "message": "id: an identifier, 1,000 distinct values in 1,000 non-null values",
    }


# ---------------------------------------------------------------- the command line


def th(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "truthound.cli", *args], capture_output=True,
                          text=True, env=dict(os.environ, COLUMNS="100"), timeout=120)


def test_cli_json_carries_alerts_and_takes_thresholds(customers_csv: Path) -> None:
    out = th("profile", str(customers_csv), "-f", "json", "--workers", "1")
    assert out.returncode == 0, out.stderr
    assert [a["kind"] for a in json.loads(out.stdout)["alerts"]] == [
        "unique", "zeros", "zeros", "high_null_ratio"]
    out = th("profile", str(customers_csv), "-f", "json", "--workers", "1",
             "--alert", "zeros=0.5", "--alert", "alert_high_null_ratio=0.9")
    assert out.returncode == 0, out.stderr
    assert [a["kind"] for a in json.loads(out.stdout)["alerts"]] == ["unique"]


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        ("zeros=2", "option 'alert_zeros' must be a number from 0 to 1, got 2"),
        ("zeros", "expected NAME=VALUE"),
        ("nope=1", "NAME one of high_null_ratio"),
        ("zeros=lots", "'lots' is not a number"),
    ],
)
def test_cli_bad_alert_is_a_usage_error(customers_csv: Path, arg: str, needle: str) -> None:
    out = th("profile", str(customers_csv), "--alert", arg)
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_help_lists_thresholds_with_defaults() -> None:
    out = th("profile", "--help")
    text = " ".join(out.stdout.split())
    assert "--alert NAME=VALUE" in text
    for name, (default, _, _) in ALERT_OPTIONS.items():
        assert f"{name.removeprefix('alert_')} (" in text
        assert f"default {default:g})" in text
