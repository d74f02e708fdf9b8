"""Peak memory and time of profiling a wide table (issue 12, the memory item).

    python bench/wide_memory.py [--columns 1000] [--rows 50000] [--workers 2] [--duckdb]
                                [--strategy STRATEGY] [--repeat 1]

Generates (once, seeded) a Parquet file of ``--columns`` columns x ``--rows`` rows in one row
group into bench/.cache/: three quarters float64 (standard normal), one quarter strings
``v<int>`` of 10..2,000 distinct values each. Then runs ``th profile FILE --workers N -f json``
in a child process (its JSON written under bench/.cache/, never to /dev/null: the CLI writes
atomically, by renaming) and reports its wall time and peak RSS: the child's ru_maxrss from
wait4 (the local backend runs its workers as threads of that one process). ``--duckdb`` also
times DuckDB's ``SUMMARIZE SELECT * FROM 'FILE'`` in a child process, with its peak RSS.
``--repeat`` runs each measurement that many times and keeps the fastest (peak RSS: the largest).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CACHE = Path(__file__).resolve().parent / ".cache"
SEED = 12
# Float columns per column: the rest are strings.
FLOAT_SHARE = 0.75


def wide_table(columns: int, rows: int, seed: int = SEED) -> pa.Table:
    """``columns`` x ``rows``: the first three quarters float64 ~ N(0, 1), the rest strings
    ``v<int>`` drawn uniformly from 10..2,000 distinct values (a count per column)."""
    rng = np.random.default_rng(seed)
    floats = int(round(columns * FLOAT_SHARE))
    arrays: list[pa.Array] = []
    names: list[str] = []
    for i in range(floats):
        arrays.append(pa.array(rng.standard_normal(rows)))
        names.append(f"f{i}")
    for i in range(columns - floats):
        distinct = int(rng.integers(10, 2001))
        labels = np.array([f"v{k}" for k in range(distinct)], dtype=object)
        arrays.append(pa.array(labels[rng.integers(0, distinct, rows)], type=pa.string()))
        names.append(f"s{i}")
    return pa.Table.from_arrays(arrays, names=names)


def wide_file(columns: int, rows: int) -> Path:
    """The cached Parquet file of :func:`wide_table` (one row group), written once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"wide-{columns}x{rows}.parquet"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        pq.write_table(wide_table(columns, rows), tmp, row_group_size=rows)
        tmp.replace(path)
    return path


def measure(cmd: list[str]) -> dict[str, float]:
    """Wall seconds and peak RSS (MB) of ``cmd`` run as a child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def best_of(cmd: list[str], repeat: int) -> dict[str, float]:
    runs = [measure(cmd) for _ in range(repeat)]
    return {"seconds": min(r["seconds"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--columns", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--strategy", default=None, help="th profile --partition-strategy")
    ap.add_argument("--duckdb", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    path = wide_file(args.columns, args.rows)
    out = CACHE / f"wide-{args.columns}x{args.rows}.profile.json"
    # the th command of this interpreter (its entry point: truthound._th.main)
    th = [sys.executable, "-c", "import sys; from truthound._th import main; sys.exit(main())",
          "profile", str(path), "--workers", str(args.workers), "-f", "json", "-o", str(out)]
    if args.strategy:
        th += ["--partition-strategy", args.strategy]
    result: dict[str, object] = {
        "file": path.name, "columns": args.columns, "rows": args.rows,
        "file_mb": round(path.stat().st_size / 2**20, 1), "workers": args.workers,
        "truthound": {"command": " ".join(["th"] + th[3:]).replace(str(CACHE) + "/", ""), **best_of(th, args.repeat)},
    }
    if args.duckdb:
        code = ("import duckdb, sys; duckdb.sql(\"SUMMARIZE SELECT * FROM '\" + sys.argv[1] + "
                "\"'\").fetchall()")
        result["duckdb"] = {"command": f"SUMMARIZE SELECT * FROM '{path.name}'",
                            **best_of([sys.executable, "-c", code, str(path)], args.repeat)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
