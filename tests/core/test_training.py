"""Training behaviour: recovery of planted structure, divergence, records, recommendations."""

import numpy as np
import pytest

from cfexplorer.core import metrics
from cfexplorer.core.mf import BiasBaseline, EpochRecord, MatrixFactorization, TrainingDiverged
from cfexplorer.core.ratings import Ratings, train_test_split, train_validation_test_split
from cfexplorer.core.synthetic import low_rank, planted_tastes

from .course import course_with_eve


def test_planted_low_rank_matrix_is_recovered_far_better_than_by_biases():
    ratings = low_rank(n_users=300, n_items=200, rank=3, density=0.25, noise=0.1, seed=0)
    train, test = train_test_split(ratings, 0.2, seed=0)
    baseline = BiasBaseline(bias_reg=1.0).fit(train).score(test)["rmse"]
    model = MatrixFactorization(n_factors=3, reg=1.0, bias_reg=1.0).fit(train)
    factored = model.score(test)["rmse"]
    assert factored < 0.3 * baseline
    assert factored < 0.25  # noise is 0.1; the rank is right


def test_planted_tastes_with_adam_and_mean_normalization():
    ratings = planted_tastes(n_users=30, n_items=20, n_tastes=2, density=0.5, noise=0.2, seed=1)
    train, test = train_test_split(ratings, 0.2, seed=0)
    model = MatrixFactorization(n_factors=2, reg=1.0, optimizer="adam", n_epochs=300, mean_normalization=True,
                                global_mean=False, item_bias=False).fit(train)
    baseline = BiasBaseline().fit(train)
    assert model.score(test)["rmse"] < 0.6 * baseline.score(test)["rmse"]


def test_iter_fit_yields_one_record_per_epoch_with_terms_reported_separately():
    ratings = low_rank(n_users=30, n_items=20, seed=0)
    train, validation = train_test_split(ratings, 0.25, seed=1)
    model = MatrixFactorization(n_factors=2, reg=2.0, optimizer="adam", n_epochs=7)
    records = list(model.iter_fit(train, validation, snapshot_every=3))
    assert [r.epoch for r in records] == list(range(0, 8))  # epoch 0: the starting parameters
    assert all(isinstance(r, EpochRecord) for r in records)
    for record in records:
        assert record.total == pytest.approx(record.data_term + record.reg_term)
        assert record.reg_term > 0 and record.data_term > 0
        assert set(record.validation) == {"rmse", "mae"}
    assert [r.snapshot is not None for r in records] == [True, False, False, True, False, False, True, False]
    last = records[-1]
    # The reported terms are those of the final parameters, recomputed from scratch.
    data_term, reg_term, total = model.loss_terms(train)
    assert (data_term, reg_term) == pytest.approx((last.data_term, last.reg_term))
    assert last.validation["rmse"] == pytest.approx(metrics.rmse(validation.values, model.predict(validation.users, validation.items)))
    # fit only exhausts iter_fit: the same settings give the same parameters
    again = MatrixFactorization(n_factors=2, reg=2.0, optimizer="adam", n_epochs=7).fit(train)
    np.testing.assert_array_equal(again.item_factors_, model.item_factors_)


def test_snapshots_are_copies():
    ratings = low_rank(n_users=20, n_items=10, seed=0)
    model = MatrixFactorization(n_factors=2, optimizer="adam", n_epochs=3)
    records = list(model.iter_fit(ratings, snapshot_every=1))
    assert not np.array_equal(records[0].snapshot["item_factors"], model.item_factors_)


def test_a_diverging_learning_rate_raises_and_leaves_finite_parameters():
    ratings = low_rank(n_users=50, n_items=40, seed=0)
    model = MatrixFactorization(n_factors=3, optimizer="gd", learning_rate=50.0, n_epochs=200)
    with pytest.raises(TrainingDiverged, match="learning rate .*too high"):
        model.fit(ratings)
    assert np.all(np.isfinite(model.item_factors_)) and np.all(np.isfinite(model.user_factors_))
    assert np.all(np.isfinite(model.predict(ratings.users, ratings.items)))
    assert all(np.isfinite(r.total) for r in model.history_)


