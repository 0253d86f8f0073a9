"""A column of settings that is never wider than it must be: a scroll area that scrolls vertically and never
sideways, and a grid of check boxes that goes down to one column where two do not fit."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from .qt_guard import guard_event, qt_virtual


class VerticalScrollArea(QScrollArea):
    """Holds ``content`` at the full width of the area and scrolls it up and down.

    Its minimum width is the content's (with room for the vertical scroll bar), so that the layout it sits
    in — a dock — never makes it narrower than its content: a plain QScrollArea may be squeezed to a few
    pixels, and then either scrolls sideways or cuts its content off."""

    MINIMUM_HEIGHT = 80

    def __init__(self, content: QWidget, parent=None):
        super().__init__(parent)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Tab goes to the controls in it (the window scrolls each into view), not to the area, which shows no
        # mark of having the focus
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    @qt_virtual(lambda self: QSize(0, 0))
    def minimumSizeHint(self) -> QSize:
        content = self.widget()
        width = content.minimumSizeHint().width() if content is not None else 0
        return QSize(width + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth(),
                     self.MINIMUM_HEIGHT)

    @qt_virtual(lambda self: QSize(0, 0))
    def sizeHint(self) -> QSize:
        content = self.widget()
        hint = content.sizeHint() if content is not None else QSize(0, 0)
        width = hint.width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(max(width, self.minimumSizeHint().width()), hint.height())


class WrappingColumns(QWidget):
    """``widgets`` in ``columns`` columns where the width allows, in fewer (down to one) where it does not.

    Its minimum width is its widest widget's, not a whole row's: two check boxes side by side would otherwise
    set the minimum width of the panel they sit in, and with it of the window (a narrow screenshot, a
    projector at large type). Its height follows its width (heightForWidth), so the layout above gives it
    the rows it needs. It places the widgets itself: a layout of its own would answer heightForWidth in its
    place (QWidgetItem asks the widget's layout first)."""

    SPACING = 6

    def __init__(self, widgets, columns: int = 2, parent=None):
        super().__init__(parent)
        self._widgets, self._columns = list(widgets), int(columns)
        for widget in self._widgets:
            widget.setParent(self)
        size_policy = self.sizePolicy()
        size_policy.setHeightForWidth(True)
        self.setSizePolicy(size_policy)

    def _shown(self) -> list:
        return [widget for widget in self._widgets if not widget.isHidden()]

    def _column_widths(self, columns: int) -> list[int]:
        shown = self._shown()
        return [max((w.sizeHint().width() for w in shown[c::columns]), default=0) for c in range(columns)]

    def _row_width(self, columns: int) -> int:
        return sum(self._column_widths(columns)) + self.SPACING * (columns - 1)

    def columns_for(self, width: int) -> int:
        return next((c for c in range(self._columns, 1, -1) if self._row_width(c) <= width), 1)

    def _rows(self, columns: int) -> list[list]:
        shown = self._shown()
        return [shown[r:r + columns] for r in range(0, len(shown), columns)]

    def _height(self, columns: int) -> int:
        rows = self._rows(columns)
        return (sum(max(w.sizeHint().height() for w in row) for row in rows)
                + self.SPACING * max(len(rows) - 1, 0))

    def _place(self, width: int):
        columns = self.columns_for(width)
        widths = self._column_widths(columns)
        spare = max(width - self._row_width(columns), 0) // columns  # the columns share what is left
        y = 0
        for row in self._rows(columns):
            x, height = 0, max(w.sizeHint().height() for w in row)
            for column, widget in enumerate(row):
                widget.setGeometry(x, y, widths[column] + spare, height)
                x += widths[column] + spare + self.SPACING
            y += height + self.SPACING

    @qt_virtual(lambda self: QSize(0, 0))
    def minimumSizeHint(self) -> QSize:
        return QSize(self._row_width(1), self._height(self._columns))

    @qt_virtual(lambda self: QSize(0, 0))
    def sizeHint(self) -> QSize:
        return QSize(self._row_width(self._columns), self._height(self._columns))

    @qt_virtual(lambda self: False)
    def hasHeightForWidth(self) -> bool:
        return True

    @qt_virtual(lambda self, width: -1)
    def heightForWidth(self, width: int) -> int:
        return self._height(self.columns_for(width))

    @guard_event
    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place(event.size().width())
