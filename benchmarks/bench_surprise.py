"""Our default model against scikit-surprise, the library a practitioner would otherwise pick.

MovieLens latest-small, 80/20 split of the ratings, seed 0 (the app's own split, handed to both sides):
Surprise's BaselineOnly, SVD and SVDpp with their default settings, and the app's default model.
Printed: test RMSE, fit seconds, and the time our model takes to reach Surprise SVD's test RMSE as a ratio
of SVD's whole fit time (the clock counts training only; scoring the test set after each epoch is left out).

Targets (issue #7): our RMSE below SVDpp's; the time-to-reach ratio below 1.

scikit-surprise is an optional extra, used only here:  pip install -e ".[bench]"
Run: python benchmarks/bench_surprise.py [path/to/ratings.csv]
"""

import sys
import time


from cfexplorer.core.models import MODEL_KINDS
from cfexplorer.core.ratings import train_test_split
from common import load_ratings


def surprise_sets(train, test):
    import pandas as pd
    from surprise import Dataset, Reader

    frame = pd.DataFrame({"user": train.users, "item": train.items, "rating": train.values})
    scale = (float(train.scale.low), float(train.scale.high))
    trainset = Dataset.load_from_df(frame, Reader(rating_scale=scale)).build_full_trainset()
    testset = list(zip(test.users.tolist(), test.items.tolist(), test.values.tolist()))
    return trainset, testset


def fit_surprise(algorithm, trainset, testset):
    from surprise import accuracy

    start = time.perf_counter()
    algorithm.fit(trainset)
    seconds = time.perf_counter() - start
    rmse = accuracy.rmse(algorithm.test(testset), verbose=False)
    return rmse, seconds


def fit_ours_with_trace(train, test):
    """(final test RMSE, training seconds, [(training seconds so far, test RMSE) per epoch])."""
    model = MODEL_KINDS["mf"].make()
    epochs = model.iter_fit(train)
    trace, training_seconds = [], 0.0
    while True:
        start = time.perf_counter()
        try:
            next(epochs)
        except StopIteration:
            break
        training_seconds += time.perf_counter() - start
        trace.append((training_seconds, model.score(test)["rmse"]))
    return trace[-1][1], training_seconds, trace, model


def main() -> int:
    try:
        import surprise
    except ImportError:
        print('skipped: scikit-surprise is not installed (pip install -e ".[bench]")')
        return 0
    ratings = load_ratings()
    if ratings is None:
        return 0
    train, test = train_test_split(ratings, 0.2, seed=0)
    print(f"{ratings}; train {train.n_ratings:,}, test {test.n_ratings:,}; surprise {surprise.__version__}")
    trainset, testset = surprise_sets(train, test)

    results = {}
    for name, make in (("Surprise BaselineOnly", lambda: surprise.BaselineOnly(verbose=False)),
                       ("Surprise SVD", lambda: surprise.SVD(random_state=0)),
                       ("Surprise SVDpp", lambda: surprise.SVDpp(random_state=0))):
        print(f"  fitting {name} ...", flush=True)
        results[name] = fit_surprise(make(), trainset, testset)
    print("  fitting ours ...", flush=True)
    our_rmse, our_seconds, trace, model = fit_ours_with_trace(train, test)
    ours = f"CF Explorer {MODEL_KINDS['mf'].label}"
    results[ours] = (our_rmse, our_seconds)

    print(f"\n{'model':<48}{'test RMSE':>10}{'fit s':>8}")
    for name, (rmse, seconds) in results.items():
        print(f"{name:<48}{rmse:>10.4f}{seconds:>8.2f}")
    print(f"(ours: {model.n_factors} factors, λ = {model.reg}, {model.optimizer.upper()}, {model.n_epochs} epochs)")

    svd_rmse, svd_seconds = results["Surprise SVD"]
    svdpp_rmse, _ = results["Surprise SVDpp"]
    reached = next(((seconds, epoch) for epoch, (seconds, rmse) in enumerate(trace, start=1) if rmse <= svd_rmse),
                   None)
    print()
    print(f"our RMSE / SVDpp's RMSE: {our_rmse / svdpp_rmse:.3f}  "
          f"(target < 1: {'met' if our_rmse < svdpp_rmse else 'NOT met'})")
    if reached is None:
        print(f"our model never reached SVD's RMSE {svd_rmse:.4f} (target NOT met)")
    else:
        seconds, epoch = reached
        ratio = seconds / svd_seconds
        print(f"time to reach SVD's RMSE {svd_rmse:.4f}: {seconds:.2f} s (epoch {epoch}) / SVD's fit "
              f"{svd_seconds:.2f} s = {ratio:.2f}  (target < 1: {'met' if ratio < 1 else 'NOT met'})")
    print("per-epoch test RMSE:", " ".join(f"{rmse:.4f}" for _, rmse in trace))
    return 0


if __name__ == "__main__":
    sys.exit(main())
