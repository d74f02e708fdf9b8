"""Issue 13's speed check: the Spark backend on ``local[2]`` against the local backend (2 worker
threads) on the same Parquet file, in the same run.

    python bench/spark_speed.py --size 10m --runs 2      # -> bench/results/spark-speed-10m.json

Measured, each as the median wall time of ``--runs`` runs after one warm-up run:

* ``local``: ``DistributedProfiler.create(backend="local", num_workers=2).profile(path)``
* ``spark files``: ``SparkBackend(reader="files").profile_file(path)``: truthound's own Parquet
  reader in Spark's Python workers (what ``reader="auto"`` picks for local files)
* ``spark read``: ``SparkBackend(reader="spark").profile_file(path)``: ``spark.read.parquet``,
  Spark decodes the file and hands Arrow batches to ``mapInArrow``

The session start-up (JVM, SparkContext, the first Python worker) is timed separately and is not
in the profile times. Datasets come from bench/generate.py (generated on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

# PyDeequ's published profiling figure: about 2.9M rows/s for 10 columns on a 14-core laptop.
PYDEEQU_ROWS_PER_SECOND = 2.9e6


def _timed(fn: Any, runs: int) -> tuple[float, list[float], Any]:
    fn()  # warm-up: Python workers started, files in the page cache
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), times, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="10m", help="dataset size: tiny, 1m, 10m, 50m")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    parquet = generate.generate(args.size, quiet=True)["parquet"]
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    from truthound.profiler.distributed import DistributedProfiler, SparkBackend, SparkConfig

    local = DistributedProfiler.create(backend="local", num_workers=2)
    local_s, local_runs, local_result = _timed(lambda: local.profile(str(parquet)), args.runs)
    rows = local_result.row_count
    columns = local_result.column_count

    began = time.perf_counter()
    config = SparkConfig(master=args.master, spark_config={
        "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false", "spark.driver.memory": "2g",
    })
    files = SparkBackend(config, reader="files")
    session = files.session
    session.sparkContext.setLogLevel("ERROR")
    session_start = time.perf_counter() - began
    try:
        files_s, files_runs, files_result = _timed(lambda: files.profile_file(str(parquet)),
                                                   args.runs)
        reader = SparkBackend(config, reader="spark")
        read_s, read_runs, read_result = _timed(lambda: reader.profile_file(str(parquet)),
                                                args.runs)
    finally:
        files.close()
    assert files_result.row_count == read_result.row_count == rows

    def entry(seconds: float, runs: list[float]) -> dict[str, Any]:
        return {"seconds": round(seconds, 3), "runs": [round(t, 3) for t in runs],
                "rows_per_second": round(rows / seconds), "vs_local": round(seconds / local_s, 2)}

    result = {
        "size": args.size, "rows": rows, "columns": columns, "master": args.master,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "session_start_seconds": round(session_start, 2),
        "local_2_threads": entry(local_s, local_runs),
        "spark_files_reader": entry(files_s, files_runs),
        "spark_read_mapInArrow": entry(read_s, read_runs),
        "pydeequ_published_rows_per_second": PYDEEQU_ROWS_PER_SECOND,
    }
    out = HERE / "results" / f"spark-speed-{args.size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"\n| run | wall s | rows/s | x local |\n|---|---|---|---|")
    for name in ("local_2_threads", "spark_files_reader", "spark_read_mapInArrow"):
        e = result[name]
        print(f"| {name} | {e['seconds']} | {e['rows_per_second']:,} | {e['vs_local']} |")
    print(f"session start-up: {session_start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
