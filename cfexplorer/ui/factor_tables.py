"""The factor tables beside the grid, as in Jeremy Howard's spreadsheet: the movies' factors X (movies × k) and
the users' W (users × k), with their biases, coloured like the grid, in a pane of the grid's splitter (View ▸
Factor Tables Beside the Grid).

Linked to the grid (:meth:`FactorTables.link_to_grid`): scrolling the grid brings the first movie and the first
user it shows to the top of X and of W, whatever the grid's sorting, filtering or orientation, and the current
cell's movie and user are bold in X and W (the two vectors its prediction is made of).

They follow training live (read from the predictor the grid shows). When no run is going, a number can be typed
over: the edit goes onto the window's undo stack as a :class:`~cfexplorer.core.factor_edits.SetParameter` of the
trained model, and the grid's predictions, the explanation and the cost J are recomputed at once. While a run
is going or paused its worker owns the parameters: the tables are read-only and an attempted edit says why,
rather than racing the worker. An undo step whose model is gone (Reset, another run, another document) leaves
the stack instead of writing into a model nobody shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette, QUndoCommand
from PySide6.QtWidgets import QAbstractItemView, QLabel, QSplitter, QTableView, QVBoxLayout, QWidget

from ..core.edits import ITEMS
from ..core.factor_edits import BIASES, SetParameter, editable_parameters
from ..core.mf import EpochRecord
from .colors import RatingColors
from .elided_label import LiveText
from .grid_header import SteadyHintHeader
from .qt_guard import guard_event, qt_virtual
from .table_focus import LeavableTableView

BIAS_HEADER = "bias"
_COLOUR_SPAN_FLOOR = 1e-9  # all-zero factors (an untrained user) get the neutral colour, not a division by 0
_LABEL_WIDTH = 140  # the names' column: long titles are cut, the factors stay in view in a narrow pane
SELECTION_GRAY = "#4d4d4d"  # selected cells: neither end of the factors' blue-orange scale
_ROW_PADDING = 8  # pixels above and below the text of a row, in any type size (presentation mode)
_DISPLAY_ROLE, _EDIT_ROLE = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole
_BACKGROUND_ROLE, _FOREGROUND_ROLE = Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole
_ALIGNMENT_ROLE, _FONT_ROLE = Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.FontRole
_VALUE_ROLES = frozenset((_DISPLAY_ROLE, _EDIT_ROLE, _BACKGROUND_ROLE, _FOREGROUND_ROLE))
_COLOUR_ROLES = frozenset((_BACKGROUND_ROLE, _FOREGROUND_ROLE))
_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _bold_font() -> QFont:
    font = QFont()  # the application's font as it is now (presentation mode enlarges it)
    font.setBold(True)
    return font


def _read_only(array) -> np.ndarray:
    """``array`` as floats, read-only: a view when it is floats already, else a converted copy."""
    view = np.asarray(array, dtype=float).view()
    view.flags.writeable = False
    return view


def _largest_finite_magnitude(values: np.ndarray) -> float:
    """The largest |value| among the finite ``values`` (1.0 when there is none), without a temporary as large as
    ``values`` unless one of them is infinite (NaN is skipped by fmin/fmax)."""
    if not values.size:
        return 1.0
    largest = max(-float(np.fmin.reduce(values, axis=None)), float(np.fmax.reduce(values, axis=None)))
    if math.isfinite(largest):
        return largest
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 1.0


class FactorTableModel(QAbstractTableModel):
    """One table: a row per movie (or user), a column per factor, and a bias column when the model has one."""

    sig_edit_requested = Signal(str, int, object, float)  # parameter name, row, column (None: bias), value

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name  # "item_factors" or "user_factors"
        self.factors = np.empty((0, 0))
        self.biases: np.ndarray | None = None
        self.labels: Sequence = []  # each row's name, turned into text when shown
        self.editable = False
        self.highlighted_row = -1  # the grid's current cell's movie (or user): shown in bold
        self._colors = RatingColors(-1.0, 1.0)

    def set_highlighted_row(self, row: int):
        previous, self.highlighted_row = self.highlighted_row, row
        for changed in {previous, row}:
            if 0 <= changed < self.rowCount() and self.columnCount():
                self.dataChanged.emit(self.index(changed, 0), self.index(changed, self.columnCount() - 1),
                                      [Qt.ItemDataRole.FontRole])
                self.headerDataChanged.emit(Qt.Orientation.Vertical, changed, changed)

    def show_arrays(self, factors, biases, labels=None):
        """Show these arrays: a predictor's, frozen (never changed in place), so read-only views are kept, not
        copies (copying MovieLens 25M's 221,588 rows of factors at each update took 25-35 ms of the GUI thread);
        ``labels`` None keeps the names shown (a run's updates: naming 9,700 movies again each time cost more
        than the numbers)."""
        factors = np.empty((0, 0)) if factors is None else _read_only(factors)
        if labels is None:
            labels = self.labels
        same_shape = (factors.shape == self.factors.shape and (biases is None) == (self.biases is None)
                      and len(labels) == len(self.labels))
        if not same_shape:
            self.beginResetModel()
            self.highlighted_row = -1
        self.factors = factors
        self.biases = None if biases is None else _read_only(biases)
        # Kept as given, not as a list of str: naming MovieLens 25M's 221,588 rows took 25 ms of a run's first
        # update, and a table shows a screenful of them.
        self.labels = labels
        span = _largest_finite_magnitude(factors)
        self._colors = RatingColors(-max(span, _COLOUR_SPAN_FLOOR), max(span, _COLOUR_SPAN_FLOOR))
        if not same_shape:
            self.endResetModel()
        elif self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def clear(self):
        self.show_arrays(None, None, [])

    def set_labels(self, labels):
        """New names for the same rows (a rename in the grid)."""
        if len(labels) == self.rowCount():
            self.labels = labels
            if self.rowCount():
                self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, self.rowCount() - 1)

    @property
    def k(self) -> int:
        return self.factors.shape[1] if self.factors.ndim == 2 else 0

    def value(self, row: int, column: int) -> float:
        if column < self.k:
            return float(self.factors[row, column])
        return float(self.biases[row])

    @qt_virtual(0)
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.factors)

    @qt_virtual(0)
    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self.k + (self.biases is not None)

    @qt_virtual(None)
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        # The role first, the number only for the roles that show it: a repaint asks each cell for seven
        # roles, and the tables are repainted at every update of a run (12 ms for a screenful when every
        # role read the number).
        if role not in _VALUE_ROLES:
            if role == _ALIGNMENT_ROLE:
                return _RIGHT_ALIGNED
            if role == _FONT_ROLE and index.row() == self.highlighted_row:
                return _bold_font()
            return None
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        k = self.k
        if column >= k and role in _COLOUR_ROLES:  # the biases are not coloured
            return None
        value = float(self.factors[row, column]) if column < k else float(self.biases[row])
        if role == _DISPLAY_ROLE:
            return f"{value:+.3f}" if math.isfinite(value) else "?"
        if role == _BACKGROUND_ROLE:
            return self._colors.background(value)
        if role == _FOREGROUND_ROLE:
            return self._colors.text(value)
        return f"{value:.6g}"  # the edit role

    @qt_virtual(None)
    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.FontRole and orientation == Qt.Orientation.Vertical:
            return _bold_font() if section == self.highlighted_row else None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(self.labels[section]) if 0 <= section < len(self.labels) else None
        return f"f{section + 1}" if section < self.k else BIAS_HEADER

    @qt_virtual(Qt.ItemFlag.NoItemFlags)
    def flags(self, index):
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return flags | Qt.ItemFlag.ItemIsEditable if self.editable else flags

    @qt_virtual(False)
    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        """Typed numbers become an edit request; the table changes when the edit is applied."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            number = math.nan
        column = index.column() if index.column() < self.k else None
        name = self.name if column is not None else BIASES[self.name]
        self.sig_edit_requested.emit(name, index.row(), column, number)
        return False


class FactorEditCommand(QUndoCommand):
    """One undo step: a parameter of one trained model set; undo puts the old number back."""

    def __init__(self, tables: "FactorTables", model, edit: SetParameter):
        super().__init__(edit.description)
        self._tables, self._model, self._edit = tables, model, edit

    @qt_virtual(None)
    def redo(self):
        self._apply()

    @qt_virtual(None)
    def undo(self):
        self._apply()

    def _apply(self):
        why_not = self._tables.why_not_editable(self._model)
        if why_not:
            self.setObsolete(True)  # its model is not the one shown any more: the step leaves the stack
            self._tables.sig_message.emit("info", f"That factor edit was for a model no longer shown; {why_not}")
            return
        self._edit = self._edit.apply(self._model)
        self._tables.sig_parameters_edited.emit(self._model)


class FactorTables(QWidget):
    """X and W side by side, with what the last edit did to J."""

    sig_message = Signal(str, str)  # kind, text
    sig_parameters_edited = Signal(object)  # the model whose parameters an edit (or its undo) changed

    def __init__(self, panel, undo_stack, ratings_source, parent=None):
        super().__init__(parent)
        self.panel, self.undo_stack, self.ratings_source = panel, undo_stack, ratings_source
        self.movies = FactorTableModel("item_factors", self)
        self.users = FactorTableModel("user_factors", self)
        self.movie_view, self.user_view = LeavableTableView(), LeavableTableView()
        self.trained_on = None  # the ratings the shown model's run trained on (its J is theirs)
        self.last_cost: EpochRecord | None = None
        self._grid = self._table = None  # the grid this pane follows, once linked
        self._named_from = None  # the label arrays (and movie table) of the ratings whose names are shown
        self._kept = None  # the last predictor given while the pane was hidden
        # X above W: the pane stands beside the grid, taller than it is wide
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        for title, model, view in (("Movies: x⁽ⁱ⁾ (X)", self.movies, self.movie_view),
                                   ("Users: w⁽ʲ⁾ (W)", self.users, self.user_view)):
            # measured once a set of names: Qt measured 200 of each table's names again whenever the tables
            # changed size (1,800 calls into Python as a run started and the note below them changed height)
            names = SteadyHintHeader(Qt.Orientation.Vertical, view)
            names.setSectionsClickable(True)  # as the header a table makes for itself
            names.setHighlightSections(True)
            view.setVerticalHeader(names)
            view.setModel(model)
            view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)  # a scroll value is a row
            view.verticalHeader().setMaximumWidth(_LABEL_WIDTH)
            view.setMinimumHeight(1)  # the pane never makes the window taller than the grid alone would
            view.verticalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
            # a selected cell in the usual blue read as a positive factor in this blue-orange scale
            palette = view.palette()
            for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
                palette.setColor(group, QPalette.ColorRole.Highlight, QColor(SELECTION_GRAY))
                palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor("white"))
            view.setPalette(palette)
            model.sig_edit_requested.connect(self.request_edit)
            view.setToolTip("Type a number over a factor to see what it changes: the grid's predictions, the "
                            "explanation and J follow at once (Ctrl+Z undoes it). The bold row is the movie or "
                            "user of the grid's current cell.")
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(QLabel(f"<b>{title}</b>"))
            column.addWidget(view)
            self.splitter.addWidget(box)
        self._fit_rows_to_font()
        # Room for two lines: the note changes as a run starts and ends, and a note of another height resized the
        # tables, whose row headers then measured 200 names each again (1,800 calls into Python at each Train).
        self.note = LiveText(lines=2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.note)
        panel.sig_run_started.connect(self._on_run_started)
        panel.sig_training_set.connect(self._on_run_started)  # J on the ratings trained on, as the curves' J
        panel.controller.sig_state_changed.connect(lambda *_: self._follow_state())
        self.show_predictor(None)

    def _fit_rows_to_font(self):
        metrics = self.fontMetrics()
        height = metrics.height() + _ROW_PADDING
        width = metrics.horizontalAdvance("-00.000") + 2 * _ROW_PADDING  # a factor's text is never cut
        for view in (self.movie_view, self.user_view):
            view.verticalHeader().setDefaultSectionSize(height)
            view.horizontalHeader().setDefaultSectionSize(width)

    @guard_event
    def showEvent(self, event):
        """Shown again, however (the View menu, presentation mode putting it back): the factors of the last update
        it skipped while hidden (left in presentation mode, the tables stayed empty beside a trained grid)."""
        super().showEvent(event)
        self.show_kept()

    @guard_event
    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presentation mode's larger type: rows grow with it
            self._fit_rows_to_font()

    # --- following the grid -------------------------------------------------------------------------------
    def link_to_grid(self, grid, table):
        """Follow ``grid`` (a view of ``table`` through a sorting, filtering proxy): its scrolling and its
        current cell."""
        self._grid, self._table = grid, table
        grid.verticalScrollBar().valueChanged.connect(self._on_grid_scroll)
        grid.horizontalScrollBar().valueChanged.connect(self._on_grid_scroll)
        grid.selectionModel().currentChanged.connect(self._on_grid_current_change)

    def _view_of(self, axis) -> QTableView:
        return self.movie_view if axis == ITEMS else self.user_view

    def _source_of(self, proxy_row: int, proxy_column: int) -> tuple[int, int]:
        """The (row, column) of the rating table shown at a position of the grid's proxy."""
        proxy = self._grid.model()
        source = proxy.mapToSource(proxy.index(proxy_row, proxy_column))
        return source.row(), source.column()

    def _on_grid_scroll(self, *_):
        self.follow_grid_scroll()

    def follow_grid_scroll(self):
        """Bring the grid's first shown movie and user to the top of their tables."""
        grid, table = self._grid, self._table
        if grid is None or not self.isVisible() or not self.movies.rowCount():
            return
        top, left = grid.rowAt(0), grid.columnAt(0)
        if top < 0 or left < 0:
            return
        row, column = self._source_of(top, left)
        if row < 0 or column < 0:
            return
        for axis, position in ((table.row_axis, row), (table.column_axis, column)):
            view = self._view_of(axis)
            if position < view.model().rowCount():
                view.verticalScrollBar().setValue(position)

    def _on_grid_current_change(self, current, previous):
        grid, table = self._grid, self._table
        if grid is None or not current.isValid() or not self.movies.rowCount():
            return
        row, column = self._source_of(current.row(), current.column())
        if row < 0 or column < 0:
            return
        user, item = table.cell(row, column)
        for view, position in ((self.movie_view, item), (self.user_view, user)):
            model = view.model()
            if position < model.rowCount():
                # in bold, not selected: a selection's colour would hide the very numbers the cell is made of
                model.set_highlighted_row(position)
                view.scrollTo(model.index(position, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    # --- what is shown ----------------------------------------------------------------------------------
    def show_predictor(self, predictor):
        """Show the factors the grid shows (None: nothing trained). While the pane is hidden (View menu) only
        the latest predictor is kept, for :meth:`show_kept`: the copies and the colouring cost 35-115 ms an
        update on MovieLens, for tables nobody sees."""
        self._kept = predictor if self.isHidden() else None
        if predictor is not None and self.isHidden():
            return
        ratings = self.ratings_source()
        model = self.panel.model
        if predictor is None or tuple(predictor.shape) != (ratings.n_users, ratings.n_items):
            if model is None:  # reset, or another document: the ratings trained on are let go
                self.trained_on = None
            self._named_from = None
            self.movies.clear()
            self.users.clear()
            self.note.setText("Train a model (F5) to see its factors here: a row of numbers per movie and per "
                              "user, as in the course's spreadsheet.")
            return
        with_item_bias = bool(getattr(model, "item_bias", False)) and "item_bias" in editable_parameters(model)
        with_user_bias = bool(getattr(model, "user_bias", False)) and "user_bias" in editable_parameters(model)
        # other names, or not the rows shown (the tables were cleared): the names are made again
        renamed = self._renamed(ratings) or (self.movies.rowCount(), self.users.rowCount()) != (ratings.n_items,
                                                                                              ratings.n_users)
        self.movies.show_arrays(predictor.item_factors, predictor.item_bias if with_item_bias else None,
                                ratings.item_titles() if renamed else None)
        self.users.show_arrays(predictor.user_factors, predictor.user_bias if with_user_bias else None,
                               ratings.user_labels if renamed else None)
        self._follow_state()
        if self._grid is not None and self.movies.highlighted_row < 0:
            # a cell made current before there were factors (a file opened, a Reset): its rows in bold now
            self._on_grid_current_change(self._grid.currentIndex(), None)

    def _renamed(self, ratings) -> bool:
        """Whether ``ratings`` name their users and movies otherwise than the tables do (ratings edited in the
        grid share their labels' arrays: only a rename, an added movie or another document makes new ones)."""
        names = (ratings.user_labels, ratings.item_labels, ratings.item_info)
        renamed = self._named_from is None or any(a is not b for a, b in zip(names, self._named_from))
        self._named_from = names
        return renamed

    def show_kept(self):
        """The pane is shown again: the factors of the last update it skipped while hidden."""
        kept, self._kept = self._kept, None
        if kept is not None:
            self.show_predictor(kept)

    def follow_ratings(self):
        """The ratings changed: tables of other users or movies than the grid's are taken down."""
        ratings = self.ratings_source()
        if self.movies.rowCount() and (self.movies.rowCount(), self.users.rowCount()) != (ratings.n_items,
                                                                                         ratings.n_users):
            self.show_predictor(None)
        else:
            if self.movies.rowCount() and self._renamed(ratings):  # a rename: the same factors, new names
                self.movies.set_labels(ratings.item_titles())
                self.users.set_labels(ratings.user_labels)
            self._follow_state()

    def _follow_state(self):
        why_not = self.why_not_editable(self.panel.model)
        for model in (self.movies, self.users):
            model.editable = not why_not
        if self.movies.rowCount():
            # short: beside the grid at 1280 × 720 the tables have little height to spare (the note keeps two lines)
            # (a baseline has no factors: "Type over a factor" beside a table of names alone)
            what = "a factor" if getattr(self.panel.model, "n_factors", 1) else "a bias"
            if not why_not and not self.movies.columnCount():
                why_not = "This model learned no factors or biases: it predicts the mean of the ratings."
            self.note.setText(why_not or f"Type over {what}: the predictions and J follow (Ctrl+Z undoes it).")

    def why_not_editable(self, model) -> str:
        """Why the factors of ``model`` cannot be edited now, or "" when they can."""
        panel = self.panel
        if model is None or model is not panel.model:
            return "train a model first." if panel.model is None else "its run has been replaced."
        # first: "Stop it (F8) to edit them" beside a paused network's run promised what stopping would not give
        if not editable_parameters(model):
            return "This model has no factor tables of its own to edit (its embeddings pass through a network)."
        if panel.controller.state != "idle":
            return ("Training owns these factors while it runs or is paused; they follow it live. Stop it (F8) "
                    "to edit them.")
        ratings = self.ratings_source()
        if (getattr(model, "n_users_", None), getattr(model, "n_items_", None)) != (ratings.n_users,
                                                                                    ratings.n_items):
            return "Users or movies were added or removed since training: train again to edit the factors."
        return ""

    # --- editing ----------------------------------------------------------------------------------------
    def request_edit(self, name: str, row: int, column, value: float) -> bool:
        model = self.panel.model
        why_not = self.why_not_editable(model)
        if why_not:
            self.sig_message.emit("error", why_not)
            return False
        if not math.isfinite(value):
            self.sig_message.emit("error", "A factor is a number, such as 0.8 or -1.2; nothing was changed.")
            return False
        table = self.movies if name in ("item_factors", "item_bias") else self.users
        who = str(table.labels[row]) if 0 <= row < len(table.labels) else f"row {row + 1}"
        what = BIAS_HEADER if column is None else f"f{column + 1}"
        self.undo_stack.push(FactorEditCommand(self, model, SetParameter(name, row, column, value,
                                                                         f"Set {what} of {who} to {value:g}")))
        return True

    def _on_run_started(self, model, ratings):
        self.trained_on = ratings

    def cost_ratings(self, model):
        """The ratings J is computed on: those the run trained on, else (a restored model) the grid's."""
        trained_on = self.trained_on
        if trained_on is not None and (trained_on.n_users, trained_on.n_items) == (model.n_users_, model.n_items_):
            return trained_on
        return self.ratings_source()

    def cost_after_edit(self, model) -> EpochRecord:
        """J of the model's parameters as they are now, on the ratings its run trained on (shown, and
        returned as a record of the epoch it stands at)."""
        data_term, reg_term, total = model.loss_terms(self.cost_ratings(model))
        history = getattr(model, "history_", None)
        self.last_cost = EpochRecord(history[-1].epoch if history else 0, data_term, reg_term, total)
        self.note.setText(f"After the edit: J = {data_term:.5g} (data) + {reg_term:.5g} (reg) = {total:.5g}. "
                          "Ctrl+Z undoes it.")
        return self.last_cost


__all__ = ["FactorEditCommand", "FactorTableModel", "FactorTables"]
