"""Project files (``.cfx``): ratings, labels, item info, settings and the trained model in one file.

The file is a NumPy ``.npz`` archive read with ``allow_pickle=False``: arrays stay arrays, and
everything else (labels, settings, item info, hyperparameters) is stored as JSON text, so opening
a project never runs code from it.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.ratings import RatingScale, Ratings
from .readers import RatingsFileError
from .writers import atomic_path
from ..lazy import lazy_import

pd = lazy_import("pandas")

FORMAT = "cfexplorer-project"
VERSION = 1
SUFFIX = ".cfx"


@dataclass
class Project:
    ratings: Ratings
    settings: dict = field(default_factory=dict)
    model_state: dict | None = None


def _labels_to_json(labels) -> str:
    return json.dumps([label.item() if isinstance(label, np.generic) else label for label in labels])


def save_project(path, project: Project) -> None:
    ratings = project.ratings
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "user_labels": json.loads(_labels_to_json(ratings.user_labels)),
        "item_labels": json.loads(_labels_to_json(ratings.item_labels)),
        "scale": [ratings.scale.low, ratings.scale.high, ratings.scale.step],
        "binary": ratings.binary,
        "item_info": None if ratings.item_info is None else ratings.item_info.to_json(orient="split"),
        "settings": project.settings,
    }
    arrays = {"users": ratings.users, "items": ratings.items, "values": ratings.values}
    if project.model_state is not None:
        meta["model"] = {k: v for k, v in project.model_state.items() if not isinstance(v, np.ndarray)}
        arrays.update({f"model/{k}": v for k, v in project.model_state.items() if isinstance(v, np.ndarray)})
    arrays["meta"] = np.frombuffer(json.dumps(meta, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def load_project(path) -> Project:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(bytes(archive["meta"]).decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise RatingsFileError(path, "not a CF Explorer project")
            if meta.get("version", 0) > VERSION:
                raise RatingsFileError(path, f"made by a newer CF Explorer (project version {meta['version']})")
            info = meta.get("item_info")
            item_info = None if info is None else pd.read_json(io.StringIO(info), orient="split")
            low, high, step = meta["scale"]
            ratings = Ratings(
                archive["users"], archive["items"], archive["values"], meta["user_labels"], meta["item_labels"],
                RatingScale(low, high, step), meta["binary"], item_info,
            )
            model_state = None
            if "model" in meta:
                model_state = dict(meta["model"])
                for key in archive.files:
                    if key.startswith("model/"):
                        model_state[key[len("model/"):]] = archive[key]
    except RatingsFileError:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise RatingsFileError(path, f"cannot be read as a project file ({error})") from None
    return Project(ratings, meta.get("settings", {}), model_state)
