"""Each lesson, run start to finish as a student would (Help ▸ Lessons, then Next), reaches its result."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cfexplorer.core.content import ContentBased
from scipy.stats import spearmanr

from cfexplorer.ui import lesson_findings as findings
from cfexplorer.ui.lessons import LESSONS, NEW_RELEASES

from tests.core.course import MOVIE_MEANS

RUN_MS = 60_000


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def eve_predictions(window):
    ratings = window.table.ratings
    eve = list(ratings.user_labels).index("Eve")
    return window.table.predictor.predict_matrix()[eve]


# --- what each step must have reached: (lesson, step) -> check(window) ---------------------------------------
def step_text(window) -> str:
    return window.lesson_panel.text.toPlainText()


def the_formula_is_what_the_preset_computes(window):
    assert "w·x + b + μi" in step_text(window)
    model = window.training_panel.model
    assert model.mean_normalization and model.user_bias and not model.item_bias
    expected = (model.user_factors_ @ model.item_factors_.T + model.user_bias_[:, None]
                + model.item_mean_[None, :])
    np.testing.assert_allclose(window.table.predictor.predict_matrix(), np.clip(expected, 0, 5), atol=1e-9)


def latent_factors_split_the_genres(window):
    x = window.training_panel.model.item_factors_
    romance, action = x[:3], x[3:]
    within = np.mean([cosine(a, b) for group in (romance, action) for a in group for b in group
                      if a is not b])
    across = np.mean([cosine(a, b) for a in romance for b in action])
    assert within > 0.5 > across
    assert window.factor_dock.isVisible() and window.factor_space.embedding is not None


def eve_is_predicted_zero_because_nothing_moves_her_w(window):
    np.testing.assert_allclose(eve_predictions(window), 0.0, atol=0.05)
    model, eve = window.training_panel.model, list(window.table.ratings.user_labels).index("Eve")
    # "holds w at 0, where a user without ratings starts": exactly 0 (it said a gradient pulled it there)
    assert np.all(model.user_factors_[eve] == 0.0) and model.user_bias_[eve] == 0.0
    assert "gradient" in step_text(window) and "holds w at 0" in step_text(window)


def eve_is_predicted_the_movie_means(window):
    np.testing.assert_allclose(eve_predictions(window), MOVIE_MEANS, atol=0.01)


def biases_recover_the_planted_ones(window):
    runs = window.training_panel.loss_plot.runs
    assert len(runs) >= 2
    assert runs[-2].settings["user_bias"] is False and runs[-1].settings["user_bias"] is True
    model = window.training_panel.model
    best = window.table.ratings.item_titles()[int(np.argmax(model.item_bias_))]
    rankings = window.factor_space.bias_rankings
    assert best in [rankings.topLevelItem(row).text(0) for row in range(rankings.topLevelItemCount())]
    assert window.factor_space.side_tabs.tabText(window.factor_space.side_tabs.currentIndex()) == "Biases"
    generosity, quality = findings.planted_truth(window.table.ratings)
    assert spearmanr(model.item_bias_, quality)[0] >= 0.9 and spearmanr(model.user_bias_, generosity)[0] >= 0.9
    users, movies = findings.bias_agreement(window)
    assert f"{movies:.2f}" in step_text(window) and f"{users:.2f}" in step_text(window)


def regularization_helps_validation(window):
    runs = window.training_panel.loss_plot.runs
    unregularized, regularized = runs[-2], runs[-1]
    assert unregularized.settings["reg"] == 0 and regularized.settings["reg"] == 1
    last = window.training_panel.model.history_[-1]
    assert last.total == pytest.approx(last.data_term + last.reg_term) and last.reg_term > 0
    final_validation = [run.validation[-1] for run in (unregularized, regularized)]
    assert final_validation[1] < final_validation[0]
    # the formula the step gives is the J the panel reports: the biases' term too, their λ not 0 here
    model = window.training_panel.model
    text = step_text(window)
    assert model.bias_reg > 0 and "λb/2(‖b‖² + ‖c‖²)" in text and "w·x + b + c + μ" in text
    squares = lambda *arrays: sum(float(np.sum(a ** 2)) for a in arrays)  # noqa: E731
    assert last.reg_term == pytest.approx(model.reg / 2 * squares(model.user_factors_, model.item_factors_)
                                          + model.bias_reg / 2 * squares(model.user_bias_, model.item_bias_))


def likes_become_probabilities(window):
    model = window.training_panel.model
    assert model.loss_ == "bce"
    predictions = window.table.predictor.predict_matrix()
    assert np.all((predictions > 0) & (predictions < 1))


NEW = slice(-NEW_RELEASES, None)


def the_new_releases_stay_short(window):
    model = window.training_panel.model
    norms = findings.factor_lengths(model)
    assert np.all(norms[NEW] < 0.5 * np.median(norms[:NEW.start]))
    # "pointing exactly where that user points": new release r was rated by user r alone
    for release, movie in enumerate(np.arange(len(norms))[NEW]):
        x, w = model.item_factors_[movie], model.user_factors_[release]
        assert x @ w / (np.linalg.norm(x) * np.linalg.norm(w)) > 0.99  # along it, not against it


def the_density_filter_hides_them_and_restricts_training(window):
    shown_titles = [window.proxy.headerData(r, Qt.Orientation.Vertical) for r in range(window.proxy.rowCount())]
    assert not any(title.startswith("New release") for title in shown_titles) and len(shown_titles) == 10
    trained_on = window.proxy.training_ratings()
    assert np.all(trained_on.item_counts()[NEW] == 0) and trained_on.n_ratings == window.table.ratings.n_ratings - 3
    assert "Train uses these" in window.summary_label.text()


def the_rare_vectors_before_and_after(window):
    memo = window.lesson_panel.memo
    before, after = (findings.factor_lengths(memo[key]) for key in ("all ratings", "at least 3"))
    assert np.all(after[NEW] < before[NEW])
    assert np.all(before[NEW] >= 0.01)  # short, but not the 0.000 that contradicted the text (a free bias)
    text = step_text(window)
    assert all(f"{value:.3f}" in text for value in (*before[NEW], *after[NEW]))
    # the model shown trained on none of a new release's ratings (the filter kept them out): the note says so, not
    # "only 1 rating" (the grid's)
    assert "has no ratings to train on, of the 1 the grid shows" in window.factor_space.one_hot_html()


def lookup_equals_one_hot_product(window):
    text = window.factor_space.one_hot_html()
    assert "row 1 of X: <b>yes</b>" in text
    assert "only" not in text  # 2 ratings of a 5-movie matrix whose movies have 2 to 4: not sparse here


def content_towers_learned_the_similarity(window):
    model = window.training_panel.model
    assert isinstance(model, ContentBased)
    assert "taste" not in model.item_feature_names_ and not {"Romance", "Action"} & set(model.item_feature_names_)
    np.testing.assert_allclose(np.linalg.norm(model.item_factors_, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(model.user_factors_, axis=1), 1.0, atol=1e-6)
    learned, raw = findings.similarity_shares(window)
    assert learned >= 0.9 and learned > raw + 0.1
    tastes = window.table.ratings.item_info["taste"].to_numpy()
    similar, _ = model.similar_items(0, n=3)
    assert np.all(tastes[similar] == tastes[0])
    assert window.factor_space.neighbour_rows()


def a_new_user_gets_recommendations(window):
    dialog = window.new_user_dialog
    assert dialog.isVisible() and dialog.results.topLevelItemCount() == 10
    titles = list(window.table.ratings.item_titles())
    tastes = window.table.ratings.item_info["taste"].to_numpy()
    top = [titles.index(dialog.results.topLevelItem(r).text(0)) for r in range(3)]
    assert np.all(tastes[top] == 0)  # romance first, for a user who likes romantic tags
    dialog.close()


def without_normalization_scores_leave_the_range(window):
    model = window.training_panel.model
    assert not model.normalize_
    lengths = np.linalg.norm(model.item_factors_, axis=1)
    assert findings.outside_unit_range(model) > 0.02 and lengths.max() > 1.2 * lengths.min()
    assert f"{findings.outside_unit_range(model):.0%}" in step_text(window)


def without_target_scaling_nothing_goes_above_one(window):
    model = window.training_panel.model
    assert model.normalize_ and not model.scale_targets_
    assert np.max(window.table.predictor.predict_matrix()) <= 1.0 + 1e-9
    assert model.history_[-1].train["rmse"] > 1.5 > window.lesson_panel.memo["both"].history_[-1].train["rmse"]


def seeds_change_the_factors_not_the_fit(window):
    models = findings.seed_runs(window)
    assert [m.seed for m in models] == [0, 1, 2]
    totals = [m.history_[-1].total for m in models]
    assert max(totals) - min(totals) < 1e-3 * max(totals)
    predictions = [m.predictor().predict_matrix() for m in models]
    assert all(np.max(np.abs(p - predictions[0])) < 0.01 for p in predictions)
    assert min(np.linalg.norm(models[0].item_factors_[0] - m.item_factors_[0]) for m in models[1:]) > 0.1


def twin_blocks_same_up_to_rotation(window):
    found = findings.twin_comparison(window)
    assert found["prediction_gap"] < 1e-3 and found["gram_gap"] < 1e-3
    assert found["twin_distance"].max() > found["spread"]


CHECKS = {
    (0, 1): the_formula_is_what_the_preset_computes,
    (0, 2): latent_factors_split_the_genres,
    (1, 1): eve_is_predicted_zero_because_nothing_moves_her_w,
    (1, 2): eve_is_predicted_the_movie_means,
    (2, 3): biases_recover_the_planted_ones,
    (3, 2): regularization_helps_validation,
    (4, 1): likes_become_probabilities,
    (5, 1): the_new_releases_stay_short,
    (5, 2): the_density_filter_hides_them_and_restricts_training,
    (5, 3): the_rare_vectors_before_and_after,
    (6, 2): lookup_equals_one_hot_product,
    (7, 2): content_towers_learned_the_similarity,
    (7, 3): a_new_user_gets_recommendations,
    (8, 2): without_normalization_scores_leave_the_range,
    (8, 4): without_target_scaling_nothing_goes_above_one,
    (9, 3): seeds_change_the_factors_not_the_fit,
    (10, 2): twin_blocks_same_up_to_rotation,
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


def test_no_step_says_a_run_is_going_on_in_words_that_stay_once_it_has_ended():
    """"Training without biases…" stood beside "finished after 300 epochs"."""
    fixed = [step.text for lesson in LESSONS for step in lesson.steps if step.trains and isinstance(step.text, str)]
    assert fixed and not any("…" in text for text in fixed)


def test_every_lesson_has_a_checked_result():
    assert {lesson for lesson, _ in CHECKS} == set(range(len(LESSONS)))


def test_back_returns_to_the_previous_step(qtbot, window):
    assert window.start_lesson(6)
    qtbot.mouseClick(window.lesson_panel.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.training_panel.controller.is_active, timeout=RUN_MS)
    qtbot.mouseClick(window.lesson_panel.back_button, Qt.MouseButton.LeftButton)
    assert window.lesson_panel.step_index == 0
    assert not window.lesson_panel.back_button.isEnabled()


def test_a_lesson_is_walked_from_the_keyboard(qtbot, window):
    """Next was reached only through every control before it (Shift+Tab from the filter box, and not at all once
    the grid or a factor table kept Tab): Alt+Right and Alt+Left go on and back from anywhere, listed in Help."""
    window.activateWindow()
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus, timeout=5000)
    window.lessons_menu.actions()[6].trigger()  # 7. Embedding lookup
    panel = window.lesson_panel
    assert QApplication.focusWidget() is panel.next_button  # Space or Enter goes on
    window.grid.setFocus()
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=RUN_MS):
        qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert panel.step_index == 1
    qtbot.keyClick(window.grid, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert panel.step_index == 0 and not panel.act_back.isEnabled()
    shortcuts = window.shortcuts_html()
    assert "Next Step of the Lesson" in shortcuts and "Previous Step of the Lesson" in shortcuts
