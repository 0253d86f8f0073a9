"""File ▸ Open of a headerless matrix of numbers with no R file beside it: a preview of its first cells that
asks whether 0 means "not rated" (as in the course lab's Y, whose R is 0 there) or is a rating.

The reader (io/dense.py) has already read the file, taking 0 as "not rated"; the window switches to nothing
until OK, and "0 is a rating" reads it again that way.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QRadioButton, QTableView, QVBoxLayout

from ..io import limits
from ..io.tables import Sheet
from .table_preview import SheetModel

PREVIEW_ROWS, PREVIEW_COLUMNS = 30, 20  # the cells shown: enough to see the zeros, cheap for any matrix


def preview_sheet(path) -> Sheet:
    """The first rows and columns of a matrix file as a sheet of cells (columns 1, 2, …), from its first 64 kB."""
    with limits.open_regular(path) as handle:
        text = handle.read(65536).decode("utf-8-sig", errors="replace")
    lines = text.lstrip("\r\n").splitlines()[:PREVIEW_ROWS]
    delimiter = "," if lines and "," in lines[0] else "\t"
    rows = [line.split(delimiter)[:PREVIEW_COLUMNS] for line in lines]
    width = max((len(row) for row in rows), default=0)
    cells = np.full((len(rows), width), "", dtype=object)
    for position, row in enumerate(rows):
        cells[position, : len(row)] = [cell.strip() for cell in row]
    return Sheet(Path(path).name, cells, np.arange(1, len(rows) + 1, dtype=np.int64), kind="text")


class ZeroMeaningDialog(QDialog):
    """The matrix's first cells and one question: does 0 mean "not rated"?"""

    def __init__(self, question, parent=None):
        super().__init__(parent)
        result = question.result
        self.setWindowTitle(f"Open {question.path.name}")
        ratings = result.ratings
        intro = QLabel(
            f"<b>{question.path.name}</b> is a matrix of numbers without labels: "
            f"{ratings.n_items:,} rows (movies) × {ratings.n_users:,} columns (users), as the course lab's Y. "
            f"It holds {result.zeros:,} zeros and no R file beside it says which cells are rated.")
        intro.setWordWrap(True)
        self.table = QTableView()
        self.model = SheetModel(preview_sheet(question.path), self)
        self.table.setModel(self.model)
        self.table.horizontalHeader().setDefaultSectionSize(48)
        self.zero_unrated = QRadioButton("0 means “not rated” (the lab's Y: ratings 0.5–5, 0 where R is 0)")
        self.zero_rating = QRadioButton("0 is a rating")
        self.zero_unrated.setChecked(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.zero_unrated)
        layout.addWidget(self.zero_rating)
        layout.addWidget(buttons)
        self.resize(720, 480)


def ask_zero_meaning(parent, question) -> bool | None:
    """True when 0 means "not rated", False when it is a rating, None when cancelled. Without dialogs (tests,
    screenshots) the reader's own reading is taken: 0 is "not rated", as in the lab."""
    if os.environ.get("CFEXPLORER_NO_DIALOGS"):
        return True
    dialog = ZeroMeaningDialog(question, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.zero_unrated.isChecked()
    finally:
        dialog.deleteLater()


__all__ = ["ZeroMeaningDialog", "ask_zero_meaning", "preview_sheet"]
