"""How events reach callbacks: :class:`EventDispatcher` (one place, errors isolated and logged
once per callback) and :class:`BackgroundQueue` (a bounded buffer drained by one thread, for
callbacks that must not block the run)."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar, runtime_checkable

from truthound.profiler.distributed.monitoring.events import MonitorEvent

__all__ = ["BackgroundQueue", "EventDispatcher", "EventHandler"]

_log = logging.getLogger("truthound.monitor")

T = TypeVar("T")


@runtime_checkable
class EventHandler(Protocol):
    """What the dispatcher calls: a :class:`MonitorCallbackAdapter` satisfies it."""

    def handle(self, event: MonitorEvent) -> None: ...


def _name(handler: object) -> str:
    return getattr(handler, "name", None) or type(handler).__name__


class EventDispatcher:
    """Calls every handler with every event, in order, one event at a time.

    A handler that raises never stops the others nor the run: its first error is logged (with
    the traceback) on the ``truthound.monitor`` logger, later ones are counted in ``errors``.
    Handlers run on the thread that emits, with the GIL held and no engine lock held (every
    engine call has returned before an event is built).
    """

    def __init__(self, handlers: Iterable[EventHandler] = ()) -> None:
        self._handlers: list[EventHandler] = list(handlers)
        # an RLock: a handler may emit (a chain inside a chain); Python locks release the GIL
        # while they wait, so this never blocks a thread that holds an engine lock
        self._lock = threading.RLock()
        self._failed: set[int] = set()
        self.errors = 0
        self.events = 0

    @property
    def handlers(self) -> list[EventHandler]:
        with self._lock:
            return list(self._handlers)

    def add(self, handler: EventHandler) -> None:
        with self._lock:
            self._handlers.append(handler)

    def remove(self, handler: EventHandler) -> None:
        with self._lock:
            self._handlers.remove(handler)

    def emit(self, event: MonitorEvent) -> None:
        with self._lock:
            self.events += 1
            for handler in self._handlers:
                try:
                    handler.handle(event)
                except Exception:  # noqa: BLE001 - a callback never breaks a profile
                    self.errors += 1
                    if id(handler) not in self._failed:
                        self._failed.add(id(handler))
                        _log.exception(
                            "monitor callback %s raised on %s; the run goes on (its later errors "
                            "are counted, not logged)", _name(handler), event.event_type.value)

    def call_each(self, method: str) -> None:
        """Call ``method`` (flush, close) on each handler that has it, errors isolated."""
        for handler in self.handlers:
            fn = getattr(handler, method, None)
            if fn is None:
                continue
            try:
                fn()
            except Exception:  # noqa: BLE001
                self.errors += 1
                _log.exception("monitor callback %s raised in %s()", _name(handler), method)


class BackgroundQueue(Generic[T]):
    """Up to ``capacity`` items waiting for ``handler``, which runs on one daemon thread.

    ``put`` never blocks: when the buffer is full the new item is dropped and counted in
    ``dropped`` (the first drop is logged). ``flush`` waits until every item was handled;
    ``close`` flushes (up to a timeout), then stops the thread and logs how many were dropped.
    """

    def __init__(self, handler: Callable[[T], None], capacity: int, *, name: str) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._handler = handler
        self.capacity = capacity
        self.name = name
        self._items: collections.deque[T] = collections.deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.handled = 0

    def put(self, item: T) -> bool:
        with self._cond:
            first = False
            if self._closed or len(self._items) >= self.capacity:
                self.dropped += 1
                first = self.dropped == 1
                accepted = False
            else:
                self._items.append(item)
                accepted = True
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
                self._cond.notify_all()
        if not accepted and first:
            _log.warning("%s: buffer of %d full or closed; dropping events (counted)",
                         self.name, self.capacity)
        return accepted

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the buffer is empty and the handler idle; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._items and not self._busy, timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        drained = self.flush(timeout)
        with self._cond:
            left = len(self._items)
            self._closed = True
            self._items.clear()
            self.dropped += left
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if not drained:
            _log.warning("%s: %d event(s) not delivered within %s s of closing", self.name, left,
                         timeout)
        if self.dropped:
            _log.warning("%s: %d event(s) dropped in all", self.name, self.dropped)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._items or self._closed)
                if not self._items:
                    self._cond.notify_all()
                    return
                item = self._items.popleft()
                self._busy = True
            try:
                self._handler(item)
            except Exception:  # noqa: BLE001 - the handler isolates its own errors; belt and braces
                _log.exception("%s: handler raised", self.name)
            finally:
                with self._cond:
                    self._busy = False
                    self.handled += 1
                    self._cond.notify_all()
