"""A per-file cache of partial profiles: profile a folder again, re-reading only what changed.

``profile_cached(source, cache_dir, **options)`` profiles each file of ``source`` on its own,
saves its mergeable profile in ``cache_dir`` keyed by the file's absolute path, size,
modification time and the profile options, and merges the files' profiles in file order. A
later run loads the saved profiles of files whose key still matches and profiles only new or
changed ones. The spec's "Caching" next step; the merge is the engine's, as for any partitioning.

Cache entries are named ``<hash of path and options>-<hash of size and mtime>.thp``; writing a
file's new entry removes its older ones (same path and options), so the cache holds one entry per
file and option set. Entries are written atomically; an entry that does not load (truncated,
from another format version) is profiled again and replaced.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truthound import _core
from truthound.errors import ConfigurationError, CorruptProfileError
from truthound.profiler.api import ALERT_OPTIONS
from truthound.profiler.model import TableProfile

__all__ = ["CacheStats", "profile_cached"]

# Options that change what a file's profile holds; progress, workers and monitors do not.
_KEY_OPTIONS = ("columns", "top_n", "histogram_bins", "patterns", "pattern_threshold",
                "correlations", "format", "encoding", "pattern_samples", "hll_precision", "kll_k",
                "frequent_items_capacity", "duplicate_exact_limit", "batch_size",
                # a reused file's saved profile reports with the thresholds it was made with
                *sorted(ALERT_OPTIONS))


@dataclass(frozen=True)
class CacheStats:
    """How a cached run went: files in the source, and how many came from the cache."""

    files: int
    reused: int

    @property
    def profiled(self) -> int:
        """Files read and profiled in this run (new or changed)."""
        return self.files - self.reused


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _files(paths: list[str]) -> list[str]:
    from truthound.profiler.sources.files import _resolve_many

    files = _resolve_many(paths)
    for f in files:
        if any("=" in part for part in Path(f).parts):
            raise ConfigurationError(
                f"--cache: {f} is in a hive partition folder, whose columns come from the path; "
                "the per-file cache profiles files one by one and cannot add them yet"
            )
    return files


def profile_cached(
    source: str | list[str], cache_dir: str | os.PathLike[str], *,
    num_workers: int | None = None, **options: Any
) -> tuple[TableProfile, CacheStats]:
    """Profile the files of ``source`` (paths, globs or directories) through the per-file cache
    in ``cache_dir`` (created when missing); ``options`` as for
    :func:`truthound.profiler.profile`. New and changed files are profiled on ``num_workers``
    threads (default: as ``profile``), one file per thread while there are several. Returns the
    merged profile and the cache statistics."""
    from concurrent.futures import ThreadPoolExecutor

    from truthound.profiler.api import profile
    from truthound.profiler.distributed.config import check_num_workers
    from truthound.profiler.distributed.merger import ProfileMerger
    from truthound.profiler.saved import write_bytes_atomic
    from truthound.profiler.sources.files import describe_sources

    workers = check_num_workers(num_workers)

    paths = [source] if isinstance(source, str) else list(source)
    cache = Path(cache_dir)
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"--cache {cache_dir}: cannot create the folder: {exc.strerror}") from exc
    if not cache.is_dir():
        raise ConfigurationError(f"--cache {cache_dir}: not a folder")
    key_options = {k: options.get(k) for k in _KEY_OPTIONS}
    per_file = {k: v for k, v in options.items() if k not in ("progress", "monitor")}
    files = _files(paths)
    parts: list[TableProfile | None] = [None] * len(files)
    missing: list[tuple[int, str, Path]] = []  # (position, file, its cache entry)
    for i, f in enumerate(files):
        st = os.stat(f)
        stem = _digest({"path": os.path.abspath(f), "options": key_options,
                        "engine": _core.FORMAT_VERSION})
        entry = cache / f"{stem}-{_digest([st.st_size, st.st_mtime_ns])}.thp"
        if entry.is_file():
            try:
                parts[i] = TableProfile.from_bytes(entry.read_bytes())
                continue
            except CorruptProfileError:
                pass
        missing.append((i, f, entry))

    per_thread = workers if len(missing) == 1 else 1

    def refresh(item: tuple[int, str, Path]) -> TableProfile:
        _, f, entry = item
        part = profile(f, num_workers=per_thread, **per_file)
        stem = entry.name.split("-")[0]
        for old in glob.glob(os.path.join(glob.escape(str(cache)), f"{stem}-*.thp")):
            if old != str(entry):
                os.unlink(old)
        write_bytes_atomic(entry, part.to_bytes())
        return part

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(missing)))) as pool:
        for (i, _, _), part in zip(missing, pool.map(refresh, missing)):
            parts[i] = part
    merged = ProfileMerger().merge(parts, source=describe_sources(paths))
    return merged, CacheStats(files=len(files), reused=len(files) - len(missing))
