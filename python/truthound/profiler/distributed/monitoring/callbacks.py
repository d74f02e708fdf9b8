"""Callbacks that turn monitoring events into output: console, tqdm bar, logging, files, and the
combinators (chain, async). The webhook is in :mod:`.webhook`.

Every callback subclasses :class:`MonitorCallbackAdapter`: override ``on_event``; ``handle``
(what the monitor calls) applies ``event_filter`` and ``min_severity`` first.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from truthound._atomic import write_atomic
from truthound.errors import ConfigurationError
from truthound.profiler.distributed.monitoring.dispatch import (
    BackgroundQueue,
    EventDispatcher,
)
from truthound.profiler.distributed.monitoring.events import (
    EventSeverity,
    MonitorEvent,
    MonitorEventType,
)

__all__ = [
    "AsyncMonitorCallback",
    "CallbackChain",
    "ConsoleMonitorCallback",
    "EventFilter",
    "FileMonitorCallback",
    "FunctionCallback",
    "LoggingMonitorCallback",
    "MonitorCallbackAdapter",
    "ProgressBarCallback",
    "as_callback",
]

EventFilter = Callable[[MonitorEvent], bool]

_PROGRESS_EVENTS = (MonitorEventType.PROGRESS_UPDATE, MonitorEventType.TASK_PROGRESS)


class MonitorCallbackAdapter:
    """Base class of monitoring callbacks.

    Subclasses override :meth:`on_event` (and :meth:`flush`/:meth:`close` when they hold
    resources). The monitor calls :meth:`handle`, which passes the event on when it is at least
    ``min_severity`` and ``event_filter`` (if any) accepts it.
    """

    name: str | None = None

    def __init__(
        self,
        *,
        event_filter: EventFilter | None = None,
        min_severity: EventSeverity | str | int = EventSeverity.DEBUG,
    ) -> None:
        self.event_filter = event_filter
        self.min_severity = EventSeverity.parse(min_severity)

    def accepts(self, event: MonitorEvent) -> bool:
        # getattr: a subclass may skip super().__init__()
        if event.severity < getattr(self, "min_severity", EventSeverity.DEBUG):
            return False
        event_filter = getattr(self, "event_filter", None)
        return event_filter is None or bool(event_filter(event))

    def handle(self, event: MonitorEvent) -> None:
        if self.accepts(event):
            self.on_event(event)

    def on_event(self, event: MonitorEvent) -> None:
        """Called with each accepted event."""

    def flush(self) -> None:
        """Push out what is buffered."""

    def close(self) -> None:
        """Release resources; the callback receives no more events."""


class FunctionCallback(MonitorCallbackAdapter):
    """A plain function ``(event) -> None`` as a callback."""

    def __init__(self, fn: Callable[[MonitorEvent], object], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fn = fn
        self.name = getattr(fn, "__qualname__", None) or repr(fn)

    def on_event(self, event: MonitorEvent) -> None:
        self.fn(event)


def as_callback(
    callback: MonitorCallbackAdapter | Callable[[MonitorEvent], object]
) -> MonitorCallbackAdapter:
    if isinstance(callback, MonitorCallbackAdapter):
        return callback
    if callable(callback):
        return FunctionCallback(callback)
    raise ConfigurationError(
        f"a monitor callback must be a MonitorCallbackAdapter or a function of one event, got "
        f"{type(callback).__name__}"
    )


# --------------------------------------------------------------------------- console

_COLORS = {
    EventSeverity.DEBUG: "\x1b[2m",
    EventSeverity.INFO: "",
    EventSeverity.WARNING: "\x1b[33m",
    EventSeverity.ERROR: "\x1b[31m",
    EventSeverity.CRITICAL: "\x1b[1;31m",
}
_GREEN, _RESET, _CLEAR_LINE = "\x1b[32m", "\x1b[0m", "\r\x1b[K"


def colors_wanted(stream: TextIO, use_colors: bool) -> bool:
    """Colors only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if not use_colors or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed stream
        return False


