"""What reading a rating file costs, for the limits in cfexplorer/io/limits.py.

1. Memory overhead: peak memory of reading a text file over its size, long (a few columns) and wide
   (a matrix), each in a fresh process (resident memory growth and tracemalloc's peak, the larger);
   LONG_TEXT_OVERHEAD and WIDE_TEXT_OVERHEAD must stay above what this prints.
2. Sparse ids: 100,000 users × 100,000 movies with one rating each (ids that would make a
   10-billion-cell matrix) against the same number of ratings among 300 × 334 ids: the ratio of
   load times (median and worst of several runs) stays near 1 when nothing goes dense.

Run: python benchmarks/bench_read_limits.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import common  # noqa: F401 - BLAS threads chosen as every entry point chooses them

ROOT = Path(__file__).resolve().parents[1]

MEASURE = """
import resource, sys, tracemalloc
sys.path.insert(0, sys.argv[2])
from cfexplorer.core.threads import choose_blas_threads
choose_blas_threads()  # as every entry point
from cfexplorer.io.readers import read_ratings
import pandas, scipy.sparse
read_ratings(sys.argv[3])  # warm: first-use allocations are not the file's
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
tracemalloc.start()
read_ratings(sys.argv[1])
traced = tracemalloc.get_traced_memory()[1]
print(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base, traced))
"""


def write_files(folder: Path) -> dict:
    rng = np.random.default_rng(0)
    files = {}
    n = 1_000_000
    path = folder / "long_short_cells.csv"
    users, items, stars = rng.integers(0, 999, n), rng.integers(0, 999, n), rng.integers(1, 6, n)
    path.write_text("\n".join(f"{u},{i},{r}" for u, i, r in zip(users, items, stars)))
    files["long, 1M ratings of short ids"] = path
    path = folder / "long_movielens_like.csv"
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(
        f"{u},{i},{r / 2},{964982703 + k}" for k, (u, i, r) in enumerate(zip(users, items * 97, stars * 2))))
    files["long, MovieLens-like lines"] = path
    rows, columns = 300, 20_000
    header = "User," + ",".join(f"m{j}" for j in range(columns))
    path = folder / "wide_empty.csv"
    path.write_text(header + "\n" + "\n".join(f"u{k}" + "," * columns for k in range(rows)))
    files["wide, empty cells (1 byte each)"] = path
    path = folder / "wide_full.csv"
    path.write_text(header + "\n" + "\n".join(f"u{k}," + ",".join(["3"] * columns) for k in range(rows)))
    files["wide, every cell rated"] = path
    path = folder / "wide_sparse.csv"
    path.write_text(header + "\n" + "\n".join(
        f"u{k}," + ",".join(np.where(rng.random(columns) < 0.02, "4.5", "")) for k in range(rows)))
    files["wide, 2% rated (MovieLens density)"] = path
    return files


def overheads(folder: Path) -> None:
    warm = folder / "warm.csv"
    warm.write_text("user,item,rating\na,b,1\n")
    for label, path in write_files(folder).items():
        done = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(ROOT), str(warm)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{label}: failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        grown = int(done.stdout)
        print(f"{label:40s} {path.stat().st_size / 1e6:6.1f} MB file, peak {grown / 1e6:7.1f} MB: "
              f"{grown / path.stat().st_size:5.1f} × its size")


def sparse_ids(folder: Path, runs: int = 5) -> None:
    sys.path.insert(0, str(ROOT))
    from cfexplorer.io.readers import read_ratings

    n = 100_000
    ids = np.arange(n)
    sparse = folder / "sparse.csv"
    sparse.write_text("user,item,rating\n" + "\n".join(f"{u},{i},4" for u, i in zip(ids, ids[::-1])))
    reference = folder / "reference.csv"
    reference.write_text("user,item,rating\n" + "\n".join(f"{u % 300},{u // 300},4" for u in ids))
    ratios = []
    for _ in range(runs):
        start = time.perf_counter()
        read_ratings(reference)
        middle = time.perf_counter()
        ratings = read_ratings(sparse).ratings
        ratios.append((time.perf_counter() - middle) / (middle - start))
    print(f"{ratings}: load time over the 300 × 334 reference: median {statistics.median(ratios):.2f}, "
          f"worst {max(ratios):.2f}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        overheads(Path(folder))
        sparse_ids(Path(folder))
    print(f"(free memory now: {os.popen('grep MemAvailable /proc/meminfo').read().split()[1:2]} kB)")
