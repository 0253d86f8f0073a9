"""Every edit's inverse restores the data exactly."""

import numpy as np
import pandas as pd
import pytest

from cfexplorer.core.edits import ITEMS, USERS, EditSequence, InsertEntries, RemoveEntries, Rename, SetCells, unique_label
from cfexplorer.core.ratings import Ratings

from .course import course_with_eve


def same(a: Ratings, b: Ratings):
    np.testing.assert_array_equal(a.to_dense(), b.to_dense())
    assert list(a.user_labels) == list(b.user_labels)
    assert list(a.item_labels) == list(b.item_labels)


def round_trip(edit, ratings):
    changed, inverse = edit.apply(ratings)
    restored, again = inverse.apply(changed)
    same(restored, ratings)
    same(again.apply(restored)[0], changed)
    return changed


def test_set_clear_and_add_cells():
    ratings = course_with_eve()
    changed = round_trip(SetCells((0, 4, 1), (0, 0, 1), (3.0, 4.5, np.nan)), ratings)
    dense = changed.to_dense()
    assert dense[0, 0] == 3 and dense[4, 0] == 4.5 and np.isnan(dense[1, 1])
    assert changed.n_ratings == ratings.n_ratings + 1  # one new, one replaced, one already empty


def test_rename():
    changed = round_trip(Rename(USERS, 4, "Eva"), course_with_eve())
    assert changed.user_labels[4] == "Eva"


@pytest.mark.parametrize("axis", [USERS, ITEMS])
def test_remove_then_insert_restores_ratings_and_order(axis):
    ratings = course_with_eve()
    changed = round_trip(RemoveEntries(axis, (1, 3)), ratings)
    assert (changed.n_users, changed.n_items)[axis] == 3


def test_insert_new_user_in_the_middle():
    ratings = course_with_eve()
    changed = round_trip(InsertEntries(USERS, (2,), ("Zoe",), (((0, 4.0),),)), ratings)
    assert list(changed.user_labels) == ["Alice", "Bob", "Zoe", "Carol", "Dave", "Eve"]
    assert changed.to_dense()[2, 0] == 4.0
    np.testing.assert_array_equal(changed.to_dense()[3], ratings.to_dense()[2])


def test_item_info_follows_item_edits():
    base = course_with_eve()
    info = pd.DataFrame({"title": [f"T{i}" for i in range(5)], "genres": ["g"] * 5})
    ratings = Ratings(base.users, base.items, base.values, base.user_labels, base.item_labels, base.scale,
                      item_info=info)
    removed, inverse = RemoveEntries(ITEMS, (0,)).apply(ratings)
    assert list(removed.item_titles()) == ["T1", "T2", "T3", "T4"]
    restored, _ = inverse.apply(removed)
    assert list(restored.item_titles()) == ["T0", "T1", "T2", "T3", "T4"]


def test_unique_label():
    assert unique_label(["User", "User 2"], "User") == "User 3"
    assert unique_label(["A"], "B") == "B"


def test_renaming_a_movie_with_a_title_renames_the_title_and_undoes():
    base = course_with_eve()
    info = pd.DataFrame({"title": [f"T{i}" for i in range(5)]})
    ratings = Ratings(base.users, base.items, base.values, base.user_labels, base.item_labels, base.scale,
                      item_info=info)
    renamed, inverse = Rename(ITEMS, 1, "New name").apply(ratings)
    assert renamed.item_titles()[1] == "New name"
    restored, _ = inverse.apply(renamed)
    assert restored.item_titles()[1] == "T1" and restored.item_labels[1] == base.item_labels[1]


def test_removing_many_entries_keeps_each_ones_ratings_for_undo():
    import numpy as np

    from cfexplorer.core.edits import RemoveEntries, USERS
    from cfexplorer.core.ratings import Ratings

    rng = np.random.default_rng(0)
    keys = rng.choice(40 * 30, size=300, replace=False)
    users, items = keys // 30, keys % 30
    ratings = Ratings(users, items, rng.integers(1, 6, 300).astype(float), [f"u{i}" for i in range(40)],
                      [f"m{i}" for i in range(30)])
    removed = tuple(range(0, 40, 3))
    smaller, undo = RemoveEntries(USERS, removed).apply(ratings)
    assert smaller.n_users == 40 - len(removed)
    assert smaller.n_ratings == int(np.sum(~np.isin(users, removed)))
    for position, entry in zip(undo.positions, undo.ratings):
        mine = users == position
        assert sorted(entry) == sorted(zip(items[mine].tolist(), ratings.values[mine].tolist()))
    restored, _ = undo.apply(smaller)
    assert sorted(zip(restored.users, restored.items, restored.values)) == sorted(
        zip(ratings.users, ratings.items, ratings.values))


