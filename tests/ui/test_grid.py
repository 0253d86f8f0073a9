"""The rating grid as a user drives it: typing, rejecting, undo, paste, delete, add and remove."""


import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cfexplorer.core.edits import ITEMS, USERS
from cfexplorer.core.ratings import Ratings


def cell_index(window, user_name, movie_name):
    """The view index showing (user, movie), found by the names a user reads in the headers."""
    table = window.table
    user = list(table.ratings.user_labels).index(user_name)
    item = list(table.ratings.item_titles()).index(movie_name)
    row, column = table.position(user, item)
    return window.proxy.mapFromSource(table.index(row, column)), (user, item)


def value(window, user_name, movie_name):
    index, _ = cell_index(window, user_name, movie_name)
    return window.proxy.data(index)


def type_into(qtbot, window, index, text):
    grid = window.grid
    grid.setFocus()
    grid.setCurrentIndex(index)
    qtbot.keyClicks(grid, text[0])  # the first key opens the cell editor, which takes the rest
    editor = QApplication.focusWidget()
    assert editor is not grid, "typing should open a cell editor"
    qtbot.keyClicks(editor, text[1:])
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # Qt commits an editor on Enter through a queued call: let the event loop deliver it.
    qtbot.waitUntil(lambda: grid.state() != grid.State.EditingState, timeout=10_000)


def test_starts_on_the_course_example(window):
    assert window.table.rowCount() == 5 and window.table.columnCount() == 4
    assert value(window, "Bob", "Romance forever") == "?"
    assert value(window, "Alice", "Love at last") == "5"
    assert "Course" in window.windowTitle()


def test_typing_a_rating_changes_the_cell_and_can_be_undone(qtbot, window):
    index, _ = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "4.5")
    assert value(window, "Bob", "Romance forever") == "4.5"
    assert window.isWindowModified()
    assert window.grid.model().headerData(1, Qt.Orientation.Vertical).endswith("(3)")  # count went up
    window.act_undo.trigger()
    assert value(window, "Bob", "Romance forever") == "?"
    window.act_redo.trigger()
    assert value(window, "Bob", "Romance forever") == "4.5"


@pytest.mark.parametrize("text,words", [("7", "outside the rating scale 0 to 5"), ("great", "not a rating")])
def test_invalid_input_is_rejected_with_a_message_and_changes_nothing(qtbot, window, text, words):
    index, _ = cell_index(window, "Alice", "Love at last")
    type_into(qtbot, window, index, text)
    assert value(window, "Alice", "Love at last") == "5"
    assert window.undo_stack.count() == 0
    assert words in window.message_bar.text


def test_off_step_value_offers_to_round(qtbot, window):
    index, _ = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "3.7")
    assert value(window, "Bob", "Romance forever") == "?"
    assert window.message_bar.action_button.text() == "Use 3.5"
    qtbot.mouseClick(window.message_bar.action_button, Qt.MouseButton.LeftButton)
    assert value(window, "Bob", "Romance forever") == "3.5"


def test_a_suggested_fix_is_not_applied_to_another_movie_after_a_removal(qtbot, window):
    """Found by the window's state machine: "Use 3.5" kept the cell's position, and after the movie above it
    was removed it wrote 3.5 into the next movie."""
    index, (bob, romance) = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "3.7")
    assert window.message_bar.action_button.text() == "Use 3.5"
    window.grid.select_entries(ITEMS, [romance - 1])  # the movie above it
    before = window.table.ratings.to_dense().copy()
    assert window.remove_selected(ITEMS)
    # the removal went through: the suggestion, about a cell that has moved, is taken down with its button
    assert window.message_bar.text == "" and not window.message_bar.action_button.isVisibleTo(window)
    assert window.table.ratings.n_items == before.shape[1] - 1
    window.act_undo.trigger()
    np.testing.assert_array_equal(window.table.ratings.to_dense(), before)  # 3.5 was written nowhere


def test_an_error_is_taken_down_by_the_next_edit_or_run_that_goes_through(qtbot, window):
    """"There is already a user called Alice" stayed up after a user was added, and "There are no ratings to
    train on" after a run trained."""
    assert not window.add_user("Alice")
    assert "already a user called" in window.message_bar.text
    assert window.add_user("Alice2")
    assert window.message_bar.text == ""
    index, _ = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "3.7")  # an error with a suggested fix
    assert window.message_bar.text
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=30_000):
        qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    assert window.message_bar.text == ""
    window.message_bar.show_message("Saved it; a note", kind="info")
    window.add_movie("Space opera")
    assert window.message_bar.text == "Saved it; a note"  # notes stay until dismissed


def test_binary_data_accepts_only_0_and_1(qtbot, window):
    window.open_preset("course-binary")
    index, _ = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "3")
    assert "binary label" in window.message_bar.text and value(window, "Bob", "Romance forever") == "?"
    type_into(qtbot, window, index, "1")
    assert value(window, "Bob", "Romance forever") == "1"


