"""The course's other models: neural CF, content-based two towers, baselines, and the model registry."""

import numpy as np
import pandas as pd
import pytest

from cfexplorer.core.content import ContentBased, item_features, user_features
from cfexplorer.core.mf import GlobalMeanBaseline
from cfexplorer.core.models import MODEL_KINDS, kind_of, make_model, model_from_state
from cfexplorer.core.network import parse_hidden, scatter_rows
from cfexplorer.core.neural import NeuralCF
from cfexplorer.core.ratings import Ratings, train_test_split
from cfexplorer.core.synthetic import low_rank, planted_tastes


def _with_genres(ratings: Ratings) -> Ratings:
    genres = ["Action|Comedy", "Drama", "Action", "Comedy|Drama", "Romance", "Action|Romance", ""]
    titles = [f"Movie {i} ({1990 + i})" for i in range(ratings.n_items)]
    info = pd.DataFrame({"title": titles, "genres": (genres * 3)[:ratings.n_items]})
    return Ratings(ratings.users, ratings.items, ratings.values, ratings.user_labels, ratings.item_labels,
                   ratings.scale, False, info)


def _likes(ratings: Ratings) -> Ratings:
    labels = (ratings.values > np.median(ratings.values)).astype(float)
    return Ratings(ratings.users, ratings.items, labels, ratings.user_labels, ratings.item_labels, binary=True)


def _compare_with_finite_differences(model, grads, cost):
    """Central differences of ``cost()`` in every parameter entry against the analytic ``grads``."""
    for name, array in model._params.items():
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + 1e-6
            up = cost()
            array[index] = saved - 1e-6
            down = cost()
            array[index] = saved
            numeric[index] = (up - down) / 2e-6
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-6, err_msg=name)


def _check_gradients(model, ratings):
    """Central finite differences of J against the model's analytic gradient, parameter by parameter."""
    rng = np.random.default_rng(1)
    for name in model._params:  # biases start at zero; move everything so that every term matters
        model._params[name] += rng.normal(0, 0.3, model._params[name].shape)
    model._expose()
    grads = model._gradients(ratings.users, ratings.items, model._targets(ratings.values), 1.0)
    assert set(grads) == set(model._params)

    def cost():
        model._expose()
        return model.loss_terms(ratings)[2]

    _compare_with_finite_differences(model, grads, cost)


SMALL = low_rank(n_users=9, n_items=7, rank=2, density=0.6, seed=3)


@pytest.mark.parametrize("hidden", [(), (5,), (5, 4)])
@pytest.mark.parametrize("target", ["squared", "y_range", "bce"])
def test_neural_gradient_matches_finite_differences(hidden, target):
    ratings = _likes(SMALL) if target == "bce" else SMALL
    model = NeuralCF(n_factors=3, hidden=hidden, reg=0.7, n_epochs=0, init_scale=0.5,
                     y_range="auto" if target == "y_range" else None).fit(ratings)
    _check_gradients(model, ratings)


@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("normalize, scale_targets", [(True, True), (False, True), (True, False), (False, False)])
def test_content_gradient_matches_finite_differences(hidden, binary, normalize, scale_targets):
    ratings = _with_genres(SMALL)
    if binary:
        ratings = Ratings(ratings.users, ratings.items, (ratings.values > 3).astype(float), ratings.user_labels,
                          ratings.item_labels, binary=True, item_info=ratings.item_info)
    model = ContentBased(n_outputs=3, hidden=hidden, reg=0.7, n_epochs=0, normalize=normalize,
                         scale_targets=scale_targets).fit(ratings)
    _check_gradients(model, ratings)


