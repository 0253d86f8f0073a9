"""The course lab's dense matrices: ``small_movies_Y.csv`` and ``small_movies_R.csv``, headerless
comma-separated movies × users tables, Y the ratings (0 where nothing was rated) and R 1 where a rating is.

A Y file with its R beside it (the names differ only by Y → R) is read as movies × users with R as the mask:
a rating where R is 1, none elsewhere, whatever Y holds there. A headerless all-numeric matrix without an R
says nothing about its zeros: it is read with 0 as "not rated" (the lab's convention) and the result asks
(``zero_question``) whether 0 is a rating instead.

Rows are movies and columns users, in the file's order, labelled by their 0-based positions (the lab's
``Y[i, j]``), so that parameters loaded in the grid's order (Training ▸ Load Parameters) meet the same
rows as the lab's X and W. Sizes are checked (:mod:`.limits`) before anything is allocated: the shape from
the first line and the number of lines, and Y's against R's.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.ratings import Ratings
from ..lazy import lazy_import
from . import limits
from .errors import RatingsFileError, one_line, quoted
from .readers import LoadResult, _read_text, _refuse_unshowable, _looks_binary, is_number

pd = lazy_import("pandas")

DENSE_FORMAT = "dense"
# Fewer columns than this and a headerless numeric file is a long table (user, item, rating[, time]).
MIN_DENSE_COLUMNS = limits.WIDE_FIRST_LINE_COLUMNS + 1
# Peak memory of reading a dense numeric matrix over its text's size: the text, pandas' parse and the float
# array (8 bytes for cells of 2-4 characters), then the mask and the coordinates; rounded up.
DENSE_TEXT_OVERHEAD = 12


@dataclass
class DenseLoadResult(LoadResult):
    """A dense matrix read; ``mask_path`` the R file used, ``zero_question`` set when nothing said whether 0
    means "not rated" (then it was taken so, and ``zeros`` cells were left unrated)."""

    mask_path: Path | None = None
    zero_question: bool = False
    zeros: int = 0

    @property
    def status(self) -> str:
        """One line for the status bar: how the ratings were told from the empty cells."""
        shape = f"{self.ratings.n_items:,} movies × {self.ratings.n_users:,} users"
        if self.mask_path is not None:
            return f"{shape}; rated where {self.mask_path.name} (R) is 1"
        return f"{shape}; {self.zeros:,} zeros {'read as not rated' if self.zero_question else 'kept as ratings'}"


def mask_beside(path) -> Path | None:
    """The R file beside a headerless numeric Y file: the same name with one Y (y) turned into R (r), the last
    one that names a file that exists."""
    path = Path(path)
    name = path.name
    if "y" not in name.lower() or not _first_line_is_numbers(path):
        return None
    for position in range(len(name) - 1, -1, -1):
        letter = name[position]
        if letter in "Yy":
            candidate = path.with_name(name[:position] + ("R" if letter == "Y" else "r") + name[position + 1:])
            if candidate.is_file():
                return candidate
    return None


def looks_like_dense_matrix(text: str) -> bool:
    """A headerless matrix of numbers: its first line is all numbers, with more columns than a long table has.
    The first line alone decides (a table with labels has a header of them): a cell further on that is not a
    number is then named as such, where the reader of labelled tables took the numbers for labels ("the
    column label '3' appears twice")."""
    first = _first_line(text)
    cells = first.split(_delimiter(first))
    return len(cells) >= MIN_DENSE_COLUMNS and all(is_number(cell) for cell in cells)


def _first_line(text: str) -> str:
    """The first non-blank line, found without splitting the rest (a line may be megabytes long)."""
    start = len(text) - len(text.lstrip("\r\n"))
    end = text.find("\n", start)
    return text[start:end if end >= 0 else len(text)].rstrip("\r")


def read_dense_pair(y_path, r_path, binary: bool | None = None) -> DenseLoadResult:
    """Y's ratings where R is 1 (see the module docstring)."""
    y_path, r_path = Path(y_path), Path(r_path)
    y_text, r_text = _checked_text(y_path), _checked_text(r_path)
    y_shape, r_shape = _declared_shape(y_text), _declared_shape(r_text)
    if y_shape != r_shape:
        raise RatingsFileError(y_path, f"{_shape(y_shape)} (movies × users), but the R file beside it, "
                                       f"{r_path.name}, is {_shape(r_shape)}; Y and R must have the same shape")
    _check_size(y_path, y_shape)
    mask = _parse(r_text, r_path, y_shape[1])
    del r_text
    bad = ~((mask == 0) | (mask == 1))
    if bad.any():
        row, column = divmod(int(np.argmax(bad)), mask.shape[1])
        raise RatingsFileError(r_path, f"{mask[row, column]:g} in column {column + 1} is not 0 or 1 (R is 1 where "
                                       "a movie was rated, 0 elsewhere)", row + 1)
    values = _parse(y_text, y_path, y_shape[1])
    del y_text
    if values.shape != mask.shape:  # the line counts agreed, the rows did not (blank lines)
        raise RatingsFileError(y_path, f"{_shape(values.shape)} (movies × users), but the R file beside it, "
                                       f"{r_path.name}, is {_shape(mask.shape)}; Y and R must have the same shape")
    rated = mask == 1
    del mask
    missing = rated & ~np.isfinite(values)
    if missing.any():
        row, column = divmod(int(np.argmax(missing)), values.shape[1])
        raise RatingsFileError(y_path, f"no rating in column {column + 1}, where {r_path.name} says it is rated",
                               row + 1)
    result = _result(values, rated, y_path, binary)
    result.mask_path = r_path
    return result


def read_dense_matrix(path, binary: bool | None = None, zero_is_rating: bool | None = None,
                      text: str | None = None) -> DenseLoadResult:
    """A headerless numeric matrix without R: movies × users, empty (and, unless ``zero_is_rating``, 0)
    cells not rated. ``zero_is_rating`` None: taken as False, and the result asks."""
    path = Path(path)
    text = _checked_text(path) if text is None else text
    shape = _declared_shape(text)
    _check_size(path, shape)
    values = _parse(text, path, shape[1], empty_allowed=True)
    del text
    finite = np.isfinite(values)
    rated = finite if zero_is_rating else finite & (values != 0)
    result = _result(values, rated, path, binary)
    result.zeros = int(np.count_nonzero(finite & (values == 0)))
    result.zero_question = zero_is_rating is None and result.zeros > 0
    return result


def _checked_text(path: Path) -> str:
    limits.check_regular_file(path)
    data = limits.read_regular_file(path, DENSE_TEXT_OVERHEAD, "reading this matrix")
    if not data.strip():
        raise RatingsFileError(path, "the file is empty")
    return _read_text(path) if data.startswith(b"\xef\xbb\xbf") or not data.isascii() else data.decode("ascii")


def _declared_shape(text: str) -> tuple[int, int]:
    """(lines, fields of the first line), counted without parsing: what a parse would allocate."""
    lines = text.rstrip("\r\n\t ").count("\n") + 1
    return lines, limits.first_line_columns(text, _delimiter(text))


def _delimiter(text: str) -> str:
    """The first line's separator: a comma, else a tab, else a semicolon (a comma where there is none)."""
    first = _first_line(text)
    return next((delimiter for delimiter in ",\t;" if delimiter in first), ",")


def _first_line_is_numbers(path: Path) -> bool:
    """Whether a file starts with a line of numbers only (no header), read from its first 64 kB."""
    with limits.open_regular(path) as handle:
        start = handle.read(65536).decode("utf-8-sig", errors="replace")
    first = _first_line(start)
    return bool(first.strip()) and all(is_number(cell) for cell in first.split(_delimiter(first)))


def _check_size(path: Path, shape: tuple[int, int]):
    limits.check_columns(path, shape[1])  # a few rows of many columns pass the cells' limit: pandas takes minutes
    limits.check_matrix_cells(path, *shape, "the matrix")
    # the values, the mask and the coordinates of the ratings: three arrays of 8 bytes a cell at most
    limits.check_memory(path, 3 * 8 * shape[0] * shape[1], "reading this matrix")


def _shape(shape) -> str:
    return f"{shape[0]:,} × {shape[1]:,}"


def _parse(text: str, path: Path, columns: int, empty_allowed: bool = False) -> np.ndarray:
    """The matrix as floats, NaN where a cell is empty; every problem is one line naming the line."""
    delimiter = _delimiter(text)
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=np.float64, engine="c",
                            skip_blank_lines=False, skipinitialspace=True)
    except pd.errors.ParserError as error:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if match:
            expected, line, saw = (int(g) for g in match.groups())
            raise RatingsFileError(path, f"expected {expected} numbers like the first line, found {saw}",
                                   line) from None
        raise RatingsFileError(path, f"cannot be parsed as a matrix: {one_line(error)}") from None
    except ValueError:  # a cell that is not a number: found with its line by the slow path
        raise _first_bad_cell(text, path, delimiter) from None
    values = table.to_numpy(dtype=np.float64)
    del table
    if empty_allowed:  # an empty cell is "not rated"; a line cut short is not (pandas fills it with empty cells)
        short = _short_line(text, delimiter, columns, values)
        if short is not None:
            line, found = short
            raise RatingsFileError(path, f"expected {columns} numbers like the first line, found {found}", line)
    else:
        short = np.isnan(values[:, -1]) & ~np.isnan(values[:, 0])
        if short.any():
            raise RatingsFileError(path, f"expected {columns} numbers like the first line, found fewer",
                                   int(np.argmax(short)) + 1)
    blank = np.isnan(values).all(axis=1)
    if blank.any():
        raise RatingsFileError(path, "the line is empty; a matrix has a number in every cell", int(np.argmax(blank)) + 1)
    return values


