"""Starting parameters for training, from files: the course lab's X, W, b, or an .npz of named arrays.

Formats:
- ``.npz``: ``item_factors`` (movies × k) and ``user_factors`` (users × k), optionally ``user_bias``,
  ``item_bias`` (one number per row) and ``item_names`` / ``user_names`` (one name per row). Rows with
  names are matched to the grid's movies and users by name (labels, or MovieLens titles); rows without
  names are taken in the grid's order.
- the course lab's CSV files, without headers: X (movies × k), W (users × k) and b (one number per user,
  on one line as the lab writes it, or one per line), told apart by the end of their names
  (``small_movies_X.csv``, ``…_W.csv``, ``…_b.csv``), else by their shapes. Rows in the grid's order.

Taken in order, a file may have more rows than the grid: the grid's movies and users get the first
rows, as the lab takes ``X[:num_movies, :num_features]``. Whatever the format, every value must be a
finite number within ±1,000,000 (as imported factors), checked before anything is aligned; a problem is
one line naming the file (and line).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..lazy import lazy_import
from . import arrays, limits
from .errors import FactorFileError, reason
from .factors import MAX_ABS_FACTOR, read_text
from .readers import is_number

pd = lazy_import("pandas")

NPZ_ARRAYS = ("item_factors", "user_factors", "user_bias", "item_bias", "item_names", "user_names")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
# The lab's names end in _X, _W and _b: X is the movies' factors, W the users', b the users' biases.
_ROLE_OF_LETTER = {"X": "item_factors", "W": "user_factors", "b": "user_bias"}
_NAME_ROLE = re.compile(r"(?:^|[_\-. ])([XWb])$")
WORDS = {"item_factors": "X (movie factors)", "user_factors": "W (user factors)", "user_bias": "b (user biases)",
         "item_bias": "movie biases"}

__all__ = ["AlignedParameters", "FactorFileError", "ParameterSet", "align_parameters", "read_parameters"]


@dataclass(frozen=True)
class ParameterSet:
    """The arrays of one or more parameter files, as read (not yet matched to a grid)."""

    item_factors: np.ndarray
    user_factors: np.ndarray
    user_bias: np.ndarray | None = None
    item_bias: np.ndarray | None = None
    item_names: np.ndarray | None = None
    user_names: np.ndarray | None = None
    source: str = ""

    @property
    def n_factors(self) -> int:
        return int(self.item_factors.shape[1])

    def describe(self) -> str:
        """'X 4778 × 10, W 443 × 10, b 443' — what was read."""
        parts = [f"X {self.item_factors.shape[0]} × {self.n_factors}", f"W {self.user_factors.shape[0]} × {self.n_factors}"]
        if self.user_bias is not None:
            parts.append(f"b {len(self.user_bias)}")
        if self.item_bias is not None:
            parts.append(f"movie biases {len(self.item_bias)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class AlignedParameters:
    """Parameters with one row per movie and per user of a grid, in the grid's order (all k columns read)."""

    item_factors: np.ndarray
    user_factors: np.ndarray
    user_bias: np.ndarray | None
    item_bias: np.ndarray | None
    source: str
    how: str  # how rows were matched, for the user: "by name", "by order: the first 5 of 4,778 movies …"

    @property
    def n_factors(self) -> int:
        return int(self.item_factors.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        """(users, movies)."""
        return len(self.user_factors), len(self.item_factors)

    def arrays(self, n_factors: int | None = None) -> dict:
        """The arrays a model starts from, with the first ``n_factors`` factors (all when None), as the lab
        takes ``X[:, :num_features]``."""
        k = self.n_factors if n_factors is None else int(n_factors)
        if not 0 <= k <= self.n_factors:
            raise ValueError(f"the loaded parameters have {self.n_factors} factors; Factors k must be at most "
                             f"{self.n_factors}, not {k}")
        found = {"item_factors": self.item_factors[:, :k], "user_factors": self.user_factors[:, :k]}
        for name in ("user_bias", "item_bias"):
            if getattr(self, name) is not None:
                found[name] = getattr(self, name)
        return found


# --- reading -------------------------------------------------------------------------------------------
def read_parameters(paths, n_items: int | None = None, n_users: int | None = None) -> ParameterSet:
    """The parameters in ``paths``: one .npz, or the lab's CSV files (X, W and optionally b). ``n_items``
    and ``n_users`` (the grid's) tell X from W when neither their names nor their shapes do."""
    paths = [Path(path) for path in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise FactorFileError("no parameter file given")
    archives = [path for path in paths if path.suffix.lower() == ".npz"]
    if archives:
        if len(paths) > 1:
            raise FactorFileError(f"{archives[0]}: an .npz holds all the parameters; give it alone, "
                                  f"not with {len(paths) - 1} other file(s)")
        return _read_npz(archives[0])
    return _read_csv_files(paths, n_items, n_users)


def _read_npz(path: Path) -> ParameterSet:
    try:
        found = arrays.read_npz(path, wanted=NPZ_ARRAYS.__contains__, error=FactorFileError.at)
    except FactorFileError:
        raise
    except (OSError, ValueError) as error:
        raise FactorFileError.at(path, reason(error)) from None
    missing = [name for name in ("item_factors", "user_factors") if name not in found]
    if missing:
        raise FactorFileError.at(path, f"no {' or '.join(repr(m) for m in missing)} array (parameters need "
                                       "item_factors and user_factors; user_bias, item_bias, item_names and "
                                       "user_names are optional)")
    item_factors = _factor_matrix(path, "item_factors", found["item_factors"])
    user_factors = _factor_matrix(path, "user_factors", found["user_factors"])
    if user_factors.shape[1] != item_factors.shape[1]:
        raise FactorFileError.at(path, f"user_factors has {user_factors.shape[1]} factors but item_factors has "
                                       f"{item_factors.shape[1]}")
    vectors = {}
    for name, rows in (("user_bias", len(user_factors)), ("item_bias", len(item_factors))):
        if name in found:
            vectors[name] = _vector(path, name, found[name], rows, numbers=True)
    for name, rows in (("user_names", len(user_factors)), ("item_names", len(item_factors))):
        if name in found:
            vectors[name] = _names(path, name, _vector(path, name, found[name], rows, numbers=False))
    return ParameterSet(item_factors, user_factors, source=path.name, **vectors)


def _factor_matrix(path: Path, name: str, values: np.ndarray) -> np.ndarray:
    if values.ndim != 2 or values.dtype.kind not in arrays.NUMBERS:
        raise FactorFileError.at(path, f"{name} must be a 2-D array of numbers (rows × factors); it is "
                                       f"{values.ndim}-D {values.dtype}")
    return _checked_numbers(path, name, values.astype(float))


def _vector(path: Path, name: str, values: np.ndarray, rows: int, numbers: bool) -> np.ndarray:
    if values.ndim == 2 and 1 in values.shape:
        values = values.reshape(-1)  # a 1 × n row, as the lab keeps b
    if values.ndim != 1 or len(values) != rows:
        raise FactorFileError.at(path, f"{name} has shape {values.shape}; expected {rows} values, one per row of "
                                       f"{name.split('_')[0]}_factors")
    if numbers:
        if values.dtype.kind not in arrays.NUMBERS:
            raise FactorFileError.at(path, f"{name} must hold numbers; it holds {values.dtype}")
        return _checked_numbers(path, name, values.astype(float))
    return values


def _names(path: Path, name: str, values: np.ndarray) -> np.ndarray:
    names = np.array([value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                      for value in values.tolist()], dtype=object)
    seen, repeated = set(), None
    for value in names:
        if value in seen:
            repeated = value
            break
        seen.add(value)
    if repeated is not None:
        raise FactorFileError.at(path, f"{name} names {repeated!r} twice; rows are matched by name")
    return names


def _checked_numbers(path, name: str, values: np.ndarray, lines: np.ndarray | None = None) -> np.ndarray:
    bad = ~np.isfinite(values) | (np.abs(np.nan_to_num(values, nan=0.0)) > MAX_ABS_FACTOR)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        value = values.reshape(len(values), -1)[row][bad.reshape(len(values), -1)[row]][0]
        problem = "is not a finite number" if not np.isfinite(value) else f"is beyond ±{MAX_ABS_FACTOR:,.0f}"
        line = int(lines[row]) if lines is not None else None
        where = "" if line is not None else f" (row {row + 1})"
        raise FactorFileError.at(path, f"a value of {name} {problem}{where}", line)
    return values


def _read_csv_files(paths: list[Path], n_items: int | None, n_users: int | None) -> ParameterSet:
    for path in paths:
        if path.suffix.lower() not in CSV_SUFFIXES:
            raise FactorFileError.at(path, "parameters are read from an .npz or from the lab's CSV files (X, W, b)")
    matrices = {path: _read_number_table(path) for path in paths}
    roles = _roles(matrices, n_items, n_users)
    item_path, user_path = roles["item_factors"], roles["user_factors"]
    item_factors, user_factors = matrices[item_path], matrices[user_path]
    if item_factors.shape[1] != user_factors.shape[1]:
        raise FactorFileError(f"{user_path}: W has {user_factors.shape[1]} factors a row but X ({item_path.name}) "
                              f"has {item_factors.shape[1]}")
    user_bias = None
    if "user_bias" in roles:
        bias_path = roles["user_bias"]
        user_bias = matrices[bias_path].reshape(-1)
        if len(user_bias) != len(user_factors):
            raise FactorFileError.at(bias_path, f"b has {len(user_bias)} values but W ({user_path.name}) has "
                                                f"{len(user_factors)} users")
    source = ", ".join(roles[name].name for name in ("item_factors", "user_factors", "user_bias") if name in roles)
    return ParameterSet(item_factors, user_factors, user_bias, source=source)


def _roles(matrices: dict, n_items: int | None, n_users: int | None) -> dict:
    """Which file is X, W and b: by the end of the name (…_X, …_W, …_b), else by shape."""
    roles, unnamed = {}, []
    for path in matrices:
        match = _NAME_ROLE.search(path.stem)
        role = _ROLE_OF_LETTER[match.group(1)] if match else None
        if role is None or role in roles:
            unnamed.append(path)
        else:
            roles[role] = path
    for path in list(unnamed):
        if "user_bias" not in roles and 1 in matrices[path].shape:
            roles["user_bias"] = path  # a single row or column: the biases
            unnamed.remove(path)
    open_roles = [role for role in ("item_factors", "user_factors") if role not in roles]
    if len(unnamed) == 1 and len(open_roles) == 1:
        roles[open_roles[0]] = unnamed.pop()
    elif len(unnamed) == 2 and len(open_roles) == 2:
        first, second = unnamed
        rows = (len(matrices[first]), len(matrices[second]))
        if n_items is not None and n_users is not None and rows[0] != rows[1]:
            fits = [(a, b) for a, b in ((first, second), (second, first))
                    if len(matrices[a]) >= n_items and len(matrices[b]) >= n_users]
            if len(fits) == 1:
                roles["item_factors"], roles["user_factors"] = fits[0]
                unnamed = []
    if unnamed:
        raise FactorFileError(f"{unnamed[0]}: cannot tell whether this is X (movie factors), W (user factors) or "
                              "b (user biases); end the names in _X, _W and _b as the lab does "
                              "(small_movies_X.csv)")
    missing = [WORDS[role] for role in ("item_factors", "user_factors") if role not in roles]
    if missing:
        raise FactorFileError(f"{next(iter(matrices))}: {' and '.join(missing)} missing; give X and W (and b) "
                              "together")
    return roles


def _read_number_table(path: Path) -> np.ndarray:
    """A headerless table of numbers (a first line without any number is taken as a header)."""
    text = read_text(path)
    rows = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows:
        raise FactorFileError.at(path, "the file is empty")
    delimiter = max(",\t;", key=rows[0][1].count)
    if not rows[0][1].count(delimiter):
        delimiter = None  # one value a line, or values separated by spaces
    limits.check_columns(path, len(rows[0][1].split(delimiter)), FactorFileError.at)
    if not any(is_number(cell) for cell in rows[0][1].split(delimiter)):
        rows = rows[1:]  # a header
        if not rows:
            raise FactorFileError.at(path, "the file has a header but no numbers")
    lines = np.array([number for number, _ in rows])
    try:
        table = pd.read_csv(io.StringIO("\n".join(line for _, line in rows)), sep=delimiter or r"\s+", header=None,
                            dtype=np.float64, engine="c", skipinitialspace=True)
        values = table.to_numpy()
        if values.shape[0] != len(rows) or np.isnan(values).any():
            raise ValueError("a short row or a cell that is not a number")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        values = _parse_slowly(path, rows, delimiter)  # names the line of the problem
    return _checked_numbers(path, path.stem, values, lines)


def _parse_slowly(path: Path, rows: list, delimiter: str | None) -> np.ndarray:
    width = None
    values = []
    for number, line in rows:
        cells = [cell.strip() for cell in line.split(delimiter)]
        if width is None:
            width = len(cells)
        elif len(cells) != width:
            raise FactorFileError.at(path, f"expected {width} numbers like the lines before, found {len(cells)}",
                                     number)
        for cell in cells:
            if not is_number(cell):
                raise FactorFileError.at(path, f"{cell[:40]!r} is not a number", number)
        values.append([float(cell) for cell in cells])
    return np.array(values, dtype=float)


# --- matching to a grid -------------------------------------------------------------------------------------
def align_parameters(found: ParameterSet, ratings) -> AlignedParameters:
    """The rows of ``found`` for the grid's movies and users, in the grid's order: by name where the file
    names its rows, else the first rows. ValueError (one line) when the grid has a movie or user the
    file has no row for."""
    try:
        item_rows, item_how = _rows(found.item_names, len(found.item_factors), _item_name_choices(ratings), "movie")
        user_rows, user_how = _rows(found.user_names, len(found.user_factors),
                                    [np.asarray(ratings.user_labels).astype(str)], "user")
    except ValueError as error:
        raise ValueError(f"{found.source}: {error}") from None
    how = item_how if item_how == user_how else f"movies {item_how}, users {user_how}"
    taken = [f"the first {rows:,} of {total:,} {kind}"
             for side_how, rows, total, kind in ((item_how, ratings.n_items, len(found.item_factors), "movies"),
                                                 (user_how, ratings.n_users, len(found.user_factors), "users"))
             if side_how == "by order" and rows < total]
    if taken:
        how += ": " + " and ".join(taken)
    return AlignedParameters(
        item_factors=found.item_factors[item_rows], user_factors=found.user_factors[user_rows],
        user_bias=None if found.user_bias is None else found.user_bias[user_rows],
        item_bias=None if found.item_bias is None else found.item_bias[item_rows],
        source=found.source, how=how,
    )


def _item_name_choices(ratings) -> list[np.ndarray]:
    choices = [np.asarray(ratings.item_labels).astype(str)]
    if ratings.item_info is not None and "title" in ratings.item_info:
        choices.append(np.asarray(ratings.item_titles()).astype(str))
    return choices


def _rows(names: np.ndarray | None, available: int, grid_choices: list[np.ndarray], kind: str):
    """(row of the file for each grid entry, how they were matched)."""
    wanted = len(grid_choices[0])
    if names is None:
        if available < wanted:
            raise ValueError(f"the parameters have {available:,} {kind}s but the grid has {wanted:,}; rows are "
                             f"taken in order, so the file needs at least as many")
        return np.arange(wanted), "by order"
    position = {name: row for row, name in enumerate(names)}
    best = None
    for grid_names in grid_choices:
        rows = np.array([position.get(name, -1) for name in grid_names], dtype=np.int64)
        missing = np.flatnonzero(rows < 0)
        if not missing.size:
            return rows, "by name"
        if best is None or missing.size < best[1].size:
            best = (grid_names, missing)
    grid_names, missing = best
    raise ValueError(f"{missing.size:,} of the grid's {wanted:,} {kind}s have no row in {kind.replace('movie', 'item')}"
                     f"_names (first: {str(grid_names[missing[0]])!r})")
