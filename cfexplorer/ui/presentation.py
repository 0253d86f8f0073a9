"""View ▸ Presentation Mode (F11), for a projector at the back of a lecture hall: the window fills the screen,
type is larger everywhere (the plots' legends, axis titles and tick labels too), the grid has high contrast,
lines are thick and markers big, and secondary panes make room for the grid, the curves and the formula.
Leaving it puts back the window's size, the panes and the font as they were."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QDockWidget, QTabBar

FONT_SCALE, MARKER_SCALE, LINE_WIDTH, NORMAL_LINE_WIDTH = 1.5, 1.8, 4, 2
PUT_BACK_TRIES, PUT_BACK_RETRY_MS = 10, 20


class PresentationMode:
    """What presentation mode changes in a main window, and how to put it back."""

    def __init__(self, window):
        self.window = window
        self.on = False
        self.layout_before = None  # the dock layout to save with a session: the everyday one
        self._was_maximized = False
        self._normal_geometry = None
        self._font_before = None
        self._hidden: list = []
        self._docks_in_front: list = []  # each tab group's dock in front, before
        self._chosen_in_front: list = []  # the docks in front as presentation mode ends (a tab picked during it)

    def set(self, on: bool):
        if on == self.on:
            return
        self.on = on
        window, app = self.window, QApplication.instance()
        if on:
            self.layout_before = window.saveState()
            self._docks_in_front = [dock for dock in window.findChildren(QDockWidget)
                                    if dock.isVisible() and not dock.visibleRegion().isEmpty()]
            self._was_maximized = window.isMaximized()
            self._normal_geometry = window.geometry()  # the window's own rectangle, without its frame
            self._font_before = QFont(app.font())
            font = QFont(self._font_before)
            font.setPointSizeF(self._font_before.pointSizeF() * FONT_SCALE)
            app.setFont(font)
            # A dock draws its title in the platform's small title font while its own font is the application's:
            # given one that differs (by a rendering hint alone), it draws the title in that, at 1.5 times.
            title_font = QFont(font)
            title_font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
            for dock in window.findChildren(QDockWidget):
                dock.setFont(title_font)
            # the factor tables beside the grid too: at 1280 × 720 with a lesson open they and the grid shared
            # what the docks left, and the grid showed one user's column, the tables no number
            secondary = [window.explain_dock, window.toolbar, window.statusBar(), window.factor_tables]
            if window.lesson_panel.lesson is None:
                secondary.append(window.lesson_dock)
            self._hidden = [widget for widget in secondary if widget.isVisible()]
            for widget in self._hidden:
                widget.hide()
            window.formula_dock.raise_()
            window.showFullScreen()
            QTimer.singleShot(0, self._make_room_for_docks)  # once the larger font has laid the panel out
        else:
            # a tab picked during the lecture stays in front (the factor space's): Cost J, raised by presentation
            # mode itself, gives way to the tab it was raised over
            self._chosen_in_front = [dock for dock in window.findChildren(QDockWidget)
                                     if dock.isVisible() and not dock.visibleRegion().isEmpty()
                                     and dock is not window.formula_dock]
            if self._font_before is not None:
                app.setFont(self._font_before)
            for dock in window.findChildren(QDockWidget):
                dock.setFont(QFont())  # the application's again
            for widget in self._hidden:
                widget.show()
            self._hidden = []
            if self._was_maximized:
                window.showMaximized()
            else:
                window.showNormal()
            self._put_back_the_layout()
            # and again once the everyday type has laid the panes out: put back at once, under the larger type
            # still, the window came back 22 px shorter and the docks' tab bars were left where they had been
            QTimer.singleShot(0, window, lambda: self._put_back_the_layout(PUT_BACK_TRIES))  # (not past the window)
        self._style_views(on, app.font().pointSizeF())

    def _put_back_the_layout(self, tries: int = 0):
        window = self.window
        if self.on:
            return
        # The window's rectangle as it was (some platforms do not give it back after full screen), and the panes
        # where they were, their sizes with them: restoreState keeps those. (The docks' sizes set again on top of
        # it, as measured when presentation mode began, made them 26 px smaller at each round trip; and the
        # window's saved geometry, its frame's, put it down by its title bar.)
        if self._normal_geometry is not None and not self._was_maximized:
            window.setGeometry(self._normal_geometry)
            if window.geometry() != self._normal_geometry and tries > 0:
                # still held wider by the larger type's least sizes, which go a few passes of the loop later
                QTimer.singleShot(PUT_BACK_RETRY_MS, window, lambda: self._put_back_the_layout(tries - 1))
                return
        if self.layout_before is not None:
            window.restoreState(self.layout_before)
        for dock in self._docks_in_front + self._chosen_in_front:  # as they were, but for tabs picked meanwhile
            dock.raise_()

    def _make_room_for_docks(self):
        """Room for the settings' full names in the larger type, up to two fifths of the screen; and half
        its height for the curves and the formula below the grid (their legends and the formula's lines
        grow with the type; the grid scrolls)."""
        window = self.window
        if not self.on:
            return
        wanted = min(window.training_panel.sizeHint().width(), window.width() * 2 // 5)
        if window.lesson_dock.isVisible():  # the grid keeps at least two fifths of the width beside a lesson
            lesson = min(window.lesson_dock.width(), window.width() // 4)
            window.resizeDocks([window.lesson_dock], [lesson], Qt.Orientation.Horizontal)
            wanted = min(wanted, window.width() * 3 // 5 - lesson)
        if wanted != window.training_dock.width():
            window.resizeDocks([window.training_dock], [wanted], Qt.Orientation.Horizontal)
        if window.curves_dock.height() < window.height() // 2:
            window.resizeDocks([window.curves_dock], [window.height() // 2], Qt.Orientation.Vertical)

    def fit_the_grid(self):
        """The panes below the grid take what its rows leave unused, up to three quarters of the window's
        height, and give back what a larger grid needs, down to half: the course example's five rows used a
        third of the grid's half of a 1280 × 720 projector while the curves and the factor space were 200
        pixels tall. (Called once the larger type has sized the rows, and for each document shown.)"""
        window = self.window
        below = [dock for dock in (window.formula_dock, window.curves_dock, window.factor_dock)
                 if dock.isVisible() and not dock.isFloating()
                 and window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea]
        if not self.on or not below:
            return
        grid, central, dock = window.grid, window.centralWidget(), below[0]
        spare_row = grid.verticalHeader().defaultSectionSize()  # a little air: where the rows end is plain
        wanted = central.height() - grid.viewport().height() + grid.verticalHeader().length() + spare_row
        now = height_with_tabs(window, dock)
        bottom = min(max(now + central.height() - wanted, window.height() // 2), window.height() * 3 // 4)
        if abs(bottom - now) > 2:
            window.resizeDocks([dock], [bottom], Qt.Orientation.Vertical)

    def _style_views(self, on: bool, point_size: float):
        window = self.window
        window.table.set_high_contrast(on)
        curves = window.training_panel.loss_plot
        curves.set_line_width(LINE_WIDTH if on else NORMAL_LINE_WIDTH)
        curves.set_text_size(point_size)
        window.factor_space.set_marker_scale(MARKER_SCALE if on else 1.0)
        window.factor_space.set_text_size(point_size)
        window.message_bar.set_text_size(point_size)
        # after the font change has reached the grid (it arrives as an event)
        QTimer.singleShot(0, window.grid.resizeRowsToContents)
        QTimer.singleShot(0, window.grid.resizeColumnsToContents)
        if on:
            QTimer.singleShot(0, self.fit_the_grid)  # after the panes' room above and the rows' new heights


def height_with_tabs(window, dock: QDockWidget) -> int:
    """The height QMainWindow.resizeDocks gives ``dock``: with the tab bar of the docks that share its place."""
    height = dock.height()
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window and bar.isVisible() and any(
                bar.tabText(i) == dock.windowTitle() for i in range(bar.count())):
            height += bar.height()
    return height
