"""The ratings in a workbook, and in whichever table of a file a person points at.

A workbook's first sheet is read whole, as any file is, when that is a table; the other sheets (all of them,
when the first is not a table) are searched for crosstabs and long tables (:mod:`.tables`). Copies of one
table count once, a long table of the same ratings settles a crosstab's orientation, and what the workbook
still leaves open (several tables, an orientation nothing says) becomes the result's ``question``: the
reader's guess is taken, and said, and a person can choose otherwise in the window's preview.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..lazy import lazy_import
from .errors import RatingsFileError, quoted
from .readers import (
    LoadResult, NoRatingsTable, _long_from_table, _table_result, _wide_from_table, long_columns,
)
from .tables import (
    CORROBORATION_SHARE, Candidate, Orientation, Region, Sheet, TableSource, find_tables, wide_orientation,
    with_orientation,
)

pd = lazy_import("pandas")


def read_workbook(path, binary: bool | None = None) -> LoadResult:
    """The ratings in an .xlsx workbook: its first sheet read whole, like a CSV, when that is a table and no
    other sheet holds other ratings; else the crosstab or long table found among its sheets (see
    :mod:`.tables`). What the workbook does not settle is the result's ``question``."""
    from .excel import read_sheets

    path = Path(path)
    source = inspect_workbook(path, read_sheets(path), binary)
    result = read_candidate(source, source.chosen, binary)
    if source.question:
        result.question = source
        chosen = source.chosen
        where = chosen.describe(source.sheet_of(chosen).name)
        if chosen.orientation is not None:
            where += f", rows as {'movies' if chosen.orientation.rows_are_items else 'users'}"
        result.warnings = [w for w in result.warnings if not w.startswith("rows were taken as")]
        result.warnings.append(f"{source.question}: read {where}")
    return result


def inspect_workbook(path: Path, sheets: list[Sheet], binary: bool | None = None) -> TableSource:
    """What could be the ratings in these sheets, best first, and which to take without asking.
    NoRatingsTable when nothing could (its ``source`` still holds the cells, for a person to point)."""
    first = sheets[0]
    whole = whole_error = None
    if len(first.row_numbers):
        try:
            whole = whole_sheet_candidate(first, 0, _table_result(first.frame(), path, binary))
        except RatingsFileError as error:
            whole_error = error
    # A first sheet that reads whole is one table: only the other sheets are searched.
    searched = [(index, sheet) for index, sheet in enumerate(sheets) if index or whole is None]
    found = _settle([candidate for index, sheet in searched for candidate in find_tables(sheet, index)], sheets)
    rating_like = [c for c in found if c.rating_like]
    pool = ([whole] if whole is not None else []) + (rating_like or ([] if whole is not None else found))
    candidates = (([whole] if whole is not None else []) + found)[:MAX_SHOWN]
    if not pool:
        source = TableSource(path, sheets, candidates, None, "no table of ratings was found")
        if whole_error is not None:
            raise NoRatingsTable(path, whole_error.problem, whole_error.line, source)
        raise NoRatingsTable(path, "no table of ratings was found in any sheet (a crosstab with labels, or user, "
                                   "item and rating columns)", None, source)
    chosen = pool[0]
    others = len(pool) - 1
    if others:
        question = f"the workbook holds {others + 1} tables that could be the ratings"
    elif chosen.orientation is not None and not chosen.orientation.decided:
        question = chosen.orientation.reason
    elif not chosen.rating_like and chosen is not whole:
        question = f"the numbers in {chosen.region.reference} are not whole or half stars"
    else:
        question = ""
    return TableSource(path, sheets, candidates, chosen, question)


MAX_SHOWN = 12


def whole_sheet_candidate(sheet: Sheet, index: int, result: LoadResult) -> Candidate:
    """The first sheet (or a text file) read whole, as a file of its own, as a candidate."""
    ratings = result.ratings
    orientation = result.orientation
    rows_are_items = orientation.rows_are_items if orientation is not None else False
    rows, columns = (ratings.n_items, ratings.n_users) if rows_are_items else (ratings.n_users, ratings.n_items)
    if orientation is None:  # a long table
        rows, columns = ratings.n_ratings, 3
    values = ratings.values
    region = Region(index, int(sheet.row_numbers[0]), 1, sheet.n_rows, max(sheet.n_columns, 1), "sheet")
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    return Candidate(region, rows, columns, ratings.n_ratings, True, low, high, orientation)


def _settle(found: list[Candidate], sheets: list[Sheet]) -> list[Candidate]:
    """Copies of one table (the same crosstab on two sheets) kept once; a crosstab's orientation settled by
    a long table of the same ratings, which is then not a table of its own."""
    unique, seen = [], set()
    for candidate in found:
        if candidate.digest and candidate.digest in seen:
            continue
        seen.add(candidate.digest)
        unique.append(candidate)
    long_tables = [c for c in unique if c.region.shape == "long" and c.rated <= CORROBORATION_LIMIT]
    copies = set()
    for at, candidate in enumerate(unique):
        if candidate.region.shape != "wide" or candidate.rated > CORROBORATION_LIMIT:
            continue
        cells = _crosstab_cells(sheets[candidate.region.sheet], candidate)
        for table in long_tables:
            pairs = _long_cells(sheets[table.region.sheet], table)
            as_users = sum(pairs.get((row, column)) == value for (row, column), value in cells.items())
            as_items = sum(pairs.get((column, row)) == value for (row, column), value in cells.items())
            best = max(as_users, as_items)
            if best < CORROBORATION_SHARE * len(cells) or as_users == as_items:
                continue
            if not candidate.orientation.decided:
                unique[at] = candidate = with_orientation(
                    candidate, as_items > as_users,
                    f"the long table {table.region.reference} on “{sheets[table.region.sheet].name}” holds the same "
                    "ratings")
            if abs(len(pairs) - len(cells)) <= (1 - CORROBORATION_SHARE) * len(cells):
                copies.add(id(table))
    return [c for c in unique if id(c) not in copies]