def test_without_the_course_switches_the_towers_are_neither_unit_nor_scaled():
    ratings = _with_genres(SMALL)
    plain = ContentBased(n_outputs=3, hidden=(5,), reg=0.01, learning_rate=0.01, n_epochs=200, batch_size=None,
                         normalize=False, scale_targets=False).fit(ratings)
    lengths = np.linalg.norm(plain.item_factors_, axis=1)
    assert not np.allclose(lengths, 1.0)
    np.testing.assert_array_equal(plain._targets(ratings.values), ratings.values)  # the ratings themselves
    z = np.sum(plain.user_factors_[ratings.users] * plain.item_factors_[ratings.items], axis=1)
    np.testing.assert_allclose(plain.predict(ratings.users, ratings.items),
                               np.clip(z, ratings.scale.low, ratings.scale.high))
    np.testing.assert_allclose(plain.predictor().predict_matrix()[ratings.users, ratings.items],
                               plain.predict(ratings.users, ratings.items))
    restored = ContentBased.from_state(plain.get_state())
    assert not restored.normalize_ and not restored.scale_targets_
    np.testing.assert_allclose(restored.predict(ratings.users, ratings.items), plain.predict(ratings.users, ratings.items))


def test_scatter_rows_is_the_transpose_of_a_lookup():
    indices = np.array([2, 0, 2])
    upstream = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])
    # d/dtable of sum(upstream * table[indices]) == one_hot(indices).T @ upstream; repeated rows add up
    expected = np.eye(4)[indices].T @ upstream
    np.testing.assert_array_equal(scatter_rows(indices, upstream, 4), expected)
    accumulated = np.zeros((4, 3))
    np.add.at(accumulated, indices, upstream)
    np.testing.assert_array_equal(scatter_rows(indices, upstream, 4), accumulated)


def test_parse_hidden_reads_what_users_type():
    assert parse_hidden("64, 32") == (64, 32)
    assert parse_hidden("") == ()
    assert parse_hidden([16]) == (16,)
    with pytest.raises(ValueError, match="whole numbers"):
        parse_hidden("64, lots")
    with pytest.raises(ValueError, match="at least one unit"):
        parse_hidden("0")


# --- each model beats the global mean on a planted matrix --------------------------------------------------------
def _planted_biases() -> Ratings:
    """Ratings made of planted user and movie biases plus noise, with the tastes' titles and genres."""
    tastes = planted_tastes(n_users=60, n_items=40, n_tastes=2, density=0.5, seed=0)
    rng = np.random.default_rng(5)
    values = 3 + rng.normal(0, 0.8, tastes.n_users)[tastes.users] + rng.normal(0, 0.8, tastes.n_items)[tastes.items]
    values = np.clip(np.round(values + rng.normal(0, 0.3, len(values))), 1, 5)
    return Ratings(tastes.users, tastes.items, values, tastes.user_labels, tastes.item_labels, tastes.scale,
                   item_info=tastes.item_info)


PLANTED = planted_tastes(n_users=60, n_items=40, n_tastes=2, density=0.5, seed=0)
BIASES = _planted_biases()
PLANTED_SETTINGS = {
    "mf": {"n_factors": 2, "reg": 1.0},
    "dot_bias": {"n_factors": 2, "reg": 1.0, "learning_rate": 0.05, "n_epochs": 150},
    "neural": {"n_factors": 4, "hidden": (16,), "reg": 1.0, "learning_rate": 0.01, "n_epochs": 60,
               "batch_size": 64},
    "content": {"n_outputs": 4, "hidden": (16,), "reg": 0.1, "learning_rate": 0.01, "n_epochs": 60,
                "batch_size": 64},
    "bayes": {"n_factors": 2, "n_epochs": 60, "burn_in": 2},
    "biases": {},
}


# Biases alone cannot represent tastes: that baseline is held to the matrix it can represent.
CASES = [(kind, planted) for kind in sorted(PLANTED_SETTINGS) for planted in ("tastes", "biases")
         if (kind, planted) != ("biases", "tastes")]


@pytest.mark.parametrize("kind,planted", CASES)
def test_every_model_beats_the_global_mean_on_held_out_planted_ratings(kind, planted):
    train, test = train_test_split(PLANTED if planted == "tastes" else BIASES, 0.2, seed=0)
    baseline = GlobalMeanBaseline().fit(train).score(test)["rmse"]
    model = make_model(kind, **PLANTED_SETTINGS[kind]).fit(train)
    rmse = model.score(test)["rmse"]
    assert rmse < 0.9 * baseline, (kind, rmse, baseline)
    assert model.history_[-1].total < model.history_[0].total


