"""Issue 14's Ray speed check: the Ray backend on a local Ray (2 CPUs) against the local backend
(2 worker threads) on the same Parquet file, in the same run; Ray's start-up reported apart.

    python bench/ray_speed.py --size 10m --runs 3     # target: Ray <= 1.3 x local

The file comes from bench/generate.py (generated on first use). Each backend profiles the file
``--runs`` times, alternating (median wall time; a first Ray run, which starts Ray's worker
processes, is reported apart). The machine's load average is recorded: on a shared machine the
numbers move with it. Results go to bench/results/ray-speed-<size>.json and are printed as a
markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402


def _timed(fn: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="10m", help="dataset size: tiny, 1m, 10m, 50m")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2, help="local threads and Ray CPUs")
    ap.add_argument("--object-store-mib", type=int, default=256)
    args = ap.parse_args()

    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # keep Ray on 127.0.0.1
    from truthound.profiler.distributed import DistributedProfiler, RayBackend, RayConfig

    data = str(generate.generate(args.size)["parquet"])
    local = DistributedProfiler.create(backend="local", num_workers=args.workers)
    backend = RayBackend(RayConfig(num_cpus=args.workers,
                                   object_store_memory=args.object_store_mib * 1024 * 1024))
    load_before = os.getloadavg()[0]
    startup, _ = _timed(backend.connect)
    local_times: list[float] = []
    ray_times: list[float] = []
    try:
        # the first Ray run also starts Ray's worker processes: reported apart
        first, result = _timed(lambda: backend.profile(data))
        rows = result.row_count
        partitions = result.execution.num_partitions if result.execution else None
        # alternated, so a change in the machine's load hits both alike
        for _ in range(args.runs):
            seconds, result = _timed(lambda: local.profile(data))
            assert result.row_count == rows, (result.row_count, rows)
            local_times.append(seconds)
            seconds, result = _timed(lambda: backend.profile(data))
            assert result.row_count == rows, (result.row_count, rows)
            ray_times.append(seconds)
    finally:
        backend.close()
    load_after = os.getloadavg()[0]

    import ray

    local_median = statistics.median(local_times)
    ray_median = statistics.median(ray_times)
    report = {
        "size": args.size,
        "rows": rows,
        "file": os.path.basename(data),
        "workers": args.workers,
        "runs": args.runs,
        "local_threads_seconds": local_times,
        "local_median_seconds": local_median,
        "ray_startup_seconds": startup,
        "ray_first_run_seconds": first,
        "ray_seconds": ray_times,
        "ray_median_seconds": ray_median,
        "ray_partitions": partitions,
        "ratio_ray_to_local": ray_median / local_median,
        "target_ratio": 1.3,
        "ray_version": ray.__version__,
        "python": platform.python_version(),
        "load_average_1m_before_after": [load_before, load_after],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    out = HERE / "results" / f"ray-speed-{args.size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"| {args.size} ({rows:,} rows) | seconds |\n|---|---|")
    print(f"| local backend, {args.workers} threads (median of {args.runs}) | {local_median:.2f} |")
    print(f"| Ray start-up (ray.init, {args.workers} CPUs) | {startup:.2f} |")
    print(f"| Ray backend, first run (starts worker processes) | {first:.2f} |")
    print(f"| Ray backend (median of {args.runs}) | {ray_median:.2f} |")
    print(f"| ratio Ray / local | {ray_median / local_median:.2f} (target <= 1.3) |")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
