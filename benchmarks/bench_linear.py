"""Training time and memory against the number of ratings: the default model (ALS, 20 epochs) on
1,000,209 and 10,002,090 synthetic ratings shaped like MovieLens 1M (bench_scale.py's generator; 6,040
and 60,400 users, 3,706 movies, the same density).

Each size is trained in a fresh process, so that its peak memory (the kernel's high-water mark of
resident memory while training, minus what the process held before) belongs to training alone; sizes
alternate for a few rounds. Printed per size: the median epoch (epochs 2-20: the first also arranges
the ratings), the whole fit, peak bytes per rating; then the 10M/1M ratios.

Targets (issue #18): 10M/1M epoch ratio <= 11; 20 epochs on 10M ratings <= 60 s; peak memory while
training <= 200 bytes per rating.
Run: python benchmarks/bench_linear.py [rounds]
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import common  # noqa: F401  (chooses the BLAS threads, as every entry point does)
from bench_scale import ML_1M_ITEMS, ML_1M_RATINGS, ML_1M_USERS, reset_peak, rss_mb, synthetic_ratings

SCALES = {"1M": 1, "10M": 10}


def measure(scale: int) -> dict:
    from cfexplorer.core.models import make_model
    from cfexplorer.core.ratings import RatingScale, Ratings
    from cfexplorer.lazy import load_now

    users, items, stars, _ = synthetic_ratings(ML_1M_USERS * scale, ML_1M_ITEMS, ML_1M_RATINGS * scale)
    ratings = Ratings(users, items, stars, np.arange(ML_1M_USERS * scale), np.arange(ML_1M_ITEMS),
                      scale=RatingScale(1.0, 5.0, 1.0))
    del users, items, stars
    load_now()
    model = make_model("mf")
    reset_peak()
    before = rss_mb("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    ends = [record.seconds for record in model.iter_fit(ratings)]
    fit_seconds, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = rss_mb("VmHWM") - before
    epochs = np.diff(ends)
    return {"ratings": ratings.n_ratings, "epochs": len(ends), "epoch_s": float(np.median(epochs)),
            "first_epoch_s": ends[0], "fit_s": fit_seconds, "fit_cpu_s": fit_cpu,
            "bytes_per_rating": peak * 2**20 / ratings.n_ratings, "peak_mb": peak,
            "train_rmse": model.history_[-1].train["rmse"]}


def run_child(scale: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--measure", str(scale)], capture_output=True, text=True,
                            cwd=Path(__file__).parent)
    if result.returncode != 0:
        raise RuntimeError(f"scale {scale} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure(int(sys.argv[2]))))
        return 0
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    results = {name: [] for name in SCALES}
    for round_ in range(rounds):
        for name, scale in SCALES.items():
            print(f"  round {round_ + 1}/{rounds}: {name} ...", flush=True)
            results[name].append(run_child(scale))
    print(f"\n{'':<28}" + "".join(f"{name + ' median':>14}{name + ' worst':>13}" for name in SCALES))
    rows = [("ratings", "ratings", "{:,.0f}"), ("epoch s (2-20)", "epoch_s", "{:.2f}"),
            ("first epoch s", "first_epoch_s", "{:.2f}"), ("fit s (20 epochs)", "fit_s", "{:.1f}"),
            ("fit CPU s", "fit_cpu_s", "{:.1f}"), ("peak MB", "peak_mb", "{:.0f}"),
            ("peak bytes per rating", "bytes_per_rating", "{:.0f}"), ("train RMSE", "train_rmse", "{:.3f}")]
    for label, key, form in rows:
        cells = []
        for name in SCALES:
            values = [run[key] for run in results[name]]
            cells.append(f"{form.format(np.median(values)):>14}{form.format(max(values)):>13}")
        print(f"{label:<28}" + "".join(cells))
    small, big = results["1M"], results["10M"]
    epoch_ratio = [b["epoch_s"] / s["epoch_s"] for s, b in zip(small, big)]
    memory_ratio = [b["peak_mb"] / s["peak_mb"] for s, b in zip(small, big)]
    print(f"\n10M / 1M epoch: median {np.median(epoch_ratio):.1f}, worst {max(epoch_ratio):.1f} (target <= 11)")
    print(f"10M / 1M peak memory: median {np.median(memory_ratio):.1f}, worst {max(memory_ratio):.1f}")
    fit = max(run["fit_s"] for run in big)
    per_rating = max(run["bytes_per_rating"] for run in small + big)
    print(f"20 epochs on 10M ratings, worst {fit:.1f} s (target <= 60): {'met' if fit <= 60 else 'NOT met'}; "
          f"peak bytes per rating, worst {per_rating:.0f} (target <= 200): {'met' if per_rating <= 200 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
