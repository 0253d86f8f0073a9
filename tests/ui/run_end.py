"""A training run whose end a test watches from inside the end's own turn of the event loop."""

from PySide6.QtCore import Qt

RUN_END_TIMEOUT_MS = 60_000


def train_with_a_slot_after_the_windows_at_the_end(qtbot, panel, slot):
    """Click Train and wait for the run's end, with ``slot`` connected to it after the window's own handler (so
    it runs right after that handler, in the same turn of the event loop)."""
    panel.sig_run_ended.connect(slot)
    try:
        with qtbot.waitSignal(panel.sig_run_ended, timeout=RUN_END_TIMEOUT_MS):
            qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    finally:
        panel.sig_run_ended.disconnect(slot)
