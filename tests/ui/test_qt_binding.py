"""Guards against a Qt binding that corrupts reference counts (PySide6 6.12.0 dropped one reference
to None per slot call, so a long session ended in 'Fatal Python error: none_dealloc')."""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPushButton


class _Emitter(QObject):
    sig = Signal(object)


def test_slot_calls_keep_reference_counts(qapp):
    button = QPushButton()
    button.clicked.connect(lambda: None)
    emitter = _Emitter()
    received = []
    emitter.sig.connect(received.append)
    before = sys.getrefcount(None)
    for _ in range(500):
        button.click()
        emitter.sig.emit(1)
    assert len(received) == 500
    assert abs(sys.getrefcount(None) - before) < 50


def test_garbage_is_collected_in_the_gui_thread_only(qapp):
    """Automatic collection could run Qt destructors in the training thread and deadlock."""
    import gc

    from cfexplorer.app import make_application

    app = make_application()
    assert not gc.isenabled()
    assert app.gui_thread_garbage_collector.timer.isActive()
