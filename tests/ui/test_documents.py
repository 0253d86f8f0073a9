"""Opening is a transaction: a document is built whole before the window switches to it, and a failure
anywhere leaves the previous data, title, path, undo history, settings and trained model as they were.
What belongs to a document goes with it when another one opens."""

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QProgressBar, QPushButton

from cfexplorer.core.edits import ITEMS, USERS, SetCells
from cfexplorer.ui import document as document_module
from cfexplorer.ui import document_files
from cfexplorer.io.readers import read_any
from cfexplorer.ui.document import safe_file_stem


def snapshot(window):
    """Everything an open must not change when it fails."""
    panel = window.training_panel
    return {
        "dense": window.table.ratings.to_dense().copy(),
        "labels": list(window.table.ratings.user_labels),
        "title": window.document_title,
        "window_title": window.windowTitle(),
        "path": window.path,
        "undo": (window.undo_stack.count(), window.undo_stack.index(), window.undo_stack.isClean()),
        "settings": panel.settings(),
        "model": panel.model,
        "predictor": window.table.predictor,
    }


def assert_unchanged(window, before):
    after = snapshot(window)
    np.testing.assert_array_equal(after.pop("dense"), before["dense"])
    assert after == {k: v for k, v in before.items() if k != "dense"}


def _trained_project_with_an_unsaved_edit(qtbot, window, tmp_path):
    window.training_panel.epochs.setValue(20)
    assert window.train_and_wait()
    project = tmp_path / "class.cfx"
    assert window.save_to(project)
    window.table.request_edit(SetCells((0,), (0,), (1.0,)))  # unsaved
    return project


def test_a_file_that_fails_to_read_changes_nothing_and_save_still_writes_the_old_file(
        qtbot, window, tmp_path, monkeypatch):
    project = _trained_project_with_an_unsaved_edit(qtbot, window, tmp_path)
    before = snapshot(window)

    def out_of_memory(path, **_):
        raise MemoryError

    monkeypatch.setattr(document_files, "read_any", out_of_memory)
    big = tmp_path / "huge.csv"
    big.write_text("user,item,rating\n1,1,4\n")
    assert not window.open_file(big, confirm=False)
    assert "not enough memory" in window.message_bar.text and "huge.csv" in window.message_bar.text
    assert_unchanged(window, before)
    assert window.save()  # Ctrl+S: the old document to the old file
    reopened = document_module.read_document(project)
    assert reopened.ratings.to_dense()[0, 0] == 1.0 and reopened.ratings.n_users == before["dense"].shape[0]


def test_a_window_that_fails_half_way_through_switching_goes_back_to_the_previous_document(
        qtbot, window, tmp_path, monkeypatch):
    project = _trained_project_with_an_unsaved_edit(qtbot, window, tmp_path)
    before = snapshot(window)
    other = tmp_path / "other.csv"
    other.write_text("user,item,rating\n" + "".join(f"u{u},m{u % 3},{1 + u % 5}\n" for u in range(12)))
    real_set_ratings = window.factor_space.set_ratings

    def fails_on_the_new_data(ratings):
        if ratings.n_users == 12:
            raise MemoryError
        real_set_ratings(ratings)

    monkeypatch.setattr(window.factor_space, "set_ratings", fails_on_the_new_data)
    with qtbot.capture_exceptions() as exceptions:
        assert not window.open_file(other, confirm=False)
    assert [type(e[1]) for e in exceptions] == [MemoryError]  # reported, once
    after = snapshot(window)
    np.testing.assert_array_equal(after["dense"], before["dense"])
    assert (after["title"], after["path"], after["labels"]) == (before["title"], before["path"], before["labels"])
    assert window.undo_stack.count() == before["undo"][0]  # the history of the data it still shows
    assert window.save()
    assert document_module.read_document(project).ratings.to_dense()[0, 0] == 1.0
    assert "other.csv" in window.message_bar.text


