"""Training from the panel as a user runs it: real worker thread, real signals."""

import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import QThread, Qt
from PySide6.QtWidgets import QApplication

from cfexplorer.core.edits import SetCells
from cfexplorer.core.mf import MatrixFactorization

from .run_end import train_with_a_slot_after_the_windows_at_the_end

FINISH_MS = 60_000


def drawn(plot) -> list:
    """The curves a plot shows (the next run's may wait on it, hidden)."""
    return [curve for curve in plot.listDataItems() if curve.isVisible()]


def grid_text(window, user, movie):
    table = window.table
    u = list(table.ratings.user_labels).index(user)
    i = list(table.ratings.item_titles()).index(movie)
    return table.data(table.index(*table.position(u, i)))


def run_to_end(qtbot, window):
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=FINISH_MS) as blocker:
        qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    return blocker.args


def start_slow_run(qtbot, panel, epochs: int, seen: int = 3):
    """Click Train for ``epochs`` epochs at 30 a second, and wait until ``seen`` of them are plotted."""
    panel.epochs.setValue(epochs)
    panel.pace.setCurrentText("30 epochs/s")
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.loss_plot.current and len(panel.loss_plot.current.epochs) >= seen, timeout=5000)


def test_train_fills_the_question_marks_and_the_loss_falls(qtbot, window):
    window.open_preset("course-eve")
    panel = window.training_panel
    panel.epochs.setValue(150)
    assert grid_text(window, "Eve", "Love at last") == "?"
    model, reason = run_to_end(qtbot, window)
    assert reason == "done"
    epochs, totals = panel.loss_plot.curve_data("total")
    assert list(epochs) == list(range(0, 151))  # epoch 0 (the starting parameters), then one point per epoch
    assert totals[-1] < 0.5 * totals[0]
    data_x, data_y = panel.loss_plot.curve_data("data")
    reg_x, reg_y = panel.loss_plot.curve_data("reg")
    np.testing.assert_allclose(data_y + reg_y, totals)  # the terms add up to J
    # Eve has no ratings: with mean normalization she is predicted the movie means
    shown = [grid_text(window, "Eve", movie) for movie in window.table.ratings.item_titles()]
    assert shown == ["2.50", "2.50", "2.00", "2.25", "1.25"]
    assert grid_text(window, "Alice", "Love at last") == "5"  # known ratings stay as they are
    assert "finished after 150 epochs" in panel.status_label.text()


def test_without_mean_normalization_eve_is_predicted_zero(qtbot, window):
    window.open_preset("course-eve")
    window.training_panel.mean_normalization.setChecked(False)
    run_to_end(qtbot, window)
    assert {grid_text(window, "Eve", m) for m in window.table.ratings.item_titles()} == {"0.00"}


def test_training_runs_in_a_worker_thread(qtbot, window, monkeypatch):
    threads = set()
    original = MatrixFactorization._gradient_epoch

    def recording(self, *args):
        threads.add(threading.get_ident())
        return original(self, *args)

    monkeypatch.setattr(MatrixFactorization, "_gradient_epoch", recording)
    run_to_end(qtbot, window)
    assert threads and threading.get_ident() not in threads


class EpochClock:
    """A clock for the worker's throttle that moves on a fixed time each time it is read (once an epoch):
    the throttle sees epochs of that length, however fast or loaded the machine is."""

    def __init__(self, seconds_per_epoch: float):
        self.seconds_per_epoch, self.now = seconds_per_epoch, 0.0

    def __call__(self) -> float:
        self.now += self.seconds_per_epoch
        return self.now


def test_progress_reaches_the_gui_at_most_about_30_times_a_second(qtbot, window, monkeypatch):
    from cfexplorer.ui import training
    from cfexplorer.ui.training import MAX_UPDATES_PER_SECOND

    # Showing the updates may take all the GUI thread's time: the throttle's schedule alone decides (the
    # pacing by their cost has a test of its own below).
    monkeypatch.setattr(training, "GUI_SHARE", float("inf"))
    panel = window.training_panel
    panel.controller.throttle_clock = EpochClock(0.003)  # epochs of 3 ms: 1000 of them are 3 s of training
    panel.epochs.setValue(1000)
    batches = []
    panel.controller.sig_progress.connect(lambda records, predictor: batches.append([r.epoch for r in records]))
    run_to_end(qtbot, window)
    assert [epoch for batch in batches for epoch in batch] == list(range(0, 1001))  # every epoch, once, in order
    assert batches[0] == [0]  # the starting parameters' cost shows at once
    # a signal every 1/30 s of training, each carrying the 11 or 12 epochs of 3 ms since the one before
    assert len(batches) <= MAX_UPDATES_PER_SECOND * 3 + 2
    epochs_per_signal = 1 / MAX_UPDATES_PER_SECOND / 0.003
    assert all(int(epochs_per_signal) <= len(batch) <= int(epochs_per_signal) + 1 for batch in batches[1:-1])


def test_the_worker_waits_while_an_update_is_shown_and_costly_updates_come_less_often(qtbot, window, monkeypatch):
    """Each update the GUI thread takes 20 ms to show (a slow machine, a large factor space): meanwhile no epoch
    runs (the worker would hold the GIL against every call from Qt into Python), and the next update comes
    no sooner than the showing took, divided by the GUI's share."""
    import time

    from cfexplorer.ui import training
    from cfexplorer.ui.training import GUI_SHARE, LONGEST_UPDATE_INTERVAL_S

    # However loaded the machine, the worker waits until the update is shown (not 0.25 s at most).
    monkeypatch.setattr(training, "SHOWN_WAIT_S", 60.0)
    panel = window.training_panel
    # Mini-batches of 4 of the course's 15 ratings: numpy in the training thread, holding the GIL (compiled
    # full-batch and ALS epochs hold none and do not wait: test_models_whose_epochs_run_in_the_kernels_say_so).
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("sgd"))
    panel.batch_size.setValue(4)
    panel.controller.throttle_clock = EpochClock(0.003)
    panel.epochs.setValue(1000)
    batches, epochs_run_while_shown = [], []

    def slow_to_show(records, predictor):
        batches.append([r.epoch for r in records])
        before = len(panel.model.history_)
        time.sleep(0.02)
        epochs_run_while_shown.append(len(panel.model.history_) - before)

    panel.controller.sig_progress.connect(slow_to_show)
    run_to_end(qtbot, window)
    assert not panel.model.epochs_release_the_gil
    assert [epoch for batch in batches for epoch in batch] == list(range(0, 1001))  # nothing lost
    assert sum(epochs_run_while_shown) == 0
    # From the third update on (the second is sent before the first showing is measured), at least
    # 20 ms / GUI_SHARE of the throttle's time (3 ms an epoch) apart, and at most the longest interval.
    least, most = int(0.02 / GUI_SHARE / 0.003), int(LONGEST_UPDATE_INTERVAL_S / 0.003) + 1
    assert len(batches) > 5
    assert all(least <= len(batch) <= most for batch in batches[2:-1]), [len(batch) for batch in batches]


def test_an_update_shown_late_does_not_end_the_wait_for_the_next_one(monkeypatch):
    """The worker gave up waiting for update 1 (the GUI thread was held up) and sent update 2: update 1's
    acknowledgement, coming now, must not end the wait for update 2, which nobody has shown yet."""
    from cfexplorer.ui import training

    monkeypatch.setattr(training, "SHOWN_WAIT_S", 0.05)
    handshake = training.UpdateHandshake()
    handshake.sent()
    first = handshake.received()
    assert not handshake.wait_until_shown()  # not shown within SHOWN_WAIT_S: the worker goes on
    handshake.sent()
    handshake.shown(first, 0.01)
    assert not handshake.wait_until_shown()
    second = handshake.received()
    handshake.shown(second, 0.01)
    assert handshake.wait_until_shown()
    assert handshake.interval_floor == pytest.approx(0.01 / training.GUI_SHARE)
    handshake.sent()
    handshake.release()  # a stop: the worker waits for nobody
    assert handshake.wait_until_shown()


def test_the_grid_repaints_predictions_at_most_five_times_a_second(qtbot, window, monkeypatch):
    from cfexplorer.app import GRID_REFRESH_MS
    from cfexplorer.ui import training

    monkeypatch.setattr(training, "GUI_SHARE", float("inf"))  # the throttle's schedule alone: 30 a second
    assert GRID_REFRESH_MS >= 200 and window._grid_refresh_timer.interval() == GRID_REFRESH_MS
    panel = window.training_panel
    panel.controller.throttle_clock = EpochClock(0.003)
    panel.epochs.setValue(1000)
    progress, repaints = [], []
    panel.controller.sig_progress.connect(lambda records, predictor: progress.append(predictor))
    original = window.table.set_predictor
    window.table.set_predictor = lambda predictor: (repaints.append(predictor), original(predictor))
    # Progress alone never repaints the grid: only the refresh timer does (held back here for the whole
    # run), and the run's end, at once, with its last predictions.
    window._grid_refresh_timer.setInterval(3_600_000)
    run_to_end(qtbot, window)
    assert len(progress) > 80 and repaints == [progress[-1]]
    assert window.table.predictor is progress[-1]
    # Several predictions within one refresh interval: the grid shows the newest one, once, when it comes round.
    window._grid_refresh_timer.setInterval(GRID_REFRESH_MS)
    repaints.clear()
    for predictor in progress[-4:-1]:
        panel.sig_predictor_changed.emit(predictor)
    assert repaints == [] and window._grid_refresh_timer.isActive()
    qtbot.waitUntil(lambda: len(repaints) > 0, timeout=5000)
    qtbot.wait(GRID_REFRESH_MS)
    assert repaints == [progress[-2]]


