"""Colors of the text reports: ANSI escape codes on a terminal, nothing elsewhere.

A report gets colors only when it goes to a terminal and ``NO_COLOR`` is unset or empty
(https://no-color.org): never in a pipe, never in a file written with ``-o``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Style"]

_RESET = "\033[0m"


@dataclass(frozen=True)
class Style:
    """Wraps text in ANSI codes when ``color`` is true; returns it unchanged otherwise."""

    color: bool = False

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        """Colors when ``stream`` is a terminal and ``NO_COLOR`` is unset or empty."""
        if os.environ.get("NO_COLOR"):
            return cls(False)
        isatty = getattr(stream, "isatty", None)
        try:
            return cls(bool(isatty and isatty()))
        except ValueError:  # a closed stream
            return cls(False)

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}{_RESET}" if self.color and text else text

    def bold(self, text: str) -> str:
        """Names: the columns, the header."""
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        """Secondary text: types, approximation marks."""
        return self._wrap("2", text)

    def warn(self, text: str) -> str:
        """Alerts (yellow)."""
        return self._wrap("33", text)

    def accent(self, text: str) -> str:
        """Histograms (cyan)."""
        return self._wrap("36", text)
