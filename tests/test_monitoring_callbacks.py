"""Callbacks with real components: a pty for the console, files in a temp dir, a local HTTP
server for the webhook, tqdm writing to a buffer; and the CLI's monitoring flags."""

from __future__ import annotations

import io
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from _local_http import RecordingServer
from truthound.cli import build_monitor
from truthound.errors import ConfigurationError
from truthound.profiler.distributed.monitoring import (
    AsyncMonitorCallback,
    CallbackChain,
    ConsoleMonitorCallback,
    DistributedMonitor,
    EventSeverity,
    FileMonitorCallback,
    LoggingMonitorCallback,
    MonitorCallbackAdapter,
    MonitorConfig,
    MonitorEvent,
    MonitorEventType,
    MonitorRegistry,
    ProgressBarCallback,
    WebhookMonitorCallback,
)

E = MonitorEventType


def drive(monitor: DistributedMonitor, partitions: int = 3) -> None:
    monitor.run_started(backend="local", num_workers=2, num_partitions=partitions, total_rows=None)
    for p in range(partitions):
        monitor.partition_submitted(p, 0, total_rows=100, description="")
        monitor.partition_started(p, 0, worker=f"w{p % 2}")
        monitor.partition_progress(p, 0, rows_processed=50, total_rows=100)
        monitor.partition_completed(p, 0, rows=100, duration_seconds=0.1, payload_bytes=1)
    monitor.merge_completed(partitions=partitions, duration_seconds=0.01)
    monitor.run_finished(success=True, duration_seconds=0.5, rows=100 * partitions)


def warning(message: str = "w") -> MonitorEvent:
    return MonitorEvent(E.WORKER_UNHEALTHY, EventSeverity.WARNING, message, data={"worker": "w"})


# --------------------------------------------------------------------------- console


def read_pty(fd: int) -> str:
    out = b""
    while select.select([fd], [], [], 0.2)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    return out.decode()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")
@pytest.mark.parametrize("no_color", [False, True])
def test_console_colors_on_a_terminal_unless_no_color(
    no_color: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as terminal:
        console = ConsoleMonitorCallback(stream=terminal)
        console.handle(warning("worker w degraded"))
        console.handle(MonitorEvent(E.PROGRESS_UPDATE, EventSeverity.DEBUG, "42.0%: 1/3"))
        console.close()
        text = read_pty(master)
    os.close(master)
    assert "worker w degraded" in text and "42.0%: 1/3" in text
    assert ("\x1b[" in text) is (not no_color)


def test_console_plain_text_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    buffer = io.StringIO()
    monitor = DistributedMonitor(callbacks=[ConsoleMonitorCallback(stream=buffer)])
    drive(monitor)
    text = buffer.getvalue()
    assert "\x1b" not in text and "\r" not in text
    assert "partition 2 complete: 100 rows" in text
    assert "100% done: 3/3 partitions" in text  # milestones, not per-report progress
    assert "DEBUG" not in text


# --------------------------------------------------------------------------- files


def test_jsonl_appends_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    for _ in range(2):
        cb = FileMonitorCallback(path, "jsonl")
        monitor = DistributedMonitor(callbacks=[cb])
        drive(monitor)
        # written as they happen: readable before the callback is closed
        lines = path.read_text().splitlines()
        assert json.loads(lines[-1])["event_type"] == "monitor_stop"
        monitor.close()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["event_type"] for r in records].count("monitor_start") == 2
    assert {"event_type", "severity", "message", "timestamp", "data"} <= set(records[0])