def test_stop_ends_the_run_within_an_epoch(qtbot, window):
    panel = window.training_panel
    start_slow_run(qtbot, panel, 1000)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=5000) as blocker:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        seen_at_stop = len(panel.model.history_)
    assert blocker.args[1] == "stopped"
    assert len(panel.model.history_) <= seen_at_stop + 1
    assert not panel.controller.is_active


def test_the_epoch_axis_spans_the_whole_run_from_its_start(qtbot, window):
    panel = window.training_panel
    panel.validation.setValue(0.2)  # the validation plot, below the cost plot, shows the same epochs
    start_slow_run(qtbot, panel, 400)
    assert panel.loss_plot.validation_shown
    for plot in (panel.loss_plot.cost_plot, panel.loss_plot.validation_plot):
        low, high = plot.viewRange()[0]
        assert low <= 1 and 400 <= high < 420  # the whole run, a little margin, while only epoch 3 is drawn
    with qtbot.waitSignal(panel.sig_run_ended, timeout=5000):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    panel.epochs.setValue(100)
    panel.pace.setCurrentText("full speed")
    run_to_end(qtbot, window)
    low, high = panel.loss_plot.cost_plot.viewRange()[0]
    assert 100 <= high < 120  # the stopped run's few epochs overlay within the new run's span


def test_the_progress_bar_counts_the_epochs_while_training(qtbot, window):
    panel = window.training_panel
    start_slow_run(qtbot, panel, 60, seen=4)  # epochs 0, 1, 2, 3 plotted
    shown = panel.progress.value()
    assert 3 <= shown < 60 and panel.progress.text() == f"epoch {shown} / 60"
    assert panel.progress.updatesEnabled()  # painted with the rest of the window, never frozen
    panel.pace.setCurrentText("full speed")
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        pass
    assert panel.progress.text() == "epoch 60 / 60"


def test_pause_and_resume_continue_the_same_run(qtbot, window):
    panel = window.training_panel
    start_slow_run(qtbot, panel, 60, seen=2)
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.controller.state == "paused", timeout=5000)
    assert panel.pause_button.text() == "Resume"
    paused_at = len(panel.model.history_)
    qtbot.wait(300)
    assert len(panel.model.history_) == paused_at  # nothing moves while paused
    panel.pace.setCurrentText("full speed")
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert [r.epoch for r in panel.model.history_] == list(range(0, 61))
    assert len(panel.loss_plot.runs) == 1


def test_the_time_and_rate_a_run_reports_leave_out_its_pauses(qtbot, window, monkeypatch):
    """A pause counted as training: 563 epochs/s fell to 374 after a pause of 2.5 s, and the run's time at the
    end held the pause. Read on a clock of the test's own, moved by hand."""
    from types import SimpleNamespace

    from cfexplorer.ui import training_panel as panel_module

    clock = [100.0]
    monkeypatch.setattr(panel_module, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    panel = window.training_panel
    start_slow_run(qtbot, panel, 100_000, seen=2)
    clock[0] += 5.0  # trained for 5 s
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.controller.state == "paused", timeout=5000)
    clock[0] += 1000.0  # paused for 1000 s
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.controller.state == "running", timeout=5000)
    epochs = len(panel.loss_plot.current.epochs)
    qtbot.waitUntil(lambda: len(panel.loss_plot.current.epochs) > epochs, timeout=5000)
    assert panel.status_label.text().endswith(" · 5.0 s")  # shown as an epoch arrives: 5 s of training so far
    clock[0] += 2.0  # trained for 2 s more
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        panel.stop()
    assert panel.status_label.text().endswith(" epochs in 7.00 s"), panel.status_label.text()


def test_step_trains_exactly_one_epoch_at_a_time(qtbot, window):
    panel = window.training_panel
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    # epoch 0 is the cost before any update: Step still trains one epoch
    qtbot.waitUntil(lambda: panel.controller.state == "paused" and panel.loss_plot.current.epochs == [0, 1],
                    timeout=5000)
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.loss_plot.current.epochs == [0, 1, 2], timeout=5000)
    qtbot.wait(200)
    assert panel.loss_plot.current.epochs == [0, 1, 2]
    assert window.table.has_predictions
    assert panel.step_button.toolTip().startswith("Train one more epoch of this run")
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=5000)
    assert panel.step_button.toolTip().startswith("Train one epoch and pause (F7): one more of the last run's")


def test_step_after_a_run_ended_trains_its_model_one_epoch_more(qtbot, window):
    """Step after Stop (or the end of a run) started a new run from epoch 0: the stopped run's epochs were
    thrown away, under a tooltip saying "Train exactly one more epoch"."""
    panel = window.training_panel
    panel.epochs.setValue(10)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    finished = panel.model
    trained = finished.history_[-1]
    before = {name: value.copy() for name, value in finished._params.items()}
    curves = panel.loss_plot.current
    with qtbot.waitSignal(panel.controller.sig_state_changed, timeout=FINISH_MS,
                          check_params_cb=lambda state: state == "paused"):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: curves.epochs[-1] == 11, timeout=FINISH_MS)
    assert panel.loss_plot.current is curves and curves.epochs == list(range(12))  # the same curves, one epoch on
    assert panel.model is not finished and [r.epoch for r in panel.model.history_] == list(range(12))
    assert panel.model.history_[-1].total < trained.total  # from the trained parameters, not fresh ones
    assert all(np.array_equal(before[name], value) for name, value in finished._params.items())  # kept whole
    assert panel.progress.value() == 11 and panel.progress.maximum() == 20
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)
    # what this run trained, not the run it went on from ("stopped after 11 epochs in 0.01 s")
    assert panel.status_label.text().startswith("stopped at epoch 11: 1 more in "), panel.status_label.text()
    # with a setting changed since, the last run's model is not what the panel describes: a new run
    panel.reg.setValue(panel.reg.value() + 0.5)
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.loss_plot.current is not curves and panel.loss_plot.current.epochs == [0, 1],
                    timeout=FINISH_MS)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)


@pytest.mark.parametrize("kind", ["mf", "biases", "global_mean"])
def test_a_step_that_trains_a_runs_last_epoch_ends_the_run(qtbot, window, kind):
    """Step after a finished run of one epoch left the panel paused at "epoch 2 / 2" (a baseline's new run at
    "epoch 1 / 1"), with nothing left to train, until Resume ended it."""
    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData(kind))
    panel.epochs.setValue(1)
    run_to_end(qtbot, window)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS) as ended:
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    assert ended.args[1] == "done"
    assert panel.controller.state == "idle" and panel.pause_button.text() == "Pause"
    assert panel.progress.value() == panel.progress.maximum()
    assert panel.status_label.text().startswith("finished"), panel.status_label.text()
    if kind == "mf":  # its model goes on from the finished run's
        assert [record.epoch for record in panel.model.history_] == [0, 1, 2]


@pytest.mark.parametrize("kind", ["neural", "content"])
def test_step_after_a_neural_or_content_run_goes_on_as_the_longer_run(qtbot, window, kind):
    """Step after a neural CF or content-based run started a new run from fresh weights at epoch 0 (only the
    matrix factorizations went on from their model): the run's training was thrown away."""
    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData(kind))
    panel.epochs.setValue(4)
    run_to_end(qtbot, window)
    longer = {name: value.copy() for name, value in panel.model._params.items()}
    panel.epochs.setValue(3)
    run_to_end(qtbot, window)
    curves, finished = panel.loss_plot.current, panel.model
    with qtbot.waitSignal(panel.controller.sig_state_changed, timeout=FINISH_MS,
                          check_params_cb=lambda state: state == "paused"):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: curves.epochs[-1] == 4, timeout=FINISH_MS)
    assert panel.loss_plot.current is curves and curves.epochs == [0, 1, 2, 3, 4]
    assert panel.model is not finished and [record.epoch for record in panel.model.history_] == [0, 1, 2, 3, 4]
    for name, value in panel.model._params.items():  # Adam's moments and the batches' order went on too
        np.testing.assert_allclose(value, longer[name], rtol=1e-12, atol=1e-14, err_msg=name)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)


