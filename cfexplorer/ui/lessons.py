"""Guided lessons (Help ▸ Lessons): short sequences that set up the grid, the settings and the views for one
idea of the course, with a side panel of text and a Next button.

A lesson is data: its steps, each a text and what the step does to the window (open a matrix, change a
setting, train, bring a view to the front). The panel only walks through them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from ..core.embedding import ITEM_KIND
from ..core.ratings import Ratings
from ..core.synthetic import planted_tastes
from ..io.presets import PRESETS, load_preset


@dataclass(frozen=True)
class Step:
    text: str  # HTML for the side panel
    do: Callable | None = None  # do(window): what the step sets up
    trains: bool = False  # the step starts a training run


@dataclass(frozen=True)
class Lesson:
    title: str
    steps: tuple[Step, ...] = field(default_factory=tuple)


# --- what steps do ------------------------------------------------------------------------------------------
def open_preset(name: str, **training):
    def do(window):
        preset = PRESETS[name]
        window.set_document(load_preset(name), preset.title,
                            settings={"preset": name, "training": {**preset.training, **training}})
    return do


def open_data(make: Callable[[], Ratings], title: str, **training):
    def do(window):
        window.set_document(make(), title, settings={"training": training})
    return do


def train(**params):
    def do(window):
        if params:
            window.training_panel.set_params(params)
        window.curves_dock.raise_()
        window.training_panel.train()
    return do


def show_factor_space(side_tab: str | None = None, select_movie: int | None = None):
    def do(window):
        window.factor_dock.show()
        window.factor_dock.raise_()
        view = window.factor_space
        if select_movie is not None:
            view.select({ITEM_KIND: [select_movie]})
        if side_tab is not None:
            tabs = view.side_tabs
            tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == side_tab))
    return do


def apply_density_filter(min_movie_ratings: int):
    def do(window):
        window.proxy.set_min_ratings(0, min_movie_ratings)
    return do


def both(*actions):
    def do(window):
        for action in actions:
            action(window)
    return do


# --- the lessons' own data ------------------------------------------------------------------------------------
def sparse_tastes() -> Ratings:
    """Thirty users, twenty movies, a quarter of the cells rated: enough factors to memorize it."""
    return planted_tastes(n_users=30, n_items=20, n_tastes=2, density=0.25, noise=0.6, seed=3)


def tastes_with_a_new_release() -> Ratings:
    """The planted tastes plus one movie that a single user has rated."""
    base = planted_tastes(n_users=16, n_items=10, n_tastes=2, density=0.7, seed=1)
    matrix = np.column_stack([base.to_dense(), np.full(base.n_users, np.nan)])
    matrix[0, -1] = 5.0
    return Ratings.from_dense(matrix, list(base.user_labels), [*base.item_labels, "New release"], base.scale)


MF_ADAM = {"model": "mf", "optimizer": "adam", "learning_rate": 0.05, "n_epochs": 300, "seed": 0}

LESSONS: tuple[Lesson, ...] = (
    Lesson("1. Latent factors", (
        Step("<p>Five movies, four users: Alice and Bob love romance and dislike action, Carol and Dave the "
             "reverse. <b>?</b> is a rating nobody has given. The model gives each movie a vector "
             "<b>x</b> and each user a vector <b>w</b> (here 2 numbers each) and predicts w·x + b.</p>",
             open_preset("course", n_factors=2)),
        Step("<p>Training adjusts every x and w to make w·x + b match the known ratings. Watch the cost J fall "
             "below; the <b>?</b> cells fill with predictions in italics.</p>", train(), trains=True),
        Step("<p>The factor space plots each movie's x. Nobody told the model which movies are romance: the "
             "three romance movies land together, the two action movies on the other side. The factors "
             "<i>found</i> the genres from the ratings alone.</p>", show_factor_space("Neighbours")),
    )),
    Lesson("2. Mean normalization", (
        Step("<p>Eve joins and has rated nothing. Without mean normalization, what will the model predict for "
             "her?</p>", open_preset("course-eve", mean_normalization=False)),
        Step("<p>Trained without mean normalization: Eve's vector w is pulled to 0 by the regularization (no "
             "rating pulls it anywhere else), so every prediction for her is <b>0</b>: she would hate "
             "everything.</p>", train(), trains=True),
        Step("<p>Now subtract each movie's mean μ<sub>i</sub> before training and add it back when "
             "predicting. Eve's w still goes to 0, but her predictions are now μ<sub>i</sub>: the movie's mean "
             "rating, the sensible guess for a newcomer.</p>", train(mean_normalization=True), trains=True),
    )),
    Lesson("3. Biases and latent factors", (
        Step("<p>Planted tastes: each movie belongs to one of two hidden tastes, each user loves one. First "
             "train with latent factors only: no user or movie bias.</p>",
             open_data(lambda: planted_tastes(), "Planted tastes", **MF_ADAM, n_factors=2, reg=1.0,
                       mean_normalization=False, global_mean=True, user_bias=False, item_bias=False)),
        Step("<p>Training without biases…</p>", train(), trains=True),
        Step("<p>Now with a bias per user (how generous a rater is) and per movie (how good the movie is "
             "overall). The dashed curve is the run before; the legend names what changed.</p>",
             train(user_bias=True, item_bias=True), trains=True),
        Step("<p>The Biases tab ranks movies and users by their learned bias: the part of a rating that has "
             "nothing to do with taste.</p>", show_factor_space("Biases")),
    )),
    Lesson("4. Regularization", (
        Step("<p>A sparse matrix: a quarter of the cells rated. 30% of the ratings are held out for "
             "validation. First λ = 0 with 8 factors: nothing stops the factors from memorizing the training "
             "ratings.</p>",
             open_data(sparse_tastes, "Sparse tastes", **MF_ADAM, n_factors=8, reg=0.0, bias_reg=0.0,
                       mean_normalization=False, global_mean=True, user_bias=True, item_bias=True,
                       validation_fraction=0.3)),
        Step("<p>λ = 0: the training cost falls towards zero while the validation RMSE (lower plot) turns back "
             "up — overfitting.</p>", train(), trains=True),
        Step("<p>λ = 1: J now has two parts, the data term ½Σ(w·x + b − y)² and the regularization term "
             "λ/2(‖W‖² + ‖X‖²). The reported loss is their sum, so it does not fall to zero — the model trades "
             "a little training error for smaller factors, and the validation RMSE is lower.</p>",
             train(reg=1.0, bias_reg=0.2), trains=True),
    )),
    Lesson("5. Binary labels", (
        Step("<p>Likes: 1 = liked, 0 = disliked (or seen and not liked), ? = never shown. The output goes "
             "through a sigmoid, g(w·x + b) = 1/(1 + e<sup>−(w·x + b)</sup>), and the cost is the binary "
             "cross-entropy.</p>", open_preset("course-binary")),
        Step("<p>After training, the <b>?</b> cells hold probabilities of a like, between 0 and 1.</p>",
             train(), trains=True),
    )),
    Lesson("6. Sparsity", (
        Step("<p>A new release has a single rating. What can the model learn about it?</p>",
             open_data(tastes_with_a_new_release, "Tastes and a new release", **MF_ADAM, n_factors=2, reg=2.0,
                       mean_normalization=False, global_mean=True, user_bias=True, item_bias=True)),
        Step("<p>Trained. One rating pulls the new release's factors a little; the regularization pulls them "
             "back to 0. Its vector stays short, near where it started — its factors mean little. Select it in "
             "the factor space: the One-hot × W tab says so.</p>", train(), trains=True),
        Step("<p>The density filter (Data ▸ Density and Mean Filter) keeps only movies with at least 2 ratings: "
             "the new release leaves the grid and the density rises.</p>",
             both(apply_density_filter(2), show_factor_space("One-hot × W", select_movie=10))),
    )),
    Lesson("7. Embedding lookup", (
        Step("<p>An embedding layer stores the movie vectors as rows of a matrix W. Looking up movie i is the "
             "same as multiplying its one-hot vector e<sub>i</sub> by W.</p>", open_preset("course")),
        Step("<p>Train so that W holds learned numbers.</p>", train(), trains=True),
        Step("<p>The One-hot × W tab shows e<sub>i</sub>, W and their product for the selected movie: exactly "
             "row i of W. A lookup skips multiplying by all those zeros.</p>",
             show_factor_space("One-hot × W", select_movie=1)),
    )),
    Lesson("8. Content-based filtering", (
        Step("<p>Content-based filtering uses features instead of ids: for users their number of ratings, mean "
             "and mean per genre; for movies their mean, count and genres. Training ▸ Feature Tables shows "
             "them.</p>",
             open_data(lambda: planted_tastes(n_users=24, n_items=16, density=0.7), "Planted tastes",
                       model="content", n_outputs=4, hidden="16", reg=0.01, learning_rate=0.01, n_epochs=300,
                       batch_size=0, validation_fraction=0.0)),
        Step("<p>Two towers: a network turns user features into a vector v<sub>u</sub>, another turns movie "
             "features into v<sub>m</sub>; both are L2-normalized to length 1 and the prediction is their dot "
             "product (targets scaled to [−1, 1]).</p>", train(), trains=True),
        Step("<p>Similar movies are those whose v<sub>m</sub> are close: the Neighbours tab lists them for the "
             "selected movie — here movies of the same hidden taste.</p>",
             show_factor_space("Neighbours", select_movie=0)),
    )),
)


class LessonPanel(QWidget):
    """The side panel: the lesson's title, the current step's text, Back and Next."""

    sig_step_shown = Signal(int, int)  # lesson, step

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.lesson_index, self.step_index = None, 0
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 14pt")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        self.position = QLabel()
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next")
        self.next_button.setDefault(True)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        buttons = QHBoxLayout()
        buttons.addWidget(self.position)
        buttons.addStretch()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self._show()

    @property
    def lesson(self) -> Lesson | None:
        return None if self.lesson_index is None else LESSONS[self.lesson_index]

    def start(self, index: int) -> bool:
        if not self.window.confirm_discard():
            return False
        self.lesson_index = index
        self._go(0)
        return True

    def next(self):
        lesson = self.lesson
        if lesson is None:
            return
        if self.step_index + 1 < len(lesson.steps):
            self._go(self.step_index + 1)
        elif self.lesson_index + 1 < len(LESSONS):
            self.start(self.lesson_index + 1)

    def back(self):
        if self.lesson is not None and self.step_index > 0:
            self._go(self.step_index - 1)

    def _go(self, step_index: int):
        self.step_index = step_index
        step = self.lesson.steps[step_index]
        document = self.window.table.ratings
        if step.do is not None:
            step.do(self.window)
        if self.window.table.ratings is not document:
            # What a lesson sets up is not the user's unsaved work; edits the user made during the lesson are.
            self.window.undo_stack.setClean()
        self._show()
        self.sig_step_shown.emit(self.lesson_index, step_index)

    def _show(self):
        lesson = self.lesson
        if lesson is None:
            self.title.setText("Lessons")
            self.text.setHtml("<p>Choose a lesson in Help ▸ Lessons.</p>")
            self.position.setText("")
            self.back_button.setEnabled(False)
            self.next_button.setEnabled(False)
            return
        last = self.step_index == len(lesson.steps) - 1
        self.title.setText(lesson.title)
        self.text.setHtml(lesson.steps[self.step_index].text)
        self.position.setText(f"Step {self.step_index + 1} of {len(lesson.steps)}")
        self.back_button.setEnabled(self.step_index > 0)
        has_more = not last or self.lesson_index + 1 < len(LESSONS)
        self.next_button.setEnabled(has_more)
        self.next_button.setText("Next lesson" if last else "Next")
