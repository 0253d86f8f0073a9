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
