"""Start-up imports only what showing the window needs (the launch-time budget, benchmarks/bench_launch.py)."""

import json
import os
import subprocess
import sys

from cfexplorer.lazy import is_loaded, lazy_import

SHOW_WINDOW = """
import json, os
from cfexplorer.app import build_window, make_application
from cfexplorer.lazy import is_loaded
app = make_application()
window = build_window()
window.show()
app.processEvents()
grid = window.table
print(json.dumps({"loaded": {name: is_loaded(name) for name in ("pandas", "scipy.sparse", "scipy.spatial", "scipy.stats", "sklearn")},
                  "cells": [grid.rowCount(), grid.columnCount()]}), flush=True)
os._exit(0)
"""


def report_of(script: str, user_folder) -> dict:
    """What ``script`` prints last, as JSON, run in a fresh offscreen process with its own settings folder."""
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CFEXPLORER_NO_DIALOGS": "1",
                   "XDG_CONFIG_HOME": str(user_folder), "XDG_DATA_HOME": str(user_folder)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                            timeout=120)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_window_shows_the_example_without_loading_the_heavy_modules(tmp_path):
    report = report_of(SHOW_WINDOW, tmp_path)
    assert report["loaded"] == {"pandas": False, "scipy.sparse": False, "scipy.spatial": False, "scipy.stats": False,
                                "sklearn": False}
    assert min(report["cells"]) > 0  # the built-in example is in the grid


def test_a_lazy_module_loads_on_first_use(tmp_path, monkeypatch):
    (tmp_path / "cfexplorer_lazy_target.py").write_text("ANSWER = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "cfexplorer_lazy_target", raising=False)
    module = lazy_import("cfexplorer_lazy_target")
    assert not is_loaded("cfexplorer_lazy_target")
    assert module.ANSWER == 42
    assert is_loaded("cfexplorer_lazy_target")
    sys.modules.pop("cfexplorer_lazy_target")


AFTER_START = """
import gc, json, os
from PySide6.QtCore import QTimer
from cfexplorer.app import make_application, run_gui
from cfexplorer.core.memory import freed_memory_kept
from cfexplorer.lazy import is_loaded
app = make_application()

def report():
    print(json.dumps({"loaded": {name: is_loaded(name) for name in ("pandas", "scipy.sparse", "scipy.spatial")},
                      "frozen": gc.get_freeze_count(), "freed_memory_kept": freed_memory_kept()}), flush=True)
    os._exit(0)

QTimer.singleShot(500, report)
run_gui()
"""


def test_once_the_window_shows_the_heavy_modules_load_and_what_the_start_made_is_frozen(tmp_path):
    report = report_of(AFTER_START, tmp_path)
    # opening a file, training or the first hover in the factor space will not wait for them
    assert report["loaded"] == {"pandas": True, "scipy.sparse": True, "scipy.spatial": True}
    # the modules, classes and functions of a started app: tens of thousands of objects no collection scans
    assert report["frozen"] > 20_000
    # large arrays freed while reading or training are reused, not handed back (glibc: Linux here)
    assert report["freed_memory_kept"] == (sys.platform.startswith("linux") and _glibc())


def _glibc() -> bool:
    import platform

    return platform.libc_ver()[0] == "glibc"
