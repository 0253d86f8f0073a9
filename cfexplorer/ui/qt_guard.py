"""No Python exception may cross into Qt.

PySide6 calls our overrides of C++ virtuals (a model's ``data``, a proxy's ``lessThan``, a delegate's
``paint``, a widget's ``*Event`` handlers) from inside Qt's own code. An exception escaping one of them
leaves Qt with a default-constructed answer in the middle of a sort or a paint, and the process can die
(a stale sort key in ``lessThan`` was a segfault). :func:`qt_virtual` wraps such an override: a bug
becomes one logged report (through ``sys.excepthook``, which the app's error reporter owns) and a safe
answer, and the same failure repeating on every painted cell is reported once a minute, not thousands
of times.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
import traceback

LOGGER = logging.getLogger("cfexplorer")
REPORT_INTERVAL_S = 60.0

_last_reported: dict[tuple, float] = {}
_repeats: dict[tuple, int] = {}


def error_key(exc: BaseException, where: str = "") -> tuple:
    """What makes two failures "the same error": where it was raised and its type and message."""
    frames = traceback.extract_tb(exc.__traceback__)
    origin = (frames[-1].filename, frames[-1].lineno) if frames else ("", 0)
    return where, type(exc).__name__, str(exc)[:200], origin


def should_report(key: tuple, now: float | None = None, interval: float = REPORT_INTERVAL_S) -> bool:
    """True the first time ``key`` is seen and again once ``interval`` seconds have passed since it was
    last reported; repeats in between are only counted."""
    now = time.monotonic() if now is None else now
    last = _last_reported.get(key)
    if last is not None and now - last < interval:
        _repeats[key] = _repeats.get(key, 0) + 1
        return False
    _last_reported[key] = now
    return True


def repeats_since_report(key: tuple) -> int:
    return _repeats.pop(key, 0)


def report_current_exception(where: str) -> None:
    """Hand the exception being handled to ``sys.excepthook`` unless the same one was reported within
    the last minute. Never raises."""
    exc_type, exc, tb = sys.exc_info()
    if exc is None:
        return
    try:
        key = error_key(exc, where)
        if not should_report(key):
            return
        repeated = repeats_since_report(key)
        if repeated:
            LOGGER.error("%s failed %d more times since it was last reported", where, repeated)
        sys.excepthook(exc_type, exc, tb)
    except Exception:  # the reporter itself must never take the app down
        try:
            LOGGER.exception("while reporting an error in %s", where)
        except Exception:
            pass


def qt_virtual(fallback=None):
    """Decorate a method Qt calls so that an exception in it is reported and ``fallback`` returned
    instead (called with the method's arguments when it is callable, for answers that depend on them)."""

    def decorate(method):
        where = method.__qualname__

        @functools.wraps(method)
        def guarded(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except Exception:
                report_current_exception(where)
                if callable(fallback):
                    try:
                        return fallback(*args, **kwargs)
                    except Exception:
                        return None
                return fallback

        guarded.__qt_guarded__ = True
        return guarded

    return decorate


def forget_reports() -> None:
    """Start counting afresh (tests that provoke the same error on purpose)."""
    _last_reported.clear()
    _repeats.clear()


# An event handler that failed returns nothing; what Qt does next is what it does with any handled event.
guard_event = qt_virtual(None)
