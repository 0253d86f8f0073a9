"""The rating grid's Qt model: a view of a core Ratings object, edited only through undoable edits.

Rows are movies and columns users (the course's layout) unless swapped. ``data()`` reads one
float from a dense float32 cache, so it costs the same for 20 cells or 6 million.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QUndoCommand, QUndoStack

from ..core.edits import ITEMS, USERS, Rename, SetCells
from ..core.ratings import Ratings
from ..core.validation import parse_rating
from .colors import RatingColors
from .qt_guard import qt_virtual

SORT_ROLE = Qt.ItemDataRole.UserRole + 1        # the number behind a cell, NaN when not rated
IS_PREDICTION_ROLE = Qt.ItemDataRole.UserRole + 2

MISSING_TEXT = "?"
DENSE_PREDICTION_CELLS = 1_000_000
_APPEARANCE_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole,
                     Qt.ItemDataRole.FontRole)  # above this, predictions are computed per visible cell
_MISSING_FOREGROUND = QColor(130, 130, 130)
_PREDICTION_FOREGROUND = QColor(70, 70, 150)


class EditCommand(QUndoCommand):
    """One undo step: a core edit applied to the model; undo applies the edit's inverse."""

    def __init__(self, model: "RatingTableModel", edit, text: str | None = None):
        super().__init__(text or edit.description)
        self._model = model
        self._edit = edit

    @qt_virtual(None)
    def redo(self):
        self._apply()

    @qt_virtual(None)
    def undo(self):
        self._apply()

    def _apply(self):
        try:
            self._edit = self._model.apply_edit(self._edit)
        except Exception:
            # The data is as it was (an edit builds its result before installing it); a step that cannot be
            # applied must leave the stack, or undo/redo would replay it against the wrong data.
            self.setObsolete(True)
            raise


