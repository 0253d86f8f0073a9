"""Choosing, training, comparing and saving every kind of model through the window."""

import math

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cfexplorer.core.bayes import BayesianMF
from cfexplorer.core.content import ContentBased
from cfexplorer.core.mf import GlobalMeanBaseline, MatrixFactorization
from cfexplorer.core.neural import NeuralCF
from cfexplorer.ui.training_settings import MODEL_ROWS

FINISH_MS = 60_000

CLASSES = {"mf": MatrixFactorization, "dot_bias": MatrixFactorization, "neural": NeuralCF,
           "content": ContentBased, "bayes": BayesianMF, "global_mean": GlobalMeanBaseline}


def choose(panel, kind):
    panel.model_kind.setCurrentIndex(panel.model_kind.findData(kind))
    assert panel.kind == kind


def train(qtbot, panel):
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    return blocker.args


def question_mark_cells(window):
    dense = window.table.ratings.to_dense()
    return np.argwhere(np.isnan(dense))


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_each_model_trains_from_the_panel_and_fills_the_grid(qtbot, window, kind):
    window.open_preset("planted")
    panel = window.training_panel
    choose(panel, kind)
    for name, widget in panel._row_widgets.items():
        assert panel.form.isRowVisible(widget) == (name in MODEL_ROWS[kind]), name
    panel.epochs.setValue(40 if kind in ("neural", "content", "bayes") else panel.epochs.value())
    model, reason = train(qtbot, panel)
    assert reason == "done" and type(model) is CLASSES[kind]
    # every model but the Gibbs sampler plots epoch 0 (J at the starting parameters) before its n epochs
    first = 1 if kind == "bayes" else 0
    assert panel.loss_plot.current.epochs == list(range(first, model.n_epochs + 1))
    user, item = question_mark_cells(window)[0]
    shown = window.table.predicted(user, item)
    assert shown is not None and math.isfinite(shown)
    assert shown == pytest.approx(float(model.predict([user], [item])[0]), abs=1e-4)
    # The factor view shows whatever vectors the model learned (drawn when its tab comes to the front).
    window.factor_dock.raise_()
    qtbot.waitUntil(lambda: window.factor_space.embedding is not None, timeout=10_000)
    embedding = window.factor_space.embedding
    if kind != "global_mean":
        np.testing.assert_allclose(embedding.items.factors, model.item_factors_)


@pytest.mark.parametrize("kind", ["neural", "content"])
def test_a_network_run_plots_epoch_0_the_cost_before_any_update(qtbot, window, kind):
    window.open_preset("planted")
    panel = window.training_panel
    choose(panel, kind)
    panel.epochs.setValue(3)
    trained_on = []
    panel.sig_run_started.connect(lambda model, ratings: trained_on.append(ratings))
    model, reason = train(qtbot, panel)
    assert reason == "done"
    assert panel.loss_plot.current.epochs == [0, 1, 2, 3]
    # the same settings and seed, fitted for no epoch on the same ratings: J at the starting parameters
    untrained = type(model)(**{**model.get_params(), "n_epochs": 0}).fit(trained_on[0])
    first_j = panel.loss_plot.current.total[0]
    assert first_j == pytest.approx(untrained.history_[0].total, rel=1e-12)
    assert panel.loss_plot.current.total[-1] < first_j


def test_dot_bias_model_uses_the_y_range_and_the_explanation_shows_it(qtbot, window):
    window.open_preset("planted")
    panel = window.training_panel
    choose(panel, "dot_bias")
    assert panel.y_range.text() == "auto"
    panel.y_range.setText("0.5, 5.5")
    model, _ = train(qtbot, panel)
    assert model.y_range_ == (0.5, 5.5)
    predictions = window.table.predictor.predict_matrix()
    assert predictions.min() > 0.5 and predictions.max() < 5.5
    user, item = question_mark_cells(window)[0]
    window.grid.setCurrentIndex(window.grid.model().index(user, item))
    qtbot.waitUntil(lambda: "sigmoid(z)" in window.explain_panel.text.toPlainText(), timeout=10_000)
    assert "0.5 + (5.5 − 0.5) · sigmoid(z)" in window.explain_panel.text.toPlainText()


