"""Editing the grid of a large file: each edit a user makes, timed in the window as the click or key runs it
(the edit, the grid's index and header counts, the repaint), against the same edits on MovieLens latest-small
(or the course example when it is absent) in the same process.

Edits, each ROUNDS times (median and worst printed): type a rating into a cell, clear a cell, add a user, add
a movie, remove a user, and undo. Sizes: synthetic MovieLens-style ratings of 1M's shape (1,000,209 ratings)
and, with --10m, ten times its users (10,002,090; writing and opening it takes about a minute). The first
round of each size is reported apart: on this virtual machine memory touched for the first time is slow, and
the first edit after opening a file touches its new arrays for the first time.

What changed (issue #18, "fast where users feel it"): at 10M ratings a typed rating froze the window for 3.0 s
(a sort of every rating to find one cell, every rating checked again, counts and means made again from all),
adding a user 3.7 s (the grid's index sorted again), an undo 2.3-3.3 s.
Run: python benchmarks/bench_edits.py [--10m] [rounds]
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import common
from bench_gui_stall import wait
from bench_scale import ML_1M_ITEMS, ML_1M_RATINGS, ML_1M_USERS, write_ratings

ROUNDS = 5


def edits(window):
    """(name, action) of each edit, in the order they run; undo puts back what the round did."""
    from cfexplorer.core.edits import USERS, SetCells

    table = window.table

    def remove_first_user():
        window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(0, 0))))
        window.remove_selected(USERS)

    return [
        ("type a rating", lambda: table.request_edit(SetCells((0,), (1,), (3.0,)))),
        ("clear a cell", lambda: table.request_edit(SetCells((0,), (1,), (float("nan"),)))),
        ("add a user", lambda: window.add_user("new user")),
        ("add a movie", lambda: window.add_movie("new movie")),
        ("remove a user", remove_first_user),
        ("undo", window.undo_stack.undo),
    ]


def measure(window, app, path, rounds: int) -> dict:
    """{edit: [milliseconds per round]} for the file at ``path`` (None: the course example already open)."""
    if path is not None:
        window.open_file(path, confirm=False)
        while window.documents.busy:
            wait(0.2)
        wait(0.5)
    times = {}
    for _ in range(rounds):
        for name, action in edits(window):
            start = time.perf_counter()
            action()
            app.processEvents()
            window.grab()  # the repaint the edit asks for
            times.setdefault(name, []).append(1000 * (time.perf_counter() - start))
        while window.undo_stack.canUndo():
            window.undo_stack.undo()
    return times


def main() -> int:
    ten = "--10m" in sys.argv
    numbers = [argument for argument in sys.argv[1:] if argument.isdigit()]
    rounds = int(numbers[0]) if numbers else ROUNDS
    app, window = common.benchmark_window()
    reference_path = common.MOVIELENS_RATINGS if common.MOVIELENS_RATINGS.exists() else None
    folder = Path(tempfile.mkdtemp())
    sizes = [("1M", 1)] + ([("10M", 10)] if ten else [])
    results = {"reference": measure(window, app, reference_path, rounds)}
    print(f"reference: {window.table.ratings}", flush=True)
    for name, factor in sizes:
        path = folder / f"ratings_{name}.csv"
        write_ratings(path, ML_1M_USERS * factor, ML_1M_ITEMS, ML_1M_RATINGS * factor)
        results[name] = measure(window, app, path, rounds)
        print(f"{name}: {window.table.ratings}", flush=True)
    print(f"\n{rounds} rounds; ms: median of rounds 2-{rounds} (worst), first round apart")
    print(f"{'':<16}" + "".join(f"{label:>26}" for label in results) + "".join(
        f"{name + ' / reference':>20}" for name, _ in sizes))
    for edit, _ in edits(window):
        cells, ratios = [], []
        reference = statistics.median(results["reference"][edit][1:] or results["reference"][edit])
        for label, per_edit in results.items():
            times = per_edit[edit]
            later = times[1:] or times
            cells.append(f"{statistics.median(later):.0f} ({max(later):.0f}), first {times[0]:.0f}")
            if label != "reference":
                ratios.append(f"{statistics.median(later) / max(reference, 0.1):.1f}")
        print(f"{edit:<16}" + "".join(f"{cell:>26}" for cell in cells) + "".join(f"{r:>20}" for r in ratios))
    window.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
