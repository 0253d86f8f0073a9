"""Default model vs the bias-only baseline on MovieLens latest-small (80/20 split, seed 0).

Prints test RMSE and fit time of each, and their ratios, all measured in this run.
Run: python benchmarks/bench_movielens.py [path/to/ratings.csv]
"""

import sys
import time

from cfexplorer.core.mf import BiasBaseline, MatrixFactorization
from cfexplorer.core.ratings import train_test_split
from common import load_ratings

def main() -> int:
    ratings = load_ratings()
    if ratings is None:
        return 0
    train, test = train_test_split(ratings, 0.2, seed=0)
    rows = []
    for name, model in (("bias-only baseline", BiasBaseline()), ("default MF", MatrixFactorization())):
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        rows.append((name, model.score(test)["rmse"], seconds))
    print(f"{'model':<20}{'test RMSE':>10}{'fit s':>8}")
    for name, rmse, seconds in rows:
        print(f"{name:<20}{rmse:>10.4f}{seconds:>8.2f}")
    (_, base_rmse, base_s), (_, mf_rmse, mf_s) = rows
    print(f"RMSE ratio default/baseline: {mf_rmse / base_rmse:.3f}; time ratio: {mf_s / base_s:.1f}")
    print(f"target test RMSE <= 0.86: {'met' if mf_rmse <= 0.86 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
