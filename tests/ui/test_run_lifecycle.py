"""One training run's lifecycle, driven from the keyboard and the buttons as users reproduced the crashes:
transport keys hammered, Reset right after Train, Train while a run goes on, closing while threads end."""

import random
import time

import pytest
from PySide6.QtCore import QThread, Qt

from cfexplorer.app import GRID_REFRESH_MS
from cfexplorer.core.mf import MatrixFactorization
from cfexplorer.ui.training import IDLE, PAUSED, RUNNING, STOPPING, IllegalTransition
from cfexplorer.ui.training_panel import TRANSPORT_ENABLED

from .test_soak import os_threads

KEYS = {"F5": Qt.Key.Key_F5, "F6": Qt.Key.Key_F6, "F7": Qt.Key.Key_F7, "F8": Qt.Key.Key_F8}
HAMMER = "F5 F5 F8 F5 F6 F6 F7 F8 F5".split()  # as reported; then Reset and F5 a few times
SETTLE_MS = 10_000


def transport_matches_state(window) -> bool:
    """The buttons and the Training menu offer exactly what the controller's state allows."""
    panel = window.training_panel
    expected = {**TRANSPORT_ENABLED[panel.controller.state]}
    if panel.controller.state == "idle":  # Reset only where there is something to forget
        expected["reset"] = panel.model is not None or panel.loss_plot.current is not None
    actions = {"train": window.act_train, "pause": window.act_pause, "step": window.act_step,
               "stop": window.act_stop, "reset": window.act_reset}
    return (panel.transport_enabled() == expected
            and {name: action.isEnabled() for name, action in actions.items()} == expected)


def training_threads(window) -> list:
    return window.training_panel.controller.findChildren(QThread)


def settle(qtbot, window):
    """Wait until no run is active and every training thread has finished and been let go."""
    controller = window.training_panel.controller
    qtbot.waitUntil(lambda: not controller.is_active and controller.thread_count == 0, timeout=SETTLE_MS)
    qtbot.waitUntil(lambda: not training_threads(window), timeout=SETTLE_MS)  # deleted by the event loop


def question_mark_cells(window) -> list:
    """What the grid shows in every cell that has no rating."""
    table = window.table
    ratings = table.ratings
    rated = set(zip(ratings.users.tolist(), ratings.items.tolist()))
    return [table.data(table.index(*table.position(u, i)))
            for u in range(ratings.n_users) for i in range(ratings.n_items) if (u, i) not in rated]


def slow_epochs(monkeypatch, seconds: float):
    """Each gradient epoch of the course's model takes ``seconds`` (sleeping, as a big epoch would compute)."""
    original = MatrixFactorization._gradient_epoch

    def slow(self, *args):
        time.sleep(seconds)
        return original(self, *args)

    monkeypatch.setattr(MatrixFactorization, "_gradient_epoch", slow)


@pytest.mark.parametrize("seed", range(3))
def test_hammering_the_transport_keys_ends_idle_with_no_thread_left(qtbot, window, seed):
    window.open_preset("course")
    panel = window.training_panel
    pause = random.Random(seed)
    threads_before = os_threads()
    for _ in range(2):
        for key in HAMMER + ["Reset", "F5", "F5", "F5"]:
            if key == "Reset":
                qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
            else:
                qtbot.keyClick(window, KEYS[key])
            assert transport_matches_state(window), f"after {key}: {panel.controller.state}"
            qtbot.wait(pause.randint(0, 30))
            assert transport_matches_state(window)
    settle(qtbot, window)
    assert panel.controller.state == IDLE and transport_matches_state(window)
    assert panel.status_label.text().startswith("finished after 200 epochs")  # the last F5 ran to its end
    qtbot.waitUntil(lambda: os_threads() <= threads_before, timeout=SETTLE_MS)


RESET_DELAYS_MS = [30] * 10 + random.Random(16).choices(range(121), k=10)


