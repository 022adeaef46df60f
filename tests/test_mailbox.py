"""The camera path's mailbox: the newest frame only, and what arrived counted on the socket's side."""

from __future__ import annotations

from asl_gpt.app.mailbox import Arrivals, Mailbox
from fakes import FakeClock


def test_the_newest_item_replaces_the_waiting_one_and_every_arrival_is_counted():
    clock = FakeClock()
    box = Mailbox(clock, fps_window_s=3.0)
    assert box.arrivals(clock()) == Arrivals()
    assert box.put("a", 100.0) is None
    assert box.put("b", 100.5) == "a"  # replaced: answered as dropped by the caller
    assert box.take(0.0) == "b" and box.take(0.0) is None
    box.put("c", 101.0)
    a = box.arrivals(101.0)
    assert (a.count, a.first_at, a.last_at) == (3, 100.0, 101.0) and a.fps == 2.0
    assert box.close() == "c" and box.take(1.0) is None
