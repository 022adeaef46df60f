"""The camera path's two small tools: a one-slot mailbox between the camera socket and a session's worker
(a newer frame replaces the waiting one: stale frames are never queued; it counts what arrives) and a windowed
rate (frames/s)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Arrivals:
    """What has reached the mailbox, read in one piece."""

    count: int = 0  # items put so far
    first_at: float | None = None  # clock time of the first (None: none yet)
    last_at: float | None = None  # clock time of the latest
    fps: float = 0.0  # items a second over the rate's window


class Mailbox:
    """A one-slot mailbox between the camera socket and a worker: `put` never waits and replaces what
    is waiting (returned, to be answered as dropped); `take` waits for an item, or None after
    `idle_s` without one or once closed. It counts the arrivals under its own lock, so the socket's side
    never takes the session's."""

    def __init__(self, clock=time.monotonic, fps_window_s: float = 3.0):
        self._clock = clock
        self._cond = threading.Condition()
        self._item = None
        self._closed = False
        self._count = 0
        self._first_at: float | None = None
        self._last_at: float | None = None
        self._rate = Rate(fps_window_s)

    def put(self, item, now: float):
        """`item` arrived at clock time `now`; returns the one it replaced (None: none was waiting)."""
        with self._cond:
            stale, self._item = self._item, item
            self._count += 1
            self._first_at = now if self._first_at is None else self._first_at
            self._last_at = now
            self._rate.tick(now)
            self._cond.notify_all()
            return stale

    def arrivals(self, now: float) -> Arrivals:
        with self._cond:
            return Arrivals(self._count, self._first_at, self._last_at, self._rate.rate(now))

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
