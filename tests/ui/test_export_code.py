"""File ▸ Export as Python Script… / Notebook…: the exported code, run in a fresh Python, trains the window's
run again and ends with the same J and the same predictions in the "?" cells (to 1e-9)."""

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from .test_training import run_to_end, start_slow_run

RUN_MS = 60_000
def export_through_the_menu(window, monkeypatch, path: Path, notebook: bool = False) -> list:
    asked = []

    def answer(parent, caption, directory, filters):
        asked.append((caption, filters))
        return str(path), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    action = window.act_export_notebook if notebook else window.act_export_script
    assert action in window.menuBar().actions()[0].menu().actions()  # in the File menu
    action.trigger()
    assert asked, "no file dialog was shown"
    return asked


def assert_same_run(window, result: dict):
    model = window.training_panel.model
    final = model.history_[-1]
    assert result["epochs"] == final.epoch
    assert result["J"] == pytest.approx(final.total, rel=1e-9, abs=1e-9)
    assert result["data"] == pytest.approx(final.data_term, rel=1e-9, abs=1e-9)
    assert result["reg"] == pytest.approx(final.reg_term, rel=1e-9, abs=1e-9)
    ratings = window.table.ratings
    rated = set(zip(ratings.users.tolist(), ratings.items.tolist()))
    cells = {(u, i): p for u, i, p in result["cells"]}
    unrated = {(u, i) for u in range(ratings.n_users) for i in range(ratings.n_items)} - rated
    assert set(cells) == unrated  # every "?" cell, and only those
    predictor = model.predictor()
    for (user, item), prediction in cells.items():
        assert prediction == pytest.approx(predictor.predict_cell(user, item), rel=1e-9, abs=1e-9)


def test_the_exported_script_trains_the_course_run_again(qtbot, window, monkeypatch, tmp_path, run_exported):
    window.open_preset("course-eve")
    window.training_panel.epochs.setValue(120)
    run_to_end(qtbot, window)
    path = tmp_path / "course run.py"
    asked = export_through_the_menu(window, monkeypatch, path)
    assert "Python script" in asked[0][1]
    assert path.exists() and path.name in window.message_bar.label.text()
    text = path.read_text()
    assert "api.load_example('course-eve')" in text  # an unedited example is loaded by name
    assert "J = ½ Σ_{r(i,j)=1}" in text  # the course's formula beside the code
    result = run_exported(path)
    assert_same_run(window, result)
    # Eve rated nothing: the script predicts her the movies' means, as the grid shows
    ratings = window.table.ratings
    eve = list(ratings.user_labels).index("Eve")
    means = ratings.item_means()
    eve_cells = {i: p for u, i, p in result["cells"] if u == eve}
    assert eve_cells and all(abs(p - means[i]) < 0.3 for i, p in eve_cells.items())


def test_edited_ratings_and_a_held_out_share_are_reproduced(qtbot, window, monkeypatch, tmp_path, run_exported):
    window.open_preset("course")
    _set_cell(window, 0, 2, 1.5)
    assert not window.undo_stack.isClean()
    panel = window.training_panel
    panel.validation.setValue(0.2)
    panel.epochs.setValue(80)
    run_to_end(qtbot, window)
    path = tmp_path / "edited.py"
    export_through_the_menu(window, monkeypatch, path)
    text = path.read_text()
    assert "ratings = api.Ratings(" in text  # edited data is written into the code
    assert "api.train_test_split(ratings, 0.2, seed=" in text
    assert_same_run(window, run_exported(path))


def _set_cell(window, user, item, value):
    """An edit typed into the grid (the same command the delegate pushes)."""
    table = window.table
    index = table.index(*table.position(user, item))
    assert table.setData(index, str(value), Qt.ItemDataRole.EditRole)


def test_a_stopped_run_is_exported_with_the_epochs_it_ran(qtbot, window, monkeypatch, tmp_path, run_exported):
    window.open_preset("course")
    panel = window.training_panel
    start_slow_run(qtbot, panel, 3000, seen=5)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=RUN_MS):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    done = panel.model.history_[-1].epoch  # epochs trained (the history starts with epoch 0)
    assert done < 3000
    path = tmp_path / "stopped.py"
    export_through_the_menu(window, monkeypatch, path)
    assert f"stopped after {done} of 3000 epochs" in path.read_text()
    assert_same_run(window, run_exported(path))


