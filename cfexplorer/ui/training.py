"""Training off the GUI thread, one run at a time.

The worker exhausts ``model.iter_fit`` in its own QThread, checking stop, pause and step requests
between epochs, and reports through a throttle: at most ~30 progress signals a second, each carrying
every epoch record since the last one and a frozen :class:`Predictor`. The GUI thread never runs an
epoch; it only receives signals, and never waits long for the worker. The worker waits for the GUI
thread instead, a little: see :class:`UpdateHandshake`.

The lifecycle of a run is one state machine, owned by :class:`TrainingController` and nowhere else::

    state      event                                          next state
    idle       start                                          running
    running    paused   (the worker waits between epochs)     paused
    paused     resumed  (the worker goes on: Resume, Step)    running
    running    stop     (Stop pressed)                        stopping
    paused     stop                                           stopping
    stopping   paused, resumed (sent before it saw Stop)      stopping
    running    ended    (its thread has finished)             idle
    paused     ended                                          idle
    stopping   ended                                          idle
    running    retire   (Train again, Reset, closing)         idle
    paused     retire                                         idle
    stopping   retire                                         idle

Any other pair raises :class:`IllegalTransition`. A run ends ("ended") when its QThread has really
finished, not when the worker says so: ``idle`` means the current run has no thread left.

Every run has an identity, a counter. Every signal of a worker carries its run's identity and the
controller drops whatever is not the current run's: progress, pause, resume and the end of a run that
was retired (Train pressed again, Reset) are still queued in the event loop when it is retired, and
must not reach the grid, the plot or the state. A retired run's worker is told to stop and its QThread
stays referenced until that thread has finished (it finishes its current epoch first), so that no
QThread is ever destroyed while its thread runs; retiring does not wait. Closing the window waits for
every thread, live and retiring, with a bounded wait.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from ..core.mf import TrainingDiverged
from ..core.ratings import train_test_split
from ..core.throttle import Throttle
from ..lazy import load_now

LOGGER = logging.getLogger("cfexplorer")

IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"
MAX_UPDATES_PER_SECOND = 30
GUI_SHARE = 1 / 4  # of the time, at most, that showing a run's updates takes (see UpdateHandshake)
SHOWN_WAIT_S = 0.25  # the longest the worker waits for an update to be shown
LONGEST_UPDATE_INTERVAL_S = 0.5  # however costly the updates, at least two a second
SHUTDOWN_WAIT_MS = 10_000  # closing waits this long, at most, for every training thread together

TRANSITIONS = {
    (IDLE, "start"): RUNNING,
    (RUNNING, "paused"): PAUSED,
    (PAUSED, "resumed"): RUNNING,
    (RUNNING, "stop"): STOPPING,
    (PAUSED, "stop"): STOPPING,
    (STOPPING, "paused"): STOPPING,
    (STOPPING, "resumed"): STOPPING,
    (RUNNING, "ended"): IDLE,
    (PAUSED, "ended"): IDLE,
    (STOPPING, "ended"): IDLE,
    (RUNNING, "retire"): IDLE,
    (PAUSED, "retire"): IDLE,
    (STOPPING, "retire"): IDLE,
}

# Threads that did not end within the wait at close: kept referenced so that they are never destroyed
# while running (that aborts the process); they end after their current epoch.
_UNFINISHED_AT_SHUTDOWN: list[tuple[QThread, tuple]] = []


def keep_until_exit(thread: QThread, *companions) -> None:
    """Keep a thread a close gave up waiting for (told to stop, it ends after its epoch), and the objects it runs
    (its worker), referenced until the process exits and waits for it: not destroyed with its window."""
    thread.setParent(None)
    _UNFINISHED_AT_SHUTDOWN.append((thread, companions))


def _wait_for_unfinished_threads() -> None:
    """At exit, wait for the threads a close gave up on: they were told to stop and end with their epoch,
    where the interpreter's exit would destroy them running, and Qt aborts the process then."""
    while _UNFINISHED_AT_SHUTDOWN:
        thread, _ = _UNFINISHED_AT_SHUTDOWN.pop()
        thread.wait()


atexit.register(_wait_for_unfinished_threads)  # exit hooks run while Python is whole


class IllegalTransition(RuntimeError):
    """A training-run event that the state machine does not allow in the current state."""


