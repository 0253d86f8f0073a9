"""Where the ratings are in a grid of cells, and which way round a crosstab is.

A workbook made for teaching (fast.ai's ``collab_filter.xlsx``) keeps its rating crosstab somewhere inside a
sheet (G1:V16), with factor blocks, predictions and formulas around it and copies on other sheets. This
module finds the candidate tables in such a sheet — a crosstab (a header row of labels, a column of labels,
numbers or blanks between) or a long table (user, item, rating columns named in a header row) — and says
what is known of a crosstab's orientation. It reads cells of text only; :mod:`.readers` turns a chosen
region into ratings with the same checks as any other file.

The search is vectorized: each cell is classed once (empty, number, whole number, text), runs of labels
along rows and down columns are counted with cumulative sums, and a candidate's body is checked with 2-d
prefix sums, so a sheet of a million cells is searched in well under a second. Larger sheets are only read
whole, as a table starting at A1.

Orientation (rows are users, or rows are movies) is decided by what the table says, else left open:

* a corner naming both axes ("userId \\ movieId", "user/movie"): the first named is the rows;
* a corner naming one kind as a plain heading ("Movie", "Title", "User"): the rows, as in the course's
  tables and this app's own files;
* a corner naming one kind as an identifier ("movieId", "user_id") could name either: pandas writes the
  rows' name there, a notebook shows the columns' name there (and fast.ai's sheet is such a copy);
* labels with a year in brackets ("Heat (1995)") on one side only: that side is the movies;
* a long table of the same ratings elsewhere in the workbook settles any of these;
* nothing said, and as many rows as columns: open; otherwise rows are users (the documented default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from ..lazy import lazy_import

pd = lazy_import("pandas")

MISSING_MARKS = ("?", "", "nan", "NaN", "NA", "-")
# Sheets with more cells than this (counting a blank row between separated rows) are only read whole.
DETECT_MAX_CELLS = 1_000_000
MAX_CANDIDATES = 12  # shown in the preview, best first
# A crosstab has at least this many labels each way and rated cells; smaller ones are noise in a sheet.
MIN_LABELS, MIN_RATED = 2, 2
# A long table of the same ratings settles a crosstab's orientation when this share of its cells agree.
CORROBORATION_SHARE = 0.8

USER_WORDS = ("user", "rater", "reviewer", "customer", "person", "student")
ITEM_WORDS = ("movie", "item", "title", "film", "product")
_ID_STYLE = re.compile(r"^(user|movie|item|film|product)[ _-]?(id|ids|idx|index|no|number|key)$")
_TITLE_WITH_YEAR = re.compile(r"\(\d{4}\)\s*$")


# --- cells --------------------------------------------------------------------------------------------
@dataclass
class Sheet:
    """The cells of one sheet (or text file) as text: one row per row that holds a cell, blank rows left out.

    Positions are the sheet's own: ``row_numbers`` (1-based rows of a sheet, lines of a text file) and
    1-based columns, so that a region reads G1:V16 as in the spreadsheet."""

    name: str
    cells: np.ndarray         # object array of str, "" where empty
    row_numbers: np.ndarray   # int64, increasing
    kind: str = "sheet"       # "sheet" (columns A, B, ...) or "text" (columns 1, 2, ...)

    @property
    def n_rows(self) -> int:
        return int(self.row_numbers[-1]) if len(self.row_numbers) else 0

    @property
    def n_columns(self) -> int:
        return int(self.cells.shape[1]) if self.cells.ndim == 2 else 0

    def text(self, row: int, column: int) -> str:
        """The cell at a 1-based (row, column), "" where empty."""
        at = int(np.searchsorted(self.row_numbers, row))
        if at >= len(self.row_numbers) or self.row_numbers[at] != row or not 1 <= column <= self.n_columns:
            return ""
        return self.cells[at, column - 1]

    def block(self, top: int, left: int, bottom: int, right: int) -> "pd.DataFrame":
        """Cells of a region (1-based, inclusive) as text; the index is the row numbers (blank rows left out)."""
        rows = (self.row_numbers >= top) & (self.row_numbers <= bottom)
        right = min(right, self.n_columns)
        values = self.cells[rows, left - 1: right]
        return pd.DataFrame(values, index=self.row_numbers[rows], dtype=object, copy=False)

    def frame(self) -> "pd.DataFrame":
        """Every cell, as a table starting at A1 (the whole-file reading)."""
        return pd.DataFrame(self.cells, index=self.row_numbers, dtype=object, copy=False)


def column_name(column: int) -> str:
    """1 -> A, 27 -> AA."""
    name = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        name = chr(65 + rest) + name
    return name


def column_number(name: str) -> int:
    number = 0
    for letter in name.upper():
        number = number * 26 + ord(letter) - 64
    return number


def format_range(top: int, left: int, bottom: int, right: int) -> str:
    return f"{column_name(left)}{top}:{column_name(right)}{bottom}"


_RANGE = re.compile(r"^\s*\$?([A-Za-z]{1,3})\$?(\d{1,7})\s*(?::\s*\$?([A-Za-z]{1,3})\$?(\d{1,7}))?\s*$")


def parse_range(text: str) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of "G1:V16" (or one cell, "G1"); ValueError for anything else."""
    match = _RANGE.match(text or "")
    if not match:
        raise ValueError(f"“{text}” is not a range such as G1:V16")
    left, top = column_number(match[1]), int(match[2])
    right, bottom = (column_number(match[3]), int(match[4])) if match[3] else (left, top)
    top, bottom = sorted((top, bottom))
    left, right = sorted((left, right))
    if top < 1 or left < 1:
        raise ValueError(f"“{text}” starts before A1")
    return top, left, bottom, right


