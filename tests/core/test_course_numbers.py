"""The course's own numbers come out of the engine."""

import numpy as np
import pandas as pd
import pytest

from cfexplorer.core.mf import MatrixFactorization
from cfexplorer.core.ratings import Ratings

from .course import MOVIE_MEANS, course_with_eve


def _lab_model_and_ratings(folder, n_movies=5, n_users=4, n_features=3):
    lab = folder / "ng-cf-lab-small-movies"
    X = np.loadtxt(lab / "small_movies_X.csv", delimiter=",")[:n_movies, :n_features]
    W = np.loadtxt(lab / "small_movies_W.csv", delimiter=",")[:n_users, :n_features]
    b = np.loadtxt(lab / "small_movies_b.csv", delimiter=",")[:n_users]
    triplets = pd.read_csv(lab / "small_movies_Y_R_reconstructed_triplets.csv")
    chosen = triplets[(triplets.movie_index < n_movies) & (triplets.user_index < n_users)]
    ratings = Ratings(chosen.user_index, chosen.movie_index, chosen.rating,
                      [f"u{j}" for j in range(n_users)], [f"m{i}" for i in range(n_movies)])
    model = MatrixFactorization(n_factors=n_features, bias_reg=0.0, user_bias=True, item_bias=False,
                                mean_normalization=False, global_mean=False, n_epochs=0).fit(ratings)
    model.item_factors_[:] = X
    model.user_factors_[:] = W
    model.user_bias_[:] = b
    return model, ratings


@pytest.mark.parametrize("reg,expected", [(0.0, 13.67), (1.5, 28.09)])
def test_lab_cost_on_first_5_movies_4_users_3_features(shared_data, reg, expected):
    model, ratings = _lab_model_and_ratings(shared_data)
    model.reg = reg
    data_term, reg_term, total = model.loss_terms(ratings)
    assert round(total, 2) == expected
    assert total == pytest.approx(data_term + reg_term)
    if reg == 0:
        assert reg_term == 0


@pytest.mark.parametrize("optimizer,lr", [("gd", 0.05), ("adam", 0.1), ("sgd", 0.05), ("als", 0.1)])
def test_a_user_without_ratings_is_predicted_the_movie_means(optimizer, lr):
    ratings = course_with_eve()
    model = MatrixFactorization(n_factors=3, reg=1.0, bias_reg=0.0, optimizer=optimizer, learning_rate=lr,
                                n_epochs=300, batch_size=4, mean_normalization=True, global_mean=False,
                                user_bias=True, item_bias=False).fit(ratings)
    eve = list(ratings.user_labels).index("Eve")
    predictions = model.predict(np.full(5, eve), np.arange(5))
    np.testing.assert_allclose(predictions, MOVIE_MEANS, atol=1e-9)
    np.testing.assert_allclose(model.item_mean_, MOVIE_MEANS)


def test_without_mean_normalization_a_new_user_is_predicted_zero():
    ratings = course_with_eve()
    model = MatrixFactorization(n_factors=3, reg=1.0, bias_reg=0.0, optimizer="adam", n_epochs=200,
                                mean_normalization=False, global_mean=False, item_bias=False).fit(ratings)
    eve = list(ratings.user_labels).index("Eve")
    np.testing.assert_allclose(model.predict(np.full(5, eve), np.arange(5)), 0.0, atol=1e-9)


def test_trained_course_example_fits_the_known_ratings():
    ratings = course_with_eve()
    model = MatrixFactorization(n_factors=2, reg=0.01, optimizer="adam", learning_rate=0.1, n_epochs=500,
                                mean_normalization=True, global_mean=False, item_bias=False).fit(ratings)
    np.testing.assert_allclose(model.predict(ratings.users, ratings.items), ratings.values, atol=0.1)
