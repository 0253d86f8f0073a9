"""Unsaved edits survive a crash: each window copies them to its own recovery file within seconds, and the next
start offers the files of instances that died — never those of an instance still running."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from cfexplorer.app import MainWindow
from cfexplorer.core.edits import SetCells

from .test_grid import type_into

RECOVERY_WAIT_MS = 10_000  # the copy is due 2 s after an edit; generous for a loaded machine


def _question_mark(table):
    dense = table.ratings.to_dense()
    return next((u, i) for u in range(dense.shape[0]) for i in range(dense.shape[1]) if math.isnan(dense[u, i]))


def _edit_a_question_mark(qtbot, window):
    window.open_preset("course")
    table = window.table
    user, item = _question_mark(table)
    row, column = (item, user) if table.rows_are_items else (user, item)
    type_into(qtbot, window, window.proxy.index(row, column), "4")
    assert table.ratings.to_dense()[user, item] == 4
    return user, item


def _new_window(qtbot, settings):
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    return window


def _close(window):
    window.undo_stack.setClean()
    window.close()


def test_a_model_trained_after_the_edits_is_recovered_with_them_and_still_stale(qtbot, window, settings, tmp_path):
    """The recovery file kept the ratings and settings but not the trained model (minutes of training, gone), and
    Save after recovering asked for a file as if the project had never had one."""
    project = tmp_path / "work.cfx"
    window.open_preset("course")
    assert window.save_to(project) and window.documents.path == project
    user, item = _question_mark(window.table)
    row, column = (item, user) if window.table.rows_are_items else (user, item)
    type_into(qtbot, window, window.proxy.index(row, column), "4")
    assert window.train_and_wait()  # after the edit: the recovery file is due again with the model
    trained = window.training_panel.model
    qtbot.waitUntil(window.recovery_path.exists, timeout=RECOVERY_WAIT_MS)
    window.documents.recovery.wait()
    from cfexplorer.io.project import load_project

    qtbot.waitUntil(lambda: load_project(window.recovery_path).model is not None, timeout=RECOVERY_WAIT_MS)
    window.table.request_edit(SetCells((0,), (0,), (1.0,)))  # an edit after training: the model is stale now
    qtbot.waitUntil(lambda: load_project(window.recovery_path).settings.get("model_stale") is True,
                    timeout=RECOVERY_WAIT_MS)
    window.documents.recovery.wait()
    window.documents.recovery.release()  # the window's process "dies"
    restarted = _new_window(qtbot, settings)
    assert restarted.offer_recovery(restore=True)
    model = restarted.training_panel.model
    assert model is not None
    qtbot.waitUntil(lambda: restarted.table.has_predictions, timeout=5000)  # its "?" cells filled again
    np.testing.assert_array_equal(model.item_factors_, trained.item_factors_)
    assert restarted.training_panel.stale and restarted.training_panel.stale_box.isVisibleTo(restarted)
    assert restarted.documents.suggested_save_path() == project  # Save offers the project the edits were of
    # a second crash before the recovered edits are saved: still a copy of work.cfx (the second recovery file
    # had lost the project, and was called "Recovered Recovered work.cfx")
    restarted.table.request_edit(SetCells((1,), (1,), (2.0,)))
    assert restarted.write_recovery()
    restarted.documents.recovery.wait()
    restarted.documents.recovery.release()
    again = _new_window(qtbot, settings)
    assert again.offer_recovery(restore=True)
    assert again.documents.suggested_save_path() == project and again.documents.title == "Recovered work.cfx"
    again.undo_stack.setClean()
    elsewhere = tmp_path / "elsewhere.cfx"
    assert restarted.save_to(elsewhere)  # saved as another project: that one is the document now
    assert restarted.documents.suggested_save_path() != project
    from cfexplorer.io.project import load_project as read_back

    assert not {"recovered_from", "recovered_path"} & set(read_back(elsewhere).settings)
    restarted.undo_stack.setClean()


def test_an_edit_is_copied_within_seconds_and_offered_after_a_crash(qtbot, window, settings):
    user, item = _edit_a_question_mark(qtbot, window)
    qtbot.waitUntil(window.recovery_path.exists, timeout=RECOVERY_WAIT_MS)  # no 30 s wait for the first edit
    window.documents.recovery.wait()
    window.documents.recovery.release()  # the window's process "dies": its lock goes with it
    restarted = _new_window(qtbot, settings)
    assert restarted.recovery_path != window.recovery_path  # one recovery file per instance
    assert restarted.offer_recovery(restore=True)
    assert restarted.table.ratings.to_dense()[user, item] == 4
    assert restarted.has_unsaved_changes and "Recovered" in restarted.windowTitle()
    assert restarted.recovery_path.exists()  # its own copy, kept until the recovered data is saved
    assert not window.recovery_path.exists()  # the dead instance's copy was taken over
    restarted.undo_stack.setClean()  # saved (or discarded): then another document opens clean
    restarted.open_preset("course-eve")
    assert not restarted.has_unsaved_changes and not restarted.isWindowModified()
    _close(restarted)


def test_after_a_recovery_the_next_document_opens_with_nothing_unsaved(qtbot, window, settings):
    """The recovered document is marked never saved; opening another (Discard) made every later document
    count as unsaved too, and asked to save at each switch."""
    _edit_a_question_mark(qtbot, window)
    qtbot.waitUntil(window.recovery_path.exists, timeout=RECOVERY_WAIT_MS)
    window.documents.recovery.wait()
    window.documents.recovery.release()
    restarted = _new_window(qtbot, settings)
    assert restarted.offer_recovery(restore=True) and restarted.has_unsaved_changes
    restarted.undo_stack.clear()  # what answering Discard leaves: no history, still "never saved"
    assert restarted.has_unsaved_changes
    restarted.open_preset("course-eve")
    assert not restarted.has_unsaved_changes
    assert not restarted.isWindowModified()
    _close(restarted)


def test_a_second_instance_never_takes_a_running_instances_recovery_file(qtbot, window, settings):
    _edit_a_question_mark(qtbot, window)
    assert window.write_recovery()
    window.documents.recovery.wait()
    second = _new_window(qtbot, settings)
    assert not second.offer_recovery(restore=True)
    assert not second.offer_recovery(restore=False)  # declining deletes only what it was offered
    assert window.recovery_path.exists()
    _close(second)
    assert window.recovery_path.exists()  # closing the second instance leaves the first one's copy alone


def test_saving_or_undoing_to_the_saved_state_removes_the_recovery_file(qtbot, window, tmp_path):
    _edit_a_question_mark(qtbot, window)
    assert window.write_recovery()
    window.documents.recovery.wait()
    window.undo_stack.undo()  # back to the state on disk: nothing to recover
    assert not window.recovery_path.exists()
    _edit_a_question_mark(qtbot, window)
    assert window.write_recovery()
    assert window.save_to(tmp_path / "saved.cfx")
    assert not window.recovery_path.exists()
    assert not window.write_recovery()  # nothing unsaved: nothing written


def test_declining_the_recovery_deletes_it_and_keeps_the_current_data(qtbot, window, settings):
    _edit_a_question_mark(qtbot, window)
    window.write_recovery()
    window.documents.recovery.wait()
    window.documents.recovery.release()
    restarted = _new_window(qtbot, settings)
    before = restarted.table.ratings.n_ratings
    assert not restarted.offer_recovery(restore=False)
    assert not window.recovery_path.exists()
    assert restarted.table.ratings.n_ratings == before and not restarted.has_unsaved_changes
    _close(restarted)


def test_escape_on_the_recovery_question_keeps_the_edits_for_the_next_start(qtbot, window, settings, monkeypatch):
    """The question had Open and Discard only: Escape did nothing, and there was no way to decide later."""
    from PySide6.QtWidgets import QMessageBox

    user, item = _edit_a_question_mark(qtbot, window)
    window.write_recovery()
    window.documents.recovery.wait()
    window.documents.recovery.release()
    asked = []

    def answer_escape(parent, title, text, buttons):
        asked.append(buttons)
        return QMessageBox.StandardButton.Cancel  # what Escape gives where Cancel is offered

    monkeypatch.setattr(QMessageBox, "question", answer_escape)
    restarted = _new_window(qtbot, settings)
    assert not restarted.offer_recovery() and asked
    assert asked[0] & QMessageBox.StandardButton.Cancel
    assert window.recovery_path.exists() and not restarted.has_unsaved_changes  # kept, nothing opened
    _close(restarted)
    again = _new_window(qtbot, settings)
    assert again.offer_recovery(restore=True)  # offered again at the next start
    assert again.table.ratings.to_dense()[user, item] == 4
    again.undo_stack.setClean()


def test_a_deliberate_close_leaves_no_recovery_file(qtbot, window):
    _edit_a_question_mark(qtbot, window)
    window.write_recovery()
    window.close()  # the fixture's answer to "save changes?" is Discard
    assert not window.recovery_path.exists()


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04 damaged"])
def test_an_unreadable_recovery_file_is_set_aside_with_a_message(qtbot, window, settings, content):
    folder = Path(settings.fileName()).parent
    orphan = folder / "recovery-999999999-1.cfx"  # no lock: its instance is gone
    orphan.write_bytes(content)
    assert not window.offer_recovery(restore=True)
    assert not orphan.exists() and orphan.with_suffix(".unreadable").read_bytes() == content
    assert "could not be read" in window.message_bar.text and "\n" not in window.message_bar.text
    assert window.table.ratings.n_users == 4  # still the example it started on


CRASHING_APP = textwrap.dedent("""
    import math, os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["CFEXPLORER_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QSettings
    from cfexplorer.app import MainWindow, make_application
    from cfexplorer.core.edits import SetCells
    from cfexplorer.ui import document
    document.RECOVERY_DELAY_MS = 300  # the kill comes when the copy is due, whenever that is: no 2 s idle here
    app = make_application()
    window = MainWindow(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat))
    window.show()
    dense = window.table.ratings.to_dense()
    user, item = next((u, i) for u in range(dense.shape[0]) for i in range(dense.shape[1])
                      if math.isnan(dense[u, i]))
    window.table.request_edit(SetCells((user,), (item,), (4.0,)))
    print(user, item, flush=True)
    app.exec()
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_an_edit_is_offered_at_the_next_start_after_a_kill_once_its_copy_is_due(qtbot, tmp_path, settings):
    settings_file = settings.fileName()
    process = subprocess.Popen([sys.executable, "-c", CRASHING_APP, settings_file], stdout=subprocess.PIPE,
                               text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    # The child's own copy, written atomically (a temporary file renamed): once it exists it is whole.
    copy = Path(settings_file).parent / f"recovery-{process.pid}-1.cfx"
    try:
        user, item = (int(v) for v in process.stdout.readline().split())
        # The user edited, and the machine lost power as soon as the copy was due (0.3 s after the edit in
        # this child, 2 s in the app), not a fixed time later: waiting on the file itself holds on a loaded
        # machine and costs no idle seconds.
        deadline = time.monotonic() + RECOVERY_WAIT_MS / 1000
        while not copy.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    restarted = _new_window(qtbot, settings)
    assert restarted.offer_recovery(restore=True)
    assert restarted.table.ratings.to_dense()[user, item] == 4
    _close(restarted)


def test_a_window_destroyed_without_closing_keeps_its_recovery_file(qtbot, settings):
    """An unexpected end (an exception unwinding the app) destroys the window without closeEvent: the
    undo history's last signals must not be taken for a save."""
    import gc

    import shiboken6

    from cfexplorer.core.edits import SetCells

    window = MainWindow(settings=settings)  # not handed to qtbot, which would close it at the end
    window.table.request_edit(SetCells(*(((v,) for v in _question_mark(window.table))), (4.0,)))
    assert window.write_recovery()
    window.documents.recovery.wait()
    path = window.recovery_path
    shiboken6.delete(window)
    gc.collect()
    assert path.exists()


def test_locks_left_by_instances_that_died_with_nothing_unsaved_are_swept(tmp_path):
    """Instances killed with nothing unsaved left their recovery-*.lock files behind, a dozen after a week."""
    from cfexplorer.ui.recovery import RecoveryStore

    dead = tmp_path / "recovery-99999-0.lock"
    script = ("import os, sys\nfrom PySide6.QtCore import QLockFile\nlock = QLockFile(sys.argv[1])\n"
              "assert lock.tryLock(0)\nos._exit(0)  # dies holding it, as a killed instance does\n")
    subprocess.run([sys.executable, "-c", script, str(dead)], check=True, timeout=60)
    assert dead.exists()
    running = RecoveryStore(tmp_path)  # another instance, still running, with its own lock
    starting = RecoveryStore(tmp_path)
    assert starting.orphans() == []
    assert not dead.exists()
    assert Path(running._lock.fileName()).exists() and Path(starting._lock.fileName()).exists()
    running.release()
    starting.release()
