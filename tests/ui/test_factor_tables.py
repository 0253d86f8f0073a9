"""The factor tables beside the grid: X and W as in the course's spreadsheet, following training, and
editable when no run owns them, with the predictions, the explanation and J recomputed at once."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cfexplorer.core.factor_edits import SetParameter
from cfexplorer.core.mf import MatrixFactorization

from .run_end import train_with_a_slot_after_the_windows_at_the_end


def trained(window):
    assert window.train_and_wait(60)
    assert window.factor_tables.isVisible()  # beside the grid from the start (View ▸ Factor Tables Beside the Grid)
    QApplication.processEvents()
    return window.training_panel.model


def type_into_table(qtbot, view, row, column, text):
    view.setFocus()
    view.setCurrentIndex(view.model().index(row, column))
    qtbot.keyClick(view, Qt.Key.Key_F2)  # edit the current cell, as in a spreadsheet
    editor = QApplication.focusWidget()
    assert editor is not view, "the cell should open an editor"
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.state() != view.State.EditingState, timeout=10_000)


def shown(model) -> np.ndarray:
    return np.array([[float(model.data(model.index(r, c), Qt.ItemDataRole.EditRole))
                      for c in range(model.columnCount())] for r in range(model.rowCount())])


def grid_value(window, user, item) -> str:
    return window.table.data(window.table.index(*window.table.position(user, item)))


def view_action(window, text):
    for action in window.view_menu.actions():
        if action.text().replace("&", "") == text:
            return action
    raise AssertionError(f"no View ▸ {text}")


def test_the_tables_stand_beside_the_grid_and_the_view_menu_hides_them_and_remembers(qtbot, window, settings):
    tables, grid = window.factor_tables, window.grid
    action = view_action(window, "Factor Tables Beside the Grid")
    assert action.isCheckable() and action.isChecked() and tables.isVisible()
    beside = tables.mapTo(window, tables.rect().topLeft())
    assert beside.x() >= grid.mapTo(window, grid.rect().topRight()).x()  # right of the grid, not below it
    assert abs(beside.y() - grid.mapTo(window, grid.rect().topLeft()).y()) < 10
    width_with_tables = grid.width()
    action.trigger()
    QApplication.processEvents()
    assert not tables.isVisible() and grid.width() > width_with_tables  # the grid takes the room back
    assert settings.value("view/factor_tables_beside_grid", type=bool) is False

    from cfexplorer.app import MainWindow

    again = MainWindow(settings=settings)  # the next start remembers it
    qtbot.addWidget(again)
    again.show()
    assert not view_action(again, "Factor Tables Beside the Grid").isChecked()
    assert not again.factor_tables.isVisible()
    again.close()


def test_shown_again_an_edit_there_changes_a_question_mark_cell_and_undo_restores_it(qtbot, window):
    action = view_action(window, "Factor Tables Beside the Grid")
    action.trigger()  # hidden while training, shown afterwards: what it shows is the model's as it is now
    assert window.train_and_wait(60)
    model = window.training_panel.model
    assert window.factor_tables.movies.rowCount() == 0  # hidden, the run's updates were not copied into it
    action.trigger()
    QApplication.processEvents()
    tables = window.factor_tables
    np.testing.assert_allclose(shown(tables.movies), model.item_factors_, atol=5e-6)
    ratings = window.table.ratings
    user, item = (int(v) for v in np.argwhere(np.isnan(ratings.to_dense()))[0])  # a "?" cell
    before = grid_value(window, user, item)
    type_into_table(qtbot, tables.movie_view, item, 1, "-2.5")
    assert model.item_factors_[item, 1] == -2.5
    assert grid_value(window, user, item) != before
    expected = window.table.predictor.predict_cell(user, item)
    assert grid_value(window, user, item) == f"{expected:.2f}"
    window.act_undo.trigger()
    assert grid_value(window, user, item) == before


def test_the_tables_follow_the_grid_scrolling_sorting_swapping_and_current_cell(qtbot, window):
    from cfexplorer.core.synthetic import low_rank

    window.resize(1280, 720)
    assert window.new_grid(low_rank(n_users=60, n_items=80, rank=2, density=0.3, seed=1))
    trained(window)
    tables, grid, proxy, table = window.factor_tables, window.grid, window.proxy, window.table
    qtbot.waitUntil(lambda: tables.movies.rowCount() == 80)

    def first_shown():
        """(movie, user) of the grid's top-left visible cell."""
        source = proxy.mapToSource(proxy.index(grid.rowAt(0), grid.columnAt(0)))
        user, item = table.cell(source.row(), source.column())
        return item, user

    def tops():
        return tables.movie_view.rowAt(0), tables.user_view.rowAt(0)

    grid.verticalScrollBar().setValue(grid.verticalScrollBar().maximum() // 2)
    grid.horizontalScrollBar().setValue(grid.horizontalScrollBar().maximum() // 2)
    QApplication.processEvents()
    assert first_shown()[0] > 0 and first_shown()[1] > 0
    assert tops() == first_shown()

    window.sort_rows("mean")  # the grid's rows in another order: the table's top is still the grid's first
    grid.verticalScrollBar().setValue(3)
    QApplication.processEvents()
    assert tops() == first_shown()

    window.swap_axes()  # users down, movies across: W follows the rows, X the columns
    grid.verticalScrollBar().setValue(7)
    grid.horizontalScrollBar().setValue(5)
    QApplication.processEvents()
    assert tops() == first_shown()

    current = proxy.index(grid.rowAt(0) + 1, grid.columnAt(0) + 2)
    grid.setCurrentIndex(current)
    source = proxy.mapToSource(current)
    user, item = table.cell(source.row(), source.column())
    assert (tables.movies.highlighted_row, tables.users.highlighted_row) == (item, user)
    assert tables.movies.data(tables.movies.index(item, 0), Qt.ItemDataRole.FontRole).bold()
    assert tables.movies.data(tables.movies.index(item + 1 if item == 0 else 0, 0), Qt.ItemDataRole.FontRole) is None


def test_the_tables_show_the_trained_factors_and_biases(qtbot, window):
    model = trained(window)
    tables = window.factor_tables
    np.testing.assert_allclose(shown(tables.movies), model.item_factors_, atol=5e-6)  # movies: no movie bias
    np.testing.assert_allclose(shown(tables.users), np.c_[model.user_factors_, model.user_bias_], atol=5e-6)
    assert tables.users.headerData(2, Qt.Orientation.Horizontal) == "bias"
    assert tables.movies.headerData(1, Qt.Orientation.Vertical) == "Romance forever"
    high, low = np.unravel_index(np.argmax(model.item_factors_), model.item_factors_.shape), \
        np.unravel_index(np.argmin(model.item_factors_), model.item_factors_.shape)
    colour = lambda at: tables.movies.data(tables.movies.index(*at), Qt.ItemDataRole.BackgroundRole)  # noqa: E731
    assert colour(high).blue() > colour(high).red() and colour(low).red() > colour(low).blue()  # as in the grid


def test_each_role_a_view_asks_of_a_factor_and_of_a_bias(qapp):
    """What the delegate paints from, role by role: a factor is right-aligned, coloured and shown to three
    decimals; a bias is right-aligned and not coloured; the current row is bold; a NaN reads '?'."""
    from cfexplorer.ui.factor_tables import FactorTableModel

    model = FactorTableModel("user_factors")
    model.show_arrays(np.array([[0.5, -1.0], [np.nan, 2.0]]), np.array([0.25, -0.75]), ["Ann", "Bob"])
    model.set_highlighted_row(1)
    role = Qt.ItemDataRole

    def at(row, column, asked):
        return model.data(model.index(row, column), asked)

    assert (model.rowCount(), model.columnCount()) == (2, 3)
    assert [at(0, c, role.DisplayRole) for c in range(3)] == ["+0.500", "-1.000", "+0.250"]
    assert [at(0, c, role.EditRole) for c in range(3)] == ["0.5", "-1", "0.25"]
    assert at(1, 0, role.DisplayRole) == "?" and at(1, 2, role.DisplayRole) == "-0.750"
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert all(at(r, c, role.TextAlignmentRole) == right for r in range(2) for c in range(3))
    assert at(1, 1, role.BackgroundRole).blue() > at(1, 1, role.BackgroundRole).red()  # +2, the largest: blue
    assert at(0, 1, role.BackgroundRole).red() > at(0, 1, role.BackgroundRole).blue()  # -1: orange
    assert at(0, 1, role.ForegroundRole) is not None
    assert at(0, 2, role.BackgroundRole) is None and at(0, 2, role.ForegroundRole) is None  # the bias column
    assert at(1, 0, role.FontRole).bold() and at(0, 0, role.FontRole) is None
    assert at(0, 0, role.ToolTipRole) is None and at(0, 0, role.DecorationRole) is None
    assert model.data(model.index(5, 0), role.DisplayRole) is None  # no such row: an invalid index


def test_the_tables_follow_the_grids_last_update_on_a_pass_of_their_own(qtbot, window):
    """With the grid, the tables' update and repaint made the grid's refresh 25-50 ms beside 59,047 movies:
    at a run's end the grid shows the last predictions at once and the tables follow on the next pass."""
    panel = window.training_panel
    panel.epochs.setValue(30)
    at_the_end = []

    def after_the_windows_handler(*_):
        QApplication.sendPostedEvents()
        at_the_end.append((window.table.predictor, window.factor_tables.movies.factors))

    train_with_a_slot_after_the_windows_at_the_end(qtbot, panel, after_the_windows_handler)
    [(last, tables_then)] = at_the_end
    assert last.epoch == 30 and not np.shares_memory(tables_then, last.item_factors)  # not yet
    qtbot.waitUntil(lambda: np.shares_memory(window.factor_tables.movies.factors, last.item_factors), timeout=5000)
    np.testing.assert_allclose(shown(window.factor_tables.movies), last.item_factors, atol=5e-6)


def test_train_right_after_a_run_keeps_the_tables_columns_and_shows_the_new_run(qtbot, window):
    """The last run's tables, still waiting for their pass when Train is clicked again, are the new run's to
    replace: shown with the new, unfitted model they lost the bias columns and got them back a moment later."""
    panel, movies = window.training_panel, window.factor_tables.movies
    panel.set_params({"n_epochs": 30, "item_bias": True, "user_bias": True})
    assert window.train_and_wait(60)
    qtbot.waitUntil(lambda: movies.columnCount() == panel.model.n_factors + 1, timeout=5000)
    resets = []
    movies.modelAboutToBeReset.connect(lambda: resets.append(movies.columnCount()))
    second = []
    # started paused with no epoch taken (Step would take one): the new model is not fitted yet while the last
    # run's views wait
    train_with_a_slot_after_the_windows_at_the_end(qtbot, panel, lambda *_: second or second.append(
        panel.train(paused=True)))
    assert second == [True]
    qtbot.wait(300)  # the last run's tables would have had their pass, and the grid's refresh its turn
    assert resets == []
    window.act_pause.trigger()  # Resume
    assert window.wait_for_training(60)
    assert resets == []
    last = window.table.predictor
    assert last.epoch == 30 and movies.columnCount() == panel.model.n_factors + 1
    np.testing.assert_allclose(shown(movies)[:, :-1], last.item_factors, atol=5e-6)


def test_reset_right_after_a_run_leaves_the_tables_empty(qtbot, window):
    panel = window.training_panel
    panel.epochs.setValue(30)
    train_with_a_slot_after_the_windows_at_the_end(qtbot, panel, lambda *_: window.act_reset.trigger())
    qtbot.wait(100)
    assert window.factor_tables.movies.rowCount() == 0 and window.table.predictor is None


def test_the_tables_read_the_predictors_numbers_without_copying_them(qtbot, window):
    trained(window)
    tables, predictor = window.factor_tables, window.table.predictor
    # the very numbers the grid predicts with, frozen: a copy of 221,588 rows a run update was 25-35 ms at 25M
    assert np.shares_memory(tables.movies.factors, predictor.item_factors)
    assert np.shares_memory(tables.users.factors, predictor.user_factors)
    assert not tables.movies.factors.flags.writeable and not tables.users.biases.flags.writeable


def test_the_colour_scale_spans_the_largest_finite_factor():
    from cfexplorer.ui.factor_tables import _largest_finite_magnitude

    assert _largest_finite_magnitude(np.array([[0.5, -3.0], [np.nan, 2.0]])) == 3.0
    assert _largest_finite_magnitude(np.array([[np.inf, -3.0], [np.nan, 2.0]])) == 3.0  # an infinity is skipped
    assert _largest_finite_magnitude(np.array([[np.nan, -np.inf]])) == 1.0  # nothing finite
    assert _largest_finite_magnitude(np.empty((0, 3))) == 1.0


def test_a_rename_in_the_grid_renames_the_row_of_the_tables_and_keeps_its_factors(qtbot, window):
    from cfexplorer.core.edits import ITEMS

    model = trained(window)
    tables = window.factor_tables
    item = list(window.table.ratings.item_titles()).index("Romance forever")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(window.table.index(*window.table.position(0, item))))
    window.rename_current(ITEMS, "Romance for a while")
    assert tables.movies.headerData(item, Qt.Orientation.Vertical) == "Romance for a while"
    np.testing.assert_allclose(shown(tables.movies), model.item_factors_, atol=5e-6)


def test_typing_over_a_factor_recomputes_the_prediction_the_explanation_and_j_and_undo_restores_them(qtbot,
                                                                                                   window):
    model = trained(window)
    ratings = window.table.ratings
    bob, romance = list(ratings.user_labels).index("Bob"), 1
    before_cell, before_j = grid_value(window, bob, romance), model.loss_terms(ratings)
    window.grid.setCurrentIndex(window.proxy.mapFromSource(window.table.index(*window.table.position(bob,
                                                                                                     romance))))
    type_into_table(qtbot, window.factor_tables.movie_view, romance, 0, "3")

    assert model.item_factors_[romance, 0] == 3.0
    expected = (model.user_factors_[bob] @ model.item_factors_[romance] + model.user_bias_[bob]
                + model.item_mean_[romance])  # w·x + b + μ, the course's prediction with mean normalization
    assert grid_value(window, bob, romance) == f"{np.clip(expected, 0, 5):.2f}" != before_cell
    assert "+3.000" in window.explain_panel.text.toPlainText()
    fresh = MatrixFactorization.from_state(model.get_state())  # J from the parameters alone, another object
    data_term, reg_term, total = fresh.loss_terms(ratings)
    assert f"J = {data_term:.5g} (data) + {reg_term:.5g} (reg) = {total:.5g}" in window.training_panel.cost_label.text()
    assert window.formula_panel.record.total == total
    assert window.undo_stack.count() == 1 and "Romance forever" in window.undo_stack.undoText()

    window.act_undo.trigger()
    assert grid_value(window, bob, romance) == before_cell
    assert f"= {before_j[2]:.5g}" in window.training_panel.cost_label.text()
    window.act_redo.trigger()
    assert model.item_factors_[romance, 0] == 3.0


def test_a_bias_is_edited_like_a_factor(qtbot, window):
    model = trained(window)
    type_into_table(qtbot, window.factor_tables.user_view, 0, 2, "-1.5")
    assert model.user_bias_[0] == -1.5


def test_text_that_is_not_a_number_changes_nothing(qtbot, window):
    model = trained(window)
    before = model.item_factors_.copy()
    type_into_table(qtbot, window.factor_tables.movie_view, 0, 0, "romantic")
    np.testing.assert_array_equal(model.item_factors_, before)
    assert "A factor is a number" in window.message_bar.text and window.undo_stack.count() == 0


def test_while_a_run_owns_the_factors_they_follow_it_and_cannot_be_edited(qtbot, window):
    """Decided: a run (going or paused) owns its parameters, so an edit would race the worker. The tables
    are read-only then and say why; Stop makes them editable."""
    panel = window.training_panel
    panel.epochs.setValue(50)
    qtbot.keyClick(window, Qt.Key.Key_F7)  # one epoch, then paused
    qtbot.waitUntil(lambda: panel.controller.state == "paused" and window.factor_tables.movies.rowCount() > 0,
                    timeout=10000)
    tables = window.factor_tables
    first = shown(tables.movies)
    qtbot.keyClick(window, Qt.Key.Key_F7)  # another epoch: the tables follow the run
    qtbot.waitUntil(lambda: not np.allclose(shown(tables.movies), first, atol=1e-6), timeout=10000)
    assert not tables.movies.flags(tables.movies.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    assert "Stop it (F8)" in tables.note.text()
    model = panel.model
    before = model.item_factors_.copy()
    assert not tables.request_edit("item_factors", 0, 0, 2.0)  # what typing would ask
    np.testing.assert_array_equal(model.item_factors_, before)
    assert "Training owns these factors" in window.message_bar.text and window.undo_stack.count() == 0
    qtbot.keyClick(window, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: panel.controller.state == "idle", timeout=10000)
    assert tables.movies.flags(tables.movies.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    type_into_table(qtbot, tables.movie_view, 0, 0, "2")
    assert model.item_factors_[0, 0] == 2.0


def test_undoing_an_edit_of_a_model_that_was_replaced_leaves_the_new_model_alone(qtbot, window):
    first = trained(window)
    type_into_table(qtbot, window.factor_tables.movie_view, 0, 0, "2")
    second = trained(window)  # Train again: a new model
    assert second is not first
    after = second.item_factors_.copy()
    window.act_undo.trigger()
    np.testing.assert_array_equal(second.item_factors_, after)
    assert first.item_factors_[0, 0] == 2.0
    assert "no longer shown" in window.message_bar.text
    assert window.undo_stack.count() == 0  # the step left the stack


def test_reset_and_another_document_take_the_tables_down(qtbot, window):
    trained(window)
    window.act_reset.trigger()
    QApplication.processEvents()
    assert window.factor_tables.movies.rowCount() == 0 and "Train a model" in window.factor_tables.note.text()
    trained(window)
    window.open_preset("planted")
    assert window.factor_tables.movies.rowCount() == 0


def test_a_parameter_edit_returns_its_inverse():
    from cfexplorer.core.ratings import Ratings

    model = MatrixFactorization(n_factors=2, n_epochs=3).fit(Ratings.from_dense(np.array([[5.0, 1.0], [4.0, 2.0]])))
    old = model.user_factors_[1, 0]
    inverse = SetParameter("user_factors", 1, 0, 7.0).apply(model)
    assert model.user_factors_[1, 0] == 7.0 and model.predictor().user_factors[1, 0] == 7.0
    inverse.apply(model)
    assert model.user_factors_[1, 0] == old


def test_a_selected_factor_is_not_painted_in_the_blue_of_a_positive_one(qtbot, window):
    """The default selection colour is a blue like the scale's positive end: a selected −1.07 looked positive."""
    from PySide6.QtGui import QPalette

    from cfexplorer.ui.factor_tables import SELECTION_GRAY

    window.train_and_wait()
    view = window.factor_tables.movie_view
    view.setFocus()
    view.selectRow(1)
    index = view.model().index(1, 0)
    assert view.selectionModel().isSelected(index)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        colour = view.palette().color(group, QPalette.ColorRole.Highlight)
        assert colour.name() == SELECTION_GRAY and colour.saturation() == 0
    image = view.viewport().grab().toImage()
    cell = view.visualRect(index).center()
    painted = image.pixelColor(cell.x() + 20, cell.y())
    assert painted.saturation() < 30  # gray, whichever sign the factor has


def test_row_names_are_measured_once_until_they_change(qtbot):
    from PySide6.QtWidgets import QTableView

    from cfexplorer.ui.factor_tables import FactorTableModel
    from cfexplorer.ui.grid_header import SteadyHintHeader

    from .widgets import shown_alone

    class CountingModel(FactorTableModel):
        calls = 0

        def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
            CountingModel.calls += 1
            return super().headerData(section, orientation, role)

    model = CountingModel("item_factors")
    model.show_arrays(np.zeros((500, 2)), None, [f"Movie {row}" for row in range(500)])
    view = QTableView()
    view.setVerticalHeader(SteadyHintHeader(Qt.Orientation.Vertical, view))
    view.setModel(model)
    shown_alone(qtbot, view, 300, 300)
    width = view.verticalHeader().sizeHint().width()
    CountingModel.calls = 0
    for height in range(290, 240, -10):  # the pane resized five times, as a note below it grows and shrinks
        view.resize(300, height)
        qtbot.wait(1)
    assert CountingModel.calls < 500  # the names in sight painted; not 200 names measured at each resize
    model.set_labels([f"A much longer title for movie {row}" for row in range(500)])  # a rename in the grid
    assert view.verticalHeader().sizeHint().width() > width


@pytest.mark.parametrize("kind, note", [
    ("biases", "Type over a bias: the predictions and J follow (Ctrl+Z undoes it)."),
    ("global_mean", "This model learned no factors or biases: it predicts the mean of the ratings."),
])
def test_the_note_says_what_a_baseline_has_to_type_over(qtbot, window, kind, note):
    """"Type over a factor" stood beside tables of a baseline that has none (names alone, or one bias column)."""
    window.set_factor_tables_beside_grid(True)
    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData(kind))
    assert window.train_and_wait()
    qtbot.waitUntil(lambda: window.factor_tables.note.text() == note, timeout=5000)


def test_a_cell_made_current_before_there_were_factors_has_its_rows_in_bold_once_they_come(qtbot, window):
    """The grid's current cell chose the bold rows only when it changed: a cell clicked before training (or kept
    through a Reset) left X and W without one until it was clicked again."""
    window.set_factor_tables_beside_grid(True)
    tables, grid, proxy, table = window.factor_tables, window.grid, window.proxy, window.table
    current = proxy.index(2, 1)
    grid.setCurrentIndex(current)
    user, item = table.cell(proxy.mapToSource(current).row(), proxy.mapToSource(current).column())
    for _ in range(2):  # trained, then reset and trained again with the same cell current
        trained(window)
        assert (tables.movies.highlighted_row, tables.users.highlighted_row) == (item, user)
        assert grid.currentIndex() == current
        window.training_panel.reset_button.click()


def test_j_after_an_edit_is_on_the_ratings_trained_on_when_a_validation_share_is_held_out(qtbot, window):
    """With a validation share, the loss curves' J is on the ratings trained on, and J after typing over a
    factor was on all of the grid's (the held-out ones too): J jumped from 9.5 to 14 for an edit of nothing."""
    from cfexplorer.core.ratings import train_test_split

    panel = window.training_panel
    panel.validation.setValue(0.25)
    model = trained(window)
    ratings = window.table.ratings
    train, held_out = train_test_split(ratings, 0.25, seed=panel.seed.value())
    assert len(held_out) > 0
    value = float(model.item_factors_[1, 0])
    type_into_table(qtbot, window.factor_tables.movie_view, 1, 0, repr(value))  # the same value, typed
    assert model.item_factors_[1, 0] == value
    data_term, reg_term, total = MatrixFactorization.from_state(model.get_state()).loss_terms(train)
    assert total == pytest.approx(model.history_[-1].total, rel=1e-12)  # the curves' last J, unchanged
    assert f"J = {data_term:.5g} (data) + {reg_term:.5g} (reg) = {total:.5g}" in window.training_panel.cost_label.text()


@pytest.mark.parametrize("kind", ["neural", "content"])
def test_a_paused_network_run_is_not_promised_editable_factors(qtbot, window, kind):
    """Beside a paused content-based run the note said "Stop it (F8) to edit them": stopping it gives no factor
    tables to edit."""
    window.set_factor_tables_beside_grid(True)
    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData(kind))
    panel.epochs.setValue(50)
    with qtbot.waitSignal(panel.controller.sig_state_changed, timeout=60_000,
                          check_params_cb=lambda state: state == "paused"):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    note = "This model has no factor tables of its own to edit (its embeddings pass through a network)."
    qtbot.waitUntil(lambda: window.factor_tables.note.text() == note, timeout=5000)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=60_000)
    assert window.factor_tables.note.text() == note
