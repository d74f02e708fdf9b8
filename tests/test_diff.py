"""TableProfile.diff and `th diff --fail-on`: the engine's comparison against exact references
(scipy.stats.ks_2samp, a numpy PSI over the base histogram's edges), and the drift rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from truthound.errors import ConfigurationError
from truthound.profiler import TableProfile, profile
from truthound.profiler.drift_rules import check, parse_rules
from truthound.profiler.saved import save_profile

RULES = ("psi>0.2,ks>0.1,mean>0.2,std>0.5,null_ratio>+0.05,top_share>0.1,pattern>0.1,"
         "distinct>0.5,type_changed,added_columns,removed_columns")


def th(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "truthound", *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, COLUMNS="100"))


def _tables(n: int = 20000) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(42)
    cats = np.array(["red", "green", "blue"])

    def table(shift: float, scale: float, weights: list[float], seed: int) -> pa.Table:
        r = np.random.default_rng(seed)
        return pa.table({
            "shifted": r.normal(10 + shift, 2, n),
            "scaled": 10 + r.normal(0, 2 * scale, n),
            "weighted": cats[r.choice(3, n, p=weights)],
            "stable": r.normal(0, 1, n),
            "email": [f"user{i}@example.com" for i in range(n)],
        })

    del rng
    return (table(0, 1, [1 / 3, 1 / 3, 1 / 3], 1), table(3, 2, [0.6, 0.2, 0.2], 2))


def test_diff_with_itself_is_empty() -> None:
    base, _ = _tables()
    p = profile(base)
    diff = p.diff(p)
    assert diff.is_empty
    assert not any(c.changed for c in diff.columns)
    assert check(diff, parse_rules([RULES])) == []
    again = TableProfile.from_bytes(p.to_bytes())
    assert p.diff(again).is_empty


def test_shift_scale_reweight_fire_exactly_their_rules() -> None:
    base, current = _tables()
    diff = profile(base).diff(profile(current))
    fired = {(f.column, f.rule.metric) for f in check(diff, parse_rules([RULES]))}
    assert fired == {
        ("shifted", "psi"), ("shifted", "ks"), ("shifted", "mean"),
        ("scaled", "psi"), ("scaled", "ks"), ("scaled", "std"),
        ("weighted", "top_share"),
    }
    shifted = diff.column("shifted").data
    assert shifted["mean"]["change"] == pytest.approx(3, abs=0.1)
    assert shifted["quantiles"]["p50"]["change"] == pytest.approx(3, abs=0.15)
    assert diff.column("scaled").data["std"]["relative_change"] == pytest.approx(1, abs=0.05)


def test_added_removed_retyped_and_nulls() -> None:
    a = pa.table({"k": [1, 2, 3, 4], "gone": [1, 1, 1, 1], "n": [1.0, 2.0, 3.0, 4.0]})
    b = pa.table({"k": ["1", "2", "3", "4"], "new": [1, 1, 1, 1], "n": [1.0, None, None, 4.0]})
    diff = profile(a).diff(profile(b))
    assert diff.added_columns == ["new"] and diff.removed_columns == ["gone"]
    fired = {(f.column, f.rule.metric) for f in check(diff, parse_rules([RULES]))}
    assert {("k", "type_changed"), (None, "added_columns"), (None, "removed_columns"),
            ("n", "null_ratio")} <= fired
    assert diff.column("n").data["null_ratio"]["change"] == pytest.approx(0.5)
    assert not check(diff, parse_rules(["null_ratio<-0.05"]))  # nulls rose: no decrease
    assert check(diff, parse_rules(["n:null_ratio>=0.5"]))


def test_exact_sketches_match_numpy_psi_and_scipy_ks() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.4, 1.3, 2500)  # exact KLL: under 4096 items
    c = profile(pa.table({"x": a}), histogram_bins=10).diff(profile(pa.table({"x": b}))).column("x")
    assert c.ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert c.ks_bound == 0 and c.data["ks"]["exact"]
    edges = np.linspace(a.min(), a.max(), 11)
    pb = np.histogram(a, edges)[0] / len(a)
    pc = np.histogram(np.clip(b, a.min(), a.max()), edges)[0] / len(b)
    pb, pc = np.maximum(pb, 1e-4), np.maximum(pc, 1e-4)
    assert c.psi == pytest.approx(float(np.sum((pc - pb) * np.log(pc / pb))), rel=1e-9)


@pytest.mark.parametrize("shift", [0.0, 0.03, 0.5])
def test_sketch_ks_within_its_bound_of_scipy(shift: float) -> None:
    rng = np.random.default_rng(11)
    a, b = rng.normal(0, 1, 400_000), rng.normal(shift, 1.1, 300_000)
    c = profile(pa.table({"x": a})).diff(profile(pa.table({"x": b}))).column("x")
    assert not c.data["ks"]["exact"] and c.ks_bound is not None and c.ks_bound > 0
    exact = stats.ks_2samp(a, b).statistic
    assert abs(c.ks - exact) <= c.ks_bound, (c.ks, exact, c.ks_bound)


def test_bad_rules() -> None:
    for bad in ("psi>>1", "nonsense>1", "psi", "amount:removed_columns"):
        with pytest.raises(ConfigurationError, match="--fail-on"):
            parse_rules([bad])


def test_th_diff(tmp_path: Path) -> None:
    base, current = _tables(5000)
    pb, pc = tmp_path / "base.thp", tmp_path / "current.thp"
    save_profile(profile(base), pb)
    save_profile(profile(current), pc)

    same = th("diff", pb, pb, "--fail-on", RULES)
    assert same.returncode == 0, same.stderr
    assert "no changes" in same.stdout and same.stderr == ""

    drift = th("diff", pb, pc, "--fail-on", "psi>0.2,top_share>0.1", "-f", "json")
    assert drift.returncode == 1
    fired = drift.stderr.splitlines()
    assert all(line.startswith("th: drift: ") for line in fired)
    assert {line.split(":")[2].strip() for line in fired} == {"shifted", "scaled", "weighted"}
    data = json.loads(drift.stdout)
    assert {r["column"] for r in data["fired_rules"]} == {"shifted", "scaled", "weighted"}
    assert data["columns"][0]["name"] == "shifted"

    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - weighted:top_share>0.1\n  - stable:psi>0.2\n")
    html = tmp_path / "diff.html"
    r = th("diff", pb, pc, "--fail-on", rules, "-o", html)
    assert r.returncode == 1 and r.stderr.count("th: drift:") == 1 and "weighted" in r.stderr
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Drift rules fired" in page and "shifted" in page

    console = th("diff", pb, pc)
    assert console.returncode == 0 and "PSI" in console.stdout and "KS" in console.stdout

    bad = th("diff", pb, pc, "--fail-on", "psi>>2")
    assert bad.returncode == 2 and "--fail-on" in bad.stderr


def test_column_rules_and_temporal_columns() -> None:
    import datetime as dt

    day = dt.datetime(2024, 1, 1)
    a = pa.table({"t": [day + dt.timedelta(hours=i) for i in range(500)], "gone": list(range(500))})
    b = pa.table({"t": [day + dt.timedelta(hours=i + 400) for i in range(500)]})
    diff = profile(a).diff(profile(b))
    t = diff.column("t")
    assert t.data["quantiles"] is None and t.psi is not None and t.psi > 1
    assert t.ks == pytest.approx(0.8)  # exact: 400 of 500 hours no longer overlap
    fired = check(diff, parse_rules(["gone:psi>0.1", "t:ks>0.5"]))
    assert [(f.column, f.rule.metric) for f in fired] == [("gone", "psi"), ("t", "ks")]
    assert "only in one of the profiles" in str(fired[0])
    with pytest.raises(ConfigurationError, match="no column 'typo'"):
        check(diff, parse_rules(["typo:psi>0.1"]))


def test_booleans_and_profiles_without_state() -> None:
    from truthound.errors import TruthoundError

    a = profile(pa.table({"b": [True, False] * 500}))
    b = profile(pa.table({"b": [True, True, True, False] * 250}))
    c = a.diff(b).column("b")
    shares = {v["value"]: v["change"] for v in c.data["top_values"]}
    assert shares == {True: pytest.approx(0.25), False: pytest.approx(-0.25)}
    assert c.psi is None and c.data["distinct_count"]["change"] == 0
    with pytest.raises(TruthoundError, match="cannot diff a profile without engine state"):
        TableProfile.from_json(a.to_json()).diff(b)