def explained(qtbot, window, user: int, item: int) -> str:
    """The Explain pane's text once it describes the grid's cell (user, item) under the trained model."""
    window.grid.setCurrentIndex(window.proxy.index(1 if user == 0 else 0, 1 if item == 0 else 0))  # elsewhere first
    source = window.table.index(*window.table.position(user, item))
    window.grid.setCurrentIndex(window.proxy.mapFromSource(source))
    title = f"{window.table.name(1, item)} × {window.table.name(0, user)}"
    qtbot.waitUntil(lambda: window.explain_panel.text.toPlainText().startswith(title), timeout=10_000)
    return window.explain_panel.text.toPlainText()


def offset_row(text: str) -> tuple[str, float]:
    """(label, value) of the Explain pane's offset row (each cell of its table a line of the plain text)."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("+ ") and "bias" not in line)
    return lines[at], float(lines[at + 1].replace("−", "-"))


@pytest.mark.parametrize("preset, kind, chosen, label, expected", [
    ("course", "mf", {"mean_normalization": True}, "+ μi (movie mean)", lambda r, i: r.item_means()[i]),
    ("course", "mf", {"mean_normalization": False, "global_mean": True}, "+ global mean",
     lambda r, i: r.global_mean()),
    ("course-binary", "mf", {"mean_normalization": False, "global_mean": True}, "+ logit of the overall like rate",
     lambda r, i: math.log(r.global_mean() / (1 - r.global_mean()))),
    ("course-binary", "mf", {"mean_normalization": True}, "+ logit of the movie's like rate",
     lambda r, i: math.log(r.item_means()[i] / (1 - r.item_means()[i]))),
    ("course", "dot_bias", {}, "+ g⁻¹(global mean)",
     lambda r, i: math.log((r.global_mean() + 0.5) / (5.5 - r.global_mean()))),  # y-range auto: -0.5 to 5.5
    ("course", "neural", {}, "+ g⁻¹(global mean)",
     lambda r, i: math.log((r.global_mean() + 0.5) / (5.5 - r.global_mean()))),
], ids=["movie-mean", "global-mean", "likes-global", "likes-movie", "y-range", "neural-y-range"])
def test_the_explanation_names_the_offset_the_model_made(qtbot, window, preset, kind, chosen, label, expected):
    """The offset row was "offset (global mean or 0)" beside g⁻¹ of the global mean (a y-range), and "logit of the
    movie's like rate" beside the logit of the overall one: a label that did not say what the number was."""
    window.open_preset(preset)
    panel = window.training_panel
    choose(panel, kind)
    for name, checked in chosen.items():
        getattr(panel, name).setChecked(checked)
    panel.epochs.setValue(3)
    train(qtbot, panel)
    item = 1  # a movie whose like rate is neither 0 nor 1 in either preset
    shown_label, value = offset_row(explained(qtbot, window, 0, item))
    assert shown_label == label
    assert value == pytest.approx(expected(window.table.ratings, item), abs=1e-4)


def test_a_clipped_prediction_shows_the_residual_j_counts(qtbot, window):
    """The pane's residual is the grid's (the clipped prediction's); J's data term takes z unclipped, so the
    residuals on screen did not add up to it: the pane says what J counts."""
    from cfexplorer.core.mf import Predictor

    table = window.table
    n_users, n_items = table.ratings.n_users, table.ratings.n_items
    rated_user, rated_item = int(table.ratings.users[0]), int(table.ratings.items[0])
    y = float(table.ratings.values[0])
    offsets = np.zeros(n_items)
    offsets[rated_item] = table.ratings.scale.high + 0.25 - 0.0  # z above the scale: clipped to its top
    table.set_predictor(Predictor(np.zeros((n_items, 1)), np.zeros((n_users, 1)), np.zeros(n_users),
                                  np.zeros(n_items), offsets, np.zeros(n_items), False, table.ratings.scale.low,
                                  table.ratings.scale.high))
    text = explained(qtbot, window, rated_user, rated_item)
    z = table.ratings.scale.high + 0.25
    assert f"residual y − ŷ = {y - table.ratings.scale.high:+.4f}".replace("-", "−") in text.replace("-", "−")
    assert f"takes z before the clipping: y − z = {y - z:+.4f}".replace("-", "−") in text.replace("-", "−")


def test_a_mistyped_setting_is_refused_with_a_message(qtbot, window):
    panel = window.training_panel
    messages = []
    panel.sig_message.connect(lambda kind, text: messages.append((kind, text)))
    choose(panel, "neural")
    panel.hidden.setText("64, many")
    assert panel.train() is False
    assert messages and messages[-1][0] == "error" and "whole numbers" in messages[-1][1]
    assert not panel.controller.is_active


