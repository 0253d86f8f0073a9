"""Every file dialog starts in the last folder used, with its file name suggested where there is one, and the
folder chosen in any of them is where the next one starts. Export of the loss curves, the factor space's Files
menu and Training ▸ Load Parameters… started in the process's current directory (wherever the app had been
launched from) and forgot what was chosen in them; Export as Python Script… forgot it too."""

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from .test_training import FINISH_MS

SAVE, OPEN, OPEN_SEVERAL, FOLDER = "getSaveFileName", "getOpenFileName", "getOpenFileNames", "getExistingDirectory"


class FileDialogs:
    """QFileDialog's static dialogs as a person answers them: the folder (and file name) each was asked to
    start in, and the answer given (a path, or "" for Cancel)."""

    def __init__(self, monkeypatch):
        self.asked: list[tuple[str, str]] = []  # (dialog, where it was asked to start)
        self.answer = ""
        for dialog in (SAVE, OPEN, OPEN_SEVERAL, FOLDER):
            monkeypatch.setattr(QFileDialog, dialog, staticmethod(
                lambda parent, caption="", start="", *rest, dialog=dialog, **options: self._ask(dialog, start)))

    def _ask(self, dialog: str, start: str):
        self.asked.append((dialog, start))
        if dialog == FOLDER:
            return self.answer
        if dialog == OPEN_SEVERAL:
            return ([self.answer] if self.answer else []), ""
        return self.answer, ""


def files_menu_action(window, text: str):
    """The factor space's Files menu's entry starting with ``text`` (the menu pops up modal: its entry is
    triggered as a click on it does)."""
    return next(action for action in window.factor_space.file_button.menu().actions()
                if action.text().startswith(text))


def export_loss_curves(qtbot, window):
    qtbot.mouseClick(window.training_panel.export_button, Qt.MouseButton.LeftButton)


def train_for_the_factor_space(qtbot, window):
    window.factor_dock.raise_()
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.factor_space.embedding is not None, timeout=FINISH_MS)


def write_factors(window, path: Path):
    window.factor_space.export_factors(str(path))


# what the person does, the dialog it opens, the file name it suggests, the file (or folder) chosen in another
# folder, and how that choice is made to exist (an open dialog offers only what is there)
DIALOGS = {
    "export loss curves": (export_loss_curves, SAVE, "loss-curves.png", "curves.csv", None),
    "export factor view": (lambda qtbot, window: files_menu_action(window, "Export view").trigger(),
                           SAVE, "factor-space.png", "view.png", None),
    "export factors": (lambda qtbot, window: files_menu_action(window, "Export factors").trigger(),
                       SAVE, "factors.csv", "mine.csv", None),
    "import factors": (lambda qtbot, window: files_menu_action(window, "Import factors").trigger(),
                       OPEN, None, "factors.csv", write_factors),
    "import spark model": (lambda qtbot, window: files_menu_action(window, "Import a Spark").trigger(),
                           FOLDER, None, "als-model", lambda window, path: path.mkdir()),
    "load parameters": (lambda qtbot, window: window.act_load_params.trigger(), OPEN_SEVERAL, None, "params.npz",
                        lambda window, path: path.write_bytes(b"not parameters")),
    "export as script": (lambda qtbot, window: window.act_export_script.trigger(), SAVE, None, "run.py", None),
    "save as": (lambda qtbot, window: window.act_save_as.trigger(), SAVE, None, "course.cfx", None),
    "open": (lambda qtbot, window: window.act_open.trigger(), OPEN, None, "grid.csv",
             lambda window, path: path.write_text("movie,u0,u1\nm0,3,4\nm1,?,1\n")),
}


@pytest.mark.parametrize("name", list(DIALOGS))
def test_a_file_dialog_starts_in_the_last_folder_used_and_remembers_the_one_chosen(qtbot, window, monkeypatch,
                                                                                 tmp_path, name):
    use_dialog, dialog, suggested_name, chosen_name, make_chosen = DIALOGS[name]
    train_for_the_factor_space(qtbot, window)  # factors to export, curves to save
    last_used, elsewhere = tmp_path / "last used", tmp_path / "elsewhere"
    last_used.mkdir()
    elsewhere.mkdir()
    window.settings.setValue("last_folder", str(last_used))
    dialogs = FileDialogs(monkeypatch)

    def asked_to_start_in() -> Path:
        assert [asked for asked, _ in dialogs.asked] == [dialog], f"{name} opened {dialogs.asked}"
        start = Path(dialogs.asked.pop()[1])
        if dialog == SAVE:  # a file name suggested in the folder
            if suggested_name is not None:
                assert start.name == suggested_name
            return start.parent
        return start

    dialogs.answer = ""  # Cancel
    use_dialog(qtbot, window)
    assert asked_to_start_in() == last_used
    assert window.settings.value("last_folder") == str(last_used)  # a cancelled dialog chose nothing

    chosen = elsewhere / chosen_name
    if make_chosen is not None:
        make_chosen(window, chosen)
    dialogs.answer = str(chosen)
    use_dialog(qtbot, window)
    assert asked_to_start_in() == last_used
    qtbot.waitUntil(lambda: not window.training_panel.controller.is_active, timeout=FINISH_MS)
    assert chosen.exists()  # written there (what was opened there is the test's)

    dialogs.answer = ""
    use_dialog(qtbot, window)  # the same dialog again
    assert asked_to_start_in() == elsewhere
    window.act_open.trigger()  # and any other
    assert dialogs.asked == [(OPEN, str(elsewhere))]


def test_a_last_folder_since_deleted_gives_way_to_the_home_folder(qtbot, window, monkeypatch, tmp_path):
    """Given a folder that is no longer there, Qt's dialog starts in the process's current directory."""
    gone = tmp_path / "unplugged drive"
    window.settings.setValue("last_folder", str(gone))
    dialogs = FileDialogs(monkeypatch)
    window.act_open.trigger()
    export_loss_curves(qtbot, window)
    assert dialogs.asked == [(OPEN, str(Path.home())), (SAVE, str(Path.home() / "loss-curves.png"))]
