"""A file that cannot be read is one line, ``th: error: <file>: <what>``, and exit 1: whatever its
format, whichever Parquet reader meets the defect, and also when a distributed worker meets it.
The Python exception's message is the same ``<file>: <what>`` (the CLI prints ``str(exc)``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import _parquet_surgery as surgery
from truthound.errors import SourceNotFoundError, SourceReadError
from truthound.profiler import profile

TABLE = pa.table({"n": list(range(200)), "s": [f"v{i}" for i in range(200)]})


def th(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "truthound.cli", "profile", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "COLUMNS": "100", **(env or {})})


def assert_read_error(run: subprocess.CompletedProcess[str], path: str, *needles: str) -> None:
    """One line ``th: error: <path>: <what>`` with exit 1; ``path`` exactly as given."""
    assert run.returncode == 1, run.stderr
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    prefix = f"th: error: {path}: "
    assert lines[0].startswith(prefix) and len(lines[0]) > len(prefix) + 3, lines[0]
    for bad in ("cannot read", "internal error", "Traceback"):
        assert bad not in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


def _parquet(table: pa.Table = TABLE, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **kwargs)  # type: ignore[arg-type]
    return buf.getvalue()


def _page_claims_2gib(compression: str) -> bytes:
    """A file whose first data page claims 2^31 - 1 compressed bytes."""
    parts = surgery.disassemble(_parquet(compression=compression))
    page = next(pg for pg in parts.row_groups[0][0].pages if pg.type == surgery.DATA_PAGE)
    page.header[surgery.PH_COMPRESSED] = (surgery.I32, (1 << 31) - 1)
    return surgery.assemble(parts)


def _csv_bad_row_after_first_block() -> bytes:
    """A CSV file whose columns are inferred from its first block, with a row of three fields
    after it: the reader (or a worker) meets it mid-file."""
    good = "".join(f"{i},v{i}\n" for i in range(100_000))
    return ("n,s\n" + good + "1,a,extra\n").encode()


READERS = {"engine": {}, "pyarrow": {"TRUTHOUND_PARQUET_READER": "pyarrow"}}
# (file name, its bytes, a word of the reason)
BAD_FILES: list[tuple[str, Callable[[], bytes], str]] = [
    ("garbage.parquet", lambda: b"PAR1 this is not parquet PAR1", "footer"),
    ("zstd_page.parquet", lambda: _page_claims_2gib("zstd"), "claims 2147483647 bytes"),
    ("snappy_page.parquet", lambda: _page_claims_2gib("snappy"), "claims 2147483647 bytes"),
    ("truncated.parquet", lambda: _parquet()[:-40] + _parquet()[-8:], ""),
    ("row.csv", lambda: b"a,b\n1,2\n3,4,5\n", "3"),
    ("late_row.csv", _csv_bad_row_after_first_block, "columns"),
    ("latin1.csv", lambda: "a,b\n1,caf\u00e9\n".encode("latin-1"), "not valid UTF-8"),
    ("broken.jsonl", lambda: b'{"a": 1}\n{"a": \n', ""),
    ("garbage.arrow", lambda: b"ARROW1\x00\x00 not an ipc file", ""),
    ("garbage.arrows", lambda: b"\xff\xff\xff\xff not a stream", ""),
]


# Parquet files through both readers; text and IPC files have one
CASES = [(*bad, reader) for bad in BAD_FILES for reader in READERS
         if reader == "engine" or bad[0].endswith(".parquet")]


@pytest.mark.parametrize("name,make,needle,reader", CASES, ids=[f"{c[3]}-{c[0]}" for c in CASES])
def test_a_bad_file_is_one_line_naming_it_as_given(tmp_path: Path, name: str,
                                                   make: Callable[[], bytes], needle: str,
                                                   reader: str) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_bytes(make())
    # a relative path, as typed: printed as it is, not made absolute or quoted
    assert_read_error(th(f"in/{name}", cwd=tmp_path, env=READERS[reader]), f"in/{name}", needle)
    with pytest.raises(SourceReadError) as info:
        profile(str(tmp_path / "in" / name))
    assert str(info.value).startswith(f"{tmp_path / 'in' / name}: ")


def test_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_read_error(th("missing.csv", cwd=tmp_path), "missing.csv", "no such file or directory")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceNotFoundError, match="^missing.csv: no such file or directory$"):
        profile("missing.csv")


def test_a_bad_file_in_a_directory(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    for i in range(3):
        pq.write_table(TABLE, tmp_path / "d" / f"p{i}.parquet")
    (tmp_path / "d" / "p1.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    assert_read_error(th("d", cwd=tmp_path), "d/p1.parquet")
    # a page defect found while the rows are read, not while the files are opened
    (tmp_path / "d" / "p1.parquet").write_bytes(_page_claims_2gib("zstd"))
    assert_read_error(th("d", cwd=tmp_path), "d/p1.parquet", "claims 2147483647 bytes")


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
@pytest.mark.parametrize("name,make,needle", [
    ("f2.csv", _csv_bad_row_after_first_block, "columns"),
    ("f2.parquet", lambda: _page_claims_2gib("zstd"), "claims 2147483647 bytes"),
], ids=["csv", "parquet"])
def test_a_bad_file_met_by_a_distributed_worker(tmp_path: Path, name: str,
                                                make: Callable[[], bytes], needle: str,
                                                processes: bool) -> None:
    (tmp_path / "d").mkdir()
    suffix = Path(name).suffix
    for i in range(4):
        if suffix == ".csv":
            pa_csv.write_csv(TABLE, tmp_path / "d" / f"f{i}{suffix}")
        else:
            pq.write_table(TABLE, tmp_path / "d" / f"f{i}{suffix}", compression="zstd")
    (tmp_path / "d" / name).write_bytes(make())
    args = ["d", "--distributed", "--backend", "local", "--workers", "2"]
    run = th(*args, *(["--processes"] if processes else []), cwd=tmp_path)
    assert_read_error(run, f"d/{name}", needle)
