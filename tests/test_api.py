"""The public API (cfexplorer.api), used as a script would: this file imports nothing else of the package,
so that a change that breaks exported scripts and notebooks breaks it first."""

import math

import numpy as np
import pytest

from cfexplorer import api


def test_the_course_example_trains_and_predicts_every_unrated_cell():
    ratings = api.load_example("course")
    assert "course" in api.example_names()
    model = api.make_model("mf", n_factors=3, n_epochs=60, optimizer="adam", learning_rate=0.1,
                           mean_normalization=True)
    records = list(model.iter_fit(ratings))
    assert [r.epoch for r in records][-1] == 60 and isinstance(records[-1], api.EpochRecord)
    assert all(math.isclose(r.total, r.data_term + r.reg_term) for r in records)
    table = api.unrated_predictions(model, ratings)
    rated = set(zip(ratings.users.tolist(), ratings.items.tolist()))
    cells = set(zip(table.user_index.tolist(), table.movie_index.tolist()))
    assert cells == {(u, i) for u in range(ratings.n_users) for i in range(ratings.n_items)} - rated
    predictor = model.predictor()
    for u, i, p in zip(table.user_index, table.movie_index, table.prediction):
        assert p == pytest.approx(predictor.predict_cell(u, i))
    for user in set(table.user_index):  # best first for each user
        mine = table.prediction[table.user_index == user].to_numpy()
        assert np.all(np.diff(mine) <= 1e-12)


def test_each_users_top_n_when_the_unrated_cells_are_many(monkeypatch):
    ratings = api.load_example("course")
    model = api.make_model("biases", n_epochs=5).fit(ratings)
    monkeypatch.setattr(api, "MAX_UNRATED_CELLS", 2)
    table = api.unrated_predictions(model, ratings, top_n=1)
    assert table.groupby("user_index").size().max() == 1
    assert len(table) == sum(1 for u in range(ratings.n_users)
                             if (ratings.users == u).sum() < ratings.n_items)


def test_read_ratings_and_open_project_give_what_the_window_opens(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user,movie,rating\na,X,4\na,Y,2\nb,X,5\n")
    ratings = api.read_ratings(path)
    assert (ratings.n_users, ratings.n_items, ratings.n_ratings) == (2, 2, 3)
    assert sorted(ratings.values.tolist()) == [2.0, 4.0, 5.0]
    (tmp_path / "bad.csv").write_text("user,movie,rating\na,X,inf\n")
    with pytest.raises(ValueError, match="bad.csv, line 2"):
        api.read_ratings(tmp_path / "bad.csv")
    model = api.make_model("mf", n_factors=1, n_epochs=20).fit(ratings)
    project = api.open_project(api.save_project(tmp_path / "trained.cfx", ratings, model))
    assert np.array_equal(project.ratings.values, ratings.values)
    assert project.model.predict(np.array([1]), np.array([1]))[0] == pytest.approx(
        model.predict(np.array([1]), np.array([1]))[0])


def test_learned_arrays_and_the_projection_of_the_factor_space():
    ratings = api.load_example("planted")
    model = api.make_model("mf", n_factors=2, n_epochs=30).fit(ratings)
    arrays = api.learned_arrays(model)
    assert arrays["item_factors"].shape == (ratings.n_items, 2)
    assert arrays["user_bias"].shape == (ratings.n_users,)
    projection = api.pca(arrays["item_factors"], 2)
    assert projection.coordinates.shape == (ratings.n_items, 2)


def test_a_split_with_the_same_seed_is_the_same_split():
    ratings = api.load_example("planted")
    first, _ = api.train_test_split(ratings, 0.2, seed=3)
    again, _ = api.train_test_split(ratings, 0.2, seed=3)
    assert np.array_equal(first.values, again.values) and np.array_equal(first.users, again.users)
