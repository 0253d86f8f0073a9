"""Comparing models on one split and by k-fold cross-validation."""

import numpy as np
import pytest

from cfexplorer.core.compare import Candidate, ComparisonStopped, compare, fold_splits
from cfexplorer.core.mf import GlobalMeanBaseline, MatrixFactorization
from cfexplorer.core.ratings import train_test_split
from cfexplorer.core.synthetic import planted_tastes

RATINGS = planted_tastes(n_users=40, n_items=30, n_tastes=2, density=0.5, seed=1)


def test_folds_partition_the_ratings():
    splits = fold_splits(RATINGS, 4, seed=0)
    tests = [set(test.keys().tolist()) for _, test in splits]
    assert sum(len(t) for t in tests) == RATINGS.n_ratings
    assert set.union(*tests) == set(RATINGS.keys().tolist())
    for train, test in splits:
        assert len(train) + len(test) == RATINGS.n_ratings
        assert not set(train.keys().tolist()) & set(test.keys().tolist())


def test_a_single_split_matches_training_the_models_directly():
    candidates = [Candidate("mean", "global_mean"), Candidate("MF k=2", "mf", {"n_factors": 2, "reg": 1.0})]
    rows = compare(candidates, RATINGS, folds=1, seed=0)
    train, test = train_test_split(RATINGS, 0.2, seed=0)
    direct = MatrixFactorization(n_factors=2, reg=1.0).fit(train)
    assert rows[1].metrics["rmse"] == pytest.approx(direct.score(test)["rmse"])
    assert rows[0].metrics["rmse"] == pytest.approx(GlobalMeanBaseline().fit(train).score(test)["rmse"])
    assert rows[1].n_parameters == direct.n_parameters_ and rows[0].n_parameters == 0
    assert rows[1].metrics["rmse"] < rows[0].metrics["rmse"]
    assert rows[1].spread["rmse"] == 0 and rows[1].fit_seconds > 0
    assert rows[1].describe("rmse") == f"{rows[1].metrics['rmse']:.4f}"


def test_cross_validation_reports_the_mean_and_spread_over_folds():
    rows = compare([Candidate("MF", "mf", {"n_factors": 2, "reg": 1.0})], RATINGS, folds=3, seed=0)
    per_fold = [MatrixFactorization(n_factors=2, reg=1.0).fit(train).score(test)["rmse"]
                for train, test in fold_splits(RATINGS, 3, seed=0)]
    assert rows[0].folds == 3
    assert rows[0].metrics["rmse"] == pytest.approx(np.mean(per_fold))
    assert rows[0].spread["rmse"] == pytest.approx(np.std(per_fold))
    assert "±" in rows[0].describe("rmse")


def test_progress_is_reported_and_a_stop_request_is_honoured():
    seen = []
    compare([Candidate("a", "global_mean"), Candidate("b", "biases")], RATINGS, folds=2,
            progress=lambda done, total, text: seen.append((done, total)))
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    with pytest.raises(ComparisonStopped):
        compare([Candidate("a", "global_mean")], RATINGS, should_stop=lambda: True)


def test_each_candidates_row_is_handed_on_when_made_and_a_stop_carries_the_rows_made():
    made = []
    rows = compare([Candidate("a", "global_mean"), Candidate("b", "biases")], RATINGS, folds=2, on_row=made.append)
    assert made == rows and [row.name for row in made] == ["a", "b"]
    asked = []

    def stop_at_the_second():  # asked before each fold and each epoch: stop once "a" is done
        asked.append(len(made))
        return len(made) >= 3

    with pytest.raises(ComparisonStopped) as stopped:
        compare([Candidate("a", "global_mean"), Candidate("b", "biases")], RATINGS, folds=2, on_row=made.append,
                should_stop=stop_at_the_second)
    assert [row.name for row in stopped.value.rows] == ["a"]