def test_global_mean_baseline_predicts_the_training_mean():
    train, test = train_test_split(PLANTED, 0.2, seed=0)
    model = GlobalMeanBaseline().fit(train)
    np.testing.assert_allclose(model.predict(test.users, test.items), train.values.mean())
    assert model.n_parameters_ == 0


# --- content-based specifics -----------------------------------------------------------------------------------
def _trained_content():
    return ContentBased(**PLANTED_SETTINGS["content"]).fit(PLANTED)


def test_tower_outputs_have_unit_norm():
    model = _trained_content()
    np.testing.assert_allclose(np.linalg.norm(model.item_factors_, axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(model.user_factors_, axis=1), 1.0, rtol=1e-12)
    predictor = model.predictor()
    np.testing.assert_allclose(np.linalg.norm(predictor.item_factors, axis=1), 1.0, rtol=1e-12)


def test_target_scaler_maps_the_ratings_to_minus_one_one_and_back():
    model = _trained_content()
    scaled = model._targets(PLANTED.values)
    assert scaled.min() == pytest.approx(-1.0) and scaled.max() == pytest.approx(1.0)
    np.testing.assert_allclose(model._output(scaled), PLANTED.values, atol=1e-12)
    # The predictor's own scaling agrees with the model's inverse transform.
    predictor = model.predictor()
    np.testing.assert_allclose(predictor._output(scaled), PLANTED.values, atol=1e-12)


@pytest.mark.parametrize("ratings", [[1.0, 5.0, 3.5, 2.0], [0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [0.1] * 7, [-2.5, 7.25]])
def test_the_target_scaling_is_scikit_learns_min_max_scaler(ratings):
    from sklearn.preprocessing import MinMaxScaler

    from cfexplorer.core.content import TargetScaling

    values = np.array(ratings)
    ours, theirs = TargetScaling(values), MinMaxScaler(feature_range=(-1, 1)).fit(values.reshape(-1, 1))
    for name in ("data_min_", "data_max_", "scale_", "min_"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name
    z = np.linspace(-1.3, 1.3, 27)
    assert np.array_equal(ours.transform(values), theirs.transform(values.reshape(-1, 1)).ravel())
    assert np.array_equal(ours.inverse_transform(z), theirs.inverse_transform(z.reshape(-1, 1)).ravel())


def test_the_feature_standardization_is_scikit_learns_standard_scaler():
    from sklearn.preprocessing import StandardScaler

    from cfexplorer.core.content import standard_scaling

    rng = np.random.default_rng(3)
    table = np.column_stack([rng.normal(3, 2, 50), np.zeros(50), np.full(50, 0.1), rng.integers(0, 2, 50),
                             np.full(50, 1e6) + rng.normal(0, 1e-9, 50), rng.random(50) * 1e-3])
    mean, scale = standard_scaling(table)
    theirs = StandardScaler().fit(table)
    np.testing.assert_allclose(mean, theirs.mean_, rtol=1e-14, atol=0)
    np.testing.assert_allclose(scale, theirs.scale_, rtol=1e-9)
    assert scale[1] == scale[2] == 1.0 and theirs.scale_[2] == 1.0  # constant columns: left as they are
    empty_mean, empty_scale = standard_scaling(np.zeros((0, 3)))
    assert np.array_equal(empty_mean, np.zeros(3)) and np.array_equal(empty_scale, np.ones(3))


def test_a_new_user_described_only_by_features_gets_recommendations_of_their_taste():
    model = _trained_content()
    romance_fan = {"ratings": 10, "mean rating": 3.0, "mean Romance": 5.0, "mean Action": 1.0}
    action_fan = {"ratings": 10, "mean rating": 3.0, "mean Romance": 1.0, "mean Action": 5.0}
    genres = PLANTED.item_info["genres"].to_numpy()
    for fan, taste in ((romance_fan, "Romance"), (action_fan, "Action")):
        items, predictions = model.recommend_for_features(fan, n=5)
        assert len(items) == 5 and np.all(np.diff(predictions) <= 0)
        assert list(genres[items]) == [taste] * 5
        assert predictions[0] > 4.0
    with pytest.raises(ValueError, match="missing user features"):
        model.recommend_for_features({"ratings": 3})


def test_similar_items_are_the_nearest_item_vectors_and_share_the_taste():
    model = _trained_content()
    genres = PLANTED.item_info["genres"].to_numpy()
    items, distances = model.similar_items(0, n=5)
    direct = np.sum((model.item_factors_ - model.item_factors_[0]) ** 2, axis=1)
    direct[0] = np.inf
    np.testing.assert_allclose(distances, np.sort(direct)[:5])
    assert 0 not in items and set(genres[items]) == {genres[0]}


def test_features_come_from_the_ratings_and_titles():
    ratings = _with_genres(SMALL)
    users, items = user_features(ratings), item_features(ratings)
    assert list(items.columns) == ["year", "mean rating", "ratings", "Action", "Comedy", "Drama", "Romance"]
    np.testing.assert_array_equal(items["year"], 1990 + np.arange(ratings.n_items))
    np.testing.assert_allclose(items["mean rating"], ratings.item_means())
    assert items.loc[items.index[0], ["Action", "Comedy", "Drama"]].tolist() == [1.0, 1.0, 0.0]
    np.testing.assert_allclose(users["mean rating"], ratings.user_means())
    # A user's mean for a genre is the mean of what they gave its movies.
    action = np.array([i for i in range(ratings.n_items) if "Action" in ratings.item_info["genres"][i]])
    user = 0
    mine = np.isin(ratings.items, action) & (ratings.users == user)
    expected = ratings.values[mine].mean() if mine.any() else ratings.user_means()[user]
    assert users["mean Action"].iloc[user] == pytest.approx(expected)


def test_edited_feature_tables_are_used_and_bad_ones_refused():
    ratings = _with_genres(SMALL)
    users = user_features(ratings)
    items = item_features(ratings)[["mean rating", "Action"]]
    model = ContentBased(n_outputs=2, n_epochs=2, item_features=items, user_features=users).fit(ratings)
    assert model.item_feature_names_ == ["mean rating", "Action"]
    broken = items.copy()
    broken.iloc[2, 1] = np.nan
    with pytest.raises(ValueError, match="'Action' of row 3 is not a number"):
        ContentBased(item_features=broken).fit(ratings)
    with pytest.raises(ValueError, match="has 3 rows"):
        ContentBased(user_features=users.iloc[:3]).fit(ratings)


# --- state and registry -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
def test_every_kind_survives_its_saved_state(kind):
    settings = {**PLANTED_SETTINGS.get(kind, {}), "n_epochs": 3}
    model = make_model(kind, **settings).fit(PLANTED)
    restored = model_from_state(model.get_state())
    assert kind_of(restored) == kind
    np.testing.assert_allclose(restored.predict(PLANTED.users, PLANTED.items),
                               model.predict(PLANTED.users, PLANTED.items), rtol=1e-12)
    predictor = model.predictor()
    assert predictor.shape == (PLANTED.n_users, PLANTED.n_items)
    matrix = predictor.predict_matrix()
    np.testing.assert_allclose(matrix[PLANTED.users, PLANTED.items], model.predict(PLANTED.users, PLANTED.items),
                               rtol=1e-9, atol=1e-9)
    assert predictor.predict_cell(3, 5) == pytest.approx(matrix[3, 5])
    items, predictions = predictor.recommend(3, [], n=4)
    np.testing.assert_allclose(predictions, matrix[3, items])
    assert predictor.explain(3, 5)["prediction"] == pytest.approx(matrix[3, 5])


def test_neural_predictor_matches_the_network_with_two_layers_and_dropout():
    model = NeuralCF(n_factors=3, hidden="8, 4", dropout=0.3, n_epochs=3, batch_size=32).fit(PLANTED)
    predictor = model.predictor()
    np.testing.assert_allclose(predictor.predict_matrix()[PLANTED.users, PLANTED.items],
                               model.predict(PLANTED.users, PLANTED.items), rtol=1e-9)
    # Dropout acts only while training: the same weights predict the same with dropout set to 0.
    import copy

    without_dropout = copy.deepcopy(model)
    without_dropout.dropout = 0.0
    np.testing.assert_allclose(model.predict(PLANTED.users, PLANTED.items),
                               without_dropout.predict(PLANTED.users, PLANTED.items), rtol=1e-12)


def test_make_model_ignores_settings_of_other_models_and_checks_its_own():
    model = make_model("neural", n_factors=5, mean_normalization=True)
    assert model.n_factors == 5
    with pytest.raises(ValueError, match="dropout"):
        make_model("neural", dropout=1.5).fit(PLANTED)
    with pytest.raises(ValueError, match="unknown model"):
        make_model("transformer")


def test_dropout_gradient_matches_finite_differences_for_a_fixed_mask():
    model = NeuralCF(n_factors=3, hidden=(6, 5), dropout=0.4, reg=0.7, n_epochs=0, init_scale=0.5).fit(SMALL)
    rng = np.random.default_rng(1)
    for name in model._params:  # zero biases would put pre-activations exactly on ReLU's kink
        model._params[name] += rng.normal(0, 0.3, model._params[name].shape)
    targets = model._targets(SMALL.values)
    grads = model._gradients(SMALL.users, SMALL.items, targets, 1.0, rng=np.random.default_rng(7))

    def cost():  # the same random mask on every evaluation: the same seed
        z, _ = model._forward(SMALL.users, SMALL.items, training=True, rng=np.random.default_rng(7))
        return model._data_term(z, targets) + model._reg_term()

    dropped = model._forward(SMALL.users, SMALL.items, training=True, rng=np.random.default_rng(7))[1][2][0][2]
    assert 0 < np.mean(dropped == 0) < 1  # some units really are dropped
    _compare_with_finite_differences(model, grads, cost)


def test_models_whose_epochs_run_in_the_kernels_say_so(monkeypatch):
    """The app's training thread waits while the GUI thread paints only for epochs that hold the GIL
    (ui/training.py): ALS and full batches run in core/_kernels.c, which releases it; mini-batches, the
    networks and the content model are numpy in Python. A fit says which way its epochs went."""
    from cfexplorer.core import kernels

    if kernels.compiled is None:
        pytest.skip("the compiled kernels are not built here")
    ratings = planted_tastes(n_users=40, n_items=30, density=0.5, seed=0)  # 600 ratings
    released = {("als", None): True, ("adam", None): True, ("gd", None): True, ("adam", 64): False,
                ("sgd", None): False, ("sgd", 10_000): True}  # a batch of all the ratings is a full batch
    for (optimizer, batch_size), expected in released.items():
        model = make_model("mf", optimizer=optimizer, batch_size=batch_size, n_epochs=1)
        assert not model.epochs_release_the_gil  # not known before a fit
        assert model.fit(ratings).epochs_release_the_gil is expected, (optimizer, batch_size)
    for kind in ("neural", "content"):
        assert not getattr(make_model(kind, n_epochs=1).fit(ratings), "epochs_release_the_gil", False)
    monkeypatch.setattr(kernels, "compiled", None)  # numpy's form of the same epochs holds the GIL
    assert not make_model("mf", optimizer="als", n_epochs=1).fit(ratings).epochs_release_the_gil
    assert not make_model("mf", optimizer="adam", n_epochs=1).fit(ratings).epochs_release_the_gil


@pytest.mark.parametrize("kind, changed", [(kind, {}) for kind in sorted(PLANTED_SETTINGS) + ["global_mean"]]
                         + [("neural", {"hidden": ()}), ("neural", {"hidden": (8, 4, 4)}),
                            ("content", {"normalize": False, "scale_targets": False})])
def test_each_predictors_largest_value_bounds_the_score_of_every_pair(kind, changed):
    """What a project's validation refuses a model by (core/models.py: _check_fits): a bound on the numbers
    a prediction is summed from, from the arrays' magnitudes, to hold for every user and movie (a Bayesian
    model's spread: the sum of its samples' squared scores). For these planted models it is also within a
    factor of 100 (not a property of the bound: a deep network's column sums multiply)."""
    predictor = make_model(kind, **{**PLANTED_SETTINGS.get(kind, {}), **changed}).fit(PLANTED).predictor()
    n_users, n_items = predictor.shape
    largest = max(abs(predictor.score(user, item)) for user in range(n_users) for item in range(n_items))
    if kind == "bayes":
        squares = sum(np.max(predictor._sample_scores(user_rows[:, None, :], item_rows[None, :, :]) ** 2)
                      for user_rows, item_rows in predictor.samples)
        assert len(predictor.samples) >= 2 and squares > largest
        largest = squares
    bound = predictor.largest_value()
    assert largest <= bound < 100 * max(largest, 1.0)


@pytest.mark.parametrize("kind, settings", [("mf", {"n_factors": 64}), ("mf", {"n_factors": 64, "optimizer": "adam"}),
                                            ("dot_bias", {"n_factors": 64}), ("neural", {"n_factors": 64}),
                                            ("content", {"n_outputs": 64}), ("bayes", {"n_factors": 32})])
def test_the_memory_a_model_says_training_needs_is_at_most_what_it_holds(kind, settings):
    """Training refuses settings whose least memory is more than is free: that least must not exceed what it
    really holds (or settings that fit would be refused): the peak of numpy's allocations while it trains."""
    ratings = _with_genres(low_rank(n_users=400, n_items=21, rank=3, density=0.5, seed=0))
    model = make_model(kind, n_epochs=3, **settings)
    least = 8 * model._least_values_held(ratings)
    assert least > 8 * (ratings.n_users + ratings.n_items) * 30  # the factors are counted
    assert least <= _peak_while_fitting(model, ratings)


def _peak_while_fitting(model, ratings) -> int:
    """The peak of numpy's allocations (traced) while ``model`` trains on ``ratings``."""
    import tracemalloc

    tracemalloc.start()
    try:
        model.fit(ratings)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_short_bayesian_chain_is_not_counted_as_keeping_more_samples_than_it_draws():
    """Two samples of many users and movies: the estimate counted all 32 kept samples (237 MB against a peak
    of 170 MB), and settings that fit were refused."""
    rng = np.random.default_rng(0)
    n_users, n_items = 20_000, 4_000
    keys = rng.choice(n_users * n_items, 40_000, replace=False)
    ratings = Ratings.from_arrays(keys // n_items, keys % n_items, rng.integers(1, 6, len(keys)).astype(float))
    model = make_model("bayes", n_epochs=2, n_factors=40)
    least = 8 * model._least_values_held(ratings)
    assert least > 8 * 4 * (ratings.n_users + ratings.n_items) * 40  # the two samples, the current one and the sum
    assert least <= _peak_while_fitting(model, ratings)


def test_training_refuses_settings_that_cannot_fit_in_the_memory_free(monkeypatch):
    from cfexplorer.core import base

    ratings = low_rank(n_users=30, n_items=20, rank=2, density=0.5, seed=0)
    monkeypatch.setattr(base, "available_memory", lambda: 10_000)
    for kind in ("mf", "neural", "content", "bayes"):
        model = make_model(kind, n_epochs=1)
        with pytest.raises(ValueError, match="of memory for the model's arrays, and 10.0 kB is free: choose fewer"):
            next(model.iter_fit(_with_genres(ratings)))
        assert not hasattr(model, "_params") or not model._params, kind  # refused before anything was made