def _short_line(text: str, delimiter: str, columns: int, values: np.ndarray) -> tuple[int, int] | None:
    """(line, fields) of the first line that is not blank and has fewer fields than ``columns``; None when every
    line is whole. Only lines whose last cell pandas left empty can be short: a whole matrix costs nothing, and
    no array of the text's size is made (counting every line's separators took 16 bytes of memory a byte)."""
    candidates = np.flatnonzero(np.isnan(values[:, -1])) if values.size else np.zeros(0, dtype=np.intp)
    if not len(candidates):
        return None
    lines = text.split("\n")
    for row in candidates.tolist():
        line = lines[row] if row < len(lines) else ""
        found = line.count(delimiter) + 1
        if line.strip() and found < columns:
            return row + 1, found
    return None


def _first_bad_cell(text: str, path: Path, delimiter: str) -> RatingsFileError:
    for number, line in enumerate(text.splitlines(), start=1):
        for column, cell in enumerate(line.split(delimiter), start=1):
            if cell.strip() and not is_number(cell):
                return RatingsFileError(path, f"{quoted(cell.strip(), 40)} in column {column} is not a number", number)
    return RatingsFileError(path, "cannot be parsed as a matrix of numbers")


def _result(values: np.ndarray, rated: np.ndarray, path: Path, binary: bool | None) -> DenseLoadResult:
    """Ratings of the ``rated`` cells of a movies × users matrix; every movie and user kept, in file order."""
    items, users = np.nonzero(rated)
    ratings_values = values[items, users]
    _refuse_unshowable(ratings_values, items + 1, path)
    if binary is None:
        binary = _looks_binary(ratings_values)
    if binary and not np.all((ratings_values == 0) | (ratings_values == 1)):
        raise RatingsFileError(path, "binary labels must be 0 or 1")
    n_items, n_users = values.shape
    ratings = Ratings(users, items, ratings_values, np.arange(n_users, dtype=np.int64),
                      np.arange(n_items, dtype=np.int64), binary=binary)
    return DenseLoadResult(ratings, DENSE_FORMAT, [], users_from="the columns (a movies × users matrix)")


__all__ = ["DENSE_FORMAT", "DenseLoadResult", "looks_like_dense_matrix", "mask_beside", "read_dense_matrix",
           "read_dense_pair"]
