"""The rating grid's Qt model: a view of a core Ratings object, edited only through undoable edits.

Rows are movies and columns users (the course's layout) unless swapped. A cell is looked up in the
ratings' sorted-key index (core.cell_index, O(log n)); nothing allocates users × movies, so a file of
100,000 users × 100,000 movies opens like a small one. Predictions are a dense matrix only for small
grids and otherwise computed per painted cell. Nothing shown is NaN or inf: such numbers show as "?".
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QUndoCommand, QUndoStack

from ..core.cell_index import CellIndex, cell_index, index_after, remember_index
from ..core.edits import ITEMS, USERS, EditSequence, InsertEntries, RemoveEntries, Rename, SetCells
from ..core.ratings import Ratings
from ..core.summary import counted
from ..core.validation import parse_rating
from .colors import RatingColors
from .qt_guard import qt_virtual, report_current_exception

SORT_ROLE = Qt.ItemDataRole.UserRole + 1        # the number behind a cell, NaN when not rated
IS_PREDICTION_ROLE = Qt.ItemDataRole.UserRole + 2

MISSING_TEXT = "?"
DENSE_PREDICTION_CELLS = 1_000_000  # above this, predictions are computed per visible cell
WAIT_CURSOR_CELLS = 1_000_000  # an edit of this many cells shows the wait cursor while it runs
# and any edit of ratings this many: each makes arrays of them (at 25M, a typed rating took 1.7-2.4 s)
WAIT_CURSOR_RATINGS = 5_000_000
DENSE_SPREAD_CELLS = 20_000  # the same for the spreads shading paints: a pass per kept sample, redone
# for every predictor a run sends (up to 30 a second), so kept to grids where that is a few milliseconds
_APPEARANCE_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole,
                     Qt.ItemDataRole.FontRole)
_MISSING_FOREGROUND = QColor(130, 130, 130)
_PREDICTION_FOREGROUND = QColor(70, 70, 150)
_FIXED_BELOW = 1e6  # larger numbers in exponent form: "1e+308" fits a cell, 309 digits do not


def grid_summary(ratings: Ratings) -> tuple:
    """(user counts, item counts, user means, item means), as the grid's headers and colours read them: computed
    once per Ratings and shared (read-only) with the factor space."""
    summaries = ratings.summaries()
    return summaries.user_counts, summaries.item_counts, summaries.user_means, summaries.item_means


def prepare_for_grid(ratings: Ratings, progress=None) -> Ratings:
    """Do in advance, in any thread, what showing ``ratings`` in the grid costs in O(n log n): the sorted cell
    index and the counts and means. Opening 25 million ratings, that is half a minute of sorting and
    counting that the GUI thread would otherwise spend frozen after the progress dialog has closed. The
    users' names and the movies' titles as text too, which the grid, the factor space and its tables show (50 ms
    at 162,541 users)."""
    cell_index(ratings)
    if progress is not None:  # ``progress``: told the share done (the index about half of it, at 25M's shape)
        progress(0.5)
    grid_summary(ratings)
    ratings.user_names()
    ratings.item_titles()
    if progress is not None:
        progress(1.0)
    return ratings


def format_number(value: float, decimals: int, signed: bool = False) -> str:
    """A number as the grid shows it: fixed decimals, exponent form when huge, "?" when NaN or inf."""
    if not math.isfinite(value):
        return MISSING_TEXT
    sign = "+" if signed else ""
    if abs(value) < _FIXED_BELOW:
        return f"{value:{sign}.{decimals}f}"
    return f"{value:{sign}.3g}"


class EditCommand(QUndoCommand):
    """One undo step: a core edit applied to the model; undo applies the edit's inverse."""

    def __init__(self, model: "RatingTableModel", edit, text: str | None = None):
        super().__init__(text or edit.description)
        self._model = model
        self._edit = edit
        self._other_rows_token = None  # see _apply

    @property
    def changes_ratings(self) -> bool:
        """Whether this step changes the ratings (a model trained before it describes others), not names alone."""
        return _changes_ratings(self._edit)

    @qt_virtual(None)
    def redo(self):
        self._apply()

    @qt_virtual(None)
    def undo(self):
        self._apply()

    def _apply(self):
        # A step that adds or removes users or movies gives the grid's rows a token of their own, and its undo
        # gives the one before back (swapped at each apply): a model trained on rows with a token fits the grid
        # while the grid's token is that one, whatever other steps came and went (MainWindow._rows_as_trained).
        rows_token = None
        if _adds_or_removes(self._edit):
            rows_token = self._other_rows_token if self._other_rows_token is not None else object()
            self._other_rows_token = self._model.rows_token
        try:
            self._edit = self._model.apply_edit(self._edit, rows_token)
        except Exception:
            # The data is as it was (an edit builds its result before installing it); a step that cannot be
            # applied must leave the stack, or undo/redo would replay it against the wrong data.
            self.setObsolete(True)
            raise


