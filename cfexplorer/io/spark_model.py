"""Read a model saved by Spark MLlib's ALS (``ALSModel.save(path)``) as factors for the factor space.

Spark writes a directory: ``metadata/`` (one JSON line: the class, rank and parameters), ``userFactors/``
and ``itemFactors/`` (parquet files with the columns ``id`` (int) and ``features`` (array of float)).
Spark's ALS has no biases: they are imported as zero.

Rows are named, best first: by ``cfexplorer-names.json`` in the directory (``cfexplorer train --engine spark``
writes it when the ratings' ids were not whole numbers and Spark got positions instead); by the ratings
the window holds when their user and movie labels are the ids (MovieLens: userId, movieId; movies then
get their titles); by ``movies.csv`` in the directory's folder or the folder above (MovieLens' titles); else
"user 17", "movie 42".

Everything is checked before it is allocated: the row counts and factor lengths the parquet footers
declare against free memory, every id a whole number, every factor finite. pyarrow reads the parquet
files (an optional extra, ``pip install "cfexplorer[spark]"``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.embedding import Embedding, EmbeddingTable
from . import limits
from .errors import FactorFileError

SPARK_ALS_CLASS = "org.apache.spark.ml.recommendation.ALSModel"
NAMES_FILE = "cfexplorer-names.json"
PARTS = {"user": "userFactors", "movie": "itemFactors"}
MAX_NAMES_FILE_BYTES = 512 * 2**20


def is_spark_model(path) -> bool:
    """Does ``path`` look like a directory Spark's ALSModel.save wrote?"""
    path = Path(path)
    return path.is_dir() and (path / "itemFactors").is_dir() and (path / "userFactors").is_dir()


def read_spark_als(path, ratings=None) -> Embedding:
    """The factors of a saved Spark ALSModel, named as the module docstring says; FactorFileError (one
    line naming the directory) for anything that is not one."""
    path = Path(path)
    if not is_spark_model(path):
        raise FactorFileError.at(path, "not a saved Spark ALS model (a folder with itemFactors/ and userFactors/)")
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise FactorFileError.at(path, "reading a Spark model needs pyarrow: pip install \"cfexplorer[spark]\"") \
            from None
    _check_metadata(path)
    ids, factors = {}, {}
    for kind, folder in PARTS.items():
        ids[kind], factors[kind] = _read_part(path / folder, kind, parquet)
    k = {factors[kind].shape[1] for kind in PARTS if len(factors[kind])}
    if len(k) > 1:
        raise FactorFileError.at(path, f"users have {factors['user'].shape[1]} factors but movies "
                                       f"{factors['movie'].shape[1]}")
    names = _names(path, ids, ratings)
    tables = {kind: EmbeddingTable(names[kind], factors[kind], np.zeros(len(ids[kind]))) for kind in PARTS}
    return Embedding(tables["movie"], tables["user"], source=f"{path.name} (Spark ALS)")


def _check_metadata(path: Path) -> None:
    folder = path / "metadata"
    parts = sorted(folder.glob("part-*")) if folder.is_dir() else []
    if not parts:
        return  # a model copied without its metadata still has its factors
    try:
        first = limits.read_regular_file(parts[0], 4.0, "reading the metadata", FactorFileError.at)
        meta = json.loads(first.decode("utf-8").splitlines()[0])
    except (UnicodeDecodeError, ValueError, IndexError):
        raise FactorFileError.at(parts[0], "the metadata is not Spark's JSON line") from None
    name = meta.get("class") if isinstance(meta, dict) else None
    if name != SPARK_ALS_CLASS:
        raise FactorFileError.at(path, f"a saved {str(name)[:80]!r}, not an ALS model")


