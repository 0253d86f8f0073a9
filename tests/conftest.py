"""Test set-up: Qt runs offscreen, pyqtgraph uses PySide6, shared data is found beside the project."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """The maintainers' data folder; tests needing it skip cleanly where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


BUSY_PROCESSES = 2


@pytest.fixture
def busy_cpu():
    """Two processes spinning on the CPU for the length of a test: timing-sensitive regression tests run
    as they would on a loaded 2-core machine (where races between the GUI and a worker thread show)."""
    import subprocess
    import sys

    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_PROCESSES)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()