def test_a_step_to_the_last_epoch_of_a_paused_run_ends_it(qtbot, window):
    panel = window.training_panel
    panel.epochs.setValue(2)
    with qtbot.waitSignal(panel.controller.sig_state_changed, timeout=FINISH_MS,
                          check_params_cb=lambda state: state == "paused"):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS) as ended:
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    assert ended.args[1] == "done" and panel.loss_plot.current.epochs == [0, 1, 2]
    assert panel.status_label.text().startswith("finished after 2 epochs"), panel.status_label.text()


def test_step_after_an_adam_run_goes_on_as_the_longer_run_and_its_replay_too(qtbot, window):
    """Step after a run continued its model with Adam's moments started again (a jolt in the curves, another
    model than the longer run's), and the factor space forgot the replay frames of the epochs before."""
    panel = window.training_panel
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("adam"))
    panel.epochs.setValue(11)
    run_to_end(qtbot, window)
    longer = {name: value.copy() for name, value in panel.model._params.items()}
    panel.epochs.setValue(10)
    run_to_end(qtbot, window)
    replay = [epoch for epoch, _ in window.factor_space.frames]
    assert replay[-1] == 10
    with qtbot.waitSignal(panel.controller.sig_state_changed, timeout=FINISH_MS,
                          check_params_cb=lambda state: state == "paused"):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.loss_plot.current.epochs[-1] == 11, timeout=FINISH_MS)
    for name, value in panel.model._params.items():
        np.testing.assert_allclose(value, longer[name], rtol=1e-12, atol=1e-14, err_msg=name)
    qtbot.waitUntil(lambda: window.factor_space.frames[-1][0] == 11, timeout=FINISH_MS)
    assert [epoch for epoch, _ in window.factor_space.frames] == replay + [11]
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)
    assert window.factor_space.replay.isEnabled() and window.factor_space.replay.maximum() == len(replay)


def test_a_continued_replay_keeps_to_the_frames_budget(qtbot, window):
    from cfexplorer.ui.training_panel import MAX_SNAPSHOTS

    panel = window.training_panel
    panel.epochs.setValue(MAX_SNAPSHOTS)
    run_to_end(qtbot, window)
    assert [epoch for epoch, _ in window.factor_space.frames] == list(range(MAX_SNAPSHOTS + 1))  # every epoch
    panel.epochs.setValue(MAX_SNAPSHOTS)
    with qtbot.waitSignal(panel.controller.sig_state_changed, timeout=FINISH_MS,
                          check_params_cb=lambda state: state == "paused"):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        panel.toggle_pause()  # Resume: the Epochs setting's count more
    epochs = [epoch for epoch, _ in window.factor_space.frames]
    assert epochs == list(range(0, 2 * MAX_SNAPSHOTS + 1, 2))  # both runs at the second's spacing


def test_the_replays_last_frame_is_the_trained_model(qtbot, window):
    """Frames are kept every so many epochs: a run of 300 at every sixth ended its replay at "294 of 294", and once
    the slider had moved the trained model (the neighbours, the positions of epoch 300) was out of reach."""
    from cfexplorer.ui.training_panel import MAX_SNAPSHOTS

    panel, space = window.training_panel, window.factor_space
    window.factor_dock.raise_()
    panel.epochs.setValue(2 * MAX_SNAPSHOTS + 1)  # frames every third epoch: the last one kept was 399 of 401
    run_to_end(qtbot, window)
    epochs = [epoch for epoch, _ in space.frames]
    every = panel.snapshot_every
    assert every == 3 and epochs == list(range(0, 2 * MAX_SNAPSHOTS + 1, every)) + [2 * MAX_SNAPSHOTS + 1]
    assert space.epoch_label.text() == f"{2 * MAX_SNAPSHOTS + 1} of {2 * MAX_SNAPSHOTS + 1}"
    trained = space.embedding.items.factors.copy()
    space.replay.setValue(0)  # back to the start, then to the end: the trained model again
    qtbot.waitUntil(lambda: space.embedding.epoch == 0, timeout=5000)
    space.replay.setValue(space.replay.maximum())
    qtbot.waitUntil(lambda: space.embedding.epoch == 2 * MAX_SNAPSHOTS + 1, timeout=5000)
    np.testing.assert_allclose(space.embedding.items.factors, trained)
    np.testing.assert_allclose(space.embedding.items.factors, panel.model.item_factors_)


def test_a_user_removed_and_another_added_take_the_model_down_though_the_counts_match(qtbot, window):
    """The model's rows were checked by their number only: with Bob removed and Newbie added, the grid showed
    Carol what the model had learned of Bob, and Newbie Dave's, and Save kept that model without a word."""
    from cfexplorer.core.edits import USERS

    run_to_end(qtbot, window)
    table = window.table
    carol = list(table.ratings.user_names()).index("Carol")
    trained = window.training_panel.model.predict([carol], [1])[0]
    bob = list(table.ratings.user_names()).index("Bob")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(bob, 0))))
    window.remove_selected(USERS)
    window.add_user("Newbie")
    qtbot.wait(500)  # past the grid's refresh (its predictions are shown at most 5 times a second)
    assert (table.ratings.n_users, table.ratings.n_items) == (window.training_panel.model.n_users_,
                                                            window.training_panel.model.n_items_)
    assert not table.has_predictions and grid_text(window, "Newbie", "Love at last") == "?"
    assert window.current_model_state() is None and "added or removed" in window.model_left_out()
    window.undo_stack.undo()
    window.undo_stack.undo()  # Bob back where he was: the model's rows are the grid's again
    qtbot.waitUntil(lambda: table.has_predictions, timeout=5000)
    assert window.current_model_state() is not None and window.model_left_out() == ""
    carol = list(table.ratings.user_names()).index("Carol")
    assert table.predicted(carol, 1) == pytest.approx(trained)
    window.undo_stack.redo()  # Bob removed alone: the counts differ, as before
    assert not table.has_predictions


def test_an_undone_edit_replaced_by_another_keeps_the_model_the_grids(qtbot, window):
    """The review's case: the step a run started from undone, and another rating typed (which takes that step off
    the stack): the model was dropped from Save with "users or movies were added or removed"."""
    table = window.table
    unrated = np.argwhere(np.isnan(table.ratings.to_dense()))
    (u1, i1), (u2, i2) = unrated[0], unrated[1]
    table.request_edit(SetCells((int(u1),), (int(i1),), (4.0,)))
    run_to_end(qtbot, window)
    window.undo_stack.undo()
    table.request_edit(SetCells((int(u2),), (int(i2),), (2.0,)))
    assert window.current_model_state() is not None and window.model_left_out() == ""
    assert window.training_panel.stale  # other ratings than it trained on: still said


def test_a_failed_switch_puts_back_a_model_that_did_not_fit_without_its_predictions(qtbot, window, monkeypatch):
    from cfexplorer.core.edits import USERS

    run_to_end(qtbot, window)
    table = window.table
    bob = list(table.ratings.user_names()).index("Bob")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(bob, 0))))
    window.remove_selected(USERS)
    window.add_user("Newbie")
    qtbot.wait(500)
    assert not table.has_predictions and window.current_model_state() is None
    real_reset = window.factor_space.reset_for_new_document
    failures = [RuntimeError("a switch that fails half-way")]

    def failing_once():
        if failures:
            raise failures.pop()
        real_reset()

    reported, errors = [], []
    monkeypatch.setattr("sys.excepthook", lambda *exc_info: reported.append(exc_info[1]))
    monkeypatch.setattr(window, "show_error", lambda title, text: errors.append(text))
    monkeypatch.setattr(window.factor_space, "reset_for_new_document", failing_once)
    assert not window.open_preset("planted")  # fails, and the window is put back on its document
    assert errors and len(reported) == 1
    qtbot.wait(500)
    assert list(table.ratings.user_names()) == ["Alice", "Carol", "Dave", "Newbie"]
    assert not table.has_predictions and window.current_model_state() is None  # still not the grid's model
    window.undo_stack.undo()
    window.undo_stack.undo()  # its rows back: the model is the grid's again
    qtbot.waitUntil(lambda: table.has_predictions, timeout=5000)
    assert window.current_model_state() is not None


def test_a_run_going_on_shows_nothing_in_rows_it_did_not_train(qtbot, window):
    from cfexplorer.core.edits import USERS

    panel, table = window.training_panel, window.table
    start_slow_run(qtbot, panel, 300)
    qtbot.waitUntil(lambda: table.has_predictions, timeout=5000)
    bob = list(table.ratings.user_names()).index("Bob")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(bob, 0))))
    window.remove_selected(USERS)
    window.add_user("Newbie")  # as many users as the run's model has rows, but not the same users
    epochs = len(panel.loss_plot.current.epochs)
    qtbot.waitUntil(lambda: len(panel.loss_plot.current.epochs) > epochs + 3, timeout=10_000)
    qtbot.wait(500)
    assert panel.controller.is_active and panel.stale and not table.has_predictions
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)
    qtbot.wait(500)
    assert not table.has_predictions and window.current_model_state() is None


