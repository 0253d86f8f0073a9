"""Cell look-ups in sparse ratings agree with the dense matrix, before and after edits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplorer.core.cell_index import CellIndex, cell_index, remember_index
from cfexplorer.core.edits import SetCells
from cfexplorer.core.ratings import Ratings

from .course import course_with_eve


def test_course_cells_are_found_and_missing_ones_are_nan():
    ratings = course_with_eve()
    index = cell_index(ratings)
    dense = ratings.to_dense()
    for user in range(ratings.n_users):
        for item in range(ratings.n_items):
            np.testing.assert_equal(index.value(user, item), dense[user, item])
    users, items = np.meshgrid(np.arange(ratings.n_users), np.arange(ratings.n_items), indexing="ij")
    np.testing.assert_array_equal(index.values_at(users, items), dense)
    assert cell_index(ratings) is index  # built once per Ratings object


def test_a_huge_sparse_grid_is_indexed_without_a_dense_matrix():
    n = 100_000
    rng = np.random.default_rng(0)
    users, items = rng.permutation(n), rng.permutation(n)
    ratings = Ratings(users, items, rng.integers(1, 6, n), np.arange(n), np.arange(n))
    index = cell_index(ratings)
    assert index.keys.nbytes + index.values.nbytes == 16 * n  # 1.6 MB, not 10^10 cells
    assert index.value(int(users[7]), int(items[7])) == ratings.values[7]
    assert np.isnan(index.value(int(users[7]), int(items[8])))  # each user rated one movie
    items_of_user, values_of_user = index.user_cells(int(users[3]))
    assert items_of_user.tolist() == [items[3]] and values_of_user.tolist() == [ratings.values[3]]


@pytest.mark.parametrize("order", ["by user, then movie", "shuffled", "a cell twice"])
def test_ratings_in_any_order_give_the_index_a_sort_gives(order):
    """Ratings already in key order (a MovieLens file) skip the sort: the same index, the values shared."""
    rng = np.random.default_rng(1)
    keys = np.unique(rng.integers(0, 300 * 200, 5_000))
    users, items, values = keys // 200, keys % 200, rng.integers(1, 6, len(keys)).astype(float)
    if order == "shuffled":
        shuffled = rng.permutation(len(keys))
        users, items, values = users[shuffled], items[shuffled], values[shuffled]
    if order == "a cell twice":  # in order but for one repeated cell: the stable sort's last value wins
        users, items, values = np.insert(users, 10, users[10]), np.insert(items, 10, items[10]), np.insert(values, 10, 9.0)
    index = CellIndex.build(users, items, values, 300, 200)
    order_of_keys = np.argsort(users * 200 + items, kind="stable")
    np.testing.assert_array_equal(index.keys, (users * 200 + items)[order_of_keys])
    np.testing.assert_array_equal(index.values, values[order_of_keys])
    assert not index.values.flags.writeable and values.flags.writeable  # the caller's array left writable
    ratings = Ratings(keys // 200, keys % 200, rng.integers(1, 6, len(keys)), np.arange(300), np.arange(200))
    assert np.shares_memory(cell_index(ratings).values, ratings.values)  # read-only: shared, not copied


def test_the_last_value_given_for_a_cell_wins():
    ratings = course_with_eve()
    index = cell_index(ratings).with_cells([4, 4, 4], [0, 1, 0], [1.0, 2.0, 3.0])
    assert index.value(4, 0) == 3.0 and index.value(4, 1) == 2.0


def test_an_index_that_cannot_belong_to_the_ratings_is_rebuilt():
    ratings = course_with_eve()
    wrong = CellIndex.build([0], [0], [1.0], ratings.n_users, ratings.n_items)
    assert len(remember_index(ratings, wrong)) == ratings.n_ratings
    assert cell_index(ratings).value(0, 0) == 5


@st.composite
def small_ratings(draw):
    """(n_users, n_items, rated cells, edits): each edit a few (user, item, value) with NaN for 'clear'."""
    n_users, n_items = draw(st.integers(1, 7)), draw(st.integers(1, 7))

    def cells(values, max_size):
        cell = st.tuples(st.integers(0, n_users - 1), st.integers(0, n_items - 1), st.sampled_from(values))
        return st.lists(cell, max_size=max_size, unique_by=lambda c: c[:2])

    rated = draw(cells([1.0, 2.5, 5.0], 30))
    edits = draw(st.lists(cells([np.nan, 0.5, 3.0, 4.5], 6), max_size=5))
    return n_users, n_items, rated, edits


@settings(max_examples=150, deadline=None)
@given(small_ratings())
def test_edits_keep_the_index_equal_to_a_fresh_one(case):
    n_users, n_items, cells, edits = case
    users, items, values = (list(column) for column in zip(*cells)) if cells else ([], [], [])
    ratings = Ratings(users, items, values, range(n_users), range(n_items))
    index = cell_index(ratings)
    for edit in edits:
        if not edit:
            continue
        edit_users, edit_items, edit_values = zip(*edit)
        ratings, _ = SetCells(edit_users, edit_items, edit_values).apply(ratings)
        index = remember_index(ratings, index.with_cells(edit_users, edit_items, edit_values))
        fresh = CellIndex.of(ratings)
        np.testing.assert_array_equal(index.keys, fresh.keys)
        np.testing.assert_array_equal(index.values, fresh.values)
        everything = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
        np.testing.assert_array_equal(index.values_at(*everything), ratings.to_dense())


def test_values_at_takes_any_shape():
    index = cell_index(course_with_eve())
    assert index.values_at([], []).shape == (0,)
    assert index.values_at(np.zeros((2, 3), int), np.zeros((2, 3), int)).shape == (2, 3)


@pytest.mark.parametrize("n_items", [0, 1])
def test_grids_without_ratings(n_items):
    ratings = Ratings([], [], [], ["a", "b"], [f"m{i}" for i in range(n_items)])
    index = cell_index(ratings)
    assert len(index) == 0 and index.with_cells([], [], []) is index
    if n_items:
        assert np.isnan(index.values_at([0, 1], [0, 0])).all() and np.isnan(index.value(1, 0))


@st.composite
def ratings_and_structural_edits(draw):
    """Ratings and a run of edits of every kind the grid makes: cells typed or cleared, users and movies added
    (with ratings, as undoing a removal brings them back) or removed, renamed, and a paste that adds users and
    sets cells in one step."""
    n_users, n_items = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    rated = draw(st.lists(st.tuples(st.integers(0, n_users - 1), st.integers(0, n_items - 1),
                                    st.sampled_from([1.0, 2.5, 5.0])), max_size=25, unique_by=lambda c: c[:2]))
    return n_users, n_items, rated, draw(st.lists(st.tuples(st.sampled_from(["set", "insert", "remove", "rename",
                                                                               "paste"]),
                                                             st.integers(0, 2**16), st.sampled_from([0, 1])),
                                                   min_size=1, max_size=6))


def _edit_for(kind: str, seed: int, axis: int, ratings):
    from cfexplorer.core.edits import EditSequence, InsertEntries, RemoveEntries, Rename

    rng = np.random.default_rng(seed)
    sizes = (ratings.n_users, ratings.n_items)
    if kind == "set" or (kind in ("remove", "rename") and sizes[axis] == 0):
        if 0 in sizes:
            return None
        cells = rng.permutation(sizes[0] * sizes[1])[:rng.integers(1, 4)]
        values = rng.choice([np.nan, 0.5, 4.5], len(cells))
        return SetCells(tuple((cells // sizes[1]).tolist()), tuple((cells % sizes[1]).tolist()), tuple(values.tolist()))
    if kind == "rename":
        return Rename(axis, int(rng.integers(0, sizes[axis])), f"renamed {seed}")
    if kind == "remove":
        chosen = rng.permutation(sizes[axis])[:rng.integers(1, sizes[axis] + 1)]
        return RemoveEntries(axis, tuple(chosen.tolist()))
    count = int(rng.integers(1, 3))
    positions = tuple(sorted(rng.permutation(sizes[axis] + count)[:count].tolist()))
    other = sizes[1 - axis]
    entries = tuple(tuple((int(o), float(rng.choice([1.0, 3.5])))
                          for o in rng.permutation(other)[:rng.integers(0, other + 1)])
                    for _ in positions)
    insert = InsertEntries(axis, positions, tuple(f"new {seed} {i}" for i in range(count)), entries)
    if kind == "insert":
        return insert
    grown = (sizes[0] + count, sizes[1]) if axis == 0 else (sizes[0], sizes[1] + count)
    if 0 in grown:  # no cell to type into
        return insert
    typed = SetCells((int(rng.integers(0, grown[0])),), (int(rng.integers(0, grown[1])),), (2.0,))
    return EditSequence((insert, typed))


@settings(max_examples=200, deadline=None)
@given(ratings_and_structural_edits())
def test_every_edit_derives_the_index_and_the_grids_counts_and_means_a_fresh_computation_gives(case):
    """Derived without a sort (the index) or a pass over every rating (counts and means), and equal, number for
    number, to what is built from the edited ratings afresh."""
    from cfexplorer.core.cell_index import index_after

    n_users, n_items, cells, steps = case
    users, items, values = (list(column) for column in zip(*cells)) if cells else ([], [], [])
    ratings = Ratings(users, items, values, range(n_users), range(n_items))
    ratings.summaries()
    index = CellIndex.of(ratings)
    for kind, seed, axis in steps:
        edit = _edit_for(kind, seed, axis, ratings)
        if edit is None:
            continue
        ratings, _ = edit.apply(ratings)
        index = index_after(edit, index)
        fresh = CellIndex.of(ratings)
        np.testing.assert_array_equal(index.keys, fresh.keys)
        np.testing.assert_array_equal(index.values, fresh.values)
        assert (index.n_users, index.n_items) == (ratings.n_users, ratings.n_items)
        assert ratings.summaries_if_made() is not None  # carried over, not made again
        again = Ratings(ratings.users, ratings.items, ratings.values, ratings.user_labels, ratings.item_labels,
                        ratings.scale).summaries()
        for derived, computed in zip(ratings.summaries(), again):
            np.testing.assert_array_equal(derived, computed)
