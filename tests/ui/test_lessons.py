"""Each lesson, run start to finish as a student would (Help ▸ Lessons, then Next), reaches its result."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cfexplorer.core.content import ContentBased
from cfexplorer.ui.lessons import LESSONS

from tests.core.course import MOVIE_MEANS

RUN_MS = 60_000


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def eve_predictions(window):
    ratings = window.table.ratings
    eve = list(ratings.user_labels).index("Eve")
    return window.table.predictor.predict_matrix()[eve]


# --- what each step must have reached: (lesson, step) -> check(window) ---------------------------------------
def latent_factors_split_the_genres(window):
    x = window.training_panel.model.item_factors_
    romance, action = x[:3], x[3:]
    within = np.mean([cosine(a, b) for group in (romance, action) for a in group for b in group
                      if a is not b])
    across = np.mean([cosine(a, b) for a in romance for b in action])
    assert within > 0.5 > across
    assert window.factor_dock.isVisible() and window.factor_space.embedding is not None


def eve_is_predicted_zero(window):
    np.testing.assert_allclose(eve_predictions(window), 0.0, atol=0.05)


def eve_is_predicted_the_movie_means(window):
    np.testing.assert_allclose(eve_predictions(window), MOVIE_MEANS, atol=0.01)


def biases_were_added_and_ranked(window):
    runs = window.training_panel.loss_plot.runs
    assert len(runs) >= 2
    assert runs[-2].settings["user_bias"] is False and runs[-1].settings["user_bias"] is True
    model = window.training_panel.model
    assert np.any(model.item_bias_ != 0) and np.any(model.user_bias_ != 0)
    best = window.table.ratings.item_titles()[int(np.argmax(model.item_bias_))]
    assert best in window.factor_space.bias_html()
    assert window.factor_space.side_tabs.tabText(window.factor_space.side_tabs.currentIndex()) == "Biases"


def regularization_helps_validation(window):
    runs = window.training_panel.loss_plot.runs
    unregularized, regularized = runs[-2], runs[-1]
    assert unregularized.settings["reg"] == 0 and regularized.settings["reg"] == 1
    last = window.training_panel.model.history_[-1]
    assert last.total == pytest.approx(last.data_term + last.reg_term) and last.reg_term > 0
    final_validation = [run.validation[-1] for run in (unregularized, regularized)]
    assert final_validation[1] < final_validation[0]


def likes_become_probabilities(window):
    model = window.training_panel.model
    assert model.loss_ == "bce"
    predictions = window.table.predictor.predict_matrix()
    assert np.all((predictions > 0) & (predictions < 1))


def the_sparse_movie_stays_short(window):
    x = window.training_panel.model.item_factors_
    norms = np.linalg.norm(x, axis=1)
    assert norms[-1] < 0.5 * np.median(norms[:-1])


def the_density_filter_hides_it(window):
    shown_titles = [window.proxy.headerData(r, Qt.Orientation.Vertical) for r in range(window.proxy.rowCount())]
    assert "New release" not in shown_titles and len(shown_titles) == 10
    assert "only 1 rating" in window.factor_space.one_hot_html()


def lookup_equals_one_hot_product(window):
    text = window.factor_space.one_hot_html()
    assert "row 1 of W: <b>yes</b>" in text


def content_towers_find_similar_movies(window):
    model = window.training_panel.model
    assert isinstance(model, ContentBased)
    np.testing.assert_allclose(np.linalg.norm(model.item_factors_, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(model.user_factors_, axis=1), 1.0, atol=1e-6)
    tastes = window.table.ratings.item_info["taste"].to_numpy()
    similar, _ = model.similar_items(0, n=3)
    assert np.all(tastes[similar] == tastes[0])
    assert window.factor_space.neighbour_rows()


CHECKS = {
    (0, 2): latent_factors_split_the_genres,
    (1, 1): eve_is_predicted_zero,
    (1, 2): eve_is_predicted_the_movie_means,
    (2, 3): biases_were_added_and_ranked,
    (3, 2): regularization_helps_validation,
    (4, 1): likes_become_probabilities,
    (5, 1): the_sparse_movie_stays_short,
    (5, 2): the_density_filter_hides_it,
    (6, 2): lookup_equals_one_hot_product,
    (7, 2): content_towers_find_similar_movies,
}


@pytest.mark.parametrize("lesson_index", range(len(LESSONS)), ids=[lesson.title for lesson in LESSONS])
def test_each_lesson_runs_to_its_result(qtbot, window, lesson_index):
    lesson = LESSONS[lesson_index]
    panel, training = window.lesson_panel, window.training_panel
    action = window.lessons_menu.actions()[lesson_index]
    assert action.text() == lesson.title
    for index, step in enumerate(lesson.steps):
        if step.trains:
            with qtbot.waitSignal(training.sig_run_ended, timeout=RUN_MS) as ended:
                action.trigger() if index == 0 else qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
            assert ended.args[1] == "done"
        elif index == 0:
            action.trigger()
        else:
            qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
        assert window.lesson_dock.isVisible() and (panel.lesson_index, panel.step_index) == (lesson_index, index)
        assert panel.position.text() == f"Step {index + 1} of {len(lesson.steps)}"
        check = CHECKS.get((lesson_index, index))
        if check is not None:
            check(window)
    assert panel.next_button.text() == "Next lesson" or lesson_index == len(LESSONS) - 1
    assert not window.has_unsaved_changes


def test_every_lesson_has_a_checked_result():
    assert {lesson for lesson, _ in CHECKS} == set(range(len(LESSONS)))


def test_back_returns_to_the_previous_step(qtbot, window):
    assert window.start_lesson(6)
    qtbot.mouseClick(window.lesson_panel.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.training_panel.controller.is_active, timeout=RUN_MS)
    qtbot.mouseClick(window.lesson_panel.back_button, Qt.MouseButton.LeftButton)
    assert window.lesson_panel.step_index == 0
    assert not window.lesson_panel.back_button.isEnabled()
