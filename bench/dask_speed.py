"""Issue 14's Dask speed check: the Dask backend on a LocalCluster of 2 single-threaded worker
processes against the local backend (2 worker threads) on the same Parquet file, in the same run
(runs interleaved: local, Dask, local, Dask, ...).
Cluster start-up (scheduler, workers, client) and the first Dask run (workers import truthound)
are reported apart from the profile times. Target: Dask <= 1.3x the local backend.

    python bench/dask_speed.py --size 10m --runs 3

Datasets come from bench/generate.py (generated on first use). Results go to
bench/results/dask-speed-<size>.json and are printed as a markdown table.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402


def _timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="10m", help="dataset size: tiny, 1m, 10m, 50m")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    load_before = os.getloadavg()
    import distributed

    import truthound
    from truthound.profiler.distributed import DaskBackend, DaskConfig, DistributedProfiler

    data = str(generate.generate(args.size)["parquet"])
    local = DistributedProfiler.create(backend="local", num_workers=args.workers)
    startup, (cluster, client) = _timed(lambda: (
        (c := distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                       processes=True, host="127.0.0.1", dashboard_address=None)),
        distributed.Client(c, set_as_default=False),
    ))
    local_times: list[float] = []
    dask_times: list[float] = []
    try:
        backend = DaskBackend(DaskConfig(scheduler=cluster.scheduler_address))
        first, _ = _timed(lambda: backend.profile(data))
        local.profile(data)  # the same warm-up (page cache, imports) for the local backend
        # interleaved, so a change in the machine's load hits both alike
        for _ in range(args.runs):
            seconds, want = _timed(lambda: local.profile(data))
            local_times.append(seconds)
            seconds, got = _timed(lambda: backend.profile(data))
            dask_times.append(seconds)
            assert got.row_count == want.row_count  # type: ignore[attr-defined]
        rows = want.row_count  # type: ignore[attr-defined]
        backend.close()
    finally:
        client.close()
        cluster.close()

    local_med, dask_med = statistics.median(local_times), statistics.median(dask_times)
    out = {
        "size": args.size, "rows": rows, "file": os.path.basename(data), "workers": args.workers,
        "runs": args.runs,
        "local_seconds": local_times, "local_median": local_med,
        "dask_cluster_startup_seconds": startup, "dask_first_run_seconds": first,
        "dask_seconds": dask_times, "dask_median": dask_med,
        "ratio_dask_to_local": dask_med / local_med,
        "target_ratio": 1.3,
        "versions": {"truthound": getattr(truthound, "__version__", "?"),
                     "distributed": distributed.__version__, "python": platform.python_version()},
        "load_average_before": load_before,
    "load_average_after": os.getloadavg(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"dask-speed-{args.size}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"| {args.size} Parquet, {args.workers} workers | median of {args.runs} |")
    print("|---|---|")
    print(f"| local backend (threads) | {local_med:.2f} s |")
    print(f"| Dask LocalCluster ({args.workers} processes) | {dask_med:.2f} s "
          f"({dask_med / local_med:.2f}x) |")
    print(f"| Dask cluster start-up | {startup:.2f} s |")
    print(f"| Dask first run (workers import truthound) | {first:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
