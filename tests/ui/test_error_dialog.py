"""An exception that reaches the event loop is logged and shown with its details; the app keeps running."""

import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from cfexplorer.ui.error_dialog import ErrorReporter


@pytest.fixture
def reporter(window, tmp_path):
    reporter = ErrorReporter(window, tmp_path / "logs" / "cfexplorer.log").install()
    yield reporter
    reporter.uninstall()


def _broken_slot():
    raise ZeroDivisionError("a bug in a slot")


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_opens_a_dialog_with_the_traceback_and_logs_it(qtbot, window, reporter):
    QTimer.singleShot(0, _broken_slot)
    qtbot.waitUntil(lambda: len(reporter.dialogs) == 1, timeout=5000)
    dialog = reporter.dialogs[0]
    assert dialog.isVisible()
    assert "ZeroDivisionError: a bug in a slot" in dialog.summary.text()
    details = dialog.details.toPlainText()
    assert "Traceback" in details and "_broken_slot" in details
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == details
    assert "a bug in a slot" in reporter.log_path.read_text(encoding="utf-8")
    # The app keeps running: the window still does its work.
    assert window.open_preset("planted")
    assert window.table.ratings.n_users == 12


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_plain_thread_is_shown_from_the_gui_thread(qtbot, window, reporter):
    def broken():
        raise RuntimeError("a bug in a thread")

    thread = threading.Thread(target=broken)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(reporter.dialogs) == 1, timeout=5000)
    assert "RuntimeError: a bug in a thread" in reporter.dialogs[0].summary.text()
    reporter.dialogs[0].reject()


def test_uninstall_restores_the_previous_hooks(window, tmp_path):
    import sys

    before = (sys.excepthook, threading.excepthook)
    reporter = ErrorReporter(window, tmp_path / "x.log").install()
    assert sys.excepthook is not before[0]
    reporter.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


@pytest.mark.qt_no_exception_capture
def test_a_failure_in_every_painted_cell_opens_one_dialog_not_one_per_cell(qtbot, window, reporter, monkeypatch):
    from cfexplorer.ui import qt_guard

    qt_guard.forget_reports()

    def broken_appearance(row, column):
        raise FloatingPointError("a cell that cannot be shown")

    monkeypatch.setattr(window.table, "appearance", broken_appearance)
    for _ in range(5):  # five full repaints of every cell
        window.grid.viewport().repaint()
        qtbot.wait(20)
    qtbot.waitUntil(lambda: len(reporter.dialogs) >= 1, timeout=5000)
    qtbot.wait(200)
    assert len(reporter.dialogs) == 1
    assert "a cell that cannot be shown" in reporter.dialogs[0].summary.text()
    log = reporter.log_path.read_text(encoding="utf-8")
    assert log.count("a cell that cannot be shown") <= 2  # logged once (its message and traceback line)
    assert window.isVisible()
    qt_guard.forget_reports()
