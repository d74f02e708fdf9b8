"""Webhook notifications: events POSTed as JSON from a background thread, with retries and a
timeout, so a slow or dead endpoint never blocks or fails a profile."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from truthound.errors import ConfigurationError
from truthound.profiler.distributed.monitoring.callbacks import EventFilter, MonitorCallbackAdapter
from truthound.profiler.distributed.monitoring.dispatch import BackgroundQueue
from truthound.profiler.distributed.monitoring.events import EventSeverity, MonitorEvent

__all__ = ["WebhookMonitorCallback"]

_log = logging.getLogger("truthound.monitor")

# Answers worth another try: the server may get better. Other 4xx will not.
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


def _redacted(url: str) -> str:
    """scheme://host[:port] only: webhook paths and queries often hold the secret (Slack)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


class WebhookMonitorCallback(MonitorCallbackAdapter):
    """POSTs each accepted event as JSON (:meth:`MonitorEvent.to_dict`) to ``url``.

    Delivery runs on a background thread behind a buffer of ``buffer_size`` events (full:
    dropped and counted), so the run never waits. Each POST has ``timeout_seconds``; a network
    error, a timeout or HTTP 408/425/429/5xx is retried up to ``max_retries`` times after
    ``backoff_seconds`` x 2^n; other answers are final. Failures are logged with the URL cut to
    scheme://host: never the path, the query or a header value (they hold tokens).
    ``min_severity`` defaults to INFO (no per-batch progress).
    """

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        event_filter: EventFilter | None = None,
        *,
        min_severity: EventSeverity | str | int = EventSeverity.INFO,
        timeout_seconds: float = 5.0,
        max_retries: int = 3,
        backoff_seconds: float = 0.5,
        buffer_size: int = 1000,
        close_timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__(event_filter=event_filter, min_severity=min_severity)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"webhook URL must be http:// or https:// with a host, got {_redacted(url)!r}")
        if timeout_seconds <= 0 or max_retries < 0 or backoff_seconds < 0:
            raise ConfigurationError("webhook: timeout_seconds must be > 0, max_retries and "
                                     "backoff_seconds >= 0")
        self.url = url
        self.headers = {"Content-Type": "application/json", "User-Agent": "truthound-monitor",
                        **dict(headers or {})}
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.close_timeout_seconds = close_timeout_seconds
        self.name = f"webhook({_redacted(url)})"
        self.delivered = 0
        self.failed = 0
        self._failure_logged = False
        self._stop = threading.Event()
        self._queue: BackgroundQueue[MonitorEvent] = BackgroundQueue(
            self._deliver, buffer_size, name="truthound-monitor-webhook")

    def __repr__(self) -> str:  # never the headers
        return f"WebhookMonitorCallback({_redacted(self.url)})"

    def on_event(self, event: MonitorEvent) -> None:
        self._queue.put(event)

    @property
    def dropped_events(self) -> int:
        return self._queue.dropped

    def flush(self, timeout: float | None = None) -> None:
        self._queue.flush(self.close_timeout_seconds if timeout is None else timeout)

    def close(self) -> None:
        self._queue.close(self.close_timeout_seconds)
        self._stop.set()  # a backoff still waiting ends now
        if self.failed:
            _log.warning("%s: %d event(s) could not be delivered", self.name, self.failed)

    # ------------------------------------------------------------------ delivery thread

    def _deliver(self, event: MonitorEvent) -> None:
        body = json.dumps(event.to_dict(), default=str).encode("utf-8")
        problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt and self._stop.wait(self.backoff_seconds * 2 ** (attempt - 1)):
                break
            retry, problem = self._post(body)
            if not problem:
                self.delivered += 1
                return
            if not retry:
                break
        self.failed += 1
        if not self._failure_logged:
            self._failure_logged = True
            _log.warning("%s: event %s not delivered: %s (later failures are counted, not "
                         "logged)", self.name, event.event_type.value, problem)

    def _post(self, body: bytes) -> tuple[bool, str]:
        """(worth retrying, problem); problem "" when delivered."""
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                response.read()
                return False, ""
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code in _RETRY_STATUS, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason: Any = getattr(exc, "reason", exc)
            return True, type(reason).__name__ if not str(reason) else f"{type(reason).__name__}: {reason}"
