"""The Bayesian model through the window: its own settings, and how sure it is of each prediction, shown
where a user looks (a cell's tooltip, the explanation pane)."""

import re

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from cfexplorer.core.bayes import BayesianMF
from tests.ui.test_grid import cell_index
from tests.ui.test_models_ui import choose, train


PLUS_MINUS = re.compile(r"predicted (\d+\.\d+) ± (\d+\.\d+)")


def hover_tooltip(qtbot, window, index) -> str:
    """The tooltip the grid shows when the mouse rests on a cell (the view's own ToolTip event)."""
    grid = window.grid
    grid.scrollTo(index)
    at = grid.visualRect(index).center()
    event = QHelpEvent(QEvent.Type.ToolTip, at, grid.viewport().mapToGlobal(at))
    QApplication.sendEvent(grid.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=10_000)
    text = QToolTip.text()
    QToolTip.hideText()
    return text


@pytest.fixture
def eve_trained(qtbot, window):
    """The course's movies with Eve, who rated nothing, after 120 Gibbs samples."""
    window.open_preset("course-eve")
    panel = window.training_panel
    choose(panel, "bayes")
    panel.epochs.setValue(120)
    panel.burn_in.setValue(20)
    model, reason = train(qtbot, panel)
    assert reason == "done" and isinstance(model, BayesianMF)
    return window, model


def test_the_panel_shows_the_sampler_settings_and_refuses_a_burn_in_that_leaves_nothing(qtbot, window):
    panel = window.training_panel
    choose(panel, "bayes")
    visible = {name for name, widget in panel._row_widgets.items() if panel.form.isRowVisible(widget)}
    assert visible == {"factors", "epochs", "burn_in", "kept_samples"}
    assert panel.epochs_label.text() == "Gibbs samples" and panel.epochs.value() == 200
    assert panel.kept_samples.value() == 32
    messages = []
    panel.sig_message.connect(lambda kind, text: messages.append((kind, text)))
    panel.epochs.setValue(10)
    panel.burn_in.setValue(10)
    assert panel.train() is False
    assert messages[-1][0] == "error" and "burn-in (10) must leave samples to average" in messages[-1][1]
    choose(panel, "mf")
    assert panel.epochs_label.text() == "Epochs" and not panel.form.isRowVisible(panel.burn_in)


def test_likes_are_refused_with_a_message(qtbot, window):
    window.open_preset("course-binary")
    panel = window.training_panel
    messages = []
    panel.sig_message.connect(lambda kind, text: messages.append((kind, text)))
    choose(panel, "bayes")
    assert panel.train() is False
    assert "predicts ratings with Gaussian noise" in messages[-1][1]
    assert window.table.predictor is None


def test_the_tooltip_says_how_sure_the_model_is_and_eve_is_the_least_sure(qtbot, eve_trained):
    window, model = eve_trained
    movie = "Cute puppies of love"
    spreads = {}
    for user in ("Eve", "Bob", "Alice"):
        index, (u, i) = cell_index(window, user, movie)
        text = hover_tooltip(qtbot, window, index)
        if user == "Bob":  # Bob rated it: the model's value for a known rating, with its ±
            assert f"Bob rated “{movie}”: 4; the model gives" in text and " ± " in text
            spreads[user] = float(text.split(" ± ")[1].split()[0])
            continue
        found = PLUS_MINUS.search(text)
        assert found, text
        assert float(found.group(1)) == pytest.approx(model.predict([u], [i])[0], abs=0.0006)
        assert float(found.group(2)) == pytest.approx(model.predict_std([u], [i])[0], abs=0.006)
        spreads[user] = float(found.group(2))
    assert spreads["Eve"] > spreads["Alice"] and spreads["Eve"] > spreads["Bob"]


def test_the_explanation_says_how_sure_the_model_is_about_eve(qtbot, eve_trained):
    window, model = eve_trained
    about = {}
    for user in ("Eve", "Alice"):
        index, (u, i) = cell_index(window, user, "Swords vs. karate")
        window.grid.setCurrentIndex(index)
        qtbot.waitUntil(lambda: f"About {user} on average" in window.explain_panel.text.toPlainText(), timeout=10_000)
        text = window.explain_panel.text.toPlainText()
        kept = len(model.kept_samples_)
        assert 16 < kept <= 32 and f"posterior standard deviation over {kept} kept samples" in text
        assert f"± {model.predict_std([u], [i])[0]:.2f}" in text
        about[user] = float(re.search(rf"About {user} on average over every movie: ± (\d+\.\d+)", text).group(1))
        expected = np.mean(model.predict_std(np.full(5, u), np.arange(5)))
        assert about[user] == pytest.approx(expected, abs=0.006)
    assert about["Eve"] > 1.3 * about["Alice"]


def test_other_models_show_no_plus_minus(qtbot, window):
    window.open_preset("course-eve")
    panel = window.training_panel
    choose(panel, "mf")
    train(qtbot, panel)
    index, _ = cell_index(window, "Eve", "Swords vs. karate")
    text = hover_tooltip(qtbot, window, index)
    assert "predicted" in text and "±" not in text


