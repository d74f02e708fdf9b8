"""Saved profiles: a :class:`TableProfile`'s mergeable bytes in a file (``.thp``).

The file holds exactly :meth:`TableProfile.to_bytes`; it is written atomically (a temporary file
in the same directory, then a rename), so a reader sees either the old file or the whole new one.
"""

from __future__ import annotations

import os

from truthound._atomic import write_atomic
from truthound.errors import CorruptProfileError, SourceNotFoundError, SourceReadError
from truthound.profiler.model import TableProfile

__all__ = ["load_profile", "save_profile", "write_bytes_atomic"]


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`truthound._atomic.write_atomic`)."""
    write_atomic(path, data)


def save_profile(profile: TableProfile, path: str | os.PathLike[str]) -> None:
    """Save ``profile``'s mergeable state to ``path`` (atomically)."""
    write_bytes_atomic(path, profile.to_bytes())


def load_profile(path: str | os.PathLike[str]) -> TableProfile:
    """Load a profile saved by :func:`save_profile`; errors name the file."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError as exc:
        raise SourceNotFoundError(f"{name}: no such saved profile") from exc
    except IsADirectoryError as exc:
        raise SourceReadError(f"{name}: is a directory, not a saved profile") from exc
    except OSError as exc:
        raise SourceReadError(f"{name}: cannot read the saved profile: {exc.strerror}") from exc
    try:
        return TableProfile.from_bytes(data)
    except CorruptProfileError as exc:
        raise CorruptProfileError(f"{name}: {exc}") from exc
