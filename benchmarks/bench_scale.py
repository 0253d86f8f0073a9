"""Scale: 1,000,000 ratings (synthetic, the shape of MovieLens 1M) loaded, trained and shown in the grid.

Two files are generated with the same recipe: 1,000,209 ratings of 6,040 users × 3,706 movies (MovieLens
1M's counts; whole stars 1..5, popular movies rated more often, low-rank tastes plus noise) and a
reference with a tenth of the users and ratings. Each measurement runs in a fresh process so that peak
memory (the kernel's high-water mark of resident memory, minus what the process held before) belongs to
that step alone. Printed: seconds and peak MB to load and to train the default model, then in the
window: opening the file, repainting the grid after a jump to a random cell, and the longest event-loop
stall while training; each with its ratio to the reference measured in this same run.

Targets (issue #7): it loads and trains; the grid stays responsive (repaint and stall under 50 ms).
Run: python benchmarks/bench_scale.py
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import common  # noqa: F401  (chooses the BLAS threads, as every entry point does)
from common import reset_peak, rss_mb

ML_1M_USERS, ML_1M_ITEMS, ML_1M_RATINGS = 6_040, 3_706, 1_000_209


# Past this many users x movies, distinct users per movie are drawn by rejection (below, by sorting a
# random key per user for every movie, as the 1M and 10M figures in the README were made).
SORTED_DRAW_CELLS = 10**9


def synthetic_ratings(n_users: int, n_items: int, n_ratings: int, seed: int = 0):
    """(users, items, stars, timestamps) of MovieLens-shaped ratings with distinct (user, movie) pairs:
    whole stars 1..5, popular movies rated more often, low-rank tastes plus noise."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    picks_per_item = rng.multinomial(n_ratings, popularity / popularity.sum())
    picks_per_item = np.minimum(picks_per_item, n_users)
    shortfall = n_ratings - picks_per_item.sum()
    room = n_users - picks_per_item
    for item in np.argsort(-room):  # hand out what the cap took from the most popular movies
        if shortfall <= 0:
            break
        extra = min(room[item], shortfall)
        picks_per_item[item] += extra
        shortfall -= extra
    items = np.repeat(np.arange(n_items), picks_per_item)
    if n_users * n_items <= SORTED_DRAW_CELLS:
        users = _distinct_users_sorted(rng, picks_per_item, n_users)
    else:
        users = _distinct_users_rejected(rng, picks_per_item, n_users)
    tastes_u, tastes_i = rng.normal(0, 0.5, (n_users, 5)), rng.normal(0, 0.5, (n_items, 5))
    user_bias, item_bias = rng.normal(0, 0.4, n_users), rng.normal(0, 0.5, n_items)
    stars = np.empty(len(items), dtype=np.int64)
    for start in range(0, len(items), 2**22):  # in slices: the temporaries of 25M ratings would be gigabytes
        u, i = users[start:start + 2**22], items[start:start + 2**22]
        score = (3.6 + user_bias[u] + item_bias[i] + np.einsum("ij,ij->i", tastes_u[u], tastes_i[i])
                 + rng.normal(0, 0.7, len(u)))
        stars[start:start + len(u)] = np.clip(np.rint(score), 1, 5)
    stamps = 956_703_932 + rng.integers(0, 10**8, len(items))
    return users, items, stars, stamps


