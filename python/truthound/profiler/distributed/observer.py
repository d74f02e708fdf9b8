"""What the driver tells whoever watches a run: the contract between the one driver (plan → run
partitions on an executor → merge in partition order → finalize) and monitoring.

Every partition report is keyed by ``(partition, attempt)``: a retried partition reports again
under a new attempt, and the observer replaces the earlier attempt's report, so rows and tasks
never count twice. The driver calls these methods from the thread that drives the run (the one
that called ``profile()``), with the GIL held, never while it holds an engine lock; an observer
that raises does not break the run (the driver logs the error once and goes on). Row progress
that engine threads or worker processes report arrives through the driver too, so an observer
is never called from an engine thread.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["RunObserver", "NullObserver"]


@runtime_checkable
class RunObserver(Protocol):
    def run_started(
        self, *, backend: str, num_workers: int, num_partitions: int, total_rows: int | None
    ) -> None:
        """The plan is made: ``num_partitions`` partitions will run on ``num_workers`` workers."""

    def partition_submitted(
        self, partition: int, attempt: int, *, total_rows: int | None, description: str
    ) -> None:
        """A partition (row range, file piece, column group...) is handed to the executor."""

    def partition_started(self, partition: int, attempt: int, *, worker: str) -> None:
        """A worker (thread name, process id, Spark executor, Dask worker address...) began it."""

    def partition_progress(
        self, partition: int, attempt: int, *, rows_processed: int, total_rows: int | None
    ) -> None:
        """Rows consumed so far by this attempt (cumulative, not a delta)."""

    def partition_completed(
        self, partition: int, attempt: int, *, rows: int, duration_seconds: float, payload_bytes: int
    ) -> None:
        """The attempt returned its serialized partial profile of ``payload_bytes`` bytes."""

    def partition_failed(
        self, partition: int, attempt: int, *, error: str, will_retry: bool
    ) -> None:
        """The attempt failed; ``will_retry`` when the executor runs the partition again."""

    def merge_completed(self, *, partitions: int, duration_seconds: float) -> None:
        """Every partial profile is merged (in partition order) and finalized."""

    def run_finished(self, *, success: bool, duration_seconds: float, rows: int) -> None:
        """The run ended, with or without a profile."""


class NullObserver:
    """Watches nothing: the driver's default."""

    def run_started(
        self, *, backend: str, num_workers: int, num_partitions: int, total_rows: int | None
    ) -> None:
        pass

    def partition_submitted(
        self, partition: int, attempt: int, *, total_rows: int | None, description: str
    ) -> None:
        pass

    def partition_started(self, partition: int, attempt: int, *, worker: str) -> None:
        pass

    def partition_progress(
        self, partition: int, attempt: int, *, rows_processed: int, total_rows: int | None
    ) -> None:
        pass

    def partition_completed(
        self, partition: int, attempt: int, *, rows: int, duration_seconds: float, payload_bytes: int
    ) -> None:
        pass

    def partition_failed(
        self, partition: int, attempt: int, *, error: str, will_retry: bool
    ) -> None:
        pass

    def merge_completed(self, *, partitions: int, duration_seconds: float) -> None:
        pass

    def run_finished(self, *, success: bool, duration_seconds: float, rows: int) -> None:
        pass
