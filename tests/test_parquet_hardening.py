"""No abort, no silent misread, no huge allocation on any Parquet file.

- The files of apache/parquet-testing (tests/data/parquet-testing, see its NOTICE): every valid
  file pyarrow reads gives pyarrow's row count, null counts, min and max through both readers
  (the engine's and TRUTHOUND_PARQUET_READER=pyarrow); every malformed one a clean error.
- Minimized regression files, one per class of defect found, written by _parquet_surgery.
- A seeded mutation fuzz (slow): mutants of small files run through ``th profile`` in
  subprocesses: no signal, no hang, no error that is not a clean ``th: error:`` line, bounded
  memory.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import _parquet_surgery as surgery
from truthound.errors import SourceReadError
from truthound.profiler import profile

CORPUS = Path(__file__).resolve().parent / "data" / "parquet-testing"
# 4 KB that decode to over 2 GiB of strings: pyarrow takes 4.3 GB and 14 s to refuse it
_HUGE_DECODED = {"large_string_map.brotli.parquet"}
VALID = [pytest.param(p, marks=pytest.mark.slow) if p.name in _HUGE_DECODED else p
         for p in sorted((CORPUS / "data").glob("*.parquet"))]
MALFORMED = sorted((CORPUS / "bad_data").glob("*.parquet"))
READERS = ["engine", "pyarrow"]


def _pyarrow_table(path: Path) -> pa.Table | None:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError):
        return None


def _scalar(v: Any) -> Any:
    if isinstance(v, float) and v == 0.0:
        return 0.0  # -0.0 and 0.0 are one value
    return v


def _expected_min_max(column: pa.ChunkedArray) -> tuple[Any, Any] | None:
    """pyarrow's min and max of a column whose profile reports them as plain numbers or text."""
    t = column.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_string(t)
            or pa.types.is_large_string(t)) or pa.types.is_float16(t):
        return None
    if pa.types.is_floating(t):
        column = pc.filter(column, pc.invert(pc.is_nan(column)))
        column = pc.filter(column, pc.invert(pc.is_inf(column)))
    mm = pc.min_max(column)
    return _scalar(mm["min"].as_py()), _scalar(mm["max"].as_py())


@pytest.fixture(params=READERS)
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pyarrow":
        monkeypatch.setenv("TRUTHOUND_PARQUET_READER", "pyarrow")
    else:
        monkeypatch.delenv("TRUTHOUND_PARQUET_READER", raising=False)
    return str(request.param)


def test_corpus_is_there() -> None:
    assert len(list((CORPUS / "data").glob("*.parquet"))) > 60 and len(MALFORMED) >= 8, "tests/data/parquet-testing is incomplete"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_files_agree_with_pyarrow(path: Path, reader: str) -> None:
    table = _pyarrow_table(path)
    if table is None:  # pyarrow refuses it too (e.g. a map with a nullable key): a clean error
        with pytest.raises(SourceReadError, match=path.name):
            profile(str(path))
        return
    try:
        result = profile(str(path))
    except SourceReadError as exc:
        pytest.fail(f"{path.name}: pyarrow reads it, truthound says {exc}")
    assert result.row_count == table.num_rows
    for field in table.schema:
        if pa.types.is_nested(field.type):
            continue  # profiled as parent.child leaves or lists: counts checked above
        column = result[field.name]
        assert column.row_count == table.num_rows, field.name
        assert column.null_count == table.column(field.name).null_count, field.name
        expected = _expected_min_max(table.column(field.name))
        if expected is None or expected == (None, None):
            continue
        got = (_scalar(column.min), _scalar(column.max))
        if pa.types.is_floating(field.type):
            assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(got, expected)), field.name
        else:
            assert got == expected, field.name


