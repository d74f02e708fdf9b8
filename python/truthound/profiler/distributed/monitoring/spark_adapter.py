"""Spark executors and the run's job progress from Spark's ``StatusTracker`` (no listener).

Each poll reads ``getExecutorInfos()`` (the driver and every executor: running tasks, storage
memory) into a heartbeat per executor, and the stages of the watched jobs (the run's job group,
``SparkBackend.last_job_group``, or every active job) into progress gauges: total, active,
completed and failed tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from truthound.errors import BackendNotAvailableError
from truthound.profiler.distributed.monitoring.adapters import BaseMonitorAdapter, WorkerSnapshot

if TYPE_CHECKING:
    from truthound.profiler.distributed.monitoring.monitor import DistributedMonitor

__all__ = ["SparkMonitorAdapter", "SparkProgress"]


@dataclass(frozen=True)
class SparkProgress:
    """Tasks of the watched jobs' stages."""

    jobs: int = 0
    stages: int = 0
    total_tasks: int = 0
    active_tasks: int = 0
    completed_tasks: int = 0
    failed_tasks: int = 0


class SparkMonitorAdapter(BaseMonitorAdapter):
    """Spark executors from the status tracker, polled every ``poll_interval_seconds``.

    ``spark_session`` None: the active session. ``job_group``: the run's job group (the Spark
    backend sets one per profile run, ``SparkBackend.last_job_group``); None: every active job.
    """

    def __init__(self, spark_session: Any = None, poll_interval_seconds: float = 5.0, *,
                 job_group: str | None = None) -> None:
        super().__init__(poll_interval_seconds)
        self.spark_session = spark_session
        self.job_group = job_group

    def _tracker(self) -> Any:
        session = self.spark_session
        if session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError as exc:
                raise BackendNotAvailableError(
                    "SparkMonitorAdapter needs the 'pyspark' package, which is not installed: "
                    "pip install 'truthound[spark]'") from exc
            session = SparkSession.getActiveSession()
            if session is None:
                raise BackendNotAvailableError(
                    "SparkMonitorAdapter: no Spark session is active and none was given")
        return session.sparkContext.statusTracker()

    def connect(self) -> None:
        self._tracker()

    def get_workers(self) -> list[WorkerSnapshot]:
        out = []
        for info in self._tracker().getExecutorInfos():
            total = info.totalOnHeapStorageMemory + info.totalOffHeapStorageMemory
            used = info.usedOnHeapStorageMemory + info.usedOffHeapStorageMemory
            out.append(WorkerSnapshot(
                f"{info.host}:{info.port}",
                memory_percent=used / total * 100.0 if total else None,
                memory_bytes=used, active_tasks=info.numRunningTasks,
            ))
        return out

    def get_progress(self) -> SparkProgress:
        """Tasks of the watched jobs' stages (the run's job group, else every active job)."""
        tracker = self._tracker()
        if self.job_group is not None:
            job_ids = list(tracker.getJobIdsForGroup(self.job_group))
        else:
            job_ids = list(tracker.getActiveJobsIds())
        stages = set()
        for job_id in job_ids:
            job = tracker.getJobInfo(job_id)
            if job is not None:
                stages.update(job.stageIds)
        total = active = completed = failed = 0
        for stage_id in stages:
            stage = tracker.getStageInfo(stage_id)
            if stage is None:
                continue
            total += stage.numTasks
            active += stage.numActiveTasks
            completed += stage.numCompletedTasks
            failed += stage.numFailedTasks
        return SparkProgress(len(job_ids), len(stages), total, active, completed, failed)

    def get_metrics(self) -> dict[str, float]:
        out = super().get_metrics()
        progress = self.get_progress()
        out.update({
            "spark_jobs": float(progress.jobs), "spark_stages": float(progress.stages),
            "spark_tasks_total": float(progress.total_tasks),
            "spark_tasks_active": float(progress.active_tasks),
            "spark_tasks_completed": float(progress.completed_tasks),
            "spark_tasks_failed": float(progress.failed_tasks),
        })
        return out

    def poll(self, monitor: DistributedMonitor) -> list[WorkerSnapshot]:
        """A heartbeat per executor, and the run's task counts as gauges."""
        workers = super().poll(monitor)
        m = monitor.metrics_collector
        if m is not None:
            progress = self.get_progress()
            m.set_gauge("spark_tasks_total", float(progress.total_tasks))
            m.set_gauge("spark_tasks_active", float(progress.active_tasks))
            m.set_gauge("spark_tasks_completed", float(progress.completed_tasks))
            m.set_gauge("spark_tasks_failed", float(progress.failed_tasks))
        return workers