def test_a_stale_model_is_still_stale_when_its_project_is_opened_again(qtbot, window, tmp_path):
    """Saved after an edit that followed its training, a project reopened with the model shown as current: no
    notice that its predictions and J describe older ratings."""
    panel = window.training_panel
    run_to_end(qtbot, window)
    fresh, stale = tmp_path / "fresh.cfx", tmp_path / "stale.cfx"
    assert window.save_to(fresh)
    window.table.request_edit(SetCells((1,), (1,), (1.0,)))
    assert panel.stale
    assert window.save_to(stale)
    for path, expected in ((fresh, False), (stale, True), (fresh, False)):
        assert window.open_file(path, confirm=False)
        assert window.training_panel.model is not None and panel.stale is expected, path.name
        assert panel.stale_box.isVisibleTo(window) is expected
    assert window.open_file(stale, confirm=False)
    run_to_end(qtbot, window)  # trained again on what the grid holds: current
    assert not panel.stale and not panel.stale_box.isVisibleTo(window)


def test_after_reset_the_runs_left_stay_earlier_runs(qtbot, window):
    """Reset took the last run's curves away and drew the run before it solid, under the current run's names
    (J (total), data term), its hover readout answering for it: an older run passed for the one just reset."""
    panel = window.training_panel
    plot = panel.loss_plot
    panel.reg.setValue(0.0)
    run_to_end(qtbot, window)
    panel.reg.setValue(1.5)
    run_to_end(qtbot, window)
    first, second = plot.runs
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert plot.runs == [first] and plot.current is None
    left = plot._curves[0]
    assert left["total"].opts["pen"].style() == Qt.PenStyle.DashLine
    legend = [label.text for _, label in plot.cost_legend.items]
    assert legend == ["run 1"]  # an earlier run, named by its number (no other run to differ from)
    assert plot.describe_epoch(3) == ""  # the hover readout is the current run's: there is none
    panel.clear_history_button.click()
    assert plot.runs == []
    run_to_end(qtbot, window)  # a new run is current again
    assert plot.current is plot.runs[-1] and plot._curves[-1]["total"].opts["pen"].style() == Qt.PenStyle.SolidLine


def test_reset_is_offered_only_with_something_to_forget(qtbot, window):
    """Reset and Training ▸ Reset Model stood enabled beside "Not trained yet"."""
    panel = window.training_panel
    assert not panel.reset_button.isEnabled() and not window.act_reset.isEnabled()  # nothing trained yet
    run_to_end(qtbot, window)
    assert panel.reset_button.isEnabled() and window.act_reset.isEnabled()
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert not panel.reset_button.isEnabled() and not window.act_reset.isEnabled()
    window.open_preset("planted")
    assert not panel.reset_button.isEnabled()


def test_a_step_at_full_speed_is_not_given_as_the_runs_rate(qtbot, window):
    """"epoch 23 / 222 · 124 epochs/s" of a run held to 10 a second: the Step after Stop trains one epoch at full
    speed, and the status gave that epoch's speed as the run's rate."""
    import re

    panel = window.training_panel
    start_slow_run(qtbot, panel, 500)  # held to 30 epochs a second
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)
    with qtbot.waitSignal(panel.controller.sig_state_changed, timeout=FINISH_MS,
                          check_params_cb=lambda state: state == "paused"):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)  # goes on from the stopped run
    qtbot.waitUntil(lambda: "going on" not in panel.status_label.text(), timeout=FINISH_MS)
    assert "epochs/s" not in panel.status_label.text(), panel.status_label.text()  # no rate from one Step
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)
    panel.reset()  # nothing to go on from: Step starts a run, whose epoch 0 (J at the start) is no epoch trained
    with qtbot.waitSignal(panel.controller.sig_state_changed, timeout=FINISH_MS,
                          check_params_cb=lambda state: state == "paused"):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.status_label.text().startswith("epoch 1"), timeout=FINISH_MS)
    assert "epochs/s" not in panel.status_label.text(), panel.status_label.text()
    panel.toggle_pause()  # Resume: held to 30 a second again, and measured so
    epochs = len(panel.loss_plot.current.epochs)
    qtbot.waitUntil(lambda: len(panel.loss_plot.current.epochs) >= epochs + 10, timeout=10_000)
    rate = float(re.search(r"([\d,]+) epochs/s", panel.status_label.text()).group(1).replace(",", ""))
    assert rate <= 2 * 30, panel.status_label.text()  # (a loaded machine gives fewer)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)


def test_editing_during_training_marks_the_result_stale(qtbot, window):
    panel = window.training_panel
    panel.epochs.setValue(300)
    panel.pace.setCurrentText("100 epochs/s")
    panel.train()
    qtbot.waitUntil(lambda: panel.loss_plot.current and len(panel.loss_plot.current.epochs) >= 2, timeout=5000)
    window.table.request_edit(SetCells((1,), (1,), (1.0,)))
    window.add_user("Zed")  # a shape change during training too
    assert panel.stale and panel.stale_box.isVisible()
    assert "old ratings" in panel.stale_label.text()
    panel.stop()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=5000)
    assert window.table.rowCount() == 5 and window.table.columnCount() == 5
    panel.pace.setCurrentText("full speed")
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.retrain_button, Qt.MouseButton.LeftButton)
    assert not panel.stale and not panel.stale_box.isVisible()
    assert grid_text(window, "Zed", "Love at last") != "?"  # the retrained model knows the new user


def test_a_diverging_learning_rate_ends_with_a_message_not_nan(qtbot, window):
    panel = window.training_panel
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("gd"))
    panel.learning_rate.setValue(90.0)
    model, reason = run_to_end(qtbot, window)
    assert reason == "failed"
    assert "learning rate (90) is probably too high" in window.message_bar.text
    table = window.table
    shown = [table.data(table.index(r, c)) for r in range(table.rowCount()) for c in range(table.columnCount())]
    assert not any("nan" in text.lower() or "inf" in text.lower() for text in shown)
    # the app keeps working: a sane learning rate trains again
    panel.learning_rate.setValue(0.05)
    assert run_to_end(qtbot, window)[1] == "done"


def test_closing_the_window_during_training_stops_the_worker(qtbot, window):
    panel = window.training_panel
    panel.epochs.setValue(100_000)
    panel.train()
    qtbot.waitUntil(lambda: panel.controller.state == "running", timeout=5000)
    threads = panel.controller.findChildren(QThread)
    assert len(threads) == 1 and threads[0].isRunning()
    assert window.close()
    assert threads[0].isFinished()  # joined before the window went
    assert not panel.controller.is_active and panel.controller.thread_count == 0


def test_a_stopped_runs_legend_names_the_epochs_it_trained(qtbot, window):
    """A run stopped at epoch 72 was named in the legend by the 300 epochs it was set to ("epochs=300")."""
    from cfexplorer.ui.loss_plot import settings_label

    panel = window.training_panel
    start_slow_run(qtbot, panel, 300, seen=4)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    stopped_at = panel.model.history_[-1].epoch
    assert stopped_at < 300
    panel.pace.setCurrentText("full speed")
    panel.reg.setValue(panel.reg.value() + 0.5)
    run_to_end(qtbot, window)
    runs = panel.loss_plot.runs
    assert settings_label(runs[0], runs) == f"run 1: epochs={stopped_at} of 300, λ={runs[0].settings['reg']:g}"
    assert settings_label(runs[1], runs) == f"run 2: λ={runs[1].settings['reg']:g}"  # its 300 of 300: not said
    legend = [label.text for _, label in panel.loss_plot.cost_legend.items]
    assert settings_label(runs[0], runs) in legend


def test_runs_overlay_and_legend_names_what_differs(qtbot, window):
    panel = window.training_panel
    panel.epochs.setValue(20)  # the second run at 30 epochs a second: 200 took 7 s of the suite
    panel.reg.setValue(0.0)
    run_to_end(qtbot, window)
    panel.reg.setValue(1.5)
    panel.mean_normalization.setChecked(not panel.mean_normalization.isChecked())
    panel.pace.setCurrentText("30 epochs/s")  # how fast a run is shown is not what it learned from
    run_to_end(qtbot, window)
    from cfexplorer.ui.loss_plot import settings_label

    runs = panel.loss_plot.runs
    assert len(runs) == 2
    # the panel's words, not the parameters' names ("reg=0", "mean_normalization=off", "pace=None")
    first = "run 1: λ=0, mean normalization=on"
    assert settings_label(runs[0], runs) == first
    assert settings_label(runs[1], runs) == "run 2: λ=1.5, mean normalization=off"
    plot = panel.loss_plot
    legend = [label.text for _, label in plot.cost_legend.items]
    assert legend == ["J (total)", "data term", "regularization term", first]  # its J dashed
    old, new = plot._curves
    assert old["total"].opts["pen"].style() == Qt.PenStyle.DashLine
    assert new["total"].opts["pen"].style() == Qt.PenStyle.SolidLine
    np.testing.assert_array_equal(old["total"].yData, runs[0].series("total"))  # the first run's own numbers
    plot._make_spare_curves()  # as its timer does, soon after a run: on a busy machine before the click
    panel.clear_history_button.click()
    assert len(panel.loss_plot.runs) == 1
    assert drawn(plot.cost_plot) == [new["total"], new["data"], new["reg"]]
    on_plots = plot.cost_plot.listDataItems() + plot.validation_plot.listDataItems()
    assert not [curve for curve in old.values() if curve in on_plots]  # taken off, not hidden
    assert [label.text for _, label in plot.cost_legend.items] == ["J (total)", "data term", "regularization term"]


