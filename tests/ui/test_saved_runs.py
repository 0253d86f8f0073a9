"""A project keeps the runs its loss plot compared: reopened, the plot shows what it showed when it was saved (the
earlier runs dashed and named by their settings, the model's run current), and older projects open as before."""

import math

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog

from cfexplorer.app import SAVE_FILTERS

from ..io.hostile_files import project_bytes, project_parts
from .collect import collect_closed_windows

FINISH_MS = 60_000
PROJECT_FILTER = next(name for name, (shape, _) in SAVE_FILTERS.items() if shape == "project")


@pytest.fixture
def fresh_window(qtbot, tmp_path, monkeypatch):
    """Makes another main window, as another start of the app would."""
    from PySide6.QtWidgets import QMessageBox

    from cfexplorer.app import MainWindow

    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: QMessageBox.StandardButton.Discard)
    made = []

    def make(settings=None):
        """A window with ``settings`` (by default its own)."""
        if settings is None:
            settings = QSettings(str(tmp_path / f"fresh-{len(made)}.ini"), QSettings.Format.IniFormat)
        main = MainWindow(settings=settings)
        qtbot.addWidget(main)
        main.show()
        qtbot.waitExposed(main)
        made.append(main)
        return main

    yield make
    for main in made:
        main.undo_stack.setClean()
        main.close()
    collect_closed_windows()


def train(qtbot, window, reg: float, validation: float = 0.0):
    panel = window.training_panel
    panel.reg.setValue(reg)
    panel.validation.setValue(validation)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)


def save_with_the_menu(window, path, monkeypatch):
    """File ▸ Save of a document that has no file yet: the Save As dialog answered with ``path``."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(path), PROJECT_FILTER)))
    window.act_save.trigger()
    assert path.exists() and window.documents.path == path


def open_with_the_menu(window, path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *args: (str(path), "")))
    window.act_open.trigger()
    assert window.documents.path == path, window.message_bar.text


def numbers(values) -> list:
    """Floats comparable with ==: NaN (an epoch that measured no validation value) as None."""
    return [None if math.isnan(value) else value for value in values]


def as_shown(window) -> dict:
    """What the loss plot shows of its runs: each run's number, name, curves, line and colour, the legends, which
    run is current."""
    from cfexplorer.ui.loss_plot import settings_label

    plot = window.training_panel.loss_plot
    plot._catch_up()
    runs = [{"number": run.number, "label": settings_label(run, plot.runs), "metrics": run.metrics,
             "epochs": list(run.epochs), "total": numbers(run.total), "data": numbers(run.data),
             "validation": numbers(run.validation), "validation2": numbers(run.validation2),
             "drawn": numbers(curves["total"].yData), "line": curves["total"].opts["pen"].style(),
             "colour": curves["total"].opts["pen"].color().getRgb()}
            for run, curves in zip(plot.runs, plot._curves, strict=True)]
    return {"runs": runs, "current": None if plot.current is None else plot.current.number,
            "cost legend": [label.text for _, label in plot.cost_legend.items],
            "validation legend": [label.text for _, label in plot.validation_legend.items],
            "validation shown": plot.validation_shown}


def test_a_reopened_project_shows_the_runs_its_loss_plot_compared(qtbot, window, fresh_window, tmp_path,
                                                                   monkeypatch):
    """An instructor compared λ = 0, 1 and 1.5 in class and saved the project: reopened, it showed the last run
    alone, numbered 1."""
    window.training_panel.epochs.setValue(30)
    train(qtbot, window, 0.0)
    train(qtbot, window, 1.0, validation=0.2)  # an earlier run with validation curves
    train(qtbot, window, 1.5)
    window.training_panel.reg.setValue(3.0)  # after the last run: not the setting it trained with
    shown = as_shown(window)
    assert [run["label"] for run in shown["runs"]] == \
        ["run 1: λ=0, validation=0", "run 2: λ=1, validation=0.2", "run 3: λ=1.5, validation=0"]
    assert shown["cost legend"][3:] == ["run 2: λ=1, validation=0.2", "run 1: λ=0, validation=0"]
    assert [run["line"] for run in shown["runs"]] == [Qt.PenStyle.DashLine, Qt.PenStyle.DashLine,
                                                      Qt.PenStyle.SolidLine]
    assert shown["runs"][0]["colour"] != shown["runs"][1]["colour"]  # each earlier run in a colour of its own
    assert shown["current"] == 3 and shown["validation shown"]
    path = tmp_path / "lambdas.cfx"
    save_with_the_menu(window, path, monkeypatch)

    reopened = fresh_window()
    open_with_the_menu(reopened, path, monkeypatch)
    assert as_shown(reopened) == shown
    assert reopened.training_panel.reg.value() == 3.0  # the panel as it was saved
    train(qtbot, reopened, 0.5)  # the next run follows the kept ones
    again = as_shown(reopened)
    assert [run["number"] for run in again["runs"]] == [1, 2, 3, 4] and again["current"] == 4
    assert again["cost legend"][3:] == ["run 3: λ=1.5, validation=0", "run 2: λ=1, validation=0.2",
                                        "run 1: λ=0, validation=0"]


def test_after_reset_a_reopened_project_shows_the_earlier_runs_alone(qtbot, window, fresh_window, tmp_path,
                                                                     monkeypatch):
    """Reset forgets the model and its run; the runs before it stay earlier runs, in the project too."""
    panel = window.training_panel
    panel.epochs.setValue(20)
    for reg in (0.0, 1.0, 1.5):
        train(qtbot, window, reg)
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    shown = as_shown(window)
    assert shown["current"] is None and [run["number"] for run in shown["runs"]] == [1, 2]
    assert shown["cost legend"] == ["run 2: λ=1", "run 1: λ=0"]
    path = tmp_path / "reset.cfx"
    save_with_the_menu(window, path, monkeypatch)

    reopened = fresh_window()
    open_with_the_menu(reopened, path, monkeypatch)
    assert as_shown(reopened) == shown
    assert reopened.training_panel.model is None and not reopened.training_panel.reset_button.isEnabled()
    train(qtbot, reopened, 1.5)
    assert as_shown(reopened)["current"] == 3


def test_after_clear_history_a_reopened_project_shows_the_model_s_run_alone(qtbot, window, fresh_window, tmp_path,
                                                                            monkeypatch):
    """The model's run alone, numbered 1 as Clear history left it, with the settings it trained with: not the
    panel's (λ set after it), which made the next run at those settings look the same."""
    panel = window.training_panel
    panel.epochs.setValue(20)
    for reg in (0.0, 1.5):
        train(qtbot, window, reg)
    panel.clear_history_button.click()
    panel.reg.setValue(3.0)
    shown = as_shown(window)
    assert [run["label"] for run in shown["runs"]] == ["run 1"] and shown["current"] == 1
    path = tmp_path / "cleared.cfx"
    save_with_the_menu(window, path, monkeypatch)

    reopened = fresh_window()
    open_with_the_menu(reopened, path, monkeypatch)
    assert as_shown(reopened) == shown
    train(qtbot, reopened, 3.0)
    assert as_shown(reopened)["cost legend"][3:] == ["run 1: λ=1.5"]


