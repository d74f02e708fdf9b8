"""The engine alone, one thread, data in memory: values/s of `truthound.profiler.profile(table)` per
type (int64, float64, short strings), beside the floor `pyarrow.compute` min_max + sum + count
over the same arrays (for strings: min_max + count; pyarrow.compute is the reference here, it is
never used by python/truthound).

    python bench/engine_speed.py [--rows 10000000] [--runs 3] [--out bench/results/latest/engine_speed.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

# one thread for everything we can reach before the libraries start their pools
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TRUTHOUND_NUM_WORKERS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import generate  # noqa: E402

WORDS = generate._WORDS


def short_strings(n: int, seed: int = 7) -> pa.Array:
    """10..30-byte strings, a quarter each: emails, uuid prefixes, numbers, word pairs."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 4, n)
    first = generate._take(generate._FIRST, rng.integers(0, len(generate._FIRST), n))
    num = pc.cast(pa.array(rng.integers(0, 10_000_000, n)), pa.string())
    dom = generate._take(generate._DOMAINS, rng.integers(0, len(generate._DOMAINS), n))
    emails = pc.binary_join_element_wise(first, ".", num, "@", dom, "")            # 15..28 bytes
    uuids = pc.utf8_slice_codeunits(generate._uuid_column(rng, n), 0, 23)          # 23 bytes
    numbers = pc.cast(pa.array(np.round(rng.random(n) * 1e9, 2) + 1e9), pa.string())  # 10..13 bytes
    w1 = generate._take(WORDS, rng.integers(0, len(WORDS), n))
    w2 = generate._take(WORDS, rng.integers(0, len(WORDS), n))
    w3 = generate._take(WORDS, rng.integers(0, len(WORDS), n))
    words = pc.binary_join_element_wise(w1, w2, w3, " ")                            # 5..30 bytes
    words = pc.utf8_rpad(words, 10, " ")
    words = pc.utf8_slice_codeunits(words, 0, 30)
    out = pc.case_when(pc.make_struct(pa.array(kind == 0), pa.array(kind == 1), pa.array(kind == 2)),
                       emails, uuids, numbers, words)
    return out


def make_arrays(n: int) -> dict[str, pa.Array]:
    rng = np.random.default_rng(11)
    return {
        "int64": pa.array(rng.integers(-10**12, 10**12, n)),
        "float64": pa.array(rng.normal(0.0, 1e3, n)),
        "string": short_strings(n),
    }


def floor(arr: pa.Array) -> None:
    pc.min_max(arr)
    if not pa.types.is_string(arr.type):
        pc.sum(arr)
    pc.count(arr)


CPU: dict[int, list[float]] = {}


def timed(fn, runs: int) -> list[float]:
    """Wall seconds per run; the process's CPU seconds per run go to CPU[id(out)] (threads used = cpu/wall)."""
    out, cpu = [], []
    for _ in range(runs):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    CPU[id(out)] = cpu
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(BENCH / "results" / "latest" / "engine_speed.json"))
    a = ap.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    t = time.perf_counter()
    arrays = make_arrays(a.rows)
    print(f"made {a.rows:,} values per type in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    lens = pc.binary_length(arrays["string"])
    mm = pc.min_max(lens)
    print(f"string lengths {mm['min']}..{mm['max']} bytes", file=sys.stderr)
    try:
        import truthound
        from truthound.profiler import profile
        th_version = getattr(truthound, "__version__", "?")
    except Exception as e:  # noqa: BLE001
        profile, th_version = None, f"not importable: {e}"
    res = {"rows": a.rows, "runs": a.runs, "truthound": th_version, "pyarrow": pa.__version__,
           "command": "python bench/engine_speed.py " + " ".join(sys.argv[1:]), "types": []}
    for name, arr in arrays.items():
        table = pa.table({"x": arr})
        row = {"type": name}
        row["floor_runs"] = timed(lambda: floor(arr), a.runs)
        row["floor_s"] = statistics.median(row["floor_runs"])
        if profile is not None:
            try:
                row["truthound_runs"] = timed(lambda: profile(table), a.runs)
                row["truthound_s"] = statistics.median(row["truthound_runs"])
                row["truthound_cpu_s"] = statistics.median(CPU[id(row["truthound_runs"])])
            except Exception as e:  # noqa: BLE001
                row["error"] = f"{type(e).__name__}: {e}"[:200]
        else:
            row["error"] = "truthound not importable"
        res["types"].append(row)
        th = row.get("truthound_s")
        print(f"{name:8s} truthound {th if th else row.get('error')}  floor {row['floor_s']:.3f}s"
              + (f"  {a.rows / th / 1e6:.1f} M values/s, {th / a.rows * 1e9:.1f} ns/value" if th else ""))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    sys.path.insert(0, str(BENCH))
    import report

    print(report._engine_table(res))
    return 0 if all("truthound_s" in t for t in res["types"]) else 1


if __name__ == "__main__":
    sys.exit(main())