def _th(path: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    # the peak RSS of this process image (VmHWM; ru_maxrss would include the forking parent's)
    code = ("import sys\n"
            "from truthound.cli import main\n"
            "try:\n    main(sys.argv[1:])\n"
            "finally:\n"
            "    hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
            "    sys.stderr.write(f'\\nmaxrss={hwm[0]}')\n")
    return subprocess.run([sys.executable, "-c", code, "profile", str(path), "-f", "json", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _clean(run: subprocess.CompletedProcess[str], path: Path) -> tuple[bool, int]:
    """(ran cleanly: a profile, or one ``th: error:`` line naming the file with exit 1; peak
    RSS in KiB)."""
    at = run.stderr.rfind("\nmaxrss=")
    rss = int(run.stderr[at + 8:]) if at >= 0 else -1
    if run.returncode == 0:
        return True, rss
    message = run.stderr[:at].strip() if at >= 0 else run.stderr.strip()
    ok = (run.returncode == 1 and message.startswith("th: error: ") and path.name in message
          and "internal error" not in message and message.count("\n") == 0)
    return ok, rss


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
@pytest.mark.parametrize("which", READERS)
def test_malformed_files_give_a_clean_error(path: Path, which: str) -> None:
    env = {"TRUTHOUND_PARQUET_READER": "pyarrow"} if which == "pyarrow" else {}
    run = _th(path, env=env)
    ok, _rss = _clean(run, path)
    assert ok and run.returncode in (0, 1), (run.returncode, run.stderr)
    if _pyarrow_table(path) is None:
        assert run.returncode == 1, "pyarrow refuses it: a profile would be of made-up values"


# --------------------------------------------------------------------- minimized regressions

def _write(table: pa.Table, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **kwargs)
    return buf.getvalue()


_TABLE = pa.table({"a": pa.array([1, 2, None, 4] * 10, pa.int64()),
                   "s": pa.array(["x", "y", None, "zz"] * 10)})


def _mutated(edit: Callable[[surgery.ParquetParts], None], data: bytes | None = None,
             recompute: bool = True) -> bytes:
    parts = surgery.disassemble(data if data is not None else _write(_TABLE))
    edit(parts)
    return surgery.assemble(parts, recompute=recompute)


def _codec_out_of_range(p: surgery.ParquetParts) -> None:
    p.row_groups[0][0].column_meta[surgery.CMD_CODEC] = (surgery.I32, 99)


def _level_histogram_mismatch(p: surgery.ParquetParts) -> None:
    p.row_groups[0][0].column_meta[surgery.CMD_SIZE_STATISTICS] = (
        surgery.STRUCT, {3: (surgery.LIST, (surgery.I64, [1, 2, 3, 4, 5]))})


def _negative_chunk_size(p: surgery.ParquetParts) -> None:
    p.row_groups[0][0].column_meta[surgery.CMD_COMPRESSED] = (surgery.I64, -5)


def _negative_rows(p: surgery.ParquetParts) -> None:
    surgery.row_group(p, 0)[surgery.RG_NUM_ROWS] = (surgery.I64, -1)
    p.footer[surgery.FMD_NUM_ROWS] = (surgery.I64, -1)


def _values_not_rows(p: surgery.ParquetParts) -> None:
    p.row_groups[0][0].column_meta[surgery.CMD_NUM_VALUES] = (surgery.I64, 41)


def _huge_dictionary(p: surgery.ParquetParts) -> None:
    surgery.sub_header(p.row_groups[0][0].pages[0])[1] = (surgery.I32, 1 << 28)


def _second_dictionary(p: surgery.ParquetParts) -> None:
    pages = p.row_groups[0][0].pages
    first = pages[0]
    other = surgery.Page(dict(first.header), b"".join(
        len(v).to_bytes(4, "little") + v for v in (b"q", b"r", b"s", b"t")))
    data = [pg for pg in pages if pg.type == surgery.DATA_PAGE]
    p.row_groups[0][0].pages = [first, data[0], other, *data[1:]]


def _huge_page(p: surgery.ParquetParts) -> None:
    page = next(pg for pg in p.row_groups[0][0].pages if pg.type == surgery.DATA_PAGE)
    page.header[surgery.PH_UNCOMPRESSED] = (surgery.I32, (1 << 31) - 1)


def _claim(field: int) -> Callable[[surgery.ParquetParts], None]:
    """An edit: the first data page claims 2^31 - 1 bytes (compressed or uncompressed size)."""
    def edit(p: surgery.ParquetParts) -> None:
        page = next(pg for pg in p.row_groups[0][0].pages if pg.type == surgery.DATA_PAGE)
        page.header[field] = (surgery.I32, (1 << 31) - 1)
    return edit


def _zstd(field: int) -> bytes:
    """A zstd file (the engine's reader leaves it to pyarrow) whose data page claims 2 GiB: the
    minimized fuzz mutant of seed 7 (mutant 268), on which pyarrow allocated 2.2 GB."""
    return _mutated(_claim(field), _write(_TABLE, compression="zstd"))


_STRINGS = pa.table({"s": pa.array(["a", "b", "c", "d"] * 5)})
# (name, file bytes, must fail): a file pyarrow refuses must fail; one it reads may be profiled
REGRESSIONS: list[tuple[str, Callable[[], bytes], bool]] = [
    ("codec_out_of_range", lambda: _mutated(_codec_out_of_range), True),
    ("level_histogram_mismatch", lambda: _mutated(_level_histogram_mismatch), False),
    ("negative_chunk_size", lambda: _mutated(_negative_chunk_size, recompute=False), True),
    ("negative_rows", lambda: _mutated(_negative_rows), True),
    ("values_not_rows", lambda: _mutated(_values_not_rows), False),
    ("huge_dictionary", lambda: _mutated(
        _huge_dictionary, _write(pa.table({"s": ["x"]}), compression="none")), True),
    ("huge_snappy_page", lambda: _mutated(_huge_page), True),
    ("huge_zstd_page", lambda: _zstd(surgery.PH_COMPRESSED), True),
    ("huge_zstd_page_uncompressed", lambda: _zstd(surgery.PH_UNCOMPRESSED), True),
    ("second_dictionary", lambda: _mutated(
        _second_dictionary, _write(_STRINGS, data_page_size=1, write_batch_size=10,
                                   compression="none")), True),
    ("duplicate_names", lambda: _write(pa.Table.from_arrays(
        [pa.array([1, 2]), pa.array([3, 4])], names=["x", "x"])), True),
]


@pytest.mark.parametrize("name,make,must_fail", REGRESSIONS, ids=[r[0] for r in REGRESSIONS])
@pytest.mark.parametrize("which", READERS)
def test_regression_files(tmp_path: Path, name: str, make: Callable[[], bytes], must_fail: bool,
                          which: str) -> None:
    path = tmp_path / f"{name}.parquet"
    path.write_bytes(make())
    env = {"TRUTHOUND_PARQUET_READER": "pyarrow"} if which == "pyarrow" else {}
    run = _th(path, env=env)
    ok, rss = _clean(run, path)
    assert ok, (run.returncode, run.stderr)
    assert not must_fail or run.returncode == 1, run.stdout[:300]
    assert 0 < rss < 400 * 1024, f"peak RSS {rss} KiB"


def test_second_dictionary_is_never_profiled(tmp_path: Path) -> None:
    """The engine's reader relabelled every row after a second dictionary page (min/max and
    top values of values not in the file); it refuses it, as pyarrow does."""
    path = tmp_path / "two.parquet"
    path.write_bytes(_mutated(_second_dictionary, _write(
        _STRINGS, data_page_size=1, write_batch_size=10, compression="none")))
    with pytest.raises(SourceReadError, match="more than one dictionary"):
        profile(str(path))


@pytest.mark.parametrize("field,needle", [
    (surgery.PH_COMPRESSED, "claims 2147483647 bytes, and 29 bytes of its column chunk are left"),
    (surgery.PH_UNCOMPRESSED, "claims 2147483647 bytes uncompressed from 29 bytes of zstd"),
])
@pytest.mark.parametrize("which", READERS)
def test_page_sizes_are_checked_before_pyarrow_reads(
        tmp_path: Path, field: int, needle: str, which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow allocates what a page header claims: the engine walks the page headers of a file
    it leaves to pyarrow and refuses a page its chunk or its codec cannot hold."""
    if which == "pyarrow":
        monkeypatch.setenv("TRUTHOUND_PARQUET_READER", "pyarrow")
    path = tmp_path / "claims.parquet"
    path.write_bytes(_zstd(field))
    with pytest.raises(SourceReadError) as info:
        profile(str(path))
    assert str(info.value).startswith(f"{path}: row group 0, column 'a': the page at byte ")
    assert needle in str(info.value)


def test_uncompressed_pages_may_claim_any_uncompressed_size(tmp_path: Path) -> None:
    """pyarrow ignores the uncompressed size of an UNCOMPRESSED page (it allocates nothing by it)
    and reads the file: so does truthound, through either reader."""
    path = tmp_path / "plain.parquet"
    path.write_bytes(_mutated(_claim(surgery.PH_UNCOMPRESSED), _write(_TABLE, compression="none")))
    assert pq.read_table(path).num_rows == 40
    for reader in ("engine", "pyarrow"):
        run = _th(path, env={"TRUTHOUND_PARQUET_READER": reader})
        assert run.returncode == 0, (reader, run.stderr)
        assert json.loads(run.stdout)["row_count"] == 40


@pytest.mark.parametrize("lines,needle", [
    ([json.dumps({"a": json.loads("[" * 200 + "1" + "]" * 200)})], "nested too deeply"),
    (['{"a.b": 1, "a": {"b": 2}}'], "two columns are named 'a.b'"),
])
def test_json_lines_errors_name_the_file(tmp_path: Path, lines: list[str], needle: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run = _th(path)
    assert run.returncode == 1 and "th: error: " in run.stderr and "bad.jsonl" in run.stderr
    assert needle in run.stderr


# --------------------------------------------------------------------------- mutation fuzz

def _seeds() -> list[bytes]:
    """Small files of every layout the engine's reader reads (and some it leaves to pyarrow)."""
    rng = random.Random(11)
    n = 300
    table = pa.table({
        "i": pa.array([rng.randint(-50, 50) if rng.random() > 0.1 else None for _ in range(n)],
                      pa.int64()),
        "f": pa.array([rng.random() for _ in range(n)], pa.float64()),
        "s": pa.array([rng.choice(["a", "bb", "", None, "ccc"]) for _ in range(n)]),
        "b": pa.array([rng.random() < 0.5 for _ in range(n)]),
        "d": pa.array([rng.randint(0, 9) for _ in range(n)], pa.int32()),
    })
    out = []
    for compression in ("none", "snappy"):
        for version in ("1.0", "2.0"):
            out.append(_write(table, compression=compression, data_page_version=version,
                              data_page_size=512, row_group_size=150))
    out.append(_write(table, compression="zstd"))
    return out


_HUGE = [-1, -(1 << 31), (1 << 31) - 1, 1 << 28, (1 << 62), -(1 << 62), 0]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:  # bit flips anywhere
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 1:  # overwrite a run of bytes
        b = bytearray(data)
        i = rng.randrange(len(b))
        for k in range(i, min(len(b), i + rng.randint(1, 16))):
            b[k] = rng.randrange(256)
        return bytes(b)
    if kind == 2:  # truncate
        return data[:rng.randrange(len(data))]
    parts = surgery.disassemble(data)
    chunk = rng.choice(rng.choice(parts.row_groups))
    if kind == 3:  # a page header's size or count
        page = rng.choice(chunk.pages)
        if rng.random() < 0.5:
            page.header[rng.choice([surgery.PH_UNCOMPRESSED, surgery.PH_COMPRESSED])] = (
                surgery.I32, rng.choice([v for v in _HUGE if abs(v) < 1 << 31]))
        else:
            surgery.sub_header(page)[rng.randint(1, 6)] = (
                surgery.I32, rng.choice([v for v in _HUGE if abs(v) < 1 << 31]))
        return surgery.assemble(parts, recompute=rng.random() < 0.8)
    if kind == 4:  # the footer's chunk metadata (offsets recomputed first, then overwritten)
        data2 = surgery.assemble(parts)
        parts = surgery.disassemble(data2)
        chunk = rng.choice(rng.choice(parts.row_groups))
        fid = rng.choice([surgery.CMD_NUM_VALUES, surgery.CMD_COMPRESSED, surgery.CMD_DATA_PAGE_OFFSET,
                          surgery.CMD_DICTIONARY_PAGE_OFFSET, surgery.CMD_UNCOMPRESSED])
        if rng.random() < 0.3:
            chunk.column_meta[surgery.CMD_CODEC] = (surgery.I32, rng.choice([-1, 7, 99, 1 << 30]))
        else:
            chunk.column_meta[fid] = (surgery.I64, rng.choice(_HUGE + [rng.randrange(len(data))]))
        return surgery.assemble(parts, recompute=False)
    # a page body's bytes changed, offsets recomputed so the mutant reaches the page
    page = rng.choice(chunk.pages)
    body = bytearray(page.body)
    if body:
        for _ in range(rng.randint(1, 4)):
            body[rng.randrange(len(body))] = rng.randrange(256)
    page.body = bytes(body[:rng.randint(0, len(body))] if rng.random() < 0.2 else body)
    return surgery.assemble(parts)


def run_fuzz(count: int, seed: int, workdir: Path, env: dict[str, str] | None = None,
             timeout: float = 30) -> list[str]:
    """Runs ``count`` mutants through ``th profile``; returns the failures (empty when clean)."""
    rng = random.Random(seed)
    seeds = _seeds()
    failures = []
    for k in range(count):
        data = _mutate(rng.choice(seeds), rng)
        path = workdir / f"mutant{k}.parquet"
        path.write_bytes(data)
        which = {"TRUTHOUND_PARQUET_READER": "pyarrow"} if k % 4 == 3 else {}
        try:
            run = _th(path, env={**(env or {}), **which}, timeout=timeout)
        except subprocess.TimeoutExpired:
            failures.append(f"{path}: hang")
            continue
        ok, rss = _clean(run, path)
        if not ok or run.returncode < 0 or rss > 600 * 1024:
            keep = workdir / f"failed{k}.parquet"
            keep.write_bytes(data)
            failures.append(f"{keep}: rc={run.returncode} rss={rss} {run.stderr.strip()[-300:]}")
        else:
            path.unlink()
    return failures


@pytest.mark.slow
def test_mutation_fuzz(tmp_path: Path) -> None:
    count = int(os.environ.get("TRUTHOUND_FUZZ_COUNT", "150"))
    failures = run_fuzz(count, seed=int(os.environ.get("TRUTHOUND_FUZZ_SEED", "1")),
                        workdir=tmp_path)
    assert not failures, "\n".join(failures)

