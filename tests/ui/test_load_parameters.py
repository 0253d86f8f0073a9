"""Training ▸ Load Parameters… and the Initialization row, as a student uses them for the course lab: J at
given parameters (epoch 0) in the window, Train continuing from them, and where any run starts."""

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from ..course_lab import lab_subset_grid, use_the_labs_settings
from .test_training import FINISH_MS, grid_text, run_to_end

# Two movies down, two users across, three ratings; the parameters' J is worked out by hand:
# z = w·x + b is 3.5 and 3 on m0 (rated 3 and 4), 0 on (m1, u1) (rated 1) and 2.5 on the unrated (m1, u0),
# so the data term is 1/2 (0.5² + 1² + 1²) = 1.125 and, with |X|² = |W|² = 6, J = 1.125 + 6 λ.
GRID = "movie,u0,u1\nm0,3,4\nm1,?,1\n"
X = [[1.0, 2.0], [0.0, 1.0]]
W = [[1.0, 0.0], [2.0, 1.0]]
B = [2.5, -1.0]


@pytest.fixture
def tiny(tmp_path, window):
    grid = tmp_path / "tiny.csv"
    grid.write_text(GRID)
    assert window.open_file(grid)
    params = tmp_path / "params.npz"
    np.savez(params, item_factors=X, user_factors=W, user_bias=B)
    return params


def choose_files(monkeypatch, *paths):
    """What the user picks in Load Parameters' file dialog."""
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        staticmethod(lambda *args, **kwargs: ([str(p) for p in paths], "")))


def load_from_menu(qtbot, window, monkeypatch, *paths):
    choose_files(monkeypatch, *paths)
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=FINISH_MS) as blocker:
        window.act_load_params.trigger()
    assert blocker.args[1] == "done"


def epoch_0(panel):
    run = panel.loss_plot.current
    return {term: run.series(term)[run.epochs.index(0)] for term in ("data", "reg", "total")}


def wait_for_epoch_0(qtbot, panel, total):
    """A setting changed while epoch 0 of loaded parameters is shown: J is computed again (in a moment)."""
    qtbot.waitUntil(lambda: not panel.controller.is_active and panel.loss_plot.current is not None
                    and panel.loss_plot.current.epochs == [0]
                    and epoch_0(panel)["total"] == pytest.approx(total), timeout=FINISH_MS)


def test_loaded_parameters_show_epoch_0_their_cost_and_predictions_and_train_continues_from_them(
        qtbot, window, monkeypatch, tiny):
    panel = window.training_panel
    panel.reg.setValue(1.0)
    panel.bias_reg.setValue(0.0)  # the course's J does not regularize b
    load_from_menu(qtbot, window, monkeypatch, tiny)

    # the model is the one the file describes: w·x + b, two factors, no offset, nothing held out
    assert panel.user_bias.isChecked() and not panel.item_bias.isChecked()
    assert not panel.mean_normalization.isChecked() and not panel.global_mean.isChecked()
    assert panel.factors.value() == 2 and panel.validation.value() == 0
    assert panel.initialization.init == "given" and "params.npz" in panel.initialization.choice.currentText()
    assert "rows by order" in window.message_bar.text
    # epoch 0 alone, at exactly these parameters, in the curves, the cost line and the grid
    assert panel.loss_plot.current.epochs == [0]
    assert epoch_0(panel) == pytest.approx({"data": 1.125, "reg": 6.0, "total": 7.125})
    assert "J = 1.125 (data) + 6 (reg) = 7.125" in panel.cost_label.text()
    assert panel.status_label.text() == "epoch 0: J at the starting parameters, no update"
    assert float(grid_text(window, "u0", "m1")) == pytest.approx(2.5)

    panel.reg.setValue(0.0)  # the data term alone: the same point, computed again
    wait_for_epoch_0(qtbot, panel, 1.125)
    assert len(panel.loss_plot.runs) == 1  # the preview was replaced, not piled up

    panel.reg.setValue(1.0)
    wait_for_epoch_0(qtbot, panel, 7.125)
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("adam"))
    panel.learning_rate.setValue(0.05)
    panel.epochs.setValue(60)
    model, reason = run_to_end(qtbot, window)
    assert reason == "done" and len(panel.loss_plot.runs) == 1
    epochs, totals = panel.loss_plot.curve_data("total")
    assert list(epochs) == list(range(0, 61))
    assert totals[0] == pytest.approx(7.125)  # Train started from the loaded parameters
    assert totals[-1] < 0.5 * totals[0]


