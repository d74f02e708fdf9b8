"""Issue 3's speed and memory checks: `th profile --distributed --backend local` on one Parquet
file with 1 and 2 workers (threads, and processes), median wall time over runs, peak RSS of the
process tree, and the 2-worker / 1-worker ratio.

    python bench/scaling.py --size 10m --runs 3          # the 2-worker ratio (target <= 0.55)
    python bench/scaling.py --size 50m --runs 1 --modes 1t,2t   # peak memory (target < 1 GiB)

Datasets come from bench/generate.py (generated on first use). Results go to
bench/results/scaling-<size>.json and are printed as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from run import measure, th_executable  # noqa: E402

MODES = {"1t": (1, False), "2t": (2, False), "1p": (1, True), "2p": (2, True)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="10m", help="dataset size: tiny, 1m, 10m, 50m")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--modes", default="1t,2t,2p", help="comma list of 1t,2t,1p,2p (workers, threads/processes)")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()

    th = th_executable()
    if th is None:
        print("scaling: `th` is not installed in this environment (pip install .)", file=sys.stderr)
        return 2
    data = generate.generate(args.size)["parquet"]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.json"
        for mode in args.modes.split(","):
            workers, processes = MODES[mode]
            cmd = [th, "profile", str(data), "-f", "json", "-o", str(out), "--distributed",
                   "--backend", "local", "--workers", str(workers),
                   "--processes" if processes else "--threads"]
            runs = []
            for _ in range(args.runs):
                r = measure(cmd, args.timeout)
                if r["rc"] != 0:
                    print(f"scaling: {mode} failed: {r['stderr']}", file=sys.stderr)
                    return 1
                runs.append(r)
                print(f"  {mode}: {r['wall']:.2f}s, peak {r['peak_rss'] / 2**20:.0f} MiB, "
                      f"other processes {r['other_cores'] or 0:.2f} cores", flush=True)
            rows.append({
                "mode": mode, "workers": workers, "processes": processes,
                "median_s": statistics.median(r["wall"] for r in runs),
                "min_s": min(r["wall"] for r in runs), "max_s": max(r["wall"] for r in runs),
                "peak_rss_mib": max(r["peak_rss"] for r in runs) / 2**20,
                "other_cores_max": max((r["other_cores"] or 0) for r in runs),
            })
    base = next((r["median_s"] for r in rows if r["mode"] == "1t"), None)
    print(f"\n{args.size}.parquet ({data.stat().st_size / 2**20:.0f} MiB), {args.runs} runs, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| workers | mode | median s | min s | max s | / 1 thread | peak RSS MiB | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['median_s'] / base:.2f}" if base else "-"
        print(f"| {r['workers']} | {'processes' if r['processes'] else 'threads'} | {r['median_s']:.2f} | "
              f"{r['min_s']:.2f} | {r['max_s']:.2f} | {ratio} | {r['peak_rss_mib']:.0f} | {r['other_cores_max']:.2f} |")
    res = HERE / "results"
    res.mkdir(exist_ok=True)
    (res / f"scaling-{args.size}.json").write_text(json.dumps({"size": args.size, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
