"""Epoch 0 of the models trained by mini-batch Adam (neural CF, content-based towers): the cost J, its
terms and the training scores at the starting parameters, before any update, computed here by hand."""

import numpy as np
import pandas as pd
import pytest

from cfexplorer.core.content import ContentBased
from cfexplorer.core.neural import NeuralCF
from cfexplorer.core.ratings import Ratings
from cfexplorer.core.synthetic import low_rank, planted_tastes


@pytest.fixture
def ratings() -> Ratings:
    return planted_tastes(n_users=30, n_items=20, density=0.5, seed=5)


def _with_genres(ratings: Ratings) -> Ratings:
    rng = np.random.default_rng(0)
    genres = ["|".join(g for g in ("Action", "Romance", "Comedy") if rng.random() < 0.5) or "Drama"
              for _ in range(ratings.n_items)]
    titles = [f"Movie {i} ({1980 + i})" for i in range(ratings.n_items)]
    return Ratings(ratings.users, ratings.items, ratings.values, ratings.user_labels, titles,
                   item_info=pd.DataFrame({"genres": genres}))


def _rmse(y, prediction) -> float:
    return float(np.sqrt(np.mean((prediction - y) ** 2)))


def _neural_cost(p: dict, ratings: Ratings, reg: float, offset: float) -> tuple[float, float, np.ndarray]:
    """Data term, regularization term and predictions of a one-hidden-layer network, written out."""
    a0 = np.hstack([p["user_embedding"][ratings.users], p["item_embedding"][ratings.items]])
    hidden = np.maximum(a0 @ p["W0"] + p["b0"], 0.0)
    z = hidden @ p["w_out"] + p["b_out"][0] + offset
    data = 0.5 * np.sum((z - ratings.values) ** 2)
    weights = p["user_embedding"], p["item_embedding"], p["W0"], p["w_out"]
    return data, 0.5 * reg * sum(np.sum(w**2) for w in weights), z


def test_neural_epoch_0_is_the_cost_of_the_starting_parameters(ratings):
    untrained = NeuralCF(n_factors=4, hidden=(8,), reg=2.0, n_epochs=0, seed=7, y_range=None).fit(ratings)
    start = {name: array.copy() for name, array in untrained._params.items()}
    data, reg, z = _neural_cost(start, ratings, 2.0, ratings.values.mean())

    model = NeuralCF(n_factors=4, hidden=(8,), reg=2.0, n_epochs=3, seed=7, y_range=None)
    records = list(model.iter_fit(ratings))
    assert [r.epoch for r in records] == [0, 1, 2, 3]
    first = records[0]
    assert first.data_term == pytest.approx(data, rel=1e-10)
    assert first.reg_term == pytest.approx(reg, rel=1e-10)
    assert first.total == pytest.approx(data + reg, rel=1e-10)
    low, high = ratings.scale.low, ratings.scale.high
    assert first.train["rmse"] == pytest.approx(_rmse(ratings.values, np.clip(z, low, high)), rel=1e-10)
    assert untrained.history_[0].total == first.total and len(untrained.history_) == 1
    assert untrained.predictor().epoch == 0 and model.predictor().epoch == 3


def test_a_first_full_batch_update_of_the_neural_model_lowers_j():
    easy = low_rank(n_users=25, n_items=15, rank=1, density=0.8, seed=2)
    model = NeuralCF(n_factors=3, hidden=(8,), reg=0.1, n_epochs=1, batch_size=None, learning_rate=0.01, seed=0)
    before, after = (record.total for record in model.iter_fit(easy))
    assert after < before


def _content_cost(model: ContentBased, ratings: Ratings, reg: float) -> tuple[float, float, np.ndarray]:
    """The two towers written out: standardized features, a ReLU layer, a linear layer, unit vectors,
    their dot product against the ratings scaled to [-1, 1] by the training ratings' min and max."""
    p = model._params

    def tower(side, table):
        x = (table - table.mean(axis=0)) / np.where(table.std(axis=0) > 0, table.std(axis=0), 1.0)
        out = np.maximum(x @ p[f"{side}_W0"] + p[f"{side}_b0"], 0.0) @ p[f"{side}_W1"] + p[f"{side}_b1"]
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    users = tower("user", model.user_feature_table_)
    items = tower("item", model.item_feature_table_)
    z = np.sum(users[ratings.users] * items[ratings.items], axis=1)
    low, high = ratings.values.min(), ratings.values.max()
    targets = -1 + 2 * (ratings.values - low) / (high - low)
    data = 0.5 * np.sum((z - targets) ** 2)
    weights = [p[name] for name in ("user_W0", "user_W1", "item_W0", "item_W1")]
    prediction = np.clip(low + (z + 1) / 2 * (high - low), ratings.scale.low, ratings.scale.high)
    return data, 0.5 * reg * sum(np.sum(w**2) for w in weights), prediction


