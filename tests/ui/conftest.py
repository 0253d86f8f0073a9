import os

import pytest
from PySide6.QtCore import QSettings

from .collect import collect_closed_windows
from .exported_scripts import run_exported, script_runner  # noqa: F401 - fixtures for exported code

os.environ["CFEXPLORER_NO_DIALOGS"] = "1"  # errors still reach the message bar and status bar


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from cfexplorer.app import MainWindow, make_application

    # A modal question would block an offscreen test forever; tests that care answer it themselves.
    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: QMessageBox.StandardButton.Discard)
    make_application()
    main = MainWindow(settings=settings)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    yield main
    main.undo_stack.setClean()  # no save prompt while tearing down
    main.close()
    collect_closed_windows()