def test_each_train_moves_the_legend_to_the_new_run_without_remaking_its_entries(qtbot, window):
    panel = window.training_panel
    plot = panel.loss_plot
    panel.epochs.setValue(10)
    for reg in (0.0, 1.5):
        panel.reg.setValue(reg)
        run_to_end(qtbot, window)
    labels_before = {label.text: label for _, label in plot.cost_legend.items + plot.validation_legend.items}
    panel.reg.setValue(3.0)
    run_to_end(qtbot, window)
    entries = {label.text: sample.item for sample, label in plot.cost_legend.items + plot.validation_legend.items}
    assert list(entries) == ["J (total)", "data term", "regularization term", "run 2: λ=1.5", "run 1: λ=0", "RMSE",
                             "MAE"]
    newest, second = plot._curves[-1], plot._curves[-2]
    # each entry's sample draws the curve it names: the new run's terms, the earlier run's dashed J
    assert [entries[name] for name in ("J (total)", "data term", "regularization term", "RMSE", "MAE")] == \
        [newest["total"], newest["data"], newest["reg"], newest["validation"], newest["validation2"]]
    assert entries["run 2: λ=1.5"] is second["total"]
    assert second["total"].opts["pen"].style() == Qt.PenStyle.DashLine
    for name in ("run 1: λ=0", "J (total)", "data term", "regularization term", "RMSE", "MAE"):
        assert any(label is labels_before[name] for _, label in plot.cost_legend.items + plot.validation_legend.items)
    # the legend's box holds every entry, laid out row by row in reading order
    qtbot.waitUntil(lambda: all(plot.cost_legend.sceneBoundingRect().contains(label.sceneBoundingRect())
                                for _, label in plot.cost_legend.items))
    columns = plot.cost_legend.columnCount
    shown = plot.cost_legend.shown_entries  # the current run's three terms at least (the pane's height decides)
    in_layout = [plot.cost_legend.layout.itemAt(i // columns, 2 * (i % columns) + 1).text for i in range(shown)]
    assert shown >= 3 and in_layout == list(entries)[:shown]


def test_the_legends_lie_above_the_plots_over_none_of_the_curves(qtbot, window):
    """Drawn in the plots' corners, the legends hid the curves under their boxes (the start of J's fall, the
    earlier runs' dashed curves, the validation errors); and the epochs are numbered as epochs."""
    panel, plot = window.training_panel, window.training_panel.loss_plot
    window.resize(1280, 720)
    panel.validation.setValue(0.2)
    for reg in (1.0, 1.5, 0.5):
        panel.reg.setValue(reg)
        run_to_end(qtbot, window)
    window.curves_dock.raise_()
    assert len(plot.cost_legend.items) == 5 and len(plot.validation_legend.items) == 2
    shown = plot.layout_widget
    area = shown.mapToScene(shown.viewport().rect()).boundingRect()  # what the pane shows of the plots

    def placed():
        for legend, chart in plot._legends:
            box, view = legend.sceneBoundingRect(), chart.vb.sceneBoundingRect()
            labels = [label.sceneBoundingRect() for _, label in legend.items if label.isVisible()]
            if not (box.bottom() <= view.top() and area.contains(box) and all(box.contains(r) for r in labels)):
                return False
        return True

    qtbot.waitUntil(placed)  # the curves are drawn in the views only: no legend box covers any of them
    assert all(legend.isVisible() and chart.vb.sceneBoundingRect().height() > 50 for legend, chart in plot._legends)
    for chart in (plot.cost_plot, plot.validation_plot):
        axis = chart.getAxis("bottom")
        assert axis.tickStrings([100.0, 200.0], axis.autoSIPrefixScale * axis.scale, 100.0) == ["100", "200"]
    # In presentation type the names of all the runs took six rows and left the plots a sliver: the earlier runs'
    # names give way first (the current run's terms stay), and the curves keep a third of the pane (the rest is
    # the axes' and the legends').
    plot.set_text_size(1.5 * QApplication.font().pointSizeF())
    for factors, reg, rate in ((3, 2.0, 0.05), (4, 2.5, 0.03), (5, 3.0, 0.02)):  # long names: a column of them
        panel.factors.setValue(factors)
        panel.reg.setValue(reg)
        panel.learning_rate.setValue(rate)
        run_to_end(qtbot, window)
    shown = plot.layout_widget.viewport().height()

    def curves_keep_their_room():
        names = [label.text for _, label in plot.cost_legend.items if label.isVisible()]
        return (names[:3] == ["J (total)", "data term", "regularization term"]
                and plot.cost_plot.vb.height() + plot.validation_plot.vb.height() >= shown / 3 and placed())

    qtbot.waitUntil(curves_keep_their_room)
    plot.set_text_size(QApplication.font().pointSizeF())
    # one run: its three terms in a row
    panel.clear_history_button.click()
    qtbot.waitUntil(lambda: plot.cost_legend.rowCount == 1 and placed())


def test_the_legend_names_the_current_run_first_and_the_newest_few_earlier_ones(qtbot, window):
    """With seven earlier runs listed first, the current run's terms fell below the plot."""
    from cfexplorer.ui.loss_plot import LEGEND_EARLIER_RUNS

    panel = window.training_panel
    plot = panel.loss_plot
    panel.epochs.setValue(5)
    for reg in range(6):
        panel.reg.setValue(float(reg))
        run_to_end(qtbot, window)
    names = [label.text for _, label in plot.cost_legend.items]
    assert names[:3] == ["J (total)", "data term", "regularization term"]
    assert names[3:] == [f"run {run}: λ={run - 1}" for run in (5, 4, 3)][:LEGEND_EARLIER_RUNS]
    assert len(drawn(plot.cost_plot)) == 6 * 3  # every kept run still drawn


def test_the_legend_empties_with_another_document_and_fills_again_with_the_next_run(qtbot, window):
    panel = window.training_panel
    plot = panel.loss_plot
    panel.epochs.setValue(10)
    run_to_end(qtbot, window)
    labels_before = [label for _, label in plot.cost_legend.items]
    window.open_preset("course-eve")
    assert plot.cost_legend.items == [] and plot.validation_legend.items == []
    assert not any(label.isVisible() for label in labels_before)  # nothing of the old run is drawn
    run_to_end(qtbot, window)
    entries = plot.cost_legend.items
    assert [label.text for _, label in entries] == ["J (total)", "data term", "regularization term"]
    assert [sample.item for sample, _ in entries] == [plot._curves[-1][term] for term in ("total", "data", "reg")]
    assert all(sample.isVisible() and label.isVisible() for sample, label in entries)
    assert {id(label) for _, label in entries} == {id(label) for label in labels_before}  # taken back, not made
    panel.reset_button.click()
    assert plot.cost_legend.items == [] and drawn(plot.cost_plot) == []


def test_a_long_run_plots_every_epoch_it_reported(qtbot, window):
    """The curves are extended batch by batch as progress arrives: what they hold at the end is every epoch."""
    panel = window.training_panel
    panel.epochs.setValue(400)
    batches = []
    panel.controller.sig_progress.connect(lambda records, predictor: batches.append(len(records)))
    run_to_end(qtbot, window)
    history = panel.model.history_
    assert len(batches) > 1 and sum(batches) == len(history)
    x, y = panel.loss_plot.curve_data("total")
    np.testing.assert_array_equal(x, [record.epoch for record in history])
    np.testing.assert_array_equal(y, [record.total for record in history])
    x, y = panel.loss_plot.curve_data("reg")
    np.testing.assert_array_equal(y, [record.reg_term for record in history])


def test_the_plot_keeps_the_last_eight_runs(qtbot, window):
    from cfexplorer.ui.loss_plot import KEPT_RUNS

    panel = window.training_panel
    panel.epochs.setValue(20)
    for _ in range(KEPT_RUNS + 2):
        run_to_end(qtbot, window)
    plot = panel.loss_plot
    assert [run.number for run in plot.runs] == list(range(3, KEPT_RUNS + 3))
    assert len(drawn(plot.cost_plot)) == 3 * KEPT_RUNS  # J, data and reg of each kept run
    assert len(drawn(plot.validation_plot)) == 2 * KEPT_RUNS
    np.testing.assert_array_equal(plot.curve_data("total", 0)[1], plot.runs[0].series("total"))


def test_each_earlier_run_is_drawn_in_a_colour_of_its_own_and_its_legend_sample_in_it(qtbot, window):
    """λ = 0, 1 and 1.5 trained one after another, then λ = 2: the three earlier runs were drawn in the same faded,
    dashed colours, so the legend's "run 2: λ=1" named no curve a student could find."""
    from cfexplorer.ui.loss_plot import settings_label

    panel, plot = window.training_panel, window.training_panel.loss_plot
    window.resize(1400, 1000)
    window.resizeDocks([window.curves_dock], [700], Qt.Orientation.Horizontal)  # room to name all three
    window.resizeDocks([window.curves_dock], [500], Qt.Orientation.Vertical)
    panel.epochs.setValue(20)
    for reg in (0.0, 1.0, 1.5, 2.0):
        panel.reg.setValue(reg)
        run_to_end(qtbot, window)
    for presenting in (False, True):  # and presentation mode's thicker lines
        window.set_presentation(presenting)
        qtbot.wait(50)
        *earlier, current = plot._curves
        colours = [curves["total"].opts["pen"].color() for curves in earlier]
        for index, colour in enumerate(colours):  # told apart, not merely unequal
            assert all(colour_distance(colour, other) > 60 for other in colours[index + 1:]), presenting
        for curves, colour in zip(earlier, colours):  # each run's curves in its colour, J dashed
            assert {curve.opts["pen"].color().rgba() for curve in curves.values()} == {colour.rgba()}
            assert curves["total"].opts["pen"].style() == Qt.PenStyle.DashLine
        # the current run keeps its solid colours, one a term
        assert len({current[term].opts["pen"].color().rgb() for term in ("total", "data", "reg")}) == 3
        assert {curve.opts["pen"].style() for curve in current.values()} == {Qt.PenStyle.SolidLine}
        # the legend names each earlier run by a sample drawn in its J's pen: its colour is on the screen there
        picture = plot.layout_widget.grab().toImage()
        samples = {label.text: sample for sample, label in plot.cost_legend.items}
        named = 0
        for run, curves, colour in zip(plot.runs, earlier, colours):
            sample = samples[settings_label(run, plot.runs)]
            assert sample.item is curves["total"]
            if not sample.isVisible():  # the oldest give way in a short legend (presentation type)
                continue
            named += 1
            box = plot.layout_widget.mapFromScene(sample.sceneBoundingRect()).boundingRect()
            shown = [picture.pixelColor(x, y) for x in range(box.left(), box.right() + 1)
                     for y in range(box.top(), box.bottom() + 1)]
            on_white = over_white(colour)
            assert min(colour_distance(pixel, on_white) for pixel in shown) < 25, run.number
        assert named == 3 or presenting and named >= 1


def colour_distance(first, second) -> float:
    return float(np.linalg.norm(np.subtract(first.getRgb()[:3], second.getRgb()[:3])))


def over_white(colour):
    """The colour a translucent pen leaves on the plot's white."""
    from PySide6.QtGui import QColor

    alpha = colour.alphaF()
    return QColor(*(round(alpha * channel + (1 - alpha) * 255) for channel in colour.getRgb()[:3]))


def test_export_curves_as_csv_and_png(qtbot, window, tmp_path):
    run_to_end(qtbot, window)
    panel = window.training_panel
    panel.export_curves(str(tmp_path / "curves.csv"))
    lines = (tmp_path / "curves.csv").read_text().splitlines()
    assert lines[0].startswith("run,settings,epoch,data_term,reg_term,total")
    assert len(lines) == 1 + 1 + panel.epochs.value()  # the header, epoch 0, then one line per epoch
    assert [line.split(",")[2] for line in lines[1:3]] == ["0", "1"]
    panel.export_curves(str(tmp_path / "curves.png"))
    assert (tmp_path / "curves.png").stat().st_size > 1000
    panel.export_curves(str(tmp_path / "curves.svg"))
    assert "<svg" in (tmp_path / "curves.svg").read_text() and "J (total)" in (tmp_path / "curves.svg").read_text()


def test_the_exported_png_draws_the_tick_labels_at_its_own_scale_antialiased(qtbot, window, tmp_path):
    """Export… wrote the tick labels as the screen's cached pixels of the axes blown up four times: blocky,
    jagged text, each of the screen's grey edge pixels a 4 x 4 block (and the SVG had them as bitmaps). Drawn at
    the picture's scale, a glyph's edge is a pixel wide, grey where the glyph covers part of a pixel."""
    from .on_a_screen import tick_labels

    run_to_end(qtbot, window)
    plot = window.training_panel.loss_plot
    window.training_panel.export_curves(str(tmp_path / "curves.png"))
    labels = [label for axis in tick_labels(plot) for label in axis["labels"]]
    assert_sharp_tick_labels(tmp_path / "curves.png", plot.layout_widget, labels)
    window.training_panel.export_curves(str(tmp_path / "curves.svg"))
    svg = (tmp_path / "curves.svg").read_text()
    assert all(f">{label['text']}<" in svg for label in labels)  # the numbers as text, not in a bitmap


def assert_sharp_tick_labels(path, view, labels, scale=None):
    """The exported picture at ``path`` of the graphics ``view`` (at its top left; ``scale`` times its size, by
    default as wide as the picture) draws each of the tick ``labels`` (on_a_screen.plot_tick_labels) at its own
    scale: dark strokes with an edge a pixel wide."""
    from PySide6.QtGui import QImage

    picture = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    scale = picture.width() / view.width() if scale is None else scale
    assert scale > 2  # a picture at more than the screen's pixels (1600 wide at least, up to four times)
    pixels = np.frombuffer(picture.constBits(), np.uint8).reshape(picture.height(), picture.bytesPerLine())
    assert len(labels) >= 4
    for label in labels:
        x, y, width, height = label["in_scene"]
        corner = view.mapFromScene(x, y)
        left, top = int(corner.x() * scale), int(corner.y() * scale)
        text = pixels[top:top + int(height * scale), left:left + int(width * scale)].astype(int)
        dark, grey = (text < 100).sum(), ((text > 40) & (text < 215)).sum()
        assert dark > 0 and grey > 0, label["text"]  # there, and antialiased
        # an edge a pixel wide around the glyphs' dark strokes: blown up, a third more grey than dark
        assert grey < 0.6 * dark, (label["text"], grey, dark)


def test_binary_preset_shows_probabilities(qtbot, window):
    window.open_preset("course-binary")
    assert window.training_panel.loss.currentData() == "bce"
    run_to_end(qtbot, window)
    value = float(grid_text(window, "Bob", "Romance forever"))
    assert 0 < value < 1


def test_explanation_adds_up_to_the_grid(qtbot, window):
    table = window.table
    u = list(table.ratings.user_labels).index("Bob")
    i = list(table.ratings.item_titles()).index("Romance forever")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(u, i))))
    run_to_end(qtbot, window)  # the cell was chosen before training: it must show the final numbers
    parts = table.predictor.explain(u, i)
    assert parts["dot"] + parts["user_bias"] + parts["item_bias"] + parts["offset"] == pytest.approx(parts["score"])
    assert f"{parts['prediction']:.2f}" == grid_text(window, "Bob", "Romance forever")
    # the explanation follows on a pass of the event loop of its own, after the grid's last update
    qtbot.waitUntil(lambda: f"{parts['score']:.4f}" in window.explain_panel.text.toPlainText(), timeout=5000)
    assert "Romance forever" in window.explain_panel.text.toPlainText()
    # Bob's unrated movies, best first, with the predictions the grid shows for them
    rated = set(table.ratings.items[table.ratings.users == u])
    unrated = [m for m in range(table.ratings.n_items) if m not in rated]
    expected = sorted(unrated, key=lambda m: -table.predictor.predict_cell(u, m))
    names = table.ratings.item_titles()
    assert window.explain_panel.recommendations.stringList() == [
        f"{names[m]}  —  {grid_text(window, 'Bob', names[m])}" for m in expected]


