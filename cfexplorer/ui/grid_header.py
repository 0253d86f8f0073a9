"""The grid's headers: a size hint measured once per shape of the grid instead of at every edit."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QHeaderView

from .qt_guard import guard_event, qt_virtual


class SteadyHintHeader(QHeaderView):
    """A header whose size hint is measured once per shape of the grid, not at every edit.

    QHeaderView measures its size hint from the first and the last hundred sections, several roles of each:
    after an edit renamed one row's label (its count of ratings), that was 1,600 calls into Python and 12 ms of
    a 20 ms edit on MovieLens latest-small. Here a change of a few sections' labels only widens the kept hint
    to fit them (a label that got shorter leaves it as it was, a few pixels at most); a new model, layout,
    font or style measures it again."""

    _MEASURE_AGAIN_PAST = 100  # sections changed at once past which the hint is measured whole

    def __init__(self, orientation, parent=None):
        super().__init__(orientation, parent)
        self._hint = None

    @qt_virtual(None)  # the view hands its model to its headers from C++
    def setModel(self, model):
        if self.model() is not None:
            for signal in self._shape_signals(self.model()):
                signal.disconnect(self._forget_hint)
            self.model().headerDataChanged.disconnect(self._on_header_data_change)
        super().setModel(model)
        if model is not None:
            for signal in self._shape_signals(model):
                signal.connect(self._forget_hint)
            model.headerDataChanged.connect(self._on_header_data_change)
        self._hint = None

    @staticmethod
    def _shape_signals(model):
        return (model.modelReset, model.layoutChanged, model.rowsInserted, model.rowsRemoved,
                model.columnsInserted, model.columnsRemoved)

    def _forget_hint(self, *_):
        self._hint = None

    def _on_header_data_change(self, orientation, first, last):
        if orientation != self.orientation() or self._hint is None:
            return
        if last - first >= self._MEASURE_AGAIN_PAST:
            self._hint = None
            return
        for logical in range(first, last + 1):
            size = self.sectionSizeFromContents(logical)
            if self.orientation() == Qt.Orientation.Vertical:
                self._hint.setWidth(max(self._hint.width(), size.width()))
            else:
                self._hint.setHeight(max(self._hint.height(), size.height()))

    @qt_virtual(lambda self: QHeaderView.sizeHint(self))
    def sizeHint(self):
        if self._hint is None:
            self._hint = super().sizeHint()
        return QSize(self._hint)

    @guard_event
    def changeEvent(self, event):
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._hint = None
        super().changeEvent(event)
