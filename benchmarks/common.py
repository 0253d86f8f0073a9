"""What the benchmark scripts share: BLAS threads chosen as the app and the CLI choose them, where
MovieLens is, and a window to measure in."""

import os
import sys
from pathlib import Path

from cfexplorer.core.memory import keep_freed_memory, return_freed_memory
from cfexplorer.core.threads import choose_blas_threads

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, for the tests' spinners
from tests.busy import busy_processes  # noqa: E402,F401  (the benchmarks load the machine as the suite does)

BLAS_THREADS = choose_blas_threads()  # on import: every benchmark measures what the entry points run
FREED_MEMORY_KEPT = keep_freed_memory()  # as the entry points keep it

MOVIELENS_RATINGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-latest-small" / "ratings.csv"


def ratings_path() -> Path | None:
    """The ratings file named first on the command line, or MovieLens beside the project; None (said
    on stdout) when it is absent, so that a benchmark skips cleanly."""
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else MOVIELENS_RATINGS
    if not path.exists():
        print(f"skipped: {path} not found")
        return None
    return path


def load_ratings():
    """The Ratings of :func:`ratings_path` (load time printed), or None when the file is absent."""
    import time

    from cfexplorer.io.readers import read_any

    path = ratings_path()
    if path is None:
        return None
    start = time.perf_counter()
    ratings = read_any(path).ratings
    print(f"loaded {ratings} in {time.perf_counter() - start:.2f} s")
    return ratings


def benchmark_window():
    """(application, main window) with throw-away settings, shown at 1400x900."""
    from PySide6.QtCore import QSettings

    from cfexplorer.app import MainWindow, finish_start, make_application

    app = make_application()
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "CF Explorer", "benchmark")
    settings.clear()
    window = MainWindow(settings=settings)
    window.resize(1400, 900)
    window.show()
    finish_start()  # as run_gui does once the window is shown
    return app, window


def rss_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM its peak), in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak():
    """Make the high-water mark start from now (Linux: writing 5 to clear_refs resets VmHWM), after handing the
    memory malloc keeps from earlier steps back to the system (glibc's malloc_trim): a step measured as its peak
    minus the resident memory before it would otherwise not count what it took from that. Ten times smaller
    arrays come from there, larger ones (over 32 MB) never: 1M ratings' training showed 31 bytes a rating
    against 10M's 45, and 58 with the memory handed back first."""
    return_freed_memory()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


# The busy variant of a benchmark: two processes spinning on a 2-core machine, as CI's second pass
# (pytest --busy-cpu=2) and a user's machine with other work running.
BUSY_PROCESSES = 2
LOADS = {"idle machine": 0, f"{BUSY_PROCESSES} busy processes": BUSY_PROCESSES}


def machine_load() -> str:
    """The load this run met, printed beside its figures: other work on the machine moves them more than
    the two spinning processes do (on a 2-core machine shared with other jobs, a load of 8-13)."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return f"{os.cpu_count()} cores"
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"