def test_a_recommendation_clipped_to_the_scale_says_the_score_it_was_clipped_from(qtbot, window):
    """MovieLens's Top 10 read "5.00" ten times: the ranking (by the model's own scores, past the scale's end)
    could not be seen."""
    from .test_factor_tables import type_into_table

    table = window.table
    bob = list(table.ratings.user_labels).index("Bob")
    romance = list(table.ratings.item_titles()).index("Romance forever")  # Bob has not rated it
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(bob, 0))))
    run_to_end(qtbot, window)
    model = window.training_panel.model
    type_into_table(qtbot, window.factor_tables.movie_view, romance, 0, "40")  # far past the scale
    z = model.predictor().explain(bob, romance)["score"]
    assert not 0 <= z <= 5
    listed = window.explain_panel.recommend(bob)
    shown = next(text for text in listed if text.startswith("Romance forever  —  "))
    assert shown == f"Romance forever  —  {np.clip(z, 0, 5):.2f} (clipped from {z:.2f})"
    assert all("clipped" not in text for text in listed if not text.startswith("Romance forever"))


def test_a_recommendation_clicked_goes_to_its_cell_in_the_grid(qtbot, window):
    """A click on a movie of the Top 10 did nothing."""
    table = window.table
    bob = list(table.ratings.user_labels).index("Bob")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(bob, 0))))
    run_to_end(qtbot, window)
    explain = window.explain_panel
    qtbot.waitUntil(lambda: explain.recommendations.rowCount() > 0, timeout=5000)
    view = explain.list_view
    first = explain.recommendations.index(0, 0)
    movie = list(table.ratings.item_titles()).index(first.data().split("  —  ")[0])
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(first).center())
    current = window.proxy.mapToSource(window.grid.currentIndex())
    assert table.cell(current.row(), current.column()) == (bob, movie)
    qtbot.waitUntil(lambda: first.data().split("  —  ")[0] in explain.text.toPlainText(), timeout=5000)


