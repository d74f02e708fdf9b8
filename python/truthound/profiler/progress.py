"""The ``progress`` option of ``profile()``: rows done, as a tqdm bar or a callback.

A :class:`~truthound.profiler.distributed.observer.RunObserver` of the driver's run: it sums the
rows each partition reports (a retried partition's new attempt replaces the old one's rows), and
is called on the driver's thread.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from truthound.errors import ConfigurationError

__all__ = ["ProgressCallback", "RowProgress", "check_progress"]

ProgressCallback = Callable[[int, "int | None"], None]


def check_progress(progress: object) -> bool | ProgressCallback:
    if isinstance(progress, bool) or progress is None:
        return bool(progress)
    if callable(progress):
        return progress
    raise ConfigurationError(
        f"option 'progress' must be True, False or a callable, got {progress!r}"
    )


class RowProgress:
    """Rows profiled so far, to a tqdm bar on stderr (``progress=True``) or to a callable
    ``(rows_done, total_rows_or_None)``."""

    def __init__(self, progress: bool | ProgressCallback) -> None:
        self._callback = progress if callable(progress) else None
        self._bar_wanted = progress is True
        self._bar: Any = None
        self._total: int | None = None
        self._rows: dict[int, tuple[int, int]] = {}  # partition -> (attempt, rows)
        self._done = 0

    def _update(self) -> None:
        done = sum(rows for _attempt, rows in self._rows.values())
        if done == self._done:
            return
        if self._bar is not None:
            self._bar.update(done - self._done)
        self._done = done
        if self._callback is not None:
            self._callback(done, self._total)

    def run_started(
        self, *, backend: str, num_workers: int, num_partitions: int, total_rows: int | None
    ) -> None:
        self._total = total_rows
        if self._bar_wanted:
            from tqdm import tqdm

            self._bar = tqdm(total=total_rows, unit="rows", unit_scale=True, file=sys.stderr,
                             desc="profiling", leave=False, dynamic_ncols=True)

    def partition_submitted(
        self, partition: int, attempt: int, *, total_rows: int | None, description: str
    ) -> None:
        pass

    def partition_started(self, partition: int, attempt: int, *, worker: str) -> None:
        pass

    def partition_progress(
        self, partition: int, attempt: int, *, rows_processed: int, total_rows: int | None
    ) -> None:
        previous = self._rows.get(partition)
        if previous is not None and previous[0] > attempt:
            return  # a late report of an earlier attempt
        self._rows[partition] = (attempt, rows_processed)
        self._update()

    def partition_completed(
        self, partition: int, attempt: int, *, rows: int, duration_seconds: float, payload_bytes: int
    ) -> None:
        self.partition_progress(partition, attempt, rows_processed=rows, total_rows=None)

    def partition_failed(
        self, partition: int, attempt: int, *, error: str, will_retry: bool
    ) -> None:
        if will_retry:  # the next attempt starts from zero
            self._rows[partition] = (attempt + 1, 0)
            self._update()

    def merge_completed(self, *, partitions: int, duration_seconds: float) -> None:
        pass

    def run_finished(self, *, success: bool, duration_seconds: float, rows: int) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
