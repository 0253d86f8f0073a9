"""MovieLens 25M's shape in the window: 25,000,095 synthetic ratings of 162,541 users × 59,047 movies.

Issue #18's goal: the file opens in the window with progress and Cancel, trains with the window responsive
(longest stall ≤ 50 ms) and the factor space shows all 59,047 movies with hover ≤ 16 ms. Everything goes
through the real window: ``MainWindow.open_file`` (the background read behind the progress dialog: the
dialog must show, Cancel is pressed once after a second and must leave the window as it was, then the
whole open), the Train button's path with a 5 ms QTimer heartbeat recording the event loop's gaps (RUNS
runs with the loss curves in front, RUNS with the factor space in front), and the factor plot's own hover
path (``FactorPlot._on_mouse_moved``: nearest point, hover text) at movie positions, plus the whole mouse
event with its repaint as ``bench_factor_space.py`` measures it.

References measured in this same run, printed beside each figure as a ratio: MovieLens latest-small
(100,836 ratings) opened and trained the same way, the idle window's heartbeat, and hover on the course
preset's 5 movies. The machine's load is printed with the figures.

The ratings file is written once (numpy, MovieLens-like skewed counts of ratings per movie and per user, see
``synthetic_ratings``) to BENCH_DIR and kept for later runs; 25M ratings take about 600 MB of CSV and a few
minutes to write, and the window peaks at several GB. ``--scale 0.1`` (users, movies and ratings a tenth) is a
quick check.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_25m.py [--scale S] [--epochs N] [--runs R]
     [--optimizer als|adam|gd|sgd] [--busy]
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CFEXPLORER_NO_DIALOGS"] = "1"

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402

from bench_factor_space import measure as measure_pointer  # noqa: E402
from bench_gui_stall import Heartbeat, train_with_heartbeat, wait  # noqa: E402
from common import MOVIELENS_RATINGS, benchmark_window, busy_processes, machine_load, rss_mb  # noqa: E402
from cfexplorer.io import numeric_columns  # noqa: E402

ML_25M_USERS, ML_25M_ITEMS, ML_25M_RATINGS = 162_541, 59_047, 25_000_095
BENCH_DIR = Path(os.environ.get("CFEXPLORER_BENCH_DIR", "/tmp/cfexplorer-bench"))
CANCEL_AFTER_S = 1.0
HOVERS = 300
STALL_TARGET_MS, HOVER_TARGET_MS = 50, 16
MOUSE_RATE = 30  # hover events a second at most: the factor plot's SignalProxy (ui/factor_plot.py)


def synthetic_ratings(n_users: int, n_items: int, n_ratings: int, seed: int = 0):
    """(users, items, stars) of ``n_ratings`` distinct (user, movie) pairs, sorted by user as MovieLens files
    are: movies and users drawn with weights 1/rank^0.5 in a random order of ranks (at 25M's shape the busiest
    movie gets about 50,000 ratings and the busiest user about 30,000, as in MovieLens 25M), whole stars 1..5
    from low-rank tastes plus noise. Drawn in a few vectorized rounds (repeats dropped, the shortfall drawn
    again): 25M ratings in a minute, where bench_scale's uniform-per-movie recipe takes most of an hour."""
    rng = np.random.default_rng(seed)
    item_p = rng.permutation(1.0 / np.sqrt(np.arange(1, n_items + 1)))
    user_p = rng.permutation(1.0 / np.sqrt(np.arange(1, n_users + 1)))
    item_p, user_p = item_p / item_p.sum(), user_p / user_p.sum()
    keys = np.zeros(0, dtype=np.int64)  # user * n_items + item, distinct
    while len(keys) < n_ratings:
        wanted = n_ratings - len(keys)
        draw = wanted + wanted // 20 + 1000
        users = rng.choice(n_users, draw, p=user_p).astype(np.int64)
        items = rng.choice(n_items, draw, p=item_p).astype(np.int64)
        keys = np.unique(np.concatenate([keys, users * n_items + items]))
    surplus = np.ones(len(keys), dtype=bool)
    surplus[rng.choice(len(keys), len(keys) - n_ratings, replace=False)] = False  # drop a few at random
    keys = keys[surplus]
    users, items = keys // n_items, keys % n_items
    tastes_u, tastes_i = rng.normal(0, 0.5, (n_users, 5)), rng.normal(0, 0.5, (n_items, 5))
    user_bias, item_bias = rng.normal(0, 0.4, n_users), rng.normal(0, 0.5, n_items)
    stars = np.empty(n_ratings, dtype=np.int8)
    for start in range(0, n_ratings, 2**22):  # in slices: the temporaries of 25M ratings would be gigabytes
        u, i = users[start:start + 2**22], items[start:start + 2**22]
        score = (3.6 + user_bias[u] + item_bias[i] + np.einsum("ij,ij->i", tastes_u[u], tastes_i[i])
                 + rng.normal(0, 0.7, len(u)))
        stars[start:start + len(u)] = np.clip(np.rint(score), 1, 5)
    return users, items, stars