def _read_part(folder: Path, kind: str, parquet) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(p for p in folder.glob("*.parquet") if p.is_file())
    if not files:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0))
    try:
        footers = [parquet.ParquetFile(file) for file in files]
    except Exception as error:  # pyarrow raises its own ArrowInvalid, OSError or ValueError
        raise FactorFileError.at(folder, f"not a parquet file ({' '.join(str(error).split())[:160]})") from None
    schema = footers[0].schema_arrow
    if "id" not in schema.names or "features" not in schema.names:
        raise FactorFileError.at(folder, f"{kind} factors need the columns id and features; it has "
                                         f"{', '.join(schema.names)[:160]}")
    rows = sum(footer.metadata.num_rows for footer in footers)
    values = sum(_declared_feature_values(footer.metadata) for footer in footers)
    limits.check_array_bytes(folder, 8 * (rows + values) * 2, f"{rows:,} {kind} rows", FactorFileError.at)
    ids, chunks = [], []
    for file, footer in zip(files, footers):
        try:
            table = footer.read(columns=["id", "features"])
        except Exception as error:
            raise FactorFileError.at(file, f"cannot be read ({' '.join(str(error).split())[:160]})") from None
        id_column, features = table.column("id").combine_chunks(), table.column("features").combine_chunks()
        if not (_is_integer(id_column.type) and hasattr(features, "flatten")):
            raise FactorFileError.at(file, f"id must be whole numbers and features a list of numbers; they are "
                                           f"{id_column.type} and {features.type}")
        lengths = np.diff(np.asarray(features.offsets))
        if len(lengths) and (lengths.min() != lengths.max()):
            raise FactorFileError.at(file, f"{kind} factor vectors of different lengths "
                                           f"({lengths.min()} and {lengths.max()})")
        if features.null_count or id_column.null_count:
            raise FactorFileError.at(file, f"a {kind} id or factor vector is missing")
        k = int(lengths[0]) if len(lengths) else 0
        flat = np.asarray(features.flatten().to_numpy(zero_copy_only=False), dtype=float)
        ids.append(np.asarray(id_column.to_numpy(zero_copy_only=False), dtype=np.int64))
        chunks.append(flat.reshape(len(lengths), k))
    found_ids = np.concatenate(ids)
    widths = {chunk.shape[1] for chunk in chunks if len(chunk)}
    if len(widths) > 1:
        raise FactorFileError.at(folder, f"{kind} factor vectors of different lengths in different files")
    factors = np.concatenate([c for c in chunks if len(c)]) if any(len(c) for c in chunks) else np.zeros((0, 0))
    if not np.isfinite(factors).all():
        row = int(np.argwhere(~np.isfinite(factors))[0][0])
        raise FactorFileError.at(folder, f"the factors of {kind} id {found_ids[row]} are not finite numbers")
    if len(np.unique(found_ids)) != len(found_ids):
        raise FactorFileError.at(folder, f"a {kind} id appears twice")
    order = np.argsort(found_ids, kind="stable")  # Spark writes partitions in no useful order
    return found_ids[order], factors[order]


def _declared_feature_values(metadata) -> int:
    """How many numbers the footer says the features column holds (what reading it will allocate)."""
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for column in range(row_group.num_columns):
            chunk = row_group.column(column)
            if chunk.path_in_schema.split(".")[0] == "features":
                total += chunk.num_values
    return total


def _is_integer(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(arrow_type)


def _names(path: Path, ids: dict, ratings) -> dict:
    written = path / NAMES_FILE
    if written.is_file():
        data = limits.read_regular_file(written, 4.0, "reading the names", FactorFileError.at)
        try:
            table = json.loads(data.decode("utf-8"))
            by_kind = {"user": table["users"], "movie": table["movies"]}
            return {kind: np.array([str(by_kind[kind][i]) for i in ids[kind]], dtype=object) for kind in PARTS}
        except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError):
            raise FactorFileError.at(written, "not the names cfexplorer wrote (users, movies by position)") from None
    names = {kind: np.array([f"{kind} {i}" for i in ids[kind]], dtype=object) for kind in PARTS}
    from_ratings = ratings is not None and _name_from_ratings(names, ids, ratings)
    if not from_ratings:
        titles = _movies_csv_titles(path)
        if titles:
            names["movie"] = np.array([titles.get(int(i), f"movie {i}") for i in ids["movie"]], dtype=object)
            names["user"] = np.array([str(i) for i in ids["user"]], dtype=object)
    return names


def _name_from_ratings(names: dict, ids: dict, ratings) -> bool:
    """Name rows by the ratings' labels where those are the ids; True when most ids are found there."""
    matched = 0
    for kind, labels, shown in (("user", ratings.user_labels, ratings.user_labels.astype(str)),
                                ("movie", ratings.item_labels, ratings.item_titles())):
        as_ids = whole_numbers(labels)
        if as_ids is None:
            continue
        order = np.argsort(as_ids)
        position = np.searchsorted(as_ids, ids[kind], sorter=order)
        position = np.minimum(position, len(as_ids) - 1)
        found = as_ids[order[position]] == ids[kind] if len(as_ids) else np.zeros(len(ids[kind]), dtype=bool)
        names[kind][found] = np.asarray(shown, dtype=object)[order[position[found]]]
        matched += int(found.sum())
    total = sum(len(ids[kind]) for kind in PARTS)
    return total > 0 and matched >= total / 2


def whole_numbers(labels) -> np.ndarray | None:
    """The labels as int64 ids when every one is a whole number (MovieLens' userId, movieId), else None."""
    try:
        values = np.array([int(str(label)) for label in labels], dtype=np.int64)
    except (ValueError, OverflowError):
        return None
    return values


def _movies_csv_titles(path: Path) -> dict:
    for folder in (path.parent, path.parent.parent):
        movies = folder / "movies.csv"
        if movies.is_file():
            from .movie_info import _read_movies_csv

            try:
                table, _ = _read_movies_csv(movies)
            except Exception:  # noqa: BLE001 - titles are a bonus here; a damaged movies.csv leaves ids as names
                return {}
            return {int(k): str(v) for k, v in zip(table.index, table["title"])}
    return {}
