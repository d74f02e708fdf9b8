"""Remote sources: ``s3://`` on a local S3-compatible server (moto's server mode, a process of
its own on 127.0.0.1, stopped by its PID) holding a multi-file Parquet dataset, CSV (plain and
gzip), Arrow IPC, JSON lines and a hive-partitioned prefix; each profiled from the URI equals the
profile of the local copies of the same files, on the local backend, Dask, Ray and Spark.

Also: credentials from the AWS environment variables, the range requests of a column subset
(bytes through a counting TCP proxy against the object's size), the errors (missing bucket and
key, access denied, an endpoint that does not answer: one line, naming the URI, within seconds),
secrets kept out of every output of ``th profile``, fsspec schemes and an unknown scheme.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import truthound
from truthound.errors import ConfigurationError, SourceNotFoundError, SourceReadError
from truthound.profiler import TableProfile
from truthound.profiler.distributed.pieces import FilePiece

from _profiles import assert_equivalent, mixed_table

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto")

ACCESS_KEY = "AKIATRUTHOUNDTEST01"
SECRET = "tRuThOuNd-SeCrEt-9f3a7c-never-print"
BUCKET = "truthound-data"
REGION = "us-east-1"


# --------------------------------------------------------------------------- the S3 server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not listen on 127.0.0.1:{port} within {timeout} s")


@dataclass
class S3Server:
    """A moto server process on 127.0.0.1."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()  # by its PID
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _start_server(tmp: Path, env: dict[str, str] | None = None) -> S3Server:
    port = _free_port()
    log = open(tmp / f"moto-{port}.log", "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    log.close()
    server = S3Server(proc, port)
    try:
        _wait_port(port, proc)
    except BaseException:
        server.stop()
        raise
    return server


def _client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET, region_name=REGION)


# --------------------------------------------------------------------------- the data