# How much nicer than the GUI thread a training thread runs, where the system lets a thread have its own
# (Linux): when the CPU is short, the scheduler then gives the GUI thread about three times the worker's
# share, so that a repaint does not wait behind an epoch (benchmarks/bench_gui_stall.py, busy variant).
WORKER_NICENESS = 5


def _yield_to_the_gui_thread():
    """Lower the calling thread's scheduling priority by WORKER_NICENESS (Linux only: there a thread id is a
    process id for setpriority; elsewhere it would change the whole process)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + WORKER_NICENESS)
    except OSError:
        pass  # not allowed here (a sandbox): the worker keeps the GUI thread's priority


class UpdateHandshake:
    """The worker waits, after each progress update it sends, until the GUI thread has shown it (its handlers
    and repaints done), SHOWN_WAIT_S at most, unless its model's epochs run in compiled kernels that hold no
    GIL; and it sends the next update about that showing's time divided by GUI_SHARE later (the throttle's
    schedule: one interval may be as short as half of it, not the average).

    Why: Python runs one thread at a time. While the worker runs an epoch of pure Python (a small model's
    numpy), each of the hundreds of calls from Qt into Python that a repaint makes waited for the worker to
    hand over the GIL, a switch interval each, and the two threads handed it back and forth. In lesson 9's
    runs (300 epochs of the content model, 0.3 s alone) the event loop went 30 ms between 5 ms heartbeats in
    the median (p95 55-60 ms) and a run took 0.9-1.0 s; waiting out the showing, 5.3 ms (p95 25 ms) and
    0.6 s. The pacing keeps the waiting to a quarter of the run: costly updates (a slow or loaded machine, a
    large factor space) come less often, cheap ones up to MAX_UPDATES_PER_SECOND. Epochs in the compiled
    kernels (ALS, full-batch Adam: ``epochs_release_the_gil``) neither wait nor are paced: waiting, MovieLens
    latest-small's Adam took 25-40% longer a run; paced without waiting, its longest stalls grew. A GUI thread
    held up for long (a blocking call in it) slows such a run to about 33 ms of epochs per SHOWN_WAIT_S: the
    price of never fighting the GUI thread for the GIL."""

    def __init__(self):
        self._shown = threading.Event()
        self._shown.set()
        self._lock = threading.Lock()
        self._sent = 0  # updates sent (worker thread)
        self._received = 0  # updates received (GUI thread; they arrive in the order sent)
        self.interval_floor = 0.0  # seconds between updates the GUI thread asks for (a float: atomic)

    def sent(self):
        with self._lock:
            self._sent += 1
            self._shown.clear()

    def wait_until_shown(self) -> bool:
        """False when SHOWN_WAIT_S passed first."""
        return self._shown.wait(SHOWN_WAIT_S)

    def received(self) -> int:
        """From the GUI thread, as an update arrives: its number, for :meth:`shown`."""
        self._received += 1
        return self._received

    def shown(self, update: int, seconds: float):
        """From the GUI thread: update number ``update`` took ``seconds`` to show. Only the latest one sent
        wakes the worker: one shown late (its wait timed out, or it was sent at a pause) would end the next
        update's wait before that update is shown."""
        self.interval_floor = min(seconds / GUI_SHARE, LONGEST_UPDATE_INTERVAL_S)
        with self._lock:
            if update == self._sent:
                self._shown.set()

    def release(self):
        """Wake a worker waiting (it is told to stop, or nobody will show its updates)."""
        self._shown.set()


