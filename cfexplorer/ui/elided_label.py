"""Status text that keeps its place. :class:`ElidedLabel` stays one line: elided with "…" where its pane is
narrower than the text (the whole text is its tooltip); a word-wrapped label in a short pane asks for more
lines than there is room for, and its layout then draws it over its neighbours. :class:`LiveText` wraps,
for text that changes many times a second."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

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


class LiveText(QWidget):
    """Word-wrapped text that changes many times a second (a run's epoch, J and errors), in room for ``lines``
    lines however many its text takes up to that, more where a text needs more at the widget's width: a status
    that went from one line to two and back moved the buttons above it under the pointer.

    Painted, not a QLabel: a label's setText asks its layout again every time, and a selectable label lays its
    text out as a document; the training pane's two labels cost the GUI thread 2-3 ms at each of a run's 30
    updates a second. Here a new text is a repaint, and a layout only when it needs another number of lines.
    Its context menu copies the text (selecting a number that changes 30 times a second was of little use)."""

    FLAGS = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)

    def __init__(self, text: str = "", lines: int = 2, parent=None):
        super().__init__(parent)
        self.lines = lines
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        copy = QAction("Copy", self)
        copy.triggered.connect(self.copy)
        self.addAction(copy)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self._fit_height()
        self.setText(text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str):  # noqa: N802 - QLabel's name, which its callers used
        text = str(text)
        if text == self._text:
            return
        self._text = text
        # what a screen reader reads of a label: its text is its name
        self.setAccessibleName(text)
        self._fit_height()
        self.update()

    def clear(self):
        self.setText("")

    def copy(self):
        QGuiApplication.clipboard().setText(self._text)

    def lines_needed(self) -> int:
        """Lines the text takes at the widget's width."""
        width = self.contentsRect().width()
        if not self._text or width <= 0:
            return 1 if self._text else 0
        metrics = self.fontMetrics()
        height = metrics.boundingRect(QRect(0, 0, width, 1 << 20), self.FLAGS, self._text).height()
        return math.ceil(height / max(metrics.lineSpacing(), 1))

    def _fit_height(self):
        margins = self.contentsMargins()
        lines = max(self.lines, self.lines_needed())
        height = lines * self.fontMetrics().lineSpacing() + margins.top() + margins.bottom()
        if height != self.minimumHeight() or height != self.maximumHeight():
            self.setFixedHeight(height)

    @qt_virtual(lambda self: QSize(0, 0))
    def sizeHint(self):  # noqa: N802 - Qt's name
        return QSize(30 * self.fontMetrics().averageCharWidth(), self.minimumHeight())

    @qt_virtual(lambda self: QSize(0, 0))
    def minimumSizeHint(self):  # noqa: N802 - Qt's name
        return QSize(4 * self.fontMetrics().averageCharWidth(), self.minimumHeight())

    @guard_event
    def paintEvent(self, event):
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), self.FLAGS, self.palette(), self.isEnabled(),
                                  self._text, self.foregroundRole())
        painter.end()

    @guard_event
    def resizeEvent(self, event):
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()

    @guard_event
    def changeEvent(self, event):
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()
        super().changeEvent(event)