def test_json_is_written_atomically_at_stop(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    cb = FileMonitorCallback(path, "json")
    monitor = DistributedMonitor(callbacks=[cb])
    monitor.run_started(backend="local", num_workers=1, num_partitions=1, total_rows=None)
    assert not path.exists()  # nothing half-written while the run goes on
    monitor.partition_started(0, 0, worker="w")
    monitor.partition_completed(0, 0, rows=1, duration_seconds=0.1, payload_bytes=1)
    monitor.run_finished(success=True, duration_seconds=0.1, rows=1)
    events = json.loads(path.read_text())
    assert events[0]["event_type"] == "monitor_start" and events[-1]["event_type"] == "monitor_stop"
    assert [p.name for p in tmp_path.iterdir()] == ["events.json"]  # no temporary file left
    monitor.close()


def test_file_callback_checks_its_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        FileMonitorCallback(tmp_path / "missing" / "x.jsonl")
    with pytest.raises(ConfigurationError, match="'jsonl' or 'json'"):
        FileMonitorCallback(tmp_path / "x.csv", "csv")


# --------------------------------------------------------------------------- webhook


def test_webhook_posts_json_with_headers_and_filter() -> None:
    with RecordingServer() as server:
        hook = WebhookMonitorCallback(server.url, headers={"X-Token": "s3cret"},
                                      event_filter=lambda e: e.event_type is E.MONITOR_STOP)
        monitor = DistributedMonitor(callbacks=[hook])
        drive(monitor)
        monitor.close()
        got = server.wait_for(1)
    assert len(got) == 1
    assert got[0].body["event_type"] == "monitor_stop"
    assert got[0].body["data"]["rows_processed"] == 300
    assert got[0].headers["X-Token"] == "s3cret"
    assert got[0].headers["Content-Type"] == "application/json"
    assert got[0].path == "/hook/secret-path-token"


def test_webhook_retries_with_backoff() -> None:
    with RecordingServer(statuses=[500, 503]) as server:
        hook = WebhookMonitorCallback(server.url, backoff_seconds=0.05, max_retries=3)
        hook.handle(warning())
        got = server.wait_for(1)
        hook.close()
    assert len(got) == 1 and server.attempts == 3
    assert hook.delivered == 1 and hook.failed == 0


def test_webhook_gives_up_quietly_and_never_logs_secrets(caplog: pytest.LogCaptureFixture) -> None:
    with RecordingServer(statuses=[400, 400]) as server:
        hook = WebhookMonitorCallback(server.url, headers={"Authorization": "Bearer s3cret"},
                                      backoff_seconds=0.01)
        with caplog.at_level(logging.DEBUG, logger="truthound.monitor"):
            hook.handle(warning())
            hook.handle(warning())
            hook.close()
    assert server.attempts == 2  # 400 is final: no retry
    assert hook.failed == 2
    text = caplog.text + repr(hook)
    assert "HTTP 400" in text
    assert "s3cret" not in text and "secret-path-token" not in text
    assert sum("not delivered" in r.getMessage() for r in caplog.records) == 1  # logged once


def test_webhook_never_blocks_the_run() -> None:
    with RecordingServer(delay_seconds=1.0) as server:
        hook = WebhookMonitorCallback(server.url, timeout_seconds=0.2, max_retries=0,
                                      close_timeout_seconds=5)
        started = time.perf_counter()
        for _ in range(5):
            hook.handle(warning())
        elapsed = time.perf_counter() - started
        hook.close()
    assert elapsed < 0.1  # five events queued while the server sleeps a second each
    assert hook.failed == 5 and hook.delivered == 0  # each timed out after 0.2 s


def test_webhook_rejects_bad_urls() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        WebhookMonitorCallback("ftp://example.com/x")


# --------------------------------------------------------------------------- combinators


class Blocking(MonitorCallbackAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.seen: list[MonitorEvent] = []

    def on_event(self, event: MonitorEvent) -> None:
        self.entered.set()
        self.release.wait(10)
        self.seen.append(event)


def test_async_callback_drops_when_full_and_reports(caplog: pytest.LogCaptureFixture) -> None:
    inner = Blocking()
    cb = AsyncMonitorCallback(inner, buffer_size=2)
    cb.handle(warning("0"))
    assert inner.entered.wait(5)  # the thread holds event 0
    for i in range(1, 10):
        cb.handle(warning(str(i)))  # 2 fit in the buffer, 7 are dropped
    assert cb.dropped_events == 7
    inner.release.set()
    with caplog.at_level(logging.WARNING, logger="truthound.monitor"):
        cb.close()
    assert [e.message for e in inner.seen] == ["0", "1", "2"]
    assert "7 event(s) dropped" in caplog.text
    monitor = DistributedMonitor(callbacks=[cb])
    assert monitor.get_statistics()["events_dropped"] >= 7


class Raising(MonitorCallbackAdapter):
    def on_event(self, event: MonitorEvent) -> None:
        raise ValueError("broken callback")


def test_chain_isolates_a_raising_callback(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[MonitorEvent] = []
    chain = CallbackChain([Raising(), seen.append])
    with caplog.at_level(logging.ERROR, logger="truthound.monitor"):
        for i in range(3):
            chain.handle(warning(str(i)))
    assert len(seen) == 3 and chain.errors == 3
    assert len([r for r in caplog.records if r.name == "truthound.monitor"]) == 1  # logged once
    assert "broken callback" in caplog.text


def test_severity_order_and_min_severity() -> None:
    assert EventSeverity.DEBUG < EventSeverity.INFO < EventSeverity.WARNING < EventSeverity.ERROR
    assert EventSeverity.CRITICAL >= EventSeverity.WARNING
    seen: list[MonitorEvent] = []

    class Keep(MonitorCallbackAdapter):
        def on_event(self, event: MonitorEvent) -> None:
            seen.append(event)

    keep = Keep(min_severity="warning")
    keep.handle(MonitorEvent(E.TASK_COMPLETED, EventSeverity.INFO))
    keep.handle(warning())
    assert [e.severity for e in seen] == [EventSeverity.WARNING]


def test_logging_callback(caplog: pytest.LogCaptureFixture) -> None:
    cb = LoggingMonitorCallback(logger_name="my_app.profiler", log_level=logging.INFO)
    with caplog.at_level(logging.DEBUG, logger="my_app.profiler"):
        drive(DistributedMonitor(callbacks=[cb]))
    records = [r for r in caplog.records if r.name == "my_app.profiler"]
    assert records and all(r.levelno >= logging.INFO for r in records)
    assert records[-1].monitor_event["event_type"] == "monitor_stop"  # type: ignore[attr-defined]


def test_progress_bar(tmp_path: Path) -> None:
    out = io.StringIO()
    bar = ProgressBarCallback(desc="Profiling", unit="partitions", file=out)
    drive(DistributedMonitor(callbacks=[bar]))
    text = out.getvalue()
    assert "Profiling" in text and "3/3" in text
    assert bar.bar is None  # closed at MONITOR_STOP


def test_registry_errors() -> None:
    with pytest.raises(ConfigurationError, match="registered: console, file"):
        MonitorRegistry.create_callback("nope")
    with pytest.raises(ConfigurationError, match="unknown monitor preset 'nope'"):
        MonitorRegistry.create_monitor("nope")
    cb = MonitorRegistry.create_callback("console", show_progress=False)
    assert isinstance(cb, ConsoleMonitorCallback)


# --------------------------------------------------------------------------- CLI


def test_build_monitor_from_flags(tmp_path: Path) -> None:
    assert build_monitor() is None
    monitor = build_monitor(log_path=str(tmp_path / "m.jsonl"), metrics_port=0,
                            webhook_url="http://127.0.0.1:9/hook")
    assert monitor is not None
    kinds = {type(c) for c in monitor.callbacks}
    assert {FileMonitorCallback, WebhookMonitorCallback} <= kinds
    with monitor:  # /metrics while it runs, on 127.0.0.1
        port = monitor.get_statistics()["metrics_port"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert r.status == 200
    with pytest.raises(ConfigurationError, match="collects no metrics"):
        build_monitor(preset="minimal", metrics_port=0)
    with pytest.raises(ConfigurationError, match="unknown monitor preset"):
        build_monitor(preset="nope")
    assert build_monitor(preset="minimal") is not None


def th(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "truthound.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_monitor_flag_errors(tmp_path: Path, customers_csv: Path) -> None:
    r = th("profile", str(customers_csv), "--monitor", "nope")
    assert r.returncode == 2 and "unknown monitor preset 'nope'" in r.stderr
    r = th("profile", str(customers_csv), "--monitor-log", str(tmp_path / "no" / "x.jsonl"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = th("profile", "--help")
    for flag in ("--monitor PRESET", "--monitor-log FILE.jsonl", "--metrics-port N",
                 "--webhook URL"):
        assert flag in r.stdout


def test_cli_monitor_log(tmp_path: Path, customers_csv: Path) -> None:
    import inspect

    from truthound.profiler import profile

    if "monitor" not in inspect.signature(profile).parameters:
        pytest.skip("profile(monitor=) comes with the driver branch")
    log = tmp_path / "run.jsonl"
    r = th("profile", str(customers_csv), "--monitor-log", str(log), "-f", "json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[0]["event_type"] == "monitor_start"
    assert events[-1]["event_type"] == "monitor_stop"
    assert events[-1]["data"]["rows_processed"] == 2000