def test_binary_labels_use_sigmoid_and_cross_entropy():
    ratings = planted_tastes(n_users=30, n_items=20, density=0.6, noise=0.1, seed=0)
    labels = (ratings.values >= 3).astype(float)
    binary = Ratings(ratings.users, ratings.items, labels, ratings.user_labels, ratings.item_labels, binary=True)
    train, test = train_test_split(binary, 0.2, seed=0)
    model = MatrixFactorization(n_factors=2, reg=0.5, optimizer="adam", n_epochs=300, global_mean=False,
                                mean_normalization=False).fit(train)
    assert model.loss_ == "bce"
    p = model.predict(test.users, test.items)
    assert np.all((p > 0) & (p < 1))
    scores = model.score(test)
    assert set(scores) == {"bce", "accuracy", "auc"}
    assert scores["accuracy"] > 0.9 and scores["auc"] > 0.95
    # the data term is the summed cross-entropy of the training labels
    z = model.decision_function(train.users, train.items)
    p_train = 1 / (1 + np.exp(-z))
    expected = -np.sum(train.values * np.log(p_train) + (1 - train.values) * np.log(1 - p_train))
    assert model.loss_terms(train)[0] == pytest.approx(expected)


def test_binary_mean_normalization_predicts_the_like_rate_for_a_new_user():
    ratings = course_with_eve()
    liked = (ratings.values >= 3).astype(float)
    binary = Ratings(ratings.users, ratings.items, liked, ratings.user_labels, ratings.item_labels, binary=True)
    model = MatrixFactorization(n_factors=2, optimizer="adam", n_epochs=50, mean_normalization=True,
                                item_bias=False).fit(binary)
    eve = list(binary.user_labels).index("Eve")
    np.testing.assert_allclose(model.predict(np.full(5, eve), np.arange(5)),
                               np.clip(binary.item_means(), 1e-3, 1 - 1e-3), atol=1e-9)


def test_recommendations_leave_out_rated_items_and_are_sorted():
    ratings = low_rank(n_users=30, n_items=25, density=0.4, seed=0)
    model = MatrixFactorization(n_factors=3, reg=1.0, n_epochs=10).fit(ratings)
    user = 4
    items, scores = model.recommend(user, ratings, n=5)
    rated = set(ratings.items[ratings.users == user])
    assert len(items) == 5 and not rated & set(items)
    assert np.all(np.diff(scores) <= 0)
    unrated = np.array(sorted(set(range(ratings.n_items)) - rated))
    best = unrated[np.argsort(-model.predict(np.full(len(unrated), user), unrated, clip=False))[:5]]
    assert list(items) == list(best)


def test_explanation_terms_add_up_to_the_prediction():
    ratings = course_with_eve()
    model = MatrixFactorization(n_factors=2, reg=1.0, optimizer="adam", n_epochs=100, mean_normalization=True,
                                item_bias=True).fit(ratings)
    parts = model.explain(user=1, item=2)
    total = parts["dot"] + parts["user_bias"] + parts["item_bias"] + parts["offset"]
    assert parts["dot"] == pytest.approx(parts["item_factors"] @ parts["user_factors"])
    assert parts["score"] == pytest.approx(total)
    assert parts["prediction"] == pytest.approx(model.predict([1], [2])[0])


def test_predict_matrix_matches_pointwise_predictions():
    ratings = low_rank(n_users=12, n_items=9, seed=0)
    model = MatrixFactorization(n_factors=2, n_epochs=5).fit(ratings)
    users, items = np.meshgrid(np.arange(12), np.arange(9), indexing="ij")
    np.testing.assert_allclose(model.predict_matrix(), model.predict(users.ravel(), items.ravel()).reshape(12, 9))


@pytest.mark.parametrize("params,message", [
    ({"optimizer": "newton"}, "optimizer"),
    ({"n_factors": -1}, "factors"),
    ({"reg": -1.0}, "regularization"),
    ({"learning_rate": 0.0, "optimizer": "adam"}, "learning rate"),
])
def test_bad_hyperparameters_are_refused_with_a_message(params, message):
    with pytest.raises(ValueError, match=message):
        MatrixFactorization(**params).fit(low_rank(n_users=5, n_items=5, seed=0))


