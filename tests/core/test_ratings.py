import re

import numpy as np
import pytest

from cfexplorer.core.ratings import RatingScale, Ratings

from .course import MOVIE_MEANS, course_with_eve


def test_dense_round_trip_keeps_missing_cells():
    ratings = course_with_eve()
    dense = ratings.to_dense()
    assert dense.shape == (5, 5)
    assert np.isnan(dense[4]).all()  # Eve
    assert dense[0, 0] == 5 and np.isnan(dense[1, 1])
    again = Ratings.from_dense(dense, ratings.user_labels, ratings.item_labels)
    np.testing.assert_array_equal(again.to_dense(), dense)
    assert ratings.n_ratings == 16 and ratings.density == pytest.approx(16 / 25)


def test_summaries():
    ratings = course_with_eve()
    np.testing.assert_allclose(ratings.item_means(), MOVIE_MEANS)
    np.testing.assert_array_equal(ratings.user_counts(), [4, 4, 4, 4, 0])
    assert np.isnan(ratings.user_means()[4])
    assert ratings.to_csr().shape == (5, 5) and ratings.to_csr().nnz == 16


def test_duplicates_and_bad_indices_are_refused():
    with pytest.raises(ValueError, match="more than once"):
        Ratings([0, 0], [1, 1], [3, 4], ["a"], ["x", "y"])
    with pytest.raises(ValueError, match="outside"):
        Ratings([2], [0], [3], ["a"], ["x"])
    with pytest.raises(ValueError, match="0 or 1"):
        Ratings([0], [0], [3], ["a"], ["x"], binary=True)


def test_arrays_are_read_only():
    ratings = course_with_eve()
    with pytest.raises(ValueError):
        ratings.values[0] = 1


def test_rating_scale_checks_and_rounds():
    scale = RatingScale(0.5, 5.0, 0.5)
    np.testing.assert_array_equal(scale.contains([0.5, 5, 7, 0]), [True, True, False, False])
    np.testing.assert_array_equal(scale.on_step([1.5, 1.7]), [True, False])
    assert scale.round(1.7) == pytest.approx(1.5)
    assert RatingScale.infer([1, 2, 5]) == RatingScale(1.0, 5.0, 1.0)
    assert RatingScale.infer([0.5, 4.5]) == RatingScale(0.5, 5.0, 0.5)


def test_raw_ids_sort_numerically():
    ratings = Ratings.from_arrays(np.array([10, 2, 2]), np.array([5, 5, 1]), [1.0, 2.0, 3.0])
    assert list(ratings.user_labels) == [2, 10]
    assert list(ratings.item_labels) == [1, 5]


def test_keep_masks_and_subset_summary():
    from cfexplorer.core.ratings import keep_masks, summarize_subset

    ratings = course_with_eve()
    users, items = keep_masks(ratings, min_user_ratings=1, min_item_mean=2.25)
    assert users.tolist() == [True, True, True, True, False]  # Eve has no ratings
    assert items.tolist() == [True, True, False, True, False]  # means 2.5, 2.5, 2, 2.25, 1.25
    kept = summarize_subset(ratings, users, items)
    assert (kept.users, kept.items, kept.ratings) == (4, 3, 10)
    assert kept.density == pytest.approx(10 / 12)


def test_subset_by_index_still_refuses_repeated_ratings():
    ratings = Ratings.from_dense([[1.0, 2.0], [3.0, np.nan]])
    assert ratings.subset(np.array([True, False, True])).n_ratings == 2
    with pytest.raises(ValueError, match="more than once"):
        ratings.subset(np.array([0, 0]))


@pytest.mark.parametrize("values, words", [
    ([1e308, 1e308, -1e308, 3, 4, 2], "rating 1e+308 is beyond ±1,000,000"),
    ([3, -2e6], "rating -2e+06 is beyond ±1,000,000"),
    ([600_000, -600_000], "ratings from -600000 to 600000 span more than 1,000,000"),
    ([np.nan, 3], "ratings must be finite numbers"),
    ([np.inf], "ratings must be finite numbers"),
])
def test_ratings_no_scale_can_show_are_refused_by_every_path(values, words):
    n, words = len(values), re.escape(words)
    labels = [f"u{k}" for k in range(n)]
    with pytest.raises(ValueError, match=words):
        Ratings(np.arange(n), np.zeros(n, int), values, labels, ["x"])
    with pytest.raises(ValueError, match=words):  # with a scale given, as an edit or a project has
        Ratings(np.arange(n), np.zeros(n, int), values, labels, ["x"], scale=RatingScale(0.5, 5, 0.5))
    with pytest.raises(ValueError, match=words):
        Ratings.from_arrays(labels, ["x"] * n, values)
    if not np.isnan(values).any():  # NaN in a matrix means "not rated"
        with pytest.raises(ValueError, match=words):
            Ratings.from_dense(np.array(values, dtype=float).reshape(n, 1))


@pytest.mark.parametrize("scale, words", [
    ((0, float("inf"), 1), "finite"),
    ((float("nan"), 5, None), "finite"),
    ((0, 5, float("nan")), "finite"),
    ((-1e6, 1e6, None), "wider than 1,000,000"),
    ((1e7, 1e7 + 5, 1), "lies beyond ±2,000,000"),
    ((0, 5, 1e-9), "more than 1,000,000 steps"),
    (("1", 5, 1), "made of numbers"),
    ((0, 5, 0), "positive"),
])
def test_rating_scales_no_view_can_draw_are_refused(scale, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        RatingScale(*scale)


def test_the_widest_allowed_ratings_keep_an_inferred_scale():
    ratings = Ratings.from_arrays(["a", "b"], ["x", "x"], [-500_000.0, 500_000.0])
    assert (ratings.scale.low, ratings.scale.high) == (-500_000, 500_000)
    assert Ratings.from_arrays(["a"], ["x"], [1e6]).scale == RatingScale(1e6 - 1, 1e6 + 1, None)


def test_summaries_are_computed_once_read_only_and_shared_with_the_factor_space_rows():
    from cfexplorer.core.embedding import Embedding

    ratings = Ratings([0, 0, 1, 2], [0, 1, 1, 1], [4.0, 2.0, 5.0, 3.0], ["a", "b", "c", "d"], ["x", "y"])
    summaries = ratings.summaries()
    assert ratings.summaries() is summaries
    np.testing.assert_array_equal(summaries.user_counts, [2, 1, 1, 0])
    np.testing.assert_array_equal(summaries.item_counts, [1, 3])
    np.testing.assert_allclose(summaries.user_means, [3.0, 5.0, 3.0, np.nan])
    np.testing.assert_allclose(summaries.item_means, [4.0, 10 / 3])
    with pytest.raises(ValueError):
        summaries.item_counts[0] = 7  # shared by the grid and the factor space: nobody may change it
    rows = Embedding.rows_of(ratings)
    assert rows.items.counts is summaries.item_counts and rows.users.means is summaries.user_means
    titles = ratings.item_titles()
    titles[0] = "changed"  # a copy: the next caller still gets the names
    assert list(ratings.item_titles()) == ["x", "y"]
    names = ratings.user_names()
    assert list(names) == [str(label) for label in ratings.user_labels] and all(type(n) is str for n in names)
    assert ratings.user_names() is names and rows.users.names is names  # made once, shared
    with pytest.raises(ValueError):
        names[0] = "changed"
