"""Opening a file whose reading asks a question in a modal dialog (a preview): the test answers it from inside
the dialog's own event loop."""

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def open_answering(window, path, dialog_type, act) -> bool:
    """Open ``path`` and run ``act(dialog)`` on the ``dialog_type`` dialog once it is up (it is modal: ``act``
    runs inside its loop). A failure inside ``act`` closes the dialog and is raised here, so a test fails
    instead of hanging."""
    seen = {}

    def when_shown():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, dialog_type):
            QTimer.singleShot(20, when_shown)
            return
        seen["dialog"] = dialog
        try:
            act(dialog)
        except BaseException as failure:  # noqa: BLE001 - raised again below, outside Qt's loop
            seen["failure"] = failure
            dialog.reject()

    QTimer.singleShot(0, when_shown)
    opened = window.open_file(path, confirm=False)
    if "failure" in seen:
        raise seen["failure"]
    assert "dialog" in seen, "the dialog was never shown"
    return opened
