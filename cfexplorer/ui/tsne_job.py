"""t-SNE or UMAP in a child process: they can take many seconds on thousands of movies, must not hold the
GIL the window needs, and Cancel must end them at once (a thread cannot be killed; a process can). The child
reports its progress down the same pipe as its result."""

from __future__ import annotations

import multiprocessing

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ..core.embedding import LAYOUTS, layout_to_connection

POLL_MS = 100


class LayoutJob(QObject):
    """One t-SNE or UMAP at a time; starting another cancels the one running."""

    sig_finished = Signal(object, object)  # key, n x 2 coordinates
    sig_failed = Signal(str)
    sig_progress = Signal(float, str)  # share done (0..1), what it is doing

    def __init__(self, parent=None):
        super().__init__(parent)
        self._process = None
        self._connection = None
        self._key = None
        self.method = ""  # "tsne" or "umap" while one runs (a key of core.embedding.LAYOUTS)
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self._process is not None

    @property
    def key(self):
        return self._key

    def start(self, key, factors: np.ndarray, seed: int = 0, method: str = "tsne", umap_module: str = "umap"):
        """Compute the ``method`` layout of ``factors``; ``key`` comes back with the result (what it was
        computed for). ``umap_module``: where UMAP comes from in the child (tests hand in a stand-in)."""
        self.cancel()
        context = multiprocessing.get_context("spawn")  # fork would copy the Qt threads' state
        receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=layout_to_connection,
                                        args=(sender, method, np.asarray(factors), seed, umap_module),
                                        daemon=True, name=f"cfexplorer-{method}")
        self.method = method
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
        self.method = ""

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
            name = LAYOUTS.get(self.method, self.method)
            outcome, payload = "error", f"{name} stopped unexpectedly (out of memory?)"
        key = self._key
        self._process.join(2)
        self._finish()
        if outcome == "done":
            self.sig_finished.emit(key, payload)
        else:
            self.sig_failed.emit(payload)