def _changes_ratings(edit) -> bool:
    """Whether an edit (or its inverse) changes the ratings: a rename changes a name alone."""
    if isinstance(edit, EditSequence):
        return any(_changes_ratings(part) for part in edit.edits)
    return not isinstance(edit, Rename)


def _adds_or_removes(edit) -> bool:
    """Whether an edit (or its inverse) adds or removes users or movies."""
    if isinstance(edit, EditSequence):
        return any(_adds_or_removes(part) for part in edit.edits)
    return isinstance(edit, (InsertEntries, RemoveEntries))


class RatingTableModel(QAbstractTableModel):
    """Qt model over :class:`Ratings`. Edits go through :meth:`request_edit` onto the undo stack."""

    sig_ratings_changed = Signal()
    sig_input_rejected = Signal(str, object, object)  # message, suggested value or None, the edit to use it
    sig_layout_swapped = Signal(bool)

    def __init__(self, ratings: Ratings, undo_stack: QUndoStack | None = None, parent=None):
        super().__init__(parent)
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self.rows_token = object()  # which users and movies the rows are (see EditCommand._apply)
        self.rows_are_items = True
        self.show_predictions = True
        self.show_residuals = False
        self.shade_uncertainty = False
        self._forget_predictions()
        self._install(ratings)

    # --- the data --------------------------------------------------------------------------------
    @property
    def ratings(self) -> Ratings:
        return self._ratings

    def _install(self, ratings: Ratings, cells: CellIndex | None = None):
        self._ratings = ratings
        self._shape = (ratings.n_users, ratings.n_items)
        self._cells = cell_index(ratings) if cells is None else remember_index(ratings, cells)
        self._recount()
        self._colors = RatingColors(ratings.scale.low, ratings.scale.high, getattr(self, "_high_contrast", False))
        # Made once per Ratings (prepare_for_grid makes them with a file's read, off the GUI thread): making them
        # here again was 20 ms of the GUI thread for MovieLens 25M's 162,541 users.
        self._user_names = ratings.user_names().tolist()
        self._item_names = ratings.item_titles().tolist()
        self._folded_names: dict[int, list[str]] = {}

    def _recount(self):
        self._user_counts, self._item_counts, self._user_means, self._item_means = grid_summary(self._ratings)

    def set_ratings(self, ratings: Ratings, clear_undo: bool = True, rows_token=None):
        """Show other data (a new file or preset). Predictions of the old data are dropped. The rows get a token
        of their own, or ``rows_token`` (a document put back as it was)."""
        self.rows_token = rows_token if rows_token is not None else object()
        self.beginResetModel()
        self._forget_predictions()
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
        Small grids get a dense matrix once; large ones are computed per visible cell. A predictor that
        fails is reported once and its cells show '?'.
        """
        self._forget_predictions()
        try:
            if predictor is not None and tuple(predictor.shape) == self._shape:
                self._predictor = predictor
                if self._shape[0] * self._shape[1] <= DENSE_PREDICTION_CELLS:
                    matrix = np.asarray(predictor.predict_matrix(), dtype=np.float64)
                    self._predictions = matrix if matrix.shape == self._shape else None
        except Exception:
            self._predictor_failed = True
            report_current_exception("RatingTableModel.set_predictor")
        self._emit_all_changed()

    def set_predictions(self, predictions: np.ndarray | None):
        """A users x items matrix of predictions (or None), shown in the '?' cells."""
        self._forget_predictions()
        if predictions is not None and np.shape(predictions) == self._shape:
            self._predictions = np.asarray(predictions, dtype=np.float64)
        self._emit_all_changed()

    def _forget_predictions(self):
        self._predictor = None
        self._predictions = None
        self._spreads = None  # the dense spreads of a small grid, made when shading first asks
        self._predictor_failed = False

    def set_show_predictions(self, on: bool):
        self.show_predictions = on
        self._emit_all_changed()

    def set_show_residuals(self, on: bool):
        self.show_residuals = on
        self._emit_all_changed()

    def set_shade_uncertainty(self, on: bool):
        """Predicted cells turn grey the less sure the model is of them (models that measure it)."""
        self.shade_uncertainty = on
        self._emit_all_changed()

    @property
    def predictor(self):
        return self._predictor

    @property
    def has_predictions(self) -> bool:
        return self._predictions is not None or (self._predictor is not None and not self._predictor_failed)

    def predicted(self, user: int, item: int) -> float | None:
        """The model's prediction for a cell; None without one, when it is NaN or inf, or when the
        predictor failed (reported once, then not asked again: a grid repaints hundreds of cells)."""
        if self._predictions is not None:
            value = float(self._predictions[user, item])
        elif self._predictor is not None and not self._predictor_failed:
            try:
                value = float(self._predictor.predict_cell(user, item))
            except Exception:
                self._predictor_failed = True
                report_current_exception("RatingTableModel.predicted")
                return None
        else:
            return None
        return value if math.isfinite(value) else None

    def uncertainty(self, user: int, item: int) -> float | None:
        """How unsure the model is of its prediction for a cell (the posterior standard deviation a Bayesian
        model measures over its samples); None for models without one, or before they have one."""
        spread = getattr(self._predictor, "spread_cell", None)
        if spread is None or self._predictor_failed:
            return None
        try:
            value = float(spread(user, item))
        except Exception:
            self._predictor_failed = True
            report_current_exception("RatingTableModel.uncertainty")
            return None
        return value if math.isfinite(value) else None

    def _shading_spread(self, user: int, item: int) -> float | None:
        """The spread shading paints with: from one dense matrix on a small grid (a repaint asks for every
        visible cell), else per cell."""
        if self._spreads is None and self._predictor is not None and not self._predictor_failed and \
                hasattr(self._predictor, "spread_matrix") and self._shape[0] * self._shape[1] <= DENSE_SPREAD_CELLS:
            try:
                self._spreads = np.asarray(self._predictor.spread_matrix(), dtype=np.float64)
            except Exception:
                self._predictor_failed = True
                report_current_exception("RatingTableModel.spread_matrix")
                return None
        if self._spreads is not None and self._spreads.shape == self._shape:
            value = float(self._spreads[user, item])
            return value if math.isfinite(value) else None
        return self.uncertainty(user, item)

    def _plus_minus(self, user: int, item: int) -> str:
        spread = self.uncertainty(user, item)
        return "" if spread is None else f" ± {format_number(spread, 2)}"

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
        return self._shape[1] if self.rows_are_items else self._shape[0]

    @qt_virtual(0)
    def columnCount(self, parent=QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return self._shape[0] if self.rows_are_items else self._shape[1]

    @qt_virtual(Qt.ItemFlag.NoItemFlags)
    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def value(self, row: int, column: int) -> float:
        """The rating shown at a grid position, NaN when not rated."""
        user, item = self.cell(row, column)
        return self._cells.value(user, item)

    def values_at(self, users, items) -> np.ndarray:
        """Ratings of many (user, item) cells at once, NaN where not rated."""
        return self._cells.values_at(users, items)

    @property
    def cells(self) -> CellIndex:
        """The sorted-key index of the rated cells."""
        return self._cells

    def prediction(self, row: int, column: int) -> float | None:
        user, item = self.cell(row, column)
        return self.predicted(user, item)

    def appearance(self, row: int, column: int):
        """(text, background or None, text colour, italic) of a cell: everything painting needs,
        in one call (the grid's delegate paints from this; the roles of data() agree with it)."""
        user, item = self.cell(row, column)
        value = self._cells.value(user, item)
        if not math.isnan(value):  # ratings are finite (Ratings refuses others)
            text = f"{value:g}"
            if self.show_residuals:
                fitted = self.predicted(user, item)
                if fitted is not None:
                    text += f" ({format_number(value - fitted, 2, signed=True)})"
            return text, self._colors.background(value), self._colors.text(value), False
        predicted = self.predicted(user, item) if self.show_predictions else None
        if predicted is not None:
            background = self._colors.prediction_background(predicted)
            spread = self._shading_spread(user, item) if self.shade_uncertainty else None
            if spread is not None:
                background = self._colors.uncertain(background, spread)
            return format_number(predicted, 2), background, _PREDICTION_FOREGROUND, True
        return MISSING_TEXT, None, _MISSING_FOREGROUND, False

    @qt_virtual(None)
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        return self.data_at(index.row(), index.column(), role)

    def data_at(self, row: int, column: int, role=Qt.ItemDataRole.DisplayRole):
        """``data()`` of the cell at (row, column), without making a QModelIndex (the proxy's path)."""
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
        value = self._cells.value(user, item)
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
                    return (f"{who} rated “{what}”: {value:g}; the model gives {format_number(fitted, 3)}"
                            f"{self._plus_minus(user, item)} "
                            f"(residual {format_number(value - fitted, 3, signed=True)})")
                return f"{who} rated “{what}”: {value:g}"
            if predicted is not None:
                return (f"{who} has not rated “{what}”; predicted {format_number(predicted, 3)}"
                        f"{self._plus_minus(user, item)}")
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
            mean = f"mean {format_number(means[section], 2)}" if counts[section] else "no ratings"
            kind = "movie" if axis == ITEMS else "user"
            return f"{kind} “{names[section]}”: {counted(int(counts[section]), 'rating')}, {mean}"
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
        current = self._cells.value(user, item)
        if (math.isnan(current) and math.isnan(parsed.value)) or current == parsed.value:
            return True
        self.request_edit(SetCells((user,), (item,), (parsed.value,), "Edit rating"))
        return True

    # --- edits --------------------------------------------------------------------------------------
    def request_edit(self, edit, text: str | None = None):
        """Apply an edit as one undoable step."""
        self.undo_stack.push(EditCommand(self, edit, text))

    def apply_edit(self, edit, rows_token=None):
        """Apply a core edit now (used by undo commands); returns its inverse. An edit of millions of cells
        (Ctrl+A, Delete on ten million ratings: 5 s, and its undo 1.5 s), or of millions of ratings, shows the
        wait cursor meanwhile. ``rows_token``: the rows' token after an edit that adds or removes some (set
        before anyone hears of the change)."""
        many = ((isinstance(edit, SetCells) and len(edit.users) >= WAIT_CURSOR_CELLS)
                or self._ratings.n_ratings >= WAIT_CURSOR_RATINGS)
        if many:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return self._apply_edit(edit, rows_token)
        finally:
            if many:
                QGuiApplication.restoreOverrideCursor()

    def _apply_edit(self, edit, rows_token=None):
        new_ratings, inverse = edit.apply(self._ratings)
        # the next index from this one, O(n) with no sort: cheap on MovieLens-sized data
        derived = index_after(edit, self._cells)
        if isinstance(edit, SetCells):
            users = np.asarray(edit.users, dtype=np.int64)
            items = np.asarray(edit.items, dtype=np.int64)
            self._cells = remember_index(new_ratings, derived)
            self._ratings = new_ratings
            self._recount()
            if len(users):
                rows, columns = (items, users) if self.rows_are_items else (users, items)
                top, bottom, left, right = int(rows.min()), int(rows.max()), int(columns.min()), int(columns.max())
                self.dataChanged.emit(self.index(top, left), self.index(bottom, right))
                self.headerDataChanged.emit(Qt.Orientation.Vertical, top, bottom)
                self.headerDataChanged.emit(Qt.Orientation.Horizontal, left, right)
        elif isinstance(edit, Rename):
            self._install_keeping_predictions(new_ratings)
            orientation = Qt.Orientation.Vertical if edit.axis == self.row_axis else Qt.Orientation.Horizontal
            self.headerDataChanged.emit(orientation, edit.position, edit.position)
        else:  # users or movies added or removed: the shape changes
            self.beginResetModel()
            self._forget_predictions()
            self._install(new_ratings, derived)
            self.endResetModel()
        if rows_token is not None:
            self.rows_token = rows_token
        self.sig_ratings_changed.emit()
        return inverse

    def _install_keeping_predictions(self, ratings: Ratings):
        """After a rename: the same cells (their index is kept) under other names."""
        self._install(ratings, cells=self._cells)

    # --- names -------------------------------------------------------------------------------------------
    def name(self, axis: int, position: int) -> str:
        return (self._item_names if axis == ITEMS else self._user_names)[position]

    def count(self, axis: int, position: int) -> int:
        return int((self._item_counts if axis == ITEMS else self._user_counts)[position])

    def mean(self, axis: int, position: int) -> float:
        return float((self._item_means if axis == ITEMS else self._user_means)[position])

    # --- whole axes at once (sorting and filtering) ---------------------------------------------------
    def names(self, axis: int) -> list[str]:
        return self._item_names if axis == ITEMS else self._user_names

    def folded_names(self, axis: int) -> list[str]:
        """Names in case-folded form (for filtering and sorting by name), made once per ratings and axis."""
        folded = self._folded_names.get(axis)
        if folded is None:
            folded = self._folded_names[axis] = [name.casefold() for name in self.names(axis)]
        return folded

    def counts(self, axis: int) -> np.ndarray:
        return self._item_counts if axis == ITEMS else self._user_counts

    def means(self, axis: int) -> np.ndarray:
        return self._item_means if axis == ITEMS else self._user_means

    def labels(self, axis: int) -> np.ndarray:
        """The ids of the users or movies (unique, unlike titles)."""
        return self._ratings.item_labels if axis == ITEMS else self._ratings.user_labels

    def column_sort_values(self, column: int) -> np.ndarray:
        """For every row, what sorting by ``column`` compares (as SORT_ROLE): the rating, else the shown
        prediction, else NaN. O(rows log n); predictions per cell only for the unrated rows."""
        rows = np.arange(self.rowCount(), dtype=np.int64)
        fixed = np.full(len(rows), column, dtype=np.int64)
        users, items = (fixed, rows) if self.rows_are_items else (rows, fixed)
        values = self._cells.values_at(users, items)
        if not (self.show_predictions and self.has_predictions):
            return values
        unrated = np.flatnonzero(np.isnan(values))
        if self._predictions is not None:
            guessed = self._predictions[users[unrated], items[unrated]]
            values[unrated] = np.where(np.isfinite(guessed), guessed, np.nan)
            return values
        for row in unrated.tolist():
            predicted = self.predicted(int(users[row]), int(items[row]))
            if predicted is not None:
                values[row] = predicted
        return values

