"""The window is destroyed while Python is whole, however the process ends: a window left to the interpreter's
exit is torn down with half its modules gone, and PySide6 crashed there (segmentation fault) or aborted on a
training thread still running. Each case runs in a child process, which such an exit ends."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT_ROOT = str(Path(__file__).resolve().parents[1])  # the child imports the tests' thread check

PAUSED_RUN = """
    import os, tempfile, time
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest
    from cfexplorer.app import MainWindow, make_application

    def window_with_a_paused_run():
        settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        window.show()
        QTest.qWaitForWindowExposed(window)
        QTest.keyClick(window, Qt.Key.Key_F7)  # one step: the run stays, paused, its thread alive
        deadline = time.monotonic() + 30
        while window.training_panel.controller.state != "paused" and time.monotonic() < deadline:
            QTest.qWait(10)
        print("state:", window.training_panel.controller.state, flush=True)
        return window
"""


def _run_child(tmp_path, body: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CFEXPLORER_NO_DIALOGS": "1",
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PYTHONPATH": os.pathsep.join(filter(None, [PROJECT_ROOT, os.environ.get("PYTHONPATH")]))}
    script = textwrap.dedent(PAUSED_RUN) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                          cwd=tmp_path)


def test_the_app_destroys_its_window_when_its_event_loop_ends(tmp_path):
    """run_gui's window outlived run_gui (its signal connections hold it in reference cycles), to be destroyed
    at the interpreter's exit."""
    done = _run_child(tmp_path, """
        import weakref
        import shiboken6
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from cfexplorer.app import run_gui
        from tests.ui.machine_support import training_threads

        make_application()
        windows = []

        def close_the_users_window():
            window = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)][0]
            window.training_panel.epochs.setValue(3)
            QTest.keyClick(window, Qt.Key.Key_F7)
            windows.append(weakref.ref(window))
            QTest.qWait(50)
            window.undo_stack.setClean()
            window.close()

        QTimer.singleShot(0, close_the_users_window)
        status = run_gui()
        window = windows[0]()
        print("window destroyed:", window is None or not shiboken6.isValid(window), flush=True)
        print("threads running:", len(training_threads()), flush=True)
        raise SystemExit(status)
    """)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "window destroyed: True" in done.stdout, done.stdout
    assert "threads running: 0" in done.stdout, done.stdout


def test_a_script_that_ends_with_the_window_open_and_a_run_paused_exits_cleanly(tmp_path):
    done = _run_child(tmp_path, """
        make_application()
        window = window_with_a_paused_run()
        window.undo_stack.setClean()
    """)
    assert "state: paused" in done.stdout, done.stdout + done.stderr[-1500:]
    assert done.returncode == 0 and "Destroyed while thread" not in done.stderr, done.stderr[-1500:]


def test_a_training_thread_given_up_on_at_close_is_waited_for_at_exit(tmp_path):
    """Closing waits for the training threads a while (SHUTDOWN_WAIT_MS), then leaves one still in a long
    epoch running, told to stop. Destroyed at the interpreter's exit while still running, its QThread would
    abort the process; the exit waits for it to end its epoch instead."""
    done = _run_child(tmp_path, """
        import threading
        import shiboken6
        from cfexplorer.core.mf import MatrixFactorization

        in_an_epoch = threading.Event()

        def slow(original):
            def epoch(self, *args):
                in_an_epoch.set()
                time.sleep(0.8)  # as an epoch of a very large model computes: far past the 50 ms waited at close
                return original(self, *args)
            return epoch

        MatrixFactorization._gradient_epoch = slow(MatrixFactorization._gradient_epoch)
        MatrixFactorization._als_epoch = slow(MatrixFactorization._als_epoch)
        make_application()
        window = MainWindow(settings=QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat))
        window.show()
        QTest.qWaitForWindowExposed(window)
        controller = window.training_panel.controller
        QTest.keyClick(window, Qt.Key.Key_F5)
        deadline = time.monotonic() + 30
        while not in_an_epoch.is_set() and time.monotonic() < deadline:
            QTest.qWait(10)
        print("all ended at close:", controller.shutdown(timeout_ms=50), flush=True)  # as at a close given up on
        shiboken6.delete(window)
    """)
    assert "all ended at close: False" in done.stdout, done.stdout + done.stderr[-1500:]
    assert done.returncode == 0 and "Destroyed while thread" not in done.stderr, done.stderr[-1500:]


def test_a_comparison_given_up_on_at_close_is_waited_for_at_exit(tmp_path):
    """As a training thread: the comparison's thread, in a long epoch at close, is kept (with its worker) until
    the interpreter's exit waits for it, never destroyed running."""
    done = _run_child(tmp_path, """
        import threading
        import shiboken6
        from cfexplorer.core.mf import MatrixFactorization

        in_an_epoch = threading.Event()
        original = MatrixFactorization._als_epoch

        def slow_epoch(self, *args):
            in_an_epoch.set()
            time.sleep(0.8)
            return original(self, *args)

        MatrixFactorization._als_epoch = slow_epoch
        make_application()
        window = MainWindow(settings=QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat))
        window.show()
        QTest.qWaitForWindowExposed(window)
        window.act_compare.trigger()
        dialog = window.compare_dialog
        dialog.set_chosen(["mf"])
        dialog.run()
        deadline = time.monotonic() + 30
        while not in_an_epoch.is_set() and time.monotonic() < deadline:
            QTest.qWait(10)
        print("all ended at close:", dialog.shutdown(50), flush=True)
        shiboken6.delete(window)
    """)
    assert "all ended at close: False" in done.stdout, done.stdout + done.stderr[-1500:]
    assert done.returncode == 0 and "Destroyed while thread" not in done.stderr, done.stderr[-1500:]
