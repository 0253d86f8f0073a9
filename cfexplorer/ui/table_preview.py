"""File ▸ Open of a file that does not settle what its ratings are: a preview of its cells to choose them.

The reader (io/workbook.py, io/readers.py) has already read the file, off the GUI thread, and found the
candidate tables; what it could not settle — which of a workbook's tables, which way round a crosstab is —
comes here as a :class:`~cfexplorer.io.tables.TableSource`. The dialog shows the sheet with the chosen range
tinted (its labels darker), the tables found, the sheet and range (typed, or selected with the mouse) and
"rows are users / movies", and below them what the choice reads as — or, in one line, why it does not. The
window switches to nothing until OK.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel,
    QLineEdit, QListWidget, QRadioButton, QTableView, QVBoxLayout,
)

from ..io.errors import RatingsFileError
from ..io.tables import Candidate, Sheet, TableSource, column_name, parse_range
from .qt_guard import qt_virtual

# A choice is read in full to say what it holds while it has at most this many cells; a larger one is
# described by its shape, and read when OK is pressed.
PREVIEW_READ_CELLS = 250_000
LABEL_TINT, BODY_TINT = QColor(120, 170, 230), QColor(214, 230, 250)


@dataclass(frozen=True)
class TableChoice:
    """The table taken (a crosstab ``rows_are_items``, None for a long table or as found) and whether a person
    chose it (else it is the reader's own guess, taken without asking)."""

    candidate: Candidate
    rows_are_items: bool | None
    by_person: bool


class SheetModel(QAbstractTableModel):
    """A sheet's cells as the spreadsheet shows them (columns A, B, … or 1, 2, …; rows by number), the
    chosen region tinted."""

    def __init__(self, sheet: Sheet, parent=None):
        super().__init__(parent)
        self.sheet = sheet
        self.region = None  # (top, left, bottom, right, label rows) in sheet coordinates
        self._rows = max(sheet.n_rows, 1)
        self._columns = max(sheet.n_columns, 1)

    def set_region(self, region):
        self.region = region
        if self._rows and self._columns:
            self.dataChanged.emit(self.index(0, 0), self.index(self._rows - 1, self._columns - 1))

    @qt_virtual(0)
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self._rows

    @qt_virtual(0)
    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self._columns

    @qt_virtual(None)
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = index.row() + 1, index.column() + 1
        if role == Qt.ItemDataRole.DisplayRole:
            return self.sheet.text(row, column)
        if role == Qt.ItemDataRole.BackgroundRole and self.region is not None:
            top, left, bottom, right, label_rows = self.region
            if top <= row <= bottom and left <= column <= right:
                return LABEL_TINT if row < top + label_rows or column == left else BODY_TINT
        return None

    @qt_virtual(None)
    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return column_name(section + 1) if self.sheet.kind == "sheet" else str(section + 1)
        return str(section + 1)


class TablePreviewDialog(QDialog):
    """Choose the table of ratings in a file, and which way round it is; :meth:`choice` after OK."""

    def __init__(self, source: TableSource, error: str = "", parent=None):
        super().__init__(parent)
        self.source = source
        name = getattr(source.path, "name", str(source.path))
        self.setWindowTitle(f"Choose the ratings in {name}")
        why = source.question or error or "choose the table of ratings"
        self.question = QLabel(f"<b>Which cells of {name} are the ratings?</b> The file does not settle it: "
                               f"{why}. Choose below; nothing changes until OK.")
        self.question.setWordWrap(True)
        self.found = QListWidget()
        self.found.setMaximumHeight(110)
        for candidate in source.candidates:
            self.found.addItem(candidate.describe(source.sheet_of(candidate).name))
        self.sheet_box = QComboBox()
        for sheet in source.sheets:
            self.sheet_box.addItem(sheet.name)
        self.range_edit = QLineEdit()
        self.range_edit.setPlaceholderText("e.g. G1:V16")
        self.range_edit.setToolTip("The table's cells, its labels included; or select them in the preview")
        self.rows_are_users = QRadioButton("Rows are users")
        self.rows_are_movies = QRadioButton("Rows are movies")
        self.orientation = QButtonGroup(self)
        self.orientation.addButton(self.rows_are_users)
        self.orientation.addButton(self.rows_are_movies)
        for button in (self.rows_are_users, self.rows_are_movies):
            button.setEnabled(False)  # until a crosstab is chosen
        self.view = QTableView()
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.horizontalHeader().setDefaultSectionSize(64)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        where = QGridLayout()
        where.addWidget(QLabel("Sheet"), 0, 0)
        where.addWidget(self.sheet_box, 0, 1)
        where.addWidget(QLabel("Range"), 1, 0)
        where.addWidget(self.range_edit, 1, 1)
        turn = QHBoxLayout()
        turn.addWidget(self.rows_are_users)
        turn.addWidget(self.rows_are_movies)
        turn.addStretch(1)
        where.addLayout(turn, 2, 0, 1, 2)
        top = QHBoxLayout()
        found = QVBoxLayout()
        found.addWidget(QLabel("Tables found"))
        found.addWidget(self.found)
        top.addLayout(found, 3)
        top.addLayout(where, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self.resize(960, 640)

        self._candidate: Candidate | None = None  # what the choice is now
        self._models: dict[int, SheetModel] = {}
        self._updating = False
        self.found.currentRowChanged.connect(self._on_found_choice)
        self.found.itemClicked.connect(self._on_found_clicked)
        self.sheet_box.currentIndexChanged.connect(self._on_sheet_change)
        self.range_edit.editingFinished.connect(self._on_range_typed)
        # once a choice: a click toggles two buttons, and a table shown sets one (its summary follows anyway)
        self.orientation.buttonToggled.connect(
            lambda button, checked: checked and not self._updating and self._show_summary())
        chosen = source.chosen if source.chosen is not None else (source.candidates[0] if source.candidates else None)
        if chosen is not None and chosen in source.candidates:
            self.found.setCurrentRow(source.candidates.index(chosen))
        else:
            self._show_sheet(0)
            self._show_summary()

    # --- what is shown ----------------------------------------------------------------------------------
    def _model(self, index: int) -> SheetModel:
        if index not in self._models:
            self._models[index] = SheetModel(self.source.sheets[index], self)
        return self._models[index]

    def _show_sheet(self, index: int):
        model = self._model(index)
        if self.view.model() is not model:
            self.view.setModel(model)
            self.view.selectionModel().selectionChanged.connect(self._on_cells_selected)
        if self.sheet_box.currentIndex() != index:
            self._updating = True
            self.sheet_box.setCurrentIndex(index)
            self._updating = False

    def _show_candidate(self, candidate: Candidate | None, rows_are_items: bool | None = None):
        self._candidate = candidate
        self._updating = True
        try:
            self._mark_found(candidate)
            if candidate is not None:
                region = candidate.region
                self._show_sheet(region.sheet)
                self.range_edit.setText(region.reference)
                if rows_are_items is None and candidate.orientation is not None:
                    rows_are_items = candidate.orientation.rows_are_items
                self._offer_orientation(region.shape != "long" and candidate.orientation is not None,
                                        rows_are_items)
                self._model(region.sheet).set_region((region.top, region.left, region.bottom, region.right,
                                                      region.label_rows if region.shape == "wide" else 1))
                self._scroll_to(candidate)
            else:
                self._offer_orientation(False)
        finally:
            self._updating = False
        self._show_summary()

    def _offer_orientation(self, wide: bool, rows_are_items: bool | None = None):
        """The two "Rows are …" buttons, enabled for a crosstab with the one checked that says how it is read;
        disabled and neither checked for anything else."""
        for button in (self.rows_are_users, self.rows_are_movies):
            button.setEnabled(wide)
        if wide:
            (self.rows_are_movies if rows_are_items else self.rows_are_users).setChecked(True)
        else:
            self.orientation.setExclusive(False)  # an exclusive group keeps one button checked
            for button in (self.rows_are_users, self.rows_are_movies):
                button.setChecked(False)
            self.orientation.setExclusive(True)

    def _mark_found(self, candidate: Candidate | None):
        # The current entry is always the table shown (none for other cells): were it left on a table no longer
        # shown, clicking that entry would change no row and so choose nothing.
        row = self.source.candidates.index(candidate) if candidate in self.source.candidates else -1
        self.found.blockSignals(True)
        try:
            if row < 0:
                self.found.clearSelection()
            self.found.setCurrentRow(row)
        finally:
            self.found.blockSignals(False)

    def _scroll_to(self, candidate: Candidate):
        region = candidate.region
        self.view.scrollTo(self._model(region.sheet).index(region.top - 1, region.left - 1),
                           QAbstractItemView.ScrollHint.PositionAtTop)

    def _clear_cells_selected(self):
        """Cells dragged over earlier are not left highlighted beside a table chosen otherwise."""
        self._updating = True
        try:
            self.view.clearSelection()
        finally:
            self._updating = False

    def _show_summary(self):
        problem, description = self._reading()
        self.summary.setText(problem or description)
        self.summary.setStyleSheet("color: #a01010;" if problem else "")
        self.ok_button.setEnabled(not problem)

    def _reading(self) -> tuple[str, str]:
        """(what keeps the table chosen from reading as ratings, "" when nothing; what it reads as), the cells read
        once (a problem and a description each read them: twice for every table, range or orientation chosen)."""
        candidate = self._candidate
        if candidate is None:
            return "Choose a table above, or type its range (its labels included).", ""
        if candidate.region.cells > PREVIEW_READ_CELLS:
            return "", (f"{candidate.region.reference}: {candidate.rows:,} rows × {candidate.columns:,} columns of "
                        "labels around the ratings (read in full when you press OK)")
        try:
            ratings = self._read().ratings
        except RatingsFileError as error:
            where = f"row {error.line}: " if error.line is not None else ""
            return f"These cells do not read as ratings: {where}{error.problem}", ""
        scale = ("binary label" if ratings.binary else "rating") if ratings.n_ratings == 1 else \
            ("binary labels" if ratings.binary else "ratings")
        if not ratings.binary:
            scale += f" {ratings.scale.describe()}"
        users, movies = ("user" if ratings.n_users == 1 else "users"), ("movie" if ratings.n_items == 1 else "movies")
        return "", (f"Reads as {ratings.n_users:,} {users} × {ratings.n_items:,} {movies}, {ratings.n_ratings:,} "
                    f"{scale}: users such as {_first(ratings.user_labels)}; movies such as "
                    f"{_first(ratings.item_titles())}")

    def _read(self):
        from ..io.workbook import read_candidate

        return read_candidate(self.source, self._candidate, rows_are_items=self._rows_are_items())

    def _rows_are_items(self) -> bool | None:
        if not self.rows_are_users.isEnabled() or self.orientation.checkedButton() is None:
            return None
        return self.rows_are_movies.isChecked()

    # --- what the person does ---------------------------------------------------------------------------
    def _on_found_choice(self, row: int):
        if 0 <= row < len(self.source.candidates):
            self._clear_cells_selected()
            self._show_candidate(self.source.candidates[row])

    def _on_found_clicked(self, item):
        # A click on the entry already chosen changes no row: it brings the table back into view.
        row = self.found.row(item)
        if 0 <= row < len(self.source.candidates) and self.source.candidates[row] == self._candidate:
            self._scroll_to(self._candidate)

    def _on_sheet_change(self, index: int):
        if self._updating or index < 0:
            return
        self._show_sheet(index)
        sheet_candidates = [c for c in self.source.candidates if c.region.sheet == index]
        if sheet_candidates:
            self._show_candidate(sheet_candidates[0])
        else:
            self._candidate = None
            self._mark_found(None)
            self._model(index).set_region(None)
            self.range_edit.clear()
            self._offer_orientation(False)  # no table here to turn (the last sheet's choice stayed, enabled)
            self._show_summary()

    def _on_range_typed(self):
        if self._updating:
            return
        try:
            top, left, bottom, right = parse_range(self.range_edit.text())
        except ValueError as error:
            self._candidate = None
            self._mark_found(None)
            self.summary.setText(str(error))
            self.summary.setStyleSheet("color: #a01010;")
            self.ok_button.setEnabled(False)
            return
        self._clear_cells_selected()
        self.point_at(self.sheet_box.currentIndex(), top, left, bottom, right)

    def _on_cells_selected(self, *_):
        if self._updating:
            return
        ranges = self.view.selectionModel().selection()
        if not len(ranges) or (ranges[0].width() == 1 and ranges[0].height() == 1):
            return
        block = ranges[0]
        self.point_at(self.sheet_box.currentIndex(), block.top() + 1, block.left() + 1, block.bottom() + 1,
                      block.right() + 1)

    def point_at(self, sheet: int, top: int, left: int, bottom: int, right: int):
        """Take the cells of a range as the table (what typing it or selecting it does)."""
        from ..io.workbook import candidate_at

        for candidate in self.source.candidates:  # a table found: keep what was found of it
            region = candidate.region
            if (region.sheet, region.top, region.left, region.bottom, region.right) == (sheet, top, left, bottom,
                                                                                          right):
                self._show_candidate(candidate, self._rows_are_items())
                return
        self._show_candidate(candidate_at(self.source, sheet, top, left, bottom, right), self._rows_are_items())

    def select_cells(self, top: int, left: int, bottom: int, right: int):
        """Select a block of the preview as a mouse drag does (1-based, inclusive)."""
        model = self.view.model()
        selection = self.view.selectionModel()
        selection.select(QItemSelection(model.index(top - 1, left - 1), model.index(bottom - 1, right - 1)),
                         QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def choice(self) -> TableChoice | None:
        """The table chosen (rows are movies — None for a long table), or None when nothing is."""
        if self._candidate is None:
            return None
        return TableChoice(self._candidate, self._rows_are_items(), True)

    @property
    def range_text(self) -> str:
        return self.range_edit.text()


def _first(labels, n: int = 3) -> str:
    shown = ", ".join(str(label) for label in list(labels[:n]))
    return shown + (", …" if len(labels) > n else "")


def ask_for_table(parent, source: TableSource, error: str = "") -> TableChoice | None:
    """The table a person chooses in the preview; None when cancelled. Without dialogs (tests, screenshots)
    the reader's own choice is taken, as it is without anyone to ask."""
    if os.environ.get("CFEXPLORER_NO_DIALOGS"):
        return TableChoice(source.chosen, None, False) if source.chosen is not None else None
    dialog = TablePreviewDialog(source, error, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.choice()
    finally:
        dialog.deleteLater()


__all__ = ["SheetModel", "TableChoice", "TablePreviewDialog", "ask_for_table"]
