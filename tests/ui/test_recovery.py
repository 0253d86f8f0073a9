"""Unsaved edits survive a crash: a recovery file is written while they are unsaved and offered at the next start."""

import math

from cfexplorer.app import MainWindow

from .test_grid import type_into


def _edit_a_question_mark(qtbot, window):
    window.open_preset("course")
    table = window.table
    dense = table.ratings.to_dense()
    user, item = next((u, i) for u in range(dense.shape[0]) for i in range(dense.shape[1]) if math.isnan(dense[u, i]))
    row, column = (item, user) if table.rows_are_items else (user, item)
    type_into(qtbot, window, window.proxy.index(row, column), "4")
    assert table.ratings.to_dense()[user, item] == 4
    return user, item


def test_unsaved_edits_are_offered_back_after_a_crash(qtbot, window, settings):
    user, item = _edit_a_question_mark(qtbot, window)
    assert not window.recovery_path.exists()
    window._recovery_timer.timeout.emit()  # the periodic copy
    assert window.recovery_path.exists()
    # The first window "crashes" (is never closed); the next start finds the file.
    restarted = MainWindow(settings=settings)
    qtbot.addWidget(restarted)
    assert restarted.offer_recovery(restore=True)
    assert restarted.table.ratings.to_dense()[user, item] == 4
    assert restarted.has_unsaved_changes and "Recovered" in restarted.windowTitle()
    assert restarted.recovery_path.exists()  # kept until the recovered data is saved
    restarted.undo_stack.setClean()
    restarted.close()


def test_saving_or_undoing_to_the_saved_state_removes_the_recovery_file(qtbot, window, tmp_path):
    _edit_a_question_mark(qtbot, window)
    assert window.write_recovery()
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
    restarted = MainWindow(settings=settings)
    qtbot.addWidget(restarted)
    before = restarted.table.ratings.n_ratings
    assert not restarted.offer_recovery(restore=False)
    assert not restarted.recovery_path.exists()
    assert restarted.table.ratings.n_ratings == before and not restarted.has_unsaved_changes
    restarted.close()


def test_a_deliberate_close_leaves_no_recovery_file(qtbot, window):
    _edit_a_question_mark(qtbot, window)
    window.write_recovery()
    window.close()  # the fixture's answer to "save changes?" is Discard
    assert not window.recovery_path.exists()
