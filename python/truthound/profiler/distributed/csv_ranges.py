"""Cutting a local CSV file into byte ranges that start at record starts, and reading one.

A worker reads the lines whose first byte falls in its range. Files with quoted fields are cut
only where the number of '"' bytes before the cut is even (RFC 4180 escapes a quote by doubling
it, which keeps the parity), so a newline inside quotes never starts a range.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs  # noqa: F401 - pa.fs.LocalFileSystem below

from truthound.errors import SourceReadError, one_line
from truthound.profiler.sources.files import _split_compression

__all__ = ["CSV_MAX_RANGE_BYTES", "CSV_MIN_RANGE_BYTES", "csv_ranges", "csv_range_bytes",
           "splits_at_newlines"]

# CSV files larger than this are split into byte ranges.
CSV_MAX_RANGE_BYTES = 64 * 1024 * 1024
CSV_MIN_RANGE_BYTES = 1 * 1024 * 1024

_SCAN_BYTES = 1 << 24  # read size when scanning a CSV file for quotes
_MAX_RECORD_BYTES = 1 << 24  # a quoted CSV record longer than this: the file is not split


def csv_ranges(path: str, fs: Any, range_bytes: int) -> list[tuple[int, int]] | None:
    """Byte ranges of a plain local CSV file after its header, or None to read it whole.

    A worker reads the lines whose first byte falls in its range. In a file with quoted fields a
    newline inside quotes does not end a record, so each range then starts at a record start: a
    newline preceded by an even number of '"' bytes (RFC 4180 escapes a quote by doubling it,
    which keeps the parity). The file is scanned with reads of 16 MiB, not mapped: a mapping
    would count the whole file in the process's resident memory."""
    if not isinstance(fs, pa.fs.LocalFileSystem) or _split_compression(path) != path.lower():
        return None
    try:
        size = os.path.getsize(path)
        if size <= range_bytes:
            return None
        fd = os.open(path, os.O_RDONLY)
        try:
            head = os.pread(fd, min(size, 1 << 20), 0)
            header_end = head.find(b"\n")
            if header_end < 0 or head[:header_end].count(b'"') % 2:
                return None
            start = header_end + 1
            if _has_quote(fd, start, size):
                return _quoted_csv_ranges(fd, start, size, range_bytes)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SourceReadError(f"{path}: {one_line(exc)}") from exc
    ranges = []
    while start < size:
        end = min(size, start + range_bytes)
        ranges.append((start, end))
        start = end
    return ranges


def _has_quote(fd: int, start: int, size: int) -> bool:
    pos = start
    while pos < size:
        chunk = os.pread(fd, min(_SCAN_BYTES, size - pos), pos)
        if not chunk:
            return False
        if b'"' in chunk:
            return True
        pos += len(chunk)
    return False


def _quoted_csv_ranges(
    fd: int, start: int, size: int, range_bytes: int
) -> list[tuple[int, int]] | None:
    """Ranges of about ``range_bytes`` from ``start`` (a record start) that each begin at a record
    start, by the parity of the '"' bytes before each candidate newline."""
    from concurrent.futures import ThreadPoolExecutor

    def quotes(lo: int, hi: int) -> int:
        n, pos = 0, lo
        while pos < hi:  # os.pread and pyarrow's kernels release the GIL: blocks count in parallel
            chunk = os.pread(fd, min(_SCAN_BYTES, hi - pos), pos)
            if not chunk:
                break
            chars = pa.Array.from_buffers(pa.uint8(), len(chunk), [None, pa.py_buffer(chunk)])
            n += pc.sum(pc.equal(chars, 34)).as_py() or 0
            pos += len(chunk)
        return n

    def record_end(p: int, parity: int) -> int:
        """The first record start after a newline at or after ``p``, where ``parity`` is that
        of the quotes in [start, p); -1 if the file ends first, -2 if none comes within
        _MAX_RECORD_BYTES (unbalanced quotes, or records that long: the file is read whole)."""
        limit = min(size, p + _MAX_RECORD_BYTES)
        while p < limit:
            chunk = os.pread(fd, min(1 << 16, size - p), p)
            if not chunk:
                return -1
            i = 0
            while (nl := chunk.find(b"\n", i)) >= 0:
                parity ^= chunk.count(b'"', i, nl + 1) & 1
                if parity == 0:
                    return p + nl + 1
                i = nl + 1
            parity ^= chunk.count(b'"', i) & 1
            p += len(chunk)
        return -1 if p >= size else -2

    bounds = list(range(start, size, range_bytes)) + [size]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = list(pool.map(quotes, bounds[:-1], bounds[1:]))
    ranges: list[tuple[int, int]] = []
    lo, parity = start, 0  # parity of the quotes in [start, bound): positional, whatever the cuts
    for bound, count in zip(bounds[1:-1], counts):
        parity ^= count & 1
        cut = record_end(bound, parity)
        if cut == -2:
            return None
        if cut < 0 or cut >= size:
            break
        if cut > lo:
            ranges.append((lo, cut))
            lo = cut
    ranges.append((lo, size))
    return ranges


def splits_at_newlines(encoding: str | None) -> bool:
    """Can a file in ``encoding`` be cut at its newline bytes (ASCII-compatible encodings)?"""
    return encoding is None or "\n\",".encode(encoding, errors="replace") == b'\n",'



def csv_range_bytes(f: Any, start: int, end: int, size: int) -> Any:
    """The lines whose first byte is in ``[start, end)`` (``start`` > 0: after the header), as a
    buffer (no copy when the range ends with a line)."""
    pos = start - 1
    head = f.read_at(end - pos, pos)
    nl = head.find(b"\n")
    if nl < 0 or pos + nl + 1 >= end:
        return b""
    if head.endswith(b"\n"):
        return memoryview(head)[nl + 1 :]
    data = [head[nl + 1 :]]
    p = end
    while p < size:  # the last line runs past the range: read up to its end
        chunk = f.read_at(min(1 << 16, size - p), p)
        if not chunk:
            break
        i = chunk.find(b"\n")
        if i >= 0:
            data.append(chunk[: i + 1])
            break
        data.append(chunk)
        p += len(chunk)
    return b"".join(data)
