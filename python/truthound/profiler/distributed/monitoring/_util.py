"""Small helpers shared by the monitoring modules (private)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["Clock", "maybe_time", "now_of"]

#: A monotonic clock in seconds (``time.monotonic`` unless a test injects its own).
Clock = Callable[[], float]


def maybe_time(value: float) -> float | None:
    """An engine time (NaN: not yet) as None or the float."""
    return None if math.isnan(value) else value


def now_of(clock: Clock | None) -> float:
    return (clock or time.monotonic)()
