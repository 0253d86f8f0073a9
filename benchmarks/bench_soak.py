"""Soak: a hundred start/stop/restart cycles on the course matrix, the data resized every tenth cycle, as
tests/ui/test_soak.py did before it became a dozen cycles (a hundred took 11-40 s on a loaded 2-core
machine; the test keeps the thread and model checks, which need no hundred cycles).

Printed: resident memory after a warm-up of 10 cycles and its growth over the next 90 (bound: 40 MB; a
leak of one model, predictor and curve set per run would pass below that, which is why the test checks
that no finished run's model stays alive), the OS threads before and after, and the seconds per cycle.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_soak.py [cycles]
"""

import gc
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CFEXPLORER_NO_DIALOGS"] = "1"

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from common import benchmark_window, rss_mb  # noqa: E402

CYCLES, WARM_UP, RESIZE_EVERY = 100, 10, 10
MEMORY_BOUND_MB = 40


def os_threads() -> int:
    return len(list(Path("/proc/self/task").iterdir()))


def wait_until(condition, timeout: float = 10.0):
    deadline = time.perf_counter() + timeout
    loop = QEventLoop()
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not get there in time")
        QTimer.singleShot(5, loop.quit)
        loop.exec()


def main() -> int:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else CYCLES
    app, window = benchmark_window()
    panel = window.training_panel
    panel.epochs.setValue(100_000)
    ended = []
    panel.sig_run_ended.connect(lambda model, reason: ended.append(reason))
    threads_before = memory_after_warm_up = None
    started = time.perf_counter()
    for cycle in range(cycles):
        panel.train()
        wait_until(lambda: panel.model is not None and len(getattr(panel.model, "history_", [])) >= 2)
        panel.stop()
        wait_until(lambda: ended and ended[-1] == "stopped")
        ended.clear()
        if cycle % RESIZE_EVERY == RESIZE_EVERY - 1:
            window.add_user(f"Soak user {cycle}")
            window.add_movie(f"Soak movie {cycle}")
        if cycle == WARM_UP - 1:
            gc.collect()
            memory_after_warm_up, threads_before = rss_mb("VmRSS"), os_threads()
            warm_up_end = time.perf_counter()
    wait_until(lambda: not panel.controller.is_active)
    gc.collect()
    wait_until(lambda: os_threads() <= threads_before, timeout=5.0)
    growth = rss_mb("VmRSS") - memory_after_warm_up
    per_cycle = (time.perf_counter() - warm_up_end) / (cycles - WARM_UP)
    print(f"{cycles} cycles, {time.perf_counter() - started:.1f} s ({per_cycle * 1000:.0f} ms per cycle after the "
          f"warm-up)")
    print(f"resident memory after {WARM_UP} cycles {memory_after_warm_up:.0f} MB, growth over the next "
          f"{cycles - WARM_UP}: {growth:.1f} MB; bound {MEMORY_BOUND_MB} MB: "
          f"{'met' if growth < MEMORY_BOUND_MB else 'NOT met'}")
    print(f"OS threads after the warm-up {threads_before}, at the end {os_threads()}")
    window.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