def test_content_epoch_0_is_the_cost_of_the_starting_towers(ratings):
    ratings = _with_genres(ratings)
    untrained = ContentBased(n_outputs=4, hidden=(6,), reg=0.5, n_epochs=0, seed=3).fit(ratings)
    data, reg, prediction = _content_cost(untrained, ratings, 0.5)

    model = ContentBased(n_outputs=4, hidden=(6,), reg=0.5, n_epochs=2, seed=3)
    records = list(model.iter_fit(ratings))
    assert [r.epoch for r in records] == [0, 1, 2]
    first = records[0]
    assert first.data_term == pytest.approx(data, rel=1e-10)
    assert first.reg_term == pytest.approx(reg, rel=1e-10)
    assert first.train["rmse"] == pytest.approx(_rmse(ratings.values, prediction), rel=1e-10)
    assert untrained.predictor().epoch == 0 and model.predictor().epoch == 2


def test_a_first_full_batch_update_of_the_towers_lowers_j(ratings):
    ratings = _with_genres(ratings)
    model = ContentBased(n_outputs=4, hidden=(6,), reg=0.1, n_epochs=1, batch_size=None, learning_rate=0.01, seed=1)
    before, after = (record.total for record in model.iter_fit(ratings))
    assert after < before


def test_epoch_0_carries_validation_scores_and_survives_the_saved_state(ratings):
    train, held_out = Ratings(ratings.users[:200], ratings.items[:200], ratings.values[:200], ratings.user_labels,
                              ratings.item_labels), \
        Ratings(ratings.users[200:], ratings.items[200:], ratings.values[200:], ratings.user_labels,
                ratings.item_labels)
    model = NeuralCF(n_factors=3, hidden=(4,), n_epochs=2, seed=0)
    first = next(model.iter_fit(train, held_out))
    assert first.epoch == 0
    assert first.validation["rmse"] == pytest.approx(_rmse(held_out.values, model.predict(held_out.users,
                                                                                          held_out.items)))
    model.fit(train, held_out)
    restored = NeuralCF.from_state(model.get_state())
    assert [r.epoch for r in restored.history_] == [0, 1, 2]
    assert restored.history_[0].total == pytest.approx(model.history_[0].total)


@pytest.mark.parametrize("model_class", [NeuralCF, ContentBased], ids=["neural", "content"])
def test_a_warm_start_goes_on_as_the_longer_run_would(ratings, model_class):
    """Five epochs and then three more, warm-started, are the eight epochs of one run (Adam's moments and the
    batches' shuffles go on); a model read back from its state goes on from its parameters and epochs."""
    whole = model_class(n_epochs=8, batch_size=64, seed=3).fit(ratings)
    model = model_class(n_epochs=5, batch_size=64, seed=3, warm_start=True).fit(ratings)
    model.set_params(n_epochs=3).fit(ratings)
    assert [record.epoch for record in model.history_] == list(range(9))  # one epoch 0
    for name, value in whole._params.items():
        np.testing.assert_allclose(model._params[name], value, rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose([r.total for r in model.history_], [r.total for r in whole.history_], rtol=1e-12)
    restored = model_class.from_state(model.get_state())
    restored.set_params(warm_start=True, n_epochs=2).fit(ratings)
    assert [record.epoch for record in restored.history_] == list(range(11))
    assert restored.history_[-1].total < model.history_[-1].total  # from the trained weights, not fresh ones
    fresh = model_class(n_epochs=2, batch_size=64, seed=3).fit(ratings)  # warm_start off: a new run
    model.set_params(warm_start=False, n_epochs=2).fit(ratings)
    np.testing.assert_array_equal([r.total for r in model.history_], [r.total for r in fresh.history_])