@pytest.mark.parametrize("delay_ms", RESET_DELAYS_MS)
def test_reset_right_after_train_leaves_nothing_of_the_run(qtbot, window, busy_cpu, delay_ms):
    window.open_preset("course")
    window.factor_dock.raise_()  # frames are drawn, not only remembered
    panel, view = window.training_panel, window.factor_space
    assert set(question_mark_cells(window)) == {"?"}
    qtbot.keyClick(window, KEYS["F5"])
    qtbot.wait(delay_ms)
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert panel.controller.state == IDLE and transport_matches_state(window)
    settle(qtbot, window)  # whatever the run had queued has arrived by now
    qtbot.wait(GRID_REFRESH_MS + 50)  # and any refresh it had scheduled has come round
    assert set(question_mark_cells(window)) == {"?"}
    assert window.table.predictor is None
    assert view.embedding is None and view.frames == []
    # nothing drawn (the next run's curves may wait on the plot, hidden)
    assert panel.loss_plot.runs == [] and not [curve for curve in panel.loss_plot.cost_plot.listDataItems()
                                               if curve.isVisible()]
    assert panel.status_label.text() == "Not trained yet"


def test_train_while_running_supersedes_the_run(qtbot, window):
    window.open_preset("course")
    panel = window.training_panel
    panel.factors.setValue(2)
    panel.epochs.setValue(100_000)
    qtbot.keyClick(window, KEYS["F5"])
    qtbot.waitUntil(lambda: window.table.predictor is not None, timeout=SETTLE_MS)
    old_model, old_run = panel.model, panel.loss_plot.current
    shown, ended = [], []
    original = window.table.set_predictor
    window.table.set_predictor = lambda predictor: (shown.append(predictor), original(predictor))
    panel.sig_run_ended.connect(lambda model, reason: ended.append((model, reason)))

    panel.factors.setValue(3)  # the new run's predictions have three factors, the old one's two
    panel.epochs.setValue(300)
    qtbot.keyClick(window, KEYS["F5"])
    old_epochs = len(old_run.epochs)
    assert ended == [(old_model, "superseded")]
    assert panel.controller.state == RUNNING and transport_matches_state(window)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=SETTLE_MS) as end:
        pass
    assert end.args == [panel.model, "done"]
    settle(qtbot, window)
    assert len(old_run.epochs) == old_epochs  # nothing of the old run reached its curves after Train
    new_run = panel.loss_plot.current
    assert new_run is not old_run and new_run.epochs == list(range(0, 301))
    assert shown and all(p.item_factors.shape[1] == 3 for p in shown)
    assert window.table.predictor.item_factors.shape[1] == 3 and window.table.predictor.epoch == 300


def test_stop_goes_through_stopping_until_the_worker_has_ended(qtbot, window, monkeypatch):
    slow_epochs(monkeypatch, 0.25)
    panel = window.training_panel
    panel.epochs.setValue(1000)
    qtbot.keyClick(window, KEYS["F5"])
    qtbot.waitUntil(lambda: len(panel.loss_plot.current.epochs) > 0, timeout=SETTLE_MS)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=SETTLE_MS) as end:
        qtbot.keyClick(window, KEYS["F8"])
        assert panel.controller.state == STOPPING  # the worker is in the middle of an epoch
        assert panel.controller.thread_count == 1 and transport_matches_state(window)
        assert panel.status_label.text().endswith("stopping…")
        qtbot.keyClick(window, KEYS["F8"])  # pressed again: nothing to do, nothing breaks
        qtbot.keyClick(window, KEYS["F6"])
        assert panel.controller.state == STOPPING
    assert end.args[1] == "stopped"
    assert panel.controller.state == IDLE and panel.controller.thread_count == 0
    assert transport_matches_state(window)


def test_pause_step_resume_keep_buttons_and_menu_in_step_with_the_state(qtbot, window):
    panel, controller = window.training_panel, window.training_panel.controller
    assert transport_matches_state(window) and not window.act_stop.isEnabled()
    qtbot.keyClick(window, KEYS["F7"])  # idle: Step starts a run that pauses after one epoch
    qtbot.waitUntil(lambda: controller.state == PAUSED, timeout=SETTLE_MS)
    assert transport_matches_state(window) and panel.pause_button.text() == "Resume"
    assert panel.loss_plot.current.epochs == [0, 1]  # epoch 0, the starting parameters, is no step
    qtbot.keyClick(window, KEYS["F7"])
    qtbot.waitUntil(lambda: panel.loss_plot.current.epochs == [0, 1, 2] and controller.state == PAUSED,
                    timeout=SETTLE_MS)
    panel.pace.setCurrentText("30 epochs/s")
    qtbot.keyClick(window, KEYS["F6"])
    qtbot.waitUntil(lambda: controller.state == RUNNING, timeout=SETTLE_MS)
    assert transport_matches_state(window) and panel.pause_button.text() == "Pause"
    assert not window.act_step.isEnabled()
    qtbot.keyClick(window, KEYS["F8"])
    assert controller.state == STOPPING and transport_matches_state(window)
    settle(qtbot, window)
    assert transport_matches_state(window)