class RatingTableModel(QAbstractTableModel):
    """Qt model over :class:`Ratings`. Edits go through :meth:`request_edit` onto the undo stack."""

    sig_ratings_changed = Signal()
    sig_input_rejected = Signal(str, object, object)  # message, suggested value or None, the edit to use it
    sig_layout_swapped = Signal(bool)

    def __init__(self, ratings: Ratings, undo_stack: QUndoStack | None = None, parent=None):
        super().__init__(parent)
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self.rows_are_items = True
        self.show_predictions = True
        self.show_residuals = False
        self._predictions: np.ndarray | None = None
        self._predictor = None
        self._install(ratings)

    # --- the data --------------------------------------------------------------------------------
    @property
    def ratings(self) -> Ratings:
        return self._ratings

    def _install(self, ratings: Ratings):
        self._ratings = ratings
        self._dense = ratings.to_dense(np.float32)
        self._recount()
        self._colors = RatingColors(ratings.scale.low, ratings.scale.high, getattr(self, "_high_contrast", False))
        self._user_names = [str(label) for label in ratings.user_labels]
        self._item_names = [str(title) for title in ratings.item_titles()]

    def _recount(self):
        ratings = self._ratings
        self._user_counts = ratings.user_counts()
        self._item_counts = ratings.item_counts()
        self._user_means = ratings.user_means()
        self._item_means = ratings.item_means()

    def set_ratings(self, ratings: Ratings, clear_undo: bool = True):
        """Show other data (a new file or preset). Predictions of the old data are dropped."""
        self.beginResetModel()
        self._predictions = None
        self._predictor = None
        self._install(ratings)
        self.endResetModel()
        if clear_undo:
            self.undo_stack.clear()
        self.sig_ratings_changed.emit()

    def set_high_contrast(self, on: bool):
        self._high_contrast = on
        self._colors = RatingColors(self._ratings.scale.low, self._ratings.scale.high, on)
        self._emit_all_changed()

    # --- predictions -------------------------------------------------------------------------------
    def set_predictor(self, predictor):
        """Show a trained model's predictions in the '?' cells (None hides them).

        A predictor for data of another shape (users or movies added since) is stale and not shown.
        Small grids get a dense matrix once; large ones are computed per visible cell.
        """
        self._predictor = None
        self._predictions = None
        if predictor is not None and predictor.shape == self._dense.shape:
            self._predictor = predictor
            if self._dense.size <= DENSE_PREDICTION_CELLS:
                self._predictions = predictor.predict_matrix().astype(np.float32)
        self._emit_all_changed()

    def set_predictions(self, predictions: np.ndarray | None):
        """A users x items matrix of predictions (or None), shown in the '?' cells."""
        self._predictor = None
        if predictions is not None and predictions.shape != self._dense.shape:
            predictions = None
        self._predictions = None if predictions is None else np.asarray(predictions, dtype=np.float32)
        self._emit_all_changed()

    def set_show_predictions(self, on: bool):
        self.show_predictions = on
        self._emit_all_changed()

    def set_show_residuals(self, on: bool):
        self.show_residuals = on
        self._emit_all_changed()

    @property
    def predictor(self):
        return self._predictor

    @property
    def has_predictions(self) -> bool:
        return self._predictions is not None or self._predictor is not None

    def predicted(self, user: int, item: int) -> float | None:
        if self._predictions is not None:
            return float(self._predictions[user, item])
        if self._predictor is not None:
            return self._predictor.predict_cell(user, item)
        return None

    def _emit_all_changed(self):
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    # --- orientation -------------------------------------------------------------------------------
    def set_rows_are_items(self, rows_are_items: bool):
        if rows_are_items == self.rows_are_items:
            return
        self.beginResetModel()
        self.rows_are_items = rows_are_items
        self.endResetModel()
        self.sig_layout_swapped.emit(rows_are_items)

    @property
    def row_axis(self) -> int:
        return ITEMS if self.rows_are_items else USERS

    @property
    def column_axis(self) -> int:
        return USERS if self.rows_are_items else ITEMS

    def cell(self, row: int, column: int) -> tuple[int, int]:
        """(user, item) shown at a grid position."""
        return (column, row) if self.rows_are_items else (row, column)

    def position(self, user: int, item: int) -> tuple[int, int]:
        """(row, column) where a (user, item) cell is shown."""
        return (item, user) if self.rows_are_items else (user, item)

    # --- Qt model interface ---------------------------------------------------------------------------
    @qt_virtual(0)
    def rowCount(self, parent=QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return self._dense.shape[1] if self.rows_are_items else self._dense.shape[0]

    @qt_virtual(0)
    def columnCount(self, parent=QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return self._dense.shape[0] if self.rows_are_items else self._dense.shape[1]

    @qt_virtual(Qt.ItemFlag.NoItemFlags)
    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def value(self, row: int, column: int) -> float:
        user, item = self.cell(row, column)
        return float(self._dense[user, item])

    def prediction(self, row: int, column: int) -> float | None:
        user, item = self.cell(row, column)
        return self.predicted(user, item)

    def appearance(self, row: int, column: int):
        """(text, background or None, text colour, italic) of a cell: everything painting needs,
        in one call (the grid's delegate paints from this; the roles of data() agree with it)."""
        user, item = self.cell(row, column)
        value = float(self._dense[user, item])
        if not math.isnan(value):
            text = f"{value:g}"
            if self.show_residuals and self.has_predictions:
                text += f" ({value - self.predicted(user, item):+.2f})"
            return text, self._colors.background(value), self._colors.text(value), False
        predicted = self.predicted(user, item) if self.show_predictions else None
        if predicted is not None:
            return (f"{predicted:.2f}", self._colors.prediction_background(predicted), _PREDICTION_FOREGROUND,
                    True)
        return MISSING_TEXT, None, _MISSING_FOREGROUND, False

    @qt_virtual(None)
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role in _APPEARANCE_ROLES:
            text, background, foreground, italic = self.appearance(row, column)
            if role == Qt.ItemDataRole.DisplayRole:
                return text
            if role == Qt.ItemDataRole.BackgroundRole:
                return background
            if role == Qt.ItemDataRole.ForegroundRole:
                return foreground
            if not italic:
                return None
            font = QFont()
            font.setItalic(True)
            return font
        user, item = self.cell(row, column)
        value = float(self._dense[user, item])
        known = not math.isnan(value)
        predicted = None
        if not known and self.show_predictions:
            predicted = self.predicted(user, item)
        if role == Qt.ItemDataRole.EditRole:
            return f"{value:g}" if known else ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.ToolTipRole:
            who, what = self._user_names[user], self._item_names[item]
            if known:
                fitted = self.predicted(user, item)
                if fitted is not None:
                    return f"{who} rated “{what}”: {value:g}; the model gives {fitted:.3f} (residual {value - fitted:+.3f})"
                return f"{who} rated “{what}”: {value:g}"
            if predicted is not None:
                return f"{who} has not rated “{what}”; predicted {predicted:.3f}"
            return f"{who} has not rated “{what}”"
        if role == SORT_ROLE:
            return value if known else (predicted if predicted is not None else float("nan"))
        if role == IS_PREDICTION_ROLE:
            return predicted is not None
        return None

    @qt_virtual(None)
    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        axis = self.row_axis if orientation == Qt.Orientation.Vertical else self.column_axis
        names = self._item_names if axis == ITEMS else self._user_names
        if section < 0 or section >= len(names):
            return None
        counts = self._item_counts if axis == ITEMS else self._user_counts
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{names[section]} ({counts[section]})"
        if role == Qt.ItemDataRole.ToolTipRole:
            means = self._item_means if axis == ITEMS else self._user_means
            mean = "no ratings" if math.isnan(means[section]) else f"mean {means[section]:.2f}"
            kind = "movie" if axis == ITEMS else "user"
            return f"{kind} “{names[section]}”: {counts[section]} ratings, {mean}"
        return None

    @qt_virtual(False)
    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        parsed = parse_rating(value, self._ratings.scale, self._ratings.binary)
        user, item = self.cell(index.row(), index.column())
        if not parsed.ok:
            suggestion_edit = None
            if parsed.suggestion is not None:
                suggestion_edit = SetCells((user,), (item,), (parsed.suggestion,), "Edit rating")
            self.sig_input_rejected.emit(parsed.error, parsed.suggestion, suggestion_edit)
            return False
        current = float(self._dense[user, item])
        if (math.isnan(current) and math.isnan(parsed.value)) or current == parsed.value:
            return True
        self.request_edit(SetCells((user,), (item,), (parsed.value,), "Edit rating"))
        return True

    # --- edits --------------------------------------------------------------------------------------
    def request_edit(self, edit, text: str | None = None):
        """Apply an edit as one undoable step."""
        self.undo_stack.push(EditCommand(self, edit, text))

    def apply_edit(self, edit):
        """Apply a core edit now (used by undo commands); returns its inverse."""
        new_ratings, inverse = edit.apply(self._ratings)
        if isinstance(edit, SetCells):
            self._ratings = new_ratings
            users = np.asarray(edit.users, dtype=np.int64)
            items = np.asarray(edit.items, dtype=np.int64)
            self._dense[users, items] = np.asarray(edit.values, dtype=np.float32)
            self._recount()
            rows, columns = zip(*(self.position(u, i) for u, i in zip(users, items))) if len(users) else ((), ())
            if rows:
                self.dataChanged.emit(self.index(min(rows), min(columns)), self.index(max(rows), max(columns)))
                self.headerDataChanged.emit(Qt.Orientation.Vertical, min(rows), max(rows))
                self.headerDataChanged.emit(Qt.Orientation.Horizontal, min(columns), max(columns))
        elif isinstance(edit, Rename):
            self._install_keeping_predictions(new_ratings)
            orientation = Qt.Orientation.Vertical if edit.axis == self.row_axis else Qt.Orientation.Horizontal
            self.headerDataChanged.emit(orientation, edit.position, edit.position)
        else:  # users or movies added or removed: the shape changes
            self.beginResetModel()
            self._predictions = None
            self._predictor = None
            self._install(new_ratings)
            self.endResetModel()
        self.sig_ratings_changed.emit()
        return inverse

    def _install_keeping_predictions(self, ratings: Ratings):
        predictions, predictor = self._predictions, self._predictor
        self._install(ratings)
        self._predictions, self._predictor = predictions, predictor

    # --- names -------------------------------------------------------------------------------------------
    def name(self, axis: int, position: int) -> str:
        return (self._item_names if axis == ITEMS else self._user_names)[position]

    def count(self, axis: int, position: int) -> int:
        return int((self._item_counts if axis == ITEMS else self._user_counts)[position])

    def mean(self, axis: int, position: int) -> float:
        return float((self._item_means if axis == ITEMS else self._user_means)[position])

