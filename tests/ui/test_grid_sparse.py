"""A grid of 100,000 users × 100,000 movies with one rating each: it opens, edits, selects, copies, sorts
and filters in bounded memory, and nothing builds a users × movies matrix.

Memory is bounded with tracemalloc (numpy's arrays are traced; 10^10 float cells would be 80 GB); time
is never asserted (benchmarks/bench_sparse_grid.py measures it).
"""

import tracemalloc

import numpy as np
import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from cfexplorer.core import cell_index as cell_index_module
from cfexplorer.core.ratings import Ratings
from cfexplorer.ui.grid_view import MAX_BLOCK_CELLS

N = 100_000
PEAK_BYTES = 150 * 2**20  # what Python and numpy may hold at once beyond the window: ~10x the ratings


def huge_ratings():
    rng = np.random.default_rng(0)
    users, items = rng.permutation(N), rng.permutation(N)  # user u rated exactly one movie
    values = rng.integers(1, 6, N).astype(float)
    return Ratings(users, items, values, [f"user {u}" for u in range(N)], [f"Movie {i}" for i in range(N)])


@pytest.fixture
def huge(window, monkeypatch):
    """The window showing the huge grid, with no users × movies matrix allowed and memory traced."""
    def refuse(*args, **kwargs):
        raise AssertionError("a users × movies matrix was built for the grid")

    monkeypatch.setattr(Ratings, "to_dense", refuse)
    tracemalloc.start()
    window.set_document(huge_ratings(), "huge")
    QApplication.processEvents()
    yield window
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak {peak / 2**20:.0f} MB"


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    window.grid.setFocus()
    qtbot.keyClick(window.grid, key, modifier)


def test_opens_and_paints_anywhere(qtbot, huge):
    grid, proxy = huge.grid, huge.proxy
    assert (proxy.rowCount(), proxy.columnCount()) == (N, N)
    ratings = huge.table.ratings
    user, item = int(ratings.users[123]), int(ratings.items[123])
    index = proxy.mapFromSource(huge.table.index(*huge.table.position(user, item)))
    grid.scrollTo(index)
    grid.viewport().repaint()
    assert proxy.data(index) == f"{ratings.values[123]:g}"
    assert proxy.data(proxy.index(index.row(), (index.column() + 1) % N)) == "?"
    assert proxy.headerData(index.row(), Qt.Orientation.Vertical) == f"Movie {item} (1)"


def test_typing_and_undo_derive_the_index_without_rebuilding_it(qtbot, huge, monkeypatch):
    built = []
    original = cell_index_module.CellIndex.of
    monkeypatch.setattr(cell_index_module.CellIndex, "of", classmethod(lambda cls, r: built.append(r) or original(r)))
    grid, proxy = huge.grid, huge.proxy
    index = proxy.index(N - 1, N - 1)
    before = proxy.data(index)
    grid.setFocus()
    grid.setCurrentIndex(index)
    qtbot.keyClick(grid, Qt.Key.Key_4)
    editor = QApplication.focusWidget()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: grid.state() != grid.State.EditingState, timeout=10_000)
    assert proxy.data(index) == "4" and huge.table.ratings.n_ratings == N + (before == "?")
    huge.act_undo.trigger()
    assert proxy.data(index) == before and huge.table.ratings.n_ratings == N
    assert built == []  # each edit's index came from the last one, without a sort


def test_adding_and_removing_users_and_movies_derive_the_index_and_the_counts(qtbot, huge, monkeypatch):
    """Add a user and a movie, remove a user, undo it all: each step's cell index and the headers' counts and
    means come from the step before (no sort of every rating, no pass over all of them), and are right."""
    from cfexplorer.core.edits import USERS

    built, counted = [], []
    original = cell_index_module.CellIndex.of
    monkeypatch.setattr(cell_index_module.CellIndex, "of", classmethod(lambda cls, r: built.append(r) or original(r)))
    user_counts = Ratings.user_counts
    monkeypatch.setattr(Ratings, "user_counts", lambda self: counted.append(self) or user_counts(self))
    table, proxy, grid = huge.table, huge.proxy, huge.grid
    assert huge.add_user("new person") and huge.add_movie("new film")
    assert (table.ratings.n_users, table.ratings.n_items) == (N + 1, N + 1)
    ratings = table.ratings
    user, item = int(ratings.users[5]), int(ratings.items[5])  # a rating, its row and column moved on
    assert proxy.data(proxy.mapFromSource(table.index(*table.position(user, item)))) == f"{ratings.values[5]:g}"
    grid.setCurrentIndex(proxy.mapFromSource(table.index(*table.position(user, item))))
    assert huge.remove_selected(USERS)
    assert table.ratings.n_users == N and table.ratings.n_ratings == N - 1
    for _ in range(3):
        huge.act_undo.trigger()
    assert (table.ratings.n_users, table.ratings.n_items, table.ratings.n_ratings) == (N, N, N)
    assert built == [] and counted == []  # every step derived from the one before
    fresh = original(table.ratings)
    np.testing.assert_array_equal(table._cells.keys, fresh.keys)
    np.testing.assert_array_equal(table._cells.values, fresh.values)
    row = proxy.mapFromSource(table.index(*table.position(user, item))).row()
    assert proxy.headerData(row, Qt.Orientation.Vertical).endswith("(1)")  # its movie's count, after it all


