"""A plot's context menu built at its first right-click, not with the plot.

pyqtgraph builds each view box's menu (View All, the X and Y axis pages with their range, link and
auto-range controls) when the view box is made: 4 ms and some 200 signal connections each, three in the
window (the cost, validation and factor plots), about a tenth of building the main window, which every
launch, and every test of the window, pays for a menu few people open.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Signal

from .qt_guard import guard_event, qt_virtual


class MenuOnDemandViewBox(pg.ViewBox):
    """A ``pg.ViewBox`` whose menu is made by :meth:`getMenu` the first time it is asked for. The menu is
    enabled as pyqtgraph's is (``menuEnabled()``, ``setMenuEnabled``), only not made yet. ``sig_view_all``: its
    View All was chosen."""

    sig_view_all = Signal()

    def __init__(self, *args, enableMenu: bool = True, **kwargs):
        super().__init__(*args, enableMenu=False, **kwargs)
        self.state["enableMenu"] = enableMenu  # what pyqtgraph reads; the menu itself is made when asked for

    @guard_event  # called from a right-click's event handler: no menu rather than an exception inside Qt
    def getMenu(self, ev=None):
        if self.menu is None:
            self._applyMenuEnabled()  # pyqtgraph's own: makes the menu (and its list of plots to link to) if enabled
            if self.menu is not None:
                self.menu.viewAll.triggered.connect(self.sig_view_all)
        return self.menu

    @qt_virtual(lambda *args: [])
    def getContextMenus(self, event):
        menu = self.getMenu(event)
        return menu.actions() if menu is not None else []