class TrainingWorker(QObject):
    sig_progress = Signal(int, object, object)  # run id, list of EpochRecord, Predictor
    sig_paused = Signal(int)
    sig_resumed = Signal(int)
    sig_finished = Signal(int, str)  # run id, "done" or "stopped"
    sig_failed = Signal(int, str, str)  # run id, message for the user, details
    sig_returned = Signal()  # run() is returning, whatever happened: the thread may end
    sig_split_made = Signal(int, object)  # run id, the ratings trained on once the validation share is held out

    def __init__(self, model, train, validation=None, paused=False, steps=0, epochs_per_second=None,
                 snapshot_every=0, holdout: float = 0.0, holdout_seed: int | None = 0, run_id: int = 0,
                 clock=time.perf_counter):
        """``clock`` is what the throttle reads (tests give a clock that advances a set time per epoch)."""
        super().__init__()
        self.model, self.train, self.validation = model, train, validation
        # Splitting a million ratings takes tens of milliseconds: done here, not in the GUI thread.
        self.holdout, self.holdout_seed = holdout, holdout_seed
        self.snapshot_every = snapshot_every
        self.run_id = run_id
        self.clock = clock
        self._condition = threading.Condition()
        self._stop = False
        self._paused = paused
        self._steps = steps
        self._epochs_per_second = epochs_per_second
        self._pending = []
        self._took_step = False
        self.handshake = UpdateHandshake()

    # --- requests from the GUI thread (thread-safe) ----------------------------------------------------
    def request_stop(self):
        with self._condition:
            self._stop = True
            self._condition.notify_all()
        self.handshake.release()

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
    def _flush(self, with_predictor: bool = True) -> bool:
        """Send the records not sent yet; True when there were some."""
        if self._pending:
            records, self._pending = self._pending, []
            self.handshake.sent()
            self.sig_progress.emit(self.run_id, records, self.model.predictor() if with_predictor else None)
            return True
        return False

    def _may_run_next_epoch(self, last_epoch_started: float, epochs_left: int = 1) -> bool:
        """Wait while paused (or for the pace); False when a stop was requested. Sets ``_took_step`` when
        the epoch about to run is one that Step asked for. With no epoch left to train, what comes next only
        ends the run: nothing to pause or pace for (a Step that trained a run's last epoch left it paused at
        "epoch 1 / 1" until Resume ended it)."""
        announced_pause = False
        with self._condition:
            while True:
                if self._stop:
                    return False
                if epochs_left == 0:
                    self._took_step = False
                    return True
                if self._paused and self._steps == 0:
                    if not announced_pause:
                        self._condition.release()
                        try:
                            self._flush()
                            self.sig_paused.emit(self.run_id)
                        finally:
                            self._condition.acquire()
                        announced_pause = True
                        # A stop or step asked for while the lock was released has notified nobody: look
                        # again before waiting, or the worker sleeps through it for good.
                        continue
                    self._condition.wait()
                    continue
                pace = self._epochs_per_second
                if pace:
                    remaining = last_epoch_started + 1.0 / pace - time.perf_counter()
                    if remaining > 0:
                        self._condition.wait(remaining)
                        continue
                break
            self._took_step = self._paused
            if self._paused:
                self._steps -= 1
        if announced_pause:
            self.sig_resumed.emit(self.run_id)
        return True

    @Slot()
    def run(self):
        _yield_to_the_gui_thread()
        try:
            self._run()
        finally:
            self.sig_returned.emit()

    def _run(self):
        throttle = Throttle(MAX_UPDATES_PER_SECOND, self.clock)
        started = time.perf_counter() - 1e9
        reason = "done"
        try:
            if self.holdout > 0:
                self.train, self.validation = train_test_split(self.train, self.holdout, seed=self.holdout_seed)
                if len(self.validation) == 0:
                    self.validation = None
                self.sig_split_made.emit(self.run_id, self.train)
            epochs = iter(self.model.iter_fit(self.train, self.validation, snapshot_every=self.snapshot_every))
            epochs_left = int(self.model.n_epochs)  # iter_fit's epochs after its epoch 0, where it has one
            while True:
                if not self._may_run_next_epoch(started, epochs_left):
                    reason = "stopped"
                    break
                started = time.perf_counter()
                try:
                    record = next(epochs)
                except StopIteration:
                    break
                self._pending.append(record)
                if record.epoch != 0:
                    epochs_left -= 1
                elif self._took_step:
                    # Epoch 0 is the cost at the starting parameters, no update: Step trains one epoch more.
                    with self._condition:
                        if self._paused:  # not resumed meanwhile (Resume forgets the steps)
                            self._steps += 1
                # Epochs in compiled kernels hold no GIL: waiting would only stop them while the GUI thread paints,
                # and pacing their updates by what showing them took made the stalls longer (bench_gui_stall).
                # Known once the model has arranged its ratings (its first epoch).
                take_turns = not getattr(self.model, "epochs_release_the_gil", False)
                if throttle.ready(self.handshake.interval_floor if take_turns else 0.0) and self._flush() \
                        and take_turns and not self._stop:  # a stop's release may have come before the flush
                    self.handshake.wait_until_shown()
            self._flush()
        except TrainingDiverged as error:
            self._flush_safely(with_predictor=False)  # parameters on the edge of divergence predict nothing
            self.sig_failed.emit(self.run_id, str(error), "")
            return
        except Exception as error:  # anything else must reach the user, not kill the thread silently
            self._flush_safely(with_predictor=False)
            self.sig_failed.emit(self.run_id, f"Training stopped by an error: {error}", traceback.format_exc())
            return
        self.sig_finished.emit(self.run_id, reason)

    def _flush_safely(self, with_predictor: bool):
        try:
            self._flush(with_predictor)
        except Exception:  # the model may be half-built; the failure message matters more
            self._pending = []


