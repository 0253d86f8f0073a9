"""Every model of the app on MovieLens latest-small (80/20 split, seed 0): test RMSE/MAE, fit time, size.

The comparison runs a few times (each round fits every model once, in the registry's order); fit times
are the median and the worst over the rounds, RMSE/MAE do not change between rounds. Ratios are against
the global-mean baseline measured in the same run.
Run: python benchmarks/bench_models.py [path/to/ratings.csv] [rounds]
"""

import sys

import numpy as np

from cfexplorer.core.compare import Candidate, compare
from cfexplorer.core.models import MODEL_KINDS
from common import load_ratings


def main() -> int:
    ratings = load_ratings()
    if ratings is None:
        return 0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    candidates = [Candidate(kind.label, key) for key, kind in MODEL_KINDS.items()]
    runs = []
    for round_ in range(rounds):
        runs.append(compare(candidates, ratings, folds=1, test_fraction=0.2, seed=0,
                            progress=lambda done, total, text: print(f"  round {round_ + 1}/{rounds} "
                                                                     f"[{done}/{total}] {text}", flush=True)))
    rows = runs[0]
    seconds = np.array([[row.fit_seconds for row in run] for run in runs])
    base = next(row for row in rows if row.kind == "global_mean")
    print(f"\n{'model':<42}{'test RMSE':>10}{'MAE':>8}{'RMSE/mean':>10}{'fit s':>8}{'worst':>7}{'parameters':>12}")
    for column, row in enumerate(rows):
        print(f"{row.name:<42}{row.metrics['rmse']:>10.4f}{row.metrics['mae']:>8.4f}"
              f"{row.metrics['rmse'] / base.metrics['rmse']:>10.3f}{np.median(seconds[:, column]):>8.2f}"
              f"{seconds[:, column].max():>7.2f}{row.n_parameters:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
