"""A frame in the highlight colour around a widget while it has the keyboard focus, for the widgets whose style
draws none: the Explain pane's text and the factor plot took the focus from Tab with no sign of it, so a
keyboard user lost track of where the next key would go."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QWidget

from .qt_guard import qt_virtual

MARK_WIDTH = 2


class FocusMark(QWidget):
    """Drawn over its parent, passing every mouse event through, shown only while the parent has the focus."""

    def __init__(self, marked: QWidget):
        super().__init__(marked)
        self.marked = marked
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hide()
        marked.installEventFilter(self)

    @qt_virtual(False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.marked:
            kind = event.type()
            if kind == QEvent.Type.FocusIn:
                self.setGeometry(self.marked.rect())
                self.raise_()
                self.show()
            elif kind == QEvent.Type.FocusOut:
                self.hide()
            elif kind == QEvent.Type.Resize:
                self.setGeometry(self.marked.rect())
        return False

    @qt_virtual()
    def paintEvent(self, event):
        painter = QPainter(self)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), MARK_WIDTH)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        inset = MARK_WIDTH / 2
        painter.drawRect(self.rect().toRectF().adjusted(inset, inset, -inset, -inset))
        painter.end()


def mark_focus(widget: QWidget) -> FocusMark:
    """Frame ``widget`` in the highlight colour while it has the keyboard focus."""
    return FocusMark(widget)
