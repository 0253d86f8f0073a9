"""Tables a keyboard can leave: Tab moves from cell to cell, as in a spreadsheet, and past the last cell (Shift+Tab
before the first) on to the next control; Ctrl+Tab and Ctrl+Shift+Tab leave at once. Qt's tables wrapped Tab
round their cells for good, so that by the keyboard alone nothing after the grid could be reached."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView, QWidget

from .qt_guard import guard_event, qt_virtual


class LeavableTableMixin:
    """For a QTableView subclass (before it in the bases)."""

    @qt_virtual(False)
    def focusNextPrevChild(self, next: bool) -> bool:
        if self.tabKeyNavigation() and not self._at_the_end(next):
            return QTableView.focusNextPrevChild(self, next)
        return QWidget.focusNextPrevChild(self, next)

    def _at_the_end(self, forward: bool) -> bool:
        """Whether Tab (``forward``) or Shift+Tab would wrap round: the current cell is the last (first) one."""
        model, current = self.model(), self.currentIndex()
        if model is None or not current.isValid():
            return True
        if forward:
            return current.row() == model.rowCount() - 1 and current.column() == model.columnCount() - 1
        return current.row() == 0 and current.column() == 0

    @guard_event
    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and \
                event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            QWidget.focusNextPrevChild(self, event.key() == Qt.Key.Key_Tab
                                       and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            event.accept()
            return
        super().keyPressEvent(event)


class LeavableTableView(LeavableTableMixin, QTableView):
    pass