def test_paste_a_block_is_one_undo_step(qtbot, window):
    start, _ = cell_index(window, "Alice", "Love at last")
    window.grid.setCurrentIndex(start)
    QApplication.clipboard().setText("1\t2\n?\t3.5\n")
    window.act_paste.trigger()
    assert [value(window, u, "Love at last") for u in ("Alice", "Bob")] == ["1", "2"]
    assert [value(window, u, "Romance forever") for u in ("Alice", "Bob")] == ["?", "3.5"]
    assert window.undo_stack.count() == 1
    window.act_undo.trigger()
    assert [value(window, u, "Love at last") for u in ("Alice", "Bob")] == ["5", "5"]
    assert value(window, "Alice", "Romance forever") == "5"


def test_paste_with_a_bad_cell_pastes_nothing(qtbot, window):
    start, _ = cell_index(window, "Alice", "Love at last")
    window.grid.setCurrentIndex(start)
    QApplication.clipboard().setText("1\tx\n")
    window.act_paste.trigger()
    assert value(window, "Alice", "Love at last") == "5"
    assert "Row 1, column 2" in window.message_bar.text and "Nothing was pasted" in window.message_bar.text


def test_copy_gives_tab_separated_text(window):
    start, _ = cell_index(window, "Alice", "Love at last")
    end, _ = cell_index(window, "Bob", "Romance forever")
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    window.grid.selectionModel().select(QItemSelection(start, end), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    window.act_copy.trigger()
    assert QApplication.clipboard().text() == "5\t5\n5\t?"


def test_delete_key_makes_selected_cells_unrated(qtbot, window):
    index, _ = cell_index(window, "Carol", "Nonstop car chases")
    window.grid.setFocus()
    window.grid.setCurrentIndex(index)
    window.grid.selectionModel().select(index, window.grid.selectionModel().SelectionFlag.ClearAndSelect)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    assert value(window, "Carol", "Nonstop car chases") == "?"
    window.act_undo.trigger()
    assert value(window, "Carol", "Nonstop car chases") == "5"


def test_fill_down(window):
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    top, _ = cell_index(window, "Alice", "Love at last")
    bottom, _ = cell_index(window, "Alice", "Cute puppies of love")
    window.grid.selectionModel().select(QItemSelection(top, bottom), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    window.act_fill_down.trigger()
    assert [value(window, "Alice", m) for m in ("Romance forever", "Cute puppies of love")] == ["5", "5"]


def test_add_rename_and_remove_users_and_movies(window):
    window.add_user("Eve")
    assert window.table.columnCount() == 5
    assert window.grid.model().headerData(4, Qt.Orientation.Horizontal) == "Eve (0)"
    assert not window.add_user("Eve")  # names stay unique
    assert "already a user called" in window.message_bar.text
    window.add_movie("Space opera")
    assert window.table.rowCount() == 6
    index, _ = cell_index(window, "Eve", "Space opera")
    window.grid.setCurrentIndex(index)
    window.rename_current(USERS, "Eva")
    assert "Eva" in list(window.table.ratings.user_labels)
    carol, _ = cell_index(window, "Carol", "Love at last")
    window.grid.selectionModel().select(carol, window.grid.selectionModel().SelectionFlag.ClearAndSelect)
    window.remove_selected(USERS)
    assert "Carol" not in list(window.table.ratings.user_labels)
    window.act_undo.trigger()
    assert list(window.table.ratings.user_labels) == ["Alice", "Bob", "Carol", "Dave", "Eva"]
    assert value(window, "Carol", "Nonstop car chases") == "5"  # her ratings came back


def test_swap_rows_and_columns(window):
    window.act_swap.trigger()
    assert window.table.rowCount() == 4 and window.table.columnCount() == 5
    assert window.grid.model().headerData(0, Qt.Orientation.Vertical) == "Alice (4)"
    assert value(window, "Alice", "Love at last") == "5"


def test_filter_sort_and_density(window):
    window.filter_edit.setText("love")
    assert window.proxy.rowCount() == 2  # Love at last, Cute puppies of love
    window.clear_filters()
    window.sort_rows("count")
    first = window.proxy.headerData(0, Qt.Orientation.Vertical)
    assert first.endswith("(4)")
    window.proxy.set_min_ratings(users=0, items=4)
    assert window.proxy.rowCount() == 2
    assert "filtered to 4 × 2" in window.summary_label.text()


def test_sort_rows_by_a_users_ratings(window):
    window._on_column_header_click(2)  # Carol, highest first
    names = [window.proxy.headerData(r, Qt.Orientation.Vertical) for r in range(5)]
    assert names[0].startswith(("Nonstop", "Swords")) and names[-1].startswith("Romance forever")


def test_table_model_passes_qtmodeltester(qtmodeltester, window):
    qtmodeltester.check(window.table, force_py=True)
    qtmodeltester.check(window.proxy, force_py=True)


def test_predictions_show_in_missing_cells_in_their_own_style(window):
    n_users, n_items = window.table.ratings.n_users, window.table.ratings.n_items
    window.table.set_predictions(np.full((n_users, n_items), 2.25))
    index, _ = cell_index(window, "Bob", "Romance forever")
    assert window.proxy.data(index) == "2.25"
    assert window.proxy.data(index, Qt.ItemDataRole.FontRole).italic()
    assert value(window, "Alice", "Love at last") == "5"
    window.act_predictions.setChecked(False)
    assert window.proxy.data(index) == "?"


def test_filter_by_mean_rating(window):
    window.proxy.set_min_mean(items=2.5)  # movie means 2.5, 2.5, 2, 2.25, 1.67
    names = [window.proxy.headerData(r, Qt.Orientation.Vertical) for r in range(window.proxy.rowCount())]
    assert [n.split(" (")[0] for n in names] == ["Love at last", "Romance forever"]
    window.proxy.set_min_mean(users=2.5)  # user means: Alice 2.5, Bob 2.25, Carol 2.5, Dave 1.33
    assert [window.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(2)] == ["Alice (4)", "Carol (4)"]
    assert "filtered to 2 × 5" in window.summary_label.text()
    window.clear_filters()
    assert window.proxy.rowCount() == 5 and window.proxy.columnCount() == 4


def test_density_dialog_previews_the_density(window):
    from cfexplorer.ui.density_dialog import DensityFilterDialog

    dialog = DensityFilterDialog(window.proxy, window)
    dialog.min_item.setValue(4)
    assert "keeps 4 users × 2 movies, 8 ratings: density 100.00%" in dialog.preview.text()
    dialog.min_item_mean.setValue(2.5)
    assert dialog.chosen_means() == (None, 2.5)
    assert "× 1 movies" in dialog.preview.text()


# --- what users crashed the app with (issue #16): each through the menus, as they did it ----------------
def menu_action(window, *path):
    """The action at a menu path such as ("Data", "Sort Rows By", "Number of Ratings")."""
    actions = window.menuBar().actions()
    for title in path:
        action = next(a for a in actions if a.text().replace("&", "") == title)
        actions = action.menu().actions() if action.menu() else []
    return action


def answer_next_input_dialog(text=None):
    """Press OK in the next QInputDialog (after typing ``text``), as a user would."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QInputDialog

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(10, answer)
            return
        if text is not None:
            dialog.setTextValue(text)
        dialog.accept()

    QTimer.singleShot(0, answer)


def row_names(window):
    return [window.proxy.headerData(r, Qt.Orientation.Vertical).rsplit(" (", 1)[0]
            for r in range(window.proxy.rowCount())]


def test_sort_by_number_of_ratings_then_add_movie(window):
    """Was a segfault: the sort keys were built for 5 rows and read for 6."""
    menu_action(window, "Data", "Sort Rows By", "Number of Ratings").trigger()
    answer_next_input_dialog("Space opera")
    menu_action(window, "Edit", "Add Movie…").trigger()
    assert window.table.rowCount() == 6
    # still most-rated first; the new movie has no ratings, so it comes last
    assert row_names(window) == ["Love at last", "Nonstop car chases", "Swords vs. karate", "Romance forever",
                                 "Cute puppies of love", "Space opera"]
    window.act_undo.trigger()
    assert row_names(window)[-1] == "Cute puppies of love" and window.proxy.rowCount() == 5


def test_swap_sort_by_number_of_ratings_swap_back(window):
    menu_action(window, "View", "Swap Rows and Columns").trigger()
    menu_action(window, "Data", "Sort Rows By", "Number of Ratings").trigger()
    assert row_names(window) == ["Alice", "Bob", "Carol", "Dave"]  # 4, 4, 4, 3 ratings
    menu_action(window, "View", "Swap Rows and Columns").trigger()
    assert row_names(window) == ["Love at last", "Nonstop car chases", "Swords vs. karate", "Romance forever",
                                 "Cute puppies of love"]


def test_swap_sort_swap_on_movielens(window, shared_data):
    assert window.open_file(shared_data / "ml-latest-small" / "ratings.csv", confirm=False)
    menu_action(window, "View", "Swap Rows and Columns").trigger()
    menu_action(window, "Data", "Sort Rows By", "Number of Ratings").trigger()
    counts = window.table.ratings.user_counts()
    assert window.proxy.headerData(0, Qt.Orientation.Vertical).endswith(f"({counts.max()})")
    menu_action(window, "View", "Swap Rows and Columns").trigger()
    item_counts = window.table.ratings.item_counts()
    shown = window.proxy.source_rows
    assert len(shown) == window.table.ratings.n_items
    assert np.all(np.diff(item_counts[shown]) <= 0)  # most-rated movies first


def column_values(window, column):
    return [window.proxy.data(window.proxy.index(r, column)) for r in range(window.proxy.rowCount())]


def test_a_column_sort_follows_its_user_through_removals_and_undo(window):
    window._on_column_header_click(2)  # Carol, highest first
    carol_first = row_names(window)
    assert column_values(window, 2) == ["5", "5", "0", "0", "?"]
    bob, _ = cell_index(window, "Bob", "Love at last")
    window.grid.selectionModel().select(bob, window.grid.selectionModel().SelectionFlag.ClearAndSelect)
    window.remove_selected(USERS)
    assert window.proxy.sortColumn() == 1 and row_names(window) == carol_first  # Carol is column 1 now
    window.act_undo.trigger()
    assert window.proxy.sortColumn() == 2 and row_names(window) == carol_first
    window.add_user("Eve")
    assert window.proxy.sortColumn() == 2 and row_names(window) == carol_first


def test_a_column_sort_ends_when_its_user_goes_or_becomes_a_row(window):
    window._on_column_header_click(2)
    window.act_swap.trigger()  # Carol is a row now: the rows (users) go back to their order
    assert window.proxy.sortColumn() == -1 and row_names(window) == ["Alice", "Bob", "Carol", "Dave"]
    window.act_swap.trigger()
    window._on_column_header_click(3)  # Dave
    dave, _ = cell_index(window, "Dave", "Love at last")
    window.grid.selectionModel().select(dave, window.grid.selectionModel().SelectionFlag.ClearAndSelect)
    window.remove_selected(USERS)
    assert window.proxy.sortColumn() == -1 and row_names(window)[0] == "Love at last"


def test_a_column_sort_does_not_jump_to_a_movie_of_the_same_name(window):
    ratings = Ratings([0, 0, 1, 1], [0, 1, 0, 1], [1, 5, 4, 2], ["Twin", "Other"], ["Solo", "Twin"])
    window.set_document(ratings, "twins")
    window.act_swap.trigger()  # users × movies: the columns are movies "Solo" and "Twin"
    window._on_column_header_click(1)  # movie "Twin": Twin 5, Other 2
    assert row_names(window) == ["Twin", "Other"]
    window.act_swap.trigger()  # user "Twin" is a column now, but it is not the movie sorted by
    assert window.proxy.sortColumn() == -1 and row_names(window) == ["Solo", "Twin"]


def test_edits_do_not_move_rows_until_the_next_sort(qtbot, window):
    window.sort_rows("count")
    before = row_names(window)
    index, _ = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "4")  # Romance forever: 2 -> 3 ratings, but stays where it was
    assert row_names(window) == before and window.proxy.headerData(3, Qt.Orientation.Vertical) == \
        "Romance forever (3)"
    window.sort_rows("count")
    assert row_names(window)[2:4] == ["Romance forever", "Swords vs. karate"]  # 3 each: table order


def test_enter_after_an_edit_moves_to_the_cell_below(qtbot, window):
    index, _ = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "4")
    current = window.grid.currentIndex()
    assert (current.row(), current.column()) == (index.row() + 1, index.column())
    assert value(window, "Bob", "Romance forever") == "4"
    qtbot.keyClicks(window.grid, "2")  # the next rating goes straight into the cell below
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.grid.state() != window.grid.State.EditingState, timeout=10_000)
    below = window.table.ratings.item_titles()[window.proxy.mapToSource(current).row()]
    assert value(window, "Bob", below) == "2"


def test_enter_on_the_last_row_stays_there(qtbot, window):
    last = window.proxy.index(window.proxy.rowCount() - 1, 0)
    type_into(qtbot, window, last, "1")
    assert window.grid.currentIndex().row() == last.row()


def test_a_paste_larger_than_the_grid_offers_to_add_the_rows_and_columns_as_one_step(qtbot, window):
    ratings = window.table.ratings
    n_movies, n_users = ratings.n_items, ratings.n_users
    corner = window.proxy.index(window.proxy.rowCount() - 1, window.proxy.columnCount() - 1)  # last movie, last user
    window.grid.setCurrentIndex(corner)
    QApplication.clipboard().setText("1\t2\t3\n4\t?\t5\n")
    window.act_paste.trigger()
    assert window.table.ratings is ratings and window.undo_stack.count() == 0  # only offered
    assert "add 1 movie and 2 users" in window.message_bar.text
    assert window.message_bar.action_button.text() == "Add 1 movie and 2 users and paste"
    qtbot.mouseClick(window.message_bar.action_button, Qt.MouseButton.LeftButton)
    grown = window.table.ratings
    assert (grown.n_items, grown.n_users) == (n_movies + 1, n_users + 2)
    dense = grown.to_dense()  # users × movies
    last_user, last_movie = n_users - 1, n_movies - 1
    np.testing.assert_array_equal(dense[[last_user, n_users, n_users + 1], last_movie], [1, 2, 3])
    np.testing.assert_array_equal(dense[[last_user, n_users, n_users + 1], n_movies], [4, np.nan, 5])
    assert list(grown.user_labels[n_users:]) == ["User", "User 2"] and grown.item_titles()[n_movies] == "Movie"
    assert window.proxy.rowCount() == n_movies + 1 and window.proxy.columnCount() == n_users + 2
    assert window.undo_stack.count() == 1
    window.act_undo.trigger()
    undone = window.table.ratings
    assert (undone.n_items, undone.n_users) == (n_movies, n_users)
    np.testing.assert_array_equal(undone.to_dense(), ratings.to_dense())
    window.act_redo.trigger()
    np.testing.assert_array_equal(window.table.ratings.to_dense(), dense)


def test_a_paste_that_needs_rounding_and_room_asks_for_both(qtbot, window):
    corner = window.proxy.index(window.proxy.rowCount() - 1, 0)
    window.grid.setCurrentIndex(corner)
    QApplication.clipboard().setText("3.7\n2\n")
    window.act_paste.trigger()
    assert "Row 1, column 1" in window.message_bar.text
    qtbot.mouseClick(window.message_bar.action_button, Qt.MouseButton.LeftButton)
    assert "add 1 movie" in window.message_bar.text and window.undo_stack.count() == 0
    qtbot.mouseClick(window.message_bar.action_button, Qt.MouseButton.LeftButton)
    dense = window.table.ratings.to_dense()
    user = window.proxy.mapToSource(corner).column()
    np.testing.assert_array_equal(dense[user, -2:], [3.5, 2])


def test_a_typed_rating_does_not_measure_the_headers_again(qtbot, window):
    """A rating typed into a 2,000-movie grid renamed one row's label (its count): the headers measured their
    size hints from 200 sections again, 1,600 calls of headerData, most of the edit's time."""
    from cfexplorer.ui.filter_proxy import RatingFilterProxy

    rng = np.random.default_rng(4)
    cells = rng.choice(2000 * 40, 9000, replace=False)
    window.set_document(Ratings.from_arrays(cells % 40, cells // 40, rng.integers(1, 6, 9000).astype(float)),
                        "many movies")
    proxy = window.proxy
    type_into(qtbot, window, proxy.index(2, 1), "5")  # the headers measured once, whenever that falls
    for header in (window.grid.verticalHeader(), window.grid.horizontalHeader()):
        header.sizeHint()
    qtbot.wait(50)
    calls = []
    header_data = RatingFilterProxy.headerData
    original = proxy.headerData
    proxy.headerData = lambda *args: calls.append(args) or original(*args)
    index = proxy.index(3, 5)
    type_into(qtbot, window, index, "4")
    qtbot.wait(50)
    assert proxy.data(index) == "4"
    assert 0 < len(calls) < 200, len(calls)  # the rows and columns in view, the edited row's label
    assert header_data is RatingFilterProxy.headerData


def test_a_longer_name_widens_the_row_header_and_a_new_grid_measures_it_again(qtbot, window):
    header = window.grid.verticalHeader()
    before = header.sizeHint().width()
    index, _ = cell_index(window, "Alice", "Romance forever")
    window.grid.setCurrentIndex(index)
    window.rename_current(ITEMS, "Romance forever and ever, the director's cut with a long subtitle")
    qtbot.waitUntil(lambda: header.width() > before + 50)  # up to the header's widest (long titles are cut)
    assert header.sizeHint().width() > before + 200
    window.act_undo.trigger()  # a shorter name: the kept width may stay, never narrower than its labels
    qtbot.wait(20)
    assert header.sizeHint().width() >= before
    window.open_preset("course")  # a new grid: measured again, as wide as its own names
    qtbot.waitUntil(lambda: header.sizeHint().width() == before)


def test_the_toolbars_undo_keeps_its_word_and_the_menu_says_what_it_undoes(window):
    """The toolbar's Undo showed "Undo Add user Zed": every button after it moved sideways at each edit."""
    from PySide6.QtWidgets import QToolButton

    button = window.toolbar.widgetForAction(window.act_undo)
    assert isinstance(button, QToolButton)
    width = button.sizeHint().width()
    window.add_user("Zed, with a rather long name")
    assert button.text() == "Undo" and button.sizeHint().width() == width
    assert "Add user Zed, with a rather long name" in window.act_undo.text()
    assert "Add user Zed" in button.toolTip()


def test_rows_stay_even_through_presentation_mode_and_a_larger_grid(qtbot, window):
    """Leaving presentation mode fitted the course's rows to 18 pixels (the window opens with 26), and the next,
    larger grid began with those five rows shorter than the rest."""
    grid = window.grid
    window.set_presentation(True)
    qtbot.wait(50)
    window.set_presentation(False)
    qtbot.waitUntil(lambda: grid.rowHeight(0) != 0)
    qtbot.wait(50)
    assert min(grid.rowHeight(row) for row in range(5)) >= 26
    rng = np.random.default_rng(1)
    cells = rng.choice(100 * 20, 600, replace=False)
    window.set_document(Ratings.from_arrays(cells % 20, cells // 20, rng.integers(1, 6, 600).astype(float)), "tall")
    qtbot.wait(50)
    heights = {grid.rowHeight(row) for row in range(12)}
    assert heights == {grid.verticalHeader().defaultSectionSize()}


# --- fitting columns to their contents ------------------------------------------------------------------------
def qt_column_hints(grid) -> list[int]:
    """What Qt's own QTableView.sizeHintForColumn measures (each cell through the delegate)."""
    from PySide6.QtWidgets import QTableView

    return [QTableView.sizeHintForColumn(grid, column) for column in range(grid.proxy.columnCount())]


def rows_qt_measures(window, monkeypatch, measure) -> set:
    """The (source row, source column) cells Qt's own measure reads, by the model's data() it asks for."""
    cells = set()
    original = window.table.data_at
    with monkeypatch.context() as patch:  # undoes this patch only, not the window fixture's
        patch.setattr(window.table, "data_at", lambda row, column, *role: (cells.add((row, column)),
                                                                           original(row, column, *role))[1])
        measure()
    return cells


def presentation(qtbot, window, on: bool):
    """Presentation Mode on or off, waited for: its larger type reaches the grid in the event loop's next passes."""
    grid = window.grid
    before = grid.font().pointSizeF()
    window.set_presentation(on)
    qtbot.waitUntil(lambda: (grid.font().pointSizeF() > before) if on else (grid.font().pointSizeF() < before))
    qtbot.wait(20)  # the fit the switch asks for, queued behind it


def test_columns_fit_their_contents_as_qt_measures_them(qtbot, window, monkeypatch):
    """The grid measures a column's texts in one pass (Qt's own way asked every cell for eight roles: 0.7 s to
    fit a grid of 100 movies by 60 users, after every sort or added row); the widths are Qt's to the pixel."""
    from cfexplorer.core.synthetic import planted_tastes

    grid = window.grid
    # 100 movies: every row is measured (the header's precision); 24 users, as Qt's own measure, which the
    # test asks for three times, is the slow one
    window.set_document(planted_tastes(n_users=24, n_items=100, density=0.5, seed=0), "100 movies by 24 users")
    assert (grid.proxy.rowCount(), grid.proxy.columnCount()) == (100, 24)
    hints = [grid.sizeHintForColumn(column) for column in range(24)]
    assert hints == qt_column_hints(grid)
    assert all(grid.columnWidth(c) == max(hints[c], grid.horizontalHeader().sectionSizeHint(c), 64) for c in range(24))
    assert not rows_qt_measures(window, monkeypatch, grid.resizeColumnsToContents)  # no data() asked of a cell
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train(epochs=20)  # predictions in italics in the "?" cells
    window.act_residuals.trigger()  # ratings with their residuals: "4 (+0.31)", the widest texts
    assert [grid.sizeHintForColumn(c) for c in range(24)] == qt_column_hints(grid)
    assert [grid.sizeHintForColumn(c) for c in range(24)] != hints  # the residuals made the columns wider
    window.act_residuals.trigger()
    small = [grid.sizeHintForColumn(c) for c in range(24)]
    presentation(qtbot, window, True)  # the projector's larger type: its widths rounded up as Qt's
    large = [grid.sizeHintForColumn(c) for c in range(24)]
    assert large == qt_column_hints(grid) and all(b > a for a, b in zip(small, large))
    presentation(qtbot, window, False)


def test_a_long_column_is_measured_on_the_rows_qt_measures(qtbot, window, monkeypatch):
    """Past the header's precision (100 rows) Qt measures the rows in view, then one after and one before in
    turn; the grid measures the same ones, and a wide text in one of them widens the column as Qt's own does."""
    from cfexplorer.core.synthetic import planted_tastes
    from cfexplorer.ui.grid_view import measured_sections
    from PySide6.QtWidgets import QTableView

    grid = window.grid
    window.set_document(planted_tastes(n_users=30, n_items=500, density=0.3, seed=1), "500 movies")
    precision = grid.horizontalHeader().resizeContentsPrecision()
    assert grid.proxy.rowCount() == 500 > precision == 100
    grid.scrollTo(grid.proxy.index(300, 3))
    qtbot.wait(10)
    rows = measured_sections(500, precision, grid.rowAt(0), grid.rowAt(grid.viewport().height()))
    qt_cells = rows_qt_measures(window, monkeypatch, lambda: QTableView.sizeHintForColumn(grid, 3))
    source_column = int(grid.proxy.source_columns[3])
    assert qt_cells == {(int(row), source_column) for row in grid.proxy.source_rows[rows]}
    assert rows.min() < grid.rowAt(0) < grid.rowAt(grid.viewport().height()) < rows.max()  # both sides of the view
    widest = int(rows.min())  # a long number in the first row Qt reads above the view, only there
    user, item = window.table.cell(int(grid.proxy.source_rows[widest]), source_column)
    original = window.table.appearance
    with monkeypatch.context() as patch:  # undoes these patches only, not the window fixture's
        patch.setattr(window.table, "show_residuals", True)
        patch.setattr(window.table, "appearance", lambda row, column: (
            ("5 (+1234567890.12)",) + original(row, column)[1:] if (row, column) == window.table.position(user, item)
            else original(row, column)))
        assert grid.sizeHintForColumn(3) > QTableView.sizeHintForColumn(grid, 4)
    assert [grid.sizeHintForColumn(c) for c in range(30)] == qt_column_hints(grid)


def test_rows_fit_their_contents_as_qt_measures_them_in_both_type_sizes(qtbot, window, monkeypatch):
    """Presentation Mode fits the rows of a small grid to its larger type: each row as tall as Qt makes it,
    found without asking the cells (F11 on 60 movies by 100 users took 0.9-1.0 s)."""
    from PySide6.QtWidgets import QTableView

    from cfexplorer.core.synthetic import planted_tastes

    grid = window.grid
    window.set_document(planted_tastes(n_users=40, n_items=60, density=0.5, seed=0), "60 movies by 40 users")
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train(epochs=20)  # predictions: italic cells in every row
    hints = {}
    for presenting in (False, True):
        if presenting:
            presentation(qtbot, window, True)
        hints[presenting] = ours = [grid.sizeHintForRow(row) for row in range(60)]
        assert ours == [QTableView.sizeHintForRow(grid, row) for row in range(60)]
        assert not rows_qt_measures(window, monkeypatch, grid.resizeRowsToContents)  # no data() asked of a cell
        assert all(grid.rowHeight(row) == max(ours[row], 26) for row in range(60))  # never below a row as it opened
    assert hints[False][0] < hints[True][0]  # the larger type made taller rows
    presentation(qtbot, window, False)


def test_a_row_with_a_prediction_is_as_tall_as_the_italic_type_where_that_is_taller(qtbot, window, monkeypatch):
    """Where the italic of the grid's font is the taller (a font whose italic differs), a row with a prediction in
    it takes the italic's height and a row of ratings only the upright's."""
    from PySide6.QtGui import QFont

    grid = window.grid
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train(epochs=20)  # the course's matrix: predictions in some rows, not in others
    table = window.table
    predicted = [any(table.appearance(int(grid.proxy.source_rows[row]), int(column))[3]
                     for column in grid.proxy.source_columns) for row in range(grid.proxy.rowCount())]
    assert any(predicted) and not all(predicted)
    fonts = grid._cell_fonts()
    taller = QFont(fonts[True])
    taller.setPointSizeF(fonts[True].pointSizeF() * 2)
    monkeypatch.setattr(grid, "_cell_fonts", lambda: {False: fonts[False], True: taller})
    heights = [grid.sizeHintForRow(row) for row in range(grid.proxy.rowCount())]
    upright, slanted = grid._item_size("0", fonts[False]).height() + 1, grid._item_size("0", taller).height() + 1
    assert upright < slanted
    assert heights == [slanted if p else upright for p in predicted]


def test_showing_residuals_widens_a_small_grids_columns_to_their_texts(qtbot, window):
    """'4.5 (−1.25)' does not fit where '4.5' did: View ▸ Show Residuals fits the columns again, and hiding them
    narrows the columns back."""
    rng = np.random.default_rng(0)
    users, items = np.meshgrid(np.arange(6), np.arange(5), indexing="ij")
    keep = rng.random(users.size) < 0.7
    ratings = Ratings(users.ravel()[keep], items.ravel()[keep], rng.choice([1.5, 2.5, 4.5], keep.sum()),
                      [f"u{i}" for i in range(6)], [f"m{j}" for j in range(5)])
    window.set_document(ratings, "short names")
    grid = window.grid
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train(epochs=5)  # a poor fit: residuals of a star or more
    before = [grid.columnWidth(c) for c in range(grid.proxy.columnCount())]
    window.act_residuals.trigger()
    needed = [grid.sizeHintForColumn(c) for c in range(grid.proxy.columnCount())]
    assert any(n > b for n, b in zip(needed, before))  # some texts did not fit the old widths
    assert all(grid.columnWidth(c) >= needed[c] for c in range(grid.proxy.columnCount()))
    window.act_residuals.trigger()
    assert [grid.columnWidth(c) for c in range(grid.proxy.columnCount())] == before


@pytest.mark.parametrize("table", ["grid", "factor table"])
def test_tab_leaves_a_table_past_its_last_cell_and_ctrl_tab_at_once(qtbot, window, table):
    """Tab wrapped round the grid's cells (and the factor tables') for good: by the keyboard alone nothing after
    them could be reached."""
    if table == "grid":
        view = window.grid
    else:
        window.set_factor_tables_beside_grid(True)
        assert window.train_and_wait()
        view = window.factor_tables.user_view
    model = view.model()
    rows, columns = model.rowCount(), model.columnCount()
    window.activateWindow()

    def focus_at(row, column):
        view.setFocus()
        view.setCurrentIndex(model.index(row, column))
        qtbot.waitUntil(view.hasFocus, timeout=5000)

    focus_at(rows - 1, columns - 2)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert view.hasFocus() and view.currentIndex() == model.index(rows - 1, columns - 1)  # cell to cell
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert not view.hasFocus()  # past the last cell: on to the next control
    focus_at(0, 0)
    qtbot.keyClick(view, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert not view.hasFocus()
    focus_at(1, 1)
    qtbot.keyClick(view, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert not view.hasFocus()


def test_a_refused_entry_keeps_the_cursor_on_its_cell(qtbot, window):
    """"7 is outside the rating scale" was said while the cursor had already gone on to the cell below."""
    grid = window.grid
    cell = window.proxy.index(1, 1)
    type_into(qtbot, window, cell, "7")
    assert "outside" in window.message_bar.text and grid.currentIndex() == cell
    type_into(qtbot, window, cell, "4")
    assert grid.currentIndex() == window.proxy.index(2, 1)  # accepted: on to the cell below, as before



def test_tab_goes_round_the_controls_on_screen_only(qtbot, window):
    """Tab and Shift+Tab went through the factor space's and the formula's controls while their panes lay behind
    other tabs (Qt keeps them shown, off the window), and through the settings' scroll area itself: some twenty
    presses with no control on screen marked. Now every stop is a control one can see, and a setting reached
    below the settings' fold is scrolled into view."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QScrollArea

    window.resize(1280, 720)
    window.curves_dock.raise_()  # the factor space behind the loss curves' tab, Cost J behind Explain's
    window.explain_dock.raise_()
    window.activateWindow()
    settings = window.training_panel.settings_scroller
    for key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
        window.filter_edit.setFocus()
        qtbot.waitUntil(window.filter_edit.hasFocus, timeout=5000)
        stops = []
        for _ in range(60):
            qtbot.keyClick(QApplication.focusWidget(), key)
            stops.append(QApplication.focusWidget())
            focused = stops[-1]
            at = QRect(focused.mapTo(window, focused.rect().topLeft()), focused.size())
            assert window.rect().intersects(at), (key, type(focused).__name__, at)
            if settings.isAncestorOf(focused):  # in view inside the scrolling settings
                shown = QRect(focused.mapTo(settings.viewport(), focused.rect().topLeft()), focused.size())
                assert settings.viewport().rect().intersects(shown), type(focused).__name__
        behind = [w for w in stops if window.factor_dock.isAncestorOf(w) or window.formula_dock.isAncestorOf(w)]
        assert behind == [] and not [w for w in stops if isinstance(w, QScrollArea)]
        assert window.training_panel.loss_plot.layout_widget not in stops  # no keys, no mark of the focus
        training = [w for w in stops if window.training_dock.isAncestorOf(w)]
        assert window.training_panel.pace in training and window.training_panel.model_kind in training


def test_the_explain_text_is_framed_while_it_has_the_focus_and_the_factor_plot_is_no_tab_stop(qtbot, window):
    """Tab reached the Explain pane's text and the factor plot with no mark of the focus on either: a keyboard
    user lost track of where the next key would go. The text (its lines can be selected and copied) is framed in
    the highlight colour while it has the focus; the plot, with no keys of its own, is passed by as the loss
    plots are, and a click on it leaves the focus where it was."""
    from PySide6.QtGui import QPalette

    window.resize(1280, 720)
    window.factor_dock.raise_()
    window.explain_dock.raise_()
    window.activateWindow()
    text = window.explain_panel.text
    highlight = text.palette().color(QPalette.ColorRole.Highlight)

    def frame_colours():
        picture = text.grab().toImage()
        middle = picture.height() // 2
        return {picture.pixelColor(0, middle).name(), picture.pixelColor(picture.width() - 1, middle).name()}

    window.filter_edit.setFocus()
    qtbot.waitUntil(window.filter_edit.hasFocus, timeout=5000)
    assert highlight.name() not in frame_colours()
    stops = []
    for _ in range(80):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        stops.append(QApplication.focusWidget())
        if stops[-1] is text:
            break
    assert text in stops and window.factor_space.plot not in stops
    qtbot.waitUntil(lambda: frame_colours() == {highlight.name()}, timeout=5000)
    window.filter_edit.setFocus()
    qtbot.waitUntil(lambda: highlight.name() not in frame_colours(), timeout=5000)
    plot = window.factor_space.plot
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=plot.viewport().rect().center())
    assert window.filter_edit.hasFocus()


def test_the_keyboard_goes_from_the_grid_to_the_tables_beside_it_then_to_the_training_panel(qtbot, window):
    """From the grid's last cell Tab went to the training panel, the panes below and only then to the X and W
    tables beside the grid."""
    window.resize(1280, 720)
    assert window.train_and_wait()
    tables = window.factor_tables
    assert tables.isVisible()
    window.activateWindow()
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus, timeout=5000)
    stops = [window.grid]
    for _ in range(3):  # Ctrl+Tab leaves a table at once
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
        stops.append(QApplication.focusWidget())
    assert stops[1] is tables.movie_view and stops[2] is tables.user_view
    assert window.training_dock.isAncestorOf(stops[3])
