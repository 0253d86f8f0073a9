"""Guided lessons (Help ▸ Lessons): short sequences that set up the grid, the settings and the views for one
idea of the course, with a side panel of text and a Next button.

A lesson is data: its steps, each a text and what the step does to the window (open a matrix, change a
setting, train, bring a view to the front). The panel only walks through them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from ..core.embedding import ITEM_KIND
from ..core.ratings import Ratings
from ..core.synthetic import TASTE_TAGS, described_movies, disjoint_blocks, planted_tastes
from ..io.presets import PRESETS, load_preset
from .qt_guard import guard_event, report_current_exception
from . import lesson_findings as findings


TITLE_SCALE = 1.4  # a lesson's title against its text

@dataclass(frozen=True)
class Step:
    # HTML for the side panel, or text(window) -> HTML for a step that reports what the window shows now
    # (what earlier steps trained: lesson_findings.py)
    text: str | Callable
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
                            settings={"preset": name, "training": {**preset.training, **training}}, kind="lesson")
    return do


def open_data(make: Callable[[], Ratings], title: str, **training):
    def do(window):
        window.set_document(make(), title, settings={"training": training}, kind="lesson")
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


def apply_density_filter(min_movie_ratings: int, restrict_training: bool = False):
    def do(window):
        window.proxy.set_min_ratings(0, min_movie_ratings)
        window.proxy.set_restricts_training(restrict_training)
    return do


def remember_model(key: str):
    """Keep the model of the last run for a later step to compare (the next run replaces it in the panel)."""
    def do(window):
        window.lesson_panel.memo[key] = window.training_panel.model
    return do


def recommend_for_a_new_user(features: Callable[[list], dict]):
    """Open Training ▸ Recommend for a New User… with fields chosen from the model's feature names."""
    def do(window):
        dialog = window.show_new_user_dialog()
        if dialog is not None:
            dialog.set_features(features(dialog.model.user_feature_names_))
            dialog.recommend()
    return do


def both(*actions):
    def do(window):
        for action in actions:
            action(window)
    return do


# --- the lessons' own data ------------------------------------------------------------------------------------
def sparse_tastes() -> Ratings:
    """Thirty users, twenty movies, about a third of the cells rated: enough factors to memorize it."""
    return planted_tastes(n_users=30, n_items=20, n_tastes=2, density=0.25, noise=0.6, seed=3)


NEW_RELEASES = 3


def tastes_with_new_releases() -> Ratings:
    """The planted tastes plus three new releases that one user each has rated."""
    base = planted_tastes(n_users=16, n_items=10, n_tastes=2, density=0.7, seed=1)
    matrix = np.column_stack([base.to_dense(), np.full((base.n_users, NEW_RELEASES), np.nan)])
    for release in range(NEW_RELEASES):
        matrix[release, base.n_items + release] = 5.0
    titles = [*base.item_labels, *(f"New release {r + 1}" for r in range(NEW_RELEASES))]
    return Ratings.from_dense(matrix, list(base.user_labels), titles, base.scale)


def tastes_and_biases() -> Ratings:
    """Planted tastes plus a planted generosity per user and quality per movie (lesson 3 checks them)."""
    return planted_tastes(**TASTES_AND_BIASES)


TASTES_AND_BIASES = {"n_users": 20, "n_items": 16, "density": 0.7, "noise": 0.3, "seed": 0, "generosity": 1.0,
                     "quality": 1.0, "taste_contrast": 0.5}
DESCRIBED_MOVIES_SEED = 2


def tagged_movies() -> Ratings:
    return described_movies(seed=DESCRIBED_MOVIES_SEED)


def twin_blocks() -> Ratings:
    return disjoint_blocks(identical=True)


def romance_fan(feature_names) -> dict:
    """A new user who gives romance tags high marks and action tags low ones."""
    values = {}
    for name in feature_names:
        tag = name.removeprefix("mean ")
        if tag in TASTE_TAGS["Romance"]:
            values[name] = 5.0
        elif tag in TASTE_TAGS["Action"]:
            values[name] = 1.0
    return values


MF_ADAM = {"model": "mf", "optimizer": "adam", "learning_rate": 0.05, "n_epochs": 300, "seed": 0}
TOWERS = {"model": "content", "n_outputs": 4, "hidden": "16", "reg": 0.01, "learning_rate": 0.01, "n_epochs": 300,
          "batch_size": 0, "seed": 0}

