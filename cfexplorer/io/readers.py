"""Read ratings from the files people have: MovieLens, long and wide CSV/TSV, Excel.

Every reader returns a :class:`LoadResult` or raises :class:`RatingsFileError`, whose message is
one line naming the file, the line and the problem. Duplicate (user, item) pairs are resolved by
one stated rule: the last one in the file wins, and the result's ``warnings`` say how many.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.ratings import RatingScale, Ratings
from ..lazy import lazy_import

pd = lazy_import("pandas")

MISSING_MARKS = ("?", "", "nan", "NaN", "NA", "-")

USER_NAMES = {"user", "userid", "user_id", "users", "uid", "username", "user name", "name"}
ITEM_NAMES = {"item", "itemid", "item_id", "items", "movie", "movieid", "movie_id", "movies", "iid",
              "title", "film", "product"}
RATING_NAMES = {"rating", "ratings", "score", "value", "stars", "y", "label", "like"}

ML100K_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
]


class RatingsFileError(ValueError):
    """A file that cannot be read as ratings; the message is one line for the user."""

    def __init__(self, path, problem: str, line: int | None = None):
        problem = " ".join(str(problem).split())  # a library's multi-line message becomes one line
        self.path, self.problem, self.line = str(path), problem, line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


@dataclass
class LoadResult:
    ratings: Ratings
    format: str
    warnings: list[str] = field(default_factory=list)


# --- entry point ---------------------------------------------------------------------------------
def read_ratings(path, binary: bool | None = None) -> LoadResult:
    """Read any supported rating file, choosing the reader by name and content."""
    path = Path(path)
    if not path.exists():
        raise RatingsFileError(path, "no such file")
    if path.is_dir():
        raise RatingsFileError(path, "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_excel(path, binary)
    if suffix in (".xls", ".ods"):
        raise RatingsFileError(path, f"{suffix} files are not supported; save the sheet as .xlsx or CSV")
    if path.name == "u.data" or (suffix == ".data"):
        return read_ml100k(path, binary)
    text = _read_text(path)
    return read_delimited_text(text, path, binary)


# --- text helpers -----------------------------------------------------------------------------------
def _read_text(path: Path, encoding: str = "utf-8-sig") -> str:
    data = path.read_bytes()
    if not data.strip():
        raise RatingsFileError(path, "the file is empty")
    if b"\x00" in data[:65536]:
        raise RatingsFileError(path, "this is not a text file (it contains NUL bytes)")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RatingsFileError(
            path, f"not valid {encoding.replace('-sig', '').upper()} text (byte 0x{data[error.start]:02x}); "
            "save the file as UTF-8", line,
        ) from None


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    counts = {delim: sample.count(delim) for delim in ("\t", ",", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _parse_table(text: str, path, delimiter: str) -> pd.DataFrame:
    """All cells as text ("" where empty); the index is the 1-based line number.

    Ragged rows are an error naming the line; blank lines are skipped.
    """
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=delimiter, header=None, dtype=str, keep_default_na=False,
            skip_blank_lines=False, skipinitialspace=True, engine="c", quoting=csv.QUOTE_MINIMAL,
        )
    except pd.errors.ParserError as error:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if match:
            expected, line, saw = (int(g) for g in match.groups())
            raise RatingsFileError(path, f"expected {expected} fields like the lines before, found {saw}", line) from None
        raise RatingsFileError(path, f"cannot be parsed as a table: {error}") from None
    except pd.errors.EmptyDataError:
        raise RatingsFileError(path, "the file is empty") from None
    table = table.fillna("")
    table.index = np.arange(1, len(table) + 1)
    table = table[(table != "").any(axis=1).to_numpy()]
    if table.empty:
        raise RatingsFileError(path, "the file is empty")
    return table


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _normalize_name(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).strip().lower())


def _long_columns(header: list[str]) -> tuple[int, int, int] | None:
    """Positions of the user, item and rating columns if the header names them."""
    names = [_normalize_name(cell) for cell in header]
    found = []
    for vocabulary in (USER_NAMES, ITEM_NAMES, RATING_NAMES):
        matches = [i for i, name in enumerate(names) if name in vocabulary]
        if not matches:
            return None
        found.append(matches[0])
    return tuple(found) if len(set(found)) == 3 else None


# --- long format ----------------------------------------------------------------------------------
def read_delimited_text(text: str, path, binary: bool | None = None) -> LoadResult:
    """A CSV/TSV of either shape: long (user, item, rating columns) or wide (a matrix)."""
    path = Path(path)
    table = _parse_table(text, path, _sniff_delimiter(text))
    header = list(table.iloc[0])
    columns = _long_columns(header)
    if columns is not None:
        return _long_from_table(table.iloc[1:], columns, path, binary, fmt="long")
    corner_names_a_matrix = _corner_names_items(header[0]) or _normalize_name(header[0]) in USER_NAMES
    headerless_long = table.shape[1] in (3, 4) and _is_number(header[2]) and not corner_names_a_matrix
    if headerless_long:
        return _long_from_table(table, (0, 1, 2), path, binary, fmt="long")
    if table.shape[1] < 2:
        raise RatingsFileError(path, "found a single column; expected user, item, rating columns or a matrix", 1)
    return _wide_from_table(table, path, binary)


def _long_from_table(table: pd.DataFrame, columns, path, binary, fmt: str) -> LoadResult:
    if table.empty:
        raise RatingsFileError(path, "the file has a header but no ratings")
    user_col, item_col, rating_col = columns
    lines = table.index.to_numpy()
    # read_csv dropped leading blanks and to_numeric ignores trailing ones, so text is stripped only
    # where it stays text (ids that are names): stripping a million cells costs a second.
    users = _as_ids(table.iloc[:, user_col])
    items = _as_ids(table.iloc[:, item_col])
    rating_text = table.iloc[:, rating_col]
    values = _numbers(rating_text)
    bad = ~np.isfinite(values)
    if bad.any():
        at = int(np.argmax(bad))
        cell = rating_text.iloc[at].strip()
        problem = "the rating is missing" if cell == "" else f"rating {cell!r} is not a finite number"
        raise RatingsFileError(path, problem, int(lines[at]))
    for name, labels in (("user", users), ("item", items)):
        if labels.dtype == object:
            empty = labels == ""
            if empty.any():
                raise RatingsFileError(path, f"the {name} is empty", int(lines[int(np.argmax(empty))]))
    return _build(path, users, items, values, binary, fmt, lines)


def _as_ids(column: pd.Series) -> np.ndarray:
    """Whole-number ids as int64 (so that 2 sorts before 10), anything else as stripped text."""
    numbers = _numbers(column)
    if np.all(np.isfinite(numbers)) and np.all(np.abs(numbers) < 2**53) and np.all(numbers == np.round(numbers)):
        return numbers.astype(np.int64)
    return column.str.strip().to_numpy(dtype=object)


def _numbers(column: pd.Series) -> np.ndarray:
    """The cells as floats, NaN where a cell is not a number."""
    try:
        return column.to_numpy(dtype=object).astype(np.float64)  # twice as fast as to_numeric when all parse
    except (ValueError, TypeError):
        return pd.to_numeric(column, errors="coerce").to_numpy(float)


def _build(path, users, items, values, binary, fmt, lines=None) -> LoadResult:
    warnings = []
    frame = pd.DataFrame({"user": users, "item": items, "rating": values})
    duplicated = frame.duplicated(["user", "item"], keep="last")
    if duplicated.any():
        first = int(np.argmax(duplicated.to_numpy()))
        where = f" (first at line {int(lines[first])})" if lines is not None else ""
        warnings.append(
            f"{int(duplicated.sum())} duplicate (user, item) ratings{where}; "
            "the last one in the file was kept"
        )
        frame = frame[~duplicated.to_numpy()]
    if binary is None:
        binary = _looks_binary(frame["rating"].to_numpy())
    if binary and not np.all(frame["rating"].isin([0, 1])):
        raise RatingsFileError(path, "binary labels must be 0 or 1")
    ratings = Ratings.from_arrays(
        frame["user"].to_numpy(), frame["item"].to_numpy(), frame["rating"].to_numpy(float), binary=binary
    )
    return LoadResult(ratings, fmt, warnings)


def _looks_binary(values: np.ndarray) -> bool:
    return values.size > 0 and bool(np.all((values == 0) | (values == 1)))


# --- wide format ---------------------------------------------------------------------------------
def _corner_names_items(corner: str) -> bool:
    corner = _normalize_name(corner)
    return any(word in corner for word in ("movie", "item", "title", "film"))


def _wide_from_table(table: pd.DataFrame, path, binary) -> LoadResult:
    """First row: column labels after a corner cell; first column: row labels.

    Rows are users unless the corner cell names movies/items (as in the course's tables).
    """
    rows_are_items = _corner_names_items(table.iat[0, 0])
    table = table.apply(lambda column: column.str.strip())
    column_labels = list(table.iloc[0, 1:])
    body = table.iloc[1:]
    row_labels = list(body.iloc[:, 0])
    if not row_labels:
        raise RatingsFileError(path, "the matrix has column labels but no rows")
    lines = body.index.to_numpy()
    for kind, labels in (("column", column_labels), ("row", row_labels)):
        seen = set()
        for position, label in enumerate(labels):
            line = int(table.index[0]) if kind == "column" else int(lines[position])
            if not label:
                raise RatingsFileError(path, f"a {kind} label is empty", line)
            if label in seen:
                raise RatingsFileError(path, f"the {kind} label {label!r} appears twice", line)
            seen.add(label)
    cells = body.iloc[:, 1:]
    missing = cells.isin(MISSING_MARKS).to_numpy()
    matrix = np.array(cells.apply(pd.to_numeric, errors="coerce"), dtype=float)
    bad = (~missing) & ~np.isfinite(matrix)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise RatingsFileError(
            path, f"{cells.iat[r, c]!r} in column {column_labels[c]!r} is not a rating (use ? or leave empty for none)",
            int(lines[r]),
        )
    matrix[missing] = np.nan
    return _wide_result(matrix, row_labels, column_labels, rows_are_items, binary, "wide")


def _wide_result(matrix, row_labels, column_labels, rows_are_items, binary, fmt) -> LoadResult:
    if rows_are_items:
        matrix, user_labels, item_labels = matrix.T, column_labels, row_labels
    else:
        user_labels, item_labels = row_labels, column_labels
    observed = matrix[~np.isnan(matrix)]
    if binary is None:
        binary = _looks_binary(observed)
    ratings = Ratings.from_dense(matrix, user_labels, item_labels, binary=binary)
    return LoadResult(ratings, fmt, [])


# --- MovieLens ------------------------------------------------------------------------------------
def attach_movie_info(result: LoadResult, path: Path) -> LoadResult:
    """Titles, genres and years from ``movies.csv`` (or ``u.item``) beside a MovieLens ratings file."""
    movies_csv, u_item = path.with_name("movies.csv"), path.with_name("u.item")
    try:
        if path.name == "ratings.csv" and movies_csv.exists():
            info = _read_movies_csv(movies_csv)
        elif path.name == "u.data" and u_item.exists():
            info = _read_u_item(u_item)
        else:
            return result
    except (OSError, ValueError, pd.errors.ParserError) as error:
        result.warnings.append(f"titles not loaded from beside the ratings: {error}")
        return result
    ratings = result.ratings
    item_info = info.reindex(pd.Index(list(ratings.item_labels)))
    item_info = item_info.reset_index(drop=True)
    result.ratings = Ratings(
        ratings.users, ratings.items, ratings.values, ratings.user_labels, ratings.item_labels,
        ratings.scale, ratings.binary, item_info,
    )
    return result


def _year_from_title(titles: pd.Series) -> pd.Series:
    return pd.to_numeric(titles.str.extract(r"\((\d{4})\)\s*$")[0], errors="coerce")


def _read_movies_csv(path: Path) -> pd.DataFrame:
    movies = pd.read_csv(path, dtype={"movieId": "int64", "title": str, "genres": str})
    movies = movies.drop_duplicates("movieId").set_index("movieId")
    genres = movies["genres"].fillna("").replace("(no genres listed)", "")
    return pd.DataFrame(
        {"title": movies["title"], "genres": genres, "year": _year_from_title(movies["title"].fillna(""))},
        index=movies.index,
    )


def _read_u_item(path: Path) -> pd.DataFrame:
    genre_names = ML100K_GENRES
    u_genre = path.with_name("u.genre")
    if u_genre.exists():
        names = [line.split("|")[0] for line in u_genre.read_text(encoding="latin-1").splitlines() if "|" in line]
        if len(names) == len(ML100K_GENRES):
            genre_names = names
    table = pd.read_csv(path, sep="|", header=None, encoding="latin-1", dtype=str)
    flags = table.iloc[:, 5 : 5 + len(genre_names)].fillna("0").astype(int).to_numpy().astype(bool)
    genres = ["|".join(name for name, on in zip(genre_names, row) if on) for row in flags]
    years = pd.to_numeric(table[2].fillna("").str[-4:], errors="coerce")
    return pd.DataFrame(
        {"title": table[1].to_numpy(), "genres": genres, "year": years.to_numpy()},
        index=pd.Index(table[0].astype(np.int64).to_numpy()),
    )


def read_ml100k(path, binary: bool | None = None) -> LoadResult:
    """MovieLens 100K ``u.data``: user, item, rating, timestamp separated by tabs, no header."""
    path = Path(path)
    table = _parse_table(_read_text(path), path, "\t")
    if table.shape[1] < 3:
        raise RatingsFileError(path, "expected tab-separated user, item, rating, timestamp", int(table.index[0]))
    return _long_from_table(table, (0, 1, 2), path, binary, fmt="ml100k")


# --- Excel ----------------------------------------------------------------------------------------
def read_excel(path, binary: bool | None = None) -> LoadResult:
    """The first sheet of an .xlsx workbook, long or wide like a CSV."""
    path = Path(path)
    try:
        sheet = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
    except Exception as error:  # openpyxl raises many types for a corrupt or foreign file
        raise RatingsFileError(path, f"cannot read as an Excel workbook ({type(error).__name__}: {error})") from None
    if sheet.empty:
        raise RatingsFileError(path, "the first sheet is empty")
    rows = [["" if pd.isna(cell) else _cell_text(cell) for cell in row] for row in sheet.itertuples(index=False)]
    text_rows = "\n".join("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in row) for row in rows)
    result = read_delimited_text(text_rows, path, binary)
    result.format = "xlsx-" + result.format
    return result


def _cell_text(cell) -> str:
    if isinstance(cell, float) and cell == int(cell) and abs(cell) < 2**53:
        return str(int(cell))
    return str(cell)


def read_any(path, binary: bool | None = None) -> LoadResult:
    """:func:`read_ratings` plus MovieLens titles and genres from the files beside it."""
    path = Path(path)
    result = read_ratings(path, binary)
    return attach_movie_info(result, path)


__all__ = [
    "LoadResult", "RatingsFileError", "RatingScale", "read_any", "read_ratings", "read_excel",
    "read_ml100k", "read_delimited_text",
]
