"""One benchmark run of one tool, in a fresh process (started by bench/run.py).

    python bench/runner.py TOOL --file F --format parquet|csv --out RESULT.json

Imports only the standard library at the top: each tool's packages are imported inside its
function, so this file runs in every venv (ours, truthound-pypi, whylogs, ydata).
The result JSON: {"tool_version", "work_seconds", "rows", "columns": {name: {"distinct": int|null,
"quantiles": {"0.25": value, ...}}}}. work_seconds covers reading the file and profiling
(everything but interpreter start-up and imports), except for "truthound-engine", which times only
`truthound.profiler.profile(table)` on a table already in memory.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time


def _num(v):
    if v is None:
        return None
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):  # numpy scalar
        return _num(v.item())
    return v


# ---------------------------------------------------------------- tools


def run_floor(a):
    import pyarrow

    t = time.perf_counter()
    if a.format == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(a.file)
    else:
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(a.file)
    dt = time.perf_counter() - t
    return {"tool_version": f"pyarrow {pyarrow.__version__}", "work_seconds": dt, "rows": table.num_rows,
            "columns": {}}


def run_floor_stream(a):
    """Decode only, batch by batch as `th profile` reads: Parquet row groups split over two
    threads, each reading its own with ParquetFile.iter_batches (pyarrow's defaults otherwise: no
    dictionary reading, default memory pool); CSV streamed by open_csv."""
    import threading

    import pyarrow

    t = time.perf_counter()
    rows = 0
    if a.format == "parquet":
        import pyarrow.parquet as pq

        groups = pq.ParquetFile(a.file).num_row_groups
        counts = [0, 0]
        errors: list[BaseException] = []

        def read(k: int) -> None:
            try:
                pf = pq.ParquetFile(a.file, pre_buffer=False, buffer_size=1 << 20)
                mine = list(range(k, groups, 2))
                if mine:
                    for batch in pf.iter_batches(batch_size=131072, row_groups=mine,
                                                 use_threads=False):
                        counts[k] += batch.num_rows
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)

        threads = [threading.Thread(target=read, args=(k,)) for k in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
        rows = sum(counts)
    else:
        import pyarrow.csv as pacsv

        with pacsv.open_csv(a.file) as reader:
            for batch in reader:
                rows += batch.num_rows
    dt = time.perf_counter() - t
    return {"tool_version": f"pyarrow {pyarrow.__version__}", "work_seconds": dt, "rows": rows,
            "columns": {}}


def run_duckdb(a):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads={a.threads}")
    reader = "read_parquet" if a.format == "parquet" else "read_csv"
    t = time.perf_counter()
    res = con.execute(f"SUMMARIZE SELECT * FROM {reader}(?)", [a.file])
    names = [d[0] for d in res.description]
    rows = [dict(zip(names, r)) for r in res.fetchall()]
    dt = time.perf_counter() - t
    cols = {}
    for r in rows:
        q = {p: r.get(k) for p, k in (("0.25", "q25"), ("0.5", "q50"), ("0.75", "q75"))}
        cols[r["column_name"]] = {"distinct": r.get("approx_unique"),
                                  "quantiles": {p: _num(v) for p, v in q.items() if v is not None}}
    n = rows[0]["count"] if rows else 0
    return {"tool_version": f"duckdb {duckdb.__version__}", "work_seconds": dt, "rows": n, "columns": cols}


def run_polars(a):
    import polars as pl

    t = time.perf_counter()
    if a.format == "parquet":
        d = pl.scan_parquet(a.file).describe()
    else:
        d = pl.read_csv(a.file, try_parse_dates=True).describe()
    dt = time.perf_counter() - t
    stats = d["statistic"].to_list()
    cols = {}
    for c in d.columns[1:]:
        vals = dict(zip(stats, d[c].to_list()))
        q = {p: vals.get(k) for p, k in (("0.25", "25%"), ("0.5", "50%"), ("0.75", "75%"))}
        cols[c] = {"distinct": None, "quantiles": {p: _num(v) for p, v in q.items() if v is not None}}
    n = int(float(dict(zip(stats, d[d.columns[1]].to_list()))["count"]))
    return {"tool_version": f"polars {pl.__version__}", "work_seconds": dt, "rows": n, "columns": cols}


def _truthound_json_columns(doc: dict) -> dict:
    """Our result JSON (docs/engine-interface.md) -> normalized columns."""
    cols = {}
    for c in doc.get("columns", []):
        q = {}
        for k, v in (c.get("quantiles") or {}).items():
            if v is not None and k.startswith("p"):
                q[str(int(k[1:]) / 100)] = v
        for k, p in (("q1", "0.25"), ("median", "0.5"), ("q3", "0.75")):
            if c.get(k) is not None and p not in q:
                q[p] = c[k]
        cols[c["name"]] = {"distinct": c.get("distinct_count"), "quantiles": q}
    return cols


def _to_doc(result):
    if isinstance(result, str):
        return json.loads(result)
    if isinstance(result, dict):
        return result
    for m in ("to_json", "json"):
        if hasattr(result, m):
            v = getattr(result, m)()
            return json.loads(v) if isinstance(v, str) else v
    for m in ("to_dict", "as_dict", "dict"):
        if hasattr(result, m):
            return getattr(result, m)()
    raise TypeError(f"cannot turn {type(result).__name__} into the result JSON")


def run_truthound_engine(a):
    import pyarrow.parquet as pq
    import pyarrow.csv as pacsv
    import truthound
    import truthound.profiler

    table = pq.read_table(a.file) if a.format == "parquet" else pacsv.read_csv(a.file)
    table = table.combine_chunks() if a.combine else table
    t = time.perf_counter()
    result = truthound.profiler.profile(table)
    dt = time.perf_counter() - t
    doc = _to_doc(result)
    return {"tool_version": f"truthound {getattr(truthound, '__version__', '?')}", "work_seconds": dt,
            "rows": doc.get("row_count"), "columns": _truthound_json_columns(doc)}


def run_truthound_pypi(a):
    import truthound
    from truthound.profiler import profile_file

    t = time.perf_counter()
    prof = profile_file(a.file)
    dt = time.perf_counter() - t
    cols = {}
    for c in prof.columns:
        q = {}
        d = c.distribution
        if d is not None:
            for k, p in (("q1", "0.25"), ("median", "0.5"), ("q3", "0.75")):
                v = getattr(d, k, None)
                if v is not None:
                    q[p] = _num(v)
        cols[c.name] = {"distinct": c.distinct_count, "quantiles": q}
    ver = getattr(truthound, "__version__", None)
    if ver is None:
        from importlib.metadata import version

        ver = version("truthound")
    return {"tool_version": f"truthound (PyPI) {ver}", "work_seconds": dt, "rows": prof.row_count,
            "columns": cols}


def _pandas_frame(a):
    import pyarrow.parquet as pq
    import pyarrow.csv as pacsv

    table = pq.read_table(a.file) if a.format == "parquet" else pacsv.read_csv(a.file)
    return table.to_pandas()


def run_whylogs(a):
    import whylogs as why

    t = time.perf_counter()
    df = _pandas_frame(a)
    view = why.log(df).view()
    summary = view.to_pandas()
    dt = time.perf_counter() - t
    cols = {}
    qmap = {"0.01": "distribution/q_01", "0.05": "distribution/q_05", "0.1": "distribution/q_10",
            "0.25": "distribution/q_25", "0.5": "distribution/median", "0.75": "distribution/q_75",
            "0.9": "distribution/q_90", "0.95": "distribution/q_95", "0.99": "distribution/q_99"}
    for name, row in summary.iterrows():
        r = row.to_dict()
        q = {p: _num(r.get(k)) for p, k in qmap.items() if _num(r.get(k)) is not None}
        dist = _num(r.get("cardinality/est"))
        cols[str(name)] = {"distinct": dist, "quantiles": q}
    return {"tool_version": f"whylogs {why.__version__}", "work_seconds": dt, "rows": len(df), "columns": cols}


def run_ydata(a):
    import ydata_profiling
    from ydata_profiling import ProfileReport

    t = time.perf_counter()
    df = _pandas_frame(a)
    desc = ProfileReport(df, minimal=True, progress_bar=False).get_description()
    dt = time.perf_counter() - t
    variables = desc.variables if hasattr(desc, "variables") else desc["variables"]
    cols = {}
    for name, v in variables.items():
        q = {p: _num(v.get(k)) for p, k in (("0.05", "5%"), ("0.25", "25%"), ("0.5", "50%"), ("0.75", "75%"),
                                             ("0.95", "95%")) if _num(v.get(k)) is not None}
        cols[str(name)] = {"distinct": _num(v.get("n_distinct")), "quantiles": q}
    return {"tool_version": f"ydata-profiling {ydata_profiling.__version__}", "work_seconds": dt, "rows": len(df),
            "columns": cols}


TOOLS = {
    "floor": run_floor,
    "floor-stream": run_floor_stream,
    "duckdb": run_duckdb,
    "polars": run_polars,
    "truthound-engine": run_truthound_engine,
    "truthound-pypi": run_truthound_pypi,
    "whylogs": run_whylogs,
    "ydata": run_ydata,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=sorted(TOOLS))
    ap.add_argument("--file", required=True)
    ap.add_argument("--format", choices=["parquet", "csv"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--combine", action="store_true", help="engine: combine chunks before profiling")
    a = ap.parse_args()
    res = TOOLS[a.tool](a)
    with open(a.out, "w") as f:
        json.dump(res, f, default=str)


if __name__ == "__main__":
    sys.exit(main())
