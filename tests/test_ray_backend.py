"""The Ray backend on a real local Ray (one per module: 2 CPUs, a 256 MiB object store, no
dashboard, on 127.0.0.1): files and Ray Datasets against the local backend for every partition
strategy, the spec's examples, the CLI, a worker killed mid-task, errors and the monitor adapter."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import _parquet_surgery as surgery
from _profiles import assert_equivalent, mixed_table
from truthound.errors import BackendNotAvailableError, ConfigurationError, SourceReadError
from truthound.profiler import profile
from truthound.profiler.distributed import (
    DistributedBackend,
    DistributedProfiler,
    PartitionStrategy,
    RayBackend,
    RayConfig,
)
from truthound.profiler.distributed.driver import Task, run
from truthound.profiler.distributed.monitoring import (
    DistributedMonitor,
    HealthCheckConfig,
    MonitorConfig,
    MonitorEventType,
)
from truthound.profiler.distributed.monitoring.adapters import RayMonitorAdapter

# Read by Ray when it is first imported (so set when this module is collected, before any test
# imports Ray): a local Ray keeps to 127.0.0.1 instead of the machine's address.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

pytestmark = [
    pytest.mark.slow,
    # Ray's own modules, imported in the test process: warnings we cannot change
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:google.*"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

MIB = 1024 * 1024
ROW_STRATEGIES = (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)


@pytest.fixture(scope="module")
def ray_session() -> Iterator[Any]:
    """One local Ray for this module (shut down after it, so no later test finds an initialized
    Ray that `auto` would pick), on the loopback address (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0
    makes Ray keep 127.0.0.1 instead of resolving the machine's address)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=256 * MIB,
             _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return mixed_table(6000, seed=5)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, table: pa.Table) -> Path:
    """A folder of two Parquet files (several row groups each)."""
    d = tmp_path_factory.mktemp("ray-files")
    pq.write_table(table.slice(0, 3500), d / "a.parquet", row_group_size=700)
    pq.write_table(table.slice(3500), d / "b.parquet", row_group_size=1000)
    return d


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory, table: pa.Table) -> Path:
    path = tmp_path_factory.mktemp("ray-csv") / "data.csv"
    pa_csv.write_csv(table.drop_columns(["ts"]), path)
    return path


def _same(got: Any, want: Any, strategy: PartitionStrategy, *, sources: bool = True) -> None:
    if not sources:
        got.sources = want.sources = []
    assert_equivalent(got, want, duplicates=strategy in ROW_STRATEGIES)


# --------------------------------------------------------------------------- the same answer


@pytest.mark.parametrize("strategy", list(PartitionStrategy))
def test_files_give_the_local_profile(ray_session: Any, files: Path, csv_file: Path,
                                      strategy: PartitionStrategy) -> None:
    backend = RayBackend(RayConfig(), partition_strategy=strategy)
    got = backend.profile_file(str(files))
    _same(got, profile(str(files)), strategy)
    assert got.execution is not None and got.execution.backend == "ray"
    assert got.execution.num_partitions >= 2
    got = backend.profile(str(csv_file))
    _same(got, profile(str(csv_file)), strategy)
    backend.close()
    assert ray_session.is_initialized()  # not started by the backend: left running


@pytest.mark.parametrize("strategy", list(PartitionStrategy))
def test_a_ray_dataset_gives_the_local_profile(ray_session: Any, table: pa.Table,
                                               strategy: PartitionStrategy) -> None:
    blocks = [table.slice(0, 2500), table.slice(2500, 0), table.slice(2500, 1500),
              table.slice(4000)]
    dataset = ray_session.data.from_arrow(blocks)
    got = RayBackend().profile(dataset, partition_strategy=strategy)
    _same(got, profile(table), strategy, sources=False)
    assert got.execution is not None and got.execution.backend == "ray"
    # columns are checked and kept as profile() keeps them
    got = RayBackend().profile(dataset, columns=["id", "email"], partition_strategy=strategy)
    _same(got, profile(table, columns=["id", "email"]), strategy, sources=False)


# --------------------------------------------------------------------------- the spec


def test_spec_ray_backend_example(ray_session: Any, table: pa.Table) -> None:
    ray_dataset = ray_session.data.from_arrow([table.slice(0, 3000), table.slice(3000)])
    address = ray_session.get_runtime_context().gcs_address  # the spec's ray://cluster:10001

    config = RayConfig(
        address=address,
        num_cpus=16,
    )

    backend = RayBackend(config)

    # Profile Ray Dataset
    profile_ = backend.profile(ray_dataset)
    _same(profile_, profile(table), PartitionStrategy.ROW_BASED, sources=False)


