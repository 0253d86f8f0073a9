"""Training off the GUI thread.

The worker exhausts ``model.iter_fit`` in its own QThread, checking stop, pause and step requests
between epochs, and reports through a throttle: at most ~30 progress signals a second, each carrying
every epoch record since the last one and a frozen :class:`Predictor`. The GUI thread never runs an
epoch; it only receives signals.
"""

from __future__ import annotations

import threading
import time
import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.mf import TrainingDiverged
from ..core.ratings import train_test_split
from ..core.throttle import Throttle
from ..lazy import load_now

IDLE, RUNNING, PAUSED = "idle", "running", "paused"
MAX_UPDATES_PER_SECOND = 30


class TrainingWorker(QObject):
    sig_progress = Signal(object, object)  # list of EpochRecord, Predictor
    sig_paused = Signal()
    sig_resumed = Signal()
    sig_finished = Signal(str)  # "done" or "stopped"
    sig_failed = Signal(str, str)  # message for the user, details

    def __init__(self, model, train, validation=None, paused=False, steps=0, epochs_per_second=None,
                 snapshot_every=0, holdout: float = 0.0, holdout_seed: int | None = 0):
        super().__init__()
        self.model, self.train, self.validation = model, train, validation
        # Splitting a million ratings takes tens of milliseconds: done here, not in the GUI thread.
        self.holdout, self.holdout_seed = holdout, holdout_seed
        self.snapshot_every = snapshot_every
        self._condition = threading.Condition()
        self._stop = False
        self._paused = paused
        self._steps = steps
        self._epochs_per_second = epochs_per_second
        self._pending = []

    # --- requests from the GUI thread (thread-safe) ----------------------------------------------------
    def request_stop(self):
        with self._condition:
            self._stop = True
            self._condition.notify_all()

    def request_pause(self):
        with self._condition:
            self._paused = True
            self._condition.notify_all()

    def request_resume(self):
        with self._condition:
            self._paused = False
            self._steps = 0
            self._condition.notify_all()

    def request_step(self, epochs: int = 1):
        with self._condition:
            self._paused = True
            self._steps += epochs
            self._condition.notify_all()

    def set_pace(self, epochs_per_second):
        with self._condition:
            self._epochs_per_second = epochs_per_second
            self._condition.notify_all()

    # --- the loop, in the worker thread ----------------------------------------------------------------
    def _flush(self, with_predictor: bool = True):
        if self._pending:
            records, self._pending = self._pending, []
            self.sig_progress.emit(records, self.model.predictor() if with_predictor else None)

    def _may_run_next_epoch(self, last_epoch_started: float) -> bool:
        """Wait while paused (or for the pace); False when a stop was requested."""
        announced_pause = False
        with self._condition:
            while True:
                if self._stop:
                    return False
                if self._paused and self._steps == 0:
                    if not announced_pause:
                        self._condition.release()
                        try:
                            self._flush()
                            self.sig_paused.emit()
                        finally:
                            self._condition.acquire()
                        announced_pause = True
                    self._condition.wait()
                    continue
                pace = self._epochs_per_second
                if pace:
                    remaining = last_epoch_started + 1.0 / pace - time.perf_counter()
                    if remaining > 0:
                        self._condition.wait(remaining)
                        continue
                break
            if self._paused:
                self._steps -= 1
        if announced_pause:
            self.sig_resumed.emit()
        return True

    @Slot()
    def run(self):
        throttle = Throttle(MAX_UPDATES_PER_SECOND)
        started = time.perf_counter() - 1e9
        reason = "done"
        try:
            if self.holdout > 0:
                self.train, self.validation = train_test_split(self.train, self.holdout, seed=self.holdout_seed)
                if len(self.validation) == 0:
                    self.validation = None
            epochs = iter(self.model.iter_fit(self.train, self.validation, snapshot_every=self.snapshot_every))
            while True:
                if not self._may_run_next_epoch(started):
                    reason = "stopped"
                    break
                started = time.perf_counter()
                try:
                    record = next(epochs)
                except StopIteration:
                    break
                self._pending.append(record)
                if throttle.ready():
                    self._flush()
                # Small models run pure-Python epochs back to back; yielding the GIL here keeps every
                # C++-to-Python call of the GUI thread from queueing behind a whole switch interval.
                time.sleep(0)
        except TrainingDiverged as error:
            self._flush_safely(with_predictor=False)  # parameters on the edge of divergence predict nothing
            self.sig_failed.emit(str(error), "")
            return
        except Exception as error:  # anything else must reach the user, not kill the thread silently
            self._flush_safely(with_predictor=False)
            self.sig_failed.emit(f"Training stopped by an error: {error}", traceback.format_exc())
            return
        self._flush()
        self.sig_finished.emit(reason)

    def _flush_safely(self, with_predictor: bool):
        try:
            self._flush(with_predictor)
        except Exception:  # the model may be half-built; the failure message matters more
            self._pending = []