# --- orientation ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Orientation:
    """Whether a crosstab's rows are movies; ``decided`` False when the table does not say (then
    ``rows_are_items`` is the guess a reader without anyone to ask takes)."""

    rows_are_items: bool
    decided: bool
    reason: str


def _normalized(text) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower())


def _first_word_at(text: str, words) -> int | None:
    positions = [text.find(word) for word in words if word in text]
    return min(positions) if positions else None


def _title_share(labels) -> float:
    labels = [str(label) for label in labels]
    return sum(bool(_TITLE_WITH_YEAR.search(label)) for label in labels) / len(labels) if labels else 0.0


def rows_name_below(corner, first_row) -> str | None:
    """The rows' name when a crosstab was copied from a notebook's display: the columns' name in the corner,
    the rows' name alone in the row below it ("movieId" above "userId"). None otherwise."""
    if len(first_row) < 2 or not str(corner).strip():
        return None
    below = str(first_row[0]).strip()
    if not _ID_STYLE.match(_normalized(below).replace(" ", "")):
        return None
    return below if all(str(cell).strip() in MISSING_MARKS for cell in first_row[1:]) else None


def wide_orientation(corner, row_labels, column_labels) -> Orientation:
    """What a crosstab's corner and labels say of its orientation (the rules in the module docstring)."""
    said = _normalized(corner)
    compact = said.replace(" ", "")
    user_at, item_at = _first_word_at(said, USER_WORDS), _first_word_at(said, ITEM_WORDS)
    if user_at is not None and item_at is not None:
        rows_are_items = item_at < user_at
        return Orientation(rows_are_items, True, f"the corner “{corner}” names the rows first")
    if _ID_STYLE.match(compact) or compact in ("uid", "iid"):
        rows_are_items = item_at is not None or compact == "iid"
        return Orientation(rows_are_items, False,
                           f"the corner “{corner}” may name the rows (as pandas writes a table) or the columns "
                           "(as a notebook shows a crosstab)")
    if item_at is not None:
        return Orientation(True, True, f"the corner “{corner}” heads the movies' column")
    if user_at is not None or said in ("name", "username", "user name"):
        return Orientation(False, True, f"the corner “{corner}” heads the users' column")
    row_titles, column_titles = _title_share(row_labels), _title_share(column_labels)
    if (row_titles >= 0.5) != (column_titles >= 0.5):
        return Orientation(row_titles >= 0.5, True, "the labels with a year in brackets are the movies")
    if len(row_labels) == len(column_labels):
        return Orientation(False, False, "nothing says which labels are users: as many rows as columns, and "
                                         "no corner label")
    return Orientation(False, True, "rows are users unless the corner cell names movies")


