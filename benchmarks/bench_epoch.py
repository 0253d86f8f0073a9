"""One training epoch on MovieLens latest-small against this machine's matmul limit, in the same run.

An epoch's limit is its floating-point work divided by the rate of a 1000 x 1000 matrix product (dgemm,
on the BLAS threads every entry point chooses) measured just before it, round after round:

* ALS, the default model (16 factors and a bias: d = 17 unknowns a row, n ratings, r rated rows):
  symmetric Gram matrices 2 n d(d+1) + right-hand sides 4 n d + Cholesky and two triangular solves
  r (d^3/3 + 2 d^2) = 76 MFLOP; as the issue counted the code it replaced (full Gram matrices 4 n d^2,
  LU 2/3 d^3 a row): 136 MFLOP; the least the code's own method needs, counting each row with fewer
  than d ratings as the dual form solves it (n(n+1) d for its n x n Gram, n^3/3 to eliminate, 2 n d for
  the solution; 7,700 of latest-small's 9,724 movies): 55 MFLOP. All three ratios are printed. The
  first is the issue's definition; the second flatters (it counts work the code no longer does), the
  third is the strictest (work the code does not need to do is not counted). None counts the residual
  pass that gives J and the training RMSE (2 n d), and the rate is a large product's, which 17 x 17
  blocks cannot reach: the limit is a bound, not an attainable speed.
* Adam, full batch (the fast.ai dot product: 20 factors, biases, y-range): scores and the two sparse
  gradient products 6 n k, 14 n for biases, sigmoid and residuals, 14 per parameter for Adam's update
  and the weight decay: 14 MFLOP.

Each epoch is one step of the model's own iter_fit (its record, J and training RMSE included), the
first (which arranges the ratings) left out. Wall-clock and CPU time of this thread are both printed:
on a shared machine the CPU time shows what the code costs, the wall clock what a user waits.

Where the CPU runs more than one copy of the compiled kernels (core/_kernels.c: AVX-512, AVX2, none), each
model's epoch is then timed on each copy in turns, as bench_epoch times it (a matmul before each epoch), and
the ratio of each round's pair printed: what the wider copy gains on this machine.

Targets (issue #18): ALS within 5 times its limit, Adam within 10 times.
Run: python benchmarks/bench_epoch.py [path/to/ratings.csv] [rounds]
"""

import sys
import time

import numpy as np

from common import load_ratings
from cfexplorer.core import kernels
from cfexplorer.core.models import make_model
from cfexplorer.core.ratings import train_test_split

GEMM_SIZE = 1000


def gemm_rate() -> tuple[float, float]:
    """(wall, CPU) GFLOP/s of a GEMM_SIZE^2 product: the best of three, as the epochs' best is what
    their median is compared with."""
    a = np.random.default_rng(0).random((GEMM_SIZE, GEMM_SIZE))
    walls, cpus = [], []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.thread_time()
        a @ a
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
    flops = 2 * GEMM_SIZE**3
    return flops / min(walls) / 1e9, flops / min(cpus) / 1e9


def als_flops(train, d: int) -> tuple[float, float, float]:
    """(symmetric Gram + Cholesky, as the replaced code was written, the least the code's own method
    needs) floating-point work of an epoch. The last counts a row with n < d ratings as the dual form
    solves it (core/als.py: its n x n symmetric Gram of scaled rows n(n+1) d, elimination n^3/3, the
    solution 2 n d) and every other row as the first count does."""
    n = train.n_ratings
    rows = int((train.user_counts() > 0).sum() + (train.item_counts() > 0).sum())
    symmetric = 2 * n * d * (d + 1) + 4 * n * d + rows * (d**3 / 3 + 2 * d * d)
    as_written = 4 * n * d * d + 4 * n * d + rows * (2 * d**3 / 3 + 2 * d * d)
    counts = np.concatenate([train.user_counts(), train.item_counts()]).astype(float)
    counts = counts[counts > 0]
    primal = counts >= d
    least = float(np.sum(counts[primal] * d * (d + 1) + 2 * counts[primal] * d + d**3 / 3 + 2 * d * d)
                  + np.sum(counts[~primal] ** 2 * d + counts[~primal] * d + counts[~primal] ** 3 / 3
                           + 2 * counts[~primal] * d))
    return symmetric, as_written, least


def adam_flops(train, k: int) -> float:
    n = train.n_ratings
    parameters = (train.n_users + train.n_items) * (k + 1)
    return 6 * n * k + 14 * n + 14 * parameters


def epochs(model, train):
    """Runs the first epoch of ``model.iter_fit(train)`` now (it arranges the ratings), and returns an iterator
    that times each further epoch as the caller asks for it: (wall s, CPU s). Run lazily, the first epoch came
    between the first round's matmul and the epoch timed after it."""
    run = model.iter_fit(train)
    next(run)

    def timed():
        while True:
            wall, cpu = time.perf_counter(), time.thread_time()
            next(run)
            yield time.perf_counter() - wall, time.thread_time() - cpu

    return timed()


