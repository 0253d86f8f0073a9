"""Where training starts: epoch 0 (the cost at the starting parameters), the initializations, and
parameters given from outside (the course lab's X, W, b)."""

import numpy as np
import pytest

from cfexplorer.core.mf import MatrixFactorization, TrainingDiverged
from cfexplorer.core.ratings import RatingScale, Ratings
from cfexplorer.core.synthetic import low_rank

from .course import course_with_eve

# The lab's conventions: J = 1/2 sum over rated cells (w.x + b - y)^2 + lambda/2 (|W|^2 + |X|^2), no offset,
# a user bias b that is not regularized, no movie bias.
LAB_MODEL = dict(bias_reg=0.0, mean_normalization=False, global_mean=False, user_bias=True, item_bias=False,
                 optimizer="adam", learning_rate=0.1, init="given")


def tiny() -> tuple[Ratings, dict]:
    """Two movies x two users, three ratings, and parameters whose J is worked out by hand below."""
    ratings = Ratings([0, 1, 1], [0, 0, 1], [3.0, 4.0, 1.0], ["u0", "u1"], ["m0", "m1"],
                      scale=RatingScale(0.0, 5.0, 0.5))
    params = {"item_factors": [[1.0, 2.0], [0.0, 1.0]], "user_factors": [[1.0, 0.0], [2.0, 1.0]],
              "user_bias": [0.5, -1.0]}
    return ratings, params


def test_epoch_0_is_the_cost_at_given_parameters_worked_out_by_hand():
    # z(m0,u0) = 1 + 0.5 = 1.5 (y 3); z(m0,u1) = 2 + 2 - 1 = 3 (y 4); z(m1,u1) = 1 - 1 = 0 (y 1)
    # data = 1/2 (2.25 + 1 + 1) = 2.125; |X|^2 = 6, |W|^2 = 6: reg = lambda/2 * 12
    ratings, params = tiny()
    for reg, total in ((0.0, 2.125), (1.0, 8.125), (1.5, 11.125)):
        model = MatrixFactorization(n_factors=2, reg=reg, n_epochs=0, **LAB_MODEL).start_from(params)
        records = list(model.iter_fit(ratings))
        assert [r.epoch for r in records] == [0]
        assert (records[0].data_term, records[0].reg_term, records[0].total) == pytest.approx((2.125, 6 * reg, total))
        # no update happened: the model holds exactly the given parameters
        np.testing.assert_array_equal(model.item_factors_, params["item_factors"])
        np.testing.assert_array_equal(model.user_bias_, params["user_bias"])
        # training RMSE of the predictions (clipped to 0..5): errors -1.5, -1, -1
        assert records[0].train["rmse"] == pytest.approx(np.sqrt((2.25 + 1 + 1) / 3))


def test_training_continues_from_given_parameters_and_leaves_them_untouched():
    ratings, params = tiny()
    model = MatrixFactorization(n_factors=2, reg=1.0, n_epochs=30, **LAB_MODEL).start_from(params)
    records = list(model.iter_fit(ratings))
    assert [r.epoch for r in records] == list(range(31))
    assert records[0].total == pytest.approx(8.125)
    assert records[-1].total < 0.5 * records[0].total  # Adam went downhill from the given point
    assert params["item_factors"] == [[1.0, 2.0], [0.0, 1.0]]  # the caller's arrays were copied
    # the same start, again: the same run
    again = MatrixFactorization(n_factors=2, reg=1.0, n_epochs=30, **LAB_MODEL).start_from(params).fit(ratings)
    np.testing.assert_array_equal(again.item_factors_, model.item_factors_)