def write_ratings(path: Path, n_users: int, n_items: int, n_ratings: int, seed: int = 0):
    """MovieLens-style CSV (userId,movieId,rating,timestamp) of :func:`synthetic_ratings`."""
    import pandas as pd

    users, items, stars = synthetic_ratings(n_users, n_items, n_ratings, seed)
    stamps = 956_703_932 + np.random.default_rng(seed + 1).integers(0, 10**8, n_ratings)
    with open(path, "w") as handle:
        handle.write("userId,movieId,rating,timestamp\n")
        for start in range(0, n_ratings, 2**21):  # pandas writes integers about 20 times faster than savetxt
            part = slice(start, start + 2**21)
            pd.DataFrame({"u": users[part] + 1, "i": items[part] + 1, "r": stars[part], "t": stamps[part]}).to_csv(
                handle, header=False, index=False)


def ratings_file(scale: float) -> Path:
    """The synthetic file at ``scale`` (written on first use, kept in BENCH_DIR)."""
    n_users, n_items = round(ML_25M_USERS * scale), round(ML_25M_ITEMS * scale)
    n_ratings = round(ML_25M_RATINGS * scale)
    path = BENCH_DIR / f"ml25m-shape-{n_ratings}-{n_users}x{n_items}.csv"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        partial = path.with_suffix(".partial")
        write_ratings(partial, n_users, n_items, n_ratings)
        partial.rename(path)
        print(f"wrote {path} ({path.stat().st_size / 2**20:,.0f} MB) in {time.perf_counter() - start:.0f} s",
              flush=True)
    return path


def open_with_cancel(window, path: Path, heartbeat: Heartbeat) -> dict:
    """Open ``path`` through the window twice: Cancel pressed CANCEL_AFTER_S after the progress dialog shows
    (the window must keep its document), then to the end. Seconds, whether the dialog showed, and the event
    loop's longest gap while the file was read and while the document was installed."""
    documents = window.documents
    before = window.table.ratings
    seen = {}

    def watch():
        dialog = documents.progress_dialog if hasattr(documents, "progress_dialog") else None
        if dialog is not None and dialog.isVisible() and "shown" not in seen:
            seen["shown"] = time.perf_counter()
        if "cancel" in seen and "shown" in seen and "cancelled" not in seen and \
                time.perf_counter() - seen["shown"] >= CANCEL_AFTER_S:
            seen["cancelled"] = time.perf_counter()
            documents.cancel_job()

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(watch)
    poll.start()
    seen["cancel"] = True
    start = time.perf_counter()
    opened = window.open_file(path, confirm=False)
    cancel_s = time.perf_counter() - seen.get("cancelled", start)
    cancelled_ok = not opened and window.table.ratings is before and "cancelled" in seen
    dialog_on_cancelled_run = "shown" in seen
    seen.clear()
    heartbeat.start()
    start = time.perf_counter()
    opened = window.open_file(path, confirm=False)
    end = time.perf_counter()
    read_gaps = heartbeat.stop()
    poll.stop()
    return {"opened": opened, "seconds": end - start, "dialog": dialog_on_cancelled_run and "shown" in seen,
            "cancelled_ok": cancelled_ok, "cancel_s": cancel_s, "longest_gap_ms": float(read_gaps.max()),
            "ratings": window.table.ratings}