def main() -> int:
    ratings = load_ratings()
    if ratings is None:
        return 0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    print(f"training runs on {kernels.describe()}")
    train, _ = train_test_split(ratings, 0.2, seed=0)
    als = make_model("mf", n_epochs=rounds + 1)
    adam = make_model("dot_bias", n_epochs=rounds + 1)
    d = als.n_factors + 1
    als_symmetric, als_written, als_least = als_flops(train, d)
    adam_work = adam_flops(train, adam.n_factors)
    print(f"work of an epoch: ALS {als_symmetric / 1e6:.0f} MFLOP (as the replaced code: {als_written / 1e6:.0f}; "
          f"the least with rows of fewer than {d} ratings in the dual form: {als_least / 1e6:.0f}), "
          f"Adam {adam_work / 1e6:.1f} MFLOP")
    als_epochs, adam_epochs = epochs(als, train), epochs(adam, train)
    rows = []
    for _ in range(rounds):
        rate = gemm_rate()
        als_time, adam_time = next(als_epochs), next(adam_epochs)
        rows.append([*rate, *als_time, *adam_time])
    rows = np.array(rows)
    gemm_wall, gemm_cpu, als_wall, als_cpu, adam_wall, adam_cpu = rows.T
    ratio = {
        "ALS / limit (symmetric)": (als_wall * gemm_wall * 1e9 / als_symmetric, als_cpu * gemm_cpu * 1e9 / als_symmetric),
        "ALS / limit (as written)": (als_wall * gemm_wall * 1e9 / als_written, als_cpu * gemm_cpu * 1e9 / als_written),
        "ALS / limit (least)": (als_wall * gemm_wall * 1e9 / als_least, als_cpu * gemm_cpu * 1e9 / als_least),
        "Adam / limit": (adam_wall * gemm_wall * 1e9 / adam_work, adam_cpu * gemm_cpu * 1e9 / adam_work),
    }
    print(f"\n{rounds} rounds; each: a {GEMM_SIZE}^2 matmul (best of 3), an ALS epoch, an Adam epoch\n")
    print(f"{'':<28}{'wall median':>12}{'wall worst':>12}{'CPU median':>12}{'CPU worst':>12}")
    print(f"{'matmul GFLOP/s':<28}{np.median(gemm_wall):>12.1f}{gemm_wall.min():>12.1f}"
          f"{np.median(gemm_cpu):>12.1f}{gemm_cpu.min():>12.1f}")
    for label, wall, cpu in (("ALS epoch ms", als_wall, als_cpu), ("Adam epoch ms", adam_wall, adam_cpu)):
        print(f"{label:<28}{np.median(wall) * 1e3:>12.1f}{wall.max() * 1e3:>12.1f}"
              f"{np.median(cpu) * 1e3:>12.1f}{cpu.max() * 1e3:>12.1f}")
    for label, (wall, cpu) in ratio.items():
        print(f"{label:<28}{np.median(wall):>12.1f}{wall.max():>12.1f}{np.median(cpu):>12.1f}{cpu.max():>12.1f}")
    als_met = np.median(ratio["ALS / limit (symmetric)"][1]) <= 5
    adam_met = np.median(ratio["Adam / limit"][1]) <= 10
    print(f"\nALS within 5x of its limit (symmetric count, CPU median): {'met' if als_met else 'NOT met'}; "
          f"Adam within 10x: {'met' if adam_met else 'NOT met'}")
    compare_copies(train, rounds)
    return 0


def compare_copies(train, rounds: int) -> None:
    """Each model's epoch on the two widest copies of the kernels this CPU runs, in turns (each copy first in
    every other round), a matmul before each epoch as above: the median and worst of each round's ratio."""
    compiled = kernels.compiled
    if compiled is None:
        return
    widest = compiled.vector_extensions()
    copies = [copy for copy in kernels.VECTOR_EXTENSIONS if compiled.vector_extensions(copy) == copy]
    compiled.vector_extensions(widest)
    if len(copies) < 2:
        return
    wide, narrow = copies[:2]
    a = np.random.default_rng(0).random((GEMM_SIZE, GEMM_SIZE))
    print(f"\n{rounds} rounds; each: an epoch on the {wide} copy and one on the {narrow} copy, a matmul before each")
    try:
        for kind in ("mf", "dot_bias"):
            runs = {copy: epochs(make_model(kind, n_epochs=rounds + 1), train) for copy in (wide, narrow)}
            cpu = {wide: [], narrow: []}
            for round_ in range(rounds):
                for copy in (wide, narrow) if round_ % 2 == 0 else (narrow, wide):
                    a @ a
                    compiled.vector_extensions(copy)
                    cpu[copy].append(next(runs[copy])[1])
            ratio = np.array(cpu[wide]) / np.array(cpu[narrow])
            print(f"{'ALS' if kind == 'mf' else 'Adam'} epoch, {wide} / {narrow} copy (CPU): "
                  f"median {np.median(ratio):.3f}, worst {ratio.max():.3f} "
                  f"({np.median(cpu[wide]) * 1e3:.2f} against {np.median(cpu[narrow]) * 1e3:.2f} ms)")
    finally:
        compiled.vector_extensions(widest)


if __name__ == "__main__":
    sys.exit(main())
