"""Write ratings to the formats the readers understand. Every save is atomic: the data goes to a
temporary file beside the target, which then replaces it, so a failed save leaves the old file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

from ..core.ratings import Ratings
from ..lazy import lazy_import

pd = lazy_import("pandas")


class SaveError(OSError):
    """A file could not be written; the previous file, if any, is untouched."""


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def wide_frame(ratings: Ratings, items_as_rows: bool = True) -> pd.DataFrame:
    """The matrix with labels, "?" where not rated; movies as rows like the course's tables."""
    dense = ratings.to_dense().astype(object)
    dense[pd.isna(dense)] = "?"
    frame = pd.DataFrame(dense, index=list(ratings.user_labels), columns=list(ratings.item_labels))
    if items_as_rows:
        frame = frame.T
        frame.index.name = "Movie"
    else:
        frame.index.name = "User"
    return frame


def _format_value(value: float) -> str:
    return f"{value:g}"


def write_long(ratings: Ratings, path, sep: str = ",") -> None:
    frame = ratings.to_frame()
    frame["rating"] = [_format_value(v) for v in frame["rating"]]
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, sep=sep, index=False)


def write_wide(ratings: Ratings, path, sep: str = ",", items_as_rows: bool = True) -> None:
    frame = wide_frame(ratings, items_as_rows).map(lambda v: v if isinstance(v, str) else _format_value(v))
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, sep=sep)


def write_xlsx(ratings: Ratings, path, items_as_rows: bool = True) -> None:
    frame = wide_frame(ratings, items_as_rows).replace("?", np.nan)
    with atomic_path(path) as temporary:
        frame.to_excel(temporary, engine="openpyxl")


def write_by_extension(ratings: Ratings, path, shape: str = "wide", items_as_rows: bool = True) -> None:
    """Choose the writer from the file name: .xlsx, .tsv/.txt (tabs), else CSV; ``shape`` long or wide."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        write_xlsx(ratings, path, items_as_rows)
        return
    sep = "\t" if suffix in (".tsv", ".txt", ".data") else ","
    if shape == "long":
        write_long(ratings, path, sep)
    else:
        write_wide(ratings, path, sep, items_as_rows)