def test_given_parameters_that_do_not_fit_the_ratings_are_refused_with_their_shapes():
    ratings, params = tiny()
    model = MatrixFactorization(n_factors=3, **LAB_MODEL).start_from(params)
    with pytest.raises(ValueError, match=r"movie factors X have shape 2 × 2; .* need 2 × 3"):
        model.fit(ratings)
    short = dict(params, user_bias=[0.5])
    with pytest.raises(ValueError, match=r"user biases b have shape 1; .* need 2"):
        MatrixFactorization(n_factors=2, **LAB_MODEL).start_from(short).fit(ratings)
    with pytest.raises(ValueError, match="not a finite number"):
        MatrixFactorization(n_factors=2, **LAB_MODEL).start_from(
            dict(params, user_factors=[[np.nan, 0], [1, 1]])).fit(ratings)
    with pytest.raises(ValueError, match="start_from"):
        MatrixFactorization(n_factors=2, **LAB_MODEL).fit(ratings)
    with pytest.raises(ValueError, match="need user_factors"):
        MatrixFactorization().start_from({"item_factors": params["item_factors"]})


def test_missing_biases_start_at_zero_and_unused_biases_are_ignored():
    ratings, params = tiny()
    no_bias = {k: v for k, v in params.items() if k != "user_bias"}
    model = MatrixFactorization(n_factors=2, reg=0.0, n_epochs=0, **LAB_MODEL).start_from(no_bias).fit(ratings)
    # z = 1, 4, 1 against 3, 4, 1: data = 1/2 * 4
    assert model.history_[0].data_term == pytest.approx(2.0)
    without_b = dict(LAB_MODEL, user_bias=False)
    model = MatrixFactorization(n_factors=2, reg=0.0, n_epochs=0, **without_b).start_from(params).fit(ratings)
    assert model.history_[0].data_term == pytest.approx(2.0)


@pytest.mark.parametrize("optimizer", ["als", "adam", "gd", "sgd"])
def test_every_optimizer_reports_epoch_0_at_the_starting_parameters(optimizer):
    ratings = low_rank(n_users=30, n_items=20, seed=0)
    model = MatrixFactorization(n_factors=2, optimizer=optimizer, learning_rate=0.001, n_epochs=3)
    records = model.iter_fit(ratings)
    first = next(records)
    assert first.epoch == 0
    assert (first.data_term, first.reg_term) == pytest.approx(model.loss_terms(ratings)[:2], rel=1e-12)
    assert [r.epoch for r in records] == [1, 2, 3]
    assert model.predictor().epoch == 3


def test_small_init_draws_factors_at_the_chosen_scale_and_zero_biases():
    ratings = low_rank(n_users=300, n_items=200, seed=0)
    for scale in (0.1, 0.5):
        model = MatrixFactorization(n_factors=8, init_scale=scale, n_epochs=0).fit(ratings)
        rated_users = ratings.user_counts() > 0
        assert np.std(model.user_factors_[rated_users]) == pytest.approx(scale, rel=0.05)
        assert np.std(model.item_factors_) == pytest.approx(scale, rel=0.05)
        assert not model.user_bias_.any() and not model.item_bias_.any()


def test_normal_init_draws_every_parameter_from_the_standard_normal_as_the_lab():
    ratings = low_rank(n_users=400, n_items=300, density=0.3, seed=0)
    model = MatrixFactorization(n_factors=10, init="normal", n_epochs=0).fit(ratings)
    for name in ("item_factors_", "user_factors_", "user_bias_", "item_bias_"):
        values = getattr(model, name)
        assert abs(np.mean(values)) < 0.1 and np.std(values) == pytest.approx(1.0, rel=0.1), name
    # J at the start is in the lab's scale: about 1/2 (k + 1 + 1 + var y) per rating plus lambda/2 per parameter
    record = model.history_[0]
    var_y = np.var(ratings.values - model.item_offset_[ratings.items])
    expected = 0.5 * len(ratings) * (10 + 2 + var_y) + 0.5 * model.reg * 10 * (400 + 300)
    assert record.total == pytest.approx(expected, rel=0.1)


def test_whatever_the_init_a_user_without_ratings_starts_at_zero_and_is_predicted_the_movie_means():
    ratings = course_with_eve()
    eve = list(ratings.user_labels).index("Eve")
    for init in ("small", "normal"):
        model = MatrixFactorization(n_factors=2, init=init, reg=1.0, bias_reg=0.0, optimizer="adam",
                                    learning_rate=0.1, n_epochs=50, mean_normalization=True, global_mean=False,
                                    item_bias=False).fit(ratings)
        assert not model.user_factors_[eve].any() and model.user_bias_[eve] == 0
        np.testing.assert_allclose(model.predict([eve] * 5, range(5)), [2.5, 2.5, 2.0, 2.25, 1.25])