def test_a_saved_project_keeps_the_sampler_settings_and_the_plus_minus(qtbot, window, tmp_path):
    window.open_preset("course-eve")
    panel = window.training_panel
    choose(panel, "bayes")
    panel.epochs.setValue(60)
    panel.burn_in.setValue(7)
    panel.kept_samples.setValue(12)
    train(qtbot, panel)
    index, _ = cell_index(window, "Eve", "Love at last")
    before = hover_tooltip(qtbot, window, index)
    assert PLUS_MINUS.search(before), before
    path = tmp_path / "eve.cfx"
    assert window.save_to(str(path))
    window.open_preset("course")
    assert window.open_file(str(path), confirm=False)
    assert (panel.kind, panel.epochs.value(), panel.burn_in.value(), panel.kept_samples.value()) == ("bayes", 60, 7, 12)
    index, _ = cell_index(window, "Eve", "Love at last")
    assert hover_tooltip(qtbot, window, index) == before


def compare(qtbot, window, kinds):
    window.act_compare.trigger()
    dialog = window.compare_dialog
    dialog.set_chosen(kinds)
    with qtbot.waitSignal(dialog.sig_done, timeout=60_000) as blocker:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    return dialog, {row.kind: row for row in blocker.args[0]}


def test_the_comparison_runs_it_on_ratings_and_leaves_it_out_for_likes(qtbot, window):
    window.open_preset("planted")
    _, rows = compare(qtbot, window, ["bayes", "global_mean"])
    assert set(rows) == {"bayes", "global_mean"}
    assert rows["bayes"].metrics["rmse"] < 0.8 * rows["global_mean"].metrics["rmse"]
    window.compare_dialog.close()
    window.open_preset("course-binary")
    dialog, rows = compare(qtbot, window, ["bayes", "global_mean"])
    assert set(rows) == {"global_mean"} and "Bayesian" not in dialog.status.text()
    names = [dialog.choices.item(row).text() for row in range(dialog.choices.rowCount())]
    bayes = dialog.choices.item(names.index("Bayesian MF (Gibbs sampling) (defaults)"))
    assert not bayes.isEnabled() and bayes.toolTip() == "Predicts ratings only, not likes (1/0)"


@pytest.mark.parametrize("dense_cells", [20_000, 0], ids=["dense", "per-cell"])
def test_view_shade_by_uncertainty_greys_the_cells_the_model_is_unsure_of(qtbot, eve_trained, monkeypatch,
                                                                          dense_cells):
    from cfexplorer.ui import table_model
    from cfexplorer.ui.colors import UNSURE_GREY

    monkeypatch.setattr(table_model, "DENSE_SPREAD_CELLS", dense_cells)  # 0: as on a large grid

    window, model = eve_trained
    colors = window.table._colors

    def background(user, movie):
        index, _ = cell_index(window, user, movie)
        return window.proxy.data(index, Qt.ItemDataRole.BackgroundRole).getRgb()[:3]

    cells = [("Eve", "Love at last"), ("Bob", "Romance forever"), ("Dave", "Cute puppies of love")]
    plain = {cell: background(*cell) for cell in cells}
    for cell in cells:
        index, (u, i) = cell_index(window, *cell)
        assert plain[cell] == colors.prediction_background(window.table.predicted(u, i)).getRgb()[:3]
    window.act_uncertainty.trigger()
    assert window.act_uncertainty.isChecked() and window.table.shade_uncertainty
    shaded = {cell: background(*cell) for cell in cells}
    _, (eve, love) = cell_index(window, "Eve", "Love at last")
    assert model.predict_std([eve], [love])[0] > 2.5  # more than half the 0-5 scale: all grey
    assert shaded[("Eve", "Love at last")] == UNSURE_GREY
    for cell in cells[1:]:
        _, (u, i) = cell_index(window, *cell)
        assert model.predict_std([u], [i])[0] < 2.0
        assert shaded[cell] != plain[cell] and shaded[cell] != UNSURE_GREY  # part of the way
    window.act_uncertainty.trigger()
    assert {cell: background(*cell) for cell in cells} == plain


def test_an_exported_script_draws_the_same_chain_again(qtbot, eve_trained, monkeypatch, tmp_path, run_exported):
    """File ▸ Export as Python Script… of a Bayesian run: the same seed draws the same samples in a fresh Python,
    so J and every '?' prediction agree to 1e-9; the script says what the model and its J are."""
    from tests.ui.test_export_code import assert_same_run, export_through_the_menu

    window, _ = eve_trained
    path = tmp_path / "bayes run.py"
    export_through_the_menu(window, monkeypatch, path)
    text = path.read_text()
    assert "'bayes'" in text and "burn_in=20" in text.replace(" ", "") and "Gibbs" in text
    assert "λ/2" not in text  # the course's cost note is not this model's
    assert_same_run(window, run_exported(path))
