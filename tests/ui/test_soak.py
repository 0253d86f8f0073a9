"""Soak: start/stop/restart cycles, data resized between runs, closing while training.

Bounds: no thread outlives its run (the process's OS thread count returns to where it was), no model of a
finished run stays alive once the loss plot has let its run go (a leak of one model per run is found here
after a dozen cycles, where a resident-memory bound needs a hundred to see it), and the loss plot keeps a
bounded number of runs. The hundred-cycle resident-memory bound is measured by benchmarks/bench_soak.py: a
hundred cycles take 11-40 s on a loaded 2-core machine, most of it the GUI building each run's curves.
"""

import gc
import weakref
from pathlib import Path

import numpy as np
import pytest

from cfexplorer.ui.loss_plot import KEPT_RUNS

CYCLES, RESIZE_EVERY = 12, 4


# Threads a library starts once, the first time it is used, and keeps for the life of the process: pyarrow's
# allocator (through pandas' pyarrow-backed strings) starts one at a process's first training run. Not
# threads a run leaves behind.
PROCESS_LIFETIME_THREADS = {"jemalloc_bg_thd"}


def os_threads() -> int:
    """The process's OS threads, less the libraries' process-lifetime ones."""
    names = []
    for task in Path("/proc/self/task").iterdir():
        try:
            names.append((task / "comm").read_text().strip())
        except OSError:  # the thread ended while it was listed
            continue
    return sum(name not in PROCESS_LIFETIME_THREADS for name in names)


def stop_after_two_epochs(qtbot, panel):
    panel.train()
    qtbot.waitUntil(lambda: panel.model is not None and len(getattr(panel.model, "history_", [])) >= 2,
                    timeout=10_000)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=10_000) as ended:
        panel.stop()
    assert ended.args[1] == "stopped"
    return ended.args[0]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads through /proc")
def test_start_stop_restart_leaves_no_thread_and_no_model_behind(qtbot, window):
    panel = window.training_panel
    panel.epochs.setValue(100_000)
    models = [weakref.ref(stop_after_two_epochs(qtbot, panel))]
    # counted after the first run: the libraries a first run loads may start threads of their own for good
    # (pyarrow's jemalloc does)
    threads_before = os_threads()
    for cycle in range(1, CYCLES):
        models.append(weakref.ref(stop_after_two_epochs(qtbot, panel)))
        if cycle % RESIZE_EVERY == RESIZE_EVERY - 1:  # resize the data while idle, then train again
            assert window.add_user(f"Soak user {cycle}") and window.add_movie(f"Soak movie {cycle}")
    qtbot.waitUntil(lambda: not panel.controller.is_active, timeout=5000)
    gc.collect()
    qtbot.waitUntil(lambda: os_threads() <= threads_before, timeout=5000)  # or a training thread outlived its run
    assert len(panel.loss_plot.runs) == KEPT_RUNS and panel.loss_plot.runs[-1].number == CYCLES
    alive = [cycle + 1 for cycle, model in enumerate(models) if model() is not None]
    assert alive == [CYCLES], f"models of finished runs still alive: runs {alive}"

    # the last resize reached the model: it predicts for the new users and movies
    resizes = CYCLES // RESIZE_EVERY
    assert window.table.ratings.n_users == 4 + resizes and window.table.ratings.n_items == 5 + resizes
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