class ConsoleMonitorCallback(MonitorCallbackAdapter):
    """Events as lines on ``stream`` (default stderr), colored by severity on a terminal.

    With ``show_progress`` a terminal gets one status line rewritten in place; other streams get
    the milestones only (they are INFO events). Plain text when ``NO_COLOR`` is set or the stream
    is not a terminal. ``min_severity`` (default INFO) applies to events, not to progress.
    """

    def __init__(
        self,
        show_progress: bool = True,
        show_events: bool = True,
        use_colors: bool = True,
        *,
        stream: TextIO | None = None,
        min_severity: EventSeverity | str | int = EventSeverity.INFO,
        event_filter: EventFilter | None = None,
    ) -> None:
        super().__init__(event_filter=event_filter, min_severity=EventSeverity.DEBUG)
        self.show_progress = show_progress
        self.show_events = show_events
        self.use_colors = use_colors
        self.event_severity = EventSeverity.parse(min_severity)
        self._stream = stream
        self._status_shown = False
        self._lock = threading.Lock()

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def on_event(self, event: MonitorEvent) -> None:
        stream = self.stream
        color = colors_wanted(stream, self.use_colors)
        tty = _isatty(stream)
        with self._lock:
            if event.event_type in _PROGRESS_EVENTS:
                if self.show_progress and tty and event.event_type is MonitorEventType.PROGRESS_UPDATE:
                    stream.write(("\r\x1b[K" if color else "\r") + event.message)
                    stream.flush()
                    self._status_shown = True
                return
            if not self.show_events or event.severity < self.event_severity:
                return
            if event.event_type is MonitorEventType.PROGRESS_MILESTONE and not self.show_progress:
                return
            if self._status_shown:
                stream.write(_CLEAR_LINE if color else "\r" + " " * 79 + "\r")
                self._status_shown = False
            when = _dt.datetime.fromtimestamp(event.timestamp).strftime("%H:%M:%S")
            level = event.severity.name.ljust(8)
            if color:
                tint = _COLORS[event.severity]
                if event.event_type in (MonitorEventType.AGGREGATION_COMPLETE,
                                        MonitorEventType.WORKER_RECOVERED):
                    tint = _GREEN
                line = f"{when} {tint}{level}{event.message}{_RESET if tint else ''}\n"
            else:
                line = f"{when} {level}{event.message}\n"
            stream.write(line)
            stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._status_shown:
                self.stream.write("\n")
                self.stream.flush()
                self._status_shown = False


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


# --------------------------------------------------------------------------- tqdm


class ProgressBarCallback(MonitorCallbackAdapter):
    """A tqdm bar of completed partitions (``unit="partitions"``) or rows (``unit="rows"``),
    created when the run starts and closed when it stops, with the smoothed rows/s as postfix.
    ``tqdm_kwargs`` go to tqdm (``file``, ``disable``, ``leave``, ``position``, ...)."""

    def __init__(
        self,
        desc: str = "Profiling",
        unit: str = "partitions",
        *,
        total: int | None = None,
        **tqdm_kwargs: Any,
    ) -> None:
        super().__init__()
        self.desc = desc
        self.unit = unit
        self.total = total
        self.tqdm_kwargs = tqdm_kwargs
        self._bar: Any = None
        self._lock = threading.Lock()

    @property
    def bar(self) -> Any:
        """The tqdm bar (None outside a run)."""
        return self._bar

    def _open(self, total: int | None) -> Any:
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total if self.total is not None else total,
                             desc=self.desc, unit=self.unit, **self.tqdm_kwargs)
        return self._bar

    def on_event(self, event: MonitorEvent) -> None:
        data = event.data
        with self._lock:
            if event.event_type is MonitorEventType.MONITOR_START:
                self._close()
                if self.unit != "rows":
                    self._open(data.get("num_partitions"))
            elif event.event_type is MonitorEventType.PROGRESS_UPDATE:
                rows_unit = self.unit == "rows"
                total = data.get("total_rows") if rows_unit else data.get("total_partitions")
                bar = self._open(total)
                if total is not None and self.total is None and bar.total != total:
                    bar.total = total
                n = data.get("rows_processed" if rows_unit else "completed_partitions", 0)
                bar.n = n
                rate = data.get("rows_per_second")
                if rate is not None:
                    bar.set_postfix_str(f"{rate:,.0f} rows/s", refresh=False)
                bar.refresh()
            elif event.event_type is MonitorEventType.MONITOR_STOP:
                self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        with self._lock:
            self._close()


# --------------------------------------------------------------------------- logging


class LoggingMonitorCallback(MonitorCallbackAdapter):
    """Each event logged on ``logger_name`` at its severity's level (DEBUG ... CRITICAL), when
    that is at least ``log_level``; the event's dictionary is in the record as
    ``record.monitor_event`` for structured handlers."""

    def __init__(
        self,
        logger_name: str = "truthound.monitor",
        log_level: int | str = logging.INFO,
        *,
        event_filter: EventFilter | None = None,
    ) -> None:
        super().__init__(event_filter=event_filter)
        self.logger = logging.getLogger(logger_name)
        level = logging.getLevelName(log_level.upper()) if isinstance(log_level, str) else log_level
        if not isinstance(level, int):
            raise ConfigurationError(f"option 'log_level' must be a logging level, got {log_level!r}")
        self.log_level = level

    def on_event(self, event: MonitorEvent) -> None:
        level = int(event.severity)
        if level < self.log_level:
            return
        self.logger.log(level, "%s", event.message,
                        extra={"monitor_event": event.to_dict()})


# --------------------------------------------------------------------------- files


