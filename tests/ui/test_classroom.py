"""Presentation mode and the live formula panel, driven as a teacher would."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget

from cfexplorer.ui.formula_panel import formula_html

from .widgets import click_dock_tab


def test_formula_panel_shows_the_last_epochs_numbers_live(qtbot, window):
    click_dock_tab(qtbot, window, "Cost J")
    panel = window.training_panel
    seen = []
    panel.controller.sig_progress.connect(lambda records, predictor: seen.append(window.formula_panel.text()))
    with qtbot.waitSignal(panel.sig_run_ended, timeout=60_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    last = panel.model.history_[-1]
    text = window.formula_panel.text()
    assert f"{last.data_term:.6g}" in text and f"{last.reg_term:.6g}" in text and f"{last.total:.6g}" in text
    assert last.total == pytest.approx(last.data_term + last.reg_term)
    assert f"epoch {last.epoch}" in text and "λ/2 (‖W‖² + ‖X‖²)" in text
    assert len(set(seen)) >= 2  # it changed while training, not only at the end
    window.open_preset("course")  # new data: the numbers of the old model go
    assert "Train a model" in window.formula_panel.text()


def test_formula_for_binary_labels_is_the_cross_entropy(qtbot, window):
    window.open_preset("course-binary")
    click_dock_tab(qtbot, window, "Cost J")
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train()
    assert "log g(z)" in window.formula_panel.text()


def test_the_cost_tab_behind_another_is_brought_up_to_date_when_clicked(qtbot, window):
    panel, formula = window.training_panel, window.formula_panel
    click_dock_tab(qtbot, window, "Explain a prediction")  # the Cost J tab behind it
    before = formula.text()
    with qtbot.waitSignal(panel.sig_run_ended, timeout=60_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert formula.text() == before  # nothing laid out while it could not be seen
    click_dock_tab(qtbot, window, "Cost J")
    last = panel.model.history_[-1]
    assert f"epoch {last.epoch}" in formula.text() and f"{last.total:.6g}" in formula.text()
    window.open_preset("course")  # new data while it shows: the old model's numbers go at once
    assert "Train a model" in formula.text()


def test_presentation_mode_enlarges_contrasts_and_hides_secondary_panes(qtbot, window):
    app = QApplication.instance()
    normal_font = app.font().pointSizeF()
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train()
    window.factor_dock.raise_()
    qtbot.wait(50)
    normal_sizes = window.factor_space.plot.scatters["movie"].data["size"].copy()
    assert window.explain_dock.isVisible() and window.toolbar.isVisible()

    window.message_bar.show_message("A note for the back row", kind="info")
    window.act_presentation.trigger()  # View ▸ Presentation Mode (F11)
    assert window.presenting
    assert app.font().pointSizeF() == pytest.approx(1.5 * normal_font)
    # styled by a style sheet, the message bar kept the everyday type
    assert window.message_bar.label.font().pointSizeF() == pytest.approx(1.5 * normal_font)
    assert not window.explain_dock.isVisible() and not window.toolbar.isVisible()
    assert window.formula_dock.isVisible() and window.factor_dock.isVisible()  # the factor space was in front
    assert window.table._high_contrast
    assert window.training_panel.loss_plot.line_width == 4
    big_sizes = window.factor_space.plot.scatters["movie"].data["size"]
    np.testing.assert_allclose(big_sizes, normal_sizes * 1.8)

    window.act_presentation.trigger()
    assert not window.presenting
    assert app.font().pointSizeF() == pytest.approx(normal_font)
    assert window.message_bar.label.font().pointSizeF() == pytest.approx(normal_font)
    assert window.explain_dock.isVisible() and window.toolbar.isVisible()
    assert not window.table._high_contrast and window.training_panel.loss_plot.line_width == 2


def test_presentation_has_a_keyboard_shortcut(window):
    assert window.act_presentation.shortcut().toString() == "F11"
    assert window.act_presentation in window.view_menu.actions()


def test_closing_in_presentation_mode_restores_the_font(qtbot, window):
    app = QApplication.instance()
    normal_font = app.font().pointSizeF()
    window.set_presentation(True)
    window.close()
    assert app.font().pointSizeF() == pytest.approx(normal_font)


def test_formula_html_without_a_model_explains_the_parts():
    assert "data term + regularization term" in formula_html(None, None)


def test_a_saved_session_reopens_with_data_model_settings_and_view(qtbot, window, tmp_path):
    window.start_lesson(0)  # course matrix, 2 factors
    panel = window.training_panel
    panel.set_params({"reg": 0.5})
    with qtbot.waitSignal(panel.sig_run_ended, timeout=60_000):
        panel.train()
    window.factor_dock.raise_()
    window.factor_space.colour_by.setCurrentIndex(window.factor_space.colour_by.findData("count"))
    window.swap_axes()
    window.set_presentation(True)
    path = tmp_path / "lecture.cfx"
    assert window.save_to(path)
    predictions = window.table.predictor.predict_matrix()

    window.set_presentation(False)
    window.open_preset("planted")
    assert window.open_file(path, confirm=False)
    assert window.presenting and not window.explain_dock.isVisible()
    assert window.factor_space.colour_by.currentData() == "count"
    assert window.factor_dock.isVisible() and window.factor_space._tab_in_front
    assert window.table.rows_are_items is False
    assert panel.reg.value() == 0.5
    np.testing.assert_allclose(window.table.predictor.predict_matrix(), predictions)
    window.set_presentation(False)


def test_leaving_presentation_mode_puts_the_tabs_in_front_and_a_large_grids_columns_back(qtbot, window):
    """Cost J, raised for the lecture, stayed in front of the explanation after F11 again; a large grid's
    columns kept their everyday width in 1.5 times the type (the headers cut at both ends)."""
    from cfexplorer.core.ratings import Ratings

    rng = np.random.default_rng(0)
    cells = rng.choice(200 * 100, 3000, replace=False)
    window.set_document(Ratings.from_arrays(cells // 100, cells % 100, rng.integers(1, 6, 3000).astype(float)), "big")
    grid = window.grid
    normal_width = grid.columnWidth(0)
    window.explain_dock.raise_()
    qtbot.wait(50)
    in_front = {dock.objectName() for dock in window.findChildren(QDockWidget)
                if dock.isVisible() and not dock.visibleRegion().isEmpty()}
    assert window.explain_dock.objectName() in in_front
    window.set_presentation(True)
    qtbot.waitUntil(lambda: grid.columnWidth(0) > normal_width)
    header = grid.horizontalHeader()
    label_width = header.fontMetrics().horizontalAdvance(str(grid.model().headerData(0, Qt.Orientation.Horizontal)))
    assert grid.columnWidth(0) >= label_width * 0.9  # the larger type's labels about fit
    window.set_presentation(False)
    qtbot.waitUntil(lambda: grid.columnWidth(0) == normal_width)
    qtbot.wait(50)
    assert {dock.objectName() for dock in window.findChildren(QDockWidget)
            if dock.isVisible() and not dock.visibleRegion().isEmpty()} == in_front


def test_escape_leaves_presentation_mode_and_an_editor_keeps_its_own(qtbot, window):
    """Only F11 left presentation mode; Escape, as in full-screen views, did nothing."""
    from PySide6.QtWidgets import QApplication

    window.set_presentation(True)
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.proxy.index(1, 1))
    qtbot.keyClicks(window.grid, "4")  # a cell editor opens: its Escape cancels the typing, nothing more
    editor = QApplication.focusWidget()
    assert editor is not window.grid
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert window.presenting
    qtbot.keyClick(window.grid, Qt.Key.Key_Escape)
    assert not window.presenting


def test_the_factor_tables_show_a_run_trained_in_presentation_mode_once_it_is_left(qtbot, window):
    """Presentation mode sets the factor tables aside; a run trained meanwhile was kept for them, and never shown:
    back in the everyday layout they read "Train a model" beside a trained grid."""
    window.set_factor_tables_beside_grid(True)
    window.set_presentation(True)
    assert not window.factor_tables.isVisible()
    assert window.train_and_wait()
    window.set_presentation(False)
    qtbot.waitUntil(lambda: window.factor_tables.movies.rowCount() == window.table.ratings.n_items, timeout=5000)
    model = window.training_panel.model
    shown = window.factor_tables.movies.data(window.factor_tables.movies.index(0, 0))
    assert shown == f"{model.item_factors_[0, 0]:+.3f}"


def test_presentation_mode_round_trips_leave_the_panes_and_the_window_as_they_were(qtbot, window, monkeypatch):
    """Each F11 and back made the loss curves and the Explain pane 26 px shorter (their sizes set again on top of
    the restored layout, as measured when presentation mode began), and moved the window down by its title bar."""
    monkeypatch.setattr(window, "_clamp_on_moves_until", 0.0)  # long shown: its moves are the user's own
    window.showNormal()
    qtbot.wait(50)

    def layout():
        return (window.curves_dock.height(), window.explain_dock.height(), window.training_dock.width(),
                window.geometry().getRect())

    before = layout()
    for _ in range(3):
        window.set_presentation(True)
        qtbot.wait(100)
        window.set_presentation(False)
        qtbot.waitUntil(lambda: layout() == before, timeout=5000)
        qtbot.wait(100)
        assert layout() == before  # and stays so


def test_presentation_gives_the_panes_below_what_a_small_grids_rows_leave_and_a_larger_grid_its_half(qtbot, window):
    """The course example's five rows used a third of the grid's half of a projector while the loss curves
    and the factor space below were 200 pixels tall."""
    from cfexplorer.core.ratings import Ratings

    grid = window.grid

    def unused_rows():  # the grid's empty room below its last row, in rows
        return (grid.viewport().height() - grid.verticalHeader().length()) / grid.rowHeight(0)

    everyday_curves = window.curves_dock.height()
    assert unused_rows() > 3  # the five rows in the everyday window: room to spare
    window.set_presentation(True)
    qtbot.waitUntil(lambda: unused_rows() <= 2, timeout=5000)
    qtbot.wait(100)
    assert 0 <= unused_rows() <= 2  # every row shown, and a row's air below them
    assert window.curves_dock.height() > everyday_curves
    plot_height = window.training_panel.loss_plot.cost_plot.vb.sceneBoundingRect().height()
    # a grid of 60 movies switched to on the projector: the grid takes its half back
    rng = np.random.default_rng(1)
    cells = rng.choice(60 * 8, 300, replace=False)
    window.set_document(Ratings.from_arrays(cells % 8, cells // 8, rng.integers(1, 6, 300).astype(float)), "tall")
    qtbot.waitUntil(lambda: grid.viewport().height() > window.height() // 3, timeout=5000)
    assert unused_rows() < 0  # it scrolls
    assert window.training_panel.loss_plot.cost_plot.vb.sceneBoundingRect().height() < plot_height


def test_a_tab_picked_during_presentation_mode_stays_in_front_after_it(qtbot, window):
    """Leaving presentation mode put the loss curves back in front of the factor space a teacher had switched to
    during the lecture."""

    def in_front():
        return {dock.objectName() for dock in window.findChildren(QDockWidget)
                if dock.isVisible() and not dock.visibleRegion().isEmpty()}

    window.curves_dock.raise_()
    window.explain_dock.raise_()
    qtbot.wait(50)
    assert {window.curves_dock.objectName(), window.explain_dock.objectName()} <= in_front()
    window.set_presentation(True)
    qtbot.wait(100)
    window.factor_dock.raise_()  # the teacher switches to the factor space
    qtbot.wait(50)
    window.set_presentation(False)
    qtbot.waitUntil(lambda: window.factor_dock.objectName() in in_front(), timeout=5000)
    qtbot.wait(100)
    shown = in_front()
    assert window.factor_dock.objectName() in shown and window.curves_dock.objectName() not in shown
    assert window.explain_dock.objectName() in shown  # Cost J, raised for the lecture, gives way as before


def test_a_large_grid_opened_in_presentation_mode_has_columns_for_its_type(qtbot, window):
    """Opened during presentation mode, a large grid's columns had the everyday type's 80 pixels (its headers cut
    at both ends); opened before it and F11 pressed, 120."""
    from cfexplorer.core.ratings import Ratings

    rng = np.random.default_rng(0)
    cells = rng.choice(200 * 100, 3000, replace=False)
    big = Ratings.from_arrays(cells // 100, cells % 100, rng.integers(1, 6, 3000).astype(float))
    grid = window.grid
    window.set_presentation(True)
    qtbot.wait(100)
    window.set_document(big, "big")
    qtbot.wait(100)
    opened_in = grid.columnWidth(0)
    window.set_presentation(False)
    qtbot.waitUntil(lambda: grid.columnWidth(0) < opened_in, timeout=5000)
    everyday = grid.columnWidth(0)
    window.set_presentation(True)
    qtbot.waitUntil(lambda: grid.columnWidth(0) > everyday, timeout=5000)
    assert grid.columnWidth(0) == opened_in
    window.set_presentation(False)


def test_a_narrowed_cost_pane_scrolls_sideways_to_its_formulas_cut_parts(qtbot, window):
    """Narrowed in presentation type, the Cost J pane cut its formula's unbreakable parts off at its right edge
    ("Σr(i,j)=1 (ŷ(i,j)", "0.934026"), with no way to see them."""
    window.resize(1280, 720)
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train()
    window.set_presentation(True)
    qtbot.wait(100)
    scroller = window.formula_dock.widget()
    panel = window.formula_panel
    try:
        window.resizeDocks([window.formula_dock], [120], Qt.Orientation.Horizontal)
        qtbot.waitUntil(lambda: scroller.viewport().width() < panel.minimumSizeHint().width(), timeout=5000)
        qtbot.wait(50)
        # what the viewport cannot show is reached by a scroll bar one sees, not cut off
        bar = scroller.horizontalScrollBar()
        assert bar.isVisible() and bar.maximum() >= panel.width() - scroller.viewport().width() > 0
    finally:
        window.set_presentation(False)


def test_a_reopened_session_colours_the_genre_chosen_and_shows_the_side_tab_looked_at(qtbot, window, tmp_path):
    """Reopened, a project coloured by "first genre" again though the class had looked at Animation alone, and
    showed the Neighbours tab, not the Biases tab it had open."""
    window.open_preset("planted")
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train()
    window.factor_dock.raise_()
    space = window.factor_space
    space.colour_by.setCurrentIndex(space.colour_by.findData("genre"))
    genre = space.genre_highlight.itemData(2)
    assert genre is not None
    space.genre_highlight.setCurrentIndex(2)
    biases = next(i for i in range(space.side_tabs.count()) if "Bias" in space.side_tabs.tabText(i))
    space.side_tabs.setCurrentIndex(biases)
    path = tmp_path / "genres.cfx"
    assert window.save_to(path)
    window.open_preset("course")
    assert space.genre_highlight.currentData() is None
    space.side_tabs.setCurrentIndex(0)
    assert window.open_file(path, confirm=False)
    assert space.colour_by.currentData() == "genre" and space.genre_highlight.currentData() == genre
    assert space.side_tabs.currentIndex() == biases
