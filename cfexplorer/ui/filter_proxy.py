"""Sorting and filtering of the grid's rows and columns, without touching the data."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal

from ..core.edits import ITEMS, USERS
from ..core.ratings import keep_masks, summarize_subset
from .table_model import SORT_ROLE, RatingTableModel
from .qt_guard import qt_virtual

ROW_SORT_KEYS = ("original", "name", "count", "mean")


class RatingFilterProxy(QSortFilterProxyModel):
    """Filters rows by name, users and movies by a minimum number of ratings (the density filter),
    and sorts rows by name, rating count, mean rating, or by the values in one column."""

    sig_filter_changed = Signal()

    def __init__(self, source: RatingTableModel, parent=None):
        super().__init__(parent)
        self.setSourceModel(source)
        self.setDynamicSortFilter(False)  # rows must not jump away while a user edits them
        self.setSortRole(SORT_ROLE)
        self._name_filter = ""
        self._min_ratings = {USERS: 0, ITEMS: 0}
        self._min_mean: dict = {USERS: None, ITEMS: None}
        self._row_key: np.ndarray | list | None = None
        source.modelReset.connect(self._on_source_reset)

    @property
    def table(self) -> RatingTableModel:
        return self.sourceModel()

    # --- filters ----------------------------------------------------------------------------------
    def set_name_filter(self, text: str):
        self.beginFilterChange()
        self._name_filter = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        self.sig_filter_changed.emit()

    def set_min_ratings(self, users: int = 0, items: int = 0):
        """Keep users with at least ``users`` ratings and movies with at least ``items``."""
        self.beginFilterChange()
        self._min_ratings = {USERS: int(users), ITEMS: int(items)}
        self.endFilterChange()
        self.sig_filter_changed.emit()

    def set_min_mean(self, users: float | None = None, items: float | None = None):
        """Keep users (movies) whose mean rating is at least this; None keeps all."""
        self.beginFilterChange()
        self._min_mean = {USERS: users, ITEMS: items}
        self.endFilterChange()
        self.sig_filter_changed.emit()

    @property
    def min_mean(self) -> dict:
        return dict(self._min_mean)

    @property
    def min_ratings(self) -> dict:
        return dict(self._min_ratings)

    def clear_filters(self):
        self.beginFilterChange()
        self._name_filter = ""
        self._min_ratings = {USERS: 0, ITEMS: 0}
        self._min_mean = {USERS: None, ITEMS: None}
        self.endFilterChange()
        self.sig_filter_changed.emit()

    def _accepts(self, axis: int, position: int, check_name: bool) -> bool:
        table = self.table
        if table.count(axis, position) < self._min_ratings[axis]:
            return False
        lowest_mean = self._min_mean[axis]
        if lowest_mean is not None and not table.mean(axis, position) >= lowest_mean:  # NaN (no ratings) fails
            return False
        if check_name and self._name_filter:
            return self._name_filter in table.name(axis, position).casefold()
        return True

    @qt_virtual(True)
    def filterAcceptsRow(self, source_row, source_parent):
        return self._accepts(self.table.row_axis, source_row, check_name=True)

    @qt_virtual(True)
    def filterAcceptsColumn(self, source_column, source_parent):
        return self._accepts(self.table.column_axis, source_column, check_name=False)

    def shown_density(self):
        """Size and density of what the count and mean filters keep (a core SubsetSummary)."""
        ratings = self.table.ratings
        masks = keep_masks(ratings, self._min_ratings[USERS], self._min_ratings[ITEMS],
                           self._min_mean[USERS], self._min_mean[ITEMS])
        return summarize_subset(ratings, *masks)

    # --- sorting ------------------------------------------------------------------------------------
    def sort_rows_by(self, key: str, descending: bool = False):
        """Sort rows by 'name', 'count', 'mean' or back to the 'original' order."""
        if key not in ROW_SORT_KEYS:
            raise ValueError(f"sort key must be one of {ROW_SORT_KEYS}")
        table = self.table
        axis = table.row_axis
        n = table.rowCount()
        if key == "original":
            self._row_key = None
            self.sort(-1)
            return
        if key == "name":
            self._row_key = [table.name(axis, i).casefold() for i in range(n)]
        elif key == "count":
            self._row_key = np.array([table.count(axis, i) for i in range(n)], dtype=float)
        else:
            self._row_key = np.array([table.mean(axis, i) for i in range(n)], dtype=float)
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.sort(0, order)

    def sort_by_column(self, column: int, order=Qt.SortOrder.DescendingOrder):
        """Sort rows by the ratings (or predictions) in one column; unrated last."""
        self._row_key = None
        self.sort(column, order)

    @qt_virtual(False)
    def lessThan(self, left, right):
        if self._row_key is not None:
            a, b = self._row_key[left.row()], self._row_key[right.row()]
        else:
            a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        a_missing = a is None or (isinstance(a, float) and math.isnan(a))
        b_missing = b is None or (isinstance(b, float) and math.isnan(b))
        if a_missing or b_missing:
            # Unrated sorts last in either direction.
            descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
            return (not a_missing and b_missing) != descending
        return bool(a < b)  # a numpy bool handed back to Qt crashes PySide

    def _on_source_reset(self):
        self._row_key = None