def _distinct_users_sorted(rng, picks_per_item, n_users):
    """Distinct users per movie: the first k of a random order of all users, drawn for a few movies at a
    time (the same numbers as one n_items x n_users draw, without its memory at 10M ratings)."""
    n_items = len(picks_per_item)
    users = np.empty(int(picks_per_item.sum()), dtype=np.int64)
    ends = np.cumsum(picks_per_item)
    per_draw = max(1, 2**22 // n_users)
    for first in range(0, n_items, per_draw):
        last = min(first + per_draw, n_items)
        keys = rng.random((last - first, n_users)).argsort(axis=1)
        for item in range(first, last):
            users[ends[item] - picks_per_item[item]:ends[item]] = keys[item - first, :picks_per_item[item]]
    return users


def _distinct_users_rejected(rng, picks_per_item, n_users):
    """Distinct users per movie, uniformly as by sorting, at MovieLens 25M's size (9.6 billion cells would
    take half an hour to sort): draw users at random, drop repeats, draw again for what is missing. A movie
    rated by more than half the users is drawn as the users who did not rate it."""
    n_items = len(picks_per_item)
    dense = picks_per_item > n_users // 2
    wanted = np.where(dense, n_users - picks_per_item, picks_per_item)  # users drawn per movie
    chosen = np.zeros(0, dtype=np.int64)  # keys movie * n_users + user, distinct
    missing = wanted.copy()
    while missing.sum():
        draw_items = np.repeat(np.arange(n_items), missing + missing // 8 + 1)
        keys = np.unique(np.concatenate([chosen, draw_items * n_users + rng.integers(0, n_users, len(draw_items))]))
        # keep at most `wanted` per movie, picked at random among the distinct ones drawn
        order = np.lexsort((rng.random(len(keys)), keys // n_users))
        keys = keys[order]
        movie = keys // n_users
        starts = np.searchsorted(movie, np.arange(n_items))
        rank = np.arange(len(keys)) - starts[movie]
        chosen = np.sort(keys[rank < wanted[movie]])
        missing = wanted - np.bincount(chosen // n_users, minlength=n_items)
    users = np.empty(int(picks_per_item.sum()), dtype=np.int64)
    ends = np.cumsum(picks_per_item)
    sparse_rows = ~dense[chosen // n_users]
    users_of_sparse = chosen[sparse_rows] % n_users
    sparse_ends = np.cumsum(np.where(dense, 0, picks_per_item))
    for item in np.flatnonzero(~dense):  # the drawn users, in a random order per movie
        part = users_of_sparse[sparse_ends[item] - picks_per_item[item]:sparse_ends[item]]
        users[ends[item] - picks_per_item[item]:ends[item]] = rng.permutation(part)
    excluded = chosen[~sparse_rows]
    excluded_movie = excluded // n_users
    for item in np.flatnonzero(dense):
        keep = np.ones(n_users, dtype=bool)
        keep[excluded[excluded_movie == item] % n_users] = False
        users[ends[item] - picks_per_item[item]:ends[item]] = rng.permutation(np.flatnonzero(keep))
    return users


def write_ratings(path: Path, n_users: int, n_items: int, n_ratings: int, seed: int = 0):
    """MovieLens-style CSV (userId,movieId,rating,timestamp) of :func:`synthetic_ratings`."""
    import pandas as pd

    users, items, stars, stamps = synthetic_ratings(n_users, n_items, n_ratings, seed)
    with open(path, "w") as handle:
        handle.write("userId,movieId,rating,timestamp\n")
        for start in range(0, len(users), 2**21):  # pandas writes integers about 20 times faster than savetxt
            part = slice(start, start + 2**21)
            pd.DataFrame({"u": users[part] + 1, "i": items[part] + 1, "r": stars[part], "t": stamps[part]}).to_csv(
                handle, header=False, index=False)


# --- measurements, each in its own process -------------------------------------------------------
def measure_core(path: str) -> dict:
    from cfexplorer.core.models import make_model
    from cfexplorer.io.readers import read_any
    from cfexplorer.lazy import load_now

    load_now()
    reset_peak()
    before = rss_mb("VmRSS")
    start = time.perf_counter()
    ratings = read_any(path).ratings
    load_seconds = time.perf_counter() - start
    load_peak = rss_mb("VmHWM") - before

    reset_peak()
    before = rss_mb("VmRSS")
    model = make_model("mf")
    start = time.perf_counter()
    model.fit(ratings)
    train_seconds = time.perf_counter() - start
    train_peak = rss_mb("VmHWM") - before
    return {"ratings": ratings.n_ratings, "load_s": load_seconds, "load_mb": load_peak,
            "train_s": train_seconds, "train_mb": train_peak, "epochs": model.n_epochs,
            "train_rmse": model.history_[-1].train["rmse"]}


def measure_gui(path: str) -> dict:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["CFEXPLORER_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from common import benchmark_window
    from cfexplorer.lazy import load_now

    app, window = benchmark_window()
    load_now()
    start = time.perf_counter()
    window.open_file(path, confirm=False)
    app.processEvents()
    open_seconds = time.perf_counter() - start

    view, model = window.grid, window.grid.model()
    rng = np.random.default_rng(1)
    repaints = []
    for _ in range(40):
        view.scrollTo(model.index(int(rng.integers(model.rowCount())), int(rng.integers(model.columnCount()))))
        clock = QElapsedTimer()
        clock.start()
        view.viewport().repaint()
        repaints.append(clock.nsecsElapsed() / 1e6)

    gaps, clock = [], QElapsedTimer()
    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(lambda: gaps.append(clock.restart()))
    panel = window.training_panel
    panel.epochs.setValue(10)
    done = QEventLoop()
    panel.sig_run_ended.connect(done.quit)
    clock.start()
    heartbeat.start()
    start = time.perf_counter()
    panel.train()
    done.exec()
    heartbeat.stop()
    train_seconds = time.perf_counter() - start
    # the grid after training: predictions in the "?" cells, per visible cell
    after = []
    for _ in range(20):
        view.scrollTo(model.index(int(rng.integers(model.rowCount())), int(rng.integers(model.columnCount()))))
        clock.start()
        view.viewport().repaint()
        after.append(clock.nsecsElapsed() / 1e6)
    window.undo_stack.setClean()
    window.close()
    return {"open_s": open_seconds, "repaint_median_ms": float(np.median(repaints)),
            "repaint_max_ms": float(np.max(repaints)), "predicted_repaint_max_ms": float(np.max(after)),
            "train_in_window_s": train_seconds, "stall_max_ms": float(max(gaps, default=0.0)),
            "stall_p99_ms": float(np.percentile(gaps, 99)) if gaps else 0.0}


def run_child(step: str, path: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, step, str(path)], capture_output=True, text=True,
                            cwd=Path(__file__).parent)
    if result.returncode != 0:
        raise RuntimeError(f"{step} on {path.name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] in ("--core", "--gui"):
        measure = measure_core if sys.argv[1] == "--core" else measure_gui
        print(json.dumps(measure(sys.argv[2])))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        files = {"reference (1/10)": Path(folder) / "ratings_100k.csv", "1M": Path(folder) / "ratings_1m.csv"}
        start = time.perf_counter()
        write_ratings(files["reference (1/10)"], ML_1M_USERS // 10, ML_1M_ITEMS, ML_1M_RATINGS // 10)
        write_ratings(files["1M"], ML_1M_USERS, ML_1M_ITEMS, ML_1M_RATINGS)
        print(f"generated in {time.perf_counter() - start:.1f} s: "
              f"{files['1M'].stat().st_size / 1e6:.0f} MB for 1M ratings")
        results = {}
        for name, path in files.items():
            print(f"  measuring {name} ...", flush=True)
            results[name] = {**run_child("--core", path), **run_child("--gui", path)}
    reference, big = results["reference (1/10)"], results["1M"]
    rows = [("ratings", "ratings", "{:,.0f}"), ("load s", "load_s", "{:.2f}"), ("load peak MB", "load_mb", "{:.0f}"),
            (f"train s ({big['epochs']} ALS epochs)", "train_s", "{:.2f}"), ("train peak MB", "train_mb", "{:.0f}"),
            ("train RMSE", "train_rmse", "{:.3f}"),
            ("open in window s", "open_s", "{:.2f}"), ("grid repaint median ms", "repaint_median_ms", "{:.1f}"),
            ("grid repaint max ms", "repaint_max_ms", "{:.1f}"),
            ("repaint with predictions max ms", "predicted_repaint_max_ms", "{:.1f}"),
            ("train 10 epochs in window s", "train_in_window_s", "{:.1f}"),
            ("longest stall training ms", "stall_max_ms", "{:.0f}"), ("stall 99th pct ms", "stall_p99_ms", "{:.0f}")]
    print(f"\n{'':<34}{'reference':>12}{'1M':>12}{'ratio':>8}")
    for label, key, form in rows:
        ratio = big[key] / reference[key] if reference[key] else float("nan")
        print(f"{label:<34}{form.format(reference[key]):>12}{form.format(big[key]):>12}{ratio:>8.1f}")
    responsive = max(big["repaint_max_ms"], big["predicted_repaint_max_ms"], big["stall_max_ms"]) <= 50
    print(f"\ngrid responsive on 1M ratings (repaints and stalls ≤ 50 ms): {'met' if responsive else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