@pytest.mark.parametrize("kind", ["mf", "neural"])
def test_a_run_gone_on_by_step_is_exported_as_one_run_of_all_its_epochs(qtbot, window, monkeypatch, tmp_path,
                                                                       run_exported, kind):
    """After 40 epochs and a Step, the exported code trained 40 (the Epochs setting) where the window had 41:
    its J was not the window's."""
    window.open_preset("course")
    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData(kind))
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("adam"))
    panel.epochs.setValue(40)
    run_to_end(qtbot, window)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=RUN_MS):
        panel.step()
        qtbot.waitUntil(lambda: panel.model.history_[-1].epoch == 41, timeout=RUN_MS)
        panel.stop()
    path = tmp_path / "stepped.py"
    export_through_the_menu(window, monkeypatch, path)
    assert "warm_start=True" not in path.read_text()  # one run: the exported code trains from the start
    assert_same_run(window, run_exported(path))


def test_a_ratings_file_is_read_from_its_path(qtbot, window, monkeypatch, tmp_path, run_exported):
    data = tmp_path / "small ratings.csv"
    data.write_text("user,movie,rating\nann,Alien,4\nann,Heat,2\nbob,Alien,5\nbob,Up,3\ncid,Heat,1\ncid,Up,4.5\n")
    assert window.open_file(data)
    window.training_panel.epochs.setValue(50)
    run_to_end(qtbot, window)
    path = tmp_path / "from file.py"
    export_through_the_menu(window, monkeypatch, path)
    assert f"api.read_ratings({str(data)!r}" in path.read_text()
    assert_same_run(window, run_exported(path))


def test_before_any_run_the_export_is_the_run_train_would_start(qtbot, window, monkeypatch, tmp_path, run_exported):
    window.open_preset("course")
    window.training_panel.epochs.setValue(30)
    path = tmp_path / "planned.py"
    export_through_the_menu(window, monkeypatch, path)
    assert "not trained yet" in path.read_text()
    result = run_exported(path)
    assert result["epochs"] == 30
    run_to_end(qtbot, window)  # the window, training now, ends where the script ended
    assert_same_run(window, result)


def test_cancelling_the_file_dialog_writes_nothing(qtbot, window, monkeypatch, tmp_path):
    window.open_preset("course")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    assert window.export_code(".py") == []
    assert not any(p.suffix in (".py", ".ipynb") for p in tmp_path.iterdir())


def test_the_notebook_holds_the_same_code_with_the_formulas_as_markdown(qtbot, window, monkeypatch, tmp_path, run_exported):
    assert window.open_preset("course-binary")
    window.training_panel.epochs.setValue(40)
    run_to_end(qtbot, window)
    path = tmp_path / "binary run.ipynb"
    export_through_the_menu(window, monkeypatch, path, notebook=True)
    notebook = json.loads(path.read_text())
    assert notebook["nbformat"] == 4
    markdown = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    code = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "cross-entropy" in markdown  # binary labels: the course's BCE, not the squared error
    assert "api.load_example('course-binary')" in code
    # the code cells, run one after the other as a script, train the same run
    script = tmp_path / "cells.py"
    script.write_text(code)
    assert_same_run(window, run_exported(script))
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(path.read_text(), as_version=4))


def test_the_notebook_executes_when_jupyter_is_installed(qtbot, window, monkeypatch, tmp_path):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    import nbformat
    from nbclient import NotebookClient

    window.open_preset("course")
    window.training_panel.epochs.setValue(40)
    run_to_end(qtbot, window)
    path = tmp_path / "course.ipynb"
    export_through_the_menu(window, monkeypatch, path, notebook=True)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.get("outputs", []))
    final = window.training_panel.model.history_[-1]
    line = [text for text in printed.splitlines() if text.startswith("final J = ")][-1]
    assert float(line.split()[3]) == pytest.approx(final.total, rel=1e-9)
    pictures = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
                if "image/png" in output.get("data", {})]
    assert len(pictures) == 1  # the loss curves and the movies in factor space, drawn by matplotlib
