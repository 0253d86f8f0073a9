"""Our Bayesian MF (Gibbs sampling) against myFM's Bayesian factorization machine, side by side.

MovieLens latest-small, 80/20 split of the ratings, seed 0 (the app's own split, handed to both sides).
Both: rank 10, 200 Gibbs samples, every sample averaged (no burn-in), user and movie biases; myFM sees the
user and the movie as one-hot features in two groups, each with its own hyperpriors (``group_shapes``, as
BPMF's two sides have; without the groups it reaches only 0.853 in 200 samples). Both predictions are
clipped to the rating scale; myFM's progress bar is silenced. Printed per round: test RMSE and fit seconds of each; then the median and worst fit time over
the rounds (interleaved, so that both see the same load) and the ratios ours / myFM.

Targets (issue #18): our test RMSE <= 0.835, as good as myFM's, in comparable time.

myFM is an optional extra, used only here:  pip install -e ".[bench]"
Run: python benchmarks/bench_bayes.py [path/to/ratings.csv] [--rounds N]   (N = 3)
"""

import contextlib
import io
import sys
import time

import numpy as np

RANK, SAMPLES, TARGET_RMSE = 10, 200, 0.835


def _rounds() -> int:
    if "--rounds" in sys.argv:
        at = sys.argv.index("--rounds")
        rounds = int(sys.argv[at + 1])
        del sys.argv[at:at + 2]
        return rounds
    return 3


ROUNDS = _rounds()

from cfexplorer.core.bayes import BayesianMF  # noqa: E402 (after the arguments common.py reads are settled)
from cfexplorer.core.metrics import rmse  # noqa: E402
from cfexplorer.core.ratings import train_test_split  # noqa: E402
from common import load_ratings  # noqa: E402


def fit_ours(train, test) -> tuple[float, float]:
    model = BayesianMF(n_factors=RANK, n_epochs=SAMPLES, burn_in=0, seed=0)
    start = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - start
    return rmse(test.values, model.predict(test.users, test.items)), seconds


def one_hot(ratings, n_users: int, n_items: int):
    import scipy.sparse as sp

    n = len(ratings)
    columns = np.concatenate([ratings.users, n_users + ratings.items])
    rows = np.concatenate([np.arange(n), np.arange(n)])
    return sp.csr_matrix((np.ones(2 * n), (rows, columns)), shape=(n, n_users + n_items))


def fit_myfm(train, test) -> tuple[float, float]:
    import myfm

    n_users, n_items = train.n_users, train.n_items
    x_train, x_test = one_hot(train, n_users, n_items), one_hot(test, n_users, n_items)
    model = myfm.MyFMRegressor(rank=RANK, random_seed=0)
    start = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        model.fit(x_train, train.values, n_iter=SAMPLES, n_kept_samples=SAMPLES, group_shapes=[n_users, n_items])
    seconds = time.perf_counter() - start
    predicted = np.clip(model.predict(x_test), train.scale.low, train.scale.high)
    return rmse(test.values, predicted), seconds


def main() -> int:
    try:
        import myfm  # noqa: F401
    except ImportError:
        print("skipped: myFM is not installed (pip install -e \".[bench]\")")
        return 0
    ratings = load_ratings()
    if ratings is None:
        return 0
    train, test = train_test_split(ratings, 0.2, seed=0)
    results = {"ours": [], "myFM": []}
    print(f"rank {RANK}, {SAMPLES} Gibbs samples, {ROUNDS} rounds")
    print(f"{'round':<7}{'model':<8}{'test RMSE':>10}{'fit s':>8}")
    for round_ in range(1, ROUNDS + 1):
        for name, fit in (("ours", fit_ours), ("myFM", fit_myfm)) if round_ % 2 else (("myFM", fit_myfm),
                                                                                    ("ours", fit_ours)):
            error, seconds = fit(train, test)
            results[name].append((error, seconds))
            print(f"{round_:<7}{name:<8}{error:>10.4f}{seconds:>8.2f}", flush=True)
    summary = {}
    for name, runs in results.items():
        errors, seconds = np.array(runs).T
        summary[name] = (errors[-1], np.median(seconds), seconds.max())
        print(f"{name:<6} test RMSE {errors[-1]:.4f}; fit s median {np.median(seconds):.2f}, worst {seconds.max():.2f}")
    (ours_rmse, ours_median, ours_worst), (their_rmse, their_median, their_worst) = summary["ours"], summary["myFM"]
    print(f"ratios ours/myFM: RMSE {ours_rmse / their_rmse:.3f}; fit time median {ours_median / their_median:.2f}, "
          f"worst {ours_worst / their_worst:.2f}")
    print(f"target test RMSE <= {TARGET_RMSE}: {'met' if ours_rmse <= TARGET_RMSE else 'NOT met'} ({ours_rmse:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