def test_the_factors_setting_takes_the_first_k_columns_and_epochs_0_in_the_panel_evaluates(
        qtbot, window, monkeypatch, tiny):
    panel = window.training_panel
    panel.reg.setValue(0.0)
    panel.bias_reg.setValue(0.0)
    load_from_menu(qtbot, window, monkeypatch, tiny)
    panel.factors.setValue(1)  # x = (1, 0), w = (1, 2): z = 3.5, 1 on m0, -1 on (m1, u1)
    wait_for_epoch_0(qtbot, panel, 0.5 * (0.25 + 9 + 4))
    panel.epochs.setValue(0)  # Train with Epochs 0 is epoch 0 too
    model, reason = run_to_end(qtbot, window)
    assert reason == "done" and [r.epoch for r in model.history_] == [0]
    assert epoch_0(panel)["total"] == pytest.approx(6.625)


@pytest.mark.parametrize("content, expected", [
    ("1,2\n3,x\n", "line 2: 'x' is not a number"),
    ("1,2\n3,inf\n", "line 2"),
])
def test_parameters_that_cannot_be_read_change_nothing_and_say_why_in_one_line(
        qtbot, window, monkeypatch, tmp_path, tiny, content, expected):
    panel = window.training_panel
    run_to_end(qtbot, window)
    trained, runs = panel.model, list(panel.loss_plot.runs)
    bad_x, w = tmp_path / "bad_X.csv", tmp_path / "bad_W.csv"
    bad_x.write_text(content)
    w.write_text("1,2\n3,4\n")
    choose_files(monkeypatch, bad_x, w)
    window.act_load_params.trigger()
    text = window.message_bar.text
    assert str(bad_x) in text and expected in text and "\n" not in text
    assert panel.model is trained and panel.loss_plot.runs == runs
    assert panel.initialization.init == "small" and panel.initialization.choice.findData("given") == -1


def test_too_few_rows_for_the_grid_are_refused(qtbot, window, monkeypatch, tmp_path, tiny):
    short = tmp_path / "short.npz"
    np.savez(short, item_factors=[[1.0, 2.0]], user_factors=W)  # one movie's factors for two movies
    choose_files(monkeypatch, short)
    window.act_load_params.trigger()
    assert "short.npz" in window.message_bar.text and window.training_panel.model is None


def test_another_document_forgets_the_loaded_parameters(qtbot, window, monkeypatch, tiny):
    panel = window.training_panel
    load_from_menu(qtbot, window, monkeypatch, tiny)
    window.open_preset("course")
    assert panel.initialization.init == "small" and panel.initialization.choice.findData("given") == -1
    assert panel.loss_plot.current is None and panel.model is None
    model, reason = run_to_end(qtbot, window)  # trains from random factors of the new grid's shape
    assert reason == "done" and model.user_factors_.shape[0] == window.table.ratings.n_users


def test_the_initialization_row_decides_where_every_run_starts(qtbot, window):
    window.open_preset("course")
    panel = window.training_panel
    row = panel.initialization
    ratings = window.table.ratings
    panel.reg.setValue(1.0)
    panel.epochs.setValue(0)
    starts = {}
    for init, scale in (("small", 0.0), ("small", 0.1), ("normal", None)):
        row.choice.setCurrentIndex(row.choice.findData(init))
        assert row.scale.isEnabled() == (init == "small")  # s is the scale of 'small' only
        if scale is not None:
            row.scale.setValue(scale)
        run_to_end(qtbot, window)
        starts[init, scale] = epoch_0(panel)
    assert starts["small", 0.0]["reg"] == 0
    factors = panel.factors.value() * (ratings.n_users + ratings.n_items)
    # λ/2 Σ of squares of N(0, s²) draws: about λ/2 · s² per factor
    assert starts["small", 0.1]["reg"] == pytest.approx(0.5 * 0.01 * factors, rel=0.5)
    assert starts["normal", None]["reg"] == pytest.approx(0.5 * factors, rel=0.5)
    assert starts["normal", None]["reg"] > 30 * starts["small", 0.1]["reg"]
    assert starts["normal", None]["total"] > starts["small", 0.1]["total"]


