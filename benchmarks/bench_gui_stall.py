"""How long does the GUI event loop stall while MovieLens latest-small trains at full speed?

A 5 ms QTimer heartbeat records the gaps between its ticks, first with the window idle (the
reference, measured in this same run), then while training runs in the worker thread. Prints the
longest stall, the 99th percentile, and the rate of plot updates; targets: no stall over 50 ms,
at least 20 plot updates per second.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_stall.py [ratings.csv] [optimizer] [epochs]
"""

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CFEXPLORER_NO_DIALOGS"] = "1"

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402

from common import benchmark_window, ratings_path  # noqa: E402

HEARTBEAT_MS = 5


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


def main() -> int:
    optimizer = sys.argv[2] if len(sys.argv) > 2 else "adam"
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 150
    path = ratings_path()
    if path is None:
        return 0
    app, window = benchmark_window()
    window.open_file(path, confirm=False)
    wait(0.5)

    heartbeat = Heartbeat()
    heartbeat.start()
    wait(2.0)
    idle = heartbeat.stop()

    panel = window.training_panel
    panel.optimizer.setCurrentIndex(panel.optimizer.findData(optimizer))
    panel.epochs.setValue(epochs)
    panel.learning_rate.setValue(0.01)
    updates = []
    panel.controller.sig_progress.connect(lambda records, predictor: updates.append(time.perf_counter()))
    done = QEventLoop()
    panel.sig_run_ended.connect(done.quit)
    heartbeat.start()
    start = time.perf_counter()
    panel.train()
    done.exec()
    elapsed = time.perf_counter() - start
    training = heartbeat.stop()

    rate = len(updates) / elapsed if elapsed else 0.0
    print(f"data: {window.table.ratings}; optimizer {optimizer}, {epochs} epochs in {elapsed:.1f} s")
    print(f"{'':<22}{'longest stall':>14}{'99th pct':>10}")
    print(f"{'idle (reference)':<22}{idle.max():>12.0f}ms{np.percentile(idle, 99):>8.0f}ms")
    print(f"{'while training':<22}{training.max():>12.0f}ms{np.percentile(training, 99):>8.0f}ms")
    print(f"longest stall ratio training/idle: {training.max() / max(idle.max(), 1):.1f}")
    print(f"plot updates: {len(updates)} in {elapsed:.1f} s = {rate:.1f} per second")
    stall_ok = training.max() <= 50
    print(f"target no stall over 50 ms: {'met' if stall_ok else 'NOT met'}; "
          f"target >= 20 plot updates/s: {'met' if rate >= 20 else 'NOT met'}")
    window.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
