"""The first sheet of an .xlsx workbook as cells of text, read without trusting what the file declares.

An .xlsx is a zip of XML parts. Before openpyxl reads a cell: every part's declared size and
compression ratio is checked (zip bombs), the sheet's declared ``<dimension>`` (rows × columns) is
checked against the matrix limit, and then the sheet is streamed (openpyxl read-only mode, which
parses the XML as it goes) with the same limit applied to the cells actually present, so that a
sheet with no dimension but a cell in XFD1048576 stops there instead of padding 17 billion cells.
pandas.read_excel is not used: it pads every row to the declared dimension.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from ..lazy import lazy_import
from . import limits
from .errors import RatingsFileError, one_line

pd = lazy_import("pandas")

# openpyxl keeps shared strings, styles and the workbook's other parts as Python objects: about this
# many bytes of memory per byte of their XML.
XML_OVERHEAD = 4


def read_first_sheet(path: Path) -> pd.DataFrame:
    """Cells of the first worksheet as text ("" where empty); the index is the sheet's row number."""
    with limits.open_regular(path) as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                _check_parts(path, archive)
        except zipfile.BadZipFile:
            raise RatingsFileError(path, "not an Excel workbook (not a zip archive)") from None
        handle.seek(0)
        try:
            rows = _stream_rows(path, handle)
        except RatingsFileError:
            raise
        except MemoryError:
            raise RatingsFileError(path, "there is not enough free memory to read this workbook") from None
        except Exception as error:  # openpyxl raises many types for a corrupt or foreign file
            raise RatingsFileError(
                path, f"cannot read as an Excel workbook ({type(error).__name__}: {one_line(error)})") from None
    if not rows:
        raise RatingsFileError(path, "the first sheet is empty")
    cells = np.full((len(rows), max(len(row) for number, row in rows)), "", dtype=object)
    for position, (number, row) in enumerate(rows):
        cells[position, : len(row)] = row
    return pd.DataFrame(cells, index=np.asarray([number for number, row in rows]), dtype=object, copy=False)


def _check_parts(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse parts whose declared size is absurd or compressed like a zip bomb, and workbooks whose
    non-sheet parts (read whole by openpyxl) would not fit in memory."""
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


def _stream_rows(path: Path, handle) -> list[tuple[int, list[str]]]:
    """(row number, cells as text) of each non-empty row of the first worksheet, refused as soon as
    the declared or the actual extent passes the matrix limit."""
    import openpyxl

    workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
    try:
        if not workbook.worksheets:
            raise RatingsFileError(path, "the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        if sheet.max_row is not None and sheet.max_column is not None:
            limits.check_matrix_cells(path, int(sheet.max_row), int(sheet.max_column),
                                      f"the first sheet's declared size ({sheet.calculate_dimension()})")
        sheet.reset_dimensions()  # stream the rows as they are, not padded to what the file declares
        rows, width = [], 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            present = [position for position, value in enumerate(values) if value is not None] if values else []
            if not present:
                continue
            width = max(width, present[-1] + 1)
            limits.check_matrix_cells(path, number, width, "the first sheet")
            rows.append((number, ["" if value is None else _cell_text(value) for value in values[: present[-1] + 1]]))
        return rows
    finally:
        workbook.close()


def _cell_text(cell) -> str:
    if isinstance(cell, float) and math.isfinite(cell) and cell == int(cell) and abs(cell) < 2**53:
        return str(int(cell))
    return str(cell).replace("\n", " ")