def test_spec_distributed_profiler_create_and_auto(ray_session: Any, files: Path) -> None:
    want = profile(str(files))
    profiler = DistributedProfiler.create(backend=DistributedBackend.RAY,
                                          config=RayConfig(num_cpus=2),
                                          partition_strategy=PartitionStrategy.HYBRID)
    assert isinstance(profiler.backend, RayBackend)
    _same(profiler.profile(str(files)), want, PartitionStrategy.HYBRID)
    # AUTO with an initialized Ray
    profiler = DistributedProfiler.create(backend=DistributedBackend.AUTO)
    assert isinstance(profiler.backend, RayBackend)
    _same(profiler.profile(str(files)), want, PartitionStrategy.ROW_BASED)
    # a Ray Dataset through DistributedProfiler: the backend plans its blocks
    dataset = ray_session.data.from_arrow([pq.read_table(p) for p in sorted(files.iterdir())])
    got = DistributedProfiler.create(backend="ray",
                                     partition_strategy="column_based").profile(dataset)
    _same(got, want, PartitionStrategy.COLUMN_BASED, sources=False)
    with pytest.raises(ConfigurationError, match="RayConfig"):
        DistributedProfiler.create(backend="ray", config=object())
    with pytest.raises(ConfigurationError, match="RayBackend takes a RayConfig"):
        RayBackend(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="max_retries"):
        RayBackend(RayConfig(max_retries=-1))


def test_cli_connects_to_a_ray_address(ray_session: Any, csv_file: Path) -> None:
    """``th profile --backend ray --address`` from another process: it connects to the
    session's Ray, profiles there and disconnects (the cluster keeps running)."""
    address = ray_session.get_runtime_context().gcs_address
    env = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(csv_file), "--backend", "ray",
         "--address", address, "--partition-strategy", "hash", "-f", "json"],
        capture_output=True, text=True, env=env, timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert '"row_count": 6000' in out.stdout and '"backend": "ray"' in out.stdout
    assert ray_session.is_initialized() and ray_session.nodes()[0]["Alive"]


def test_cli_starts_and_stops_a_local_ray(csv_file: Path) -> None:
    """``th profile --backend ray`` with no address: a local Ray of its own, on 127.0.0.1,
    shut down at the end (the process exits cleanly)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(csv_file), "--backend", "ray",
         "--partition-strategy", "column_based", "-f", "json"],
        capture_output=True, text=True, env=env, timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert '"row_count": 6000' in out.stdout and '"backend": "ray"' in out.stdout


# --------------------------------------------------------------------------- errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_address_fails_in_bounded_time_naming_it(csv_file: Path) -> None:
    """In a fresh process (no Ray initialized): the CLI's one line names the address."""
    address = f"127.0.0.1:{_free_port()}"
    began = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", str(csv_file), "--backend", "ray",
         "--address", address], capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 1
    assert f"cannot reach the Ray cluster at {address}" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert time.monotonic() - began < 60


def test_ray_not_installed_names_the_extra(monkeypatch: pytest.MonkeyPatch, csv_file: Path) -> None:
    monkeypatch.delitem(sys.modules, "ray", raising=False)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(BackendNotAvailableError, match=r"pip install 'truthound\[ray\]'"):
        RayBackend(RayConfig(address="127.0.0.1:1")).profile(str(csv_file))
    with pytest.raises(BackendNotAvailableError, match=r"truthound\[ray\]"):
        RayMonitorAdapter().connect()


def _bad_parquet() -> bytes:
    """Valid metadata, a data page claiming 2^31 - 1 bytes: it fails where it is read."""
    buf = io.BytesIO()
    pq.write_table(mixed_table(300), buf, compression="zstd")
    parts = surgery.disassemble(buf.getvalue())
    page = next(pg for pg in parts.row_groups[0][0].pages if pg.type == surgery.DATA_PAGE)
    page.header[surgery.PH_COMPRESSED] = (surgery.I32, (1 << 31) - 1)
    return surgery.assemble(parts)


def test_a_failing_task_names_its_file(ray_session: Any, tmp_path: Path, table: pa.Table) -> None:
    pq.write_table(table, tmp_path / "good.parquet")
    (tmp_path / "bad.parquet").write_bytes(_bad_parquet())
    with pytest.raises(SourceReadError, match=r"bad\.parquet"):
        RayBackend().profile(str(tmp_path))


def test_a_csv_type_conflict_in_a_worker_plans_again(ray_session: Any, tmp_path: Path) -> None:
    """An ``x`` after the block the types were inferred from: the Ray worker's error crosses to
    the driver, which reads the column as text and runs every partition again."""
    path = tmp_path / "late.csv"
    path.write_text("n,s\n" + "".join(f"{i},v{i}\n" for i in range(300_000)) + "x,late\n")
    got = RayBackend().profile(str(path))
    want = profile(str(path))
    assert got.row_count == want.row_count == 300_001
    assert got["n"].physical_type == want["n"].physical_type == "large_string"


