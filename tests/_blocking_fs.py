"""A local filesystem for the killed-worker tests: the first worker process (not the driver)
that opens a data file writes its PID to ``<claim_dir>/claimed`` and then blocks, so the test can
kill it mid-profile; every later open (the retried task, the driver's planning) reads normally."""

from __future__ import annotations

import os
import time

from fsspec.implementations.local import LocalFileSystem
from pyarrow.fs import FSSpecHandler, PyFileSystem

# A blocked open gives up after this long (the test kills the process well before).
BLOCK_SECONDS = 120.0


class BlockingHandler(FSSpecHandler):
    """FSSpecHandler over the local filesystem that blocks the first worker's first open."""

    def __init__(self, claim_dir: str, driver_pid: int) -> None:
        super().__init__(LocalFileSystem())
        self.claim_dir = claim_dir
        self.driver_pid = driver_pid

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (BlockingHandler, (self.claim_dir, self.driver_pid))

    def open_input_file(self, path: str):  # type: ignore[no-untyped-def]
        if os.getpid() != self.driver_pid:
            claim = os.path.join(self.claim_dir, "claimed")
            try:
                # the lock stays: only the first opener ever gets it
                os.close(os.open(claim + ".lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                with open(claim + ".tmp", "w", encoding="ascii") as f:
                    f.write(str(os.getpid()))
                os.rename(claim + ".tmp", claim)
                deadline = time.monotonic() + BLOCK_SECONDS
                while time.monotonic() < deadline:
                    time.sleep(0.05)
        return super().open_input_file(path)


def blocking_filesystem(claim_dir: str) -> PyFileSystem:
    """A filesystem whose first open in another process blocks (see the module docstring)."""
    return PyFileSystem(BlockingHandler(claim_dir, os.getpid()))


def claimed_pid(claim_dir: str, timeout: float = 60.0) -> int:
    """The PID of the worker that blocked, once it has."""
    claim = os.path.join(claim_dir, "claimed")
    deadline = time.monotonic() + timeout
    while not os.path.exists(claim):
        if time.monotonic() > deadline:
            raise TimeoutError("no worker opened the file")
        time.sleep(0.05)
    with open(claim, encoding="ascii") as f:
        return int(f.read())