@pytest.fixture(scope="module")
def local_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the bucket holds, laid out as they are there (key = relative path)."""
    root = tmp_path_factory.mktemp("s3-data")
    table = mixed_table(5000, seed=11)
    (root / "parquet").mkdir()
    pq.write_table(table.slice(0, 3000), root / "parquet" / "part-0.parquet", row_group_size=700)
    pq.write_table(table.slice(3000), root / "parquet" / "part-1.parquet", row_group_size=700)
    (root / "parquet" / "_SUCCESS").write_bytes(b"")
    plain = table.drop_columns(["ts"])
    (root / "csv").mkdir()
    pa_csv.write_csv(plain, root / "csv" / "data.csv")
    (root / "csvgz").mkdir()
    (root / "csvgz" / "data.csv.gz").write_bytes(gzip.compress((root / "csv" / "data.csv").read_bytes()))
    (root / "ipc").mkdir()
    feather.write_feather(table, root / "ipc" / "data.arrow")
    (root / "json").mkdir()
    rows = plain.slice(0, 1500).to_pylist()
    (root / "json" / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for year in (2021, 2022, 2023):
        part = root / "hive" / f"year={year}"
        part.mkdir(parents=True)
        chunk = table.slice((year - 2021) * 1500, 1500)
        pq.write_table(chunk, part / "data.parquet", row_group_size=500)
    # a wide file for the range-request measurement: 8 numeric columns of random doubles
    import numpy as np

    rng = np.random.default_rng(3)
    wide = pa.table({f"c{i}": rng.random(200_000) for i in range(8)})
    (root / "wide").mkdir()
    pq.write_table(wide, root / "wide" / "wide.parquet", row_group_size=50_000,
                   compression="none")
    return root


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory, local_copy: Path) -> Iterator[S3Server]:
    server = _start_server(tmp_path_factory.mktemp("moto"))
    try:
        client = _client(server.endpoint)
        client.create_bucket(Bucket=BUCKET)
        for path in sorted(local_copy.rglob("*")):
            if path.is_file():
                client.upload_file(str(path), BUCKET, path.relative_to(local_copy).as_posix())
        yield server
    finally:
        server.stop()


def _options(s3: S3Server) -> dict[str, str]:
    return {"endpoint_url": s3.endpoint, "access_key": ACCESS_KEY, "secret_key": SECRET,
            "region": REGION}


# (URI under the bucket, local path under the copy)
SOURCES = {
    "parquet-glob": ("parquet/*.parquet", "parquet/*.parquet"),
    "parquet-prefix": ("parquet/", "parquet"),
    "hive": ("hive/", "hive"),
    "csv": ("csv/data.csv", "csv/data.csv"),
    "csv-gz": ("csvgz/data.csv.gz", "csvgz/data.csv.gz"),
    "ipc": ("ipc/data.arrow", "ipc/data.arrow"),
    "jsonl": ("json/data.jsonl", "json/data.jsonl"),
}


def _same(got: TableProfile, want: TableProfile, uri: str) -> None:
    assert got.sources == [uri]
    got.sources = want.sources
    assert_equivalent(got, want)


# --------------------------------------------------------------------------- local backend


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_local_backend_matches_local_copies(s3: S3Server, local_copy: Path, kind: str) -> None:
    key, local = SOURCES[kind]
    uri = f"s3://{BUCKET}/{key}"
    got = truthound.profile(uri, storage_options=_options(s3), num_workers=2)
    want = truthound.profile(str(local_copy / local), num_workers=2)
    _same(got, want, uri)
    if kind == "hive":
        assert got["year"].min == 2021 and got["year"].max == 2023


def test_credentials_from_the_aws_environment(
    s3: S3Server, local_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint)
    uri = f"s3://{BUCKET}/parquet/"
    _same(truthound.profile(uri), truthound.profile(str(local_copy / "parquet")), uri)


def test_credentials_from_an_aws_profile_and_from_the_uri(
    s3: S3Server, local_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[tests]\naws_access_key_id = {ACCESS_KEY}\n"
                           f"aws_secret_access_key = {SECRET}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "tests")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint)
    monkeypatch.setenv("AWS_REGION", REGION)
    uri = f"s3://{BUCKET}/csv/data.csv"
    want = truthound.profile(str(local_copy / "csv" / "data.csv"))
    got = truthound.profile(uri, num_workers=2)
    _same(got, want, uri)
    monkeypatch.delenv("AWS_PROFILE")
    with_keys = f"s3://{ACCESS_KEY}:{SECRET}@{BUCKET}/csv/data.csv"
    got = truthound.profile(with_keys)
    _same(got, want, uri)  # the source without the keys
    with pytest.raises(SourceNotFoundError) as info:
        truthound.profile(f"s3://{ACCESS_KEY}:{SECRET}@{BUCKET}/csv/nothing.csv")
    _check_message(info.value, f"s3://{BUCKET}/csv/nothing.csv")


def test_pieces_carry_the_filesystem_not_the_data(s3: S3Server) -> None:
    """Each worker opens its own file: the plan's pieces are file pieces (path, row groups and
    the pickled filesystem), a few kilobytes, not rows read by the driver."""
    from truthound.profiler.distributed.planning import plan_source

    plan = plan_source(f"s3://{BUCKET}/parquet/*.parquet", min_units=8,
                       storage_options=_options(s3))
    assert plan.kind == "files" and len(plan.units) == 8  # 5 + 3 row groups of 700 rows
    for piece in plan.units:
        assert isinstance(piece, FilePiece) and piece.path.startswith(f"{BUCKET}/parquet/part-")
        assert len(pickle.dumps(piece)) < 4096
        assert piece.describe().count(SECRET) == 0


# --------------------------------------------------------------------------- range requests


class CountingProxy:
    """A TCP proxy on 127.0.0.1 in front of the S3 server that counts the bytes the server
    sends (response headers included): what the S3 client really downloads."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.received = 0
        self._lock = threading.Lock()
        self._listener.settimeout(0.1)  # accept() wakes up to see close()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            upstream = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._sockets += [conn, upstream]
                for args in ((conn, upstream, False), (upstream, conn, True)):
                    thread = threading.Thread(target=self._pump, args=args, daemon=True)
                    thread.start()
                    self._threads.append(thread)

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while data := src.recv(65536):
                if count:
                    with self._lock:
                        self.received += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._threads[0].join(timeout=10)
        self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=10)
        for s in sockets:
            s.close()


def test_parquet_columns_are_read_with_range_requests(s3: S3Server, local_copy: Path) -> None:
    path = local_copy / "wide" / "wide.parquet"
    size = path.stat().st_size
    meta = pq.ParquetFile(path).metadata
    column_bytes = sum(meta.row_group(i).column(0).total_compressed_size
                       for i in range(meta.num_row_groups))
    proxy = CountingProxy(s3.port)
    try:
        options = dict(_options(s3), endpoint_url=f"http://127.0.0.1:{proxy.port}")
        got = truthound.profile(f"s3://{BUCKET}/wide/wide.parquet", columns=["c0"],
                                storage_options=options, num_workers=1)
    finally:
        proxy.close()
    assert got.row_count == 200_000 and [c.name for c in got.columns] == ["c0"]
    # one column of eight: its chunks, the footer and the HTTP headers, not the object
    # (measured: 2.41 MB of a 15.9 MB object for a 1.99 MB column: footer reads, headers)
    assert column_bytes <= proxy.received < 1.3 * column_bytes, (proxy.received, size)
    assert proxy.received < size / 4
    print(f"\nbytes read {proxy.received} of an object of {size} (column c0: {column_bytes})")


