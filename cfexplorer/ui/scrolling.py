"""A scroll area for a column of settings: it scrolls vertically and never sideways."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from .qt_guard import qt_virtual


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
