"""Launch time: from starting the Python process to the main window shown with its built-in example.

Each launch is a fresh interpreter (as a user starting the app), timed by this process from spawning it
to the child saying the window is on screen. Reference, measured in the same run the same way: a bare
PySide6 QMainWindow (what Python + Qt cost before any of our code). Both are launched ``launches`` times
(default 5, interleaved), once on the machine as it is and once with two processes spinning on the CPU (a
loaded 2-core machine, as CI's second pass); printed per load: median and worst of each, and the ratio of
the medians. Target (issue #7): within 1 s.

Which modules the launch imports is listed by:  python -X importtime -c "import cfexplorer.app"
Run: python benchmarks/bench_launch.py [launches]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import LOADS, busy_processes, machine_load

BARE_QT = """
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.resize(1400, 900)
window.show()
app.processEvents()
print("shown", flush=True)
"""

# What run_gui does, settings in a throw-away folder; "shown" once the event loop runs, then a normal close.
CF_EXPLORER = """
from PySide6.QtCore import QTimer
from cfexplorer.app import build_window, make_application
app = make_application()
window = build_window()
window.resize(1400, 900)
window.show()
def shown():
    print("shown", flush=True)
    window.close()
QTimer.singleShot(0, shown)
app.exec()
"""


def launch_seconds(code: str, environment: dict) -> float:
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=environment)
    line = child.stdout.readline()
    seconds = time.perf_counter() - start
    child.wait()
    if line.strip() != "shown" or child.returncode != 0:
        raise RuntimeError(f"launch failed (exit {child.returncode}): {line!r}")
    return seconds


def main() -> int:
    launches = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as settings_home:
        environment = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                       "CFEXPLORER_NO_DIALOGS": "1", "XDG_CONFIG_HOME": settings_home,
                       "XDG_DATA_HOME": settings_home}
        launch_seconds(CF_EXPLORER, environment)  # warm the file cache and bytecode once
        measured = {}
        for load, processes in LOADS.items():
            bare, ours = [], []
            with busy_processes(processes):
                for _ in range(launches):  # interleaved: a change of load in between moves both alike
                    bare.append(launch_seconds(BARE_QT, environment))
                    ours.append(launch_seconds(CF_EXPLORER, environment))
            measured[load] = bare, ours, machine_load()
    for load, (bare, ours, met) in measured.items():
        bare_median, our_median = statistics.median(bare), statistics.median(ours)
        print(f"{load}, {launches} launches each ({met} at its end):")
        print(f"  bare PySide6 window: median {bare_median:.2f} s, worst {max(bare):.2f} s  "
              f"({', '.join(f'{s:.2f}' for s in bare)})")
        print(f"  CF Explorer window:  median {our_median:.2f} s, worst {max(ours):.2f} s  "
              f"({', '.join(f'{s:.2f}' for s in ours)})")
        print(f"  ratio to bare Qt: {our_median / bare_median:.1f}; "
              f"target ≤ 1 s (median): {'met' if our_median <= 1.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
