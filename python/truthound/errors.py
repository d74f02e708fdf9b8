"""Exceptions raised by truthound.

Every exception subclasses :class:`TruthoundError` and the builtin exception that matches its
meaning, so ``except FileNotFoundError`` and ``except TruthoundError`` both work. The C++ binding
raises the engine's errors by looking these classes up here by name: keep the names.
"""

from __future__ import annotations

__all__ = [
    "TruthoundError",
    "SourceNotFoundError",
    "SourceReadError",
    "UnsupportedTypeError",
    "SchemaError",
    "CorruptProfileError",
    "ConfigurationError",
    "ArrowImportError",
    "ColumnNotFoundError",
    "BackendNotAvailableError",
    "one_line",
    "positive_int",
]


class TruthoundError(Exception):
    """Base class of every error raised by truthound."""

    #: The message as the ``th`` command line should show it, when it names an option that the
    #: CLI spells differently (``--input-format`` for ``format=``); None: the message as is.
    cli_message: str | None = None


class SourceNotFoundError(TruthoundError, FileNotFoundError):
    """A source path, glob or directory does not exist or matches no file."""

    def __str__(self) -> str:
        # FileNotFoundError(errno, msg, name) formats as "[Errno 2] ..."; we build our own text.
        return str(self.args[0]) if self.args else ""


class SourceReadError(TruthoundError, OSError):
    """A source exists but cannot be read: malformed, truncated or of an unknown format."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnsupportedTypeError(TruthoundError, TypeError):
    """A source object or an Arrow type that truthound cannot profile."""


class SchemaError(TruthoundError, ValueError):
    """Two parts of a source (files, partitions, partial profiles) disagree on a column's type."""


class CorruptProfileError(TruthoundError, ValueError):
    """Serialized profile bytes are truncated, corrupted or of an unknown version."""


class ConfigurationError(TruthoundError, ValueError):
    """An option has a bad value; the message names the option."""


class ArrowImportError(TruthoundError, ValueError):
    """Arrow data handed to the engine is malformed."""


class ColumnNotFoundError(TruthoundError, KeyError):
    """A requested column is not in the source or the profile."""

    def __str__(self) -> str:
        # KeyError.__str__ quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class BackendNotAvailableError(TruthoundError, RuntimeError):
    """A distributed backend is not installed or cannot be reached."""


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (for messages that quote another error)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def positive_int(name: str, value: object) -> int:
    """``value`` if it is a positive integer (not a bool), else ConfigurationError naming
    option ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"option {name!r} must be a positive integer, got {value!r}")
    return value