def test_als_refuses_binary_labels():
    ratings = Ratings([0, 1], [0, 1], [0.0, 1.0], ["a", "b"], ["x", "y"], binary=True)
    with pytest.raises(ValueError, match="squared loss"):
        MatrixFactorization(optimizer="als").fit(ratings)


def test_warm_start_continues_the_history():
    ratings = low_rank(n_users=20, n_items=15, seed=0)
    model = MatrixFactorization(n_factors=2, optimizer="adam", n_epochs=5, warm_start=True)
    model.fit(ratings)
    model.fit(ratings)
    assert [r.epoch for r in model.history_] == list(range(0, 11))  # one epoch 0: the second fit continues


@pytest.mark.parametrize("settings", [
    {"optimizer": "adam"},  # its moments and step count go on
    {"optimizer": "sgd", "batch_size": 7},  # its shuffles go on: a restart repeated the first epochs' orders
    {"optimizer": "gd"},
    {"optimizer": "als"},
], ids=["adam", "sgd", "gd", "als"])
def test_a_warm_start_goes_on_as_the_longer_run_would(settings):
    """Five epochs and then three more, warm-started, are the eight epochs of one run: Step after a run (the
    window's continuation) trains the model the run would have become, not one whose Adam forgot its moments."""
    ratings = low_rank(n_users=20, n_items=15, seed=0)
    common = dict(n_factors=2, learning_rate=0.05, seed=3, **settings)
    whole = MatrixFactorization(n_epochs=8, **common).fit(ratings)
    model = MatrixFactorization(n_epochs=5, warm_start=True, **common).fit(ratings)
    model.set_params(n_epochs=3).fit(ratings)
    assert [record.epoch for record in model.history_] == list(range(9))
    for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_"):
        np.testing.assert_allclose(getattr(model, name), getattr(whole, name), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose([r.total for r in model.history_], [r.total for r in whole.history_], rtol=1e-12)


def test_a_warm_start_with_another_learning_rate_steps_by_it():
    ratings = low_rank(n_users=20, n_items=15, seed=0)
    model = MatrixFactorization(n_factors=2, optimizer="gd", learning_rate=0.05, n_epochs=2, warm_start=True,
                                seed=3).fit(ratings)
    before = model.user_factors_.copy()
    gradient_step = MatrixFactorization(n_factors=2, optimizer="gd", learning_rate=0.01, n_epochs=1, init="given",
                                        seed=3)
    gradient_step.start_from({"item_factors": model.item_factors_, "user_factors": model.user_factors_,
                              "user_bias": model.user_bias_, "item_bias": model.item_bias_}).fit(ratings)
    model.set_params(learning_rate=0.01, n_epochs=1).fit(ratings)
    assert not np.array_equal(model.user_factors_, before)
    np.testing.assert_allclose(model.user_factors_, gradient_step.user_factors_, rtol=1e-12, atol=1e-14)


def test_splits_are_disjoint_complete_and_seeded():
    ratings = low_rank(n_users=40, n_items=30, seed=0)
    train, validation, test = train_validation_test_split(ratings, 0.1, 0.2, seed=5)
    keys = [set(part.keys()) for part in (train, validation, test)]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert len(keys[0] | keys[1] | keys[2]) == len(ratings)
    assert len(test) == round(0.2 * len(ratings))
    again = train_validation_test_split(ratings, 0.1, 0.2, seed=5)[2]
    assert set(again.keys()) == keys[2]


def test_predictor_is_a_frozen_copy_that_matches_the_model():
    ratings = low_rank(n_users=15, n_items=12, seed=0)
    model = MatrixFactorization(n_factors=2, optimizer="adam", n_epochs=5, warm_start=True).fit(ratings)
    predictor = model.predictor()
    np.testing.assert_allclose(predictor.predict_matrix(), model.predict_matrix())
    assert predictor.predict_cell(3, 4) == pytest.approx(model.predict([3], [4])[0])
    before = predictor.predict_matrix().copy()
    model.fit(ratings)  # training goes on; the predictor does not move
    np.testing.assert_array_equal(predictor.predict_matrix(), before)
    assert predictor.shape == (15, 12) and predictor.epoch == 5
