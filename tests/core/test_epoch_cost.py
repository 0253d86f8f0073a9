"""What an epoch computes besides its step: J and the training scores come from quantities the step
already has (ALS's residuals, the full-batch gradient's scores), and are still those of the parameters
the epoch leaves."""

import numpy as np
import pytest

from cfexplorer.core import kernels, metrics
from cfexplorer.core.mf import MatrixFactorization
from cfexplorer.core.models import make_model
from cfexplorer.core.ratings import Ratings
from cfexplorer.core.synthetic import planted_tastes


@pytest.fixture
def ratings() -> Ratings:
    return planted_tastes(n_users=40, n_items=30, density=0.5, seed=3)


def count_scoring(monkeypatch) -> list:
    """Record the number of ratings each call of MatrixFactorization._scores scores."""
    calls = []
    original = MatrixFactorization._scores

    def counted(self, users, items, offsets):
        calls.append(len(users))
        return original(self, users, items, offsets)

    monkeypatch.setattr(MatrixFactorization, "_scores", counted)
    return calls


def test_als_epochs_never_score_the_ratings_again(monkeypatch, ratings):
    calls = count_scoring(monkeypatch)
    MatrixFactorization(n_factors=3, reg=1.0, n_epochs=5).fit(ratings)
    assert calls == [len(ratings)]  # once, for epoch 0 (the starting parameters); never in an epoch


class CountedKernels:
    """core/_kernels.c with its full-batch passes counted (the number of ratings each one scores)."""

    def __init__(self, compiled):
        self.compiled, self.calls = compiled, []

    def mf_full_batch(self, users, *args):
        self.calls.append(len(users))
        return self.compiled.mf_full_batch(users, *args)

    def __getattr__(self, name):
        return getattr(self.compiled, name)


FULL_BATCH = [("mf", {"optimizer": "adam", "learning_rate": 0.05}), ("mf", {"optimizer": "gd", "learning_rate": 0.002}),
              ("dot_bias", {})]


@pytest.mark.parametrize("kind, settings", FULL_BATCH)
def test_full_batch_epochs_score_every_rating_once_an_epoch(monkeypatch, ratings, kind, settings):
    monkeypatch.setattr(kernels, "compiled", None)  # the numpy form; the compiled one is counted below
    calls = count_scoring(monkeypatch)
    make_model(kind, n_epochs=6, **settings).fit(ratings)
    # the starting parameters' scores (epoch 0's J and the first step), then one pass after each step
    assert calls == [len(ratings)] * 7


@pytest.mark.skipif(kernels.compiled is None, reason=kernels.describe())
@pytest.mark.parametrize("kind, settings", FULL_BATCH)
def test_compiled_full_batch_epochs_make_one_pass_an_epoch(monkeypatch, ratings, kind, settings):
    counted = CountedKernels(kernels.compiled)
    monkeypatch.setattr(kernels, "compiled", counted)
    scored = count_scoring(monkeypatch)
    make_model(kind, n_epochs=6, **settings).fit(ratings)
    assert counted.calls == [len(ratings)] * 7 and scored == []


@pytest.mark.skipif(kernels.compiled is None, reason=kernels.describe())
@pytest.mark.parametrize("settings, binary", [
    ({"optimizer": "adam", "learning_rate": 0.05}, False),
    ({"optimizer": "gd", "learning_rate": 0.002, "user_bias": False, "item_bias": True}, False),
    ({"optimizer": "adam", "learning_rate": 0.05, "y_range": (0.5, 5.5), "mean_normalization": True}, False),
    ({"optimizer": "adam", "learning_rate": 0.05, "n_factors": 3, "user_bias": False}, True),
    ({"optimizer": "adam", "learning_rate": 0.05, "n_factors": 0}, False),
])
def test_the_compiled_and_numpy_full_batches_train_the_same_parameters(monkeypatch, ratings, settings, binary):
    if binary:
        ratings = Ratings(ratings.users, ratings.items, (ratings.values >= 3).astype(float), ratings.user_labels,
                          ratings.item_labels, binary=True)
    compiled = MatrixFactorization(n_epochs=8, **settings).fit(ratings)
    monkeypatch.setattr(kernels, "compiled", None)
    plain = MatrixFactorization(n_epochs=8, **settings).fit(ratings)
    for name in plain._params:
        np.testing.assert_allclose(compiled._params[name], plain._params[name], rtol=1e-9, atol=1e-12, err_msg=name)
    for ours, theirs in zip(compiled.history_, plain.history_):
        assert ours.data_term == pytest.approx(theirs.data_term, rel=1e-10)
        assert ours.train == pytest.approx(theirs.train, rel=1e-9, nan_ok=True)


@pytest.mark.parametrize("kind, settings, binary", [
    ("mf", {"optimizer": "adam", "learning_rate": 0.05}, False),
    ("mf", {"optimizer": "gd", "learning_rate": 0.002}, False),
    ("dot_bias", {}, False),
    ("mf", {"optimizer": "adam", "learning_rate": 0.05, "n_factors": 3}, True),
    ("mf", {"optimizer": "sgd", "learning_rate": 0.01, "batch_size": 64}, False),
])
def test_each_record_is_the_cost_and_training_scores_of_the_parameters_it_leaves(ratings, kind, settings, binary):
    if binary:
        ratings = Ratings(ratings.users, ratings.items, (ratings.values >= 3).astype(float), ratings.user_labels,
                          ratings.item_labels, binary=True)
    model = make_model(kind, n_epochs=4, **settings)
    for record in model.iter_fit(ratings):
        data_term, reg_term, _ = model.loss_terms(ratings)
        assert record.data_term == pytest.approx(data_term, rel=1e-12)
        assert record.reg_term == pytest.approx(reg_term, rel=1e-12)
        prediction = model.predict(ratings.users, ratings.items)
        expected = (metrics.binary_report if binary else metrics.regression_report)(ratings.values, prediction)
        assert record.train == pytest.approx(expected, rel=1e-12, nan_ok=True)


def test_full_batch_adam_takes_the_same_steps_as_the_gradient_of_j(ratings):
    """The reused scores are the current parameters' own: one full-batch Adam epoch equals one Adam
    step along the gradient computed afresh."""
    from cfexplorer.core.mf import _TrainingSet
    from cfexplorer.core.optim import Adam

    model = MatrixFactorization(n_factors=3, optimizer="adam", learning_rate=0.05, n_epochs=3).fit(ratings)
    expected = {name: array.copy() for name, array in model._params.items()}
    data = _TrainingSet(ratings, model.item_offset_)
    optimizer = Adam(0.05)
    fresh = MatrixFactorization(n_factors=3, optimizer="adam", learning_rate=0.05, n_epochs=0).fit(ratings)
    for _ in range(3):
        optimizer.step(fresh._params, fresh._gradients(data.users, data.items, data.y, data.offsets,
                                                       data.n_users, data.n_items, 1.0))
    for name, array in expected.items():
        np.testing.assert_allclose(fresh._params[name], array, rtol=1e-12, atol=1e-14, err_msg=name)