# --------------------------------------------------------------------------- a killed worker


def _holding_hook(marks: str) -> Any:
    """A hook run after a task's first batch: the first try of partition 0 writes its worker's
    PID to ``marks/pid`` and waits (up to a minute) to be killed, its first rows reported;
    every other try goes on."""

    def hook(task: Task, pid: int) -> None:
        import os as os_
        import time as time_

        if task.partition != 0 or os_.path.exists(os_.path.join(marks, "pid")):
            return
        path = os_.path.join(marks, "pid")
        with open(path + ".tmp", "w") as f:
            f.write(str(pid))
        os_.replace(path + ".tmp", path)
        deadline = time_.monotonic() + 60
        while time_.monotonic() < deadline:
            time_.sleep(0.05)

    return hook


def _kill_when_reported(marks: Path) -> int:
    path = marks / "pid"
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, "the task never reported its worker"
        time.sleep(0.05)
    pid = int(path.read_text())
    os.kill(pid, signal.SIGKILL)
    return pid


def _run_with_a_kill(backend: RayBackend, source: str, marks: Path, monitor: DistributedMonitor
                     ) -> tuple[Any, int]:
    import threading

    killed: list[int] = []
    killer = threading.Thread(target=lambda: killed.append(_kill_when_reported(marks)))
    killer.start()
    try:
        result = run(source, backend.ray_executor(after_first_batch=_holding_hook(str(marks))),
                     strategy=PartitionStrategy.ROW_BASED, observer=monitor)
    finally:
        killer.join()
    return result, killed[0]


def test_a_killed_worker_is_retried_and_rows_count_once(ray_session: Any, files: Path,
                                                        tmp_path: Path) -> None:
    kinds: list[MonitorEventType] = []
    health = HealthCheckConfig(error_rate_min_tasks=1)
    monitor = DistributedMonitor(MonitorConfig(health_check=health))
    monitor.add_callback(lambda event: kinds.append(event.event_type))
    backend = RayBackend(RayConfig(max_retries=2))
    result, pid = _run_with_a_kill(backend, str(files), tmp_path, monitor)
    _same(result, profile(str(files)), PartitionStrategy.ROW_BASED)
    assert MonitorEventType.TASK_RETRYING in kinds
    # the killed try had reported rows before it died: they are void, the retry's count
    assert MonitorEventType.TASK_PROGRESS in kinds[:kinds.index(MonitorEventType.TASK_RETRYING)]
    progress = monitor.get_progress()
    assert progress is not None and progress.rows_processed == 6000
    stats = monitor.get_statistics()
    assert stats["tasks_completed"] == result.execution.num_partitions  # type: ignore[union-attr]
    assert monitor.metrics_collector is not None
    assert monitor.metrics_collector.get_metrics().rows_processed == 6000
    unhealthy = [w.worker_id for w in monitor.health_monitor.get_unhealthy_workers()]  # type: ignore[union-attr]
    assert len(unhealthy) == 1 and unhealthy[0].endswith(f" pid {pid}")


def test_a_killed_worker_without_retries_fails_naming_the_partition(
    ray_session: Any, files: Path, tmp_path: Path
) -> None:
    monitor = DistributedMonitor(MonitorConfig())
    backend = RayBackend(RayConfig(max_retries=0))
    with pytest.raises(BackendNotAvailableError,
                       match=r"worker running partition 0 of .*a\.parquet.* died"):
        _run_with_a_kill(backend, str(files), tmp_path, monitor)


# --------------------------------------------------------------------------- monitoring


def test_ray_monitor_adapter_reads_nodes_resources_and_tasks(ray_session: Any, files: Path) -> None:
    ray_adapter = RayMonitorAdapter(
        address=ray_session.get_runtime_context().gcs_address,  # the spec's ray://cluster:10001
        poll_interval_seconds=0.2,
    )
    ray_adapter.connect()
    (node,) = ray_adapter.get_workers()
    assert node.worker_id.startswith("ray node ") and node.cpu_percent is not None
    metrics = ray_adapter.get_metrics()
    assert metrics["nodes_alive"] == 1 and metrics["cpu_total"] == 2
    assert metrics["object_store_bytes_total"] == 256 * MIB
    monitor = DistributedMonitor(MonitorConfig())
    monitor.attach_adapter(ray_adapter)
    with monitor:
        result = RayBackend().profile(str(files), monitor=monitor)
        time.sleep(0.5)
    ray_adapter.stop()
    assert result.row_count == 6000
    assert node.worker_id in {w.worker_id for w in monitor.get_worker_health()}
    assert ray_adapter.get_metrics()["tasks_running"] == 0
