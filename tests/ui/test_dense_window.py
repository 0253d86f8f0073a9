"""File ▸ Open on the course lab's dense Y (with its R beside it, or alone) in the window, and the lab's J at
its X, W, b on the full data."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from cfexplorer.ui.dense_preview import ZeroMeaningDialog

from ..io.test_dense import R, Y, write_matrix
from .modal_answers import open_answering
from .test_load_parameters import load_from_menu


@pytest.fixture
def dialogs(monkeypatch):
    """Modal dialogs as a person sees them (the tests' default takes the reader's own reading)."""
    monkeypatch.delenv("CFEXPLORER_NO_DIALOGS", raising=False)


def grid_cell(window, movie: int, user: int) -> str:
    return window.table.data(window.table.index(*window.table.position(user, movie)))


def test_y_with_r_beside_it_opens_movies_by_users_and_the_status_bar_says_r_was_used(qtbot, window, tmp_path):
    y_path = write_matrix(tmp_path / "small_movies_Y.csv", Y)
    write_matrix(tmp_path / "small_movies_R.csv", R, "%d")
    assert window.open_file(y_path, confirm=False)
    assert window.table.rows_are_items and window.proxy.rowCount() == 4 and window.proxy.columnCount() == 6
    assert grid_cell(window, 0, 0) == "5" and grid_cell(window, 1, 1) == "0.5"
    assert grid_cell(window, 0, 1) == "?"  # R is 0 there: not a rating of 0
    status = window.statusBar().currentMessage()
    assert "small_movies_Y.csv" in status and "small_movies_R.csv (R)" in status


def answer_the_preview(window, path, act) -> bool:
    return open_answering(window, path, ZeroMeaningDialog, act)


def test_a_matrix_without_r_asks_whether_0_means_not_rated(qtbot, window, tmp_path, dialogs):
    path = write_matrix(tmp_path / "small_movies_Y.csv", Y)
    before = window.table.ratings

    def say_zero_is_a_rating(dialog):
        assert dialog.zero_unrated.isChecked()  # the lab's reading, offered first
        assert dialog.model.sheet.text(1, 1) == "5" and dialog.model.sheet.text(1, 2) == "0"  # the cells, shown
        assert window.table.ratings is before  # nothing switched while asking
        qtbot.mouseClick(dialog.zero_rating, Qt.MouseButton.LeftButton,  # on its round button
                         pos=QPoint(8, dialog.zero_rating.height() // 2))
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert answer_the_preview(window, path, say_zero_is_a_rating)
    assert len(window.table.ratings) == Y.size and grid_cell(window, 0, 1) == "0"
    assert "kept as ratings" in window.statusBar().currentMessage()

    assert answer_the_preview(window, path, lambda dialog: dialog.ok_button.click())  # as offered: 0 not rated
    assert len(window.table.ratings) == R.sum() and grid_cell(window, 0, 1) == "?"

    shown = window.table.ratings
    assert not answer_the_preview(window, path, lambda dialog: dialog.reject())
    assert window.table.ratings is shown and "cancelled" in window.message_bar.text


def test_the_lab_y_r_and_parameters_give_the_labs_j_on_the_full_data(qtbot, window, tmp_path, monkeypatch,
                                                                    shared_data):
    pd = pytest.importorskip("pandas")
    lab = shared_data / "ng-cf-lab-small-movies"
    triplets = pd.read_csv(lab / "small_movies_Y_R_reconstructed_triplets.csv")
    y, r = np.zeros((4778, 443)), np.zeros((4778, 443), dtype=int)
    y[triplets.movie_index, triplets.user_index] = triplets.rating
    r[triplets.movie_index, triplets.user_index] = 1
    y_path = write_matrix(tmp_path / "small_movies_Y.csv", y, "%.1f")
    write_matrix(tmp_path / "small_movies_R.csv", r, "%d")
    assert window.open_file(y_path, confirm=False)
    assert len(window.table.ratings) == len(triplets)

    panel = window.training_panel
    panel.reg.setValue(1.5)
    panel.bias_reg.setValue(0.0)  # the lab's J does not regularize b
    load_from_menu(qtbot, window, monkeypatch, lab / "small_movies_X.csv", lab / "small_movies_W.csv",
                   lab / "small_movies_b.csv")

    # the lab's cofi_cost_func, written out: 1/2 sum over R of (X W^T + b - Y)^2 + lambda/2 (|X|^2 + |W|^2)
    X = np.loadtxt(lab / "small_movies_X.csv", delimiter=",")
    W = np.loadtxt(lab / "small_movies_W.csv", delimiter=",")
    b = np.loadtxt(lab / "small_movies_b.csv", delimiter=",").reshape(1, -1)
    data_term = 0.5 * np.sum(((X @ W.T + b - y) * r) ** 2)
    reg_term = 0.75 * (np.sum(X**2) + np.sum(W**2))
    run = panel.loss_plot.current
    assert run.epochs == [0]
    assert run.data[0] == pytest.approx(data_term, rel=1e-6)
    assert run.reg[0] == pytest.approx(reg_term, rel=1e-6)
    assert run.total[0] == pytest.approx(data_term + reg_term, rel=1e-6)
