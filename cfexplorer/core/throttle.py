"""Rate limiting for progress reports: however fast epochs come, at most ~30 updates a second."""

from __future__ import annotations

import time


class Throttle:
    """``ready()`` is true at most ``max_rate`` times per second (and always the first time)."""

    def __init__(self, max_rate: float = 30.0, clock=time.perf_counter):
        if max_rate <= 0:
            raise ValueError("max_rate must be positive")
        self.interval = 1.0 / max_rate
        self._clock = clock
        self._last = None

    def ready(self) -> bool:
        now = self._clock()
        if self._last is None or now - self._last >= self.interval:
            self._last = now
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