def test_select_all_then_copy_is_refused_and_delete_clears_everything(qtbot, huge):
    press(qtbot, huge, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert huge.grid.selected_cell_count() == N * N
    QApplication.clipboard().setText("unchanged")
    huge.act_copy.trigger()
    assert QApplication.clipboard().text() == "unchanged"
    assert f"at most {MAX_BLOCK_CELLS:,} cells" in huge.message_bar.text
    press(qtbot, huge, Qt.Key.Key_Delete)
    assert huge.table.ratings.n_ratings == 0 and huge.undo_stack.count() == 1
    huge.act_undo.trigger()
    assert huge.table.ratings.n_ratings == N


def test_select_all_links_every_user_and_movie_and_moving_the_selection_is_bounded(qtbot, huge):
    with qtbot.waitSignal(huge.grid.sig_entries_selected) as selected:
        press(qtbot, huge, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    users, items = selected.args
    assert len(users) == len(items) == N and users[-1] == N - 1
    huge.grid.viewport().repaint()
    huge.grid.verticalHeader().viewport().repaint()  # headers ask Qt whether each row is selected
    press(qtbot, huge, Qt.Key.Key_Down)  # one cell
    assert huge.grid.selected_cell_count() == 1
    press(qtbot, huge, Qt.Key.Key_End, Qt.KeyboardModifier.ShiftModifier)  # to the end of the row
    assert huge.grid.selected_cell_count() == N
    press(qtbot, huge, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ShiftModifier)  # and a page of rows
    assert huge.grid.selected_cell_count() % N == 0 and huge.grid.selected_cell_count() > N
    press(qtbot, huge, Qt.Key.Key_Left)
    press(qtbot, huge, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ShiftModifier)
    rows = huge.grid.selected_cell_count()
    assert 1 < rows < 100
    top = huge.grid.currentIndex().row()  # Qt's Page Up need not go back as far as Page Down went
    assert top <= 1 and huge.grid.selected_entries(1) == sorted(huge.proxy.source_rows[top:top + rows].tolist())


def test_sort_by_a_column_filter_and_density_on_the_huge_grid(qtbot, huge):
    proxy, table = huge.proxy, huge.table
    huge.filter_edit.setText("movie 4242")
    assert row_names(proxy) == ["Movie 4242", *(f"Movie 4242{d}" for d in range(10))]
    huge.clear_filters()
    ratings = table.ratings
    user = int(ratings.users[0])  # column `user` has one rating: sorting by it puts that movie first
    huge._on_column_header_click(user)
    assert proxy.mapToSource(proxy.index(0, user)).row() == int(ratings.items[0])
    assert proxy.data(proxy.index(1, user)) == "?"
    table_edit_one_more_rating(huge)
    proxy.set_min_ratings(users=2, items=0)
    assert proxy.columnCount() == 1 and proxy.rowCount() == N


def row_names(proxy):
    return [proxy.headerData(r, Qt.Orientation.Vertical).rsplit(" (", 1)[0] for r in range(proxy.rowCount())]


def table_edit_one_more_rating(window):
    """Give user 0 a second rating, through a paste at one of their unrated cells."""
    table, proxy = window.table, window.proxy
    rated = int(table.ratings.items[table.ratings.users == 0][0])
    other = (rated + 1) % N
    window.grid.setCurrentIndex(proxy.mapFromSource(table.index(*table.position(0, other))))
    QApplication.clipboard().setText("3")
    window.act_paste.trigger()
    assert table.count(0, 0) == 2


def test_selecting_many_entries_from_the_factor_space_makes_few_ranges(qtbot, huge):
    scattered = np.arange(0, 6000, 2)  # every other movie of the first 6,000: 3,000 separate rows
    huge.grid.select_entries(1, scattered)
    assert len(huge.grid.selected_ranges()) == len(scattered)
    press(qtbot, huge, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # Qt's range diff: minutes for 50,000
    assert huge.grid.selected_cell_count() == N * N
    huge.grid.select_entries(1, scattered)
    huge.grid.select_entries(1, np.arange(1000, 60000))  # one block of rows
    assert len(huge.grid.selected_ranges()) == 1
    assert huge.grid.selected_entries(1) == list(range(1000, 60000))
    selection = QItemSelection(huge.proxy.index(5, 5), huge.proxy.index(5, 5))
    huge.grid.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert huge.grid.selected_entries(0) == [5] and huge.grid.selected_entries(1) == [5]


def test_a_typed_rating_among_millions_shows_the_wait_cursor_while_it_is_applied(qtbot, huge, monkeypatch):
    """Each edit makes arrays of every rating: at 25M a typed rating held the window 1.7-2.4 s with nothing to
    say it was busy. (The threshold is lowered to this grid's size: millions of ratings make a slow test.)"""
    from cfexplorer.core import edits
    from cfexplorer.ui import table_model

    cursors = []
    apply = edits.SetCells.apply

    def noting_the_cursor(self, ratings):
        cursor = QApplication.overrideCursor()
        cursors.append(cursor.shape() if cursor is not None else None)
        return apply(self, ratings)

    monkeypatch.setattr(edits.SetCells, "apply", noting_the_cursor)
    grid, proxy = huge.grid, huge.proxy
    index = proxy.index(0, 0)

    def type_a_rating(key):
        grid.setFocus()
        grid.setCurrentIndex(index)
        qtbot.keyClick(grid, key)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: grid.state() != grid.State.EditingState, timeout=10_000)

    type_a_rating(Qt.Key.Key_2)
    monkeypatch.setattr(table_model, "WAIT_CURSOR_RATINGS", huge.table.ratings.n_ratings)
    type_a_rating(Qt.Key.Key_3)
    assert cursors == [None, Qt.CursorShape.WaitCursor]
    assert QApplication.overrideCursor() is None  # put back once the edit is in
