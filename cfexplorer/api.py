"""CF Explorer from Python: the names a script or notebook may rely on.

Everything here is kept stable (tests/test_api.py imports only this module); the rest of the package may
change. A run of the window, written out by File ▸ Export as Python Script…, uses nothing else::

    from cfexplorer import api

    ratings = api.load_example("course")             # or api.read_ratings("ratings.csv")
    model = api.make_model("mf", n_factors=3, reg=1.0, n_epochs=200)
    for record in model.iter_fit(ratings):           # one EpochRecord per epoch
        print(record.epoch, record.total, record.data_term, record.reg_term)
    print(api.unrated_predictions(model, ratings))   # what the grid shows in its "?" cells

Models follow scikit-learn's conventions: hyperparameters in ``make_model``'s keywords (``get_params()``
lists them), ``fit``/``iter_fit`` to train, ``predict(users, items)`` with inner indices, learned arrays
with a trailing underscore (``item_factors_``, ``user_factors_``, ``user_bias_``, ``item_bias_``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .core.embedding import PcaResult, nearest_neighbours, pca
from .core.mf import EpochRecord, TrainingDiverged
from .core.models import MODEL_KINDS, make_model
from .core.ratings import Ratings, RatingScale, train_test_split
from .core.threads import choose_blas_threads

__all__ = [
    "EpochRecord", "MODEL_KINDS", "PcaResult", "RatingScale", "Ratings", "TrainingDiverged",
    "choose_blas_threads", "learned_arrays", "load_example", "make_model", "nearest_neighbours",
    "open_project", "pca", "read_ratings", "save_project", "train_test_split", "unrated_predictions",
]

# Beyond this many "?" cells, unrated_predictions lists each user's best movies instead of every cell.
MAX_UNRATED_CELLS = 200_000


def read_ratings(path, binary: bool | None = None) -> Ratings:
    """The ratings in a file, read as the window's File ▸ Open reads it: MovieLens (ratings.csv, u.data),
    a long table (user, movie, rating), a users × movies table (CSV, TSV, Excel). ``binary=True`` reads
    like = 1 / dislike = 0; None decides from the values. Raises ``ValueError`` with one line naming the
    file (and line) that cannot be read."""
    from .io.readers import read_any

    return read_any(Path(path), binary=binary).ratings


def load_example(name: str) -> Ratings:
    """One of the window's built-in examples (File ▸ New from Example), by name: ``"course"``,
    ``"course-eve"``, ``"course-binary"``, … (``example_names()`` lists them)."""
    from .io.presets import load_preset

    return load_preset(name)


def example_names() -> list[str]:
    from .io.presets import PRESETS

    return list(PRESETS)


def open_project(path):
    """A project saved by the window (.cfx): ``.ratings``, ``.settings`` and ``.model`` (the trained
    model it holds, or None)."""
    from .io.project import load_project

    return load_project(Path(path))


def save_project(path, ratings: Ratings, model=None) -> Path:
    """Write ``ratings`` (and a trained ``model``) as a project the window opens (File ▸ Open): the grid,
    the model's predictions in its "?" cells, its loss curves and its factor space. Returns the path."""
    from .io.project import Project, save_project as write

    path = Path(path)
    write(path, Project(ratings, {}, None if model is None else model.get_state()))
    return path


def unrated_predictions(model, ratings: Ratings, top_n: int = 10) -> pd.DataFrame:
    """What the trained ``model`` predicts for the cells ``ratings`` leaves unrated, as a table with the
    columns user, movie, prediction, best first for each user. Every "?" cell when there are at most
    MAX_UNRATED_CELLS of them, else each user's ``top_n`` (nothing users × movies is built)."""
    predictor = model.predictor()
    n_users, n_items = ratings.n_users, ratings.n_items
    every_cell = n_users * n_items - ratings.n_ratings <= MAX_UNRATED_CELLS
    titles = np.asarray(ratings.item_titles(), dtype=object)
    rated_by_user = np.split(ratings.items[np.argsort(ratings.users, kind="stable")],
                             np.cumsum(np.bincount(ratings.users, minlength=n_users))[:-1])
    rows_user, rows_item, rows_prediction = [], [], []
    for user in range(n_users):
        items, predictions = predictor.recommend(user, rated_by_user[user], n=n_items if every_cell else top_n)
        rows_user.append(np.full(len(items), user))
        rows_item.append(items)
        rows_prediction.append(predictions)
    users = np.concatenate(rows_user) if rows_user else np.array([], dtype=np.int64)
    items = np.concatenate(rows_item) if rows_item else np.array([], dtype=np.int64)
    return pd.DataFrame({
        "user": np.asarray(ratings.user_labels, dtype=object)[users],
        "movie": titles[items],
        "prediction": np.concatenate(rows_prediction) if rows_prediction else np.array([], dtype=float),
        "user_index": users,
        "movie_index": items,
    })


def learned_arrays(model) -> dict:
    """The learned arrays the factor space shows: ``item_factors``, ``user_factors``, ``item_bias``,
    ``user_bias`` (for the neural and content models, the vectors their towers or embeddings produce)."""
    return {name: np.asarray(value) for name, value in model.snapshot().items()}
