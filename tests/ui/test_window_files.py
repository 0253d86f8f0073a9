"""Opening, saving and closing through the main window."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QMessageBox

from cfexplorer.core.edits import SetCells
from cfexplorer.io.child_process import call_in_child_process


def dense(window):
    return window.table.ratings.to_dense()


@pytest.mark.parametrize("name,content", [
    ("ratings.csv", "userId,movieId,rating,timestamp\n1,10,4.0,1\n2,10,3.0,2\n"),
    ("u.data", "1\t10\t4\t1\n2\t10\t3\t2\n"),
    ("ratings.dat", "1::10::4::1\n2::10::3::2\n"),  # MovieLens 1M and 10M
    ("long.tsv", "user\titem\trating\n1\t10\t4\n2\t10\t3\n"),
    ("wide.csv", "User,10\n1,4\n2,3\n"),
])
def test_open_each_text_format(window, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    assert window.open_file(path)
    ratings = window.table.ratings
    assert (ratings.n_users, ratings.n_items) == (2, 1)
    assert sorted(ratings.values) == [3.0, 4.0]
    assert name in window.windowTitle()


def test_a_large_text_file_opens_from_a_process_of_its_own(window, tmp_path, monkeypatch):
    """Names for ids take pandas' text path, which holds the GIL for long: from TEXT_IN_A_PROCESS_BYTES on
    (here, every size; and every file read in the background, as from 4 MB) the window's background read hands
    the file to a process of its own."""
    from cfexplorer.io import readers
    from cfexplorer.ui import document

    started = []
    monkeypatch.setattr(document, "BACKGROUND_OPEN_BYTES", 0)  # read in the background, behind a progress dialog
    monkeypatch.setattr(readers, "TEXT_IN_A_PROCESS_BYTES", 0)
    monkeypatch.setattr(readers, "call_in_child_process",
                        lambda function, *args, **options: started.append(function)
                        or call_in_child_process(function, *args, **options))
    path = tmp_path / "names.csv"
    path.write_text("user,item,rating\nAnn,Alien,4\nBob,Alien,2\nBob,Up,5\n")
    assert window.open_file(path)
    assert len(started) == 1
    ratings = window.table.ratings
    assert list(ratings.user_labels) == ["Ann", "Bob"] and list(ratings.item_titles()) == ["Alien", "Up"]
    assert window.table.data(window.table.index(*window.table.position(1, 1))) == "5"
    path.write_text("user,item,rating\nAnn,Alien,4\nBob,Alien,lots\n")
    assert not window.open_file(path)  # the error found there is said here, and the window keeps its ratings
    assert "line 3" in window.message_bar.text and "'lots'" in window.message_bar.text
    assert window.table.ratings is ratings


def test_open_excel(window, tmp_path):
    path = tmp_path / "sheet.xlsx"
    pd.DataFrame({"user": ["a", "b"], "item": ["x", "x"], "rating": [2, 5]}).to_excel(path, index=False)
    assert window.open_file(path)
    assert window.table.ratings.n_ratings == 2


def test_malformed_file_leaves_the_current_data_untouched(window, tmp_path):
    before = dense(window).copy()
    path = tmp_path / "bad.csv"
    path.write_text("user,item,rating\na,x,4\nb,y,lots\n")
    assert not window.open_file(path)
    np.testing.assert_array_equal(dense(window), before)
    assert "line 3" in window.message_bar.text and "'lots'" in window.message_bar.text
    assert "Course" in window.windowTitle()


def test_duplicates_are_reported_when_opening(window, tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("user,item,rating\na,x,1\na,x,5\n")
    assert window.open_file(path)
    assert "duplicate" in window.message_bar.text and "last one" in window.message_bar.text


def test_project_round_trip_through_the_window(window, tmp_path):
    window.table.request_edit(SetCells((1,), (1,), (2.5,)))
    window.act_swap.trigger()
    path = tmp_path / "lesson.cfx"
    assert window.save_to(path)
    assert not window.isWindowModified()
    saved = dense(window).copy()
    window.open_preset("planted")
    assert window.open_file(path)
    np.testing.assert_array_equal(dense(window), saved)
    assert list(window.table.ratings.user_labels) == ["Alice", "Bob", "Carol", "Dave"]
    assert window.path == path
    window.table.request_edit(SetCells((0,), (1,), (1.0,)))
    assert window.save()  # Save goes to the project without asking
    assert window.open_file(path)
    assert dense(window)[0, 1] == 1.0


def test_save_as_csv_writes_a_matrix_that_reopens(window, tmp_path):
    path = tmp_path / "course.csv"
    assert window.save_to(path)
    text = path.read_text().splitlines()
    assert text[0] == "Movie,Alice,Bob,Carol,Dave" and text[2] == "Romance forever,5,?,?,0"
    assert window.open_file(path)
    assert window.table.ratings.n_ratings == 15


@pytest.mark.parametrize("chosen", ["Matrix, CSV (*.csv)", "Long table, TSV (*.tsv)",
                                    "Excel long table user,item,rating (*.xlsx)"])
def test_users_whose_names_differ_only_in_spaces_at_their_ends_are_still_two_after_save_as(window, tmp_path,
                                                                                           monkeypatch, chosen):
    """A project made in Python with users " Alice" and "Alice", saved as a ratings file and opened again, had
    one Alice (her ratings merged) or did not open ("the column label 'Alice' appears twice")."""
    from PySide6.QtWidgets import QFileDialog

    from cfexplorer import api
    from cfexplorer.core.ratings import Ratings

    made = Ratings(np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1]), np.array([5.0, 1.0, 4.0, 2.0]),
                   np.array([" Alice", "Alice", "Bob"], dtype=object), np.array(["Up", "Heat"], dtype=object))
    project = api.save_project(tmp_path / "made.cfx", made)
    assert window.open_file(project)
    saved = tmp_path / "saved"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(saved), chosen)))
    assert window.save_as()
    assert window.open_file(next(tmp_path.glob("saved.*")))
    ratings = window.table.ratings
    assert sorted(ratings.user_labels) == [" Alice", "Alice", "Bob"] and ratings.n_ratings == 4
    assert {(ratings.user_labels[u], ratings.item_labels[i]): v for u, i, v in
            zip(ratings.users, ratings.items, ratings.values)} == {(" Alice", "Up"): 5.0, ("Alice", "Up"): 1.0,
                                                                    ("Alice", "Heat"): 4.0, ("Bob", "Heat"): 2.0}
    assert "kept apart, as written: ' Alice' and 'Alice'" in window.message_bar.text


def test_open_movielens_latest_small(window, shared_data):
    assert window.open_file(shared_data / "ml-latest-small" / "ratings.csv")
    assert window.table.rowCount() == 9724 and window.table.columnCount() == 610
    assert window.proxy.headerData(0, Qt.Orientation.Vertical).startswith("Toy Story (1995)")
    assert "100836 ratings" in window.summary_label.text()


def test_unsaved_edits_ask_before_closing_or_opening(window, monkeypatch):
    window.table.request_edit(SetCells((1,), (1,), (2.5,)))
    asked = []
    monkeypatch.setattr(type(window), "ask_save_changes",
                        lambda self: asked.append(1) or QMessageBox.StandardButton.Cancel)
    assert not window.open_preset("planted")
    assert window.table.ratings.n_users == 4  # still the course data
    assert not window.close()
    assert window.isVisible() and len(asked) == 2
    monkeypatch.setattr(type(window), "ask_save_changes", lambda self: QMessageBox.StandardButton.Discard)
    assert window.open_preset("planted")


def test_drop_a_file_onto_the_window_opens_it(qtbot, window, tmp_path):
    path = tmp_path / "dropped.csv"
    path.write_text("user,item,rating\na,x,4\n")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.table.ratings.n_ratings == 1)
    assert "dropped.csv" in window.windowTitle()


def test_recent_files_are_remembered(window, tmp_path, settings):
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("user,item,rating\na,x,4\n")
        window.open_file(tmp_path / name)
    assert window.recent_files()[:2] == [str(tmp_path / "b.csv"), str(tmp_path / "a.csv")]
    assert settings.value("recent_files")[0] == str(tmp_path / "b.csv")
    assert window.recent_menu.actions()[0].text().endswith("b.csv")


def test_presets_open(window):
    for name, users in (("course-eve", 5), ("course-binary", 4), ("disjoint", 8)):
        assert window.open_preset(name)
        assert window.table.ratings.n_users == users
    assert window.table.ratings.binary is False


def _start_screenshot(out, *options):
    # its own configuration folder: the screenshot command's settings (and recovery files) are per user, and
    # two of them run at once below
    config = out.with_suffix(".config")
    return subprocess.Popen([sys.executable, "-m", "cfexplorer", "screenshot", str(out), "--preset", "course-eve",
                             "--size", "900x600", *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
                                            "XDG_CONFIG_HOME": str(config)})


def _screenshot_pixels(process, out):
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors
    image = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB32)
    assert (image.width(), image.height()) == (900, 600)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=900 * 600).reshape(600, 900)
    return pixels.copy()


def test_screenshot_command_writes_a_png_of_the_window(tmp_path):
    # two processes at once: each spends most of its time starting Python and Qt, one core each
    processes = [_start_screenshot(tmp_path / "trained.png", "--train"), _start_screenshot(tmp_path / "untrained.png")]
    try:
        trained = _screenshot_pixels(processes[0], tmp_path / "trained.png")
        untrained = _screenshot_pixels(processes[1], tmp_path / "untrained.png")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    # a window, not a blank page: text, the grid's colour scale, plot lines
    assert len(np.unique(trained)) > 200
    # training changed what is shown: predictions in the '?' cells, the loss curves
    changed = trained != untrained
    assert changed.mean() > 0.01


def test_save_as_suggests_the_files_name_as_a_project_and_follows_the_chosen_type(window, tmp_path, monkeypatch):
    """With ratings.csv open, Save As offered "ratings.csv.cfx", and choosing the long CSV type kept that name
    (a user saved "ml_out.csv.csv")."""
    from PySide6.QtWidgets import QFileDialog

    from cfexplorer.app import SAVE_FILTERS

    source = tmp_path / "ratings.csv"
    assert window.save_to(source, "long")
    assert window.open_file(source)
    window.documents.settings.setValue("last_folder", str(tmp_path))
    suggested = window.documents.suggested_save_path()
    assert suggested == tmp_path / "ratings.cfx"
    long_csv = next(name for name, (shape, suffix) in SAVE_FILTERS.items() if (shape, suffix) == ("long", ".csv"))
    offered = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, title, start, filters: offered.append(start) or (start, long_csv)))
    assert window.save_as()  # the suggested name kept, the long CSV type chosen
    assert offered == [str(tmp_path / "ratings.cfx")]
    assert (tmp_path / "ratings.csv").read_text().splitlines()[0].lower().startswith("user")
    assert not (tmp_path / "ratings.cfx").exists() and not list(tmp_path.glob("*.csv.*"))
    typed = tmp_path / "mine.tsv"  # a name with its own suffix is kept as typed
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(typed), long_csv)))
    assert window.save_as() and typed.exists()


def test_saving_while_training_keeps_the_last_finished_model_and_says_so(qtbot, window, tmp_path):
    """Ctrl+S during a run wrote the project without any model, the one saved before included, and said
    "Saved"."""
    from cfexplorer.io.project import load_project

    panel = window.training_panel
    assert window.train_and_wait()
    finished = panel.model
    path = tmp_path / "course.cfx"
    assert window.save_to(path)
    assert load_project(path).model is not None
    panel.epochs.setValue(5000)
    panel.pace.setCurrentText("30 epochs/s")
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.loss_plot.current is not None and len(panel.loss_plot.current.epochs) >= 2)
    assert panel.controller.is_active and panel.model is not finished
    assert window.save_to(path)
    restored = load_project(path).model
    assert restored is not None
    np.testing.assert_array_equal(restored.item_factors_, finished.item_factors_)
    assert "still going on" in window.message_bar.text and "last run that ended" in window.message_bar.text
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=10_000)
    window.add_user("Zed")  # the model no longer fits: left out, and said so
    assert window.save_to(path)
    assert load_project(path).model is None and "added or removed" in window.message_bar.text


def test_a_classroom_sized_file_trains_with_the_courses_settings(qtbot, window, tmp_path):
    """The course's grid saved and opened again trained with the MovieLens defaults (ALS, k = 16, λ = 15): every
    factor 0.000, train RMSE 2.3; neural CF (weight decay 60, 10 epochs) the same."""
    path = tmp_path / "course.csv"
    assert window.save_to(path)
    assert window.open_file(path)
    panel = window.training_panel
    assert (panel.factors.value(), panel.reg.value(), panel.optimizer.currentData()) == (2, 1.0, "adam")
    assert panel.validation.value() == 0.0  # a tenth of 15 ratings measures nothing
    with qtbot.waitSignal(panel.sig_run_ended, timeout=60_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert panel.model.history_[-1].train["rmse"] < 0.6
    assert np.abs(panel.model.item_factors_).max() > 0.1
    panel.model_kind.setCurrentIndex(panel.model_kind.findData("neural"))
    assert panel.reg.value() == 1.0 and panel.epochs.value() == 200
    with qtbot.waitSignal(panel.sig_run_ended, timeout=60_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert panel.model.history_[-1].train["rmse"] < 0.6
    rng = np.random.default_rng(0)  # a file past the classroom's size keeps the defaults tuned on MovieLens
    cells = rng.choice(60 * 100, 1500, replace=False)
    large = tmp_path / "large.csv"
    pd.DataFrame({"user": cells // 100, "item": cells % 100, "rating": rng.integers(1, 6, 1500)}).to_csv(large, index=False)
    assert window.open_file(large)
    assert (panel.reg.value(), panel.optimizer.currentData(), panel.validation.value()) == (15.0, "als", 0.1)


def test_a_ratings_file_that_leaves_part_of_the_document_out_is_a_copy_not_a_save(qtbot, window, tmp_path):
    """Save As CSV marked the document saved (closing asked nothing) although the trained model or a user without
    ratings was in no file, and the title named the CSV while Ctrl+S wrote the project."""
    from cfexplorer.core.edits import SetCells

    assert window.train_and_wait()
    project = tmp_path / "lesson.cfx"
    assert window.save_to(project)
    user, item = np.argwhere(np.isnan(window.table.ratings.to_dense()))[0]
    window.table.request_edit(SetCells((int(user),), (int(item),), (4.0,)))  # unsaved; the model still fits
    exported = tmp_path / "lesson-long.csv"
    assert window.save_to(exported, "long") and exported.exists()
    assert window.has_unsaved_changes  # the model is in no file with this rating: still to be saved
    assert "the trained model is not in it" in window.message_bar.text
    assert "The changes are still unsaved: Save writes lesson.cfx." in window.message_bar.text  # ("them": no noun)
    assert window.documents.title == "lesson.cfx" and window.documents.path == project  # what Save writes
    window.training_panel.reset()
    assert window.save_to(tmp_path / "wide.xlsx", "wide") and window.has_unsaved_changes  # beside the project
    assert window.save_to(project) and not window.has_unsaved_changes
    # a document that is not a project: a ratings file holding all of it is a save, one leaving some out is not
    window.open_preset("course")
    window.add_user("Nobody yet")
    assert window.save_to(tmp_path / "long.tsv", "long")
    assert "1 user without ratings is not in it" in window.message_bar.text and window.has_unsaved_changes
    assert "The changes are still unsaved: a project (.cfx) holds everything." in window.message_bar.text
    assert window.save_to(tmp_path / "wide.csv", "wide") and not window.has_unsaved_changes
    assert window.documents.title == "wide.csv"


def test_a_grid_without_ratings_is_not_written_as_a_long_table_no_reader_opens(qtbot, window, tmp_path):
    from cfexplorer.core.edits import SetCells

    ratings = window.table.ratings
    window.table.request_edit(SetCells(tuple(ratings.users), tuple(ratings.items), (float("nan"),) * ratings.n_ratings))
    assert window.table.ratings.n_ratings == 0
    errors = []
    window.show_error = lambda title, text: errors.append(text)
    path = tmp_path / "empty.csv"
    assert not window.save_to(path, "long") and not path.exists()
    assert errors and "no ratings to write as a long table" in errors[0]
    assert window.save_to(path, "wide") and window.open_file(path)  # a matrix keeps the empty grid


@pytest.mark.parametrize("sort", ["count", "column"])
def test_a_project_opens_with_the_rows_in_the_order_and_the_filters_they_had(qtbot, window, tmp_path, sort):
    """The project keeps the window's view "so that students open what the teacher saw", but the rows came back in
    their original order, unfiltered."""
    window.open_preset("planted")
    if sort == "count":
        window.sort_rows("count")
    else:
        window.proxy.sort_by_column(2, Qt.SortOrder.AscendingOrder)
    window.filter_edit.setText("1")
    window.proxy.set_min_ratings(3, 2)
    window.proxy.set_restricts_training(True)
    shown = [window.proxy.headerData(r, Qt.Orientation.Vertical) for r in range(window.proxy.rowCount())]
    state = window.proxy.view_state()
    path = tmp_path / "view.cfx"
    assert window.save_to(path)
    window.open_preset("course")
    assert window.proxy.view_state()["sort"] == "original" and window.filter_edit.text() == ""
    assert window.open_file(path, confirm=False)
    assert window.proxy.view_state() == state and window.filter_edit.text() == "1"
    assert [window.proxy.headerData(r, Qt.Orientation.Vertical) for r in range(window.proxy.rowCount())] == shown
    assert [action.isChecked() for action in window.sort_actions.actions()] == \
        [False, False, sort == "count", False]
