"""Exact reference values (DuckDB) and the accuracy of each tool's reported statistics.

- distinct-count error of a column: |reported - exact| / exact, exact = DuckDB `count(DISTINCT col)`
  (nulls not counted). Reported as a fraction (0.01 = 1 %).
- quantile rank error of a reported value v for quantile p: the distance from p to the rank interval
  [F(v-), F(v)], where F(v-) = #(values < v)/n and F(v) = #(values <= v)/n over the non-null values,
  counted exactly by DuckDB. Without ties that is |F(v) - p| (within 1/n); with ties (an int column
  with 1000 values, dates) any value whose interval holds p is an exact p-quantile and scores 0.
Quantiles are checked for numeric (non-bool) and temporal columns.
Accuracy is measured on the Parquet runs (the CSV files hold the same values, but each tool infers
its own CSV types, e.g. numeric_text becomes float64, so per-column references would differ).
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb

QUANTILE_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "FLOAT", "DOUBLE", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "DECIMAL")


def _qcol(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def exact_reference(parquet: Path, cache: Path | None = None) -> dict:
    """{column: {"type": duckdb type, "distinct": exact count, "non_null": n}} (cached as JSON)."""
    if cache is not None and cache.exists():
        return json.loads(cache.read_text())
    con = duckdb.connect()
    src = f"read_parquet('{parquet}')"
    cols = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    parts = []
    for name, typ, *_ in cols:
        parts += [f"count(DISTINCT {_qcol(name)})", f"count({_qcol(name)})"]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {src}").fetchone()
    ref = {}
    for i, (name, typ, *_) in enumerate(cols):
        ref[name] = {"type": typ, "distinct": row[2 * i], "non_null": row[2 * i + 1]}
    if cache is not None:
        cache.write_text(json.dumps(ref, indent=1))
    return ref


def _quantile_column(typ: str) -> bool:
    return typ.startswith(QUANTILE_TYPES) and typ != "BOOLEAN"


def evaluate(parquet: Path, ref: dict, reported: dict[str, dict]) -> dict[str, dict]:
    """reported: {tool key: normalized runner columns}. Returns per tool:
    {"distinct": {col: rel err}, "quantile": {col: max rank err}, "max_distinct_error", "max_rank_error",
     "unparsed": [..]}"""
    con = duckdb.connect()
    src = f"read_parquet('{parquet}')"
    out: dict[str, dict] = {}
    # distinct
    for tool, cols in reported.items():
        d = {}
        for name, c in (cols or {}).items():
            if name not in ref or c.get("distinct") is None:
                continue
            exact = ref[name]["distinct"]
            rep = float(c["distinct"])
            if rep == 0 and exact > 0:  # tool does not track this column's type (whylogs on dates)
                continue
            d[name] = abs(rep - exact) / exact if exact else float(rep != 0)
        out[tool] = {"distinct": d, "quantile": {}, "unparsed": []}
    # quantiles: one scan per column for every (tool, p, value)
    for name, info in ref.items():
        typ = info["type"]
        if not _quantile_column(typ):
            continue
        cands = []
        for tool, cols in reported.items():
            c = (cols or {}).get(name)
            if not c:
                continue
            for p, v in (c.get("quantiles") or {}).items():
                if v is not None:
                    cands.append((tool, float(p), v))
        if not cands:
            continue
        exprs, params = [f"count({_qcol(name)})"], []
        for _, _, v in cands:
            lit = "TRY_CAST(? AS DOUBLE)" if not typ.startswith(("DATE", "TIMESTAMP")) else f"TRY_CAST(? AS {typ})"
            val = v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
            if typ.startswith("TIMESTAMP") and isinstance(val, str):
                val = val.replace("T", " ").rstrip("Z")
            exprs += [f"count(*) FILTER (WHERE {_qcol(name)} < {lit})",
                      f"count(*) FILTER (WHERE {_qcol(name)} <= {lit})", f"({lit}) IS NULL"]
            params += [val, val, val]
        row = con.execute(f"SELECT {', '.join(exprs)} FROM {src}", params).fetchone()
        n = row[0]
        for i, (tool, p, v) in enumerate(cands):
            lt, le, bad = row[1 + 3 * i], row[2 + 3 * i], row[3 + 3 * i]
            if bad or not n:
                out[tool]["unparsed"].append(f"{name}@{p}={v!r}")
                continue
            lo, hi = lt / n, le / n
            err = 0.0 if lo <= p <= hi else min(abs(p - lo), abs(p - hi))
            q = out[tool]["quantile"]
            q[name] = max(q.get(name, 0.0), err)
    for tool, r in out.items():
        r["max_distinct_error"] = max(r["distinct"].values()) if r["distinct"] else None
        r["max_rank_error"] = max(r["quantile"].values()) if r["quantile"] else None
    return out
