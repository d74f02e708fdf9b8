"""The Dask backend on a real LocalCluster (2 single-threaded worker processes on 127.0.0.1) and
on Dask's local schedulers: the same profile as the local backend for files and Dask DataFrames
under every partition strategy, a worker killed mid-profile, errors, the CLI, the monitor
adapter, and the spec's examples (addresses replaced by the test cluster's)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from _blocking_fs import blocking_filesystem, claimed_pid
from _profiles import assert_equivalent, mixed_table
from truthound.errors import BackendNotAvailableError, ConfigurationError, SourceReadError
from truthound.profiler import TableProfile, profile
from truthound.profiler.distributed import (
    DaskBackend,
    DaskConfig,
    DistributedBackend,
    DistributedProfiler,
    PartitionStrategy,
    auto_select_backend,
)
from truthound.profiler.distributed.monitoring import (
    DistributedMonitor,
    HealthCheckConfig,
    HealthStatus,
    MonitorCallbackAdapter,
    MonitorConfig,
    MonitorEvent,
    MonitorEventType,
)
from truthound.profiler.distributed.dask_executor import DaskTaskError
from truthound.profiler.distributed.monitoring.adapters import DaskMonitorAdapter

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

pytestmark = [pytest.mark.slow]

STRATEGIES = list(PartitionStrategy)


def _keeps_duplicates(strategy: PartitionStrategy) -> bool:
    return strategy in (PartitionStrategy.ROW_BASED, PartitionStrategy.HASH)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def client(cluster: Any) -> Iterator[Any]:
    client = distributed.Client(cluster)  # the default client of this process
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dask-data")
    table = mixed_table(4000, seed=5)
    (root / "parquet").mkdir()
    pq.write_table(table.slice(0, 2500), root / "parquet" / "a.parquet", row_group_size=600)
    pq.write_table(table.slice(2500), root / "parquet" / "b.parquet", row_group_size=600)
    (root / "csv").mkdir()
    plain = table.drop_columns(["ts"])
    import pyarrow.csv as pa_csv

    pa_csv.write_csv(plain.slice(0, 2000), root / "csv" / "a.csv")
    pa_csv.write_csv(plain.slice(2000), root / "csv" / "b.csv")
    return root


@pytest.fixture(scope="module")
def frame_table() -> pa.Table:
    return mixed_table(3000, seed=9)


def _same(got: TableProfile, want: TableProfile, strategy: PartitionStrategy) -> None:
    got.sources = want.sources = []
    assert_equivalent(got, want, duplicates=_keeps_duplicates(strategy))


# --------------------------------------------------------------------------- the same answer


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_files_on_the_cluster_equal_the_local_backend(client: Any, data_dir: Path, kind: str,
                                                      strategy: PartitionStrategy) -> None:
    source = str(data_dir / kind)
    backend = DaskBackend(DaskConfig(scheduler="distributed"))
    got = backend.profile_file(source, partition_strategy=strategy)
    want = DistributedProfiler.create(backend="local", num_workers=2,
                                      partition_strategy=strategy).profile(source)
    _same(got, want, strategy)
    assert got.execution is not None
    assert (got.execution.backend, got.execution.executor) == ("dask", "distributed")
    assert got.execution.num_workers == 2 and got.execution.num_partitions >= 2
    backend.close()
    assert client.status == "running"  # a client it was given is left running


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_dask_dataframe_on_the_cluster_equals_profile(client: Any, frame_table: pa.Table,
                                                        strategy: PartitionStrategy) -> None:
    df = dd.from_pandas(frame_table.to_pandas(), npartitions=4)
    got = DaskBackend(DaskConfig(scheduler="distributed")).profile(df, partition_strategy=strategy)
    want = profile(pa.Table.from_pandas(df.compute(), preserve_index=False))
    _same(got, want, strategy)
    assert got.row_count == 3000 and got.execution is not None
    if strategy is PartitionStrategy.ROW_BASED:
        assert got.execution.num_partitions == 4  # the frame's partitioning is kept


def test_a_frame_of_python_object_columns_is_typed_from_its_first_partition(
        client: Any, frame_table: pa.Table) -> None:
    import dask

    pdf = frame_table.to_pandas()
    pdf["email"] = pdf["email"].astype(object)
    with dask.config.set({"dataframe.convert-string": False}):
        df = dd.from_pandas(pdf, npartitions=3)
    assert df.dtypes["email"] == object
    got = DaskBackend(DaskConfig(scheduler="distributed")).profile(df)
    want = profile(pa.Table.from_pandas(df.compute(), preserve_index=False))
    _same(got, want, PartitionStrategy.ROW_BASED)
    assert got["email"].physical_type == want["email"].physical_type


@pytest.mark.parametrize("scheduler", ["threads", "processes", "synchronous"])
def test_local_schedulers(data_dir: Path, frame_table: pa.Table, scheduler: str) -> None:
    backend = DaskBackend(DaskConfig(scheduler=scheduler, num_workers=2))
    df = dd.from_pandas(frame_table.to_pandas(), npartitions=3)
    got = backend.profile(df, partition_strategy="hash", columns=["id", "email", "flag"])
    want = profile(pa.Table.from_pandas(df.compute(), preserve_index=False),
                   columns=["id", "email", "flag"])
    _same(got, want, PartitionStrategy.HASH)
    assert got.execution is not None and got.execution.executor == scheduler
    source = str(data_dir / "parquet")
    _same(backend.profile(source, partition_strategy="hybrid"), profile(source),
          PartitionStrategy.HYBRID)


# --------------------------------------------------------------------------- the spec, AUTO, CLI


def test_spec_examples(client: Any, cluster: Any, data_dir: Path, frame_table: pa.Table,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    dask_df = dd.from_pandas(frame_table.to_pandas(), npartitions=2)
    parquet = str(data_dir / "parquet" / "*.parquet")

    config = DaskConfig(
        scheduler="distributed",
        num_workers=8,
        memory_limit="8GB",
    )

    backend = DaskBackend(config)

    # Profile Dask DataFrame
    profile_df = backend.profile(dask_df)

    # Profile partitioned files
    profile_files = backend.profile_file(parquet)

    assert profile_df.row_count == 3000 and profile_files.row_count == 4000
    _same(profile_files, profile(parquet), PartitionStrategy.ROW_BASED)

    profiler = DistributedProfiler.create(
        backend=DistributedBackend.DASK,
        config=DaskConfig(scheduler="distributed"),
    )
    result = profiler.profile(parquet)
    assert result.execution is not None and result.execution.backend == "dask"

    # a live client: AUTO picks Dask, and a Dask backend without a config uses the client
    assert auto_select_backend() is DistributedBackend.DASK
    auto = DistributedProfiler.create(backend=DistributedBackend.AUTO,
                                      partition_strategy=PartitionStrategy.HYBRID)
    result = auto.profile(dask_df)
    assert result.execution is not None
    assert (result.execution.backend, result.execution.executor) == ("dask", "distributed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_with_a_scheduler_address_and_with_a_cluster_of_its_own(cluster: Any,
                                                                    data_dir: Path) -> None:
    source = str(data_dir / "csv")
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", source, "--backend", "dask",
         "--scheduler", cluster.scheduler_address, "-f", "json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert '"row_count": 4000' in out.stdout and '"backend": "dask"' in out.stdout
    # --scheduler distributed with no client and no address: a LocalCluster it starts and stops
    out = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", source, "--distributed", "--backend",
         "dask", "--scheduler", "distributed", "--workers", "1", "-f", "json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert '"row_count": 4000' in out.stdout and '"executor": "distributed"' in out.stdout


# --------------------------------------------------------------------------- errors


def test_an_unreachable_scheduler_fails_in_bounded_time_naming_it() -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    backend = DaskBackend(DaskConfig(scheduler=address, connect_timeout_seconds=2))
    began = time.monotonic()
    with pytest.raises(BackendNotAvailableError, match=f"Dask scheduler at {address} within 2 s"):
        backend.profile(pa.table({"x": [1]}))
    assert time.monotonic() - began < 15
    with pytest.raises(ConfigurationError, match="connect_timeout_seconds"):
        DaskBackend(DaskConfig(connect_timeout_seconds=0))
    with pytest.raises(ConfigurationError, match="DaskBackend takes a DaskConfig"):
        DaskBackend(MonitorConfig())  # type: ignore[arg-type]


def test_a_failing_task_names_its_file(client: Any, tmp_path: Path) -> None:
    # valid UTF-8 where the driver plans (the first block), not where a worker reads the end
    path = tmp_path / "broken.csv"
    with open(path, "wb") as f:
        f.write(b"id,name\n")
        for i in range(200_000):
            f.write(b"%d,name%d\n" % (i, i % 13))
        f.write(b"7,\xff\xfe bad\n")
    with pytest.raises(SourceReadError, match="broken.csv"):
        DaskBackend(DaskConfig(scheduler="distributed")).profile(str(path))


def test_a_missing_engine_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['dask'] = None\n"
        "import pyarrow as pa\n"
        "from truthound.errors import BackendNotAvailableError\n"
        "from truthound.profiler.distributed import DaskBackend, DaskConfig\n"
        "try:\n"
        "    DaskBackend(DaskConfig(scheduler='threads')).profile(pa.table({'x': [1]}))\n"
        "except BackendNotAvailableError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "pip install 'truthound[dask]'" in out.stdout, out.stderr


# --------------------------------------------------------------------------- a killed worker


class Recorder(MonitorCallbackAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[MonitorEvent] = []

    def on_event(self, event: MonitorEvent) -> None:
        self.events.append(event)


def test_a_killed_worker_is_retried_and_its_rows_count_once(client: Any, data_dir: Path,
                                                            tmp_path: Path) -> None:
    path = data_dir / "parquet" / "a.parquet"
    # the first worker that opens the file blocks, so it can be killed mid-profile
    dataset = ds.dataset(str(path), format="parquet", filesystem=blocking_filesystem(str(tmp_path)))
    recorder = Recorder()
    # workers the scheduler stops hearing from for a second are unhealthy
    config = MonitorConfig.standard()
    config.health_check = HealthCheckConfig(heartbeat_timeout_seconds=1.0)
    monitor = DistributedMonitor(config, callbacks=[recorder])
    monitor.attach_adapter(DaskMonitorAdapter(client, poll_interval_seconds=0.1))
    backend = DaskBackend(DaskConfig(scheduler="distributed"))
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["profile"] = backend.profile(dataset, monitor=monitor)
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcome["error"] = exc

    with monitor:
        runner = threading.Thread(target=run)
        runner.start()
        pid = claimed_pid(str(tmp_path))
        workers = client.run(os.getpid)  # address -> PID of every worker
        assert pid in workers.values()
        killed = next(address for address, p in workers.items() if p == pid)
        # the scheduler's view of the blocked task: its Dask key, worker and attempt
        tasks = DaskMonitorAdapter(client).get_tasks()
        blocked = [t for t in tasks if t.worker == killed]
        assert len(blocked) == 1 and blocked[0].state == "processing"
        assert blocked[0].attempt == 1 and "-p" in blocked[0].key
        time.sleep(0.3)  # a heartbeat of the worker before it dies
        os.kill(pid, signal.SIGKILL)
        runner.join(timeout=120)
        assert not runner.is_alive()
        time.sleep(1.2)  # past the heartbeat timeout
        health = {w.worker_id: w for w in monitor.get_worker_health()}
    assert "error" not in outcome, outcome.get("error")
    got = outcome["profile"]
    assert got.row_count == 2500  # the killed try's rows are not counted
    _same(got, profile(str(path)), PartitionStrategy.ROW_BASED)
    types = [e.event_type for e in recorder.events]
    assert MonitorEventType.TASK_RETRYING in types
    stats = monitor.get_statistics()
    assert stats["rows_processed"] == 2500
    assert killed in health and health[killed].status.rank >= HealthStatus.UNHEALTHY.rank, \
        health.get(killed)
    assert MonitorEventType.WORKER_UNHEALTHY in [e.event_type for e in recorder.events]


def _set_allowed_failures(dask_scheduler: Any, n: int) -> int:
    before = int(dask_scheduler.allowed_failures)
    dask_scheduler.allowed_failures = n
    return before


def test_a_task_whose_worker_keeps_dying_fails_naming_its_file(client: Any, data_dir: Path,
                                                               tmp_path: Path) -> None:
    path = data_dir / "parquet" / "b.parquet"
    dataset = ds.dataset(str(path), format="parquet", filesystem=blocking_filesystem(str(tmp_path)))
    backend = DaskBackend(DaskConfig(scheduler="distributed"))
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["profile"] = backend.profile(dataset)
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcome["error"] = exc

    # the scheduler gives a task up at its first dead worker
    before = client.run_on_scheduler(_set_allowed_failures, n=0)
    try:
        runner = threading.Thread(target=run)
        runner.start()
        pid = claimed_pid(str(tmp_path))
        assert pid in client.run(os.getpid).values()
        os.kill(pid, signal.SIGKILL)
        runner.join(timeout=120)
        assert not runner.is_alive()
    finally:
        client.run_on_scheduler(_set_allowed_failures, n=before)
    assert "profile" not in outcome
    error = outcome["error"]
    assert isinstance(error, DaskTaskError), error
    assert "KilledWorker" in str(error) and "b.parquet" in str(error)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


# --------------------------------------------------------------------------- the monitor adapter


def test_the_monitor_adapter_reads_the_scheduler(client: Any, data_dir: Path) -> None:
    dask_adapter = DaskMonitorAdapter(
        client=client,
        poll_interval_seconds=0.2,
    )
    dask_adapter.connect()
    workers = dask_adapter.get_workers()
    metrics = dask_adapter.get_metrics()
    assert len(workers) == 2 and all(w.worker_id.startswith("tcp://127.0.0.1:") for w in workers)
    assert all(w.memory_percent is not None and 0 < w.memory_percent < 100 for w in workers)
    assert set(client.run(os.getpid)) == {w.worker_id for w in workers}
    assert metrics["workers"] == 2 and metrics["memory_limit_total"] > 0
    assert {"tasks_executing", "tasks_ready", "tasks_in_memory"} <= metrics.keys()

    monitor = DistributedMonitor(MonitorConfig.standard())
    monitor.attach_adapter(dask_adapter)
    with monitor:
        DaskBackend(DaskConfig(scheduler="distributed")).profile(str(data_dir / "parquet"),
                                                                  monitor=monitor)
        time.sleep(0.5)
    seen = {w.worker_id: w for w in monitor.get_worker_health()}
    assert {w.worker_id for w in workers} <= seen.keys()
    assert all(seen[w.worker_id].last_heartbeat is not None for w in workers)
