"""Local file resolution: paths, globs and directories to files, file formats from extensions
(behind compression suffixes), several sources as one table, and the input-format errors.
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.csv as pa_csv

from truthound.errors import (
    ConfigurationError,
    SourceNotFoundError,
    SourceReadError,
    TruthoundError,
)
from truthound.profiler.sources.base import ds

# Compression suffixes that pyarrow detects from the file name and decompresses while reading.
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".lz4", ".br")

# Extension (lower case, without compression suffix) -> format name.
FILE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
    ".arrows": "ipc_stream",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
_FORMAT_NAMES = frozenset(FILE_FORMATS.values())

# Directory entries that are never data (Spark/Hadoop markers, checksums, hidden files).
_IGNORED_PREFIXES = (".", "_")


def _split_compression(name: str) -> str:
    lower = name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        if lower.endswith(suffix):
            return lower[: -len(suffix)]
    return lower


def format_of(path: str) -> str | None:
    """The file format of a path from its extension (case-insensitive), or None."""
    return FILE_FORMATS.get(os.path.splitext(_split_compression(os.path.basename(path)))[1])


def _file_format(
    fmt: str, column_types: dict[str, pa.DataType] | None = None, encoding: str | None = None
) -> ds.FileFormat:
    # Empty fields (and pyarrow's usual null spellings) are nulls in every column, strings
    # included, as in pandas and polars.
    convert = pa_csv.ConvertOptions(strings_can_be_null=True, column_types=column_types or {})
    read = pa_csv.ReadOptions(encoding=encoding or "utf8")
    if fmt == "csv":
        return ds.CsvFileFormat(convert_options=convert, read_options=read)
    if fmt == "tsv":
        return ds.CsvFileFormat(
            parse_options=pa_csv.ParseOptions(delimiter="\t"), convert_options=convert,
            read_options=read,
        )
    if fmt == "parquet":
        return ds.ParquetFileFormat()
    if fmt == "ipc":
        return ds.IpcFileFormat()
    if fmt == "json":
        return ds.JsonFileFormat()
    raise ConfigurationError(
        f"option 'format' must be one of {', '.join(sorted(_FORMAT_NAMES))}, got {fmt!r}"
    )


def _is_data_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(_IGNORED_PREFIXES)


def _glob_base(pattern: str) -> str:
    """The directory part of a glob before its first wildcard (the hive partition base)."""
    parts = Path(pattern).parts
    base: list[str] = []
    for part in parts:
        if _glob.has_magic(part):
            break
        base.append(part)
    return str(Path(*base)) if base else "."


def _resolve_files(source: str) -> tuple[list[str], str | None, str]:
    """(files, partition base directory, description) of a path, glob or directory."""
    path = Path(source).expanduser()
    if _glob.has_magic(source):
        files = sorted(
            p for p in _glob.glob(str(path), recursive=True) if _is_data_file(Path(p))
        )
        if not files:
            raise SourceNotFoundError(f"{source}: no file matches")
        return files, _glob_base(str(path)), source
    if path.is_dir():
        files = sorted(
            str(p)
            for p in path.rglob("*")
            if _is_data_file(p)
            and not any(part.startswith(_IGNORED_PREFIXES) for part in p.relative_to(path).parts)
        )
        if not files:
            raise SourceNotFoundError(f"{source}: a directory that holds no data file")
        return files, str(path), source
    if path.is_file():
        return [str(path)], None, source
    if path.exists():
        raise SourceReadError(f"{source}: neither a file nor a directory")
    raise SourceNotFoundError(f"{source}: no such file or directory")


def path_sources(source: Any) -> list[str] | None:
    """The paths of a file source: a path, glob or directory (str or os.PathLike), or a non-empty
    list or tuple of them (several sources profiled as one table, as ``th profile a.csv b.csv``
    gives); None for anything else."""
    if isinstance(source, (str, os.PathLike)):
        return [os.fsdecode(os.fspath(source))]
    if isinstance(source, (list, tuple)) and source and all(
        isinstance(s, (str, os.PathLike)) for s in source
    ):
        return [os.fsdecode(os.fspath(s)) for s in source]
    return None


def describe_sources(paths: Sequence[str]) -> str:
    """The profile's ``source`` text for one or several paths."""
    if len(paths) <= 3:
        return ", ".join(paths)
    return f"{paths[0]}, {paths[1]}, ... {paths[-1]} ({len(paths)} sources)"


def _resolve_many(paths: Sequence[str]) -> list[str]:
    """The files of several local paths, globs or directories, in the order given, each once."""
    files: dict[str, None] = {}
    for source in paths:
        if "://" in source and not source.startswith("file://"):
            raise SourceReadError(
                f"{source}: several sources are read from local paths only; profile a URI alone"
            )
        local = source[len("file://") :] if source.startswith("file://") else source
        for f in _resolve_files(local)[0]:
            files.setdefault(f, None)
    return list(files)


_E = TypeVar("_E", bound=TruthoundError)


def _braces(text: str) -> str:
    """``text`` for a template of :func:`_input_format_error` (a path may hold braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def _input_format_error(cls: type[_E], template: str, value: str | None = None) -> _E:
    """An error whose message names the input format option: ``{option}`` in ``template`` is
    ``format=`` (``format='csv'`` with a ``value``) for Python and ``--input-format`` (``--input-format
    csv``) in the message the CLI shows."""
    python = "format=" if value is None else f"format={value!r}"
    cli = "--input-format" if value is None else f"--input-format {value}"
    exc = cls(template.format(option=python))
    exc.cli_message = template.format(option=cli)
    return exc


def _choose_format(files: list[str], source: str, fmt: str | None) -> tuple[str, list[str]]:
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in _FORMAT_NAMES:
            raise ConfigurationError(
                f"option 'format' must be one of {', '.join(sorted(_FORMAT_NAMES))}, got {fmt!r}"
            )
        if len(files) == 1:
            return fmt, files
        return fmt, [f for f in files if format_of(f) in (fmt, None)] or files
    by_format: dict[str, list[str]] = {}
    unknown: list[str] = []
    for f in files:
        detected = format_of(f)
        if detected is None:
            unknown.append(f)
        else:
            by_format.setdefault(detected, []).append(f)
    if not by_format:
        raise _input_format_error(
            SourceReadError,
            f"{_braces(unknown[0])}: cannot tell the format from its extension; use one of "
            + ", ".join(sorted(FILE_FORMATS))
            + " (optionally compressed: .gz, .bz2, .zst, .lz4) or pass {option}",
        )
    if len(by_format) > 1:
        found = ", ".join(sorted(by_format))
        raise _input_format_error(
            SourceReadError,
            f"{_braces(source)}: mixes file formats ({found}); pass {{option}} to choose one",
        )
    ((detected, chosen),) = by_format.items()
    return detected, chosen