def test_edited_feature_tables_reach_the_content_model(qtbot, window):
    window.open_preset("planted")
    panel = window.training_panel
    choose(panel, "content")
    panel.epochs.setValue(5)
    qtbot.mouseClick(panel.features_button, Qt.MouseButton.LeftButton)
    dialog = panel.feature_dialog
    assert dialog.isVisible()
    items = dialog.item_model
    headers = [items.headerData(c, Qt.Orientation.Horizontal) for c in range(items.columnCount())]
    assert {"mean rating", "ratings", "Romance", "Action"} <= set(headers)
    assert items.rowCount() == window.table.ratings.n_items
    column = headers.index("mean rating")
    assert items.setData(items.index(0, column), "4.75")
    assert not items.setData(items.index(0, column), "lots")  # not a number: refused, value kept
    dialog.ok_button.click()
    model, reason = train(qtbot, panel)
    assert reason == "done"
    assert model.item_feature_table_[0, model.item_feature_names_.index("mean rating")] == 4.75


def test_edited_feature_tables_are_kept_in_the_project(qtbot, window, tmp_path):
    """The next content-based run after reopening read tables made from the ratings again, not the edited ones
    the saved model had trained on."""
    window.open_preset("planted")
    panel = window.training_panel
    choose(panel, "content")
    panel.epochs.setValue(3)
    qtbot.mouseClick(panel.features_button, Qt.MouseButton.LeftButton)
    users = panel.feature_dialog.user_model
    assert users.setData(users.index(0, 1), "0.987654321")
    panel.feature_dialog.ok_button.click()
    before = panel.current_feature_tables()
    trained, _ = train(qtbot, panel)
    path = tmp_path / "features.cfx"
    assert window.save_to(path)
    window.open_preset("course")
    assert panel.current_feature_tables()[0].iloc[0, 1] != 0.987654321
    assert window.open_file(path, confirm=False)
    for kept, edited in zip(panel.current_feature_tables(), before):
        pd.testing.assert_frame_equal(kept, edited)
    again, _ = train(qtbot, panel)  # the same tables, settings and seed: the same model
    np.testing.assert_array_equal(again.predictor().predict_matrix(), trained.predictor().predict_matrix())


def test_feature_tables_a_project_cannot_hold_are_said_and_made_again(qtbot, window, tmp_path):
    from cfexplorer.io.presets import load_preset
    from cfexplorer.io.project import Project, save_project

    path = tmp_path / "forged.cfx"
    wrong = {"users": {"columns": ["a"], "index": ["x"], "values": [[1.0]]}, "items": None}  # one row for 4 users
    save_project(path, Project(load_preset("course"), {"feature_tables": wrong}, None))
    assert window.open_file(path, confirm=False)
    assert "feature tables could not be used" in window.message_bar.text
    users, _ = window.training_panel.current_feature_tables()
    assert len(users) == window.table.ratings.n_users  # made from the ratings


def test_the_comparison_shows_no_results_of_another_document(qtbot, window):
    """Reopened (or left open) after another document was opened, the dialog showed the last one's numbers, and
    kept them beside the next run's progress until it ended."""
    window.open_preset("planted")
    window.act_compare.trigger()
    dialog = window.compare_dialog
    dialog.set_chosen(["global_mean", "biases"])
    with qtbot.waitSignal(dialog.sig_done, timeout=FINISH_MS):
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert dialog.table_model.rowCount() == 2
    window.open_preset("course")  # the dialog open beside the window
    assert dialog.table_model.rowCount() == 0 and dialog.status.text() == ""
    assert not [item for item in dialog.chart.getPlotItem().items if type(item).__name__ == "BarGraphItem"]
    with qtbot.waitSignal(dialog.sig_done, timeout=FINISH_MS):
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
        assert dialog.table_model.rowCount() == 0  # none of the earlier numbers while this run goes on
    assert dialog.table_model.rowCount() == 2
    dialog.close()
    window.act_compare.trigger()  # reopened on the same document: its results stay
    assert dialog.table_model.rowCount() == 2
    window.open_preset("course-binary")  # likes: their metrics named before any Run, the last run's gone
    window.act_compare.trigger()
    assert dialog.table_model.rowCount() == 0 and dialog.table_model.headers()[1:3] == ["test BCE", "test AUC"]
    assert dialog.chart.getPlotItem().getAxis("left").labelText == "test BCE"
    assert dialog.progress.value() in (-1, dialog.progress.minimum())  # not the last run's 100%