# --- what is where -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """A table in a sheet: 1-based, inclusive, header row and label column included. ``shape`` is "wide"
    (a crosstab: labels in the top row and left column) or "long" (``columns`` holds the 1-based columns
    of user, item and rating; the top row is their header)."""

    sheet: int
    top: int
    left: int
    bottom: int
    right: int
    shape: str = "wide"
    columns: tuple = ()
    label_rows: int = 1  # header rows above the body (2 for a crosstab copied from a notebook's display)

    @property
    def reference(self) -> str:
        return format_range(self.top, self.left, self.bottom, self.right)

    @property
    def cells(self) -> int:
        return (self.bottom - self.top + 1) * (self.right - self.left + 1)


@dataclass(frozen=True)
class Candidate:
    """A table found in a sheet: where, how many labels and ratings, whether its numbers look like ratings
    (all on a half-star grid), and (a crosstab) what its labels say of its orientation."""

    region: Region
    rows: int
    columns: int
    rated: int
    rating_like: bool
    low: float
    high: float
    orientation: Orientation | None = None  # None for a long table
    digest: tuple = field(default=(), compare=False, repr=False)  # what makes two copies the same table

    def describe(self, sheet_name: str) -> str:
        if self.region.shape == "long" or (self.region.shape == "sheet" and self.orientation is None):
            what = f"long table, {self.rated:,} ratings"  # (a sheet read whole as one)
        else:
            what = f"{self.rows:,} × {self.columns:,} crosstab, {self.rated:,} ratings"
        values = f" from {self.low:g} to {self.high:g}" if self.rated else ""
        return f"{sheet_name} {self.region.reference}: {what}{values}"


@dataclass
class TableSource:
    """Everything a reader found in a file, for a person to choose from when the file does not settle it:
    the sheets' cells, the candidate tables (best first), the one taken without asking (or None), and why
    a person is asked (one line; empty when nobody needs to be)."""

    path: object
    sheets: list
    candidates: list
    chosen: Candidate | None
    question: str = ""

    def sheet_of(self, candidate: Candidate) -> Sheet:
        return self.sheets[candidate.region.sheet]


class _Classes:
    """Every cell of a grid classed once: text, numbers, and the masks the search works with."""

    def __init__(self, grid: np.ndarray):
        flat = grid.ravel()
        self.empty = (grid == "")
        missing = pd.Series(flat, dtype=object).isin(MISSING_MARKS).to_numpy().reshape(grid.shape)
        numbers = pd.to_numeric(pd.Series(flat, dtype=object), errors="coerce").to_numpy(float, copy=True)
        numbers = numbers.reshape(grid.shape)
        numbers[missing] = np.nan
        self.numbers = numbers
        self.is_number = np.isfinite(numbers)
        with np.errstate(invalid="ignore"):
            self.whole = self.is_number & (numbers == np.round(numbers)) & (np.abs(numbers) < 2**53)
        self.text = ~self.empty & ~missing & ~self.is_number & ~np.isinf(numbers)  # "inf": no label, no rating
        self.label = self.text | self.whole
        self.body = self.empty | missing | self.is_number
        with np.errstate(invalid="ignore", over="ignore"):
            self.half_step = self.is_number & (numbers * 2 == np.round(numbers * 2))


def _runs(mask: np.ndarray) -> np.ndarray:
    """For each cell, how many True cells follow in a row from it (itself included), along axis 1."""
    reverse = mask[:, ::-1].astype(np.int32)
    total = np.cumsum(reverse, axis=1, dtype=np.int32)
    at_false = np.where(reverse == 0, total, 0)
    return (total - np.maximum.accumulate(at_false, axis=1))[:, ::-1]


def _prefix(mask: np.ndarray) -> np.ndarray:
    summed = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(np.cumsum(mask, axis=0, dtype=np.int32), axis=1, out=summed[1:, 1:])
    return summed


def _box(prefix, top, left, bottom, right):
    """Sums over boxes [top, bottom) × [left, right) (arrays of positions)."""
    return prefix[bottom, right] - prefix[top, right] - prefix[bottom, left] + prefix[top, left]


def search_grid(sheet: Sheet) -> tuple[np.ndarray, np.ndarray] | None:
    """The sheet as a grid with one blank row wherever rows were left out (so that runs stop there), and
    the row number of each grid row; None when the sheet is too large to search."""
    numbers = sheet.row_numbers
    if not len(numbers):
        return None
    gaps = np.diff(numbers) > 1
    height = len(numbers) + int(gaps.sum())
    if height * max(sheet.n_columns, 1) > DETECT_MAX_CELLS:
        return None
    position = np.arange(len(numbers)) + np.r_[0, np.cumsum(gaps)]
    grid = np.full((height, sheet.n_columns), "", dtype=object)
    grid[position] = sheet.cells
    row_of = np.zeros(height, dtype=np.int64)
    row_of[position] = numbers
    blank = np.flatnonzero(row_of == 0)
    row_of[blank] = row_of[blank - 1] + 1  # a separator stands for the first left-out row
    return grid, row_of


def find_tables(sheet: Sheet, sheet_index: int) -> list[Candidate]:
    """The crosstabs and long tables in a sheet, best first, none overlapping a better one."""
    searched = search_grid(sheet)
    if searched is None:
        return []
    grid, row_of = searched
    classes = _Classes(grid)
    found = _crosstabs(grid, row_of, classes, sheet_index) + _long_tables(grid, row_of, classes, sheet_index)
    found.sort(key=_rank, reverse=True)
    kept: list[Candidate] = []
    for candidate in found:
        if not any(_overlap(candidate.region, other.region) for other in kept):
            kept.append(candidate)
    return kept


def _rank(candidate: Candidate):
    return (candidate.rating_like, candidate.region.shape == "wide", candidate.rated, candidate.region.cells)


def _overlap(a: Region, b: Region) -> bool:
    return a.sheet == b.sheet and not (a.bottom < b.top or b.bottom < a.top or a.right < b.left or b.right < a.left)


def _crosstabs(grid, row_of, classes: _Classes, sheet_index: int) -> list[Candidate]:
    height, width = grid.shape
    if height < MIN_LABELS + 1 or width < MIN_LABELS + 1:
        return []
    across = _runs(classes.label)          # labels to the right of each cell
    down = _runs(classes.label.T).T        # labels below each cell
    corner_ok = classes.empty | classes.text
    rows_, columns_ = np.nonzero(corner_ok[:-1, :-1])
    header = across[rows_, columns_ + 1]
    labels = down[rows_ + 1, columns_]
    keep = (header >= MIN_LABELS) & (labels >= MIN_LABELS)
    rows_, columns_, header, labels = rows_[keep], columns_[keep], header[keep], labels[keep]
    if not len(rows_):
        return []
    not_body, numbers = _prefix(~classes.body), _prefix(classes.is_number)
    top, left = rows_ + 1, columns_ + 1
    bottom, right = top + labels, left + header
    clean = _box(not_body, top, left, bottom, right) == 0
    rated = _box(numbers, top, left, bottom, right)
    keep = clean & (rated >= MIN_RATED)
    # the biggest first; a Python look at each is bounded by what could ever be shown
    order = np.argsort(-(rated * keep), kind="stable")[: 50 * MAX_CANDIDATES]
    candidates = []
    for k in order[keep[order]]:
        candidate = _crosstab_at(grid, row_of, classes, sheet_index, int(rows_[k]), int(columns_[k]),
                                 int(labels[k]), int(header[k]))
        if candidate is not None:
            candidates.append(candidate)
    return candidates


def _distinct(values) -> bool:
    return len(set(values)) == len(values)


def _crosstab_at(grid, row_of, classes, sheet_index, row, column, n_rows, n_columns) -> Candidate | None:
    column_labels = [str(v).strip() for v in grid[row, column + 1: column + 1 + n_columns]]
    row_labels = [str(v).strip() for v in grid[row + 1: row + 1 + n_rows, column]]
    corner = str(grid[row, column]).strip()
    label_rows = 1
    # A crosstab copied from a notebook's display: the columns' name in the corner, the rows' name alone in
    # the row below it.
    below = rows_name_below(corner, grid[row + 1, column: column + 1 + n_columns])
    if below is not None and len(row_labels) > 2:
        label_rows, row_labels = 2, row_labels[1:]
        orientation = wide_orientation(f"{below} \\ {corner}", row_labels, column_labels)
    else:
        orientation = wide_orientation(corner, row_labels, column_labels)
    # distinct as written: names that differ only in spaces at their ends are read apart (readers.strip_names)
    if not (_distinct(grid[row, column + 1: column + 1 + n_columns].tolist())
            and _distinct(grid[row + label_rows: row + 1 + n_rows, column].tolist())):
        return None
    if _names_long_columns([corner, *column_labels]):
        return None  # a long table's header (userId, movieId, rating): its ids are not a crosstab's ratings
    body_top = row + label_rows
    body = (slice(body_top, row + 1 + n_rows), slice(column + 1, column + 1 + n_columns))
    is_number = classes.is_number[body]
    rated = int(is_number.sum())
    if rated < MIN_RATED:
        return None
    values = classes.numbers[body][is_number]
    rating_like = bool(classes.half_step[body][is_number].all())
    region = Region(sheet_index, int(row_of[row]), column + 1, int(row_of[row + n_rows]), column + 1 + n_columns,
                    "wide", label_rows=label_rows)
    digest = ("wide", tuple(sorted(row_labels)), tuple(sorted(column_labels)), round(float(values.sum()), 6), rated)
    return Candidate(region, len(row_labels), n_columns, rated, rating_like, float(values.min()),
                     float(values.max()), orientation, digest)


def _names_long_columns(header: list[str]) -> bool:
    from .readers import long_columns

    return long_columns(header) is not None


def _long_tables(grid, row_of, classes: _Classes, sheet_index: int) -> list[Candidate]:
    from .readers import long_columns  # the header vocabulary of every long file

    candidates = []
    header_rows = np.flatnonzero(classes.text.sum(axis=1) >= 3)
    for row in header_rows.tolist():
        columns = long_columns([str(v) for v in grid[row]])
        if columns is None or row + 1 >= grid.shape[0]:
            continue
        user, item, rating = columns
        filled = ~classes.empty[row + 1:][:, [user, item, rating]].any(axis=1)
        length = int(np.argmin(filled)) if not filled.all() else len(filled)
        if length < MIN_RATED:
            continue
        numbers = classes.numbers[row + 1: row + 1 + length, rating]
        if not np.isfinite(numbers).all():
            continue
        region = Region(sheet_index, int(row_of[row]), min(columns) + 1, int(row_of[row + length]), max(columns) + 1,
                        "long", columns=(user + 1, item + 1, rating + 1))
        with np.errstate(over="ignore"):
            half = bool(np.all(numbers * 2 == np.round(numbers * 2)))
        digest = ("long", length, round(float(numbers.sum()), 6))
        candidates.append(Candidate(region, length, 3, length, half, float(numbers.min()), float(numbers.max()),
                                    None, digest))
    return candidates


def with_orientation(candidate: Candidate, rows_are_items: bool, reason: str) -> Candidate:
    return replace(candidate, orientation=Orientation(rows_are_items, True, reason))


__all__ = [
    "Candidate", "Orientation", "Region", "Sheet", "TableSource", "column_name", "find_tables", "format_range",
    "parse_range", "wide_orientation",
]
