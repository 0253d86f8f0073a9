"""The analytic gradients of J match central finite differences for every model variant."""

import itertools

import numpy as np
import pytest

from cfexplorer.core.mf import MatrixFactorization, _TrainingSet
from cfexplorer.core.ratings import Ratings
from cfexplorer.core.synthetic import low_rank

VARIANTS = list(itertools.product(
    ("squared", "bce"),            # loss
    (True, False),                 # user bias
    (True, False),                 # item bias
    ("none", "mean", "global"),    # offset
    (0.0, 0.7),                    # bias regularization
))


def _data(loss: str) -> Ratings:
    ratings = low_rank(n_users=9, n_items=7, rank=2, density=0.6, seed=3)
    if loss == "bce":
        labels = (ratings.values > np.median(ratings.values)).astype(float)
        return Ratings(ratings.users, ratings.items, labels, ratings.user_labels, ratings.item_labels, binary=True)
    return ratings


def _model(loss, user_bias, item_bias, offset, bias_reg, y_range=None):
    model = MatrixFactorization(y_range=y_range,
        n_factors=3, reg=0.9, bias_reg=bias_reg, loss=loss, optimizer="gd", learning_rate=0.01,
        user_bias=user_bias, item_bias=item_bias, mean_normalization=offset == "mean",
        global_mean=offset == "global", n_epochs=0, init_scale=0.5, seed=1,
    )
    return model


def _cost(model, data):
    data_term, reg_term, _ = model._loss_terms(data)
    return data_term + reg_term


@pytest.mark.parametrize("loss,user_bias,item_bias,offset,bias_reg", VARIANTS)
def test_gradient_matches_finite_differences(loss, user_bias, item_bias, offset, bias_reg):
    ratings = _data(loss)
    model = _model(loss, user_bias, item_bias, offset, bias_reg)
    model.fit(ratings)  # zero epochs: sets offsets and random parameters
    rng = np.random.default_rng(0)
    for name in model._params:  # biases start at zero; move them so that their terms matter
        model._params[name] += rng.normal(0, 0.3, model._params[name].shape)
    data = _TrainingSet(ratings, model.item_offset_)
    grads = model._gradients(data.users, data.items, data.y, data.offsets, data.n_users, data.n_items, 1.0,
                             data.item_user_matrix)
    assert set(grads) == set(model._params)
    step = 1e-6
    for name, array in model._params.items():
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + step
            up = _cost(model, data)
            array[index] = saved - step
            down = _cost(model, data)
            array[index] = saved
            numeric[index] = (up - down) / (2 * step)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("offset", ["none", "mean", "global"])
@pytest.mark.parametrize("y_range", ["auto", (0.0, 6.0)])
def test_y_range_gradient_matches_finite_differences(offset, y_range):
    ratings = _data("squared")
    model = _model("squared", True, True, offset, 0.4, y_range=y_range)
    model.fit(ratings)
    rng = np.random.default_rng(0)
    for name in model._params:
        model._params[name] += rng.normal(0, 0.3, model._params[name].shape)
    data = _TrainingSet(ratings, model.item_offset_)
    grads = model._gradients(data.users, data.items, data.y, data.offsets, data.n_users, data.n_items, 1.0,
                             data.item_user_matrix)
    for name, array in model._params.items():
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + 1e-6
            up = _cost(model, data)
            array[index] = saved - 1e-6
            down = _cost(model, data)
            array[index] = saved
            numeric[index] = (up - down) / 2e-6
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-6, err_msg=name)


def test_y_range_predictions_stay_inside_the_range_and_start_at_the_mean():
    ratings = _data("squared")
    model = MatrixFactorization(n_factors=2, y_range=(1.0, 4.0), optimizer="adam", n_epochs=0, init_scale=0.0, user_bias=True,
                                item_bias=True, mean_normalization=True).fit(ratings)
    # Zero factors and biases: the offset inside the sigmoid gives back each movie's mean.
    np.testing.assert_allclose(model.predict_matrix()[0], np.clip(ratings.item_means(), 1.0 + 1e-3 * 3,
                                                                   4.0 - 1e-3 * 3), atol=1e-2)
    model.set_params(n_epochs=200, learning_rate=0.5, reg=0.0, init_scale=0.5).fit(ratings)
    predictions = model.predict_matrix()
    assert predictions.min() >= 1.0 and predictions.max() <= 4.0
    history = model.history_
    assert history[-1].total < 0.5 * history[0].total


def test_minibatch_gradients_add_up_to_the_full_gradient():
    ratings = _data("squared")
    model = _model("squared", True, True, "mean", 0.5).fit(ratings)
    data = _TrainingSet(ratings, model.item_offset_)
    full = model._gradients(data.users, data.items, data.y, data.offsets, data.n_users, data.n_items, 1.0)
    halves = np.array_split(np.arange(len(data)), 2)
    parts = [
        model._gradients(data.users[h], data.items[h], data.y[h], data.offsets[h], data.n_users, data.n_items,
                         len(h) / len(data))
        for h in halves
    ]
    for name in full:
        np.testing.assert_allclose(parts[0][name] + parts[1][name], full[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("item_bias", [True, False])
def test_each_als_epoch_never_increases_the_cost(item_bias):
    ratings = low_rank(n_users=40, n_items=30, rank=3, density=0.4, seed=2)
    model = MatrixFactorization(n_factors=3, reg=0.5, bias_reg=0.1, optimizer="als", n_epochs=15,
                                item_bias=item_bias)
    costs = [record.total for record in model.iter_fit(ratings)]
    assert np.all(np.diff(costs) <= 1e-9 * abs(costs[0]))
    assert costs[-1] < costs[0]


@pytest.mark.parametrize("optimizer,lr", [("gd", 0.01), ("adam", 0.05), ("sgd", 0.01)])
def test_gradient_optimizers_lower_the_cost(optimizer, lr):
    ratings = low_rank(n_users=40, n_items=30, rank=3, density=0.4, seed=2)
    model = MatrixFactorization(n_factors=3, reg=0.5, optimizer=optimizer, learning_rate=lr, n_epochs=60,
                                batch_size=32 if optimizer == "sgd" else None)
    costs = [record.total for record in model.iter_fit(ratings)]
    assert costs[-1] < 0.5 * costs[0]