def test_compare_dialog_cross_validates_the_chosen_models(qtbot, window):
    window.open_preset("planted")
    window.act_compare.trigger()
    dialog = window.compare_dialog
    assert dialog.isVisible()
    dialog.set_chosen(["global_mean", "biases", "Matrix factorization (course) (panel settings)"])
    dialog.folds.setValue(3)
    with qtbot.waitSignal(dialog.sig_done, timeout=FINISH_MS) as blocker:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    rows = blocker.args[0]
    assert [row.kind for row in rows] == ["mf", "biases", "global_mean"]
    table = dialog.table_model
    assert table.rowCount() == 3 and table.headers()[1] == "test RMSE"
    assert "±" in table.cell(0, 1) and table.cell(0, 0).startswith("1 · ")
    by_kind = {row.kind: row for row in rows}
    assert by_kind["mf"].metrics["rmse"] < by_kind["global_mean"].metrics["rmse"]
    bars = [item for item in dialog.chart.getPlotItem().items if type(item).__name__ == "BarGraphItem"]
    assert len(bars) == 1
    assert dialog.run_button.isEnabled() and not dialog.stop_button.isEnabled()


def test_compare_on_likes_trains_every_model_that_takes_likes_with_its_likes_settings(qtbot, window):
    """On the course's likes, Compare stopped at the first model: "alternating least squares needs the squared
    loss" (the defaults of matrix factorization and the bias baseline), and "a y-range scales rating
    predictions" (fast.ai's dot product and the network). Each kind now trains on likes as the panel would
    set it up: gradient steps, no y-range."""
    window.open_preset("course-binary")
    window.act_compare.trigger()
    dialog = window.compare_dialog
    offered = [dialog._candidates[row] for row in range(dialog.choices.rowCount())
               if dialog.choices.item(row).isEnabled()]
    assert {"mf", "dot_bias", "neural", "biases"} <= {candidate.kind for candidate in offered}
    assert "Matrix factorization (course) (for likes)" in [candidate.name for candidate in offered]  # not "defaults"
    dialog.set_chosen([candidate.name for candidate in offered])
    with qtbot.waitSignal(dialog.sig_done, timeout=FINISH_MS) as blocker:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    rows = blocker.args[0]
    assert len(rows) == len(offered) and dialog.table_model.rowCount() == len(offered)
    assert dialog.table_model.headers()[1] == "test BCE"
    assert all(np.isfinite(row.metrics["bce"]) for row in rows)


def test_compare_results_stay_readable_when_the_type_grows(qtbot, window):
    """Run in the everyday type, then shown in presentation type, the table kept its columns' widths: the numbers
    read "3…7" and the headers "est BC" until the next Run."""
    from PySide6.QtGui import QFont, QFontMetrics

    window.open_preset("planted")
    window.act_compare.trigger()
    dialog = window.compare_dialog
    dialog.set_chosen(["global_mean", "biases"])
    dialog.folds.setValue(3)
    with qtbot.waitSignal(dialog.sig_done, timeout=FINISH_MS):
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    everyday = QApplication.font()
    larger = QFont(everyday)
    larger.setPointSizeF(1.5 * everyday.pointSizeF())
    table, model = dialog.table, dialog.table_model

    def numbers_whole():
        metrics = QFontMetrics(table.font())
        return table.font().pointSizeF() == larger.pointSizeF() and all(
            table.columnWidth(column) >= metrics.horizontalAdvance(str(model.cell(row, column)))
            for row in range(model.rowCount()) for column in range(1, model.columnCount()))

    try:
        QApplication.setFont(larger)  # what presentation mode does
        qtbot.waitUntil(numbers_whole)
    finally:
        QApplication.setFont(everyday)


