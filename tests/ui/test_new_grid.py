"""File ▸ New: a blank grid of the size and scale chosen, filled in by typing and pasting."""

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from cfexplorer.core.ratings import RatingScale
from cfexplorer.ui.new_grid_dialog import MAX_BLANK_ENTRIES, NewGridDialog, blank_ratings

from .test_grid import type_into


def answer_new_grid(users, movies, scale_text, accept=True):
    """Fill in the modal New dialog once it is up, as a person would."""
    def when_shown():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, NewGridDialog):
            QTimer.singleShot(20, when_shown)
            return
        dialog.users.setValue(users)
        dialog.movies.setValue(movies)
        dialog.scale_box.setCurrentText(scale_text)
        (dialog.accept if accept else dialog.reject)()

    QTimer.singleShot(0, when_shown)


def test_file_new_makes_a_blank_grid_of_the_chosen_size_and_scale(qtbot, window):
    window.train_and_wait()
    answer_new_grid(3, 6, "1 to 5 stars")
    window.act_new.trigger()
    ratings = window.table.ratings
    assert (ratings.n_users, ratings.n_items, ratings.n_ratings) == (3, 6, 0)
    assert ratings.scale == RatingScale(1.0, 5.0, 1.0) and not ratings.binary
    assert window.proxy.rowCount() == 6 and window.proxy.columnCount() == 3  # movies down, users across
    assert window.document_title == "Untitled" and window.path is None and window.undo_stack.count() == 0
    assert window.training_panel.model is None  # the old run went with the old document
    assert all(window.proxy.data(window.proxy.index(r, c)) == "?" for r in range(6) for c in range(3))
    assert "3 users × 6 movies · 0 ratings 1 to 5 in steps of 1" in window.summary_label.text()


def test_a_new_grid_is_filled_by_typing_down_a_column_and_refuses_ratings_off_its_scale(qtbot, window):
    answer_new_grid(2, 3, "1 to 5 stars")
    window.act_new.trigger()
    window.activateWindow()  # the closed dialog took the focus with it
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    type_into(qtbot, window, window.proxy.index(0, 0), "4")
    qtbot.keyClicks(window.grid, "0")  # Enter moved down: the next key edits the next movie; 0 is off the scale
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.grid.state() != window.grid.State.EditingState, timeout=10_000)
    assert "outside the rating scale 1 to 5" in window.message_bar.text
    dense = window.table.ratings.to_dense()
    np.testing.assert_array_equal(dense[0], [4, np.nan, np.nan])
    assert window.isWindowModified()


def test_cancelling_file_new_keeps_the_document(qtbot, window):
    before = window.table.ratings
    answer_new_grid(3, 3, "Likes: 0 or 1", accept=False)
    window.act_new.trigger()
    assert window.table.ratings is before


def test_a_binary_new_grid_takes_likes():
    ratings = blank_ratings(2, 2, RatingScale(0.0, 1.0, 1.0), binary=True)
    assert ratings.binary and ratings.n_ratings == 0 and list(ratings.item_labels) == ["Movie 1", "Movie 2"]


def test_a_new_grid_has_a_size_limit():
    with pytest.raises(ValueError, match="1 to 10,000 users and movies"):
        blank_ratings(MAX_BLANK_ENTRIES + 1, 2, RatingScale())