class TrainingController(QObject):
    """Owns the worker thread: start, pause, resume, step, stop and a clean shutdown."""

    sig_progress = Signal(object, object)
    sig_state_changed = Signal(str)
    sig_finished = Signal(str)
    sig_failed = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._state = IDLE

    @property
    def state(self) -> str:
        return self._state

    @property
    def is_active(self) -> bool:
        return self._state != IDLE

    def _set_state(self, state: str):
        if state != self._state:
            self._state = state
            self.sig_state_changed.emit(state)

    def start(self, model, train, validation=None, paused=False, steps=0, epochs_per_second=None,
              snapshot_every=0, holdout: float = 0.0, holdout_seed: int | None = 0):
        """Train ``model`` on ``train``; with ``holdout`` > 0 that share of it is held out (in the worker) as
        the validation set."""
        if self.is_active:
            raise RuntimeError("training is already running")
        self._cleanup()
        worker = TrainingWorker(model, train, validation, paused, steps, epochs_per_second, snapshot_every,
                                holdout, holdout_seed)
        thread = QThread()
        thread.setObjectName("cfexplorer-training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.sig_progress.connect(self._on_progress)
        worker.sig_paused.connect(lambda: self._set_state(PAUSED))
        worker.sig_resumed.connect(lambda: self._set_state(RUNNING))
        worker.sig_finished.connect(self._on_finished)
        worker.sig_failed.connect(self._on_failed)
        worker.sig_finished.connect(thread.quit)
        worker.sig_failed.connect(thread.quit)
        self._worker, self._thread = worker, thread
        self._set_state(PAUSED if paused and steps == 0 else RUNNING)
        load_now()  # lazy modules load here, in the GUI thread, never racing the worker's first use
        thread.start()

    def pause(self):
        if self._worker is not None and self._state == RUNNING:
            self._worker.request_pause()

    def resume(self):
        if self._worker is not None and self._state == PAUSED:
            self._worker.request_resume()

    def step(self, epochs: int = 1):
        if self._worker is not None:
            self._worker.request_step(epochs)

    def stop(self):
        if self._worker is not None:
            self._worker.request_stop()

    def set_pace(self, epochs_per_second):
        if self._worker is not None:
            self._worker.set_pace(epochs_per_second)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop and wait for the thread (closing the window); True when it ended in time."""
        if self._worker is not None:
            self._worker.request_stop()
            # Signals still queued from this worker would describe a run the user has left behind.
            for signal in (self._worker.sig_progress, self._worker.sig_finished, self._worker.sig_failed,
                           self._worker.sig_paused, self._worker.sig_resumed):
                signal.disconnect()
        ended = True
        if self._thread is not None:
            self._thread.quit()
            ended = self._thread.wait(timeout_ms)
        self._cleanup()
        self._set_state(IDLE)
        return ended

    def _cleanup(self):
        if self._thread is not None and self._thread.isFinished():
            self._thread.deleteLater()
            self._thread = None
            self._worker = None
        elif self._thread is not None and not self._thread.isRunning():
            self._thread = None
            self._worker = None

    @Slot(object, object)
    def _on_progress(self, records, predictor):
        self.sig_progress.emit(records, predictor)

    @Slot(str)
    def _on_finished(self, reason: str):
        self._wait_for_thread()
        self._set_state(IDLE)
        self.sig_finished.emit(reason)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str):
        self._wait_for_thread()
        self._set_state(IDLE)
        self.sig_failed.emit(message, details)

    def _wait_for_thread(self):
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(5000)
        self._cleanup()
