"""The Spark session a :class:`~.spark_backend.SparkBackend` runs on: the active one, or one built
from a :class:`~.config.SparkConfig` (master, app name, executors, every ``spark_config`` entry).

Before a session is built, ``PYSPARK_PYTHON`` / ``PYSPARK_DRIVER_PYTHON`` default to this
interpreter (the one truthound is installed in), ``SPARK_HOME`` from the config is exported, and a
``spark://`` master is checked to answer within ``connect_timeout_seconds``; after it is built, a
cluster master must give the application an executor within the same time.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from typing import Any

from truthound.errors import BackendNotAvailableError, ConfigurationError
from truthound.profiler.distributed.config import SparkConfig

__all__ = [
    "import_pyspark", "active_session", "build_session", "check_reachable", "master_addresses",
]

INSTALL_HINT = "pip install 'truthound[spark]'"


def import_pyspark() -> Any:
    """The ``pyspark.sql`` module, or BackendNotAvailableError naming the extra."""
    try:
        import pyspark.sql
    except ImportError as exc:
        raise BackendNotAvailableError(
            f"the spark backend needs pyspark, which is not installed ({exc}): {INSTALL_HINT}"
        ) from exc
    return pyspark.sql


def active_session() -> Any:
    """The active SparkSession of this process, or None (pyspark not imported: None)."""
    if "pyspark" not in sys.modules:
        return None
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def master_addresses(master: str) -> list[tuple[str, int]]:
    """(host, port) of each master of a ``spark://h1:p1,h2:p2`` URL; [] for other masters."""
    if not master.startswith("spark://"):
        return []
    out = []
    for part in master[len("spark://"):].split(","):
        host, _, port = part.strip().rpartition(":")
        try:
            out.append((host or part, int(port)))
        except ValueError:
            raise ConfigurationError(
                f"SparkConfig.master {master!r}: {part!r} is not host:port"
            ) from None
    return out


def check_reachable(master: str, timeout: float) -> None:
    """Raise BackendNotAvailableError naming ``master`` when none of its addresses answers."""
    addresses = master_addresses(master)
    if not addresses:
        return
    deadline = time.monotonic() + timeout
    errors: list[str] = []
    for host, port in addresses:
        # on a thread: a name lookup does not honour the socket's timeout
        result: list[BaseException | None] = []

        def connect(host: str = host, port: int = port, result: list[Any] = result) -> None:
            try:
                with socket.create_connection((host, port), timeout=timeout):
                    result.append(None)
            except OSError as exc:
                result.append(exc)

        thread = threading.Thread(target=connect, name="truthound-spark-probe", daemon=True)
        thread.start()
        thread.join(max(0.1, deadline - time.monotonic()))
        if result and result[0] is None:
            return
        error = result[0] if result else None
        text = "no answer" if error is None else (getattr(error, "strerror", None) or str(error))
        errors.append(f"{host}:{port}: {text}")
    raise BackendNotAvailableError(
        f"Spark master {master} cannot be reached within {timeout:g} s ({'; '.join(errors)})"
    )


def _wait_for_executor(session: Any, master: str, timeout: float) -> None:
    """A cluster master must give the application an executor within ``timeout`` seconds."""
    if not master_addresses(master):
        return
    tracker = session.sparkContext.statusTracker()
    deadline = time.monotonic() + timeout
    while True:
        # the driver is listed too: an executor makes two
        if len(tracker.getExecutorInfos()) > 1:
            return
        if time.monotonic() >= deadline:
            session.stop()
            raise BackendNotAvailableError(
                f"Spark master {master} gave this application no executor within {timeout:g} s "
                "(no worker with enough free cores and memory?)"
            )
        time.sleep(0.2)


def build_session(config: SparkConfig) -> Any:
    """A new SparkSession from ``config`` (getOrCreate: a session already active is reused)."""
    sql = import_pyspark()
    if config.spark_home:
        os.environ["SPARK_HOME"] = config.spark_home
    # Workers must run an interpreter that has truthound (and its engine) installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    check_reachable(config.master, config.connect_timeout_seconds)
    builder = sql.SparkSession.builder.master(config.master).appName(config.app_name)
    settings = {
        "spark.executor.memory": config.executor_memory,
        "spark.executor.cores": str(config.executor_cores),
        "spark.executor.instances": str(config.num_executors),
        # truthound reports its own progress; Spark's console bar would interleave with it
        "spark.ui.showConsoleProgress": "false",
    }
    settings.update(config.spark_config)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - py4j / JVM start-up errors of any kind
        raise BackendNotAvailableError(
            f"cannot start a Spark session on {config.master}: {str(exc).strip().splitlines()[0]}"
        ) from exc
    _wait_for_executor(session, config.master, config.connect_timeout_seconds)
    return session
