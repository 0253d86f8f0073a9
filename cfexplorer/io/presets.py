"""Built-in classroom examples: the course's matrices (files in ``resources/presets``) and
generated matrices with known structure."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable

import numpy as np

from ..core import synthetic
from ..core.ratings import BINARY_SCALE, RatingScale, Ratings

COURSE_SCALE = RatingScale(0.0, 5.0, 0.5)

# Settings follow the course: mean normalization, user bias only, Adam.
COURSE_TRAINING = {
    "n_factors": 2, "reg": 1.0, "bias_reg": 0.0, "optimizer": "adam", "learning_rate": 0.1,
    "n_epochs": 200, "mean_normalization": True, "global_mean": False, "user_bias": True, "item_bias": False,
}
# The course lab's own run on its files (TrainingPanel.set_params takes it): the course's settings with k = 100,
# every factor and bias drawn from N(0, 1), nothing held out.
COURSE_LAB_TRAINING = {**COURSE_TRAINING, "n_factors": 100, "init": "normal", "validation_fraction": 0.0}


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    load: Callable[..., Ratings]
    training: dict = field(default_factory=dict)


def _course_file(filename: str, scale: RatingScale, binary: bool) -> Callable[[], Ratings]:
    def load() -> Ratings:
        text = resources.files("cfexplorer.resources").joinpath("presets", filename).read_text(encoding="utf-8")
        return course_table(text, scale, binary)
    return load


def course_table(text: str, scale: RatingScale, binary: bool) -> Ratings:
    """A course table (movies down, users across, "?" for not rated) of our own preset files.

    Read with the csv module rather than the general reader, which needs pandas: the window opens with
    a preset, and pandas would add a third of a second to start-up.
    """
    header, *rows = list(csv.reader(io.StringIO(text)))
    movies = [row[0].strip() for row in rows]
    matrix = np.array([[np.nan if cell.strip() == "?" else float(cell) for cell in row[1:]] for row in rows])
    return Ratings.from_dense(matrix.T, [name.strip() for name in header[1:]], movies, scale, binary)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("course", "Course: 5 movies × 4 users",
               "Alice and Bob like romance, Carol and Dave like action (the course's first example).",
               _course_file("course.csv", COURSE_SCALE, False), COURSE_TRAINING),
        Preset("course-eve", "Course: mean normalization (with Eve)",
               "The same movies with Eve, who has rated nothing: without mean normalization she is "
               "predicted 0, with it the movie means.",
               _course_file("course_eve.csv", COURSE_SCALE, False), COURSE_TRAINING),
        Preset("course-binary", "Course: binary likes",
               "1 = liked, 0 = disliked, ? = not shown; trained with a sigmoid and cross-entropy.",
               _course_file("course_binary.csv", BINARY_SCALE, True),
               {**COURSE_TRAINING, "mean_normalization": False, "learning_rate": 0.1}),
        Preset("planted", "Planted tastes (generated)",
               "Users who love one hidden taste and dislike the others; see whether factors recover it.",
               synthetic.planted_tastes,
               {**COURSE_TRAINING, "n_factors": 2, "n_epochs": 300}),
        Preset("disjoint", "Two disjoint blocks (generated)",
               "Two groups of users rate two unrelated groups of movies: nothing links the blocks.",
               synthetic.disjoint_blocks, COURSE_TRAINING),
    )
}

DEFAULT_PRESET = "course"


def load_preset(name: str, **options) -> Ratings:
    if name not in PRESETS:
        raise KeyError(f"no preset named {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name].load(**options)
