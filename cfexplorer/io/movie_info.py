"""Titles, genres and years of MovieLens movies, from the files beside the ratings.

These files only add names: whatever is wrong with them (a missing column, a damaged line, another
encoding, not a regular file) becomes one warning in the :class:`LoadResult`, and the ratings open
without titles.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..core.ratings import Ratings
from ..lazy import lazy_import
from . import limits
from .errors import RatingsFileError, one_line

pd = lazy_import("pandas")

ML100K_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
]


class _Damaged(Exception):
    """A file beside the ratings that cannot give titles; the message names it and the problem."""


def attach_movie_info(result, path: Path):
    """Titles, genres and years from ``movies.csv`` (``u.item`` beside MovieLens 100K's ``u.data``,
    ``movies.dat`` beside 1M's and 10M's ``ratings.dat``) beside a MovieLens ratings file; a file beside it
    that cannot be used adds a warning to ``result`` instead."""
    movies_csv, u_item = path.with_name("movies.csv"), path.with_name("u.item")
    movies_dat = path.with_name("movies.dat")
    if path.name == "ratings.csv" and movies_csv.exists():
        source, read = movies_csv, _read_movies_csv
    elif path.name == "u.data" and u_item.exists():
        source, read = u_item, _read_u_item
    elif path.name == "ratings.dat" and movies_dat.exists():
        source, read = movies_dat, _read_movies_dat
    else:
        return result
    try:
        info, warnings = read(source)
        ratings = result.ratings
        item_info = info.reindex(pd.Index(list(ratings.item_labels))).reset_index(drop=True)
        # The same ratings, checked when read, with one row of information per movie (reindexed so).
        result.ratings = Ratings(
            ratings.users, ratings.items, ratings.values, ratings.user_labels, ratings.item_labels,
            ratings.scale, ratings.binary, item_info, validate=False,
        )
    except (_Damaged, RatingsFileError) as error:
        result.warnings.append(f"titles not loaded: {error}")
        return result
    # what pandas raises for a table it cannot make sense of
    except (OSError, ValueError, KeyError, IndexError, TypeError, MemoryError) as error:
        result.warnings.append(f"titles not loaded: {source}: {one_line(error) or type(error).__name__}")
        return result
    result.warnings.extend(warnings)
    return result


def _text(path: Path, encoding: str) -> str:
    data = limits.read_regular_file(path, limits.LONG_TEXT_OVERHEAD, "reading this file")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _Damaged(f"{path}, line {line}: not valid {encoding.replace('-sig', '').upper()} text") from None


def _table(path: Path, text: str, **options) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, **options)
    except pd.errors.EmptyDataError:
        raise _Damaged(f"{path}: the file is empty") from None
    except pd.errors.ParserError as error:
        raise _Damaged(f"{path}: cannot be parsed as a table ({one_line(error)})") from None


def _whole_ids(path: Path, column: pd.Series, name: str, lines: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Rows whose id is a whole number (a mask), and a warning about the others."""
    numbers = pd.to_numeric(column.str.strip(), errors="coerce").to_numpy(dtype=float)
    whole = np.isfinite(numbers) & (np.abs(numbers) < 2**53)
    whole[whole] = numbers[whole] == np.round(numbers[whole])
    if not whole.any():
        raise _Damaged(f"{path}: no {name} is a whole number")
    warnings = []
    if not whole.all():
        first = int(lines[int(np.argmin(whole))])
        warnings.append(f"{path}: {int((~whole).sum())} rows without a whole-number {name} were left out "
                        f"(first at line {first})")
    return whole, warnings


def _year_from_title(titles: pd.Series) -> pd.Series:
    return pd.to_numeric(titles.str.extract(r"\((\d{4})\)\s*$")[0], errors="coerce")


def _read_movies_csv(path: Path) -> tuple[pd.DataFrame, list[str]]:
    movies = _table(path, _text(path, "utf-8-sig"))
    missing = [name for name in ("movieId", "title") if name not in movies.columns]
    if missing:
        raise _Damaged(f"{path}: no {' or '.join(missing)} column (found {', '.join(map(str, movies.columns[:6]))})")
    whole, warnings = _whole_ids(path, movies["movieId"], "movieId", np.arange(2, len(movies) + 2))
    movies = movies[whole]
    ids = pd.to_numeric(movies["movieId"].str.strip()).astype(np.int64)
    titles = movies["title"].replace("", np.nan)
    genres = movies["genres"] if "genres" in movies.columns else pd.Series("", index=movies.index)
    info = pd.DataFrame(
        {"title": titles.to_numpy(dtype=object), "genres": genres.replace("(no genres listed)", "").to_numpy(dtype=object),
         "year": _year_from_title(titles.fillna("")).to_numpy()},
        index=pd.Index(ids.to_numpy()),
    )
    return info[~info.index.duplicated()], warnings


def _read_u_item(path: Path) -> tuple[pd.DataFrame, list[str]]:
    genre_names = ML100K_GENRES
    u_genre = path.with_name("u.genre")
    if u_genre.exists():
        try:
            lines = _text(u_genre, "latin-1").splitlines()
        except RatingsFileError:
            lines = []  # the genre names are optional: the built-in ones are used
        names = [line.split("|")[0] for line in lines if "|" in line]
        if len(names) == len(ML100K_GENRES):
            genre_names = names
    table = _table(path, _text(path, "latin-1"), sep="|", header=None)
    if table.shape[1] < 2:
        raise _Damaged(f"{path}: expected id|title|date|…|genre flags, found {table.shape[1]} field on line 1")
    whole, warnings = _whole_ids(path, table[0], "movie id", np.arange(1, len(table) + 1))
    table = table[whole]
    flags = table.iloc[:, 5 : 5 + len(genre_names)].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy() != 0
    genres = ["|".join(name for name, on in zip(genre_names, row) if on) for row in flags]
    dates = table[2] if table.shape[1] > 2 else pd.Series("", index=table.index)
    years = pd.to_numeric(dates.str[-4:], errors="coerce")
    info = pd.DataFrame(
        {"title": table[1].replace("", np.nan).to_numpy(dtype=object), "genres": genres, "year": years.to_numpy()},
        index=pd.Index(pd.to_numeric(table[0].str.strip()).astype(np.int64).to_numpy()),
    )
    return info[~info.index.duplicated()], warnings


def _read_movies_dat(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """MovieLens 1M's and 10M's ``id::title::genres`` lines: UTF-8 (10M) or Latin-1 (1M, whose accented titles
    are not UTF-8)."""
    data = limits.read_regular_file(path, limits.LONG_TEXT_OVERHEAD, "reading this file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    numbered = [(number, line.split("::")) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        raise _Damaged(f"{path}: the file is empty")
    lines = np.array([number for number, _ in numbered])
    table = pd.DataFrame([(cells + ["", ""])[:3] for _, cells in numbered], columns=["movieId", "title", "genres"],
                         dtype=object)
    whole, warnings = _whole_ids(path, table["movieId"], "movie id", lines)
    table = table[whole]
    titles = table["title"].str.strip().replace("", np.nan)
    info = pd.DataFrame(
        {"title": titles.to_numpy(dtype=object),
         "genres": table["genres"].str.strip().replace("(no genres listed)", "").to_numpy(dtype=object),
         "year": _year_from_title(titles.fillna("")).to_numpy()},
        index=pd.Index(pd.to_numeric(table["movieId"].str.strip()).astype(np.int64).to_numpy()),
    )
    return info[~info.index.duplicated()], warnings
