"""Unexpected errors: logged, shown in a dialog with details to copy, and the app keeps running.

Python exceptions raised in slots and event handlers reach ``sys.excepthook`` (PySide prints them
through it and returns to the event loop); exceptions in plain Python threads reach
``threading.excepthook``. :class:`ErrorReporter` takes both, writes the traceback to a log file and
shows it, from the GUI thread, in an :class:`ErrorDialog`: one dialog per distinct error a minute, so
that a failure repeating on every painted cell does not bury the window under dialogs.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from .qt_guard import error_key, repeats_since_report, should_report

LOGGER_NAME = "cfexplorer"


def default_log_path() -> Path:
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or Path.home())
    return folder / "cfexplorer.log"


class ErrorDialog(QDialog):
    def __init__(self, summary: str, details: str, log_path: Path | None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("CF Explorer: unexpected error")
        where = f" The details are also in {log_path}." if log_path else ""
        self.summary = QLabel(f"<b>{summary}</b><br>The app keeps running. If anything looks wrong, save your work under "
                              f"a new name. Please report this error with the details below.{where}")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.clicked.connect(self.copy_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.resize(640, 400)

    def copy_details(self):
        QGuiApplication.clipboard().setText(self.details.toPlainText())


class ErrorReporter(QObject):
    """Installs the hooks; ``uninstall`` puts the previous ones back."""

    sig_error = Signal(str, str)  # summary, details; queued into the GUI thread from any thread

    def __init__(self, parent_window=None, log_path: Path | None = None):
        super().__init__()
        self.parent_window = parent_window
        self.log_path = Path(log_path) if log_path is not None else default_log_path()
        self.logger = logging.getLogger(LOGGER_NAME)
        self._handler = None
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._handler = RotatingFileHandler(self.log_path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
            self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            self.logger.addHandler(self._handler)
        except OSError:
            self.log_path = None  # no writable place for a log: the dialog still shows everything
        self.logger.setLevel(logging.INFO)
        self.dialogs: list[ErrorDialog] = []
        self.sig_error.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._previous = None

    def install(self):
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._on_exception
        threading.excepthook = lambda args: self._on_exception(args.exc_type, args.exc_value, args.exc_traceback)
        return self

    def uninstall(self):
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None
        if self._handler is not None:
            self.logger.removeHandler(self._handler)
            self._handler.close()
            self._handler = None

    def _on_exception(self, exc_type, exc_value, exc_traceback):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc_value, exc_traceback)
            return
        key = ("dialog",) + error_key(exc_value)
        if not should_report(key):
            return  # counted; logged with the next report of the same error
        details = "".join(traceback.format_exception(exc_type, exc_value, exc_traceback))
        summary = f"{exc_type.__name__}: {exc_value}"
        repeated = repeats_since_report(key)
        again = f" (and {repeated} more times since it was last shown)" if repeated else ""
        self.logger.error("unexpected error%s\n%s", again, details)
        self.sig_error.emit(summary, details)

    @Slot(str, str)
    def _show(self, summary: str, details: str):
        dialog = ErrorDialog(summary, details, self.log_path, self.parent_window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda *_: self.dialogs.remove(dialog) if dialog in self.dialogs else None)
        self.dialogs.append(dialog)
        dialog.open()  # window-modal, without a nested event loop: the app keeps running
