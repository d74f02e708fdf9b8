"""Serialized partial sizes and the cost of merging many partials (issue 12).

    python bench/partial_sizes.py FILE [--partials 200] [--workers 2] [--no-merge]

Profiles FILE once (its partial is in the sketch regime when a column has more than 16,384
distinct values), reports the engine partial as a worker ships it (compacted, serialized) per
column (each column's bytes and those of its distinct, quantile and top-value sketches, the
largest, the table-wide duplicate-row counter apart, and by type), then merges
``--partials`` partials the way the driver does: one running merge and one incoming partial
deserialized at a time. Two cases: FILE cut into ``--partials`` row slices (small partials, each
column exact), and ``--partials`` copies of the whole file's partial (the worst case: every
partial as large as the whole file's). Reports merge time and the process's peak RSS (VmHWM)
before and after each case. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import pyarrow as pa
import pyarrow.parquet as pq

from truthound import _core
from truthound.profiler import TableProfile, profile
from truthound.profiler.distributed.worker import shipped_bytes


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _bytes_per_column_by_type(table: pa.Table, workers: int) -> dict[str, dict[str, int]]:
    """Serialized bytes per column of a profile of the columns of each type (the partial's
    table-wide parts, such as the duplicate-row counter, shared out among them)."""
    by_type: dict[str, list[str]] = {}
    for field in table.schema:
        by_type.setdefault(str(field.type), []).append(field.name)
    out = {}
    for t, names in by_type.items():
        size = len(_shipped(profile(table.select(names), num_workers=workers)))
        out[t] = {"columns": len(names), "bytes_per_column": round(size / len(names))}
    return out


def _column_sizes(p: TableProfile) -> dict[str, dict[str, int]]:
    """Each column's bytes in the shipped partial (compacted): in all, in each sketch, and the
    rest (counters, min/max, moments, pattern samples)."""
    p._state.compact()
    sizes = p._state.serialized_sizes()
    for s in sizes.values():
        s["other"] = s["total"] - s["distinct"] - s["quantiles"] - s["top_values"]
    return sizes


def _shipped(p: TableProfile) -> bytes:
    """The partial as a worker ships it (compacted, then serialized)."""
    return shipped_bytes(p._state)


def _merge(blobs: list[bytes]) -> tuple[float, int]:
    started = time.perf_counter()
    running = None
    for blob in blobs:
        part = _core.PartialProfile.from_bytes(blob)
        if running is None:
            running = part
        else:
            running.merge(part)
    assert running is not None
    return time.perf_counter() - started, running.row_count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--partials", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-merge", action="store_true", help="sizes only: skip the merge cases")
    args = ap.parse_args()
    table = pq.read_table(args.file)
    out: dict[str, object] = {"file": args.file, "rows": table.num_rows, "columns": table.num_columns}

    whole = profile(table, num_workers=args.workers)
    blob = _shipped(whole)
    out["whole_partial_bytes"] = len(blob)
    out["whole_partial_bytes_per_column"] = round(len(blob) / table.num_columns)
    out["by_type"] = _bytes_per_column_by_type(table, args.workers)
    out["columns"] = _column_sizes(whole)
    out["largest_column_bytes"] = max(c["total"] for c in out["columns"].values())
    out["duplicate_counter_bytes"] = whole._state.duplicate_counter_bytes
    if args.no_merge:
        print(json.dumps(out, indent=2))
        return

    step = -(-table.num_rows // args.partials)
    slices = [_shipped(profile(table.slice(i, step), num_workers=1))
              for i in range(0, table.num_rows, step)]
    del table, whole
    for case, blobs in (("row slices", slices), ("copies of the whole", [blob] * args.partials)):
        _reset_peak()
        before = _peak_rss_mb()
        seconds, rows = _merge(blobs)
        out[case] = {
            "partials": len(blobs),
            "bytes_total_mb": round(sum(len(b) for b in blobs) / 2**20, 1),
            "merge_seconds": round(seconds, 2),
            "rows": rows,
            "peak_rss_mb_before": round(before),
            "peak_rss_mb_during": round(_peak_rss_mb()),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
