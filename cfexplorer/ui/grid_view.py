"""The rating grid widget: a QTableView with spreadsheet habits (copy, paste, delete, fill down).

Everything here works from the selection's ranges and the proxy's index arrays, never from a list of
selected cells: Ctrl+A on 100,000 × 100,000 cells is one range, and what it selects is worked out per
row, per column or per rating. A block operation that would touch more than MAX_BLOCK_CELLS cells
(copying 10^10 cells) is refused with a message.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QAccessible, QColor, QFont, QFontMetrics, QFontMetricsF, QPen
from PySide6.QtWidgets import (QAbstractItemDelegate, QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem, QTableView)

from ..core.edits import AXIS_NAMES, ITEMS, USERS, EditSequence, InsertEntries, SetCells, unique_label
from ..core.validation import parse_rating
from .filter_proxy import RatingFilterProxy
from .grid_header import SteadyHintHeader
from .qt_guard import guard_event, qt_virtual
from .table_focus import LeavableTableMixin

MAX_BLOCK_CELLS = 1_000_000  # copy, paste and fill down: a spreadsheet-sized block
FIT_LARGEST_SIDE = 60       # grids with more rows or columns than this keep fixed section sizes
ROW_HEIGHT = 26             # pixels: a row's height as the window opens, and the least it gets
COLUMN_WIDTH = 80           # pixels: a large grid's columns in the everyday type (they follow its size)
_SIZE_HINT_ROWS = 100       # rows (columns) measured when fitting a column (row) to its contents
# A header paints each section as selected or not (and its neighbours'), and Qt decides that a row is
# selected by asking every cell of it, a call into Python each: after Ctrl+A on 100,000 columns that is
# 100,000 calls per visible row. Headers of longer rows (columns) than this see an empty selection.
HIGHLIGHT_LONGEST_SECTION = 1_000
# Qt works out what a new selection changed by comparing its ranges with the old ones pairwise: after the
# factor space selected 50,000 scattered movies, Ctrl+A took minutes. Such a selection is cleared first.
FRAGMENTED_RANGES = 1_000


def covered(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sorted positions inside any of the closed intervals [starts[k], ends[k]]; the cost follows the
    number of intervals and positions covered, however much the intervals overlap."""
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    keep = ends >= starts
    starts, ends = starts[keep], ends[keep]
    if len(starts) == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    opens = np.r_[True, starts[1:] > ends[:-1] + 1]  # an interval apart from all before it
    first = starts[opens]
    last = ends[np.r_[np.flatnonzero(opens)[1:] - 1, len(ends) - 1]]
    lengths = last - first + 1
    return np.repeat(first - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())


def runs(positions: np.ndarray) -> list[tuple[int, int]]:
    """Sorted distinct positions as (first, last) runs of consecutive ones."""
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1)
    firsts = np.r_[positions[0], positions[breaks + 1]]
    lasts = np.r_[positions[breaks], positions[-1]]
    return list(zip(firsts.tolist(), lasts.tolist()))


def text_width(metrics: QFontMetricsF, text: str) -> float:
    """The width a line of ``text`` takes as Qt lays it out for an item: its advance, and the ink of a first or
    last glyph that reaches past it (an italic 7 leans out to the right: "4.37" is a pixel wider than "4.34")."""
    if not text:
        return 0.0
    return metrics.horizontalAdvance(text) - min(0.0, metrics.rightBearing(text[-1])) \
        - min(0.0, metrics.leftBearing(text[0]))