class FileMonitorCallback(MonitorCallbackAdapter):
    """Events to a file: ``jsonl`` appends one JSON object per line and flushes it (a reader
    never sees half an event); ``json`` keeps the events and writes them as one JSON array
    atomically (temporary file + rename) when the run stops and on close.

    The directory must exist (checked here, so a bad path fails before the run)."""

    def __init__(
        self,
        output_path: str | os.PathLike[str],
        format: str = "jsonl",
        *,
        min_severity: EventSeverity | str | int = EventSeverity.DEBUG,
        event_filter: EventFilter | None = None,
    ) -> None:
        super().__init__(event_filter=event_filter, min_severity=min_severity)
        if format not in ("jsonl", "json"):
            raise ConfigurationError(f"option 'format' must be 'jsonl' or 'json', got {format!r}")
        self.output_path = os.fspath(output_path)
        self.format = format
        directory = os.path.dirname(os.path.abspath(self.output_path))
        if not os.path.isdir(directory):
            raise ConfigurationError(
                f"monitor log {self.output_path}: the directory {directory} does not exist")
        if os.path.isdir(self.output_path):
            raise ConfigurationError(f"monitor log {self.output_path}: is a directory")
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        self._events: list[dict[str, Any]] = []
        self._dirty = False

    def on_event(self, event: MonitorEvent) -> None:
        record = event.to_dict()
        with self._lock:
            if self.format == "jsonl":
                if self._file is None:
                    self._file = open(self.output_path, "a", encoding="utf-8")  # noqa: SIM115
                self._file.write(json.dumps(record, default=str) + "\n")
                self._file.flush()
            else:
                self._events.append(record)
                self._dirty = True
                if event.event_type is MonitorEventType.MONITOR_STOP:
                    self._write_json()

    def _write_json(self) -> None:
        write_atomic(self.output_path, json.dumps(self._events, default=str, indent=1) + "\n")
        self._dirty = False

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
            elif self.format == "json" and self._dirty:
                self._write_json()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            if self.format == "json" and self._dirty:
                self._write_json()


# --------------------------------------------------------------------------- combinators


class CallbackChain(MonitorCallbackAdapter):
    """Several callbacks as one, called in order; one that raises does not stop the others
    (its first error is logged)."""

    def __init__(
        self,
        callbacks: Iterable[MonitorCallbackAdapter | Callable[[MonitorEvent], object]] = (),
        *,
        event_filter: EventFilter | None = None,
    ) -> None:
        super().__init__(event_filter=event_filter)
        self.callbacks: list[MonitorCallbackAdapter] = [as_callback(c) for c in callbacks]
        self._dispatcher = EventDispatcher(self.callbacks)

    def add(self, callback: MonitorCallbackAdapter | Callable[[MonitorEvent], object]) -> None:
        cb = as_callback(callback)
        self.callbacks.append(cb)
        self._dispatcher.add(cb)

    def on_event(self, event: MonitorEvent) -> None:
        self._dispatcher.emit(event)

    @property
    def errors(self) -> int:
        return self._dispatcher.errors

    @property
    def dropped_events(self) -> int:
        return sum(getattr(c, "dropped_events", 0) for c in self.callbacks)

    def flush(self) -> None:
        self._dispatcher.call_each("flush")

    def close(self) -> None:
        self._dispatcher.call_each("close")


class AsyncMonitorCallback(MonitorCallbackAdapter):
    """Runs ``callback`` on its own thread behind a buffer of ``buffer_size`` events, so a slow
    callback (a webhook, a remote log) never slows the run. When the buffer is full new events
    are dropped and counted (``dropped_events``; the first drop and the total at close are
    logged). ``close`` waits up to ``close_timeout_seconds`` for the buffer to drain."""

    def __init__(
        self,
        callback: MonitorCallbackAdapter | Callable[[MonitorEvent], object],
        buffer_size: int = 100,
        *,
        close_timeout_seconds: float = 10.0,
        event_filter: EventFilter | None = None,
    ) -> None:
        super().__init__(event_filter=event_filter)
        if not isinstance(buffer_size, int) or buffer_size < 1:
            raise ConfigurationError(f"option 'buffer_size' must be an int >= 1, got {buffer_size!r}")
        self.callback = as_callback(callback)
        self.close_timeout_seconds = close_timeout_seconds
        self.name = f"async({getattr(self.callback, 'name', None) or type(self.callback).__name__})"
        # the wrapped callback's errors are isolated and logged once, as on the run's thread
        self._dispatcher = EventDispatcher([self.callback])
        self._queue: BackgroundQueue[MonitorEvent] = BackgroundQueue(
            self._dispatcher.emit, buffer_size, name=f"truthound-monitor-{self.name}")

    def on_event(self, event: MonitorEvent) -> None:
        self._queue.put(event)

    @property
    def dropped_events(self) -> int:
        return self._queue.dropped + getattr(self.callback, "dropped_events", 0)

    @property
    def errors(self) -> int:
        return self._dispatcher.errors

    def flush(self, timeout: float | None = None) -> None:
        self._queue.flush(self.close_timeout_seconds if timeout is None else timeout)
        self._dispatcher.call_each("flush")

    def close(self) -> None:
        self._queue.close(self.close_timeout_seconds)
        self._dispatcher.call_each("close")


def callbacks_of(
    callbacks: Sequence[MonitorCallbackAdapter | Callable[[MonitorEvent], object]] | None,
) -> list[MonitorCallbackAdapter]:
    return [as_callback(c) for c in (callbacks or ())]