def test_the_progress_bar_plans_the_chosen_models_epochs_until_a_run_is_shown(qtbot, window):
    """Choosing neural CF (10 epochs) left "epoch 0 / 20" of matrix factorization on the bar."""
    window.open_preset("planted")
    panel = window.training_panel
    for kind in ("neural", "mf", "bayes"):
        choose(panel, kind)
        assert panel.progress.text() == f"epoch 0 / {panel.epochs.value()}", kind
    panel.epochs.setValue(0)
    assert panel.progress.text() == "epoch 0 / 0"
    panel.epochs.setValue(7)
    train(qtbot, panel)
    assert panel.progress.text() == "epoch 7 / 7"
    panel.epochs.setValue(50)  # the bar is the run's that was shown, until Reset
    assert panel.progress.text() == "epoch 7 / 7"
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert panel.progress.text() == "epoch 0 / 50"


def _compare_with_a_long_model(window, others=()):
    """The comparison dialog with one model checked that would train for minutes (neural CF, 100,000 epochs, the
    panel's), and the kinds or names ``others``."""
    window.open_preset("planted")
    panel = window.training_panel
    choose(panel, "neural")
    panel.epochs.setValue(100_000)
    window.act_compare.trigger()
    dialog = window.compare_dialog
    dialog.refresh_choices()
    dialog.set_chosen([panel.current_candidate().name, *others])
    return dialog


def _start_a_long_comparison(qtbot, window):
    """A comparison of one model that would train for minutes, under way."""
    dialog = _compare_with_a_long_model(window)
    with qtbot.waitSignal(dialog.progress.valueChanged, timeout=FINISH_MS, raising=False):
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert dialog.is_running and dialog.stop_button.isEnabled()
    return dialog


def test_stop_ends_a_comparison_after_the_epoch_under_way_and_the_app_goes_on(qtbot, window):
    """Stop's signal came to a lambda, run in the worker's thread, which then waited on itself: the app aborted
    (and the model's whole fit ran first: 27 s)."""
    dialog = _start_a_long_comparison(qtbot, window)
    qtbot.wait(300)
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "Stopping after the current epoch…" and not dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=FINISH_MS)
    assert dialog.status.text() == "Stopped before any model was compared on every split."
    assert dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog._ending, timeout=FINISH_MS)  # its thread ended and was let go
    window.training_panel.epochs.setValue(3)  # the dialog runs again, to the end
    dialog.refresh_choices()
    dialog.set_chosen([window.training_panel.current_candidate().name])
    with qtbot.waitSignal(dialog.sig_done, timeout=FINISH_MS) as blocker:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert [row.kind for row in blocker.args[0]] == ["neural"]


def test_each_models_row_comes_as_it_is_compared_and_a_stop_keeps_them(qtbot, window, monkeypatch):
    """The table and the chart stayed empty until the last model was compared, and Stop at 45% of a 5-fold run
    threw away the models already compared on every fold."""
    from cfexplorer.ui import compare_dialog

    compare = compare_dialog.compare  # the long model (the panel's) compared last, the two baselines first
    monkeypatch.setattr(compare_dialog, "compare", lambda candidates, *args, **kwargs: compare(
        candidates[1:] + candidates[:1], *args, **kwargs))
    dialog = _compare_with_a_long_model(window, ("biases", "global_mean"))
    dialog.folds.setValue(2)
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dialog.rows) == 2, timeout=FINISH_MS)
    assert dialog.is_running and dialog.table_model.rowCount() == 2  # shown while the third trains
    assert [row.kind for row in dialog.rows] == ["biases", "global_mean"]
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=FINISH_MS)
    assert dialog.status.text() == "Stopped: 2 of 3 models compared."
    assert [row.kind for row in dialog.rows] == ["biases", "global_mean"] and dialog.table_model.rowCount() == 2
    dialog.close()


def test_closing_the_comparison_while_it_runs_returns_at_once_and_drops_what_the_run_sends(qtbot, window):
    """Escape waited up to 30 s for the run on the GUI thread (the model's whole fit), then the app aborted."""
    dialog = _start_a_long_comparison(qtbot, window)
    rows_before = list(dialog.rows)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and not dialog.is_running
    qtbot.waitUntil(lambda: not dialog._ending, timeout=FINISH_MS)
    assert dialog.rows == rows_before and dialog.status.text() == "Stopped."  # nothing of the old run arrived


def test_closing_the_window_during_a_comparison_ends_its_thread(qtbot, window):
    dialog = _start_a_long_comparison(qtbot, window)
    (thread, _), = dialog._ending
    window.undo_stack.setClean()
    window.close()
    assert thread.isFinished() and not dialog._ending