def train_runs(window, heartbeat: Heartbeat, optimizer: str, epochs: int, runs: int, dock) -> list:
    """``runs`` training runs with ``dock`` in front: (longest gap ms, 99th percentile ms, seconds, updates/s)."""
    dock.raise_()
    wait(0.3)
    results = []
    for _ in range(runs):
        gaps, elapsed, rate = train_with_heartbeat(window, heartbeat, optimizer, epochs)
        results.append((float(gaps.max()), float(np.percentile(gaps, 99)), elapsed, rate))
        print(f"  run: longest stall {gaps.max():.0f} ms, {elapsed:.1f} s", flush=True)
        wait(0.3)
    return results


def hover_at_points(view, app, count: int, pace_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Milliseconds of the factor plot's hover path (nearest point, hover text) at ``count`` movie positions:
    (wall clock, this thread's CPU time). Beside busy processes a hover's wall clock also holds the time its
    thread was off the CPU (waiting for a core, mostly; a page fault, the GIL); its CPU time is what the path
    itself cost.

    ``pace_s`` 0: back to back, the thread never idle (a bound no mouse reaches). Otherwise hovers fall due
    every ``pace_s``, as a mouse moved without pause delivers them (the plot's SignalProxy passes at most 30 a
    second), with the event loop waiting between (repaints included there, not in the figure), and each is
    timed from when it fell due: the thread's waking up counts, and so does the timer's rounding up to a whole
    millisecond (up to 1 ms more than a mouse's event waits). Other movie positions than back to back."""
    from cfexplorer.core.embedding import ITEM_KIND

    plot = view.plot
    n = len(plot.coordinates[ITEM_KIND])
    rng = np.random.default_rng(2 if pace_s else 1)
    times, cpu_times = [], []
    due = time.perf_counter()
    # Offscreen, no mouse is over the plot: the path would return at once (it did for the reference, "0.00 ms").
    plot.underMouse = lambda: True
    try:
        for index in rng.integers(0, n, count):
            position = plot.scene_position_of(ITEM_KIND, int(index))
            if pace_s:
                due += pace_s
                wait_until(due)
                start, cpu_start = due, time.thread_time()
            else:
                start, cpu_start = time.perf_counter(), time.thread_time()
            plot._on_mouse_moved((position,))
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.thread_time() - cpu_start) * 1000)
    finally:
        del plot.underMouse
    app.processEvents()
    return np.array(times), np.array(cpu_times)


def wait_until(moment: float):
    """Runs the event loop until ``time.perf_counter()`` reaches ``moment`` (at once if it has)."""
    remaining = moment - time.perf_counter()
    if remaining > 0:
        loop, timer = QEventLoop(), QTimer()
        timer.setSingleShot(True)
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(loop.quit)
        timer.start(math.ceil(remaining * 1000))
        loop.exec()
    while time.perf_counter() < moment:  # a millisecond's timer may wake a fraction of one early
        pass


def shown_movies(view) -> int:
    from cfexplorer.core.embedding import ITEM_KIND

    x, _ = view.plot.scatters[ITEM_KIND].getData()
    return 0 if x is None else int(np.isfinite(x).sum())


def show_factor_space(window, app):
    window.factor_dock.raise_()
    window.factor_dock.show()
    for _ in range(5):
        app.processEvents()
    wait(0.5)


def stats(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"median {np.median(values):7.1f}  worst {values.max():7.1f}"


def measure_everything(args, app, window, path: Path) -> dict:
    heartbeat = Heartbeat()
    out = {}
    # --- references, in this same process and load -------------------------------------------------------
    heartbeat.start()
    wait(2.0)
    out["idle_gap"] = float(heartbeat.stop().max())
    window.open_preset("course-eve")
    window.train_and_wait()
    show_factor_space(window, app)
    out["hover_ref"], _ = hover_at_points(window.factor_space, app, HOVERS)
    out["pointer_ref"] = measure_pointer(window.factor_space, app)
    if MOVIELENS_RATINGS.exists():
        start = time.perf_counter()
        window.open_file(MOVIELENS_RATINGS, confirm=False)
        out["open_ref_s"] = time.perf_counter() - start
        out["train_ref"] = train_runs(window, heartbeat, args.optimizer, args.epochs, args.runs, window.factor_dock)
    # --- the large file ------------------------------------------------------------------------------------
    out["open"] = open_with_cancel(window, path, heartbeat)
    print(f"  opened: {out['open']['seconds']:.1f} s, longest gap {out['open']['longest_gap_ms']:.0f} ms", flush=True)
    out["rss_after_open"] = rss_mb("VmRSS")
    if not out["open"]["opened"]:
        return out
    wait(0.5)
    out["train_curves"] = train_runs(window, heartbeat, args.optimizer, args.epochs, args.runs, window.curves_dock)
    out["train_factor"] = train_runs(window, heartbeat, args.optimizer, args.epochs, args.runs, window.factor_dock)
    show_factor_space(window, app)
    out["movies_shown"] = shown_movies(window.factor_space)
    out["hover"], out["hover_cpu"] = hover_at_points(window.factor_space, app, HOVERS)
    out["hover_paced"], out["hover_paced_cpu"] = hover_at_points(window.factor_space, app, HOVERS, pace_s=1 / MOUSE_RATE)
    out["pointer"] = measure_pointer(window.factor_space, app)
    out["rss_peak"] = rss_mb("VmHWM")
    return out


def report(args, out: dict, load: str):
    open_ = out["open"]
    ratings = open_["ratings"]
    print(f"\n=== {load}; {machine_load()}")
    print(f"file: {ratings}; optimizer {args.optimizer}, {args.epochs} epochs per run, {args.runs} runs per dock")
    if numeric_columns.compiled is not None:
        reader = "our compiled parser (io/_numbers.c), from the open file"
    elif numeric_columns.can_parse_streams():
        reader = "pyarrow, from the open file"
    else:
        reader = "pandas, from the file's bytes read whole (neither io/_numbers.c nor pyarrow)"
    print(f"read by: {reader}")
    print(f"open: progress dialog shown {open_['dialog']}; Cancel left the window as it was: {open_['cancelled_ok']}"
          f" (returned {open_['cancel_s']:.2f} s after Cancel); full open {open_['seconds']:.1f} s"
          + (f" (MovieLens latest-small {out['open_ref_s']:.2f} s, ratio {open_['seconds'] / out['open_ref_s']:.0f})"
             if "open_ref_s" in out else "")
          + f"; longest event-loop gap while opening {open_['longest_gap_ms']:.0f} ms; resident {out['rss_after_open']:,.0f} MB")
    if not open_["opened"]:
        print("the file did not open: nothing more measured")
        return
    idle = out["idle_gap"]
    print(f"idle window's longest gap (reference): {idle:.0f} ms")
    rows = [("latest-small, factor space in front", out.get("train_ref")),
            ("loss curves in front", out["train_curves"]), ("factor space in front", out["train_factor"])]
    for name, runs in rows:
        if not runs:
            continue
        longest = [r[0] for r in runs]
        print(f"training, {name:<38} longest stall per run {', '.join(f'{v:.0f}' for v in longest)} ms; "
              f"{stats(longest)} ms; 99th pct {np.median([r[1] for r in runs]):.0f} ms; "
              f"{np.median([r[3] for r in runs]):.1f} updates/s; {np.median([r[2] for r in runs]):.1f} s a run; "
              f"ratio to idle {np.median(longest) / max(idle, 1):.1f}")
    hover, hover_cpu, ref = out["hover"], out["hover_cpu"], out["hover_ref"]
    print(f"factor space: {out['movies_shown']:,} movies drawn of {ratings.n_items:,}")
    print(f"hover path at movie points (ms): {stats(hover)}; 95th {np.percentile(hover, 95):.1f}; "
          f"course preset {np.median(ref):.2f}; ratio {np.median(hover) / max(np.median(ref), 0.01):.0f} (the preset floored at 0.01 ms)")
    slowest = int(np.argmax(hover))
    print(f"hover path's own CPU time (ms): {stats(hover_cpu)}; the slowest hover's {hover_cpu[slowest]:.1f} of its "
          f"{hover[slowest]:.1f} (the rest off the CPU); hovers over {HOVER_TARGET_MS} ms: "
          f"{int((hover > HOVER_TARGET_MS).sum())} of {len(hover)}")
    paced, paced_cpu = out["hover_paced"], out["hover_paced_cpu"]
    slowest_paced = int(np.argmax(paced))
    print(f"hover path paced as a mouse ({MOUSE_RATE} a second, the event loop waiting between; from when each "
          f"fell due) (ms): {stats(paced)}; "
          f"95th {np.percentile(paced, 95):.1f}; over {HOVER_TARGET_MS} ms: {int((paced > HOVER_TARGET_MS).sum())} of "
          f"{len(paced)}; the slowest's own CPU time {paced_cpu[slowest_paced]:.1f} (from when the thread woke)")
    pointer, pointer_ref = out["pointer"], out["pointer_ref"]
    for what in ("hover", "pan"):
        print(f"mouse {what} event with repaint (ms): {stats(pointer[what])}; 95th "
              f"{np.percentile(pointer[what], 95):.1f}; course preset {np.median(pointer_ref[what]):.1f}; ratio "
              f"{np.median(pointer[what]) / max(np.median(pointer_ref[what]), 1e-3):.1f}")
    print(f"peak resident memory {out['rss_peak']:,.0f} MB")
    factor_stall = np.median([r[0] for r in out["train_factor"]])
    curves_stall = np.median([r[0] for r in out["train_curves"]])
    print(f"targets: stall ≤ {STALL_TARGET_MS} ms (median run): curves "
          f"{'met' if curves_stall <= STALL_TARGET_MS else 'NOT met'}, factor space "
          f"{'met' if factor_stall <= STALL_TARGET_MS else 'NOT met'}; all movies shown: "
          f"{'met' if out['movies_shown'] == ratings.n_items else 'NOT met'}; hover ≤ {HOVER_TARGET_MS} ms (median of "
          f"the hover path): {'met' if np.median(hover) <= HOVER_TARGET_MS else 'NOT met'}, every hover paced as a "
          f"mouse: {'met' if paced.max() <= HOVER_TARGET_MS else 'NOT met'}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="users, movies and ratings × this (1: 25M)")
    parser.add_argument("--epochs", type=int, default=3)
    # five, as issue #18 asks of the stall benchmarks (three until 2026-12-04: a median of three moved with one run)
    parser.add_argument("--runs", type=int, default=5, help="training runs per dock in front")
    parser.add_argument("--optimizer", default="als")
    parser.add_argument("--busy", action="store_true", help="also measure beside two spinning processes")
    args = parser.parse_args()
    path = ratings_file(args.scale)
    app, window = benchmark_window()
    loads = {"as the machine is": 0}
    if args.busy:
        loads["beside 2 busy processes"] = 2
    for load, processes in loads.items():
        with busy_processes(processes):
            wait(0.5)
            out = measure_everything(args, app, window, path)
        report(args, out, load)
    window.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
