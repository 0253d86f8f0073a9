"""t-SNE in a child process: it can take many seconds on thousands of movies, must not hold the
GIL the window needs, and Cancel must end it at once (a thread cannot be killed; a process can). The child
reports its progress down the same pipe as its result."""

from __future__ import annotations

import multiprocessing

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ..core.embedding import tsne_to_connection

POLL_MS = 100


class TsneJob(QObject):
    sig_finished = Signal(object, object)  # key, n x 2 coordinates
    sig_failed = Signal(str)
    sig_progress = Signal(float, str)  # share done (0..1), what it is doing

    def __init__(self, parent=None):
        super().__init__(parent)
        self._process = None
        self._connection = None
        self._key = None
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self._process is not None

    @property
    def key(self):
        return self._key

    def start(self, key, factors: np.ndarray, seed: int = 0):
        """Compute t-SNE of ``factors``; ``key`` comes back with the result (what it was computed for)."""
        self.cancel()
        context = multiprocessing.get_context("spawn")  # fork would copy the Qt threads' state
        receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=tsne_to_connection, args=(sender, np.asarray(factors), seed),
                                        daemon=True, name="cfexplorer-tsne")
        self._process.start()
        sender.close()
        self._connection, self._key = receiver, key
        self._timer.start()

    def cancel(self):
        if self._process is not None:
            self._process.terminate()
            self._process.join(2)
        self._finish()

    def _finish(self):
        self._timer.stop()
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def _poll(self):
        if self._connection is None:
            return
        try:
            while True:  # every progress report waiting, then the result if it is there
                if not self._connection.poll():
                    if not self._process.is_alive():
                        raise EOFError
                    return
                outcome, payload = self._connection.recv()
                if outcome != "progress":
                    break
                self.sig_progress.emit(*payload)
                if self._connection is None:  # a slot of the progress cancelled the job
                    return
        except (EOFError, OSError):
            outcome, payload = "error", "t-SNE stopped unexpectedly (out of memory?)"
        key = self._key
        self._process.join(2)
        self._finish()
        if outcome == "done":
            self.sig_finished.emit(key, payload)
        else:
            self.sig_failed.emit(payload)
