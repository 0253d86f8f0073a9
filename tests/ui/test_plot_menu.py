"""The plots' right-click menu: made at the first right-click (cfexplorer/ui/plot_menu.py), and then the same
as pyqtgraph's own."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu

from .test_models_ui import train


def plots_of(window):
    loss_plot = window.training_panel.loss_plot
    return {"cost": (loss_plot.layout_widget, loss_plot.cost_plot.vb),
            "factor space": (window.factor_space.plot, window.factor_space.plot.view_box)}


def right_click_the_middle_of(qtbot, widget, view_box):
    middle = view_box.mapRectToScene(view_box.boundingRect()).center()
    at = widget.mapFromScene(middle)
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=at)  # the window active, as under a hand
    qtbot.mousePress(widget.viewport(), Qt.MouseButton.RightButton, pos=at)
    qtbot.mouseRelease(widget.viewport(), Qt.MouseButton.RightButton, pos=at)


@pytest.mark.parametrize("plot", ["cost", "factor space"])
def test_a_plots_menu_is_made_at_the_first_right_click_and_zooms_out_to_view_all(qtbot, window, plot):
    window.open_preset("course")
    window.training_panel.epochs.setValue(20)
    train(qtbot, window.training_panel)
    (window.factor_dock if plot == "factor space" else window.curves_dock).raise_()
    widget, view_box = plots_of(window)[plot]
    qtbot.waitUntil(lambda: widget.isVisible() and view_box.width() > 50)
    assert view_box.menu is None and view_box.menuEnabled()  # enabled, not made with the window
    view_box.setRange(xRange=(100, 101), yRange=(100, 101), padding=0)  # zoomed where nothing is
    right_click_the_middle_of(qtbot, widget, view_box)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    try:
        assert menu is view_box.menu
        texts = [action.text() for action in menu.actions()]
        assert {"View All", "X axis", "Y axis", "Mouse Mode"} <= set(texts), texts
        view_all = next(action for action in menu.actions() if action.text() == "View All")
        view_all.trigger()
        (x_low, x_high), _ = view_box.viewRange()
        assert x_high < 100  # back to where the data are
    finally:
        menu.close()
    # the second right-click shows the same menu, not another one
    right_click_the_middle_of(qtbot, widget, view_box)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is view_box.menu)
    view_box.menu.close()


def test_a_plot_whose_menu_is_turned_off_shows_none(qtbot, window):
    widget, view_box = plots_of(window)["cost"]
    view_box.setMenuEnabled(False)
    right_click_the_middle_of(qtbot, widget, view_box)
    qtbot.wait(50)
    assert view_box.menu is None and view_box.getContextMenus(None) == []
    assert QApplication.activePopupWidget() is None