def test_bad_init_settings_are_refused():
    ratings = low_rank(n_users=5, n_items=5, seed=0)
    with pytest.raises(ValueError, match="init must be one of small, normal, given"):
        MatrixFactorization(init="uniform").fit(ratings)
    with pytest.raises(ValueError, match="initial scale"):
        MatrixFactorization(init_scale=-1).fit(ratings)


def test_a_start_whose_cost_is_not_finite_is_refused_before_any_update():
    ratings, params = tiny()
    huge = dict(params, item_factors=[[1e200, 1e200], [0.0, 1.0]])
    with pytest.raises(TrainingDiverged, match="starting parameters"):
        MatrixFactorization(n_factors=2, **LAB_MODEL).start_from(huge).fit(ratings)


# --- the course lab's own files ---------------------------------------------------------------------------
def lab_arrays(shared_data):
    folder = shared_data / "ng-cf-lab-small-movies"
    X = np.loadtxt(folder / "small_movies_X.csv", delimiter=",")
    W = np.loadtxt(folder / "small_movies_W.csv", delimiter=",")
    b = np.loadtxt(folder / "small_movies_b.csv", delimiter=",")
    triplets = np.loadtxt(folder / "small_movies_Y_R_reconstructed_triplets.csv", delimiter=",", skiprows=1)
    return X, W, b, triplets


def test_the_labs_cost_on_5_movies_4_users_3_features_is_13_67_and_28_09(shared_data):
    X, W, b, triplets = lab_arrays(shared_data)
    movie, user, rating = triplets[:, 0].astype(int), triplets[:, 1].astype(int), triplets[:, 4]
    kept = (movie < 5) & (user < 4)
    subset = Ratings(user[kept], movie[kept], rating[kept], [f"user {j}" for j in range(4)],
                     [f"movie {i}" for i in range(5)], scale=RatingScale(0.5, 5.0, 0.5))
    start = {"item_factors": X[:5, :3], "user_factors": W[:4, :3], "user_bias": b[:4]}
    printed = {}
    for reg in (0.0, 1.5):
        model = MatrixFactorization(n_factors=3, reg=reg, n_epochs=0, **LAB_MODEL).start_from(start).fit(subset)
        printed[reg] = f"{model.history_[0].total:0.2f}"  # the lab prints f"{J:0.2f}"
    assert printed == {0.0: "13.67", 1.5: "28.09"}


def test_the_labs_training_starts_in_the_millions_and_falls_as_the_labs_does(shared_data):
    """The lab: k = 100, lambda = 1, Adam 0.1, mean normalization, every parameter from N(0, 1); it prints
    2,321,191.3 at iteration 0 and 136,168.7 at iteration 20 (its ratings have one more user, and its
    random draws are TensorFlow's: the same scale, not the same numbers)."""
    _, _, _, triplets = lab_arrays(shared_data)
    movie, user, rating = triplets[:, 0].astype(int), triplets[:, 1].astype(int), triplets[:, 4]
    ratings = Ratings(user, movie, rating, np.arange(user.max() + 1), np.arange(movie.max() + 1),
                      scale=RatingScale(0.5, 5.0, 0.5))
    model = MatrixFactorization(n_factors=100, reg=1.0, bias_reg=0.0, optimizer="adam", learning_rate=0.1,
                                n_epochs=20, init="normal", mean_normalization=True, global_mean=False,
                                item_bias=False)
    totals = [record.total for record in model.iter_fit(ratings)]
    assert totals[0] == pytest.approx(2_321_191.3, rel=0.06)
    assert totals[20] == pytest.approx(136_168.7, rel=0.1)
    assert all(later < earlier for earlier, later in zip(totals, totals[1:]))
