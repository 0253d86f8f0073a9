"""Rate limiting for progress reports: however fast epochs come, at most ~30 updates a second."""

from __future__ import annotations

import time


class Throttle:
    """``ready()`` is true at most ``max_rate`` times per second on average (and always the first time).

    Due times advance by one interval from the previous due time, not from the moment of the last
    report: with epochs of 29 ms and a 33 ms interval, counting from the last report would let only
    every second epoch through (17 a second); keeping to the schedule lets ~26 a second through.
    Reports are never closer than half an interval, so falling behind is not made up in a burst.
    """

    def __init__(self, max_rate: float = 30.0, clock=time.perf_counter):
        if max_rate <= 0:
            raise ValueError("max_rate must be positive")
        self.interval = 1.0 / max_rate
        self._clock = clock
        self._due = None

    def ready(self, at_least: float = 0.0) -> bool:
        """Whether a report is due now. The next one is due an interval later, or ``at_least`` seconds later
        where that is longer (the reports' reader asks for fewer)."""
        now = self._clock()
        if self._due is None or now >= self._due:
            interval = max(self.interval, at_least)
            base = now if self._due is None else self._due
            self._due = max(base + interval, now + interval / 2)
            return True
        return False


def throttled(iterable, max_rate: float = 30.0, clock=time.perf_counter):
    """Group consecutive items into lists, yielding at most ``max_rate`` lists per second.

    Nothing is dropped: each list holds every item since the previous one, and the last items
    always come out when the iterable ends.
    """
    throttle = Throttle(max_rate, clock)
    pending = []
    for item in iterable:
        pending.append(item)
        if throttle.ready():
            yield pending
            pending = []
    if pending:
        yield pending
