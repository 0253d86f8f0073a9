"""The sheets of an .xlsx workbook as cells of text, read without trusting what the file declares.

An .xlsx is a zip of XML parts. Before openpyxl reads a cell: every part's declared size and
compression ratio is checked (zip bombs), the sheet's declared ``<dimension>`` (rows × columns) is
checked against the matrix limit, and then the sheet is streamed (openpyxl read-only mode, which
parses the XML as it goes) with the same limit applied to the cells actually present, so that a
sheet with no dimension but a cell in XFD1048576 stops there instead of padding 17 billion cells.
Every sheet is read (the ratings need not be on the first: see :mod:`.tables`), all of them together
within the same limit.
pandas.read_excel is not used: it pads every row to the declared dimension.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from . import limits
from .errors import RatingsFileError, one_line
from .tables import Sheet

# openpyxl keeps shared strings, styles and the workbook's other parts as Python objects: about this
# many bytes of memory per byte of their XML.
XML_OVERHEAD = 4


def read_sheets(path: Path) -> list[Sheet]:
    """Cells of every worksheet as text ("" where empty), in the workbook's order; blank rows left out."""
    with limits.open_regular(path) as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                _check_parts(path, archive)
        except zipfile.BadZipFile:
            raise RatingsFileError(path, "not an Excel workbook (not a zip archive)") from None
        handle.seek(0)
        try:
            sheets = _stream_sheets(path, handle)
        except RatingsFileError:
            raise
        except MemoryError:
            raise RatingsFileError(path, "there is not enough free memory to read this workbook") from None
        except Exception as error:  # openpyxl raises many types for a corrupt or foreign file
            raise RatingsFileError(
                path, f"cannot read as an Excel workbook ({type(error).__name__}: {one_line(error)})") from None
    if not any(len(sheet.row_numbers) for sheet in sheets):
        raise RatingsFileError(path, "the first sheet is empty" if len(sheets) == 1 else "every sheet is empty")
    return sheets


def _check_parts(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse parts whose declared size is absurd or compressed like a zip bomb, and workbooks whose
    non-sheet parts (read whole by openpyxl) would not fit in memory."""
    if "xl/workbook.xml" not in archive.namelist():  # openpyxl said "KeyError: There is no item named ..."
        raise RatingsFileError(path, "a zip archive, but not an Excel workbook (it has no xl/workbook.xml)")
    whole_parts = 0
    for part in archive.infolist():
        if part.file_size > limits.MAX_ZIP_MEMBER_BYTES:
            raise RatingsFileError(path, f"the workbook part {part.filename} declares "
                                         f"{limits.describe_bytes(part.file_size)}, more than a workbook may hold")
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > limits.ZIP_RATIO_MIN_BYTES and ratio > limits.MAX_ZIP_RATIO:
            raise RatingsFileError(path, f"the workbook part {part.filename} expands {ratio:,.0f} times, "
                                         "as a zip bomb does, not a workbook")
        if not part.filename.startswith("xl/worksheets/"):
            whole_parts += part.file_size
    limits.check_memory(path, whole_parts * XML_OVERHEAD, "reading this workbook")


def _sheet_name(position: int, title: str) -> str:
    return "the first sheet" if position == 0 else f"the sheet “{title}”"


def _stream_sheets(path: Path, handle) -> list[Sheet]:
    """Every worksheet's non-empty rows as text, refused as soon as a sheet's declared or actual extent, or
    all sheets' together, pass the matrix limit."""
    import openpyxl

    workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
    try:
        if not workbook.worksheets:
            raise RatingsFileError(path, "the workbook has no worksheet")
        sheets, cells_so_far = [], 0
        for position, sheet in enumerate(workbook.worksheets):
            name = _sheet_name(position, sheet.title)
            if sheet.max_row is not None and sheet.max_column is not None:
                limits.check_matrix_cells(path, int(sheet.max_row), int(sheet.max_column),
                                          f"{name}'s declared size ({sheet.calculate_dimension()})")
            sheet.reset_dimensions()  # stream the rows as they are, not padded to what the file declares
            rows, width = [], 0
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if not values:  # the rows openpyxl pads a gap with (a far cell: tens of thousands)
                    continue
                present = [at for at, value in enumerate(values) if value is not None]
                if not present:
                    continue
                width = max(width, present[-1] + 1)
                limits.check_matrix_cells(path, number, width, name)
                if cells_so_far + number * width > limits.MAX_MATRIX_CELLS:
                    raise RatingsFileError(path, f"the workbook's sheets reach {cells_so_far + number * width:,} "
                                                 f"cells together, more than the {limits.MAX_MATRIX_CELLS:,} a "
                                                 "matrix may have; save the ratings in the long format "
                                                 "(user,item,rating)")
                rows.append((number, ["" if value is None else _cell_text(value)
                                      for value in values[: present[-1] + 1]]))
            cells_so_far += (rows[-1][0] if rows else 0) * width
            cells = np.full((len(rows), width), "", dtype=object)
            for at, (number, row) in enumerate(rows):
                cells[at, : len(row)] = row
            sheets.append(Sheet(sheet.title, cells, np.asarray([n for n, _ in rows], dtype=np.int64)))
        return sheets
    finally:
        workbook.close()


def _cell_text(cell) -> str:
    if isinstance(cell, float) and math.isfinite(cell) and cell == int(cell) and abs(cell) < 2**53:
        return str(int(cell))
    return str(cell)