def test_a_large_file_opens_in_the_background_and_cancel_changes_nothing(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(document_module, "BACKGROUND_OPEN_BYTES", 0)
    release = threading.Event()
    real_read = document_files.read_any

    def slow_read(path, *args, **options):
        release.wait(10)
        return real_read(path, *args, **options)

    monkeypatch.setattr(document_files, "read_any", slow_read)
    path = tmp_path / "big.csv"
    path.write_text("user,item,rating\na,x,4\nb,y,2\n")
    before = snapshot(window)
    seen = {}

    def press_cancel():
        dialog = window.documents.progress_dialog
        seen["label"] = dialog.labelText()
        seen["visible"] = dialog.isVisible()
        seen["refused"] = window.open_file(path, confirm=False)  # a second open while one is under way
        qtbot.mouseClick(dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)

    QTimer.singleShot(100, press_cancel)
    assert not window.open_file(path, confirm=False)
    assert seen == {"label": seen["label"], "visible": True, "refused": False} and "big.csv" in seen["label"]
    release.set()  # the abandoned read finishes; its result must be forgotten
    qtbot.wait(300)
    assert_unchanged(window, before)
    assert "cancelled" in window.message_bar.text
    assert window.documents.state == "idle"
    monkeypatch.setattr(document_files, "read_any", real_read)
    assert window.open_file(path, confirm=False)  # and the same file opens when not cancelled
    assert window.table.ratings.n_ratings == 2


def test_a_large_file_is_sorted_and_counted_for_the_grid_in_the_background(qtbot, window, tmp_path, monkeypatch):
    """The grid's cell index and per-row counts and means are made in the reading thread, so that the GUI thread
    only swaps the document in; what the grid shows is the file's."""
    from cfexplorer.core import cell_index as cell_index_module
    from cfexplorer.ui import table_model as table_model_module

    monkeypatch.setattr(document_module, "BACKGROUND_OPEN_BYTES", 0)
    built_in = []
    real_of, real_counts = cell_index_module.CellIndex.of, table_model_module.Ratings.user_counts
    monkeypatch.setattr(cell_index_module.CellIndex, "of",
                        classmethod(lambda cls, ratings: built_in.append(threading.current_thread()) or
                                    real_of.__func__(cls, ratings)))
    monkeypatch.setattr(table_model_module.Ratings, "user_counts",
                        lambda ratings: built_in.append(threading.current_thread()) or real_counts(ratings))
    path = tmp_path / "big.csv"
    path.write_text("user,item,rating\na,x,4\nb,y,2\na,y,5\n")
    assert window.open_file(path, confirm=False)
    assert len(built_in) == 2 and threading.main_thread() not in built_in
    table = window.table
    u, x, y = list(table.ratings.user_labels).index("a"), list(table.ratings.item_labels).index("x"), \
        list(table.ratings.item_labels).index("y")
    assert table.value(*table.position(u, x)) == 4 and table.value(*table.position(u, y)) == 5
    assert table.count(USERS, u) == 2 and table.mean(ITEMS, y) == 3.5  # what the headers show


def test_the_suggested_file_name_is_valid_everywhere(window):
    assert window.document_title == "Course: 5 movies × 4 users"
    name = window.documents.suggested_save_path().name
    assert name == "Course - 5 movies × 4 users.cfx"
    assert safe_file_stem('a/b\\c:d*e?f"g<h>i|j') == "a - b - c - d - e - f - g - h - i - j"
    assert safe_file_stem(":::") == "Untitled"


def test_opening_another_document_forgets_the_previous_ones_runs_errors_and_lesson(qtbot, window, tmp_path):
    window.start_lesson(0)
    window.lesson_panel.next()  # trains
    assert window.wait_for_training()
    plot = window.training_panel.loss_plot
    assert plot.runs and window.lesson_dock.isVisible()
    window.factor_dock.raise_()
    qtbot.waitUntil(lambda: window.factor_space.embedding is not None)
    window.factor_space.select({"movie": [1]})
    assert window.factor_space.plot.label_texts()
    window.message_bar.show_message("an old error")
    path = tmp_path / "next.csv"
    path.write_text("user,item,rating\na,x,4\nb,x,2\n")
    assert window.open_file(path, confirm=False)
    assert plot.runs == [] and plot.cost_legend.items == [] and plot.validation_legend.items == []
    assert not window.lesson_dock.isVisible() and window.lesson_panel.lesson is None
    assert window.message_bar.text == ""
    assert window.training_panel.model is None and window.table.predictor is None
    view = window.factor_space
    assert view.embedding is None and view.frames == [] and all(len(v) == 0 for v in view.selection.values())
    assert view.plot.label_texts() == [] and not view.replay.isEnabled()
    progress = window.training_panel.progress
    assert progress.value() == 0 and progress.maximum() == window.training_panel.epochs.value()
    # no axis keeps the last document's scale over the empty plots (its cost, a factor space's PCA); the epochs
    # are the run Train would start, as the progress bar's "epoch 0 / N"
    (first_epoch, last_epoch), costs = plot.cost_plot.viewRange()
    assert first_epoch <= 0 and progress.maximum() <= last_epoch <= 1.05 * progress.maximum()
    for ranges in ([costs], view.plot.view_box.viewRange()):
        assert all(high - low <= 2 for low, high in ranges), ranges
    # nor once the pane is resized (the view fitted itself to the forgotten points again)
    width = view.plot.view_box.width()
    window.resize(window.width() + 200, window.height())
    qtbot.waitUntil(lambda: view.plot.view_box.width() != width)
    assert all(high - low <= 2 for low, high in view.plot.view_box.viewRange()), view.plot.view_box.viewRange()


def test_memory_kept_for_a_document_is_handed_back_once_another_has_replaced_it(qtbot, window, tmp_path,
                                                                                  monkeypatch):
    returned_while_showing = []  # the title shown when freed memory was handed back
    monkeypatch.setattr(document_module.memory, "return_freed_memory",
                        lambda: returned_while_showing.append(window.document_title) or True)
    path = tmp_path / "class.csv"
    path.write_text("user,item,rating\na,x,4\nb,x,2\n")
    assert window.open_file(path, confirm=False)
    qtbot.waitUntil(lambda: returned_while_showing == ["class.csv"])
    monkeypatch.setattr(document_files, "read_any", lambda path, **_: (_ for _ in ()).throw(MemoryError))
    assert not window.open_file(tmp_path / "class.csv", confirm=False)  # nothing switched: nothing freed
    window.open_preset("course-eve")
    qtbot.waitUntil(lambda: len(returned_while_showing) == 2)
    assert returned_while_showing[1] == window.document_title != "class.csv"


def test_a_document_opened_in_the_background_is_freed_once_another_replaces_it(qtbot, window, tmp_path,
                                                                               monkeypatch):
    """The background open's result must not outlive the switch (a 25M-rating document held for good)."""
    import gc
    import weakref

    monkeypatch.setattr(document_module, "BACKGROUND_OPEN_BYTES", 0)
    path = tmp_path / "big.csv"
    path.write_text("user,item,rating\na,x,4\nb,y,2\n")
    assert window.open_file(path, confirm=False)
    opened = weakref.ref(window.table.ratings)
    window.training_panel.epochs.setValue(5)
    window.factor_dock.raise_()  # the factor space shows the model's points, the grid its predictions
    assert window.train_and_wait()
    qtbot.waitUntil(lambda: window.factor_space.embedding is not None)
    window.open_preset("course-eve")
    qtbot.wait(50)
    gc.collect()
    assert opened() is None


def test_a_reopened_project_with_a_model_says_it_is_trained(qtbot, window, tmp_path):
    window.training_panel.epochs.setValue(15)
    assert window.train_and_wait()
    path = tmp_path / "trained.cfx"
    assert window.save_to(path)
    window.open_preset("planted")
    assert window.open_file(path, confirm=False)
    panel = window.training_panel
    assert "trained" in panel.status_label.text() and "15 epochs" in panel.status_label.text()
    assert panel.progress.value() == panel.progress.maximum() == 15
    assert "J =" in panel.cost_label.text()
    assert window.table.predictor is not None
    assert len(panel.loss_plot.runs) == 1
    window.act_reset.trigger()  # Reset forgets a restored model as it does a trained one
    assert panel.loss_plot.runs == [] and window.table.predictor is None and "Not trained" in panel.status_label.text()


def test_a_project_with_settings_of_the_wrong_types_opens_with_defaults_and_says_so(window, tmp_path):
    from cfexplorer.io.project import Project, save_project

    path = tmp_path / "odd.cfx"
    save_project(path, Project(window.table.ratings, {"training": {"n_factors": "many"},
                                                      "view": {"layout": 12}, "rows_are_items": True}))
    assert window.open_file(path, confirm=False)
    assert window.training_panel.factors.value() > 0
    assert "training settings could not be used" in window.message_bar.text
    assert "layout could not be restored" in window.message_bar.text
    QApplication.processEvents()


def _project_with_a_nan_model(window, path):
    from cfexplorer.io.project import Project, save_project

    window.training_panel.epochs.setValue(5)
    assert window.train_and_wait()
    state = window.current_model_state()
    state = {k: (np.full_like(v, np.nan) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
             for k, v in state.items()}
    save_project(path, Project(window.table.ratings, window.current_settings(), state))


def test_a_project_holding_a_nan_model_is_refused_in_one_line(qtbot, window, tmp_path):
    path = tmp_path / "nan-model.cfx"
    _project_with_a_nan_model(window, path)
    window.open_preset("planted")
    before = snapshot(window)
    assert not window.open_file(path, confirm=False)
    assert "nan-model.cfx" in window.message_bar.text and "not a valid project" in window.message_bar.text
    assert "\n" not in window.message_bar.text
    assert_unchanged(window, before)


def test_a_screenshot_of_a_project_holding_a_nan_model_fails_in_one_line(qtbot, window, tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "nan-model.cfx"
    _project_with_a_nan_model(window, path)
    done = subprocess.run([sys.executable, "-m", "cfexplorer", "screenshot", str(tmp_path / "out.png"),
                           "--data", str(path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if "propagateSizeHints" not in line]
    assert len(lines) == 1 and "nan-model.cfx" in lines[0]


def test_a_slow_save_runs_in_the_background_and_cancel_keeps_the_old_file(qtbot, window, tmp_path, monkeypatch):
    from cfexplorer.io import writers

    monkeypatch.setattr(document_module, "BACKGROUND_SAVE_RATINGS", 0)
    path = tmp_path / "kept.csv"
    path.write_text("the old file")
    release = threading.Event()
    real_write_long = writers.write_long

    def slow_write_long(*args, **kwargs):
        release.wait(10)
        return real_write_long(*args, **kwargs)

    monkeypatch.setattr(writers, "write_long", slow_write_long)
    window.table.request_edit(SetCells((0,), (1,), (3.0,)))
    seen = {}

    def press_cancel():
        dialog = window.documents.progress_dialog
        seen["text"] = dialog.labelText()
        window.table.request_edit(SetCells((0,), (1,), (1.0,)))  # the dialog is modal; a script could still try
        qtbot.mouseClick(dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)

    QTimer.singleShot(100, press_cancel)
    assert not window.save_to(path, "long")
    assert "kept.csv" in seen["text"] and "cancelled" in window.message_bar.text
    release.set()
    qtbot.waitUntil(lambda: not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()), timeout=5000)
    assert path.read_text() == "the old file"  # the abandoned write did not replace it
    assert window.has_unsaved_changes and window.documents.state == "idle"
    monkeypatch.setattr(writers, "write_long", real_write_long)
    assert window.save_to(path, "long")  # not cancelled: written, and the document is saved
    assert "user,item,rating" in path.read_text() and not window.has_unsaved_changes
    assert "cancelled" not in window.message_bar.text  # said of the last save, not of this one


def test_a_large_matrix_is_saved_in_the_background(qtbot, window, tmp_path, monkeypatch):
    """A CSV matrix of many cells (a second at 25 million) is written behind the progress dialog, however few
    its ratings; a long table of the same few ratings is written at once."""
    from cfexplorer.io import writers

    monkeypatch.setattr(document_module, "BACKGROUND_TEXT_MATRIX_CELLS", window.table.ratings.n_users
                        * window.table.ratings.n_items)
    shown = []
    real_write_wide = writers.write_wide

    def noting_write_wide(*args, **kwargs):
        shown.append(window.documents.progress_dialog is not None)  # the dialog stands while it writes
        return real_write_wide(*args, **kwargs)

    monkeypatch.setattr(writers, "write_wide", noting_write_wide)
    assert window.save_to(tmp_path / "matrix.csv", "wide")
    assert shown == [True]
    assert window.save_to(tmp_path / "long.csv", "long") and window.documents.progress_dialog is None
    assert (tmp_path / "matrix.csv").read_text().startswith("Movie,")


def test_saving_latest_small_sized_data_as_an_excel_matrix_is_refused_with_a_way_out(window, tmp_path):
    from cfexplorer.core.ratings import Ratings

    big = Ratings([0, 1], [0, 1], [4.0, 3.0], [f"u{i}" for i in range(611)], [f"m{i}" for i in range(9_725)])
    assert window.set_document(big, "big")
    path = tmp_path / "big.xlsx"
    assert not window.save_to(path, "wide")
    refusal = window.message_bar.text
    assert "long table" in refusal and not path.exists()
    assert "or a project. The previous file, if any, is unchanged." in refusal  # two sentences, not run together
    assert window.save_to(path, "long")
    assert document_module.read_document(path).ratings.n_ratings == 2
    assert refusal not in window.message_bar.text  # the refusal does not stand beside the save that went through
    assert "609 users without ratings and 9,723 movies without ratings are not in it" in window.message_bar.text


def test_a_document_opens_at_its_first_cell_not_where_the_last_one_was_scrolled(qtbot, window, tmp_path):
    """The scroll bars kept the previous document's place: the new grid's far corner shown, its current cell
    (the first) off-screen."""
    rng = np.random.default_rng(0)
    for name in ("first.csv", "second.csv"):
        rows = [f"u{u},m{m},{rng.integers(1, 6)}" for u in range(300) for m in range(80) if rng.random() < 0.3]
        (tmp_path / name).write_text("user,item,rating\n" + "\n".join(rows) + "\n")
    window.resize(1000, 700)
    assert window.open_file(tmp_path / "first.csv", confirm=False)
    grid = window.grid
    grid.setFocus()
    grid.setCurrentIndex(window.proxy.index(0, 0))
    qtbot.keyClick(grid, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: grid.verticalScrollBar().value() > 0 and grid.horizontalScrollBar().value() > 0)
    assert window.open_file(tmp_path / "second.csv", confirm=False)
    assert grid.verticalScrollBar().value() == 0 and grid.horizontalScrollBar().value() == 0


@pytest.mark.parametrize("name", ["long.csv", "long.xlsx"])
def test_a_long_save_shows_how_far_it_is(qtbot, window, tmp_path, monkeypatch, name):
    """The save's dialog showed a moving bar and no percentage (a workbook's until it was written a row at a time)."""
    import time

    from PySide6.QtWidgets import QProgressBar

    from cfexplorer.io import writers

    monkeypatch.setattr(document_module, "BACKGROUND_SAVE_RATINGS", 0)
    monkeypatch.setattr(document_module, "BACKGROUND_XLSX_CELLS", 0)
    monkeypatch.setattr(writers, "LONG_ROWS_PER_PIECE", 1)
    monkeypatch.setattr(writers, "XLSX_ROWS_PER_LOOK", 1)
    real_texts, real_cell = writers._rating_texts, writers._xlsx_cell

    def slow_texts(values):
        time.sleep(0.05)  # a piece of a large file
        return real_texts(values)

    def slow_cell(sheet, value):
        time.sleep(0.025)  # a row of a large workbook (two labels a row)
        return real_cell(sheet, value)

    monkeypatch.setattr(writers, "_rating_texts", slow_texts)
    monkeypatch.setattr(writers, "_xlsx_cell", slow_cell)
    seen = []

    def look():
        dialog = window.documents.progress_dialog
        if dialog is not None:
            bar = dialog.findChild(QProgressBar)
            seen.append((bar.maximum(), bar.value(), bar.text()))

    sampler = QTimer()
    sampler.timeout.connect(look)
    sampler.start(30)
    assert window.table.ratings.n_ratings >= 10
    assert window.save_to(tmp_path / name, "long")
    sampler.stop()
    shown = [(value, text) for maximum, value, text in seen if maximum == 1000]
    assert shown and all(0 <= value < 1000 for value, _ in shown)
    assert any(value > 0 and text.endswith("%") for value, text in shown), seen
    assert read_any(tmp_path / name).ratings.n_ratings == window.table.ratings.n_ratings


@pytest.mark.parametrize("kind, params", [("mf", {"n_epochs": 5, "global_mean": True, "mean_normalization": False,
                                                  "item_bias": True, "n_factors": 3}),
                                          ("neural", {"n_epochs": 4, "n_factors": 4})])
def test_a_project_a_script_saved_shows_its_models_settings(qtbot, window, tmp_path, kind, params):
    """api.save_project keeps the model but no panel settings: the panel showed its defaults (200 epochs, mean
    normalization on) beside a model trained 5 epochs with a global mean and movie biases."""
    from cfexplorer import api
    from cfexplorer.core.models import make_model
    from cfexplorer.core.synthetic import planted_tastes

    ratings = planted_tastes(n_users=12, n_items=8, density=0.7, seed=2)
    model = make_model(kind, **params).fit(ratings)
    path = api.save_project(tmp_path / "scripted.cfx", ratings, model)
    assert window.open_file(path, confirm=False)
    panel = window.training_panel
    assert panel.kind == kind and window.message_bar.text == ""
    shown = panel.model_params()
    assert {name: shown[name] for name in params} == params


def test_a_large_numeric_file_opens_with_its_percentage(qtbot, window, tmp_path, monkeypatch):
    """The dialog's bar only moved while a large table was read (25M ratings: a few seconds with no idea how
    far): it now shows the share of the lines counted and parsed, then the grid's index, up to the end."""
    from cfexplorer.io import numeric_columns

    # a small file read as a large one is: in the background, streamed, in several blocks
    monkeypatch.setattr(document_module, "BACKGROUND_OPEN_BYTES", 0)
    monkeypatch.setattr(numeric_columns, "STREAM_FROM_BYTES", 2**16)
    monkeypatch.setattr(numeric_columns, "_BLOCK_BYTES", 2**16)
    rng = np.random.default_rng(0)
    n = 60_000
    users, items = rng.integers(1, 2_000, n), rng.integers(1, 3_000, n)
    path = tmp_path / "ratings.csv"
    with open(path, "w") as handle:
        handle.write("userId,movieId,rating,timestamp\n")
        handle.writelines(f"{u},{i},{(k % 5) + 1},1000\n" for k, (u, i) in enumerate(zip(users, items)))
    assert path.stat().st_size >= numeric_columns.STREAM_FROM_BYTES  # the streamed path, as for MovieLens 25M
    told, shown = [], []
    real_call = document_module.ShareDone.__call__

    def telling(self, share):  # in the reading thread: a pause to each, so that the dialog is seen meanwhile
        told.append(share)
        real_call(self, share)
        time.sleep(0.03)

    monkeypatch.setattr(document_module.ShareDone, "__call__", telling)
    poll = QTimer(interval=20)  # what the dialog's bar shows, as a person would see it
    poll.timeout.connect(lambda: shown.append(window.documents.progress_dialog.findChild(QProgressBar).maximum())
                         if window.documents.progress_dialog is not None else None)
    poll.start()
    assert window.open_file(path, confirm=False)
    poll.stop()
    assert len(told) >= 5 and told == sorted(told) and told[0] < 0.2 and told[-1] == 1.0
    assert 1000 in shown  # the bar showed a percentage (it only moved: a range of 0 to 0)


def test_a_reader_that_gives_up_part_way_puts_the_bar_back_to_moving(qtbot, window, tmp_path, monkeypatch):
    """The numeric reader told 37% and gave up on a late id written "7.0" (pandas then reads the file whole,
    telling nothing): the bar stood at 37% for the whole slower read, then jumped to 95%."""
    from PySide6.QtWidgets import QProgressDialog

    from cfexplorer.io import numeric_columns
    from cfexplorer.io.readers import read_ratings

    monkeypatch.setattr(numeric_columns, "STREAM_FROM_BYTES", 2**14)
    monkeypatch.setattr(numeric_columns, "_BLOCK_BYTES", 2**14)
    path = tmp_path / "late.csv"
    lines = [f"{1 + k // 170},{1 + k % 170},{1 + k % 5}" for k in range(20_000)]
    lines[-10] = "7.0,171,4"  # a float-written id near the end (a cell of its own): the numeric readers refuse it there
    path.write_text("user,item,rating\n" + "\n".join(lines) + "\n")
    told = []
    result = read_ratings(path, progress=told.append)
    assert result.ratings.n_ratings == 20_000
    numbers = [share for share in told if share is not None]
    assert numbers and numbers == sorted(numbers)  # never back, though a second parser started again
    assert told[-1] is None  # and then not known: the slower reader tells nothing
    share = document_module.ShareDone()
    dialog = QProgressDialog("Reading", "Cancel", 0, 0, window)
    bar = dialog.findChild(QProgressBar)
    share(0.37)
    share.show_in(dialog)
    assert bar.maximum() == 1000 and bar.value() == 370
    share(None)
    share.show_in(dialog)
    assert bar.maximum() == 0  # moving again
    dialog.deleteLater()
