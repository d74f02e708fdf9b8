"""Top and bottom values: exact while a column has few enough distinct values, beyond that only
guaranteed heavy hitters with count bounds that hold the true counts, whichever way the rows
were split (references: collections.Counter over the same values)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truthound.profiler import ColumnProfile, TableProfile, profile
from truthound.profiler.distributed import LocalBackend, ProfileMerger

DEFAULT_CAPACITY = 16_384


def _max_error(c: ColumnProfile) -> int:
    """The sketch's maximum error: every approximate row's count_upper - count_lower."""
    assert c.top_values, "needs a listed value"
    widths = {v.count_upper - v.count_lower for v in c.top_values}
    assert len(widths) == 1, widths
    return widths.pop()


def _check_heavy_hitters(c: ColumnProfile, truth: Counter, top_n: int) -> None:
    """Listed values are guaranteed heavy hitters whose bounds hold the true count; every value
    that must be listed is (when top_n leaves room for it)."""
    assert c.top_values_approximate is True
    assert c.bottom_values is None
    listed = {v.value: v for v in c.top_values}
    for v in c.top_values:
        assert v.count_lower <= truth[v.value] <= v.count_upper, v
        assert v.count_lower > v.count_upper - v.count_lower, f"not guaranteed: {v}"
    lowers = [v.count_lower for v in c.top_values]
    assert lowers == sorted(lowers, reverse=True), "ranked by lower bound"
    if c.top_values:
        error = _max_error(c)
        if len(c.top_values) < top_n:
            # room was left: every value above twice the error is listed
            missed = [(x, n) for x, n in truth.items() if n > 2 * error and x not in listed]
            assert not missed, missed[:5]
    else:
        assert c.top_values_note and "no value" in c.top_values_note


def test_exact_at_default_capacity_whatever_the_split() -> None:
    rng = np.random.default_rng(1)
    xs = rng.integers(0, 16_000, 120_000)
    truth = Counter(xs.tolist())
    assert 15_000 < len(truth) <= 16_000
    table = pa.table({"x": xs})
    whole = profile(table, top_n=20)
    cuts = [0, 17, 50_000, 50_001, 120_000]
    parts = [profile(table.slice(a, b - a), top_n=20) for a, b in zip(cuts, cuts[1:])]
    merged = ProfileMerger().merge(parts)
    for p in (whole, merged):
        c = p["x"]
        assert c.top_values_approximate is False and c.top_values_note is None
        # exact: by count descending, ties by value ascending
        expected_top = sorted(truth.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        assert [(v.value, v.count) for v in c.top_values] == expected_top
        expected_bottom = sorted(truth.items(), key=lambda kv: (kv[1], kv[0]))[:20]
        assert [(v.value, v.count) for v in c.bottom_values] == expected_bottom
        assert all(v.count_lower == v.count == v.count_upper for v in c.top_values)


def test_exact_table_of_the_example(customers_csv: Path) -> None:
    p = profile(str(customers_csv))
    table = pa_csv.read_csv(
        customers_csv, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True)
    )
    for name in ("email", "total_spent", "customer_id"):
        c = p[name]
        truth = Counter(v for v in table[name].to_pylist() if v is not None)
        assert c.top_values_approximate is False
        top = sorted(truth.items(), key=lambda kv: (-kv[1], kv[0]))[: len(c.top_values)]
        assert [(v.value, v.count) for v in c.top_values] == top, name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    skew=st.sampled_from([1.1, 1.3, 2.0]),
    cuts=st.lists(st.integers(1, 39_999), max_size=4),
)
def test_heavy_hitters_of_random_splits_hold_their_bounds(
    seed: int, skew: float, cuts: list[int]
) -> None:
    # capacity 256 puts 40,000 Zipf values in the sketch regime in every part
    rng = np.random.default_rng(seed)
    xs = rng.zipf(skew, 40_000).astype(np.int64) % 1_000_003
    truth = Counter(xs.tolist())
    table = pa.table({"x": xs})
    bounds = [0, *sorted(set(cuts)), 40_000]
    opts = {"frequent_items_capacity": 256, "top_n": 256}
    parts = [profile(table.slice(a, b - a), **opts) for a, b in zip(bounds, bounds[1:])]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    if len(truth) > 256:
        _check_heavy_hitters(merged["x"], truth, 256)
    whole = profile(table, **opts)["x"]
    if whole.top_values_approximate:
        _check_heavy_hitters(whole, truth, 256)


def test_an_id_column_lists_no_top_values_and_says_why() -> None:
    n = 100_000
    c = profile(pa.table({"id": np.arange(n, dtype=np.int64)}), frequent_items_capacity=1024)["id"]
    assert c.top_values == [] and c.top_values_approximate is True
    assert c.top_values_note is not None and c.top_values_note.startswith("no value")
    # the note's bound is true: every value occurs once, at most 2E times
    bound = int(c.top_values_note.rsplit("at most ", 1)[1].split()[0])
    assert 1 <= bound <= 4 * n // 1024


def test_every_value_above_the_documented_share_is_listed() -> None:
    # 2M rows at the default capacity: 8 values of 0.03 % each (600 rows; the guarantee is
    # 4 / 16,384 = 0.0244 %) in a background of distinct values
    rng = np.random.default_rng(5)
    n = 2_000_000
    heavy = np.repeat(np.arange(8, dtype=np.int64) * 1_000_000_007, 600)
    background = rng.integers(10**12, 2 * 10**12, n - len(heavy))
    xs = np.concatenate([heavy, background])
    rng.shuffle(xs)
    c = profile(pa.table({"x": xs}))["x"]
    truth = Counter(xs.tolist())
    assert 600 * DEFAULT_CAPACITY > 4 * n
    assert {v.value for v in c.top_values} >= set(range(0, 8 * 1_000_000_007, 1_000_000_007))
    _check_heavy_hitters(c, truth, 10)


def test_nan_is_not_a_top_value() -> None:
    rng = np.random.default_rng(2)
    xs = rng.choice([1.5, 2.5, np.nan], 50_000, p=[0.2, 0.3, 0.5])
    for capacity in (DEFAULT_CAPACITY, 16):
        c = profile(pa.table({"x": xs}), frequent_items_capacity=capacity)["x"]
        assert c.nan_count == int(np.isnan(xs).sum())
        values = [v.value for v in c.top_values]
        assert all(v == v for v in values), values
        assert sorted(values) == [1.5, 2.5]
        assert {v.value: v.count for v in c.top_values} == {
            1.5: int((xs == 1.5).sum()),
            2.5: int((xs == 2.5).sum()),
        }
        assert c.top_values_approximate is False
        assert c.bottom_values is not None and len(c.bottom_values) == 2


def test_long_values_are_cut_and_marked() -> None:
    long = "é" * 30 + "x"  # 61 bytes
    c = profile(pa.table({"s": [long] * 3 + ["short"]}))["s"]
    top = c.top_values[0]
    assert top.count == 3
    assert top.value.endswith("…")
    # cut on a character boundary: 24 two-byte characters fill the 48 kept bytes
    assert top.value == "é" * 24 + "…"
    assert c.top_values[1].value == "short"
    assert c.max == long, "min and max keep the whole value"


def _write_sources(tmp_path: Path) -> tuple[Path, Path, Counter]:
    rng = np.random.default_rng(9)
    n = 300_000
    # five clear leaders (1-3 % each) in a long tail of mostly distinct users
    leaders = rng.choice(5, n, p=[0.2, 0.2, 0.2, 0.2, 0.2])
    tail = rng.integers(0, 2_000_000, n)
    pick = rng.random(n) < 0.1
    user = np.where(pick, leaders, tail + 10)
    table = pa.table({"user": pa.array([f"u{u}" for u in user.tolist()])})
    csv, parquet = tmp_path / "users.csv", tmp_path / "users.parquet"
    pa_csv.write_csv(table, csv)
    pq.write_table(table, parquet, row_group_size=50_000)
    return csv, parquet, Counter(table["user"].to_pylist())


@pytest.mark.slow
def test_same_top_five_from_csv_and_parquet_on_every_local_setup(tmp_path: Path) -> None:
    csv, parquet, truth = _write_sources(tmp_path)
    expected = {value for value, _ in truth.most_common(5)}
    runs: list[TableProfile] = []
    for source in (csv, parquet):
        runs.append(profile(str(source)))
        for workers in (1, 2):
            for processes in (False, True):
                backend = LocalBackend(num_workers=workers, use_processes=processes)
                runs.append(backend.profile(str(source)))
    for p in runs:
        c = p["user"]
        assert c.top_values_approximate is True
        assert {v.value for v in c.top_values[:5]} == expected
        _check_heavy_hitters(c, truth, 10)


def test_console_shows_exact_counts_plainly_and_ranges_otherwise(tmp_path: Path) -> None:
    csv, _, _ = _write_sources(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(csv)],
        capture_output=True, text=True, check=True,
    ).stdout
    top_line = next(line for line in out.splitlines() if line.strip().startswith("top:"))
    assert "~" not in top_line
    # 'u3' 5,9xx–6,0xx: a range that holds the true count
    assert "–" in top_line
    small = tmp_path / "small.csv"
    small.write_text("x\n" + "\n".join(str(i % 7) for i in range(100)) + "\n")
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(small)],
        capture_output=True, text=True, check=True,
    ).stdout
    top_line = next(line for line in out.splitlines() if line.strip().startswith("top:"))
    assert "~" not in top_line and "–" not in top_line
    assert "0 15" in top_line


@pytest.mark.slow
def test_shipped_partials_are_compact_and_keep_the_bounds() -> None:
    """A worker's partial ships compacted (issue 12): a string column past its exact regime takes
    at most 48 KiB, and the profile merged from such partials (worker processes) still lists
    only guaranteed heavy hitters whose bounds hold, every value above 4n/C among them."""
    rng = np.random.default_rng(12)
    n = 300_000
    heavy = [f"heavy-{i}" for i in range(6)]
    words = np.concatenate([np.repeat(heavy, 400),  # 0.13 % each: above 4n/C = 0.0244 %
                            np.char.add("v", rng.integers(0, 120_000, n - 2400).astype(str))])
    rng.shuffle(words)
    table = pa.table({"s": pa.array(words), "x": rng.normal(size=n)})

    def shipped(t: pa.Table, compact: bool = True) -> int:
        state = profile(t, num_workers=1)._state
        if compact:
            state.compact()
        return len(state.to_bytes())

    # the column's share: the partial's table-level parts (the duplicate-row counter) are in both
    column_bytes = shipped(table) - shipped(table.select(["x"]))
    assert column_bytes <= 48 * 1024
    assert column_bytes < shipped(table, False) - shipped(table.select(["x"]), False)

    c = LocalBackend(num_workers=2, use_processes=True).profile(table)["s"]
    truth = Counter(words.tolist())
    _check_heavy_hitters(c, truth, 10)
    assert {v.value for v in c.top_values} >= set(heavy)
