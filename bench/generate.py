"""Deterministic benchmark dataset generator.

A mixed table of 12 columns (see COLUMNS) written as Parquet (snappy, 1M-row row groups) and CSV,
generated chunk by chunk (bounded memory: one 1M-row chunk at a time) into bench/.cache/.
Every chunk has its own seed derived from (SEED, size name, chunk index), so a dataset is the same
on every machine and every run. Files are written under a temporary name and renamed at the end,
so an interrupted run never leaves a half file that looks complete; existing files are kept.

    python bench/generate.py --sizes tiny,1m,10m
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
DATA_DIR = CACHE_DIR / "data"

SEED = 20241125
GENERATOR_VERSION = 1
CHUNK_ROWS = 1_000_000  # also the Parquet row-group size

SIZES = {"tiny": 20_000, "1m": 1_000_000, "10m": 10_000_000, "50m": 50_000_000}

# name -> (arrow type, description)
COLUMNS = {
    "id": (pa.int64(), "unique int64 (row number + 1)"),
    "category_code": (pa.int32(), "int32, ~1000 distinct values (Zipf-like)"),
    "amount": (pa.float64(), "float64, normal(100, 15)"),
    "score": (pa.float64(), "float64, lognormal, 5% nulls"),
    "active": (pa.bool_(), "bool, 30% true"),
    "country": (pa.string(), "string, 50 distinct values"),
    "email": (pa.string(), "string, emails first.N@domain, high cardinality (~99.7% distinct at 1M rows)"),
    "uuid": (pa.string(), "string, uuid4 text, unique"),
    "signup_date": (pa.date32(), "date32, 2000-01-01 .. 2025-12-31"),
    "event_time": (pa.timestamp("us", tz="UTC"), "timestamp[us, tz=UTC], 2020 .. 2025"),
    "numeric_text": (pa.string(), "string of numbers: integers and 2-decimal values"),
    "comment": (pa.string(), "free text, 1..24 words (5..~200 chars)"),
}

_WORDS = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
    "sigma tau upsilon phi chi psi omega data quality profile engine column value table row "
    "fast slow null empty unique count sketch merge split batch stream arrow parquet record "
    "the a an of to in on for with by at from is was are were be been will would could should "
    "customer order invoice payment refund shipping delivery address city region market price"
).split()
_FIRST = "anna ben carl dora emil fay gus hana ivan jane kai lea mona nils otto pia quin rosa sam tina".split()
_DOMAINS = ["example.com", "mail.org", "corp.net", "shop.io", "uni.edu", "web.de", "post.fr", "inbox.co.uk"]
_COUNTRIES = [f"country_{i:02d}" for i in range(50)]
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _uuid_column(rng: np.random.Generator, n: int) -> pa.Array:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # variant
    hexd = np.empty((n, 32), dtype=np.uint8)
    hexd[:, 0::2] = _HEX[raw >> 4]
    hexd[:, 1::2] = _HEX[raw & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, 0:8] = hexd[:, 0:8]
    out[:, 9:13] = hexd[:, 8:12]
    out[:, 14:18] = hexd[:, 12:16]
    out[:, 19:23] = hexd[:, 16:20]
    out[:, 24:36] = hexd[:, 20:32]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out.tobytes()))


def _take(values: list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(idx))


def make_chunk(size_name: str, total_rows: int, chunk_index: int, n: int) -> pa.Table:
    rng = np.random.default_rng([SEED, GENERATOR_VERSION, list(SIZES).index(size_name), chunk_index])
    start = chunk_index * CHUNK_ROWS
    cols: dict[str, pa.Array] = {}
    cols["id"] = pa.array(np.arange(start + 1, start + n + 1, dtype=np.int64))
    # ~1000 distinct codes, skewed: code = floor(1000 * u^2)
    cols["category_code"] = pa.array((rng.random(n) ** 2 * 1000).astype(np.int32))
    cols["amount"] = pa.array(rng.normal(100.0, 15.0, n))
    score = rng.lognormal(3.0, 1.0, n)
    cols["score"] = pa.array(score, mask=rng.random(n) < 0.05)
    cols["active"] = pa.array(rng.random(n) < 0.3)
    cidx = np.minimum((rng.pareto(1.2, n) * 5).astype(np.int64), 49)
    cols["country"] = _take(_COUNTRIES, cidx)
    # emails: first.N@domain, N uniform over [0, total_rows): 20 names x 8 domains -> ~99.7% distinct at 1M
    first = _take(_FIRST, rng.integers(0, len(_FIRST), n))
    num = pc.cast(pa.array(rng.integers(0, total_rows, n)), pa.string())
    dom = _take(_DOMAINS, rng.integers(0, len(_DOMAINS), n))
    cols["email"] = pc.binary_join_element_wise(first, ".", num, "@", dom, "")
    cols["uuid"] = _uuid_column(rng, n)
    d0 = 10957  # 2000-01-01
    cols["signup_date"] = pa.array(rng.integers(d0, d0 + 9496, n).astype(np.int32), pa.int32()).cast(pa.date32())
    t0 = 1577836800_000000  # 2020-01-01T00:00:00Z
    cols["event_time"] = pa.array(rng.integers(t0, t0 + 6 * 365 * 86400_000000, n), pa.int64()).cast(
        pa.timestamp("us", tz="UTC"))
    ints = pc.cast(pa.array(rng.integers(0, 1_000_000, n)), pa.string())
    decs = pc.cast(pa.array(np.round(rng.random(n) * 10000.0, 2)), pa.string())
    cols["numeric_text"] = pc.if_else(pa.array(rng.random(n) < 0.5), ints, decs)
    nwords = rng.integers(1, 25, n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(nwords, out=offsets[1:])
    flat = _take(_WORDS, rng.integers(0, len(_WORDS), int(offsets[-1])))
    cols["comment"] = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), flat), " ")
    arrays = [cols[name].cast(typ) for name, (typ, _) in COLUMNS.items()]
    return pa.Table.from_arrays(arrays, schema=schema())


def schema() -> pa.Schema:
    return pa.schema([(name, typ) for name, (typ, _) in COLUMNS.items()])


def paths(size_name: str) -> dict[str, Path]:
    return {"parquet": DATA_DIR / f"{size_name}.parquet", "csv": DATA_DIR / f"{size_name}.csv"}


def generate(size_name: str, force: bool = False, quiet: bool = False) -> dict[str, Path]:
    """Write the dataset's Parquet and CSV files unless both exist; return their paths."""
    total = SIZES[size_name]
    p = paths(size_name)
    meta_path = DATA_DIR / f"{size_name}.meta.json"
    meta = {"generator_version": GENERATOR_VERSION, "seed": SEED, "rows": total}
    if not force and all(f.exists() for f in p.values()) and meta_path.exists():
        try:
            if json.loads(meta_path.read_text()) == meta:
                return p
        except ValueError:
            pass
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    tmp = {k: v.with_name(v.name + ".tmp") for k, v in p.items()}
    pw = pq.ParquetWriter(tmp["parquet"], schema(), compression="snappy")
    cw = pacsv.CSVWriter(tmp["csv"], schema())
    nchunks = (total + CHUNK_ROWS - 1) // CHUNK_ROWS
    for i in range(nchunks):
        n = min(CHUNK_ROWS, total - i * CHUNK_ROWS)
        chunk = make_chunk(size_name, total, i, n)
        pw.write_table(chunk, row_group_size=CHUNK_ROWS)
        cw.write_table(chunk)
        if not quiet:
            print(f"  {size_name}: chunk {i + 1}/{nchunks}", file=sys.stderr, flush=True)
    pw.close()
    cw.close()
    for k in p:
        os.replace(tmp[k], p[k])
    meta_path.write_text(json.dumps(meta))
    if not quiet:
        mb = sum(f.stat().st_size for f in p.values()) / 1e6
        print(f"generated {size_name} ({total:,} rows, {mb:,.0f} MB) in {time.perf_counter() - t:.1f}s",
              file=sys.stderr)
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="tiny,1m", help=f"comma list of {','.join(SIZES)}")
    ap.add_argument("--force", action="store_true", help="regenerate even if the files exist")
    a = ap.parse_args()
    for s in a.sizes.split(","):
        for fmt, f in generate(s.strip(), force=a.force).items():
            print(f"{fmt}\t{f}")


if __name__ == "__main__":
    main()