# --------------------------------------------------------------------------- errors and secrets


def _check_message(exc: BaseException, uri: str) -> None:
    text = str(exc)
    assert "\n" not in text and SECRET not in text and ACCESS_KEY not in text
    assert uri in text


def test_missing_bucket_and_key(s3: S3Server) -> None:
    for uri, pattern in (("s3://no-such-bucket/x.parquet", "no such bucket 'no-such-bucket'"),
                         (f"s3://{BUCKET}/nothing/here.parquet", "no such file or directory"),
                         (f"s3://{BUCKET}/nothing/*.parquet", "no file matches")):
        with pytest.raises(SourceNotFoundError, match=pattern) as info:
            truthound.profile(uri, storage_options=_options(s3))
        _check_message(info.value, uri)


def test_unreachable_endpoint_fails_within_seconds() -> None:
    uri = f"s3://{BUCKET}/parquet/"
    options = {"endpoint_url": f"http://127.0.0.1:{_free_port()}", "access_key": ACCESS_KEY,
               "secret_key": SECRET, "region": REGION}
    started = time.monotonic()
    with pytest.raises(SourceReadError) as info:
        truthound.profile(uri, storage_options=options)
    assert time.monotonic() - started < 30
    _check_message(info.value, uri)


def test_a_broken_object_is_named_by_its_uri(s3: S3Server) -> None:
    data = (Path(__file__).parent / "data").glob("*.parquet")
    good = next(iter(sorted(data)), None)
    body = good.read_bytes() if good is not None else b"PAR1" + b"\0" * 64
    _client(s3.endpoint).put_object(Bucket=BUCKET, Key="broken/x.parquet",
                                    Body=body[:4] + b"x" * 64 + body[-32:])
    uri = f"s3://{BUCKET}/broken/x.parquet"
    for workers in (1, 2):
        with pytest.raises(SourceReadError) as info:
            truthound.profile(f"s3://{BUCKET}/broken/", storage_options=_options(s3),
                              num_workers=workers)
        assert str(info.value).startswith(uri + ": ")
        _check_message(info.value, uri)


def test_several_uris_are_one_table(s3: S3Server, local_copy: Path) -> None:
    uris = [f"s3://{BUCKET}/parquet/part-0.parquet", f"s3://{BUCKET}/parquet/part-1.parquet"]
    got = truthound.profile(uris, storage_options=_options(s3))
    want = truthound.profile(str(local_copy / "parquet"))
    assert got.sources == [", ".join(uris)]
    got.sources = want.sources
    assert_equivalent(got, want)
    with pytest.raises(SourceReadError, match="all be URIs of one scheme"):
        truthound.profile([uris[0], str(local_copy / "csv" / "data.csv")],
                          storage_options=_options(s3))


def test_endpoint_that_does_not_answer_fails_within_its_timeout() -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        uri = f"s3://{BUCKET}/parquet/"
        options = {"endpoint_url": f"http://127.0.0.1:{silent.getsockname()[1]}",
                   "access_key": ACCESS_KEY, "secret_key": SECRET, "region": REGION,
                   "request_timeout": "1", "connect_timeout": "1", "max_attempts": "2"}
        started = time.monotonic()
        with pytest.raises(SourceReadError, match="(?i)timeout") as info:
            truthound.profile(uri, storage_options=options)
        assert time.monotonic() - started < 10  # measured: 3.1 s
        _check_message(info.value, uri)
    finally:
        silent.close()