def test_the_explanation_of_a_runs_last_predictions_comes_in_a_pass_of_its_own(qtbot, window, monkeypatch):
    """At a run's end the grid's and the tables' last update and the explanation's rich text made one stall
    (6-11 ms of it the explanation, beside 59,047 movies): the explanation follows on a later pass."""
    table, panel, explain = window.table, window.training_panel, window.explain_panel
    u = list(table.ratings.user_labels).index("Bob")
    i = list(table.ratings.item_titles()).index("Romance forever")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(u, i))))
    panel.epochs.setValue(30)
    refreshed_for = []  # the grid's predictor at each refresh of the explanation
    original = explain.refresh
    monkeypatch.setattr(explain, "refresh", lambda: (refreshed_for.append(table.predictor), original())[1])
    at_the_end = []

    def after_the_windows_handler(*_):
        QApplication.sendPostedEvents()
        at_the_end.append((table.predictor, len(refreshed_for)))

    train_with_a_slot_after_the_windows_at_the_end(qtbot, panel, after_the_windows_handler)
    [(last, refreshes)] = at_the_end
    assert last is not None and last not in refreshed_for[:refreshes]  # not explained in the end's own pass
    qtbot.waitUntil(lambda: last in refreshed_for, timeout=5000)
    score = f"{last.explain(u, i)['score']:.4f}"
    assert score in explain.text.toPlainText()


def test_the_explanation_follows_each_of_the_grids_updates_during_a_slowed_run(qtbot, window):
    """In a run slowed to 3 epochs a second the Explain pane and the top 10 came 200 ms after each of the grid's
    updates, on a clock of their own: most of the time they explained the epoch before the grid's."""
    table, panel, explain = window.table, window.training_panel, window.explain_panel
    u = list(table.ratings.user_labels).index("Bob")
    i = list(table.ratings.item_titles()).index("Romance forever")
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(u, i))))
    # The grid shown at every epoch (10 a second), not five times a second: each of its updates is one the pane
    # must follow before the next, whatever the grid's pace (at its usual one, a clock of the pane's own kept
    # that order, only late).
    window._grid_refresh_timer.setInterval(0)
    when_the_grid_moves_on = []  # what the grid showed for the cell, what the pane said, the top 10 and its own
    original = table.set_predictor

    def set_predictor(predictor):
        if table.predictor is not None:
            when_the_grid_moves_on.append((grid_text(window, "Bob", "Romance forever"), explain.text.toPlainText(),
                                           explain.recommendations.stringList(), explain.recommend(u)))
        original(predictor)

    table.set_predictor = set_predictor
    panel.epochs.setValue(20)
    panel.pace.setCurrentText("10 epochs/s")
    run_to_end(qtbot, window)
    assert len(when_the_grid_moves_on) >= 10
    for grid, pane, top, grids_top in when_the_grid_moves_on:
        assert f"the grid shows the prediction {grid}" in pane, (grid, pane)
        assert top == grids_top
    qtbot.waitUntil(lambda: f"the grid shows the prediction {grid_text(window, 'Bob', 'Romance forever')}"
                    in explain.text.toPlainText(), timeout=5000)


def test_reset_keeps_the_selected_cell_and_its_explanation_says_there_is_no_model(qtbot, window):
    """Reset took the predictions out of the grid at once, and the Explain pane went on explaining the cell with
    the forgotten model's numbers, its top 10 too, until its next throttled refresh."""
    table, explain = window.table, window.explain_panel
    u = list(table.ratings.user_labels).index("Bob")
    i = list(table.ratings.item_titles()).index("Romance forever")
    cell = window.proxy.mapFromSource(table.index(*table.position(u, i)))
    window.grid.setCurrentIndex(cell)
    run_to_end(qtbot, window)
    score = f"{table.predictor.explain(u, i)['score']:.4f}"
    qtbot.waitUntil(lambda: score in explain.text.toPlainText(), timeout=5000)
    assert explain.recommendations.stringList()
    qtbot.mouseClick(window.training_panel.reset_button, Qt.MouseButton.LeftButton)
    assert grid_text(window, "Bob", "Romance forever") == "?"
    text = explain.text.toPlainText()
    assert score not in text and "Train a model to see how its prediction for this cell is made" in text, text
    assert explain.recommendations.stringList() == []
    assert explain.top_label.text() == "Top 10 for Bob: no trained model"
    assert window.grid.currentIndex() == cell  # the selection is the user's: it stays


def test_a_cell_the_model_cannot_explain_says_so_in_the_pane(qtbot, window, monkeypatch):
    run_to_end(qtbot, window)
    reported = []
    monkeypatch.setattr("sys.excepthook", lambda *exc_info: reported.append(exc_info[1]))

    def broken_explain(self, user, item):
        raise ValueError("no such factor")

    monkeypatch.setattr(type(window.table.predictor), "explain", broken_explain)
    table = window.table
    window.grid.setCurrentIndex(window.proxy.mapFromSource(table.index(*table.position(1, 1))))
    window.explain_panel.refresh()
    assert "cannot be explained: no such factor" in window.explain_panel.text.toPlainText()
    assert window.explain_panel.recommendations.stringList() == []
    assert [str(e) for e in reported] == ["no such factor"]  # reported once, as every bug is


def test_trained_model_is_saved_in_the_project_and_restored(qtbot, window, tmp_path):
    window.open_preset("course-eve")
    run_to_end(qtbot, window)
    before = grid_text(window, "Eve", "Love at last")
    path = tmp_path / "trained.cfx"
    assert window.save_to(path)
    window.open_preset("course")
    assert window.open_file(path)
    assert grid_text(window, "Eve", "Love at last") == before
    assert window.training_panel.mean_normalization.isChecked()
    assert window.training_panel.loss_plot.current.epochs == list(range(0, 201))  # epoch 0 and 200 epochs


def train_planted_with_validation(qtbot, window, epochs: int):
    """The planted preset trained with a fifth of its ratings held out; the training panel."""
    window.open_preset("planted")
    panel = window.training_panel
    panel.validation.setValue(0.2)
    panel.epochs.setValue(epochs)
    run_to_end(qtbot, window)
    return panel


def test_validation_curves_follow_rmse_and_mae(qtbot, window):
    panel = train_planted_with_validation(qtbot, window, 80)
    epochs, rmse = panel.loss_plot.curve_data("validation")
    _, mae = panel.loss_plot.curve_data("validation2")
    assert list(epochs) == list(range(0, 81))  # epoch 0: the held-out ratings at the starting parameters
    assert len(rmse) == 81 and np.all(np.isfinite(rmse)) and np.all(mae <= rmse + 1e-12)
    assert rmse[-1] < rmse[0]
    assert "val RMSE" in panel.cost_label.text()
    assert "validation RMSE" in panel.loss_plot.describe_epoch(80)


def test_a_reopened_project_shows_its_validation_curves_and_scores(qtbot, window, tmp_path):
    panel = train_planted_with_validation(qtbot, window, 30)
    epochs, rmse = panel.loss_plot.curve_data("validation")
    cost_line = panel.cost_label.text()
    path = tmp_path / "validated.cfx"
    assert window.save_to(path)
    window.open_preset("course")
    assert not panel.loss_plot.validation_shown
    assert window.open_file(path)
    assert panel.loss_plot.validation_shown  # the plot of the held-out RMSE and MAE, below J's
    again_epochs, again_rmse = panel.loss_plot.curve_data("validation")
    assert list(again_epochs) == list(epochs) and np.allclose(again_rmse, rmse)
    assert "train RMSE" in panel.cost_label.text() and "val RMSE" in panel.cost_label.text()
    assert cost_line.split("val RMSE")[1] in panel.cost_label.text()


def test_the_app_runs_each_blas_call_in_its_own_thread(window):
    """A BLAS pool of several threads makes the GUI thread's small numpy calls (the factor space's PCA)
    wait behind the training thread's; the app keeps numpy's BLAS to the calling thread."""
    from threadpoolctl import threadpool_info

    numpy_blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas" and "numpy" in pool["filepath"]]
    assert numpy_blas and all(pool["num_threads"] == 1 for pool in numpy_blas)


