"""How long does the GUI event loop stall while MovieLens latest-small trains at full speed?

A 5 ms QTimer heartbeat records the gaps between its ticks: first with the window idle (the reference,
measured in this same run under the same load), then while training runs in the worker thread, RUNS
runs with the loss curves in front and RUNS with the factor space (9,724 movies redrawn live) in front.
All of it twice: on the machine as it is, and with two processes spinning on the CPU (a loaded 2-core
machine, as CI's second pass). Printed per load and dock: the longest stall of each run, their median
and worst, the 99th percentile of all gaps, the progress updates per second, and the median's ratio to
the idle window's longest gap, and the median run's seconds. Targets: no stall over 50 ms in the median run,
at least 20 updates a second.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_stall.py [ratings.csv] [optimizer] [epochs] [runs]
"""

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CFEXPLORER_NO_DIALOGS"] = "1"

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402

from common import LOADS, benchmark_window, busy_processes, machine_load, ratings_path  # noqa: E402

HEARTBEAT_MS = 5
RUNS = 5
STALL_TARGET_MS = 50
RATE_TARGET = 20


class Heartbeat:
    def __init__(self):
        self.clock = QElapsedTimer()
        self.gaps = []
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)

    def start(self):
        self.gaps.clear()
        self.clock.start()
        self.timer.start()

    def stop(self):
        self.timer.stop()
        return np.array(self.gaps) if self.gaps else np.array([0.0])

    def _tick(self):
        self.gaps.append(self.clock.restart())


def wait(seconds: float):
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def train_with_heartbeat(window, heartbeat, optimizer: str, epochs: int):
    """One training run with the heartbeat on: (gaps in ms, seconds, plot updates per second)."""
    panel = window.training_panel
    panel.optimizer.setCurrentIndex(panel.optimizer.findData(optimizer))
    panel.epochs.setValue(epochs)
    panel.learning_rate.setValue(0.01)
    updates = []
    count_update = lambda records, predictor: updates.append(time.perf_counter())  # noqa: E731
    panel.controller.sig_progress.connect(count_update)
    done = QEventLoop()
    panel.sig_run_ended.connect(done.quit)
    heartbeat.start()
    start = time.perf_counter()
    panel.train()
    done.exec()
    elapsed = time.perf_counter() - start
    gaps = heartbeat.stop()
    panel.sig_run_ended.disconnect(done.quit)
    panel.controller.sig_progress.disconnect(count_update)
    return gaps, elapsed, len(updates) / elapsed if elapsed else 0.0


def measure_under_load(window, heartbeat, optimizer: str, epochs: int, runs: int) -> dict:
    """{"idle window": gaps, dock name: [(gaps, seconds, rate)] * runs} on the machine as loaded now."""
    heartbeat.start()
    wait(2.0)
    results = {"idle window": heartbeat.stop()}
    # The loss curves and the factor space share the bottom dock area; each in front in turn. The factor
    # space's first run on these ratings draws every movie from scratch, as a user's first run does.
    for name, dock in (("loss curves in front", window.curves_dock), ("factor space in front", window.factor_dock)):
        dock.raise_()
        wait(0.3)
        results[name] = [train_with_heartbeat(window, heartbeat, optimizer, epochs) for _ in range(runs)]
    return results


def main() -> int:
    optimizer = sys.argv[2] if len(sys.argv) > 2 else "adam"
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 150
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else RUNS
    path = ratings_path()
    if path is None:
        return 0
    app, window = benchmark_window()
    window.open_file(path, confirm=False)
    wait(0.5)
    heartbeat = Heartbeat()
    measured = {}
    for load, processes in LOADS.items():
        with busy_processes(processes):
            wait(0.5)  # the spinners are running
            measured[load] = measure_under_load(window, heartbeat, optimizer, epochs, runs)
            print(f"{load}: measured, {machine_load()}", flush=True)

    print(f"data: {window.table.ratings}; optimizer {optimizer}, {epochs} epochs per run, {runs} runs per dock "
          f"and load")
    print(f"{'':<46}{'longest stall per run, ms':>36}{'median':>8}{'worst':>7}{'99th pct':>10}{'updates/s':>11}"
          f"{'ratio':>7}{'run s':>7}")
    verdicts = []
    for load, results in measured.items():
        idle = results["idle window"]
        print(f"{load + ', idle window (reference)':<46}{'':>36}{idle.max():>6.0f}ms{'':>7}"
              f"{np.percentile(idle, 99):>8.0f}ms")
        for name in ("loss curves in front", "factor space in front"):
            runs_here = results[name]
            longest = np.array([gaps.max() for gaps, _, _ in runs_here])
            pooled = np.concatenate([gaps for gaps, _, _ in runs_here])
            rate = float(np.median([rate for _, _, rate in runs_here]))
            ratio = np.median(longest) / max(idle.max(), 1)
            each = ", ".join(f"{value:.0f}" for value in longest)
            seconds = float(np.median([seconds for _, seconds, _ in runs_here]))
            print(f"{load + ', ' + name:<46}{each:>36}{np.median(longest):>6.0f}ms{longest.max():>5.0f}ms"
                  f"{np.percentile(pooled, 99):>8.0f}ms{rate:>11.1f}{ratio:>7.1f}{seconds:>7.2f}")
            verdicts.append(f"{load}, {name}: median longest stall {np.median(longest):.0f} ms, worst "
                            f"{longest.max():.0f} ms; target ≤ {STALL_TARGET_MS} ms (median run): "
                            f"{'met' if np.median(longest) <= STALL_TARGET_MS else 'NOT met'}; target ≥ "
                            f"{RATE_TARGET} updates/s: {'met' if rate >= RATE_TARGET else 'NOT met'}")
    print("\n".join(verdicts))
    window.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