def test_an_edit_sequence_applies_in_order_and_its_inverse_undoes_all_of_it():

    before = Ratings.from_dense(np.array([[5.0, np.nan], [1.0, 4.0]]))
    grow = EditSequence((InsertEntries(0, (2,), ("Cleo",), ((),)), SetCells((2, 0), (1, 1), (3.0, 2.0))))
    after, inverse = grow.apply(before)
    np.testing.assert_array_equal(after.to_dense(), [[5, 2], [1, 4], [np.nan, 3]])
    assert list(after.user_labels)[-1] == "Cleo"
    undone, _ = inverse.apply(after)
    np.testing.assert_array_equal(undone.to_dense(), before.to_dense())
    assert list(undone.user_labels) == list(before.user_labels)


def _fresh_summaries(ratings: Ratings):
    return Ratings(ratings.users, ratings.items, ratings.values, ratings.user_labels, ratings.item_labels,
                   ratings.scale).summaries()


def test_cell_edits_match_a_dense_reference_and_carry_the_grids_counts_and_means_exactly():
    """Typed, pasted and cleared cells: the ratings a dense matrix predicts, and the counts and means (made
    again only for the edited users and movies) the very numbers a fresh computation over every rating gives."""
    rng = np.random.default_rng(5)
    for trial in range(40):
        n_users, n_items = rng.integers(1, 12, 2)
        cells = rng.permutation(n_users * n_items)[:rng.integers(0, n_users * n_items + 1)]
        ratings = Ratings(cells // n_items, cells % n_items, rng.choice([0.5, 1.0, 2.5, 3.0, 5.0], len(cells)),
                          np.arange(n_users), np.arange(n_items))
        ratings.summaries()  # as the grid has them
        dense = ratings.to_dense()
        edited = rng.permutation(n_users * n_items)[:rng.integers(1, 6)]  # a paste's cells, each once
        users, items = edited // n_items, edited % n_items
        values = rng.choice([np.nan, 1.5, 4.0, 0.1 + 0.2], len(edited))  # 0.30000000000000004: sums in order
        changed, inverse = SetCells(tuple(users.tolist()), tuple(items.tolist()), tuple(values.tolist())).apply(ratings)
        dense[users, items] = values
        np.testing.assert_array_equal(changed.to_dense(), dense)
        for derived, fresh in zip(changed.summaries(), _fresh_summaries(changed)):
            np.testing.assert_array_equal(derived, fresh)
        restored, _ = inverse.apply(changed)
        same(restored, ratings)
        for derived, fresh in zip(restored.summaries(), _fresh_summaries(ratings)):
            np.testing.assert_array_equal(derived, fresh)


def test_one_cell_given_two_ratings_in_one_edit_is_refused():
    with pytest.raises(ValueError, match="rated more than once"):
        SetCells((0, 0), (1, 1), (2.0, 3.0)).apply(course_with_eve())


@pytest.mark.parametrize("value, message", [(1e7, "beyond"), (np.inf, "finite")])
def test_a_cell_edit_is_still_checked(value, message):
    ratings = course_with_eve()
    with pytest.raises(ValueError, match=message):
        SetCells((0,), (0,), (value,)).apply(ratings)
    binary = Ratings([0], [0], [1.0], ["a"], ["x"], binary=True)
    with pytest.raises(ValueError, match="0 or 1"):
        SetCells((0,), (0,), (0.5,)).apply(binary)


def test_an_edit_of_many_cells_given_as_arrays_matches_a_dense_reference_and_undoes():
    """Clearing a large selection hands the edit arrays (not tuples of millions of Python numbers); its cells
    are looked up in key order whatever order they come in, and its inverse is arrays too."""
    rng = np.random.default_rng(11)
    n_users, n_items = 90, 120
    cells = rng.permutation(n_users * n_items)[:6000]
    ratings = Ratings(cells // n_items, cells % n_items, rng.choice([1.0, 2.0, 4.5], len(cells)),
                      np.arange(n_users), np.arange(n_items))
    ratings.summaries()
    for order in ("shuffled", "in key order"):
        edited = rng.permutation(n_users * n_items)[:5000]  # more than the small-search path takes
        if order == "in key order":
            edited.sort()
        users, items = edited // n_items, edited % n_items
        values = rng.choice([np.nan, 3.0], len(edited))
        changed, inverse = SetCells(users, items, values).apply(ratings)
        dense = ratings.to_dense()
        dense[users, items] = values
        np.testing.assert_array_equal(changed.to_dense(), dense)
        assert isinstance(inverse.values, np.ndarray) and not inverse.values.flags.writeable
        restored, _ = inverse.apply(changed)
        same(restored, ratings)
        for derived, fresh in zip(changed.summaries(), _fresh_summaries(changed)):
            np.testing.assert_array_equal(derived, fresh)
