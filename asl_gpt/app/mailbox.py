"""The camera path's two small tools: a one-slot mailbox between the camera socket and a session's worker
(a newer frame replaces the waiting one: stale frames are never queued) and a windowed rate (frames/s)."""

from __future__ import annotations

import threading
import time
from collections import deque


class Mailbox:
    """A one-slot mailbox between the camera socket and a worker: `put` never waits and replaces what
    is waiting (returned, to be answered as dropped); `take` waits for an item, or None after
    `idle_s` without one or once closed."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._cond = threading.Condition()
        self._item = None
        self._closed = False

    def put(self, item):
        with self._cond:
            stale, self._item = self._item, item
            self._cond.notify_all()
            return stale

    def take(self, idle_s: float):
        with self._cond:
            deadline = self._clock() + idle_s
            while self._item is None and not self._closed:
                left = deadline - self._clock()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 1.0))
            item, self._item = self._item, None
            return item

    def close(self):
        """Wake the worker; what is still waiting is returned (to be answered as dropped)."""
        with self._cond:
            self._closed = True
            item, self._item = self._item, None
            self._cond.notify_all()
            return item


class Rate:
    """Events per second over the last `window_s` seconds (the camera's frame rates)."""

    def __init__(self, window_s: float):
        self.window_s = window_s
        self._t: deque[float] = deque()

    def tick(self, now: float) -> None:
        self._t.append(now)
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._t and now - self._t[0] > self.window_s:
            self._t.popleft()

    def rate(self, now: float) -> float:
        self._trim(now)
        if len(self._t) < 2:
            return 0.0
        return (len(self._t) - 1) / max(1e-6, self._t[-1] - self._t[0])
