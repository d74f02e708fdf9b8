"""A local HTTP server for tests of webhooks: records every POST, answers with a scripted status
list (then 200), optionally slowly. Bound to 127.0.0.1 on a free port; a context manager."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


class RecordingServer:
    def __init__(self, statuses: list[int] | None = None, delay_seconds: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.delay_seconds = delay_seconds
        self.received: list[Received] = []
        self.attempts = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if server.delay_seconds:
                    time.sleep(server.delay_seconds)
                with server._cond:
                    server.attempts += 1
                    status = server.statuses.pop(0) if server.statuses else 200
                    if status == 200:
                        server.received.append(
                            Received(self.path, dict(self.headers.items()), json.loads(body)))
                    server._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook/secret-path-token"

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.received) >= n, timeout)
            return list(self.received)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
