"""A status line that stays one line: elided with "…" where its pane is narrower than the text (the whole
text is its tooltip). A word-wrapped label in a short pane asks for more lines than there is room for, and
its layout then draws it over its neighbours."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy

from .qt_guard import guard_event, qt_virtual


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setText(text)

    @qt_virtual(None)
    def setText(self, text: str):  # noqa: N802 - Qt's name
        super().setText(text)
        self.setToolTip(text)

    def shown_text(self) -> str:
        """The text as drawn at the label's width."""
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    @guard_event
    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), self.shown_text())
        painter.end()


class SteadyLabel(QLabel):
    """A word-wrapped label that keeps room for ``lines`` lines however many its text takes up to that: a
    status that went from one line to two and back moved the buttons above it under the pointer. The room is
    a minimum height, set again when the font changes (presentation mode), so that layouts, which run at every
    change of the text, call no Python to size it."""

    def __init__(self, text: str = "", lines: int = 2, parent=None):
        super().__init__(text, parent)
        self.lines = lines
        self.setWordWrap(True)
        self._keep_room()

    def _keep_room(self):
        margins = self.contentsMargins()
        self.setMinimumHeight(self.lines * self.fontMetrics().lineSpacing() + margins.top() + margins.bottom())

    @guard_event
    def changeEvent(self, event):
        if event.type() == QEvent.Type.FontChange:
            self._keep_room()
        super().changeEvent(event)
