"""Text encodings of CSV, TSV and JSON files: the ``encoding`` option, byte-order marks, the
not-UTF-8 error, and text streams transcoded to (or checked as) UTF-8.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.fs as pa_fs

from truthound.errors import ConfigurationError, SourceReadError
from truthound.profiler.sources.files import _choose_format, _resolve_many, describe_sources

_TEXT_FORMATS = ("csv", "tsv", "json")
# Byte-order marks that tell an encoding for sure (UTF-32 first: its LE mark starts like UTF-16's).
# A UTF-8 mark needs nothing: pyarrow skips it.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def encoding_name(encoding: str | None) -> str | None:
    """The codec name of the ``encoding`` option, None for UTF-8 (pyarrow's own); an unknown
    name raises ConfigurationError."""
    if encoding is None:
        return None
    if not isinstance(encoding, str) or not encoding:
        raise ConfigurationError(f"option 'encoding' must be a codec name, got {encoding!r}")
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise ConfigurationError(
            f"option 'encoding' names no known text encoding: {encoding!r} (try latin-1, cp1252, "
            "utf-16)"
        ) from exc
    return None if name in ("utf-8", "utf-8-sig") else name


def _byte_order_mark(path: str, filesystem: pa_fs.FileSystem | None = None) -> str | None:
    fs = filesystem if filesystem is not None else pa_fs.LocalFileSystem()
    try:
        with fs.open_input_stream(path, compression="detect") as f:
            head = f.read(4)
    except (pa.ArrowException, OSError):
        return None  # the reader names the file when it fails
    for mark, name in _BOMS:
        if head.startswith(mark):
            return name
    return None


def _not_utf8_message(path: str, column: str | None = None) -> str:
    where = f" (column {column!r})" if column else ""
    return (f"{path}: not valid UTF-8 text{where}; pass its encoding: encoding='latin-1' "
            "(th profile --encoding latin-1), or cp1252, utf-16, ...")


def text_encoding(
    paths: Sequence[str], fmt: str | None, encoding: str | None
) -> tuple[str | None, str]:
    """The encoding to read the text files of ``paths`` with (None: UTF-8) and a note for the
    profile's source: when no encoding is given and every file starts with the same UTF-16 or
    UTF-32 byte-order mark, that encoding, reported as detected. Other files that are not UTF-8
    fail while they are read, with an error that says to pass the encoding."""
    name = encoding_name(encoding)
    local = [p for p in paths if "://" not in p or p.startswith("file://")]
    if len(local) != len(paths):
        if encoding is not None and fmt is not None and fmt not in _TEXT_FORMATS:
            raise ConfigurationError("option 'encoding' applies to CSV, TSV and JSON files")
        return name, ""
    files = _resolve_many(paths)
    chosen, files = _choose_format(files, describe_sources(paths), fmt)
    if chosen not in _TEXT_FORMATS:
        if encoding is not None:
            raise ConfigurationError(
                f"option 'encoding' applies to CSV, TSV and JSON files, not {chosen}")
        return None, ""
    if encoding is not None:
        return name, ""
    marks = {f: _byte_order_mark(f) for f in files}
    found = set(marks.values())
    if found == {None}:
        return None, ""
    if len(found) > 1:
        marked = next(f for f, m in marks.items() if m is not None)
        plain = next(f for f, m in marks.items() if m != marks[marked])
        raise SourceReadError(
            f"{marked}: starts with a {marks[marked]} byte-order mark but {plain} does not; "
            "pass the encoding (encoding=, th profile --encoding) or profile them apart"
        )
    (detected,) = found
    assert detected is not None
    return detected, f" (encoding {detected}, detected from the byte-order mark)"


class _Utf8Checked(io.RawIOBase):
    """A binary stream that passes bytes through and fails when they are not UTF-8 (pyarrow's JSON
    reader would put U+FFFD in place of each bad byte, silently)."""

    def __init__(self, raw: Any, path: str) -> None:
        super().__init__()
        self._raw = raw
        self._path = path
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(size if size is not None and size >= 0 else -1)
        try:
            self._decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise SourceReadError(_not_utf8_message(self._path)) from None
        return bytes(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _text_stream(filesystem: pa_fs.FileSystem, path: str, encoding: str | None) -> Any:
    """A (decompressed) text file as UTF-8 bytes: transcoded from ``encoding``, or checked."""
    raw = filesystem.open_input_stream(path, compression="detect")
    if encoding is not None:
        return pa.transcoding_input_stream(raw, encoding, "utf-8")
    return _Utf8Checked(raw, path)
