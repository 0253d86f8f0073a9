"""View and edit the feature tables of the content-based model: one row per user, one per movie."""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QTableView, QTabWidget, QVBoxLayout,
)
from ..lazy import lazy_import
from .qt_guard import qt_virtual

pd = lazy_import("pandas")


class DataFrameModel(QAbstractTableModel):
    """A numeric DataFrame as an editable table; edits change a copy, read back with :meth:`frame`."""

    def __init__(self, frame: pd.DataFrame, parent=None):
        super().__init__(parent)
        self._index = [str(v) for v in frame.index]
        self._columns = [str(c) for c in frame.columns]
        self._values = frame.to_numpy(dtype=float, copy=True)
        self._index_name = frame.index.name

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self._values.copy(), columns=self._columns,
                            index=pd.Index(self._index, name=self._index_name))

    @qt_virtual(0)
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._values)

    @qt_virtual(0)
    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._columns)

    @qt_virtual(None)
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        value = self._values[index.row(), index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{value:.4g}"
        if role == Qt.ItemDataRole.EditRole:
            return f"{value:g}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @qt_virtual(False)
    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            return False
        if not math.isfinite(number):
            return False
        self._values[index.row(), index.column()] = number
        self.dataChanged.emit(index, index)
        return True

    @qt_virtual(Qt.ItemFlag.NoItemFlags)
    def flags(self, index):
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    @qt_virtual(None)
    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self._columns[section] if orientation == Qt.Orientation.Horizontal else self._index[section]

    def replace(self, frame: pd.DataFrame):
        self.beginResetModel()
        self._index = [str(v) for v in frame.index]
        self._columns = [str(c) for c in frame.columns]
        self._values = frame.to_numpy(dtype=float, copy=True)
        self.endResetModel()


class FeatureTablesDialog(QDialog):
    """Two tabs of features; OK hands the edited tables to the content-based model."""

    def __init__(self, users: pd.DataFrame, items: pd.DataFrame, ratings_source, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Feature tables of the content-based model")
        self.ratings_source = ratings_source
        self.user_model = DataFrameModel(users, self)
        self.item_model = DataFrameModel(items, self)
        self.tabs = QTabWidget()
        self.views = {}
        for name, model in (("Users", self.user_model), ("Movies", self.item_model)):
            view = QTableView()
            view.setModel(model)
            self.views[name] = view
            self.tabs.addTab(view, name)
        note = QLabel("Features are computed from the ratings (user: count, mean, mean per genre; movie: year, "
                      "mean, count, genres). Double-click a number to change it; the model standardizes each "
                      "column before the towers read it.")
        note.setWordWrap(True)
        self.recompute_button = QPushButton("Recompute from the ratings")
        self.recompute_button.clicked.connect(self.recompute)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        bottom = QHBoxLayout()
        bottom.addWidget(self.recompute_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        self.resize(720, 480)
        self._fit_columns()
        self.user_model.modelReset.connect(self._fit_columns)

    def _fit_columns(self):
        # Sized from the headers: measuring every cell of 9,724 movies would stall the window.
        for view in self.views.values():
            metrics = view.horizontalHeader().fontMetrics()
            model = view.model()
            for column in range(model.columnCount()):
                text = model.headerData(column, Qt.Orientation.Horizontal)
                view.setColumnWidth(column, max(70, metrics.horizontalAdvance(text) + 24))

    def recompute(self):
        from ..core.content import item_features, user_features

        ratings = self.ratings_source()
        self.user_model.replace(user_features(ratings))
        self.item_model.replace(item_features(ratings))

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return self.user_model.frame(), self.item_model.frame()

