"""The main window as a user drives it, step after random step: hypothesis plays the state machine of
tests/ui/window_machine.py (keys, clicks, menus; every invariant checked after every step) from fixed seeds,
so that CI runs the same few thousand steps every time.

The bugs the machine found on issue #16 are fixed; the shortest sequence it found each with is a named
regression test below. A bug found later and not fixed at once can be tolerated for a while (counted, not
failed on) through machine_support.KNOWN_BUGS, with a strict expected-failure test of its own.
"""

import math
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from .machine_support import KNOWN_BUGS, ErrorRecorder, dialog_patches, play, training_threads
from .window_machine import expected_transport, machine_with

# 2,100 random steps in all, as 50 cases of 42 rather than 25 of 84: each case stays within a few seconds on a
# loaded two-core machine (the longest seeds of 84 steps took 10-17 s there), for the same steps.
SEEDS = range(50)
STEPS = 42  # per seed, in one random sequence (after hypothesis's simplest one, a no-op repeated)

# TrainingController.shutdown disconnects every worker signal, connected or not (cfexplorer/ui/training.py);
# PySide6 warns for each unconnected one, several times per machine run. Not this test's finding to repeat.
pytestmark = pytest.mark.filterwarnings("ignore:Failed to disconnect:RuntimeWarning")


@pytest.fixture
def dialogs_answered(monkeypatch):
    for owner, name, replacement in dialog_patches():
        monkeypatch.setattr(owner, name, replacement)


@pytest.mark.parametrize("seed", SEEDS)
def test_what_a_user_does_keeps_the_window_sound(seed, qapp, dialogs_answered):
    machine = machine_with(KNOWN_BUGS)
    try:
        play(machine, seed, STEPS)
    except Exception as error:
        raise AssertionError(f"seed {seed}: {machine.stats.describe_first_failure() or error}") from error
    assert machine.stats.examples == 2  # each example's steps: machine.stats.steps


def test_the_machine_reports_what_reaches_the_error_handler_with_its_steps(qapp, dialogs_answered, monkeypatch):
    from cfexplorer.app import MainWindow

    def planted(self):
        raise RuntimeError("planted in swap_axes")

    monkeypatch.setattr(MainWindow, "swap_axes", planted)
    machine = machine_with(())()
    try:
        machine.undo_or_redo(redo=False)
        machine.swap_rows_and_columns()  # Ctrl+T: the action's slot raises inside Qt
        with pytest.raises(RuntimeError, match="planted"):
            machine.everything_holds()
    finally:
        machine.teardown()
    assert machine.log == ["undo_or_redo(redo=False)", "swap_rows_and_columns()"]


def test_a_tolerated_known_bug_is_counted_not_raised(qapp, dialogs_answered, monkeypatch):
    from cfexplorer.app import MainWindow
    from .machine_support import KnownBug

    def planted(self):
        raise RuntimeError("planted in swap_axes")

    monkeypatch.setattr(MainWindow, "swap_axes", planted)
    machine_class = machine_with([KnownBug("planted", "app.py", "RuntimeError", "planted")])
    machine = machine_class()
    try:
        machine.swap_rows_and_columns()
        machine.swap_rows_and_columns()
        machine.everything_holds()
    finally:
        machine.teardown()
    assert machine_class.stats.tolerated == {"planted": 2}


# --- known bugs, each the shortest sequence the machine found it with -----------------------------------
def _unrated_cells_shown(window) -> list[str]:
    table = window.table
    return [table.appearance(row, column)[0] for row in range(table.rowCount())
            for column in range(table.columnCount()) if math.isnan(table.value(row, column))]


def _buttons(panel):
    return {**panel.transport_enabled(), "pause text": panel.pause_button.text()}


def test_sort_by_number_of_ratings_then_add_a_movie(window):
    errors = ErrorRecorder().install()
    try:
        next(a for a in window.sort_actions.actions() if a.text() == "Number of Ratings").trigger()
        window.add_movie("A new movie")
        QTest.qWait(10)
    finally:
        errors.uninstall()
    errors.raise_first()  # was an IndexError in RatingFilterProxy.lessThan: a row key built for 5 rows, asked for 6


def test_reset_while_progress_is_queued_leaves_no_prediction(qtbot, window):
    window.training_panel.epochs.setValue(3000)
    QTest.keyClick(window, Qt.Key.Key_F5)
    time.sleep(0.06)  # the window is busy (painting, say) while the worker reports progress
    window.act_reset.trigger()
    qtbot.wait(600)  # the queued progress arrives after Reset, and the grid refreshes 200 ms later
    assert set(_unrated_cells_shown(window)) == {"?"}, _unrated_cells_shown(window)


def test_the_buttons_follow_the_state_at_once(qtbot, window):
    panel = window.training_panel
    QTest.keyClick(window, Qt.Key.Key_F7)  # Step: one epoch, then paused
    time.sleep(0.1)  # the worker pauses meanwhile, and sets the controller's state from its own thread
    state = panel.controller.state
    assert _buttons(panel) == expected_transport(state), f"state {state!r}, buttons {_buttons(panel)}"


