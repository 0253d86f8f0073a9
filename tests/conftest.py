"""Test set-up: Qt runs offscreen, pyqtgraph uses PySide6, shared data is found beside the project."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .busy import busy_processes, start_spinners, stop_spinners

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

# What the app keeps per user (the screenshot command's settings, the error log) goes to folders of this test
# process's own, inherited by the processes it starts: never the developer's, never another test run's.
_USER_FOLDERS = tempfile.mkdtemp(prefix="cfx-test-user-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_USER_FOLDERS, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_USER_FOLDERS, "data")
atexit.register(shutil.rmtree, _USER_FOLDERS, ignore_errors=True)

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
    with busy_processes(BUSY_PROCESSES) as spinners:
        yield spinners


def pytest_addoption(parser):
    parser.addoption("--busy-cpu", type=int, default=0, metavar="N",
                     help="keep N processes spinning on the CPU for the whole run (CI's second pass: the suite "
                          "must pass on a loaded machine)")
    parser.addoption("--spark", action="store_true",
                     help="also run the tests marked spark: Spark's ALS end to end on MovieLens latest-small "
                          "(a JVM, 30-165 s; needs pyspark, Java 17 and the shared data)")
    parser.addoption("--umap", action="store_true",
                     help="also run the tests marked umap: the real umap-learn, which numba compiles on first "
                          "use (15-20 s; needs pip install -e '.[umap]')")


# Each opt-in marker: (its option, why). Spark's end-to-end run alone took longer than the rest of the suite on
# two cores; the real UMAP's first use (numba compiling it) 19 s against the suite's 5 s a test.
OPT_IN = {"spark": ("--spark", "Spark's end-to-end run"), "umap": ("--umap", "the real umap-learn's run")}


def pytest_collection_modifyitems(config, items):
    for marker, (option, what) in OPT_IN.items():
        if config.getoption(option):
            continue
        opt_in = pytest.mark.skip(reason=f"{what} is opt-in: python -m pytest {option}")
        for item in items:
            if item.get_closest_marker(marker) is not None:
                item.add_marker(opt_in)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own count, however this file was loaded
def pytest_xdist_auto_num_workers(config):
    """``--numprocesses=auto`` (pyproject.toml) starts a worker process per core. Tests named one by one
    (``file.py::test``) then wait about 2 s for workers that have little to share: one process runs them."""
    if config.args and all("::" in arg for arg in config.args):
        return 0
    return None  # pytest-xdist's own count


def pytest_configure(config):
    # Spun by the run's one controlling process, also when pytest-xdist's workers run the tests: N busy
    # processes for the whole machine, not N per worker.
    if not hasattr(config, "workerinput"):  # what pytest-xdist gives its workers
        config.busy_spinners = start_spinners(config.getoption("--busy-cpu"))


def pytest_unconfigure(config):
    stop_spinners(getattr(config, "busy_spinners", []))
