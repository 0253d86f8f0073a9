"""Soak: many start/stop/restart cycles, data resized between runs, closing while training.

Bounds: no thread outlives its run (the process's OS thread count returns to where it was), and after a
warm-up of 10 cycles the next 90 grow resident memory by less than 40 MB (a leak of one model, predictor
and curve set per run on the course matrix would still pass unnoticed below that, so the test also checks
that the loss plot keeps a bounded number of runs).
"""

from pathlib import Path

import numpy as np
import pytest

from cfexplorer.ui.loss_plot import KEPT_RUNS

CYCLES, WARM_UP = 100, 10
MEMORY_BOUND_MB = 40


def os_threads() -> int:
    return len(list(Path("/proc/self/task").iterdir()))


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads and memory through /proc")
def test_start_stop_restart_a_hundred_times(qtbot, window):
    import gc

    panel = window.training_panel
    panel.epochs.setValue(100_000)
    threads_before, memory_after_warm_up = os_threads(), None
    for cycle in range(CYCLES):
        panel.train()
        qtbot.waitUntil(lambda: panel.model is not None and len(getattr(panel.model, "history_", [])) >= 2,
                        timeout=10_000)
        with qtbot.waitSignal(panel.sig_run_ended, timeout=10_000) as ended:
            panel.stop()
        assert ended.args[1] == "stopped"
        if cycle % 10 == 9:  # resize the data while idle: a new user and a new movie, then train again
            assert window.add_user(f"Soak user {cycle}") and window.add_movie(f"Soak movie {cycle}")
        if cycle == WARM_UP - 1:
            gc.collect()
            memory_after_warm_up = resident_mb()
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=5000)
    gc.collect()
    qtbot.wait(200)
    growth = resident_mb() - memory_after_warm_up
    assert growth < MEMORY_BOUND_MB, f"resident memory grew {growth:.0f} MB over {CYCLES - WARM_UP} cycles"
    assert os_threads() <= threads_before, "a training thread outlived its run"
    assert len(panel.loss_plot.runs) == KEPT_RUNS and panel.loss_plot.runs[-1].number == CYCLES

    # the last resize reached the model: it predicts for the new user and movie
    assert window.table.ratings.n_users == 4 + CYCLES // 10 and window.table.ratings.n_items == 5 + CYCLES // 10
    panel.epochs.setValue(20)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=30_000):
        panel.train()
    predictions = window.table.predictor.predict_matrix()
    assert predictions.shape == (window.table.ratings.n_users, window.table.ratings.n_items)
    assert np.all(np.isfinite(predictions))


def test_closing_while_training_leaves_no_thread_behind(qtbot, window):
    panel = window.training_panel
    threads_before = os_threads()
    panel.epochs.setValue(100_000)
    panel.train()
    qtbot.waitUntil(lambda: panel.controller.state == "running", timeout=5000)
    assert os_threads() > threads_before  # the worker thread exists while it trains
    assert window.close()
    assert not panel.controller.is_active
    qtbot.waitUntil(lambda: os_threads() <= threads_before, timeout=5000)