def test_closing_while_a_superseded_run_is_still_ending_waits_for_both_threads(qtbot, window, monkeypatch):
    slow_epochs(monkeypatch, 0.3)
    panel = window.training_panel
    threads_before = os_threads()
    panel.epochs.setValue(1000)
    qtbot.keyClick(window, KEYS["F5"])
    qtbot.waitUntil(lambda: len(panel.loss_plot.current.epochs) > 0, timeout=SETTLE_MS)
    qtbot.keyClick(window, KEYS["F5"])  # the first run's worker is inside an epoch: it retires, still running
    assert panel.controller.thread_count == 2
    threads = training_threads(window)
    assert window.close()
    assert panel.controller.thread_count == 0 and not panel.controller.is_active
    assert all(thread.isFinished() for thread in threads)  # joined before close returned
    qtbot.waitUntil(lambda: os_threads() <= threads_before, timeout=SETTLE_MS)


def test_signals_of_a_retired_run_are_dropped_and_illegal_events_refused(qtbot, window):
    """A late signal of a retired run (as a queued event would bring it) changes nothing; an event the
    state machine does not allow raises instead of bending the state."""
    panel, controller = window.training_panel, window.training_panel.controller
    qtbot.keyClick(window, KEYS["F7"])
    qtbot.waitUntil(lambda: controller.state == PAUSED, timeout=SETTLE_MS)
    old_id, old_model = controller.run_id, panel.model
    record = old_model.history_[-1]
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    progress = []
    controller.sig_progress.connect(lambda records, predictor: progress.append(records))
    controller._on_progress(old_id, [record], old_model.predictor())
    controller._on_resumed(old_id)
    assert progress == [] and controller.state == IDLE and window.table.predictor is None
    with pytest.raises(IllegalTransition):
        controller._apply("paused")
    panel.epochs.setValue(100_000)
    qtbot.keyClick(window, KEYS["F5"])
    running_id = controller.run_id
    with pytest.raises(IllegalTransition):  # a second run while one is active must retire it first
        controller.start(old_model, window.table.ratings)
    assert controller.state == RUNNING and controller.run_id == running_id
    qtbot.keyClick(window, KEYS["F8"])
    settle(qtbot, window)


def test_the_busy_cpu_fixture_keeps_two_processes_spinning(busy_cpu):
    from pathlib import Path

    def cpu_ticks(pid):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    if not Path("/proc/self/stat").exists():
        pytest.skip("reads CPU time through /proc")
    assert len(busy_cpu) == 2 and all(spinner.poll() is None for spinner in busy_cpu)
    before = [cpu_ticks(spinner.pid) for spinner in busy_cpu]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(cpu_ticks(s.pid) > b for s, b in zip(busy_cpu, before)):
        time.sleep(0.05)
    assert all(cpu_ticks(s.pid) > b for s, b in zip(busy_cpu, before))


def test_a_stop_asked_for_while_the_worker_announces_its_pause_is_not_slept_through():
    """Found by the window state machine on CI: the worker released its lock to say "paused", Reset's stop
    came in that moment and notified nobody, and the worker then waited for good (an idle window with a
    training thread left running). The stop now arrives exactly then, every time."""
    import threading

    from cfexplorer.core.ratings import Ratings
    from cfexplorer.ui.training import TrainingWorker

    ratings = Ratings.from_dense([[5.0, 4.0, float("nan")], [1.0, float("nan"), 2.0]])
    worker = TrainingWorker(MatrixFactorization(n_factors=2, n_epochs=50), ratings, paused=True)
    announced = []
    worker.sig_paused.connect(lambda run_id: (announced.append(run_id), worker.request_stop()),
                              Qt.ConnectionType.DirectConnection)
    finished = []
    worker.sig_finished.connect(lambda run_id, reason: finished.append(reason), Qt.ConnectionType.DirectConnection)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():  # free the sleeper so the process can end, then fail
        worker.request_stop()
    assert announced == [0]
    assert not thread.is_alive(), "the worker slept through the stop asked for while it announced its pause"
    assert finished == ["stopped"]
