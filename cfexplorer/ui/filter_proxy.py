"""Sorting and filtering of the grid's rows and columns, computed over whole axes with numpy.

The proxy shows the table through two index arrays, proxy row -> table row and proxy column -> table
column, and their inverses. An order is one ``np.lexsort`` over keys taken from the table's arrays
(counts, means, names, or one column's values); a filter is one boolean mask. QSortFilterProxyModel
would call a Python ``lessThan`` n log n times (10 s for 100,000 rows) and a Python filter once per row
and per column, and its stale sort keys crashed the app.

When the order and the filters apply: when the user chooses them, and whenever the table's rows and
columns themselves change (a reset: another document, users or movies added or removed, rows and
columns swapped), computed from the data of that moment. Editing cells or names never moves or hides a
row under the user's hands (the header counts update at once); the next sort or filter takes the edits
into account. A sort by a column follows that user or movie (by its label) across resets and falls
back to the original order when it is gone or has become a row.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, Qt, Signal

from ..core.edits import ITEMS, USERS
from ..core.ratings import keep_masks, summarize_subset
from .qt_guard import qt_virtual
from .table_model import RatingTableModel

ROW_SORT_KEYS = ("original", "name", "count", "mean")
_BY_COLUMN = "column"
_CELL_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
_VERTICAL_SORT = QAbstractItemModel.LayoutChangeHint.VerticalSortHint
_WITH_HINT = ("QList<QPersistentModelIndex>", "QAbstractItemModel::LayoutChangeHint")  # the signals' full overload


def ordered(rows: np.ndarray, keys: np.ndarray, descending: bool = False) -> np.ndarray:
    """``rows`` sorted by ``keys`` (one float per row): rows without a finite key (NaN: unrated, no
    ratings) last in either direction, ties in the order given."""
    missing = ~np.isfinite(keys)
    value = np.where(missing, 0.0, keys)
    if descending:
        value = -value
    return rows[np.lexsort((np.arange(len(rows)), value, missing))]


def _inverse(positions: np.ndarray, size: int) -> np.ndarray:
    inverse = np.full(size, -1, dtype=np.int64)
    inverse[positions] = np.arange(len(positions))
    return inverse


class RatingFilterProxy(QAbstractTableModel):
    """Filters rows by name, users and movies by a minimum number of ratings or mean rating (the density
    filter), and sorts rows by name, rating count, mean rating, or by the values in one column."""

    sig_filter_changed = Signal()

    def __init__(self, source: RatingTableModel, parent=None):
        super().__init__(parent)
        self._source = source
        self._name_filter = ""
        self._min_ratings = {USERS: 0, ITEMS: 0}
        self._min_mean: dict = {USERS: None, ITEMS: None}
        self.restricts_training = False  # Train uses only the ratings the density filter keeps
        self._sort_key = "original"
        self._descending = False
        self._sort_source_column = -1        # the table column sorted by, when the key is a column
        self._sort_column_label: tuple | None = None  # (axis, label) of that column across a reset
        self._set_mapping(*self._mapping())
        source.modelAboutToBeReset.connect(self._on_source_about_to_reset)
        source.modelReset.connect(self._on_source_reset)
        # the table changes shape only by resets; a layout change, should one come, is followed the same way
        source.layoutAboutToBeChanged.connect(self._on_source_about_to_reset)
        source.layoutChanged.connect(self._on_source_reset)
        source.dataChanged.connect(self._on_source_data_change)
        source.headerDataChanged.connect(self._on_source_header_change)

    @property
    def table(self) -> RatingTableModel:
        return self._source

    def sourceModel(self) -> RatingTableModel:
        return self._source

    # --- the mapping -----------------------------------------------------------------------------------
    @property
    def source_rows(self) -> np.ndarray:
        """Table row shown at each proxy row (read-only)."""
        return self._rows

    @property
    def source_columns(self) -> np.ndarray:
        return self._columns

    @property
    def proxy_rows(self) -> np.ndarray:
        """Proxy row of each table row, -1 where filtered out (read-only)."""
        return self._row_of

    @property
    def proxy_columns(self) -> np.ndarray:
        return self._column_of

    def source_cell(self, row: int, column: int) -> tuple[int, int]:
        """(table row, table column) shown at a proxy position; pure Python, for painting."""
        return int(self._rows[row]), int(self._columns[column])

    def mapToSource(self, index: QModelIndex) -> QModelIndex:
        if not index.isValid() or index.model() is not self:
            return QModelIndex()
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= column < len(self._columns)):
            return QModelIndex()
        return self._source.index(int(self._rows[row]), int(self._columns[column]))

    def mapFromSource(self, index: QModelIndex) -> QModelIndex:
        if not index.isValid():
            return QModelIndex()
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._row_of) and 0 <= column < len(self._column_of)):
            return QModelIndex()
        proxy_row, proxy_column = int(self._row_of[row]), int(self._column_of[column])
        if proxy_row < 0 or proxy_column < 0:
            return QModelIndex()
        return self.createIndex(proxy_row, proxy_column)

    def _set_mapping(self, rows: np.ndarray, columns: np.ndarray):
        table = self._source
        self._rows, self._columns = rows, columns
        self._row_of = _inverse(rows, table.rowCount())
        self._column_of = _inverse(columns, table.columnCount())
        for array in (self._rows, self._columns, self._row_of, self._column_of):
            array.flags.writeable = False

    def _mapping(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, columns) as the filters and the order ask for them, from the table's data now."""
        table = self._source
        rows = np.flatnonzero(self._accepted(table.row_axis, with_names=True))
        columns = np.flatnonzero(self._accepted(table.column_axis, with_names=False))
        return self._in_order(rows), columns

    def _accepted(self, axis: int, with_names: bool) -> np.ndarray:
        table = self._source
        keep = table.counts(axis) >= self._min_ratings[axis]
        lowest_mean = self._min_mean[axis]
        if lowest_mean is not None:
            with np.errstate(invalid="ignore"):
                keep &= table.means(axis) >= lowest_mean  # NaN (no ratings) fails
        if with_names and self._name_filter:
            needle, names = self._name_filter, table.folded_names(axis)
            keep &= np.fromiter((needle in name for name in names), dtype=bool, count=len(names))
        return keep

    def _in_order(self, rows: np.ndarray) -> np.ndarray:
        table, key = self._source, self._sort_key
        axis = table.row_axis
        if key == "original" or len(rows) == 0:
            return rows
        if key == "name":
            folded = table.folded_names(axis)
            names = np.array([folded[row] for row in rows.tolist()], dtype=object)
            keys = np.unique(names, return_inverse=True)[1].astype(float)
        elif key == "count":
            keys = table.counts(axis)[rows].astype(float)
        elif key == "mean":
            keys = table.means(axis)[rows]
        else:
            keys = table.column_sort_values(self._sort_source_column)[rows]
        return ordered(rows, keys, self._descending)

    def _refresh(self):
        """Apply the filters and the order now: rows that only move keep their selection; anything else
        starts the view afresh."""
        rows, columns = self._mapping()
        if np.array_equal(rows, self._rows) and np.array_equal(columns, self._columns):
            return
        if np.array_equal(columns, self._columns) and np.array_equal(np.sort(rows), np.sort(self._rows)):
            self._move_rows(rows)
            return
        self.beginResetModel()
        self._set_mapping(rows, columns)
        self.endResetModel()

    def _move_rows(self, rows: np.ndarray):
        # A vertical sort: the selection model keeps one index per selected row (not per cell), so a
        # selection of every cell of 100,000 rows costs 100,000 indexes, not 10^10.
        self.layoutAboutToBeChanged[_WITH_HINT].emit([], _VERTICAL_SORT)
        old = self.persistentIndexList()
        sources = self._rows[[index.row() for index in old]] if old else np.empty(0, dtype=np.int64)
        self._set_mapping(rows, self._columns)
        moved = [self.createIndex(int(self._row_of[source]), index.column()) for source, index in zip(sources, old)]
        self.changePersistentIndexList(old, moved)
        self.layoutChanged[_WITH_HINT].emit([], _VERTICAL_SORT)

    # --- the table changed ---------------------------------------------------------------------------------
    def _on_source_about_to_reset(self, *_):
        table = self._source
        if self._sort_key == _BY_COLUMN and 0 <= self._sort_source_column < table.columnCount():
            axis = table.column_axis
            self._sort_column_label = (axis, table.labels(axis)[self._sort_source_column])
        self.beginResetModel()

    def _on_source_reset(self, *_):
        if self._sort_key == _BY_COLUMN:
            self._find_sorted_column()
        self._set_mapping(*self._mapping())
        self.endResetModel()

    def _find_sorted_column(self):
        table = self._source
        axis, label = self._sort_column_label or (None, None)
        found = None
        if axis == table.column_axis:
            found = next((i for i, other in enumerate(table.labels(axis)) if other == label), None)
        if found is None:
            self._sort_key, self._descending, self._sort_source_column = "original", False, -1
        else:
            self._sort_source_column = found

    def _on_source_data_change(self, top_left, bottom_right, roles=()):
        rows = self._row_of[top_left.row():bottom_right.row() + 1]
        columns = self._column_of[top_left.column():bottom_right.column() + 1]
        rows, columns = rows[rows >= 0], columns[columns >= 0]
        if rows.size and columns.size:
            first = self.index(int(rows.min()), int(columns.min()))
            last = self.index(int(rows.max()), int(columns.max()))
            self.dataChanged.emit(first, last, list(roles))

    def _on_source_header_change(self, orientation, first, last):
        shown = (self._row_of if orientation == Qt.Orientation.Vertical else self._column_of)[first:last + 1]
        shown = shown[shown >= 0]
        if shown.size:
            self.headerDataChanged.emit(orientation, int(shown.min()), int(shown.max()))

    # --- Qt model interface ------------------------------------------------------------------------------
    @qt_virtual(lambda *args: QModelIndex())
    def index(self, row, column, parent=QModelIndex()):
        if parent.isValid() or not (0 <= row < len(self._rows) and 0 <= column < len(self._columns)):
            return QModelIndex()
        return self.createIndex(row, column)

    @qt_virtual(0)
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    @qt_virtual(0)
    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    @qt_virtual(Qt.ItemFlag.NoItemFlags)
    def flags(self, index):
        return _CELL_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    @qt_virtual(None)
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        return self._source.data_at(int(self._rows[index.row()]), int(self._columns[index.column()]), role)

    @qt_virtual(False)
    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if not index.isValid():
            return False
        return self._source.setData(self.mapToSource(index), value, role)

    @qt_virtual(None)
    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        sections = self._rows if orientation == Qt.Orientation.Vertical else self._columns
        if not 0 <= section < len(sections):
            return None
        return self._source.headerData(int(sections[section]), orientation, role)

    # --- filters ----------------------------------------------------------------------------------
    def set_name_filter(self, text: str):
        self._name_filter = text.strip().casefold()
        self._refresh()
        self.sig_filter_changed.emit()

    def set_min_ratings(self, users: int = 0, items: int = 0):
        """Keep users with at least ``users`` ratings and movies with at least ``items``."""
        self._min_ratings = {USERS: int(users), ITEMS: int(items)}
        self._refresh()
        self.sig_filter_changed.emit()

    def set_min_mean(self, users: float | None = None, items: float | None = None):
        """Keep users (movies) whose mean rating is at least this; None keeps all."""
        self._min_mean = {USERS: users, ITEMS: items}
        self._refresh()
        self.sig_filter_changed.emit()

    @property
    def min_mean(self) -> dict:
        return dict(self._min_mean)

    @property
    def min_ratings(self) -> dict:
        return dict(self._min_ratings)

    def set_restricts_training(self, on: bool):
        """Whether Train uses only the ratings of the users and movies the density filter keeps."""
        self.restricts_training = bool(on)
        self.sig_filter_changed.emit()

    def training_ratings(self):
        """What Train trains on: every rating, or (restricted) those whose user and movie the count and mean
        filters keep. Users and movies stay where they are (the model still has a row for each, trained on
        nothing where everything was filtered out), so predictions and factors line up with the grid."""
        ratings = self._source.ratings
        if not self.restricts_training or not self._density_filtered():
            return ratings
        keep_users, keep_items = keep_masks(ratings, self._min_ratings[USERS], self._min_ratings[ITEMS],
                                            self._min_mean[USERS], self._min_mean[ITEMS])
        return ratings.subset(keep_users[ratings.users] & keep_items[ratings.items])

    def _density_filtered(self) -> bool:
        return any(self._min_ratings.values()) or any(v is not None for v in self._min_mean.values())

    def clear_filters(self):
        self._name_filter = ""
        self.restricts_training = False
        self._min_ratings = {USERS: 0, ITEMS: 0}
        self._min_mean = {USERS: None, ITEMS: None}
        self._refresh()
        self.sig_filter_changed.emit()

    def shown_density(self):
        """Size and density of what the count and mean filters keep (a core SubsetSummary)."""
        ratings = self._source.ratings
        masks = keep_masks(ratings, self._min_ratings[USERS], self._min_ratings[ITEMS],
                           self._min_mean[USERS], self._min_mean[ITEMS])
        return summarize_subset(ratings, *masks)

    # --- sorting ------------------------------------------------------------------------------------
    def sort_rows_by(self, key: str, descending: bool = False):
        """Sort rows by 'name', 'count', 'mean' or back to the 'original' order."""
        if key not in ROW_SORT_KEYS:
            raise ValueError(f"sort key must be one of {ROW_SORT_KEYS}")
        self._sort_key, self._descending, self._sort_source_column = key, descending and key != "original", -1
        self._refresh()

    def sort_by_column(self, column: int, order=Qt.SortOrder.DescendingOrder):
        """Sort rows by the ratings (or predictions) in one proxy column; unrated last."""
        if not 0 <= column < len(self._columns):
            return
        self._sort_key, self._sort_source_column = _BY_COLUMN, int(self._columns[column])
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._refresh()

    @qt_virtual(None)
    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        if column < 0:
            self.sort_rows_by("original")
        else:
            self.sort_by_column(column, order)

    def sort_state(self) -> tuple:
        """The rows' order as it is now, for set_sort_state to put back."""
        return self._sort_key, self._descending, self._sort_source_column

    def set_sort_state(self, state: tuple):
        """Put back an order sort_state gave (a column since removed: the original order)."""
        key, descending, column = state
        if key == _BY_COLUMN and not 0 <= column < self._source.columnCount():
            key, descending, column = "original", False, -1
        self._sort_key, self._descending, self._sort_source_column = key, descending, column
        self._refresh()

    def sortColumn(self) -> int:
        """The proxy column the rows are sorted by, -1 when not sorted by a shown column."""
        if self._sort_key != _BY_COLUMN:
            return -1
        return int(self._column_of[self._sort_source_column])

    def sortOrder(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    def view_state(self) -> dict:
        """The rows' order and the density filter, as a project keeps them (JSON)."""
        return {"sort": self._sort_key, "descending": self._descending, "sort_column": self._sort_source_column,
                "min_ratings": [self._min_ratings[USERS], self._min_ratings[ITEMS]],
                "min_mean": [self._min_mean[USERS], self._min_mean[ITEMS]],
                "train_on_kept": self.restricts_training}

    def apply_view_state(self, state: dict):
        """Put back what :meth:`view_state` kept (a project's: its values are checked as they are used)."""
        users, items = state.get("min_ratings", (0, 0))
        self.set_min_ratings(int(users), int(items))
        users, items = state.get("min_mean", (None, None))
        self.set_min_mean(None if users is None else float(users), None if items is None else float(items))
        self.set_restricts_training(bool(state.get("train_on_kept", False)))
        key, descending = state.get("sort", "original"), bool(state.get("descending", False))
        if key == _BY_COLUMN:
            column = int(state.get("sort_column", -1))
            shown = np.flatnonzero(self._columns == column)
            if len(shown):
                self.sort_by_column(int(shown[0]), Qt.SortOrder.DescendingOrder if descending
                                    else Qt.SortOrder.AscendingOrder)
        elif key in ROW_SORT_KEYS:
            self.sort_rows_by(key, descending)

    @property
    def sort_key(self) -> str:
        """'original', 'name', 'count', 'mean' or 'column'."""
        return self._sort_key
