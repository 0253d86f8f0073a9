"""Read and write learned factors and biases with names, to inspect models trained elsewhere.

Formats:
- CSV: columns ``kind`` (movie/user), ``name``, ``bias``, optional ``count``/``mean``, ``f1``..``fk``
  (what :func:`write_factors` writes);
- ``.npz``: array ``item_factors``, optionally ``item_names``, ``item_bias``, ``user_factors``,
  ``user_names``, ``user_bias``;
- ``.npy``: one movies x k matrix; names from a text file beside it with the same stem
  (``emb.npy`` + ``emb.txt``, one name per line), else "movie 1", "movie 2", ...
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from ..core.embedding import Embedding, EmbeddingTable, from_frame, to_frame
from .writers import atomic_path
from ..lazy import lazy_import

pd = lazy_import("pandas")


class FactorFileError(ValueError):
    """A factor file that cannot be read; the message (one line) names the file and the problem."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def write_factors(embedding: Embedding, path) -> None:
    """Write movies' and users' names, biases and factors as CSV (atomically)."""
    path = Path(path)
    with atomic_path(path) as temporary:
        to_frame(embedding).to_csv(temporary, index=False, float_format="%.6g")


def read_factors(path) -> Embedding:
    path = Path(path)
    try:
        suffix = path.suffix.lower()
        if suffix == ".npz":
            return _read_npz(path)
        if suffix == ".npy":
            return _read_npy(path)
        frame = pd.read_csv(path, sep=None, engine="python")
        return from_frame(frame, source=path.name)
    except FactorFileError:
        raise
    # what numpy, pandas and the csv sniffer raise for a damaged or foreign file
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, csv.Error, zipfile.BadZipFile) as error:
        raise FactorFileError(f"{path}: {error or type(error).__name__}") from error


def _empty_table(k: int) -> EmbeddingTable:
    return EmbeddingTable(np.array([], dtype=object), np.zeros((0, k)), np.zeros(0))


def _read_npz(path: Path) -> Embedding:
    with np.load(path, allow_pickle=False) as archive:
        if "item_factors" not in archive:
            raise FactorFileError(f"{path}: no 'item_factors' array (found {', '.join(archive.files)})")

        def table(prefix):
            factors = np.atleast_2d(archive[f"{prefix}_factors"])
            names_key = f"{prefix}_names"
            names = (archive[names_key].astype(str) if names_key in archive
                     else np.array([f"{'movie' if prefix == 'item' else 'user'} {i + 1}" for i in range(len(factors))]))
            bias = archive[f"{prefix}_bias"] if f"{prefix}_bias" in archive else None
            return EmbeddingTable(names.astype(object), factors, bias)

        items = table("item")
        users = table("user") if "user_factors" in archive else _empty_table(items.n_factors)
    return Embedding(items, users, source=path.name)


def _read_npy(path: Path) -> Embedding:
    factors = np.load(path, allow_pickle=False)
    if factors.ndim != 2 or not np.issubdtype(factors.dtype, np.number):
        raise FactorFileError(f"{path}: expected a 2-D numeric array (movies x factors), got shape {factors.shape}")
    names_file = path.with_suffix(".txt")
    if names_file.exists():
        names = [line.strip() for line in names_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(names) != len(factors):
            raise FactorFileError(f"{names_file}: {len(names)} names for {len(factors)} rows in {path.name}")
    else:
        names = [f"movie {i + 1}" for i in range(len(factors))]
    items = EmbeddingTable(np.array(names, dtype=object), factors.astype(float), None)
    return Embedding(items, _empty_table(factors.shape[1]), source=path.name)
