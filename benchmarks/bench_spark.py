"""Our ALS against Spark MLlib's local ALS on the same synthetic ratings (MovieLens 1M's and 10M's shapes):
fit time, peak memory and test RMSE, side by side, as ratios in the same run (median and worst of --runs).

Both train rank 10 for 10 iterations on the same 80/20 split; λ = 10 for ours and regParam = λ / mean
ratings per user for Spark (cfexplorer/spark_als.py says why they differ); ours without biases, with the
global mean. Each measurement runs in its own process; Spark's memory is its whole process tree (Python and
the JVM), sampled every 0.2 s. Spark's time is its fit alone (its session's start is printed apart).

Run:  python benchmarks/bench_spark.py [--sizes 1M,10M] [--runs 3] [--master local[*]]
Needs pyspark and Java (pip install -e ".[spark]"; apt-get install openjdk-17-jre-headless).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHAPES = {"1M": (6_040, 3_706, 1_000_209), "10M": (69_878, 10_677, 10_000_054)}


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), in MB."""
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(child) for child in children)
        except (OSError, ValueError):
            continue
    return total


def run_measured(command: list[str], env: dict) -> tuple[dict, float]:
    """Run ``command`` (it prints one JSON line last), sampling its process tree's memory: (result, peak MB)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=HERE)
    peak = [0.0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}… failed: {err.strip().splitlines()[-1] if err.strip() else ''}")
    return json.loads(out.strip().splitlines()[-1]), peak[0]


OURS = """
import json, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from cfexplorer import api
from cfexplorer.core import metrics
api.choose_blas_threads()
ratings = api.read_ratings({path!r})
train, test = api.train_test_split(ratings, 0.2, seed=0)
model = api.make_model("mf", n_factors=10, reg=10.0, n_epochs=10, optimizer="als", user_bias=False,
                       item_bias=False, global_mean=True, mean_normalization=False, seed=0)
started = time.perf_counter()
model.fit(train)
seconds = time.perf_counter() - started
seen_users = np.bincount(train.users, minlength=ratings.n_users) > 0
seen_items = np.bincount(train.items, minlength=ratings.n_items) > 0
scored = seen_users[test.users] & seen_items[test.items]  # the pairs Spark scores (it drops unseen ids)
rmse = metrics.rmse(test.values[scored], model.predict(test.users[scored], test.items[scored]))
print(json.dumps({{"fit_seconds": seconds, "test_rmse": rmse}}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,10M")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--master", default="local[*]")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    from bench_scale import write_ratings

    from cfexplorer.spark_als import missing_requirement

    missing = missing_requirement()
    if missing:
        print(f"skipped: {missing}")
        return 0
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CFEXPLORER_SPARK_DRIVER_MEMORY": "8g"}
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes.split(","):
            n_users, n_items, n_ratings = SHAPES[size]
            path = Path(folder) / f"synthetic-{size}.csv"
            write_ratings(path, n_users, n_items, n_ratings)
            rows = {"ours": [], "spark": []}
            for run in range(args.runs):  # interleaved, so that a busy moment hits both
                ours, ours_peak = run_measured([sys.executable, "-c", OURS.format(root=str(ROOT), path=str(path))],
                                               env)
                rows["ours"].append((ours["fit_seconds"], ours_peak, ours["test_rmse"]))
                spark, spark_peak = run_measured(
                    [sys.executable, "-m", "cfexplorer", "train", str(path), "--engine", "spark", "--master",
                     args.master, "--factors", "10", "--epochs", "10", "--reg", "10",
                     "--model-dir", str(Path(folder) / "spark-model"), "--json"], env)
                rows["spark"].append((spark["fit_seconds"], spark_peak, spark["test_rmse"],
                                      spark["spark_startup_seconds"]))
                print(f"{size} run {run + 1}: ours {ours['fit_seconds']:.1f} s, {ours_peak:.0f} MB, RMSE "
                      f"{ours['test_rmse']:.4f}; Spark {spark['fit_seconds']:.1f} s (+{spark['spark_startup_seconds']:.0f}"
                      f" s start), {spark_peak:.0f} MB, RMSE {spark['test_rmse']:.4f}", flush=True)
            for what, column in (("fit time", 0), ("peak memory", 1)):
                ratios = [s[column] / o[column] for s, o in zip(rows["spark"], rows["ours"])]
                print(f"{size}: Spark / ours {what}: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}")
            differences = [s[2] - o[2] for s, o in zip(rows["spark"], rows["ours"])]
            print(f"{size}: Spark − ours test RMSE: median {statistics.median(differences):+.4f}, "
                  f"widest {max(differences, key=abs):+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