CORROBORATION_LIMIT = 200_000  # ratings compared cell by cell; larger tables keep what their labels say


def _crosstab_cells(sheet: Sheet, candidate: Candidate) -> dict:
    region = candidate.region
    table = sheet.block(region.top, region.left, region.bottom, region.right).to_numpy(dtype=object)
    if region.label_rows == 2 and len(table) > 1:
        table = np.delete(table, 1, axis=0)
    column_labels = [str(v).strip() for v in table[0, 1:]]
    cells = {}
    for row in table[1:]:
        for column, text in zip(column_labels, row[1:]):
            number = _as_number(text)
            if number is not None:
                cells[(str(row[0]).strip(), column)] = number
    return cells


def _long_cells(sheet: Sheet, candidate: Candidate) -> dict:
    region = candidate.region
    user, item, rating = (sheet.block(region.top + 1, column, region.bottom, column).to_numpy(dtype=object)[:, 0]
                          for column in region.columns)
    return {(str(u).strip(), str(i).strip()): number for u, i, r in zip(user, item, rating)
            if (number := _as_number(r)) is not None}


def _as_number(text) -> float | None:
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def read_candidate(source: TableSource, candidate: Candidate, binary: bool | None = None,
                   rows_are_items: bool | None = None) -> LoadResult:
    """The ratings of one table of a source (a crosstab read ``rows_are_items`` when given, else as found)."""
    path = Path(source.path)
    region = candidate.region
    sheet = source.sheets[region.sheet]
    orientation = candidate.orientation
    if rows_are_items is not None:
        orientation = Orientation(bool(rows_are_items), True, "chosen in the preview")
    try:
        if region.shape == "sheet":
            result = _table_result(sheet.frame(), path, binary, orientation)
        elif region.shape == "long":
            body = sheet.block(region.top + 1, 1, region.bottom, sheet.n_columns)
            if body.empty:
                raise RatingsFileError(path, "a header but no ratings")
            table = body.iloc[:, [column - 1 for column in region.columns]]
            result = _long_from_table(table, (0, 1, 2), path, binary, fmt="long")
            result.users_from = f"the column {quoted(sheet.text(region.top, region.columns[0]).strip())}"
        else:
            table = sheet.block(region.top, region.left, region.bottom, region.right)
            if region.label_rows == 2 and len(table) > 1:
                table = table.drop(index=table.index[1])
            if table.shape[0] < 2 or table.shape[1] < 2:
                raise RatingsFileError(path, "not a table: it needs a row of labels, a column of labels and "
                                             "ratings between them")
            result = _wide_from_table(table, path, binary, orientation)
    except RatingsFileError as error:
        if len(source.sheets) == 1:
            raise  # the line is the row of the only sheet
        raise RatingsFileError(path, f"{_place(sheet, region)}: {error.problem}", error.line) from None
    if sheet.kind == "sheet":
        result.format = "xlsx-" + ("long" if region.shape == "long" else result.format)
    return result


def _place(sheet: Sheet, region: Region) -> str:
    return f"sheet “{sheet.name}” {region.reference}" if sheet.kind == "sheet" else region.reference


def candidate_at(source: TableSource, sheet_index: int, top: int, left: int, bottom: int, right: int) -> Candidate:
    """A table a person pointed at: long when its top row names user, item and rating columns, else a
    crosstab; its counts are those of the cells (the ratings themselves are checked by read_candidate)."""
    sheet = source.sheets[sheet_index]
    table = sheet.block(top, left, bottom, right)
    cells = table.to_numpy(dtype=object)
    if cells.ndim != 2 or cells.shape[1] == 0:  # a range right of the sheet's last column: no cells at all
        cells = np.empty((0, 0), dtype=object)
    header = [str(v) for v in cells[0]] if len(cells) else []
    columns = long_columns(header) if header else None
    numbers = pd.to_numeric(pd.Series(cells[1:, 1:].ravel(), dtype=object), errors="coerce").to_numpy(float) \
        if len(cells) > 1 else np.empty(0)
    numbers = numbers[np.isfinite(numbers)]
    low, high = (float(numbers.min()), float(numbers.max())) if len(numbers) else (0.0, 0.0)
    with np.errstate(over="ignore"):
        rating_like = bool(np.all(numbers * 2 == np.round(numbers * 2)))
    if columns is not None:
        region = Region(sheet_index, top, left, bottom, right, "long",
                        columns=tuple(left + column for column in columns))
        return Candidate(region, max(len(cells) - 1, 0), 3, max(len(cells) - 1, 0), rating_like, low, high)
    corner = str(cells[0, 0]) if len(cells) and cells.shape[1] else ""
    row_labels = [str(v) for v in cells[1:, 0]] if len(cells) else []
    column_labels = [str(v) for v in cells[0, 1:]] if len(cells) else []
    region = Region(sheet_index, top, left, bottom, right, "wide")
    return Candidate(region, len(row_labels), len(column_labels), len(numbers), rating_like, low, high,
                     wide_orientation(corner, row_labels, column_labels))