@pytest.mark.parametrize("kind", ["neural", "content", "bayes"])
def test_a_saved_project_restores_the_chosen_model(qtbot, window, tmp_path, kind):
    window.open_preset("planted")
    panel = window.training_panel
    choose(panel, kind)
    panel.epochs.setValue(5)
    model, _ = train(qtbot, panel)
    expected = window.table.predictor.predict_matrix()
    path = tmp_path / "session.cfx"
    assert window.save_to(str(path))
    window.open_preset("course")
    assert window.open_file(str(path), confirm=False)
    assert window.training_panel.kind == kind
    np.testing.assert_allclose(window.table.predictor.predict_matrix(), expected, rtol=1e-9)


@pytest.mark.parametrize("preset, kind, change, setting", [
    ("course-binary", "mf", lambda panel: panel.loss.setCurrentIndex(panel.loss.findData("squared")),
     {"loss": "squared"}),
    ("course", "neural", lambda panel: panel.set_params({"init_scale": 0.37}), {"init_scale": 0.37}),
    ("course", "dot_bias", lambda panel: panel.y_range.setText("0.1234567, 5.7654321"),
     {"y_range": (0.1234567, 5.7654321)}),
], ids=["squared-error-on-likes", "neural-init-scale", "y-range-digits"])
def test_a_reopened_project_trains_with_the_settings_it_was_saved_with(qtbot, window, tmp_path, preset, kind,
                                                                      change, setting):
    """Three settings came back otherwise: the loss chosen on likes (always cross-entropy again), neural CF's init
    scale (the default again), a y-range of seven digits (rounded to six, beside a model that kept seven)."""
    window.open_preset(preset)
    panel = window.training_panel
    choose(panel, kind)
    change(panel)
    panel.epochs.setValue(2)
    model, _ = train(qtbot, panel)
    chosen = panel.model_params()
    assert {name: chosen[name] for name in setting} == setting  # the setting given is the one trained with
    assert {name: model.get_params()[name] for name in setting} == setting
    path = tmp_path / "settings.cfx"
    assert window.save_to(path)
    window.open_preset("planted")
    assert window.open_file(path, confirm=False)
    assert window.training_panel.model_params() == chosen


def test_a_hidden_init_scale_of_the_factorization_does_not_reach_neural_cf(qtbot, window):
    panel = window.training_panel
    choose(panel, "mf")
    panel.initialization.scale.setValue(0.5)
    choose(panel, "neural")
    assert panel.model_params()["init_scale"] == NeuralCF().init_scale


def test_the_content_switches_reach_the_towers(qtbot, window):
    window.open_preset("planted")
    panel = window.training_panel
    assert not panel.normalize.isVisibleTo(panel)  # the matrix factorization has no towers
    choose(panel, "content")
    assert panel.normalize.isVisibleTo(panel) and panel.normalize.isChecked() and panel.scale_targets.isChecked()
    panel.epochs.setValue(30)
    qtbot.mouseClick(panel.normalize, Qt.MouseButton.LeftButton)
    model, reason = train(qtbot, panel)
    assert reason == "done" and not model.normalize_ and model.scale_targets_
    assert not np.allclose(np.linalg.norm(model.item_factors_, axis=1), 1.0)
    qtbot.mouseClick(panel.normalize, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.scale_targets, Qt.MouseButton.LeftButton)
    model, reason = train(qtbot, panel)
    assert model.normalize_ and not model.scale_targets_
    assert np.max(window.table.predictor.predict_matrix()) <= 1.0 + 1e-9  # a cosine cannot reach 2 stars
    assert panel.settings()["scale_targets"] is False


def test_the_batch_size_box_says_what_sgd_unset_does(qtbot, window):
    """Mini-batch SGD with the batch size unset showed "full batch", and trained in batches of 256."""
    from cfexplorer.core.mf import SGD_DEFAULT_BATCH

    panel = window.training_panel
    panel.batch_size.setValue(0)
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("sgd"))
    assert panel.batch_size.text() == f"{SGD_DEFAULT_BATCH} (SGD's own)"
    panel.epochs.setValue(3)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=60_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    n = window.table.ratings.n_ratings
    assert panel.model.optimizer == "sgd" and panel.model.batch_size is None
    assert panel.model._batch_size(n) == SGD_DEFAULT_BATCH  # what the box said
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("adam"))
    assert panel.batch_size.text() == "full batch" and panel.model_params()["batch_size"] is None