def test_the_validation_plot_shows_only_while_a_kept_run_has_validation_values(qtbot, window):
    panel, plot = window.training_panel, window.training_panel.loss_plot
    scene_items = plot.layout_widget.scene().items
    assert not plot.validation_shown and plot.validation_plot not in scene_items()
    assert plot.cost_plot.getAxis("bottom").labelText == "epoch"  # the epochs' title moves to the cost plot
    run_to_end(qtbot, window)  # the course example with no validation share: nothing to plot there
    assert not plot.validation_shown and plot.validation_plot not in scene_items()
    panel.validation.setValue(0.2)
    run_to_end(qtbot, window)
    assert plot.validation_shown and plot.validation_plot in scene_items()
    assert plot.cost_plot.getAxis("bottom").labelText == ""
    assert plot.validation_plot.getAxis("bottom").labelText == "epoch"
    assert plot.validation_plot.sceneBoundingRect().top() >= plot.cost_plot.sceneBoundingRect().bottom() - 1
    assert [label.text for _, label in plot.validation_legend.items] == ["RMSE", "MAE"]
    plot.clear_runs()  # another document: no run has validation values any more
    assert not plot.validation_shown and plot.validation_plot not in scene_items()


def test_the_first_edit_after_training_marks_it_stale_and_undoing_it_does_not(qtbot, window):
    """The warning came only from the second edit on (the first was not on the undo stack yet when the grid
    said it changed), and undoing every edit back to the trained ratings showed it."""
    from .test_factor_tables import type_into_table
    from .test_grid import cell_index, type_into

    panel = window.training_panel
    run_to_end(qtbot, window)
    assert not panel.stale_box.isVisible()
    index, _ = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "3")
    assert panel.stale and panel.stale_box.isVisible()
    window.act_undo.trigger()  # the ratings it trained on again
    assert not panel.stale and not panel.stale_box.isVisible()
    window.act_redo.trigger()
    assert panel.stale and panel.stale_box.isVisible()
    window.act_undo.trigger()
    type_into_table(qtbot, window.factor_tables.movie_view, 0, 0, "0.5")  # the model changes, not the ratings
    assert window.undo_stack.index() == 1 and not panel.stale
    window.act_undo.trigger()
    window.add_movie("Space opera")  # an edit after an undo replaces the one undone: stale
    assert panel.stale
    window.act_undo.trigger()
    assert not panel.stale


def test_a_rename_leaves_the_trained_model_as_current_as_it_was(qtbot, window):
    """A rename said "The ratings were edited after this training started… Retrain on the edited ratings", though
    a name is no rating: the model's J and predictions described the grid's ratings still."""
    from cfexplorer.core.edits import USERS

    from .test_grid import cell_index, type_into

    panel = window.training_panel
    run_to_end(qtbot, window)
    window.grid.setCurrentIndex(cell_index(window, "Carol", "Love at last")[0])
    assert window.rename_current(USERS, "Carla")
    assert "Carla" in [str(label) for label in window.table.ratings.user_labels]
    assert not panel.stale and not panel.stale_box.isVisible()
    assert grid_text(window, "Carla", "Romance forever") not in ("?", "")  # its prediction, still shown
    index, _ = cell_index(window, "Bob", "Romance forever")
    type_into(qtbot, window, index, "3")  # a rating after the rename: stale, and undoing it not
    assert panel.stale and panel.stale_box.isVisible()
    window.act_undo.trigger()
    assert not panel.stale
    window.act_undo.trigger()  # the rename undone too: the names it trained with
    assert not panel.stale and "Carol" in [str(label) for label in window.table.ratings.user_labels]


def test_undoing_an_added_user_and_movie_shows_the_trained_model_again(qtbot, window):
    """Adding a user and a movie takes the predictions and the factor tables down (the model has no row for
    them); undoing both left them down for good, though the panel still said the run had finished."""
    run_to_end(qtbot, window)
    shown = grid_text(window, "Alice", "Cute puppies of love")
    assert shown not in ("?", "")
    qtbot.waitUntil(lambda: window.factor_tables.movies.rowCount() == 5)  # the tables follow on the next pass
    window.add_user("Zed")
    window.add_movie("Space opera")
    assert grid_text(window, "Alice", "Cute puppies of love") == "?" and window.factor_tables.movies.rowCount() == 0
    window.act_undo.trigger()
    assert not window.table.has_predictions  # a movie more than the model knows
    window.act_undo.trigger()
    qtbot.waitUntil(lambda: grid_text(window, "Alice", "Cute puppies of love") == shown)
    tables = window.factor_tables
    qtbot.waitUntil(lambda: tables.movies.rowCount() == 5 and tables.users.rowCount() == 4)


def test_the_transport_buttons_stay_put_while_the_status_lines_change(qtbot, window):
    """The status and the cost below the buttons went from none to one or two lines as a run went on, and
    Train, Pause and Stop moved up and down under the pointer (clicks missed)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication

    panel = window.training_panel

    def where():
        QApplication.processEvents()
        return [button.mapTo(window, QPoint(0, 0)).y() for button in (panel.train_button, panel.stop_button)]

    before = where()
    assert panel.cost_label.text() == ""
    seen = []
    panel.controller.sig_progress.connect(lambda *_: seen.append(where()))
    run_to_end(qtbot, window)
    assert panel.cost_label.text() and seen
    assert all(position == before for position in seen) and where() == before, (before, seen)


def test_a_setting_changed_during_a_run_says_it_waits_for_the_next_run(qtbot, window):
    """Changing k or λ mid-run changed nothing a user could see, and no one said why."""
    from cfexplorer.ui.training_panel import SETTINGS_WAIT_NOTE

    panel = window.training_panel
    start_slow_run(qtbot, panel, 300)
    panel.pace.setCurrentText("100 epochs/s")  # the speed applies at once: nothing to say
    assert window.message_bar.text == ""
    panel.factors.setValue(3)
    assert window.message_bar.text == SETTINGS_WAIT_NOTE
    window.message_bar.hide()
    panel.reg.setValue(2.0)  # once per run
    assert window.message_bar.text == ""
    assert panel.model.n_factors == 2  # the run goes on as it started
    window.message_bar.show_message(SETTINGS_WAIT_NOTE, kind="info")
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        panel.stop()
    assert window.message_bar.text == ""  # no run goes on: the note stayed past the run's end and Reset
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)
    panel.pace.setCurrentText("full speed")
    window.message_bar.show_message(SETTINGS_WAIT_NOTE, kind="info")
    run_to_end(qtbot, window)  # the next run: the note no longer holds
    assert window.message_bar.text == "" and panel.model.n_factors == 3
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=FINISH_MS)
    panel.factors.setValue(2)  # nothing running: nothing to say
    assert window.message_bar.text == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own priority is Linux's")
def test_a_training_thread_runs_nicer_than_the_gui_thread():
    """Where the CPU is short the scheduler then favours the GUI thread (benchmarks/bench_gui_stall.py)."""
    import os
    import threading

    from cfexplorer.ui import training

    seen = {}

    def worker_thread():
        training._yield_to_the_gui_thread()
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=worker_thread)
    thread.start()
    thread.join()
    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())  # unchanged: not the whole process's
    assert seen["worker"] == min(gui + training.WORKER_NICENESS, 19)


def test_metrics_and_counts_are_written_as_words(qtbot, window):
    """"val ACCURACY" beside "train accuracy" (a key's upper case) and "finished after 1 epochs"."""
    panel, plot = window.training_panel, window.training_panel.loss_plot
    window.open_preset("course-binary")
    panel.validation.setValue(0.3)
    panel.epochs.setValue(1)
    run_to_end(qtbot, window)
    assert "after 1 epoch in" in panel.status_label.text()
    cost = panel.cost_label.text()
    assert "val accuracy" in cost and "val BCE" in cost and "ACCURACY" not in cost
    assert [label.text for _, label in plot.validation_legend.items] == ["BCE", "accuracy"]


def test_the_epoch_axis_spans_the_runs_kept_or_the_run_train_would_start(qtbot, window):
    """After Clear history the epoch axis kept the forgotten 200-epoch run's span beside a run of 5 epochs (its
    curves a sliver at the left) until the next run; an empty plot (another file opened) numbered 0 to 0.7."""
    panel = window.training_panel
    plot = panel.loss_plot.cost_plot

    def epoch_span():
        low, high = plot.viewRange()[0]
        return low, high

    run_to_end(qtbot, window)  # 200 epochs
    panel.model_kind.setCurrentIndex(panel.model_kind.findData("neural"))
    panel.epochs.setValue(5)
    run_to_end(qtbot, window)
    assert epoch_span()[1] > 190  # beside the earlier run of 200
    qtbot.mouseClick(panel.clear_history_button, Qt.MouseButton.LeftButton)
    assert len(panel.loss_plot.runs) == 1
    assert 5 <= epoch_span()[1] <= 5.5
    window.open_preset("course")  # another document: no run, the axis spans the one Train would start
    planned = panel.epochs.value()
    assert panel.loss_plot.runs == [] and planned <= epoch_span()[1] <= 1.05 * planned
    panel.epochs.setValue(40)
    assert 40 <= epoch_span()[1] <= 42