@dataclass
class _Run:
    """One run's worker and thread; kept until the thread has finished, whether current or retired."""

    id: int
    worker: TrainingWorker
    thread: QThread
    outcome: tuple | None = None  # ("finished", reason) or ("failed", message, details), said by the worker


class TrainingController(QObject):
    """Owns the runs' state machine (see the module docstring) and their worker threads."""

    sig_progress = Signal(object, object)  # records, Predictor (or None) of the current run
    sig_state_changed = Signal(str)
    sig_finished = Signal(str)  # "done" or "stopped", once the run's thread has finished
    sig_failed = Signal(str, str)  # message for the user, details
    # the ratings the current run trains on, once the worker has held its validation share out (before its
    # first progress; none where nothing is held out)
    sig_trained_on = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = IDLE
        self._last_id = 0
        self._current: _Run | None = None  # the run whose signals are taken; None when idle
        self._runs: dict[int, _Run] = {}  # every run whose thread has not finished yet, current or retired
        self.throttle_clock = time.perf_counter  # what each new worker's throttle reads

    # --- what tests and views read ----------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def is_active(self) -> bool:
        return self._state != IDLE

    @property
    def run_id(self) -> int | None:
        """The identity of the current run, None when idle."""
        return self._current.id if self._current is not None else None

    @property
    def thread_count(self) -> int:
        """Training threads not yet finished and released: the current run's and retiring ones."""
        return len(self._runs)

    # --- the state machine -------------------------------------------------------------------------
    def _apply(self, event: str):
        following = TRANSITIONS.get((self._state, event))
        if following is None:
            raise IllegalTransition(f"training run: {event!r} is not allowed while {self._state}")
        if following != self._state:
            self._state = following
            self.sig_state_changed.emit(following)

    # --- requests from the GUI ----------------------------------------------------------------------
    def start(self, model, train, validation=None, paused=False, steps=0, epochs_per_second=None,
              snapshot_every=0, holdout: float = 0.0, holdout_seed: int | None = 0) -> int:
        """Train ``model`` on ``train`` in a new run (its identity is returned); with ``holdout`` > 0 that
        share of it is held out (in the worker) as the validation set. A run still active must be retired
        (or stopped and ended) first."""
        if self.is_active:
            raise IllegalTransition(f"training run: 'start' is not allowed while {self._state}; retire it first")
        self._last_id += 1
        worker = TrainingWorker(model, train, validation, paused, steps, epochs_per_second, snapshot_every,
                                holdout, holdout_seed, run_id=self._last_id, clock=self.throttle_clock)
        thread = QThread(self)
        thread.setObjectName("cfexplorer-training")
        worker.moveToThread(thread)
        run = _Run(self._last_id, worker, thread)
        thread.started.connect(worker.run)
        # The worker ends its thread's event loop from the worker thread itself, so that the thread ends
        # even while the GUI thread is busy.
        worker.sig_returned.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.sig_split_made.connect(self._on_split_made)
        worker.sig_progress.connect(self._on_progress)
        worker.sig_paused.connect(self._on_paused)
        worker.sig_resumed.connect(self._on_resumed)
        worker.sig_finished.connect(self._on_worker_finished)
        worker.sig_failed.connect(self._on_worker_failed)
        # A partial of a method runs in the method's object's thread (the GUI thread), queued.
        thread.finished.connect(functools.partial(self._on_thread_finished, run.id))
        self._runs[run.id] = run
        self._current = run
        self._apply("start")
        load_now()  # lazy modules load here, in the GUI thread, never racing the worker's first use
        thread.start()
        return run.id

    def pause(self):
        if self._state == RUNNING:
            self._current.worker.request_pause()

    def resume(self):
        if self._state == PAUSED:
            self._current.worker.request_resume()

    def step(self, epochs: int = 1):
        if self._state in (RUNNING, PAUSED):
            self._current.worker.request_step(epochs)

    def stop(self):
        """End the current run after its current epoch: stopping until its thread has finished."""
        if self._state in (RUNNING, PAUSED):
            self._current.worker.request_stop()
            self._apply("stop")

    def set_pace(self, epochs_per_second):
        if self._current is not None:
            self._current.worker.set_pace(epochs_per_second)

    def retire(self) -> bool:
        """Leave the current run behind at once (Train again, Reset): its worker is told to stop, nothing more
        of it is taken, and its thread is released when it has finished. True when there was a run."""
        run = self._current
        if run is None:
            return False
        run.worker.request_stop()
        self._current = None
        self._apply("retire")
        return True

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Retire the current run and wait for every training thread (closing the window), ``timeout_ms``
        at most for all of them together; True when all have ended."""
        self.retire()
        for run in self._runs.values():
            run.worker.request_stop()
        deadline = time.monotonic() + timeout_ms / 1000
        for run in list(self._runs.values()):
            remaining_ms = max(int((deadline - time.monotonic()) * 1000), 0)
            if run.thread.wait(remaining_ms):
                self._release(run)
        if self._runs:
            LOGGER.warning("%d training thread(s) still running at close", len(self._runs))
            for run in self._runs.values():
                keep_until_exit(run.thread, run.worker)  # not destroyed with this controller
            return False
        return True

    # --- signals from the workers, in the GUI thread -------------------------------------------------
    def _is_current(self, run_id: int) -> bool:
        return self._current is not None and self._current.id == run_id

    @Slot(int, object, object)
    def _on_progress(self, run_id, records, predictor):
        if self._is_current(run_id):
            received, handshake = time.perf_counter(), self._current.worker.handshake
            update = handshake.received()
            try:
                self.sig_progress.emit(records, predictor)  # its handlers may retire the run
            finally:  # the worker waits for this, whatever a handler did
                # The repaints the handlers asked for come in the event loop's next pass, before a zero timer's
                # second turn (a timer's first turn comes before them).
                QTimer.singleShot(0, lambda: QTimer.singleShot(
                    0, lambda: handshake.shown(update, time.perf_counter() - received)))

    def _on_split_made(self, run_id, train):
        if self._is_current(run_id):
            self.sig_trained_on.emit(train)

    @Slot(int)
    def _on_paused(self, run_id):
        if self._is_current(run_id):
            self._apply("paused")

    @Slot(int)
    def _on_resumed(self, run_id):
        if self._is_current(run_id):
            self._apply("resumed")

    @Slot(int, str)
    def _on_worker_finished(self, run_id, reason):
        run = self._runs.get(run_id)
        if run is not None:
            run.outcome = ("finished", reason)

    @Slot(int, str, str)
    def _on_worker_failed(self, run_id, message, details):
        run = self._runs.get(run_id)
        if run is not None:
            run.outcome = ("failed", message, details)

    def _on_thread_finished(self, run_id: int):
        run = self._runs.get(run_id)
        if run is None:  # released already (closing waited for it)
            return
        # finished() is emitted just before the thread is marked finished; this wait covers that moment.
        if not run.thread.wait(100):
            QTimer.singleShot(10, functools.partial(self._on_thread_finished, run_id))
            return
        current = self._is_current(run_id)
        if current:
            self._current = None
        self._release(run)
        if not current:
            return
        outcome = run.outcome or ("failed", "Training stopped unexpectedly: the worker ended without a result.", "")
        self._apply("ended")
        if outcome[0] == "finished":
            self.sig_finished.emit(outcome[1])
        else:
            self.sig_failed.emit(outcome[1], outcome[2])

    def _release(self, run: _Run):
        """Let go of a run whose thread has finished: the QThread is deleted by the event loop, after any
        of its signals still queued."""
        self._runs.pop(run.id, None)
        run.thread.deleteLater()