def test_access_denied(tmp_path: Path) -> None:
    # moto checks credentials when told to (INITIAL_NO_AUTH_ACTION_COUNT=0): unknown keys fail
    server = _start_server(tmp_path, {"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    try:
        uri = f"s3://{BUCKET}/parquet/a.parquet"
        options = {"endpoint_url": server.endpoint, "access_key": ACCESS_KEY,
                   "secret_key": SECRET, "region": REGION}
        started = time.monotonic()
        with pytest.raises(SourceReadError, match="(?i)access|denied|forbidden|invalid") as info:
            truthound.profile(uri, storage_options=options)
        assert time.monotonic() - started < 30
        _check_message(info.value, uri)
    finally:
        server.stop()


def test_cli_storage_options_keep_the_secret_out_of_every_output(
    s3: S3Server, tmp_path: Path
) -> None:
    uri = f"s3://{BUCKET}/parquet/"
    log = tmp_path / "events.jsonl"
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    args = [sys.executable, "-m", "truthound", "profile", uri, "-o", str(report),
            "--storage-option", f"endpoint_url={s3.endpoint}",
            "--storage-option", f"access_key={ACCESS_KEY}",
            "--storage-option", f"secret_key={SECRET}",
            "--storage-option", f"region={REGION}",
            "--monitor", "full", "--monitor-log", str(log), "--workers", "2"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    profile = json.loads(report.read_text())
    assert profile["row_count"] == 5000 and profile["sources"] == [uri]
    for text in (done.stdout, done.stderr, report.read_text(), log.read_text()):
        assert SECRET not in text and ACCESS_KEY not in text
    # a failure: one line naming the URI, without the secret
    missing = f"s3://{BUCKET}/missing/"
    failed = subprocess.run(args[:4] + [missing] + args[5:6] + [str(tmp_path / "x.json")]
                            + args[7:15], capture_output=True, text=True, env=env, timeout=120)
    assert failed.returncode == 1
    assert missing in failed.stderr and SECRET not in failed.stderr + failed.stdout
    bad = subprocess.run(args[:5] + ["--storage-option", "secret_key"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "KEY=VALUE" in bad.stderr


# --------------------------------------------------------------------------- other schemes


def test_fsspec_scheme_and_unknown_scheme(local_copy: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    try:
        memory.put(str(local_copy / "parquet" / "part-0.parquet"), "/tt/p/part-0.parquet")
        got = truthound.profile("memory://tt/p/*.parquet")
        want = truthound.profile(str(local_copy / "parquet" / "part-0.parquet"))
        got.sources = want.sources
        assert_equivalent(got, want)
    finally:
        memory.rm("/tt", recursive=True)
    with pytest.raises(ConfigurationError, match=r"unknown URI scheme nosuch://: install"):
        truthound.profile("nosuch://bucket/x.parquet")
    with pytest.raises(ConfigurationError, match=r"unknown storage option 'colour' for s3://"):
        truthound.profile("s3://b/x.parquet", storage_options={"colour": "blue"})


# --------------------------------------------------------------------------- distributed


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["parquet-glob", "hive", "csv"])
def test_dask_matches_local_copies(
    s3: S3Server, local_copy: Path, dask_client: Any, kind: str
) -> None:
    from truthound.profiler.distributed import DaskBackend, DaskConfig

    key, local = SOURCES[kind]
    uri = f"s3://{BUCKET}/{key}"
    got = DaskBackend(DaskConfig(scheduler="distributed")).profile(
        uri, storage_options=_options(s3))
    assert got.execution is not None and got.execution.backend == "dask"
    _same(got, truthound.profile(str(local_copy / local)), uri)


@pytest.mark.slow
def test_ray_matches_local_copies(s3: S3Server, local_copy: Path) -> None:
    ray = pytest.importorskip("ray")
    from truthound.profiler.distributed import RayBackend, RayConfig

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=256 * 1024 * 1024,
             _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        backend = RayBackend(RayConfig())
        for kind in ("parquet-glob", "hive", "csv"):
            key, local = SOURCES[kind]
            uri = f"s3://{BUCKET}/{key}"
            got = backend.profile_file(uri, storage_options=_options(s3))
            assert got.execution is not None and got.execution.backend == "ray"
            _same(got, truthound.profile(str(local_copy / local)), uri)
    finally:
        ray.shutdown()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_spark_matches_local_copies(s3: S3Server, local_copy: Path) -> None:
    pytest.importorskip("pyspark")
    from _spark import local_session
    from truthound.profiler.distributed import SparkBackend

    session = local_session()
    try:
        backend = SparkBackend()  # the active session
        for kind in ("parquet-glob", "hive", "csv"):
            key, local = SOURCES[kind]
            uri = f"s3://{BUCKET}/{key}"
            got = backend.profile_file(uri, storage_options=_options(s3))
            assert got.execution is not None and got.execution.backend == "spark"
            _same(got, truthound.profile(str(local_copy / local)), uri)
    finally:
        session.stop()


@pytest.mark.slow
def test_cli_dask_processes_as_the_spec_writes_it(s3: S3Server, local_copy: Path) -> None:
    """``th profile s3://bucket/data/*.parquet --distributed --backend dask`` with Dask's
    process scheduler: the worker processes get the endpoint and keys only through the pickled
    filesystem (the command's environment has no AWS variable)."""
    uri = f"s3://{BUCKET}/parquet/*.parquet"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-m", "truthound", "profile", uri, "-f", "json", "--distributed",
         "--backend", "dask", "--scheduler", "processes", "--workers", "2",
         "--storage-option", f"endpoint_url={s3.endpoint}",
         "--storage-option", f"access_key={ACCESS_KEY}",
         "--storage-option", f"secret_key={SECRET}"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    got = TableProfile.from_dict(json.loads(done.stdout))
    assert got.execution is not None and got.execution.backend == "dask"
    _same(got, truthound.profile(str(local_copy / "parquet")), uri)
