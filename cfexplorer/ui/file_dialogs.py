"""The file dialogs of the window and its panes. Each starts in the folder last used (the QSettings value
"last_folder"), with the file name suggested where there is one, and what the person chooses in any of them
becomes where the next one starts. Opening and saving a document also set it (a recent or dropped file too).

Without a folder to start in, Qt's dialogs start in the process's current directory: wherever the app was
launched from, which a person neither chose nor sees."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

LAST_FOLDER = "last_folder"


def last_folder(settings: QSettings) -> Path:
    """Where the next file dialog starts: the folder last used while it still exists, else the home folder."""
    folder = settings.value(LAST_FOLDER, "")
    if folder and Path(str(folder)).is_dir():
        return Path(str(folder))
    return Path.home()


def remember_folder(settings: QSettings, path) -> None:
    """Start the next file dialog where ``path`` is (a file, or a folder chosen whole: a Spark model's)."""
    settings.setValue(LAST_FOLDER, str(Path(path).parent))


def save_file_name(parent: QWidget, settings: QSettings, caption: str, filters: str,
                   suggested: str | Path = "") -> tuple[str, str]:
    """The file the person chose to write and the filter chosen, ("", …) when cancelled. ``suggested``: a
    file name, offered in the last folder, or a whole path (a recovered project's own), offered as it is."""
    path, chosen = QFileDialog.getSaveFileName(parent, caption, str(last_folder(settings) / suggested), filters)
    if path:
        remember_folder(settings, path)
    return path, chosen


def open_file_name(parent: QWidget, settings: QSettings, caption: str, filters: str) -> str:
    """The file the person chose to read, "" when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, caption, str(last_folder(settings)), filters)
    if path:
        remember_folder(settings, path)
    return path


def open_file_names(parent: QWidget, settings: QSettings, caption: str, filters: str) -> list[str]:
    """The files the person chose to read (of one folder, as the dialog shows one), [] when cancelled."""
    paths, _ = QFileDialog.getOpenFileNames(parent, caption, str(last_folder(settings)), filters)
    if paths:
        remember_folder(settings, paths[0])
    return paths


def existing_folder(parent: QWidget, settings: QSettings, caption: str) -> str:
    """The folder the person chose, "" when cancelled; the next dialog starts beside it, among its siblings."""
    path = QFileDialog.getExistingDirectory(parent, caption, str(last_folder(settings)))
    if path:
        remember_folder(settings, path)
    return path
