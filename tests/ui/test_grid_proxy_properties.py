"""The grid's rows are exactly the accepted rows in the chosen order, whatever the user did before.

Hypothesis interleaves sorting (by name, count, mean or a column), filtering (by name, number of ratings,
mean rating), swapping rows and columns, adding, removing and renaming users and movies, editing cells,
predictions, undo and redo and opening other data, on the real table model, proxy and grid view. After
every step the proxy must show what a plain-Python reading of the rules gives, and no guarded exception
may have been reported. The rules (filter_proxy's docstring): filters and order apply when chosen and at
every reset of the table, from the data of that moment; edits never move or hide rows; a column sort
follows its user or movie by label across resets, else falls back to the original order.
"""

import math
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtGui import QUndoStack

from cfexplorer.core.edits import ITEMS, USERS, InsertEntries, RemoveEntries, Rename, SetCells
from cfexplorer.core.ratings import Ratings
from cfexplorer.ui import qt_guard
from cfexplorer.ui.filter_proxy import RatingFilterProxy
from cfexplorer.ui.grid_view import RatingGridView
from cfexplorer.ui.table_model import RatingTableModel

# a user and a movie may share a name: a column sort must not jump from one to the other on a swap
USER_NAMES = ["Ann", "bob", "Beta", "ann b", "Dee", "BOB 2"]
MOVIE_NAMES = ["Alpha", "Ann", "Beta", "gamma", "Delta", "beta x", "bob"]
STARS = [1.0, 2.0, 3.0, 4.0, 5.0]


@st.composite
def ratings(draw):
    n_users, n_items = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    cell = st.tuples(st.integers(0, n_users - 1), st.integers(0, n_items - 1), st.sampled_from(STARS))
    cells = draw(st.lists(cell, max_size=n_users * n_items, unique_by=lambda c: c[:2]))
    users, items, values = (list(column) for column in zip(*cells)) if cells else ([], [], [])
    return Ratings(users, items, values, USER_NAMES[:n_users], MOVIE_NAMES[:n_items])