def measured_sections(count: int, precision: int, first_shown: int, last_shown: int) -> np.ndarray:
    """The rows (columns) Qt's table view measures to fit a column (row), in its order: those in view
    (``first_shown``..``last_shown``, -1 where the view ends past the last), then one after and one before in
    turn, as far as the header's resize precision (-1: every one; 0: those in view only). No section of the grid
    is hidden or moved, so view and model order agree."""
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    top = max(first_shown, 0)
    bottom = count - 1 if last_shown < 0 else min(last_shown, count - 1)
    shown = np.arange(top, bottom + 1)
    if precision > 0:
        shown = shown[:precision]
    if precision == 0 or (precision > 0 and len(shown) == precision):
        return shown
    wanted = count if precision < 0 else min(precision, count)
    more, above, below = [], top, (shown[-1] if len(shown) else top - 1)
    measured = len(shown)
    while measured < wanted and (above > 0 or below < count - 1):
        if (measured % 2 and above > 0) or below == count - 1:
            above -= 1
            more.append(above)
        else:
            below += 1
            more.append(below)
        measured += 1
    return np.concatenate([shown, np.asarray(more, dtype=np.int64)])


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
        row, column = self.proxy.source_cell(index.row(), index.column())
        text, background, foreground, italic = self.proxy.table.appearance(row, column)
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


