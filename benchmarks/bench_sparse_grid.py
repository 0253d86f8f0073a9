"""A sparse grid: 100,000 users × 100,000 movies with one rating each (a 2.4 MB CSV, 10^10 cells) in the window.

Each file is opened in a fresh process, several times, so that peak memory (the kernel's high-water mark
of resident memory) belongs to that process and its open alone. In the window: the time to open the file,
the process's peak memory and what the open added to it, repaints after jumps to random cells, and the
grid operations that must stay bounded at that size (Ctrl+A then Delete, undo, Copy refused, sort by a
column, filter by name, the density filter, swap). Reference, measured the same way in the same run:
MovieLens latest-small (610 users × 9,724 movies, 100,836 ratings: as many ratings, 1,700 times fewer
cells), or the course example when MovieLens is absent.

Targets (issue #16): the file opens in under 2 s and 300 MB; a repaint after a jump anywhere is as fast
as on MovieLens.
Run: python benchmarks/bench_sparse_grid.py [MOVIELENS_RATINGS_CSV] [runs]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import reset_peak, rss_mb

SIDE = 100_000
REPAINT_JUMPS = 40


def write_sparse_ratings(path: Path, side: int = SIDE, seed: int = 0):
    """MovieLens-style CSV in which user u rated exactly one movie, each movie rated once."""
    rng = np.random.default_rng(seed)
    users, movies = np.arange(1, side + 1), rng.permutation(side) + 1
    stars = rng.integers(1, 6, side)
    stamps = 956_703_932 + rng.integers(0, 10**8, side)
    with open(path, "w") as handle:
        handle.write("userId,movieId,rating,timestamp\n")
        np.savetxt(handle, np.column_stack([users, movies, stars, stamps]), fmt="%d", delimiter=",")


def timed(app, action) -> float:
    start = time.perf_counter()
    action()
    app.processEvents()
    return time.perf_counter() - start


def measure(path: str) -> dict:
    """One process: open ``path`` (or the course example for "course") and drive the grid."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["CFEXPLORER_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QElapsedTimer

    from common import benchmark_window

    app, window = benchmark_window()
    app.processEvents()
    reset_peak()
    before = rss_mb("VmRSS")
    if path == "course":
        open_seconds = timed(app, lambda: window.open_preset("course"))
    else:
        open_seconds = timed(app, lambda: window.open_file(path, confirm=False))
    result = {"open_s": open_seconds, "open_added_mb": rss_mb("VmHWM") - before,
              "process_peak_mb": rss_mb("VmHWM"), "cells": window.table.rowCount() * window.table.columnCount()}

    grid, proxy = window.grid, window.proxy
    rng = np.random.default_rng(1)
    repaints, clock = [], QElapsedTimer()
    for _ in range(REPAINT_JUMPS):
        grid.scrollTo(proxy.index(int(rng.integers(proxy.rowCount())), int(rng.integers(proxy.columnCount()))))
        app.processEvents()
        clock.start()
        grid.viewport().repaint()
        repaints.append(clock.nsecsElapsed() / 1e6)
    result["repaint_median_ms"], result["repaint_max_ms"] = float(np.median(repaints)), float(np.max(repaints))

    grid.setFocus()
    result["select_all_s"] = timed(app, grid.selectAll)
    result["copy_all_s"] = timed(app, window.copy)
    result["delete_all_s"] = timed(app, grid.clear_selected_cells)
    result["undo_s"] = timed(app, window.undo_stack.undo)
    column = int(np.argmax(window.table.counts(window.table.column_axis)))  # the most-rated column
    result["sort_column_s"] = timed(app, lambda: window._on_column_header_click(column))
    result["filter_name_s"] = timed(app, lambda: window.filter_edit.setText("7"))
    result["density_s"] = timed(app, lambda: proxy.set_min_ratings(1, 1))
    result["swap_s"] = timed(app, window.swap_axes)
    result["steps_peak_mb"] = rss_mb("VmHWM")
    window.undo_stack.setClean()
    window.close()
    return result


def run_child(path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--measure", str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).parent)
    if done.returncode != 0:
        raise RuntimeError(f"measuring {path} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


ROWS = [("cells", "cells", "{:.2g}"), ("open in window s", "open_s", "{:.2f}"),
        ("process peak MB", "process_peak_mb", "{:.0f}"), ("open added MB", "open_added_mb", "{:.0f}"),
        ("repaint after a jump, median ms", "repaint_median_ms", "{:.1f}"),
        ("repaint after a jump, worst ms", "repaint_max_ms", "{:.1f}"),
        ("Ctrl+A s", "select_all_s", "{:.2f}"), ("Copy (refused when huge) s", "copy_all_s", "{:.2f}"),
        ("Delete all ratings s", "delete_all_s", "{:.2f}"), ("undo s", "undo_s", "{:.2f}"),
        ("sort by a column s", "sort_column_s", "{:.2f}"), ("filter by name s", "filter_name_s", "{:.2f}"),
        ("density filter s", "density_s", "{:.2f}"), ("swap s", "swap_s", "{:.2f}"),
        ("peak MB after all steps", "steps_peak_mb", "{:.0f}")]


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2])))
        return 0
    sys.path.insert(0, str(Path(__file__).parent))
    from common import MOVIELENS_RATINGS

    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else MOVIELENS_RATINGS
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    reference_name = "MovieLens" if reference.exists() else "course"
    with tempfile.TemporaryDirectory() as folder:
        sparse = Path(folder) / "ratings_100k_by_100k.csv"
        write_sparse_ratings(sparse)
        print(f"{sparse.stat().st_size / 1e6:.1f} MB CSV: {SIDE:,} users × {SIDE:,} movies, {SIDE:,} ratings; "
              f"reference {reference_name}; {runs} runs each, a fresh process per run")
        results = {"reference": [], "sparse": []}
        for _ in range(runs):  # interleaved, so that a busy spell of the machine hits both alike
            results["reference"].append(run_child(reference if reference_name == "MovieLens" else "course"))
            results["sparse"].append(run_child(sparse))
    print(f"\n{'':<34}{reference_name + ' median':>17}{'100k² median':>15}{'worst':>10}{'ratio':>8}")
    for label, key, form in ROWS:
        ref = statistics.median(run[key] for run in results["reference"])
        big = [run[key] for run in results["sparse"]]
        median, worst = statistics.median(big), max(big)
        ratio = median / ref if ref else float("nan")
        print(f"{label:<34}{form.format(ref):>17}{form.format(median):>15}{form.format(worst):>10}{ratio:>8.1f}")
    opened = max(run["open_s"] for run in results["sparse"])
    peak = max(run["process_peak_mb"] for run in results["sparse"])
    print(f"\nopens in under 2 s and 300 MB (worst run: {opened:.2f} s, {peak:.0f} MB): "
          f"{'met' if opened < 2 and peak < 300 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