axis = st.sampled_from([USERS, ITEMS])
position = st.integers(0, 8)
mean_limit = st.sampled_from([None, 1.5, 3.0, 4.5])
steps = st.one_of(
    st.tuples(st.just("sort"), st.sampled_from(["original", "name", "count", "mean"]), st.booleans()),
    st.tuples(st.just("sort column"), position, st.booleans()),
    st.tuples(st.just("name filter"), st.sampled_from(["", "a", "B", "2", " an", "x", "zzz"])),
    st.tuples(st.just("min ratings"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("min mean"), mean_limit, mean_limit),
    st.tuples(st.just("clear filters")),
    st.tuples(st.just("swap")),
    st.tuples(st.just("add"), axis, position),
    st.tuples(st.just("remove"), axis, position),
    st.tuples(st.just("rename"), axis, position, st.sampled_from(["aa", "Zed", "b b", "alpha"])),
    st.tuples(st.just("edit"), st.lists(st.tuples(position, position, st.sampled_from([math.nan, *STARS])),
                                        min_size=1, max_size=4)),
    st.tuples(st.just("predictions"), st.integers(0, 2**16)),
    st.tuples(st.just("select"), position, position, position, position),
    st.tuples(st.just("undo")),
    st.tuples(st.just("redo")),
    st.tuples(st.just("open"), ratings()),
)


class Rules:
    """What the proxy should show, computed in plain Python from the table's ratings."""

    def __init__(self):
        self.key, self.descending = "original", False
        self.column = None  # (axis, table column) sorted by
        self.name, self.min_count, self.min_mean = "", {USERS: 0, ITEMS: 0}, {USERS: None, ITEMS: None}
        self.predictions = None
        self.rows, self.columns = None, None

    def apply(self, table):
        ratings = table.ratings
        row_axis = ITEMS if table.rows_are_items else USERS
        column_axis = 1 - row_axis
        rated = {(int(u), int(i)): float(v) for u, i, v in zip(ratings.users, ratings.items, ratings.values)}
        sizes = {USERS: ratings.n_users, ITEMS: ratings.n_items}
        names = {USERS: [str(label) for label in ratings.user_labels],
                 ITEMS: [str(label) for label in ratings.item_labels]}
        values_of = {axis: [[] for _ in range(sizes[axis])] for axis in (USERS, ITEMS)}
        for (user, item), value in rated.items():
            values_of[USERS][user].append(value)
            values_of[ITEMS][item].append(value)

        def accepted(axis, with_name):
            kept = []
            for entry in range(sizes[axis]):
                values = values_of[axis][entry]
                if len(values) < self.min_count[axis]:
                    continue
                lowest = self.min_mean[axis]
                if lowest is not None and not (values and sum(values) / len(values) >= lowest):
                    continue
                if with_name and self.name and self.name not in names[axis][entry].casefold():
                    continue
                kept.append(entry)
            return kept

        def key_of(row):
            if self.key == "name":
                return names[row_axis][row].casefold()
            if self.key == "count":
                return len(values_of[row_axis][row])
            if self.key == "mean":
                values = values_of[row_axis][row]
                return sum(values) / len(values) if values else None
            cell = (self.column[1], row) if table.rows_are_items else (row, self.column[1])
            if cell in rated:
                return rated[cell]
            if self.predictions is not None and math.isfinite(self.predictions[cell]):
                return float(self.predictions[cell])
            return None

        rows = accepted(row_axis, True)
        if self.key != "original":
            if self.key == "column" and self.column[0] != column_axis:
                raise AssertionError("a column sort survived a swap")
            known = [row for row in rows if key_of(row) is not None]
            known.sort(key=key_of, reverse=self.descending)  # stable either way: ties keep table order
            rows = known + [row for row in rows if key_of(row) is None]
        self.rows, self.columns = rows, accepted(column_axis, False)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(first=ratings(), plan=st.lists(steps, min_size=1, max_size=14))
def test_rows_are_the_accepted_rows_in_the_chosen_order(qapp, monkeypatch, first, plan):
    qt_guard.forget_reports()
    reports = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, error, trace: reports.append(error))
    table = RatingTableModel(first, QUndoStack())
    proxy = RatingFilterProxy(table)
    view = RatingGridView(proxy)
    resets = []
    table.modelReset.connect(lambda: resets.append(1))
    rules = Rules()
    rules.apply(table)
    made = 0
    for step in plan:
        kind, args = step[0], step[1:]
        column_labels = list(table.labels(table.column_axis))
        resets.clear()
        reapply = kind in ("sort", "name filter", "min ratings", "min mean", "clear filters")
        if kind == "sort":
            proxy.sort_rows_by(*args)
            rules.key, rules.descending, rules.column = args[0], args[1] and args[0] != "original", None
        elif kind == "sort column":
            column = args[0]
            proxy.sort_by_column(column, Qt.SortOrder.DescendingOrder if args[1] else Qt.SortOrder.AscendingOrder)
            if column < len(rules.columns):
                rules.key, rules.descending = "column", args[1]
                rules.column = (table.column_axis, rules.columns[column])
                reapply = True
        elif kind == "name filter":
            proxy.set_name_filter(args[0])
            rules.name = args[0].strip().casefold()
        elif kind == "min ratings":
            proxy.set_min_ratings(*args)
            rules.min_count = {USERS: args[0], ITEMS: args[1]}
        elif kind == "min mean":
            proxy.set_min_mean(*args)
            rules.min_mean = {USERS: args[0], ITEMS: args[1]}
        elif kind == "clear filters":
            proxy.clear_filters()
            rules.name, rules.min_count, rules.min_mean = "", {USERS: 0, ITEMS: 0}, {USERS: None, ITEMS: None}
        elif kind == "swap":
            table.set_rows_are_items(not table.rows_are_items)
        elif kind == "add":
            made += 1
            entries = table.ratings.n_users if args[0] == USERS else table.ratings.n_items
            table.request_edit(InsertEntries(args[0], (min(args[1], entries),), (f"new {made}",), ((),)))
        elif kind == "remove":
            entries = table.ratings.n_users if args[0] == USERS else table.ratings.n_items
            if entries > 1:
                table.request_edit(RemoveEntries(args[0], (args[1] % entries,)))
        elif kind == "rename":
            made += 1
            entries = table.ratings.n_users if args[0] == USERS else table.ratings.n_items
            table.request_edit(Rename(args[0], args[1] % entries, f"{args[2]} {made}"))
        elif kind == "edit":
            cells = {(u % table.ratings.n_users, i % table.ratings.n_items): v for u, i, v in args[0]}
            users, items = zip(*cells)
            table.request_edit(SetCells(users, items, tuple(cells.values())))
        elif kind == "predictions":
            shape = (table.ratings.n_users, table.ratings.n_items)
            guesses = np.random.default_rng(args[0]).choice([np.nan, np.inf, 1.5, 2.0, 3.5, 4.0], size=shape)
            table.set_predictions(guesses)
            rules.predictions = guesses
        elif kind == "select":
            if proxy.rowCount() and proxy.columnCount():
                top, bottom = sorted(a % proxy.rowCount() for a in args[:2])
                left, right = sorted(a % proxy.columnCount() for a in args[2:])
                view.selectionModel().select(QItemSelection(proxy.index(top, left), proxy.index(bottom, right)),
                                             QItemSelectionModel.SelectionFlag.ClearAndSelect)
        elif kind == "undo":
            table.undo_stack.undo()
        elif kind == "redo":
            table.undo_stack.redo()
        elif kind == "open":
            table.set_ratings(args[0])
        if resets:
            reapply = True
            if kind != "swap":
                rules.predictions = None  # a new shape (or data) drops the old predictions
            if rules.key == "column":
                axis_before, column = rules.column
                label = column_labels[column]
                now = list(table.labels(table.column_axis))
                if axis_before == table.column_axis and label in now:
                    rules.column = (axis_before, now.index(label))
                else:
                    rules.key, rules.descending, rules.column = "original", False, None
        if reapply:
            rules.apply(table)
        assert not reports, f"after {step}: {reports!r}"
        shown_rows = [proxy.mapToSource(proxy.index(r, 0)).row() if proxy.columnCount() else int(proxy.source_rows[r])
                      for r in range(proxy.rowCount())]
        assert list(proxy.source_rows) == rules.rows == shown_rows, f"after {step}"
        assert list(proxy.source_columns) == rules.columns, f"after {step}"
        for row, source in enumerate(rules.rows):
            assert proxy.headerData(row, Qt.Orientation.Vertical) == table.headerData(source, Qt.Orientation.Vertical)
        if rules.key == "column":
            expected_column = rules.columns.index(rules.column[1]) if rules.column[1] in rules.columns else -1
            assert proxy.sortColumn() == expected_column
        ranges = view.selected_ranges()
        assert np.all(ranges[:, 2] < proxy.rowCount()) and np.all(ranges[:, 3] < proxy.columnCount())
    view.deleteLater()
    qt_guard.forget_reports()