class RatingGridView(LeavableTableMixin, QTableView):
    """Shows a :class:`RatingFilterProxy`; every change goes to the source model as one undoable edit."""

    sig_input_rejected = Signal(str, object)  # message, callback that applies a suggested fix (or None)
    sig_entries_selected = Signal(object, object)  # users, items (sorted arrays of positions)
    sig_growth_offered = Signal(str, str, object)  # message, what the offer's button says, callback doing it

    def __init__(self, proxy: RatingFilterProxy, parent=None):
        super().__init__(parent)
        self.proxy = proxy
        self.setHorizontalHeader(SteadyHintHeader(Qt.Orientation.Horizontal, self))
        self.setVerticalHeader(SteadyHintHeader(Qt.Orientation.Vertical, self))
        self.setModel(proxy)
        self.setItemDelegate(RatingCellDelegate(proxy, self))
        self._input_refused = False  # the edit being closed was refused (see closeEditor)
        proxy.table.sig_input_rejected.connect(self._note_refused_input)
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
        self.horizontalHeader().setDefaultSectionSize(COLUMN_WIDTH)
        self._font_height_at_start = self.fontMetrics().height()
        self._fitted_columns = 0  # the first columns fit_small_grids sized to their contents
        self.verticalHeader().setMaximumWidth(260)  # long MovieLens titles are cut; the tooltip has them whole
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setSectionsClickable(True)
        # fitting a column to its contents measures this many rows of it (Qt's default: 1,000)
        self.horizontalHeader().setResizeContentsPrecision(_SIZE_HINT_ROWS)
        self.verticalHeader().setResizeContentsPrecision(_SIZE_HINT_ROWS)
        self.selectionModel().selectionChanged.connect(self._on_selection_change)
        self._no_selection = QItemSelectionModel(proxy, self)  # what headers of long rows or columns see
        proxy.modelReset.connect(self._on_proxy_shape_change)
        proxy.layoutChanged.connect(self._on_proxy_shape_change)
        self._on_proxy_shape_change()

    def _on_proxy_shape_change(self):
        for header, length in ((self.verticalHeader(), self.proxy.columnCount()),
                               (self.horizontalHeader(), self.proxy.rowCount())):
            wanted = self.selectionModel() if length <= HIGHLIGHT_LONGEST_SECTION else self._no_selection
            if header.selectionModel() is not wanted:
                header.setSelectionModel(wanted)
        if self.proxy.rowCount() > FIT_LARGEST_SIDE:
            self._even_rows()
        self.fit_small_grids()

    def fit_small_grids(self):
        """Classroom-sized grids show whole names; large ones keep a fixed width (fitting 610 columns
        would read every cell)."""
        if self.proxy.columnCount() <= FIT_LARGEST_SIDE:
            self.resizeColumnsToContents()
            for column in range(self.proxy.columnCount()):
                self.setColumnWidth(column, max(self.columnWidth(column), 64))
            self._fitted_columns = self.proxy.columnCount()
        else:  # a section sized by hand keeps its size: the last small grid's fitted widths stayed on the first
            # the type's width (opened in presentation mode, its columns had the everyday type's 80 pixels)
            self.resizeColumnsToContents()
            for column in range(min(self._fitted_columns, self.proxy.columnCount())):
                self.setColumnWidth(column, self.horizontalHeader().defaultSectionSize())
            self._fitted_columns = 0

    @qt_virtual(None)
    def resizeColumnsToContents(self):
        """Fit the columns of a small grid; a large one's widths follow the type's size (presentation mode calls
        this after changing it: the headers, "606 (1115)", were cut at both ends in 1.5 times the type)."""
        if self.proxy.columnCount() <= FIT_LARGEST_SIDE:
            super().resizeColumnsToContents()
        else:
            scale = self.fontMetrics().height() / max(self._font_height_at_start, 1)
            self.horizontalHeader().setDefaultSectionSize(round(COLUMN_WIDTH * max(scale, 1.0)))

    # Qt fits a column by asking each measured cell's delegate for its size hint, and the delegate asks the model for
    # eight roles, a call into Python each: fitting a grid of 100 rows by 60 columns took 0.6-0.8 s, after every
    # sort, filter or added row, and Presentation Mode's fit of 60 rows of 100 users 0.9-1.0 s. Every cell is one
    # line of text in the view's font or its italic (a prediction), sized by the style as the delegate would: the
    # two overrides below measure the same cells with one call to the model's ``appearance`` a cell (or none), the
    # text's width from the font's metrics, and ask the style for its margins and line height once per font for
    # each column or row (not cached: a few style calls against the cells' thousands, and nothing to invalidate).
    # tests/ui/test_grid.py compares them with Qt's own, in both type sizes.
    @qt_virtual(lambda self, column: QTableView.sizeHintForColumn(self, column))
    def sizeHintForColumn(self, column: int) -> int:
        """The width Qt fits a column to: its widest measured cell as the style sizes it, plus the grid line."""
        if not 0 <= column < self.proxy.columnCount():
            return super().sizeHintForColumn(column)
        rows = measured_sections(self.proxy.rowCount(), self.horizontalHeader().resizeContentsPrecision(),
                                 self.rowAt(0), self.rowAt(self.viewport().height()) if self.isVisible() else -1)
        widest = 0
        if len(rows):
            table, source_column = self.proxy.table, int(self.proxy.source_columns[column])
            # each distinct (text, italic) once: a column of ratings holds a few texts many times
            texts = {table.appearance(int(row), source_column)[::3] for row in self.proxy.source_rows[rows]}
            for italic, font in self._cell_fonts().items():
                metrics = QFontMetricsF(font)
                widths = [text_width(metrics, text) for text, slanted in texts if slanted == italic]
                if widths:  # the text laid out (its width rounded up) and the style's margins around it
                    widest = max(widest, math.ceil(max(widths)) + self._text_margins(font))
        return widest + (1 if self.showGrid() else 0)

    @qt_virtual(lambda self, row: QTableView.sizeHintForRow(self, row))
    def sizeHintForRow(self, row: int) -> int:
        """The height Qt fits a row to: the taller of the fonts its measured cells use, plus the grid line."""
        if not 0 <= row < self.proxy.rowCount():
            return super().sizeHintForRow(row)
        columns = measured_sections(self.proxy.columnCount(), self.verticalHeader().resizeContentsPrecision(),
                                    self.columnAt(0), self.columnAt(self.viewport().width()))
        tallest = 0
        if len(columns):
            fonts = self._cell_fonts()
            height = {italic: self._item_size("0", font).height() for italic, font in fonts.items()}
            if height[True] == height[False]:
                tallest = height[False]
            else:  # which of the two fonts the row's measured cells use
                table, source_row = self.proxy.table, int(self.proxy.source_rows[row])
                tallest = max(height[table.appearance(source_row, int(column))[3]]
                              for column in self.proxy.source_columns[columns])
        return tallest + (1 if self.showGrid() else 0)

    def _cell_fonts(self) -> dict[bool, QFont]:
        """The fonts the cells are drawn in, as the delegate draws them: the view's, and its italic."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        upright, slanted = QFont(option.font), QFont(option.font)  # copies: the option owns its font
        slanted.setItalic(True)
        return {False: upright, True: slanted}

    def _text_margins(self, font: QFont) -> int:
        """What the style adds to the width of a cell's text in ``font`` (QCommonStyle: the focus frame's margin
        and a pixel, on either side)."""
        return self._item_size("0", font).width() - math.ceil(text_width(QFontMetricsF(font), "0"))

    def _item_size(self, text: str, font: QFont):
        """The size the style gives a cell showing ``text`` in ``font``, centred (what the delegate's size hint
        asks it, the cell's roles filled in)."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.font = font
        option.fontMetrics = QFontMetrics(font)
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        option.text = text
        option.displayAlignment = Qt.AlignmentFlag.AlignCenter
        return self.style().sizeFromContents(QStyle.ContentsType.CT_ItemViewItem, option, QSize(), self)

    @qt_virtual(None)
    def resizeRowsToContents(self):
        """Fit the rows of a small grid; a large one gets one height for the font (rows all look alike, and
        measuring 10,000 rows would read every cell)."""
        if self.proxy.rowCount() <= FIT_LARGEST_SIDE:
            super().resizeRowsToContents()
            for row in range(self.proxy.rowCount()):  # never below a row of the window as it opened
                if self.rowHeight(row) < ROW_HEIGHT:
                    self.setRowHeight(row, ROW_HEIGHT)
        elif self.proxy.rowCount():
            first = max(self.rowAt(0), 0)
            self.verticalHeader().setDefaultSectionSize(max(ROW_HEIGHT, self.sizeHintForRow(first)))
            self._even_rows()

    def _even_rows(self):
        """Rows a small grid fitted one by one keep their heights through a model reset: the next, large grid
        (rows of the default height) began with a few rows shorter than the rest."""
        height = self.verticalHeader().defaultSectionSize()
        for row in range(min(self.proxy.rowCount(), FIT_LARGEST_SIDE + 1)):
            if self.rowHeight(row) != height:
                self.setRowHeight(row, height)

    @property
    def table(self):
        return self.proxy.table

    # --- selection -----------------------------------------------------------------------------------
    def selected_ranges(self) -> np.ndarray:
        """The selection as (top, left, bottom, right) proxy rectangles, one row each."""
        ranges = [(r.top(), r.left(), r.bottom(), r.right()) for r in self.selectionModel().selection()]
        return np.array(ranges, dtype=np.int64).reshape(-1, 4)

    def selected_cell_count(self) -> int:
        ranges = self.selected_ranges()
        return int(((ranges[:, 2] - ranges[:, 0] + 1) * (ranges[:, 3] - ranges[:, 1] + 1)).sum())

    def _selected_rows_and_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Table rows and table columns that have a selected cell."""
        ranges = self.selected_ranges()
        rows = self.proxy.source_rows[covered(ranges[:, 0], ranges[:, 2])]
        columns = self.proxy.source_columns[covered(ranges[:, 1], ranges[:, 3])]
        return rows, columns

    def selected_entries(self, axis: int) -> list[int]:
        """Users (axis 0) or movies (axis 1) that have a selected cell, sorted."""
        rows, columns = self._selected_rows_and_columns()
        return np.sort(rows if axis == self.table.row_axis else columns).tolist()

    def rated_cells_in_selection(self) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) of the rated cells inside the selection: found among the ratings, row band by
        row band, so a selection of 10^10 cells costs what its ratings cost."""
        table, proxy = self.table, self.proxy
        users, items, _ = table.cells.cells()
        ranges = self.selected_ranges()
        shape = (table.rowCount(), table.columnCount())
        if (len(ranges) == 1 and ranges[0].tolist() == [0, 0, shape[0] - 1, shape[1] - 1]
                and (proxy.rowCount(), proxy.columnCount()) == shape):
            return users, items  # Ctrl+A with nothing filtered out: every rating (no sort of ten million)
        rows, columns = (items, users) if table.rows_are_items else (users, items)
        shown_rows, shown_columns = proxy.proxy_rows[rows], proxy.proxy_columns[columns]
        shown = np.flatnonzero((shown_rows >= 0) & (shown_columns >= 0))
        by_row = shown[np.argsort(shown_rows[shown], kind="stable")]
        sorted_rows = shown_rows[by_row]
        inside = []
        for top, left, bottom, right in ranges.tolist():
            start, stop = np.searchsorted(sorted_rows, [top, bottom + 1])
            band = by_row[start:stop]
            inside.append(band[(shown_columns[band] >= left) & (shown_columns[band] <= right)])
        if len(inside) == 1:  # one rectangle (Ctrl+A) holds each cell once, in row order already
            chosen = inside[0]
        else:
            chosen = np.unique(np.concatenate(inside)) if inside else np.empty(0, dtype=np.int64)
        return users[chosen], items[chosen]

    def _on_selection_change(self, *_):
        rows, columns = self._selected_rows_and_columns()
        users, items = (columns, rows) if self.table.rows_are_items else (rows, columns)
        self.sig_entries_selected.emit(np.sort(users), np.sort(items))  # distinct already

    @qt_virtual(None)
    def selectionChanged(self, selected, deselected):
        # With a screen reader attached, QTableView lists every selected index (10^10 after Ctrl+A on a
        # large grid); a large change is then only repainted.
        if QAccessible.isActive() and _cells(selected) + _cells(deselected) > MAX_BLOCK_CELLS:
            self.viewport().update()
            return
        super().selectionChanged(selected, deselected)

    def _clear_if_fragmented(self):
        model = self.selectionModel()
        if len(model.selection()) > FRAGMENTED_RANGES:
            model.clearSelection()

    @qt_virtual(None)
    def selectAll(self):
        self._clear_if_fragmented()
        super().selectAll()

    @qt_virtual(None)
    def setSelection(self, rect, command):
        if command & QItemSelectionModel.SelectionFlag.Clear:
            self._clear_if_fragmented()
        super().setSelection(rect, command)

    def select_entries(self, axis: int, positions) -> None:
        """Select whole rows or columns showing these users or movies (from the factor view)."""
        proxy = self.proxy
        positions = np.asarray(positions, dtype=np.int64)
        along_rows = axis == self.table.row_axis
        inverse = proxy.proxy_rows if along_rows else proxy.proxy_columns
        positions = positions[(positions >= 0) & (positions < len(inverse))]
        shown = np.unique(inverse[positions])
        shown = shown[shown >= 0]
        selection = QItemSelection()
        if proxy.rowCount() and proxy.columnCount():
            for first, last in runs(shown):
                if along_rows:
                    selection.select(proxy.index(first, 0), proxy.index(last, proxy.columnCount() - 1))
                else:
                    selection.select(proxy.index(0, first), proxy.index(proxy.rowCount() - 1, last))
        self.selectionModel().clearSelection()  # from no selection, Qt need not compare ranges
        self.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.Select)
        if len(shown) and proxy.rowCount() and proxy.columnCount():
            first = int(shown[0])
            self.scrollTo(proxy.index(first, 0) if along_rows else proxy.index(0, first))

    def _selected_block(self):
        """Bounding (top, left, bottom, right) of the selection in view coordinates, or None."""
        ranges = self.selected_ranges()
        if not len(ranges):
            current = self.currentIndex()
            if not current.isValid():
                return None
            return current.row(), current.column(), current.row(), current.column()
        return (int(ranges[:, 0].min()), int(ranges[:, 1].min()), int(ranges[:, 2].max()),
                int(ranges[:, 3].max()))

    def _block_cells(self, top: int, left: int, bottom: int, right: int) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) shown in a proxy block, as arrays of the block's shape."""
        rows = self.proxy.source_rows[top:bottom + 1]
        columns = self.proxy.source_columns[left:right + 1]
        rows, columns = np.meshgrid(rows, columns, indexing="ij")
        return (columns, rows) if self.table.rows_are_items else (rows, columns)

    def _refuse_large_block(self, what: str, height: int, width: int) -> bool:
        if height * width <= MAX_BLOCK_CELLS:
            return False
        self.sig_input_rejected.emit(
            f"{what} works on at most {MAX_BLOCK_CELLS:,} cells; this block has {height * width:,} "
            f"({height:,} × {width:,}). Nothing was changed.", None)
        return True

    # --- clipboard -------------------------------------------------------------------------------------
    def copy_text(self) -> str:
        """The selected block as tab-separated text, '?' where not rated (spreadsheets read it)."""
        block = self._selected_block()
        if block is None:
            return ""
        top, left, bottom, right = block
        if self._refuse_large_block("Copy", bottom - top + 1, right - left + 1):
            return ""
        values = self.table.values_at(*self._block_cells(top, left, bottom, right))
        return "\n".join("\t".join("?" if math.isnan(v) else f"{v:g}" for v in row) for row in values.tolist())

    def paste_text(self, text: str) -> bool:
        """Paste a tab-separated block at the current cell as one undoable edit. All or nothing. A block that
        reaches past the grid's last row or column is offered to grow the grid (the offer pastes as one step)."""
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
        if self._refuse_large_block("Paste", height, width):
            return False
        top, left = start.row(), start.column()
        values, problems = self._parse_block(rows, width)
        if problems:
            more = f" ({len(problems)} cells in all.)" if len(problems) > 1 else ""
            fixable = all(suggestion is not None for _, suggestion in problems)
            callback = (lambda: self._paste_or_offer(top, left, values)) if fixable else None
            self.sig_input_rejected.emit(f"{problems[0][0]}{more} Nothing was pasted.", callback)
            return False
        return self._paste_or_offer(top, left, values)

    def _paste_or_offer(self, top: int, left: int, values: np.ndarray) -> bool:
        """Paste, or offer to add the rows and columns the block reaches past the grid (and then paste)."""
        height, width = values.shape
        missing_rows = max(0, top + height - self.proxy.rowCount())
        missing_columns = max(0, left + width - self.proxy.columnCount())
        if missing_rows or missing_columns:
            row_kind, column_kind = ("movie", "user") if self.table.rows_are_items else ("user", "movie")
            growth = " and ".join(f"{count} {kind}{'s' if count > 1 else ''}" for count, kind in
                                  ((missing_rows, row_kind), (missing_columns, column_kind)) if count)
            self.sig_growth_offered.emit(
                f"The pasted block ({height} × {width}) reaches past the grid: add {growth} for it? Nothing was "
                "pasted yet.", f"Add {growth} and paste", lambda: self._paste_values(top, left, values))
            return False
        return self._paste_values(top, left, values)

    def _parse_block(self, rows: list[list[str]], width: int):
        """The pasted texts as a (height, width) array of ratings (a fixable problem as its suggestion, else
        NaN) and the problems, as (message, suggested value or None)."""
        scale, binary = self.table.ratings.scale, self.table.ratings.binary
        values = np.full((len(rows), width), np.nan)
        problems = []
        for r, row in enumerate(rows):
            for c in range(width):
                parsed = parse_rating(row[c] if c < len(row) else "", scale, binary)
                if parsed.ok:
                    values[r, c] = parsed.value
                else:
                    problems.append((f"Row {r + 1}, column {c + 1} of the pasted block: {parsed.error}",
                                     parsed.suggestion))
                    if parsed.suggestion is not None:
                        values[r, c] = parsed.suggestion
        return values, problems

    def _paste_values(self, top: int, left: int, values: np.ndarray) -> bool:
        """Write a block of ratings from view cell (top, left), adding the users and movies it reaches past
        the grid first; one undo step. The block's cells are named by the entries shown there now, so a sort
        or filter that places the added rows elsewhere does not move the ratings."""
        table, proxy = self.table, self.proxy
        height, width = values.shape
        if top >= proxy.rowCount() or left >= proxy.columnCount():
            self.sig_input_rejected.emit("The cell where the block was to start is gone; nothing was pasted.",
                                         None)
            return False
        row_axis, column_axis = table.row_axis, table.column_axis
        ratings = table.ratings
        counts = {USERS: ratings.n_users, ITEMS: ratings.n_items}
        entries, edits = {}, []
        for axis, shown, first, length in ((row_axis, proxy.source_rows, top, height),
                                           (column_axis, proxy.source_columns, left, width)):
            present = np.asarray(shown[first:first + length], dtype=np.int64)
            added = length - len(present)
            labels = list(ratings.user_labels if axis == USERS else ratings.item_labels)
            names = []
            for _ in range(added):
                names.append(unique_label(labels, AXIS_NAMES[axis].capitalize()))
                labels.append(names[-1])
            if added:
                positions = tuple(range(counts[axis], counts[axis] + added))
                info_rows = tuple({"title": name} for name in names) if (
                    axis == ITEMS and ratings.item_info is not None) else ()
                edits.append(InsertEntries(axis, positions, tuple(names), ((),) * added, info_rows,
                                           f"Add {added} {AXIS_NAMES[axis]}{'s' if added > 1 else ''}"))
            entries[axis] = np.r_[present, np.arange(counts[axis], counts[axis] + added, dtype=np.int64)]
        row_entries, column_entries = np.meshgrid(entries[row_axis], entries[column_axis], indexing="ij")
        users, items = (column_entries, row_entries) if table.rows_are_items else (row_entries, column_entries)
        cells = SetCells(tuple(users.ravel().tolist()), tuple(items.ravel().tolist()),
                         tuple(values.ravel().tolist()), "Paste")
        if edits:
            grown = ", ".join(edit.description.lower() for edit in edits)
            table.request_edit(EditSequence((*edits, cells), f"Paste ({grown})"))
        else:
            table.request_edit(cells)
        bottom = min(top + height, proxy.rowCount()) - 1
        right = min(left + width, proxy.columnCount()) - 1
        self.selectionModel().select(QItemSelection(proxy.index(top, left), proxy.index(bottom, right)),
                                     QItemSelectionModel.SelectionFlag.ClearAndSelect)
        return True

    # --- other edits -------------------------------------------------------------------------------------
    def clear_selected_cells(self) -> bool:
        users, items = self.rated_cells_in_selection()
        if not len(users):
            return False
        cleared = np.full(len(users), np.nan)
        for array in (users, items, cleared):
            array.flags.writeable = False  # kept by the undo history as they are
        self.table.request_edit(SetCells(users, items, cleared, "Clear ratings"))
        return True

    def fill_down(self) -> bool:
        """Copy the top cell of each selected column into the selected cells below it."""
        block = self._selected_block()
        if block is None or block[0] == block[2]:
            return False
        top, left, bottom, right = block
        if self._refuse_large_block("Fill down", bottom - top + 1, right - left + 1):
            return False
        users, items = self._block_cells(top, left, bottom, right)
        values = np.broadcast_to(self.table.values_at(users[0], items[0]), users.shape)
        self.table.request_edit(SetCells(tuple(users[1:].ravel().tolist()), tuple(items[1:].ravel().tolist()),
                                         tuple(values[1:].ravel().tolist()), "Fill down"))
        return True

    def _note_refused_input(self, *_):
        self._input_refused = True

    @qt_virtual(None)
    def closeEditor(self, editor, hint):
        """Enter ends an edit on the cell below, as in a spreadsheet (Tab, Escape and a click keep Qt's way); a
        refused entry keeps the cursor on its cell, to type again (it moved on, past the cell the message was
        about)."""
        refused, self._input_refused = self._input_refused, False
        super().closeEditor(editor, hint)
        if hint == QAbstractItemDelegate.EndEditHint.SubmitModelCache and not refused:
            current = self.currentIndex()
            if current.isValid() and current.row() + 1 < self.proxy.rowCount():
                below = self.proxy.index(current.row() + 1, current.column())
                self.selectionModel().setCurrentIndex(below, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    @guard_event
    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.state() != QAbstractItemView.State.EditingState:
            self.clear_selected_cells()
            event.accept()
            return
        super().keyPressEvent(event)


def _cells(selection: QItemSelection) -> int:
    return sum(r.width() * r.height() for r in selection)


__all__ = ["RatingGridView", "USERS", "ITEMS"]