LESSONS: tuple[Lesson, ...] = (
    Lesson("1. Latent factors", (
        Step("<p>Five movies, four users: Alice and Bob love romance and dislike action, Carol and Dave the "
             "reverse. <b>?</b> is a rating nobody has given. The model gives each movie a vector "
             "<b>x</b> and each user a vector <b>w</b> (here 2 numbers each) and predicts "
             "<b>w·x + b + μ<sub>i</sub></b>: the dot product of the two vectors, plus the user's bias b, plus "
             "the movie's mean rating μ<sub>i</sub> (mean normalization, the next lesson). Once a model is trained, "
             "the Cost J tab writes the same formula out with its numbers.</p>",
             open_preset("course", n_factors=2)),
        Step("<p>Training adjusts every x, w and b to make w·x + b + μ<sub>i</sub> match the known ratings. "
             "Watch the cost J fall below; the <b>?</b> cells fill with predictions in italics. Click one: "
             "the explanation adds up each term.</p>", train(), trains=True),
        Step("<p>The factor space plots each movie's x (through PCA: with two factors a rotation, which keeps "
             "the distances between movies). Nobody told the model which movies are romance: the "
             "three romance movies land together, the two action movies on the other side. The factors "
             "<i>found</i> the genres from the ratings alone.</p>", show_factor_space("Neighbours")),
    )),
    Lesson("2. Mean normalization", (
        Step("<p>Eve joins and has rated nothing. Without mean normalization, what will the model predict for "
             "her?</p>", open_preset("course-eve", mean_normalization=False)),
        Step("<p>Trained without mean normalization. Why is every prediction for Eve <b>0</b>? She has no "
             "ratings, so no term of the data part of J contains her w: its gradient there is 0. The only "
             "term that does is the regularization λ/2 ‖w‖², which holds w at 0, where a user without ratings "
             "starts — nothing pulls it away. Her bias b has neither data nor regularization: it stays where it "
             "started, at 0. So w·x + b = 0 for every movie: she would hate everything.</p>", train(),
             trains=True),
        Step("<p>Now subtract each movie's mean μ<sub>i</sub> before training and add it back when "
             "predicting. Eve's w stays at 0, for the same reason, but her predictions are now "
             "μ<sub>i</sub>: the movie's mean rating, the sensible guess for a newcomer.</p>",
             train(mean_normalization=True), trains=True),
    )),
    Lesson("3. Biases and latent factors", (
        Step("<p>Planted tastes and biases: each movie belongs to one of two hidden tastes and each user loves "
             "one; on top of that, each user was given a generosity (a harsh or a generous rater) and each "
             "movie a quality (good or bad for everyone). First train with latent factors only: no user or "
             "movie bias.</p>",
             open_data(tastes_and_biases, "Planted tastes and biases", **MF_ADAM, n_factors=2, reg=1.0,
                       bias_reg=0.0, mean_normalization=False, global_mean=True, user_bias=False,
                       item_bias=False)),
        Step("<p>Latent factors alone, no bias: the curves show the run, and the grid its predictions.</p>",
             train(), trains=True),
        Step("<p>Now with a bias per user (how generous a rater is) and per movie (how good the movie is "
             "overall). The dashed curve is the run before; the legend names what changed.</p>",
             train(user_bias=True, item_bias=True), trains=True),
        Step(findings.biases_recovered, show_factor_space("Biases")),
    )),
    Lesson("4. Regularization", (
        Step("<p>A sparse matrix: about a third of the cells rated. 30% of the ratings are held out for "
             "validation. First λ = 0 with 8 factors: nothing stops the factors from memorizing the training "
             "ratings.</p>",
             open_data(sparse_tastes, "Sparse tastes", **MF_ADAM, n_factors=8, reg=0.0, bias_reg=0.0,
                       mean_normalization=False, global_mean=True, user_bias=True, item_bias=True,
                       validation_fraction=0.3)),
        Step("<p>λ = 0: the training cost falls towards zero while the validation RMSE (lower plot) turns back "
             "up — overfitting.</p>", train(), trains=True),
        Step("<p>λ = 1 (and 0.2 for the biases): J now has two parts, the data term ½Σ(w·x + b + c + μ − y)² "
             "(b the user's bias, c the movie's, μ the mean) and the regularization term λ/2(‖W‖² + ‖X‖²) + "
             "λ<sub>b</sub>/2(‖b‖² + ‖c‖²). The reported loss is their sum, so it "
             "does not fall to zero — the model trades a little training error for smaller factors, and the "
             "validation RMSE is lower.</p>",
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
        Step("<p>Three new releases have a single rating each. What can the model learn about them?</p>",
             # λ for the biases as for the factors: a free movie bias took a single rating whole, and the new
             # releases' factors stayed at 0.000, where the text says one rating pulls them a little
             open_data(tastes_with_new_releases, "Tastes and new releases", **MF_ADAM, n_factors=2, reg=2.0,
                       bias_reg=2.0, mean_normalization=False, global_mean=True, user_bias=True, item_bias=True)),
        Step("<p>Trained on every rating. A new release's one rating pulls its vector straight along its one "
             "rater's taste: shorter than a typical movie's, but pointing exactly where that user points, and its "
             "predictions move with it by about a star. It looks like a place in the factor space, but it is one "
             "user's taste, not the movie's — its factors mean little. Select one in the factor space: the "
             "One-hot × W tab says so.</p>",
             train(), trains=True),
        Step("<p>Now the density filter (Data ▸ Density and Mean Filter) keeps only movies with at least 3 "
             "ratings, with <i>Train only on the ratings kept</i> on: the new releases leave the grid, the "
             "density rises, and Train learns from the others' ratings alone.</p>",
             both(remember_model("all ratings"), apply_density_filter(3, restrict_training=True), train()),
             trains=True),
        Step(findings.rare_movies_before_and_after,
             both(remember_model("at least 3"), show_factor_space("One-hot × W", select_movie=10))),
    )),
    Lesson("7. Embedding lookup", (
        Step("<p>An embedding layer stores the movie vectors as rows of a weight matrix — the course's X (the "
             "users' are W). Looking up movie i is the same as multiplying its one-hot vector e<sub>i</sub> by "
             "X.</p>", open_preset("course")),
        Step("<p>Train so that X holds learned numbers.</p>", train(), trains=True),
        Step("<p>The One-hot × W tab shows e<sub>i</sub>, X and their product for the selected movie: exactly "
             "row i of X. A lookup skips multiplying by all those zeros.</p>",
             show_factor_space("One-hot × W", select_movie=1)),
    )),
    Lesson("8. Content-based filtering", (
        Step("<p>Content-based filtering uses features instead of ids. Here each movie is described by tags — "
             "a kiss, a chase, rain, a dog — and no tag names its taste: a romance has one or two romantic "
             "tags and one to three that any movie may have. Each user is described by their number of "
             "ratings, mean, and mean rating per tag. Training ▸ Feature Tables shows both.</p>",
             open_data(tagged_movies, "Movies described by tags", **TOWERS, validation_fraction=0.0)),
        Step("<p>Two towers: a network turns user features into a vector v<sub>u</sub>, another turns movie "
             "features into v<sub>m</sub>; both are L2-normalized to length 1 and the prediction is their dot "
             "product (targets scaled to [−1, 1]).</p>", train(), trains=True),
        Step(findings.similarity_was_learned, show_factor_space("Neighbours", select_movie=0)),
        Step("<p>A new user who has rated nothing, described only by features: Training ▸ Recommend for a New "
             "User… High marks for romantic tags, low ones for action tags — the user tower places them, and "
             "the romance movies come first. No rating of theirs was needed.</p>",
             recommend_for_a_new_user(romance_fan)),
    )),
    Lesson("9. What the towers need", (
        Step("<p>The same tagged movies, a fifth of the ratings held out. The course's towers L2-normalize their "
             "outputs and scale the targets to [−1, 1]. What is the harm without each? First with both, as "
             "before (Content switches in the training panel).</p>",
             both(open_data(tagged_movies, "Movies described by tags", **TOWERS, validation_fraction=0.2),
                  train()), trains=True),
        Step("<p>Now without L2 normalization: the towers' outputs keep whatever length they get.</p>",
             both(remember_model("both"), train(normalize=False)), trains=True),
        Step(findings.without_normalization),
        Step("<p>Normalized again, but the targets are the ratings 1–5 themselves, not scaled to [−1, 1].</p>",
             both(remember_model("no normalization"), train(normalize=True, scale_targets=False)), trains=True),
        Step(findings.without_target_scaling),
    )),
    Lesson("10. Initialization", (
        Step("<p>Training starts from random factors, drawn with a seed. Train the course's matrix three times, "
             "with seeds 0, 1 and 2. First seed 0.</p>",
             both(open_preset("course", n_factors=2, seed=0), train()), trains=True),
        Step("<p>Seed 1: other random numbers to start from.</p>",
             both(remember_model("seed 0"), train(seed=1)), trains=True),
        Step("<p>Seed 2.</p>", both(remember_model("seed 1"), train(seed=2)), trains=True),
        Step(findings.same_predictions_other_factors, both(remember_model("seed 2"), show_factor_space())),
    )),
    Lesson("11. Disjoint blocks", (
        Step("<p>Two groups of users rate two groups of movies, and nothing links the groups — here block B's "
             "ratings are even a copy of block A's. What will the factors of the twins be?</p>",
             open_data(twin_blocks, "Two identical disjoint blocks", model="mf", optimizer="als", n_epochs=50,
                       n_factors=2, reg=1.0, bias_reg=0.0, seed=0, mean_normalization=False, global_mean=True,
                       user_bias=False, item_bias=False, validation_fraction=0.0)),
        Step("<p>Alternating least squares on both blocks at once: the curves show the run.</p>", train(),
             trains=True),
        Step(findings.twin_blocks_compared, show_factor_space("Neighbours", select_movie=0)),
    )),
)


class LessonPanel(QWidget):
    """The side panel: the lesson's title, the current step's text, Back and Next."""

    sig_step_shown = Signal(int, int)  # lesson, step

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.lesson_index, self.step_index = None, 0
        self.memo: dict = {}  # what steps keep for later ones (remember_model): forgotten when a lesson starts
        self.title = QLabel()
        self._fit_title_to_font()
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        self.position = QLabel()
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next")
        self.next_button.setDefault(True)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        # the same from anywhere in the window (Help ▸ Lessons lists them; the keyboard reached the buttons only
        # through every control before them)
        self.act_next = QAction("Next Step of the Lesson", self, shortcut=QKeySequence("Alt+Right"),
                                triggered=self.next)
        self.act_back = QAction("Previous Step of the Lesson", self, shortcut=QKeySequence("Alt+Left"),
                                triggered=self.back)
        self.next_button.setToolTip("The lesson's next step (Alt+Right)")
        self.back_button.setToolTip("The lesson's previous step (Alt+Left)")
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
        self.memo = {}
        self._go(0)
        self.next_button.setFocus()  # Space or Enter goes on through the steps
        return True

    def stop(self):
        """Leave the lesson (another document was opened)."""
        self.lesson_index, self.step_index = None, 0
        self.memo = {}
        self._show()

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

    def step_html(self, step: Step) -> str:
        """A step's text; one that reports measurements says so, should measuring fail, instead of breaking
        the lesson."""
        if not callable(step.text):
            return step.text
        try:
            return step.text(self.window)
        except Exception:  # a lesson must go on whatever went wrong with one measurement
            report_current_exception("measuring what a lesson step shows")
            return "<p><i>This step could not measure what it shows (the details were reported).</i></p>"

    def _fit_title_to_font(self):
        """The title bold and larger than the text, in whatever type the window has (a fixed 14 pt barely stood
        out in presentation mode's larger type)."""
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(self.font().pointSizeF() * TITLE_SCALE)
        self.title.setFont(font)

    @guard_event
    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_title_to_font()

    def _show(self):
        lesson = self.lesson
        if lesson is None:
            self.title.setText("Lessons")
            self.text.setHtml("<p>Choose a lesson in Help ▸ Lessons.</p>")
            self.position.setText("")
            self.back_button.setEnabled(False)
            self.next_button.setEnabled(False)
            self.act_back.setEnabled(False)
            self.act_next.setEnabled(False)
            return
        last = self.step_index == len(lesson.steps) - 1
        self.title.setText(lesson.title)
        self.text.setHtml(self.step_html(lesson.steps[self.step_index]))
        self.position.setText(f"Step {self.step_index + 1} of {len(lesson.steps)}")
        self.back_button.setEnabled(self.step_index > 0)
        has_more = not last or self.lesson_index + 1 < len(LESSONS)
        self.next_button.setEnabled(has_more)
        self.act_back.setEnabled(self.back_button.isEnabled())
        self.act_next.setEnabled(has_more)
        self.next_button.setText("Next lesson" if last else "Next")