def test_a_project_saved_while_training_shows_the_runs_up_to_its_model_s(qtbot, window, fresh_window, tmp_path,
                                                                         monkeypatch):
    """The file keeps the model of the last run that ended, and the runs before it: the run going on is in it no
    more than its model."""
    panel = window.training_panel
    panel.epochs.setValue(20)
    for reg in (0.0, 1.0):
        train(qtbot, window, reg)
    finished = as_shown(window)
    panel.reg.setValue(1.5)
    panel.epochs.setValue(100_000)
    panel.pace.setCurrentText("30 epochs/s")
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.loss_plot.current.number == 3 and len(panel.loss_plot.current.epochs) >= 2)
    path = tmp_path / "while-training.cfx"
    save_with_the_menu(window, path, monkeypatch)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)

    reopened = fresh_window()
    open_with_the_menu(reopened, path, monkeypatch)
    assert as_shown(reopened) == finished


def test_a_project_keeps_every_run_the_loss_plot_keeps(qtbot, window, fresh_window, tmp_path, monkeypatch):
    from cfexplorer.ui.loss_plot import KEPT_RUNS

    window.training_panel.epochs.setValue(3)
    for reg in range(KEPT_RUNS + 2):
        train(qtbot, window, float(reg))
    shown = as_shown(window)
    assert [run["number"] for run in shown["runs"]] == list(range(3, KEPT_RUNS + 3))
    path = tmp_path / "many.cfx"
    save_with_the_menu(window, path, monkeypatch)

    reopened = fresh_window()
    open_with_the_menu(reopened, path, monkeypatch)
    assert as_shown(reopened) == shown


def test_a_recovered_document_shows_the_runs_its_loss_plot_compared(qtbot, window, fresh_window):
    """The recovery copy of unsaved edits is the project Save would write: its runs too."""
    from cfexplorer.core.edits import SetCells

    window.training_panel.epochs.setValue(20)
    for reg in (0.0, 1.5):
        train(qtbot, window, reg)
    window.table.request_edit(SetCells((1,), (1,), (1.0,)))  # unsaved
    shown = as_shown(window)
    assert window.write_recovery()
    window.documents.recovery.wait()
    window.documents.recovery.release()  # the window's process "dies"

    restarted = fresh_window(window.settings)
    assert restarted.offer_recovery(restore=True)
    assert as_shown(restarted) == shown


@pytest.mark.parametrize("trained", [True, False])
def test_a_project_saved_before_runs_were_kept_opens_as_before(qtbot, window, fresh_window, tmp_path, monkeypatch,
                                                               trained):
    """A project without the runs' description and curves (an older version's): its model's run alone, numbered 1,
    named by the panel's settings; without a model, no run."""
    window.training_panel.epochs.setValue(20)
    for reg in (0.0, 1.0):
        train(qtbot, window, reg)
    if not trained:
        qtbot.mouseClick(window.training_panel.reset_button, Qt.MouseButton.LeftButton)
    path = tmp_path / "new.cfx"
    save_with_the_menu(window, path, monkeypatch)
    meta, arrays = project_parts(path)
    older = tmp_path / "older.cfx"
    for kept in (meta, arrays):  # what a project keeps of its runs
        kept.pop("earlier_runs", None)
    meta.pop("model_run", None)
    older.write_bytes(project_bytes(meta, arrays))

    reopened = fresh_window()
    open_with_the_menu(reopened, older, monkeypatch)
    shown = as_shown(reopened)
    if trained:
        assert [(run["number"], run["label"], run["line"]) for run in shown["runs"]] == \
            [(1, "run 1", Qt.PenStyle.SolidLine)]
        assert shown["runs"][0]["epochs"] == list(range(21)) and shown["current"] == 1
        assert shown["cost legend"] == ["J (total)", "data term", "regularization term"]
    else:
        assert shown["runs"] == [] and shown["current"] is None and shown["cost legend"] == []
