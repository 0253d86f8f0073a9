"""Read and write learned factors and biases with names, to inspect models trained elsewhere.

Formats:
- CSV: columns ``kind`` (movie/user), ``name``, ``bias``, optional ``count``/``mean``, ``f1``..``fk``
  (what :func:`write_factors` writes);
- ``.npz``: array ``item_factors``, optionally ``item_names``, ``item_bias``, ``user_factors``,
  ``user_names``, ``user_bias``;
- ``.npy``: one movies x k matrix; names from a text file beside it with the same stem
  (``emb.npy`` + ``emb.txt``, one name per line), else "movie 1", "movie 2", ...
- a folder written by Spark MLlib's ``ALSModel.save`` (see :mod:`cfexplorer.io.spark_model`).

Whatever the format, what is imported is checked the same way before the factor space sees it:
factors 2-D with the same k for movies and users, one name and one bias per row, every factor and
bias a finite number within ±MAX_ABS_FACTOR.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

from ..core.embedding import Embedding, EmbeddingTable, from_frame, to_frame
from ..lazy import lazy_import
from . import arrays, limits
from .errors import FactorFileError, reason
from .writers import atomic_path

pd = lazy_import("pandas")

# Projections and distances square the factors: past this they overflow, and no trained model's
# factors or biases come near it.
MAX_ABS_FACTOR = 1e6
NPZ_ARRAYS = ("item_factors", "item_names", "item_bias", "user_factors", "user_names", "user_bias")

__all__ = ["FactorFileError", "read_factors", "write_factors"]


def write_factors(embedding: Embedding, path) -> None:
    """Write movies' and users' names, biases and factors as CSV (atomically)."""
    path = Path(path)
    with atomic_path(path) as temporary:
        to_frame(embedding).to_csv(temporary, index=False, float_format="%.6g")


def read_factors(path, ratings=None) -> Embedding:
    """Factors from a file in one of the formats above, or from a folder Spark's ALSModel.save wrote
    (io/spark_model.py; ``ratings``, the window's, name its rows where their labels are Spark's ids)."""
    path = Path(path)
    if path.is_dir():
        from .spark_model import read_spark_als

        return read_spark_als(path, ratings)
    try:
        suffix = path.suffix.lower()
        if suffix == ".npz":
            embedding = _read_npz(path)
        elif suffix == ".npy":
            embedding = _read_npy(path)
        else:
            embedding = _read_csv(path)
    except FactorFileError:
        raise
    except MemoryError:
        raise FactorFileError.at(path, "there is not enough free memory to read this file") from None
    # what numpy, pandas and the csv sniffer raise for a damaged or foreign file
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, csv.Error, zipfile.BadZipFile) as error:
        raise FactorFileError.at(path, reason(error)) from None
    for kind, table in (("movie", embedding.items), ("user", embedding.users)):
        _check_learned(path, kind, table.factors, table.bias)
    return embedding


def _check_learned(path, kind: str, factors: np.ndarray, bias: np.ndarray) -> None:
    for what, values in (("factor", factors), ("bias", bias)):
        if values.size == 0:
            continue
        if not np.isfinite(values).all():
            row = int(np.argwhere(~np.isfinite(values))[0][0])
            raise FactorFileError.at(path, f"a {kind} {what} is not a finite number (row {row + 1})")
        if np.abs(values).max() > MAX_ABS_FACTOR:
            row = int(np.argwhere(np.abs(values) > MAX_ABS_FACTOR)[0][0])
            raise FactorFileError.at(path, f"a {kind} {what} is beyond ±{MAX_ABS_FACTOR:,.0f} (row {row + 1})")


def read_text(path: Path) -> str:
    """A text file of factors or parameters, read within the memory limits; FactorFileError naming the line
    where it stops being UTF-8."""
    data = limits.read_regular_file(path, limits.LONG_TEXT_OVERHEAD, "reading this file", FactorFileError.at)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FactorFileError.at(path, "not valid UTF-8 text; save the file as UTF-8", line) from None


def _read_csv(path: Path) -> Embedding:
    text = read_text(path)
    if not text.strip():
        raise FactorFileError.at(path, "the file is empty")
    limits.check_columns(path, limits.first_line_columns(text), FactorFileError.at)
    frame = pd.read_csv(io.StringIO(text), sep=None, engine="python")
    return from_frame(frame, source=path.name)


def _empty_table(k: int) -> EmbeddingTable:
    return EmbeddingTable(np.array([], dtype=object), np.zeros((0, k)), np.zeros(0))


def _read_npz(path: Path) -> Embedding:
    found = arrays.read_npz(path, wanted=NPZ_ARRAYS.__contains__, error=FactorFileError.at)
    if "item_factors" not in found:
        raise FactorFileError.at(path, "no 'item_factors' array (an .npz of factors needs item_factors, "
                                       "and may have item_names, item_bias, user_factors, user_names, user_bias)")
    items = _table_of(path, found, "item", None)
    users = (_table_of(path, found, "user", items.n_factors) if "user_factors" in found
             else _empty_table(items.n_factors))
    return Embedding(items, users, source=path.name)


def _table_of(path: Path, found: dict, prefix: str, k: int | None) -> EmbeddingTable:
    """One kind's table from the archive's arrays, each checked for the shape the others imply."""
    kind = "movie" if prefix == "item" else "user"
    factors = found[f"{prefix}_factors"]
    if factors.ndim != 2 or factors.dtype.kind not in arrays.NUMBERS:
        raise FactorFileError.at(path, f"{prefix}_factors must be a 2-D array of numbers ({kind}s × factors); "
                                       f"it is {factors.ndim}-D {factors.dtype}")
    if k is not None and factors.shape[1] != k:
        raise FactorFileError.at(path, f"{prefix}_factors has {factors.shape[1]} factors but item_factors has {k}")
    rows = factors.shape[0]
    names = found.get(f"{prefix}_names")
    if names is None:
        names = np.array([f"{kind} {i + 1}" for i in range(rows)], dtype=object)
    elif names.ndim != 1 or len(names) != rows:
        raise FactorFileError.at(path, f"{prefix}_names has shape {names.shape} for {rows} rows of {prefix}_factors")
    bias = found.get(f"{prefix}_bias")
    if bias is not None and (bias.ndim != 1 or len(bias) != rows or bias.dtype.kind not in arrays.NUMBERS):
        raise FactorFileError.at(path, f"{prefix}_bias must be {rows} numbers, one per row of {prefix}_factors; "
                                       f"it has shape {bias.shape} ({bias.dtype})")
    return EmbeddingTable(names.astype(str).astype(object), factors.astype(float),
                          None if bias is None else bias.astype(float))


def _read_npy(path: Path) -> Embedding:
    factors = arrays.read_npy(path, error=FactorFileError.at)
    if factors.ndim != 2:
        raise FactorFileError.at(path, f"expected a 2-D array of numbers (movies x factors), got shape {factors.shape}")
    names_file = path.with_suffix(".txt")
    if names_file.exists():
        data = limits.read_regular_file(names_file, limits.LONG_TEXT_OVERHEAD, "reading the names", FactorFileError.at)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FactorFileError.at(names_file, "not valid UTF-8 text; save the names as UTF-8") from None
        names = [line.strip() for line in text.splitlines() if line.strip()]
        if len(names) != len(factors):
            raise FactorFileError(f"{names_file}: {len(names)} names for {len(factors)} rows in {path.name}")
    else:
        names = [f"movie {i + 1}" for i in range(len(factors))]
    items = EmbeddingTable(np.array(names, dtype=object), factors.astype(float), None)
    return Embedding(items, _empty_table(factors.shape[1]), source=path.name)