def test_step_then_reset_leaves_the_buttons_idle(qtbot, window):
    panel = window.training_panel
    QTest.keyClick(window, Qt.Key.Key_F7)
    time.sleep(0.1)
    window.act_reset.trigger()
    qtbot.wait(100)  # the worker's queued "paused" arrives after Reset
    state = panel.controller.state
    # after Reset nothing is left to forget: Reset too is off
    assert state == "idle" and _buttons(panel) == expected_transport("idle", something_to_reset=False), \
        f"{state!r}, {_buttons(panel)}"


def test_a_suggested_fix_after_its_movie_was_removed_changes_no_other_cell(qtbot, window):
    """Typing 3.7 offers "Use 3.5" for that cell; the offer outlives the movie's removal and then writes 3.5
    into whichever movie took its place (when the removed movie was the last one: a ValueError instead)."""
    from PySide6.QtWidgets import QApplication

    from cfexplorer.core.edits import ITEMS

    table, grid = window.table, window.grid
    bob = list(table.ratings.user_labels).index("Bob")
    grid.setFocus()
    grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(bob, 1))))
    qtbot.keyClicks(grid, "3")
    editor = QApplication.focusWidget()
    qtbot.keyClicks(editor, ".7")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.message_bar.action_button.isVisible(), timeout=10_000)
    assert window.message_bar.action_button.text() == "Use 3.5"
    grid.select_entries(ITEMS, [1])
    assert window.remove_selected(ITEMS)  # "Romance forever" goes; "Cute puppies of love" moves up
    before = table.ratings.to_dense()
    if window.message_bar.action_button.isVisible():
        qtbot.mouseClick(window.message_bar.action_button, Qt.MouseButton.LeftButton)
    after = table.ratings.to_dense()
    assert ((before == after) | (np.isnan(before) & np.isnan(after))).all(), "another movie's rating changed"


ABORT_SEQUENCE = textwrap.dedent("""
    import os, sys, tempfile, time
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest
    from cfexplorer.app import MainWindow, make_application

    app = make_application()
    window = MainWindow(settings=QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat))
    window.show()
    window.activateWindow()
    QTest.qWaitForWindowExposed(window)
    window.training_panel.epochs.setValue(1)
    QTest.keyClick(window, Qt.Key.Key_F5)   # run A: one epoch
    time.sleep(0.1)                          # busy window: A's 'finished' waits in the queue
    # B long enough not to end before F6 pauses it: of one epoch, beside busy processes it sometimes had
    window.training_panel.epochs.setValue(100_000)
    QTest.keyClick(window, Qt.Key.Key_F5)   # run B replaces A
    QTest.keyClick(window, Qt.Key.Key_F6)   # and is paused (when its worker answers: on a busy machine
    deadline = time.monotonic() + 2         # that takes more than 20 ms)
    while window.training_panel.controller.state != "paused" and time.monotonic() < deadline:
        QTest.qWait(5)
    QTest.qWait(20)                          # A's 'finished' arrives (it used to wait for B's thread)
    state = window.training_panel.controller.state
    QTest.keyClick(window, Qt.Key.Key_F5)   # Train while B's thread still runs
    QTest.qWait(100)
    print(f"state after A's end: {state}", flush=True)
    window.undo_stack.setClean()
    window.close()
""")


def test_train_pause_while_the_old_run_ends_then_train(tmp_path):
    """The hammered transport keys of the issue, reduced: the old run's 'finished' blocks the window 5 s,
    marks the controller idle while the new run's thread lives, and the next Train destroys that QThread
    while it runs (abort, exit 134). Run in a child process, which the abort may end."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CFEXPLORER_NO_DIALOGS": "1"}
    done = subprocess.run([sys.executable, "-c", ABORT_SEQUENCE], capture_output=True, text=True, timeout=60,
                          env=env, cwd=tmp_path)
    assert done.returncode == 0 and "Destroyed while thread" not in done.stderr, done.stderr[-500:]
    # A's end is not B's: B stays paused (it used to wait 5 s for B's thread and then mark the controller idle)
    assert "state after A's end: paused" in done.stdout, done.stdout


def test_no_training_thread_outlives_the_tests_window(window):
    """The thread check the machine relies on: a paused run has one thread, closing ends it."""
    QTest.keyClick(window, Qt.Key.Key_F7)
    deadline = time.monotonic() + 10  # a loaded machine may take a while to start the thread; an idle one does not
    while not training_threads() and time.monotonic() < deadline:
        QTest.qWait(10)
    assert training_threads()
    window.undo_stack.setClean()
    window.close()
    deadline = time.monotonic() + 5
    while training_threads() and time.monotonic() < deadline:
        QTest.qWait(10)
    assert not training_threads()
