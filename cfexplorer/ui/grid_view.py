"""The rating grid widget: a QTableView with spreadsheet habits (copy, paste, delete, fill down)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QTableView

from ..core.edits import ITEMS, USERS, SetCells
from ..core.validation import parse_rating
from .filter_proxy import RatingFilterProxy
from .qt_guard import guard_event, qt_virtual


class RatingCellDelegate(QStyledItemDelegate):
    """Paints a cell from one call to the model's ``appearance``.

    The default delegate asks the model for seven roles per cell, each a call from Qt into Python
    that has to take the GIL; while training runs in its thread those waits added up to stalls of a
    third of a second per repaint on MovieLens. Editing is left to the default delegate.
    """

    SELECTION_TINT = QColor(255, 200, 0, 110)

    def __init__(self, proxy, parent=None):
        super().__init__(parent)
        self.proxy = proxy

    @qt_virtual(None)
    def paint(self, painter, option, index):
        source = self.proxy.mapToSource(index)
        text, background, foreground, italic = self.proxy.table.appearance(source.row(), source.column())
        rect = option.rect
        painter.save()
        try:
            self._paint_cell(painter, option, rect, text, background, foreground, italic)
        finally:
            painter.restore()  # a painter left saved would corrupt every later cell

    def _paint_cell(self, painter, option, rect, text, background, foreground, italic):
        if background is not None:
            painter.fillRect(rect, background)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, self.SELECTION_TINT)
        font = option.font
        font.setItalic(italic)
        painter.setFont(font)
        painter.setPen(foreground)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(QColor(20, 20, 20), 2))
            painter.drawRect(rect.adjusted(1, 1, -1, -1))


class RatingGridView(QTableView):
    """Shows a :class:`RatingFilterProxy`; every change goes to the source model as one undoable edit."""

    sig_input_rejected = Signal(str, object)  # message, callback that applies a suggested fix (or None)
    sig_entries_selected = Signal(object, object)  # users, items (sorted arrays of positions)

    def __init__(self, proxy: RatingFilterProxy, parent=None):
        super().__init__(parent)
        self.proxy = proxy
        self.setModel(proxy)
        self.setItemDelegate(RatingCellDelegate(proxy, self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.setSortingEnabled(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultSectionSize(80)
        self.verticalHeader().setMaximumWidth(260)  # long MovieLens titles are cut; the tooltip has them whole
        self.verticalHeader().setDefaultSectionSize(26)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setSectionsClickable(True)
        self.selectionModel().selectionChanged.connect(self._on_selection_change)
        proxy.modelReset.connect(self._fit_small_grids)
        proxy.layoutChanged.connect(self._fit_small_grids)
        self._fit_small_grids()

    def _fit_small_grids(self):
        """Classroom-sized grids show whole names; large ones keep a fixed width (fitting 610 columns
        would read every cell)."""
        if self.proxy.columnCount() <= 60:
            self.resizeColumnsToContents()
            for column in range(self.proxy.columnCount()):
                self.setColumnWidth(column, max(self.columnWidth(column), 64))

    @property
    def table(self):
        return self.proxy.table

    # --- selection -----------------------------------------------------------------------------------
    def selected_cells(self) -> list[tuple[int, int]]:
        """(user, item) of every selected cell."""
        cells = []
        for index in self.selectionModel().selectedIndexes():
            source = self.proxy.mapToSource(index)
            cells.append(self.table.cell(source.row(), source.column()))
        return cells

    def selected_entries(self, axis: int) -> list[int]:
        """Users (axis 0) or movies (axis 1) that have a selected cell, sorted."""
        return sorted({cell[axis] for cell in self.selected_cells()})

    def _on_selection_change(self, *_):
        cells = self.selected_cells()
        users = np.array(sorted({u for u, _ in cells}), dtype=np.int64)
        items = np.array(sorted({i for _, i in cells}), dtype=np.int64)
        self.sig_entries_selected.emit(users, items)

    def select_entries(self, axis: int, positions) -> None:
        """Select whole rows or columns showing these users or movies (from the factor view)."""
        table = self.table
        selection = QItemSelection()
        along_rows = axis == table.row_axis
        for position in positions:
            if along_rows:
                source = table.index(int(position), 0)
                index = self.proxy.mapFromSource(source)
                if index.isValid():
                    selection.select(index, self.proxy.index(index.row(), self.proxy.columnCount() - 1))
            else:
                source = table.index(0, int(position))
                index = self.proxy.mapFromSource(source)
                if index.isValid():
                    selection.select(index, self.proxy.index(self.proxy.rowCount() - 1, index.column()))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.selectionModel().select(selection, flags)
        if not selection.isEmpty():
            self.scrollTo(selection.indexes()[0])

    def _selected_block(self):
        """Bounding (top, left, bottom, right) of the selection in view coordinates, or None."""
        indexes = self.selectionModel().selectedIndexes()
        if not indexes:
            current = self.currentIndex()
            if not current.isValid():
                return None
            return current.row(), current.column(), current.row(), current.column()
        rows = [i.row() for i in indexes]
        columns = [i.column() for i in indexes]
        return min(rows), min(columns), max(rows), max(columns)

    # --- clipboard -------------------------------------------------------------------------------------
    def copy_text(self) -> str:
        """The selected block as tab-separated text, '?' where not rated (spreadsheets read it)."""
        block = self._selected_block()
        if block is None:
            return ""
        top, left, bottom, right = block
        lines = []
        for row in range(top, bottom + 1):
            cells = []
            for column in range(left, right + 1):
                source = self.proxy.mapToSource(self.proxy.index(row, column))
                value = self.table.value(source.row(), source.column())
                cells.append("?" if math.isnan(value) else f"{value:g}")
            lines.append("\t".join(cells))
        return "\n".join(lines)

    def paste_text(self, text: str) -> bool:
        """Paste a tab-separated block at the current cell as one undoable edit. All or nothing."""
        rows = [line.split("\t") for line in text.replace("\r\n", "\n").rstrip("\n").split("\n")]
        if not rows or rows == [[""]]:
            return False
        start = self.currentIndex()
        if not start.isValid():
            block = self._selected_block()
            if block is None:
                self.sig_input_rejected.emit("Select the cell where the pasted block should start.", None)
                return False
            start = self.proxy.index(block[0], block[1])
        height, width = len(rows), max(len(r) for r in rows)
        if start.row() + height > self.proxy.rowCount() or start.column() + width > self.proxy.columnCount():
            self.sig_input_rejected.emit(
                f"The pasted block ({height} × {width}) does not fit from this cell; nothing was pasted.", None
            )
            return False
        table = self.table
        scale, binary = table.ratings.scale, table.ratings.binary
        users, items, values = [], [], []
        problems = []  # (message, suggested value or None)
        for r, row in enumerate(rows):
            for c in range(width):
                parsed = parse_rating(row[c] if c < len(row) else "", scale, binary)
                source = self.proxy.mapToSource(self.proxy.index(start.row() + r, start.column() + c))
                user, item = table.cell(source.row(), source.column())
                if parsed.ok:
                    value = parsed.value
                else:
                    problems.append((f"Row {r + 1}, column {c + 1} of the pasted block: {parsed.error}",
                                     parsed.suggestion))
                    value = parsed.suggestion if parsed.suggestion is not None else float("nan")
                users.append(user)
                items.append(item)
                values.append(value)
        edit = SetCells(tuple(users), tuple(items), tuple(values), "Paste")
        if problems:
            more = f" ({len(problems)} cells in all.)" if len(problems) > 1 else ""
            fixable = all(suggestion is not None for _, suggestion in problems)
            callback = (lambda: table.request_edit(edit)) if fixable else None
            self.sig_input_rejected.emit(f"{problems[0][0]}{more} Nothing was pasted.", callback)
            return False
        table.request_edit(edit)
        self.selectionModel().select(
            QItemSelection(start, self.proxy.index(start.row() + height - 1, start.column() + width - 1)),
            QItemSelectionModel.SelectionFlag.ClearAndSelect,
        )
        return True

    # --- other edits -------------------------------------------------------------------------------------
    def clear_selected_cells(self) -> bool:
        cells = [cell for cell in self.selected_cells() if not math.isnan(self._source_value(cell))]
        if not cells:
            return False
        users, items = zip(*cells)
        self.table.request_edit(SetCells(users, items, (float("nan"),) * len(cells), "Clear ratings"))
        return True

    def _source_value(self, cell) -> float:
        user, item = cell
        row, column = self.table.position(user, item)
        return self.table.value(row, column)

    def fill_down(self) -> bool:
        """Copy the top cell of each selected column into the selected cells below it."""
        block = self._selected_block()
        if block is None or block[0] == block[2]:
            return False
        top, left, bottom, right = block
        users, items, values = [], [], []
        for column in range(left, right + 1):
            source = self.proxy.mapToSource(self.proxy.index(top, column))
            value = self.table.value(source.row(), source.column())
            for row in range(top + 1, bottom + 1):
                source = self.proxy.mapToSource(self.proxy.index(row, column))
                user, item = self.table.cell(source.row(), source.column())
                users.append(user)
                items.append(item)
                values.append(value)
        self.table.request_edit(SetCells(tuple(users), tuple(items), tuple(values), "Fill down"))
        return True

    @guard_event
    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.state() != QAbstractItemView.State.EditingState:
            self.clear_selected_cells()
            event.accept()
            return
        super().keyPressEvent(event)


__all__ = ["RatingGridView", "USERS", "ITEMS"]