# --- the course lab, on the shared data -------------------------------------------------------------------------


def test_the_labs_cost_in_the_window_is_13_67_and_28_09(qtbot, window, monkeypatch, shared_data, tmp_path):
    grid = tmp_path / "lab_subset.csv"
    files = lab_subset_grid(shared_data, grid)
    assert window.open_file(grid)
    panel = window.training_panel
    panel.bias_reg.setValue(0.0)
    panel.reg.setValue(0.0)
    load_from_menu(qtbot, window, monkeypatch, *files)
    assert "rows by order" in window.message_bar.text and "X 4778 × 10" in window.message_bar.text
    panel.factors.setValue(3)  # the lab's num_features = 3
    qtbot.waitUntil(lambda: not panel.controller.is_active and panel.model.n_factors == 3, timeout=FINISH_MS)
    assert f"{epoch_0(panel)['total']:0.2f}" == "13.67"
    assert "= 13.67" in panel.cost_label.text()
    panel.reg.setValue(1.5)
    qtbot.waitUntil(lambda: not panel.controller.is_active and panel.model.reg == 1.5, timeout=FINISH_MS)
    assert f"{epoch_0(panel)['total']:0.2f}" == "28.09"
    assert "= 28.09" in panel.cost_label.text()


def test_the_labs_training_in_the_window_starts_in_the_millions_and_falls_as_the_labs_does(
        qtbot, window, shared_data):
    """The lab's settings typed into the panel (k = 100, λ = 1, Adam 0.1, mean normalization, N(0, 1)): its
    curve prints 2,321,191.3 at iteration 0 and 136,168.7 at iteration 20 (the same scale, not the same draws)."""
    assert window.open_file(shared_data / "ng-cf-lab-small-movies" / "small_movies_Y_R_reconstructed_triplets.csv")
    panel = window.training_panel
    use_the_labs_settings(panel, epochs=20)
    run_to_end(qtbot, window)
    epochs, totals = panel.loss_plot.curve_data("total")
    assert list(epochs) == list(range(0, 21))
    assert totals[0] == pytest.approx(2_321_191.3, rel=0.06)
    assert totals[20] == pytest.approx(136_168.7, rel=0.1)


def test_a_project_saved_after_loading_parameters_reopens_with_their_epoch_0(qtbot, window, monkeypatch, tmp_path,
                                                                            tiny):
    panel = window.training_panel
    panel.reg.setValue(1.0)
    panel.bias_reg.setValue(0.0)
    load_from_menu(qtbot, window, monkeypatch, tiny)
    path = tmp_path / "loaded.cfx"
    assert window.save_to(path)
    window.open_preset("course")
    assert window.open_file(path)
    assert float(grid_text(window, "u0", "m1")) == pytest.approx(2.5)
    assert panel.loss_plot.current.epochs == [0] and epoch_0(panel)["total"] == pytest.approx(7.125)
    # the file is not remembered with the project: a new run starts from random factors
    assert panel.initialization.init == "small" and panel.initialization.choice.findData("given") == -1
    panel.epochs.setValue(5)
    model, reason = run_to_end(qtbot, window)
    assert reason == "done" and model.history_[0].total != pytest.approx(7.125)


def test_a_run_from_loaded_parameters_exports_as_code_that_says_it_starts_from_random_factors(
        qtbot, window, monkeypatch, tmp_path, tiny, run_exported):
    from .test_export_code import export_through_the_menu

    load_from_menu(qtbot, window, monkeypatch, tiny)
    path = tmp_path / "from-loaded.py"
    export_through_the_menu(window, monkeypatch, path)
    assert "started from loaded parameters, which this code does not carry" in path.read_text()
    assert run_exported(path)["epochs"] == 0  # it runs: epoch 0 of small random factors
