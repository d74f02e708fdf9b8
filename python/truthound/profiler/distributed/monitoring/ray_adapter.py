"""Ray nodes, resources and task progress as worker health (:class:`RayMonitorAdapter`).

Read from ``ray.nodes()`` and ``ray.available_resources()`` (no dependency on the Ray
dashboard) and from the Ray backend's own ``ray.wait`` loop: the task counts of the
:class:`~truthound.profiler.distributed.ray_backend.RayExecutor` s running in this process.
Ray is imported on first use, never when this module is imported.
"""

from __future__ import annotations

from typing import Any

from truthound.errors import BackendNotAvailableError
from truthound.profiler.distributed.monitoring.adapters import BaseMonitorAdapter, WorkerSnapshot

__all__ = ["RayMonitorAdapter", "node_name"]

def node_name(node_id: str) -> str:
    """A Ray node as a worker of the monitor."""
    return f"ray node {node_id[:12]}"


class RayMonitorAdapter(BaseMonitorAdapter):
    """Ray nodes as workers: one heartbeat per alive node, with its CPU use (the share of its
    CPUs held by tasks, from the cluster's available resources on a one-node cluster) and its
    object store use; a dead node stops sending heartbeats (the health rules then call it
    unhealthy). ``address``: the cluster to connect to when Ray is not initialized in this
    process (``connect()`` does it; ``disconnect()`` undoes it); None: the running Ray.
    """

    def __init__(self, address: str | None = None, poll_interval_seconds: float = 5.0) -> None:
        super().__init__(poll_interval_seconds)
        self.address = address
        self._connected_here = False

    def _ray(self) -> Any:
        from truthound.profiler.distributed.ray_backend import import_ray

        return import_ray()

    def connect(self) -> None:
        """Check that Ray can be watched: initialized here, or reachable at ``address``."""
        from truthound.profiler.distributed.ray_backend import other_cluster

        ray = self._ray()
        if ray.is_initialized():
            other = other_cluster(ray, self.address)
            if other is not None:
                raise BackendNotAvailableError(f"RayMonitorAdapter: {other}")
            return
        if self.address is None:
            raise BackendNotAvailableError(
                "RayMonitorAdapter: Ray is not initialized in this process; call ray.init() "
                "or give the cluster's address")
        from truthound.profiler.distributed.ray_backend import check_reachable

        check_reachable(self.address)
        ray.init(address=self.address, log_to_driver=False)
        self._connected_here = True

    def disconnect(self) -> None:
        self.stop()
        if self._connected_here:
            self._ray().shutdown()
            self._connected_here = False

    def _checked(self) -> Any:
        ray = self._ray()
        if not ray.is_initialized():
            self.connect()
        return ray

    def get_workers(self) -> list[WorkerSnapshot]:
        ray = self._checked()
        nodes = [n for n in ray.nodes() if n.get("Alive", n.get("alive", False))]
        available = ray.available_resources() if len(nodes) == 1 else {}
        out = []
        for node in nodes:
            total = node.get("Resources", {})
            cpu = store = store_pct = None
            cpus = float(total.get("CPU", 0.0))
            if available and cpus > 0:
                cpu = (cpus - float(available.get("CPU", 0.0))) / cpus * 100.0
            objects = float(total.get("object_store_memory", 0.0))
            if available and objects > 0:
                used = objects - float(available.get("object_store_memory", objects))
                store, store_pct = int(used), used / objects * 100.0
            out.append(WorkerSnapshot(node_name(node["NodeID"]), cpu_percent=cpu,
                                      memory_percent=store_pct, memory_bytes=store))
        return out

    def get_metrics(self) -> dict[str, float]:
        """Nodes (alive, dead), the cluster's CPUs and object store (total, available), and
        the tasks of the Ray backend's runs in this process (submitted, running, finished,
        failed, retried)."""
        ray = self._checked()
        nodes = ray.nodes()
        alive = sum(1 for n in nodes if n.get("Alive", n.get("alive", False)))
        total = ray.cluster_resources()
        available = ray.available_resources()
        out: dict[str, float] = {
            "workers": float(alive),
            "nodes_alive": float(alive),
            "nodes_dead": float(len(nodes) - alive),
            "cpu_total": float(total.get("CPU", 0.0)),
            "cpu_available": float(available.get("CPU", 0.0)),
            "object_store_bytes_total": float(total.get("object_store_memory", 0.0)),
            "object_store_bytes_available": float(available.get("object_store_memory", 0.0)),
        }
        if out["cpu_total"] > 0:
            out["cpu_percent_mean"] = (out["cpu_total"] - out["cpu_available"]) / \
                out["cpu_total"] * 100.0
        counts = {"submitted": 0, "finished": 0, "failed": 0, "retried": 0, "running": 0}
        from truthound.profiler.distributed.ray_backend import running_executors

        for executor in running_executors():
            for name, value in executor.counts.items():
                counts[name] += value
            counts["running"] += executor.running()
        out.update({f"tasks_{name}": float(value) for name, value in counts.items()})
        return out
