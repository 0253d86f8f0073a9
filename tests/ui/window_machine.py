"""A model-based test of the real main window: hypothesis picks what a user does next, the machine does it
through keys, clicks and menus, and after every step checks what must always hold.

Used by tests/ui/test_window_state_machine.py (a few thousand steps, fixed seeds) and by
benchmarks/bench_state_machine.py (tens of thousands, random seeds). The machine keeps only what a user
would know (Reset was pressed and nothing was trained since; which files were saved; whether the mouse left
the plot); everything else it reads from the widgets. Dialogs are answered by machine_support.ANSWERS.

Invariants, checked after every step (everything_holds):
  * no exception reached ``sys.excepthook`` (where PySide6 reports a failing slot and the Qt guards of
    cfexplorer/ui/qt_guard.py report a failing override): the first one is raised again, with its own
    traceback, so that hypothesis tells different bugs apart by where they were raised;
  * after Reset (or a new document), and until a run starts, no unrated cell shows a value;
  * no cell shows NaN or inf;
  * the transport buttons and menu items match the training controller's state (expected_transport), at once;
  * a controller that is idle has no training thread left (within THREAD_GRACE_S);
  * the factor space's hover box is hidden once the mouse left the plot, and after Reset or a new document;
  and at teardown the window closes and leaves no training thread.

A machine class may tolerate known bugs (machine_support.KNOWN_BUGS): they are counted, not failed on.
"""

from __future__ import annotations

import functools
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTabBar, QToolTip

from cfexplorer.core.edits import ITEMS, USERS
from cfexplorer.core.embedding import ITEM_KIND, LAYOUTS, USER_KIND
from cfexplorer.core.models import MODEL_KINDS
from cfexplorer.io.presets import PRESETS
from cfexplorer.ui.lessons import LESSONS
from cfexplorer.ui.training_panel import TRANSPORT_ENABLED
from cfexplorer.ui.training_settings import PACES

from .collect import collect_closed_windows
from .machine_support import (
    ANSWERS, IDLE_CONTROLLER_LIVE_THREAD, ErrorRecorder, RunStats, build_window, cell_text_is_sound,
    process_events, training_threads, wait_until,
)

THREAD_GRACE_S = 2.0  # how long an idle controller's thread may take to end before it counts as left behind
CLOSE_GRACE_S = 5.0
MOUSE_SETTLE_MS = 35  # the factor plot reads mouse moves through a 30-per-second SignalProxy
FAKE_UMAP = "tests.ui.fake_umap"  # a stand-in the layout job's child process imports instead of umap-learn


def expected_transport(state: str, something_to_reset: bool = True) -> dict:
    """What the transport buttons (and their menu actions) show in a controller state: which are enabled
    (training_panel.TRANSPORT_ENABLED; Reset, idle, only with a model or curves to forget) and the Pause button's
    text."""
    enabled = {**TRANSPORT_ENABLED[state], "pause text": "Resume" if state == "paused" else "Pause"}
    if state == "idle":
        enabled["reset"] = something_to_reset
    return enabled

TRANSPORT_KEYS = {"F5": Qt.Key.Key_F5, "F6": Qt.Key.Key_F6, "F7": Qt.Key.Key_F7, "F8": Qt.Key.Key_F8}
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
RUN_LENGTHS = (1, 5, 40, 300, 3000)
CELL_TEXTS = ("valid", "valid", "valid", "?", "off-step", "outside", "word", "nan", "inf", "1e308", "-1")
NAME_ANSWERS = ("new", "new", "duplicate", "blank", "cancel")
PARAMETER_FILE_KINDS = ("fits", "fits", "rows to spare", "too few rows", "a NaN", "lab CSVs", "cancel")
NOTHING_TO_DO = "nothing to do"  # what a rule returns when there was nothing to click (counted apart)


# --- the machine ----------------------------------------------------------------------------------------
def step(action):
    """A rule's action, logged (the steps of a failing example are reported even when hypothesis cannot
    replay a race) and timed (benchmarks report where the time goes)."""

    @functools.wraps(action)
    def logged(self, **arguments):
        if not self.may_act():
            return
        shown = ", ".join(f"{name}={value!r}" for name, value in sorted(arguments.items()))
        self.log.append(f"{action.__name__}({shown})")
        if self.trace is not None:  # a hard crash leaves no report: the steps are on disk already
            self.trace.write(f"{self.log[-1]}\n")
            self.trace.flush()
        done = None
        try:
            with self.stats.timing(action.__name__):
                done = action(self, **arguments)
        finally:
            if done == NOTHING_TO_DO:
                self.stats.idle_steps += 1
                self.stats.idle_by_action[action.__name__] = self.stats.idle_by_action.get(action.__name__, 0) + 1

    return logged


class WindowMachine(RuleBasedStateMachine):
    """One main window per example; every rule is something a user does to it."""

    tolerated: tuple = ()  # KnownBug entries this machine counts instead of failing on
    trace = None  # an open file that every step is written to as it starts (benchmarks, in a subprocess)
    # With IDLE_CONTROLLER_LIVE_THREAD tolerated: stop acting once it happened (the next Train would abort
    # the process: CI), or go on and let it abort (a benchmark's child process, which the parent survives).
    freeze_before_a_crash = True
    # What every example of this class did, for the runner's report (a class is made per run: machine_with).
    stats: "RunStats"

    def __init__(self):
        super().__init__()
        if self.trace is not None:
            self.trace.write("--- example\n")
            self.trace.flush()
        self.log: list[str] = []
        self.folder = Path(tempfile.mkdtemp(prefix="cfx-machine-"))
        self._window = None  # built by the first step that needs it: see window
        self.reset_pending = False  # Reset (or a new document) since the last run started
        self.frozen_by = None  # a tolerated known bug after which any further step could abort the process
        self.thread_left_behind = False  # an idle controller's training thread, once reported
        self.runs_started = 0
        self.hover_allowed = False  # the mouse moved onto the plot since the last Reset or new document
        self.saved: list[Path] = []
        self.names_made = 0
        self.parameter_files = 0

    @property
    def window(self):
        """The example's main window, built when a step first needs it. Hypothesis's first example of each
        seed is its simplest, the first rule repeated: accept_the_suggested_fix, which finds nothing to do
        in a fresh window and so needs none (building one is half a second, a quarter of the machine's time
        when every example built its own)."""
        if self._window is None:
            with self.stats.timing("(new window)"):
                ANSWERS.clear()
                self._window = build_window(self.folder / "settings.ini")
                self.errors = ErrorRecorder(self.tolerated).install()
            self._window.training_panel.sig_run_started.connect(self._on_run_started)
        return self._window

    def may_act(self) -> bool:
        """False once a tolerated known bug has left the window where the next action could abort the
        process: the example then does nothing more, and teardown closes the window."""
        if self.freeze_before_a_crash and self.frozen_by is None and self.tolerates(IDLE_CONTROLLER_LIVE_THREAD):
            reported = self.thread_left_behind  # by the invariant, after the last step
            if self._thread_left_behind(0.3):
                self.frozen_by = IDLE_CONTROLLER_LIVE_THREAD
                if not reported:  # it happened within this step (between hammered keys)
                    hits = self.stats.tolerated
                    hits[self.frozen_by] = hits.get(self.frozen_by, 0) + 1
        return self.frozen_by is None

    def _ready_to_start_a_run(self):
        """While IDLE_CONTROLLER_LIVE_THREAD is a tolerated known bug (CI, until its fix is merged), a new run
        never supersedes an active one: that path can destroy a running QThread and abort the test process.
        The machine stops the run and waits for it to end first, as a careful user would."""
        controller = self.panel.controller
        if self.freeze_before_a_crash and self.tolerates(IDLE_CONTROLLER_LIVE_THREAD) and controller.is_active:
            QTest.keyClick(self.window, Qt.Key.Key_F8)
            wait_until(lambda: not controller.is_active, CLOSE_GRACE_S)

    def tolerates(self, name: str) -> bool:
        return any(bug.name == name for bug in self.tolerated)

    def _thread_left_behind(self, grace_s: float) -> bool:
        controller = self.panel.controller
        if controller.is_active or not training_threads():
            self.thread_left_behind = False
            return False
        if self.thread_left_behind:
            return True  # the same thread as at the last step: not waited for again
        self.thread_left_behind = not wait_until(lambda: controller.is_active or not training_threads(), grace_s)
        return self.thread_left_behind

    def _on_run_started(self, *_):
        self.reset_pending = False
        self.runs_started += 1

    def _forget_the_model(self):
        """Reset or a new document: nothing trained, and no hover box about a point of before."""
        self.reset_pending = True
        self.hover_allowed = False

    def teardown(self):
        try:
            if self._window is not None:  # else no step needed one
                self._close_the_window()
        finally:
            self.stats.examples += 1
            self.stats.steps += len(self.log)
            self.stats.example_steps.append(len(self.log))
            shutil.rmtree(self.folder, ignore_errors=True)

    def _close_the_window(self):
        window = self._window
        try:
            with self.stats.recording_failure(self.log), self.stats.timing("(teardown)"):
                ANSWERS.clear()
                window.undo_stack.setClean()  # no save prompt while tearing down
                assert window.close(), "the window refused to close"
                left = wait_until(lambda: not training_threads(), CLOSE_GRACE_S)
                assert left, f"a training thread outlived the window: {training_threads()}"
                self.errors.raise_first()
        finally:
            for name, hits in self.errors.tolerated_hits.items():
                self.stats.tolerated[name] = self.stats.tolerated.get(name, 0) + hits
            self.errors.uninstall()
            window.deleteLater()
            process_events()
            collect_closed_windows()

    # --- helpers ----------------------------------------------------------------------------------------
    @property
    def panel(self):
        return self.window.training_panel

    @property
    def view(self):
        return self.window.factor_space

    @property
    def grid(self):
        return self.window.grid

    @property
    def proxy(self):
        return self.window.proxy

    @property
    def ratings(self):
        return self.window.table.ratings

    def _key(self, widget, key, modifiers=Qt.KeyboardModifier.NoModifier):
        QTest.keyClick(widget, key, modifiers)
        process_events()

    def _proxy_index(self, row: int, column: int):
        rows, columns = self.proxy.rowCount(), self.proxy.columnCount()
        if not rows or not columns:
            return None
        return self.proxy.index(row % rows, column % columns)

    def _select_block(self, row: int, column: int, height: int, width: int) -> bool:
        top_left = self._proxy_index(row, column)
        if top_left is None:
            return False
        bottom = min(top_left.row() + height, self.proxy.rowCount() - 1)
        right = min(top_left.column() + width, self.proxy.columnCount() - 1)
        self.grid.setFocus()
        self.grid.setCurrentIndex(top_left)
        self.grid.selectionModel().select(QItemSelection(top_left, self.proxy.index(bottom, right)),
                                          QItemSelectionModel.SelectionFlag.ClearAndSelect)
        return True

    def _cell_text(self, choice: str, number: int) -> str:
        scale, binary = self.ratings.scale, self.ratings.binary
        if choice == "valid":
            if binary:
                return str(number % 2)
            steps = int(round((scale.high - scale.low) / scale.step))
            return f"{scale.low + (number % (steps + 1)) * scale.step:g}"
        if choice == "off-step":
            return "0.5" if binary else f"{scale.low + scale.step * 0.37:g}"
        if choice == "outside":
            return f"{scale.high + 1 + number % 7:g}"
        if choice == "word":
            return "great"
        return choice  # "?", "nan", "inf", "1e308", "-1" as typed

    def _name_answer(self, answer: str, axis: int):
        labels = [str(label) for label in (self.ratings.user_labels if axis == USERS else self.ratings.item_titles())]
        if answer == "cancel":
            return None
        if answer == "blank":
            return ("text", "   ")
        if answer == "duplicate" and labels:
            return ("text", labels[self.names_made % len(labels)])
        self.names_made += 1
        return ("text", f"{'User' if axis == USERS else 'Movie'} m{self.names_made}")

    def _dock_tab(self, title: str):
        for bar in self.window.findChildren(QTabBar):
            for index in range(bar.count()):
                if bar.tabText(index) == title and bar.isVisible():
                    return bar, index
        return None, -1

    def _show_tab(self, title: str):
        """Click a bottom dock's tab, as a user brings the loss curves or the factor space to the front."""
        bar, index = self._dock_tab(title)
        if bar is not None:
            QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             bar.tabRect(index).center())
        else:
            docks = {"Factor space": self.window.factor_dock}
            docks.get(title, self.window.curves_dock).raise_()
        process_events()

    def _plot_position(self, kind: str, index: int) -> QPoint | None:
        """Where point ``index`` of a kind is on screen; the factor space is brought to the front first, as a
        user looks before pointing. None when there is no such point to see."""
        plot = self.view.plot
        bar, index = self._dock_tab("Factor space")
        if bar is not None and bar.currentIndex() != index:
            self._show_tab("Factor space")
        coordinates = plot.coordinates.get(kind)
        if coordinates is None or not len(coordinates) or not plot.isVisible():
            return None
        scene = plot.scene_position_of(kind, index % len(coordinates))
        at = plot.mapFromScene(scene)
        if not plot.viewport().rect().contains(at):
            return None
        return at

    # --- training ---------------------------------------------------------------------------------------
    @rule(key=st.sampled_from(sorted(TRANSPORT_KEYS)))
    @step
    def press_transport_key(self, key):
        if key == "F5":
            self._ready_to_start_a_run()
        self._key(self.window, TRANSPORT_KEYS[key])

    @rule(keys=st.lists(st.sampled_from(sorted(TRANSPORT_KEYS) + ["Reset"]), min_size=2, max_size=12),
          gap_ms=st.integers(0, 30), busy=st.booleans())
    @step
    def hammer_the_transport_keys(self, keys, gap_ms, busy):
        """Keys pressed faster than a run starts and stops; between them the window either handles what
        arrived (busy=False) or is busy painting, so that the worker's signals queue up (busy=True)."""
        for key in keys:
            if not self.may_act():
                return
            if key == "Reset":
                self.window.act_reset.trigger()
                self._forget_the_model()
            else:
                if key == "F5":
                    self._ready_to_start_a_run()
                QTest.keyClick(self.window, TRANSPORT_KEYS[key])
            if busy:
                time.sleep(gap_ms / 1000)
            else:
                process_events(gap_ms)
        process_events()

    @rule(ms=st.integers(1, 60))
    @step
    def window_busy(self, ms):
        """The GUI thread is busy for a moment (a long repaint, a slow slot): the worker's signals queue up
        and arrive together with whatever the user does next."""
        time.sleep(ms / 1000)

    @rule(button=st.sampled_from(["train", "pause", "step", "stop", "reset", "Training ▸ Reset Model"]))
    @step
    def click_transport_button(self, button):
        if button.startswith("Training"):
            self.window.act_reset.trigger()  # the menu's Reset has no key
        else:
            if button == "train":
                self._ready_to_start_a_run()
            QTest.mouseClick(getattr(self.panel, f"{button}_button"), Qt.MouseButton.LeftButton)
        if "eset" in button:
            self._forget_the_model()
        process_events()

    @rule(ms=st.integers(50, 250), watch=st.sampled_from(["Loss curves", "Factor space"]))
    @step
    def train_and_watch(self, ms, watch):
        """F5, then watch the curves or the points move for a moment (frames come five times a second)."""
        self._show_tab(watch)
        self._ready_to_start_a_run()
        self._key(self.window, Qt.Key.Key_F5)
        process_events(ms)

    @rule()
    @step
    def retrain_on_the_edited_ratings(self):
        if not self.panel.stale_box.isVisible():
            return NOTHING_TO_DO
        self._ready_to_start_a_run()
        QTest.mouseClick(self.panel.retrain_button, Qt.MouseButton.LeftButton)
        process_events()

    @rule(ms=st.integers(0, 100))
    @step
    def wait(self, ms):
        process_events(ms)

    @rule(epochs=st.sampled_from(RUN_LENGTHS), pace=st.sampled_from(list(PACES)))
    @step
    def set_run_length_and_speed(self, epochs, pace):
        self.panel.epochs.setValue(epochs)
        self.panel.pace.setCurrentText(pace)
        process_events()

    @rule(kind=st.integers(0, len(MODEL_KINDS) - 1))
    @step
    def choose_model_kind(self, kind):
        box = self.panel.model_kind
        box.setCurrentIndex(kind % box.count())
        if self.panel.epochs.value() > 300:
            self.panel.epochs.setValue(300)  # a model's defaults may train for long; keep steps short
        process_events()

    @rule(init=st.sampled_from(["small", "normal", "given"]), scale=st.sampled_from([0.0, 0.1, 1.0, 3.0]))
    @step
    def choose_the_initialization(self, init, scale):
        row = self.panel.initialization
        if not row.isVisible():
            return NOTHING_TO_DO  # a model without it is chosen
        index = row.choice.findData(init)
        if index < 0:
            return NOTHING_TO_DO  # 'given' only once parameters are loaded
        row.choice.setCurrentIndex(index)
        if row.scale.isEnabled():
            row.scale.setValue(scale)
        process_events()

    @rule(kind=st.sampled_from(PARAMETER_FILE_KINDS), factors=st.integers(1, 4), seed=st.integers(0, 9))
    @step
    def load_parameters(self, kind, factors, seed):
        """Training ▸ Load Parameters…: an .npz that fits the grid (or has rows to spare, or too few, or a NaN),
        the lab's X, W, b CSVs, or a cancelled dialog. Loading shows epoch 0, a run of its own."""
        paths = self._parameter_files(kind, factors, seed)
        if paths:
            ANSWERS.give(("open several", [str(path) for path in paths]))
            self._ready_to_start_a_run()
        self.window.act_load_params.trigger()
        ANSWERS.clear()
        process_events()

    def _parameter_files(self, kind: str, factors: int, seed: int) -> list[Path]:
        rng = np.random.default_rng(seed)
        n_items, n_users = self.ratings.n_items, self.ratings.n_users
        extra = {"fits": 0, "rows to spare": 3, "too few rows": -1, "a NaN": 0, "lab CSVs": 0}.get(kind, 0)
        items, users = max(n_items + extra, 0), max(n_users + extra, 0)
        arrays = {"item_factors": rng.normal(0, 1, (items, factors)), "user_factors": rng.normal(0, 1, (users, factors)),
                  "user_bias": rng.normal(0, 1, users)}
        if kind == "a NaN" and items:
            arrays["item_factors"][0, 0] = np.nan
        self.parameter_files += 1
        if kind == "cancel":
            return []
        if kind == "lab CSVs":
            paths = []
            for letter, name in (("X", "item_factors"), ("W", "user_factors"), ("b", "user_bias")):
                path = self.folder / f"lab{self.parameter_files}_{letter}.csv"
                np.savetxt(path, np.atleast_2d(arrays[name]), delimiter=",")
                paths.append(path)
            return paths
        path = self.folder / f"params-{self.parameter_files}.npz"
        np.savez(path, **arrays)
        return [path]

    @rule(burn_in=st.sampled_from([0, 3, 50]), kept=st.sampled_from([2, 8, 32]))
    @step
    def set_the_sampler_settings(self, burn_in, kept):
        """The Bayesian model's burn-in and kept samples (hidden for other models, but kept: a burn-in past the
        run length is refused with a message when Train is pressed)."""
        self.panel.burn_in.setValue(burn_in)
        self.panel.kept_samples.setValue(kept)
        process_events()

    # --- the grid ---------------------------------------------------------------------------------------
    @rule(row=st.integers(0, 40), column=st.integers(0, 40))
    @step
    def rest_the_mouse_on_a_cell(self, row, column):
        """The cell's tooltip (with a Bayesian model, the prediction's ±): its numbers are numbers."""
        index = self._proxy_index(row, column)
        if index is None:
            return NOTHING_TO_DO
        at = self.grid.visualRect(index).center()
        if not self.grid.viewport().rect().contains(at):
            return NOTHING_TO_DO
        QApplication.sendEvent(self.grid.viewport(),
                               QHelpEvent(QEvent.Type.ToolTip, at, self.grid.viewport().mapToGlobal(at)))
        text = QToolTip.text() if QToolTip.isVisible() else ""
        QToolTip.hideText()
        if " ± " in text:
            spread = text.split(" ± ")[1].split()[0]
            assert math.isfinite(float(spread)) and float(spread) >= 0, f"the tooltip says {text!r}"
        process_events()
    @rule(row=st.integers(0, 40), column=st.integers(0, 40), choice=st.sampled_from(CELL_TEXTS),
          number=st.integers(0, 20))
    @step
    def type_into_a_cell(self, row, column, choice, number):
        index = self._proxy_index(row, column)
        if index is None:
            return NOTHING_TO_DO
        text = self._cell_text(choice, number)
        grid = self.grid
        grid.setFocus()
        grid.setCurrentIndex(index)
        QTest.keyClicks(grid, text[0])  # the first key opens the cell editor, which takes the rest
        editor = QApplication.focusWidget()
        if editor is not None and editor is not grid:
            QTest.keyClicks(editor, text[1:])
            QTest.keyClick(editor, Qt.Key.Key_Return)
        # Qt commits an editor on Enter through a queued call
        wait_until(lambda: grid.state() != grid.State.EditingState, 1.0)
        process_events()

    @rule()
    @step
    def accept_the_suggested_fix(self):
        if self._window is None:  # a fresh window suggests nothing
            return NOTHING_TO_DO
        bar = self.window.message_bar
        if not (bar.isVisible() and bar.action_button.isVisible()):
            return NOTHING_TO_DO
        QTest.mouseClick(self.window.message_bar.action_button, Qt.MouseButton.LeftButton)
        process_events()

    @rule(row=st.integers(0, 40), column=st.integers(0, 40), height=st.integers(0, 3), width=st.integers(0, 3),
          key=st.sampled_from(["delete", "copy", "fill down"]))
    @step
    def select_cells_and_press(self, row, column, height, width, key):
        if not self._select_block(row, column, height, width):
            return NOTHING_TO_DO
        if key == "delete":
            self._key(self.grid, Qt.Key.Key_Delete)
        elif key == "copy":
            self._key(self.grid, Qt.Key.Key_C, CTRL)
        else:
            self._key(self.grid, Qt.Key.Key_D, CTRL)

    @rule(row=st.integers(0, 40), column=st.integers(0, 40),
          block=st.lists(st.lists(st.sampled_from(CELL_TEXTS + ("",)), min_size=1, max_size=3), min_size=1,
                         max_size=3),
          number=st.integers(0, 20))
    @step
    def paste_a_block(self, row, column, block, number):
        index = self._proxy_index(row, column)
        if index is None:
            return NOTHING_TO_DO
        text = "\n".join("\t".join(self._cell_text(choice, number + i) if choice else "" for i, choice in
                                   enumerate(line)) for line in block)
        QApplication.clipboard().setText(text)
        self.grid.setFocus()
        self.grid.setCurrentIndex(index)
        self._key(self.grid, Qt.Key.Key_V, CTRL)

    @rule(users=st.booleans(), row=st.integers(0, 40), column=st.integers(0, 4),
          value=st.sampled_from(["0", "1.5", "-2", "0.25", "x"]))
    @step
    def type_over_a_factor(self, users, row, column, value):
        tables = self.window.factor_tables
        view = tables.user_view if users else tables.movie_view
        model = view.model()
        if row >= model.rowCount() or column >= model.columnCount():
            return NOTHING_TO_DO
        if not tables.isVisible():  # the pane beside the grid is hidden: a user shows it first
            self.window.act_factor_tables.trigger()
            process_events()
        view.setFocus()
        view.setCurrentIndex(model.index(row, column))
        QTest.keyClick(view, Qt.Key.Key_F2)  # read-only while a run owns the factors: no editor opens
        editor = QApplication.focusWidget()
        if editor is not None and editor is not view and view.state() == view.State.EditingState:
            editor.selectAll()
            QTest.keyClicks(editor, value)
            QTest.keyClick(editor, Qt.Key.Key_Return)
            wait_until(lambda: view.state() != view.State.EditingState, 1.0)
        process_events()

    @rule(redo=st.booleans())
    @step
    def undo_or_redo(self, redo):
        if redo:
            self._key(self.window, Qt.Key.Key_Z, CTRL | SHIFT)
        else:
            self._key(self.window, Qt.Key.Key_Z, CTRL)

    @rule(axis=st.sampled_from([USERS, ITEMS]), answer=st.sampled_from(NAME_ANSWERS))
    @step
    def add_a_user_or_movie(self, axis, answer):
        given = self._name_answer(answer, axis)
        if given is not None:
            ANSWERS.give(given)
        self._key(self.window, Qt.Key.Key_U if axis == USERS else Qt.Key.Key_M, CTRL | SHIFT)
        ANSWERS.clear()

    @rule(axis=st.sampled_from([USERS, ITEMS]), row=st.integers(0, 40), column=st.integers(0, 40),
          height=st.integers(0, 2), width=st.integers(0, 2))
    @step
    def remove_selected_users_or_movies(self, axis, row, column, height, width):
        if not self._select_block(row, column, height, width):
            return NOTHING_TO_DO
        (self.window.act_remove_users if axis == USERS else self.window.act_remove_movies).trigger()
        process_events()

    @rule(axis=st.sampled_from([USERS, ITEMS]), row=st.integers(0, 40), column=st.integers(0, 40),
          answer=st.sampled_from(NAME_ANSWERS))
    @step
    def rename_the_current_user_or_movie(self, axis, row, column, answer):
        index = self._proxy_index(row, column)
        if index is None:
            return NOTHING_TO_DO
        self.grid.setCurrentIndex(index)
        given = self._name_answer(answer, axis)
        if given is not None:
            ANSWERS.give(given)
        (self.window.act_rename_user if axis == USERS else self.window.act_rename_movie).trigger()
        ANSWERS.clear()
        process_events()

    # --- sorting and filtering --------------------------------------------------------------------------
    @rule(key=st.integers(0, 3))
    @step
    def sort_rows_from_the_menu(self, key):
        self.window.sort_actions.actions()[key].trigger()
        process_events()

    @rule(section=st.integers(0, 40))
    @step
    def click_a_column_header(self, section):
        header = self.grid.horizontalHeader()
        columns = self.proxy.columnCount()
        if not columns or not self.proxy.rowCount():
            return NOTHING_TO_DO
        section %= columns
        self.grid.scrollTo(self.proxy.index(0, section))
        x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
        QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(x, header.height() // 2))
        process_events()

    @rule(text=st.sampled_from(["", "", "a", "o", "Movie", "User", "zz", "e "]))
    @step
    def filter_rows_by_name(self, text):
        self._key(self.window, Qt.Key.Key_F, CTRL)
        edit = self.window.filter_edit
        edit.selectAll()
        if text:
            QTest.keyClicks(edit, text)
        else:
            QTest.keyClick(edit, Qt.Key.Key_Backspace)
        process_events()

    @rule()
    @step
    def swap_rows_and_columns(self):
        self._key(self.window, Qt.Key.Key_T, CTRL)

    @rule(users=st.integers(0, 4), movies=st.integers(0, 4), accept=st.booleans(), restrict=st.booleans())
    @step
    def density_filter(self, users, movies, accept, restrict):
        if accept:
            ANSWERS.give(("density", (users, movies, restrict)))
        self.window.act_density.trigger()
        ANSWERS.clear()
        process_events()

    @rule()
    @step
    def clear_filters_and_sorting(self):
        self.window.act_clear_filters.trigger()
        process_events()

    @rule(features=st.lists(st.floats(-5, 60, allow_nan=False), max_size=4), close=st.booleans())
    @step
    def recommend_for_a_new_user(self, features, close):
        self.window.act_new_user.trigger()
        dialog = self.window.new_user_dialog
        if dialog is None or not dialog.isVisible():
            return NOTHING_TO_DO  # no trained content-based model (the message bar says so)
        for field, value in zip(dialog.fields.values(), features):
            field.setValue(value)
        QTest.mouseClick(dialog.recommend_button, Qt.MouseButton.LeftButton)
        assert dialog.results.topLevelItemCount() == min(10, self.ratings.n_items)
        if close:
            dialog.close()
        process_events()

    @rule(which=st.sampled_from(["predictions", "residuals", "uncertainty"]))
    @step
    def toggle_predictions_or_residuals(self, which):
        if which == "predictions":
            self._key(self.window, Qt.Key.Key_P, CTRL)
        else:
            getattr(self.window, f"act_{which}").trigger()  # View ▸ Show Residuals / Shade by Uncertainty
            process_events()

    # --- documents --------------------------------------------------------------------------------------
    @rule()
    @step
    def toggle_the_factor_tables_beside_the_grid(self):
        self.window.act_factor_tables.trigger()  # View ▸ Factor Tables Beside the Grid
        process_events()

    @rule(name=st.sampled_from(list(PRESETS)))
    @step
    def open_an_example(self, name):
        title = PRESETS[name].title
        action = next(a for a in self.window.preset_menu.actions() if a.text() == title)
        action.trigger()
        self._forget_the_model()  # a new document starts untrained
        process_events()

    @rule(kind=st.sampled_from(["Y with R", "Y alone", "R of another shape"]), seed=st.integers(0, 9))
    @step
    def open_the_labs_dense_y(self, kind, seed):
        """File ▸ Open on the course lab's dense Y: with its R beside it, alone (its zeros read as not rated), or
        with an R of another shape (refused in one line: the window keeps its document)."""
        rng = np.random.default_rng(seed)
        n_items, n_users = int(rng.integers(1, 8)), int(rng.integers(6, 10))
        mask = (rng.random((n_items, n_users)) < 0.5).astype(int)
        mask[0, 0] = 1
        values = np.where(mask == 1, rng.integers(1, 11, mask.shape) / 2, 0)
        folder = self.folder / f"lab-{len(list(self.folder.glob('lab-*')))}"
        folder.mkdir()
        y_path = folder / "small_movies_Y.csv"
        np.savetxt(y_path, values, delimiter=",", fmt="%g")
        if kind != "Y alone":
            np.savetxt(folder / "small_movies_R.csv", mask if kind == "Y with R" else mask[:, 1:], delimiter=",",
                       fmt="%d")
        before = self.window.table.ratings
        ANSWERS.give(("open", str(y_path)))
        self.window.act_open.trigger()
        ANSWERS.clear()
        if self.window.table.ratings is not before:
            self._forget_the_model()  # a new document starts untrained
        process_events()

    @rule(users=st.integers(1, 6), movies=st.integers(1, 6), scale=st.integers(0, 4), accept=st.booleans())
    @step
    def file_new_blank_grid(self, users, movies, scale, accept):
        if accept:
            ANSWERS.give(("new grid", (users, movies, scale)))  # else nobody answers: the dialog is cancelled
        self._key(self.window, Qt.Key.Key_N, CTRL)
        if accept:
            self._forget_the_model()  # a new document starts untrained
        process_events()

    @rule(shortcut=st.booleans())
    @step
    def save_a_project(self, shortcut):
        path = self.folder / f"saved-{len(self.saved)}.cfx"
        ANSWERS.give(("save", str(path)))
        if shortcut and self.window.path is not None:
            self._key(self.window, Qt.Key.Key_S, CTRL)  # saves where the document came from, no dialog
        else:
            self.window.act_save_as.trigger()
        ANSWERS.clear()
        if path.exists():
            self.saved.append(path)
        process_events()

    @rule(notebook=st.booleans())
    @step
    def export_the_run_as_code(self, notebook):
        """File ▸ Export as Python Script… / Notebook…, whatever the run is doing: a file appears, the window
        keeps its data, its undo history and its run."""
        path = self.folder / f"exported-{len(list(self.folder.glob('exported-*')))}{'.ipynb' if notebook else '.py'}"
        ratings, undo_index = self.window.table.ratings, self.window.undo_stack.index()
        ANSWERS.give(("save", str(path)))
        (self.window.act_export_notebook if notebook else self.window.act_export_script).trigger()
        ANSWERS.clear()
        assert path.exists(), "the export wrote no file"
        assert self.window.table.ratings is ratings and self.window.undo_stack.index() == undo_index
        process_events()

    @precondition(lambda self: bool(self.saved))
    @rule(which=st.integers(0, 10))
    @step
    def reopen_a_saved_project(self, which):
        ANSWERS.give(("open", str(self.saved[which % len(self.saved)])))
        self.window.act_open.trigger()
        ANSWERS.clear()
        self._forget_the_model()
        self.reset_pending = False  # a project brings its trained model back
        process_events()

    # --- lessons ----------------------------------------------------------------------------------------
    @rule(lesson=st.integers(0, len(LESSONS) - 1))
    @step
    def start_a_lesson(self, lesson):
        runs_before = self.runs_started
        self.window.lessons_menu.actions()[lesson].trigger()
        self._forget_the_model()  # its first step opens the lesson's data
        self.reset_pending = self.runs_started == runs_before
        process_events()

    @precondition(lambda self: self.window.lesson_panel.lesson is not None)
    @rule(forward=st.booleans())
    @step
    def lesson_next_or_back(self, forward):
        button = self.window.lesson_panel.next_button if forward else self.window.lesson_panel.back_button
        document_before, runs_before = self.window.table.ratings, self.runs_started
        self._ready_to_start_a_run()  # the step may train
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        if self.window.table.ratings is not document_before:  # the step opened the lesson's data
            self._forget_the_model()
            self.reset_pending = self.runs_started == runs_before
        process_events()

    # --- the factor space -------------------------------------------------------------------------------
    @rule(title=st.sampled_from(["Factor space", "Loss curves"]))
    @step
    def bring_a_bottom_tab_to_front(self, title):
        self._show_tab(title)

    @rule(kind=st.sampled_from([ITEM_KIND, USER_KIND]), index=st.integers(0, 40))
    @step
    def hover_a_point(self, kind, index):
        at = self._plot_position(kind, index)
        if at is None:
            return NOTHING_TO_DO
        QTest.mouseMove(self.view.plot.viewport(), at)
        self.hover_allowed = True
        process_events(MOUSE_SETTLE_MS)

    @rule()
    @step
    def move_the_mouse_off_the_plot(self):
        QTest.mouseMove(self.view.status, QPoint(2, 2))
        self.hover_allowed = False
        process_events(MOUSE_SETTLE_MS)

    @rule(kind=st.sampled_from([ITEM_KIND, USER_KIND]), index=st.integers(0, 40), add=st.booleans())
    @step
    def click_a_point(self, kind, index, add):
        at = self._plot_position(kind, index)
        if at is None:
            return NOTHING_TO_DO
        QTest.mouseClick(self.view.plot.viewport(), Qt.MouseButton.LeftButton,
                         CTRL if add else Qt.KeyboardModifier.NoModifier, at)
        self.hover_allowed = True
        process_events()

    @rule()
    @step
    def click_empty_plot(self):
        plot = self.view.plot
        if not plot.isVisible():
            return NOTHING_TO_DO
        corner = plot.mapFromScene(plot.view_box.sceneBoundingRect().topLeft()) + QPoint(3, 3)
        QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, corner)
        self.hover_allowed = True
        process_events()

    @rule(position=st.integers(0, 400))
    @step
    def drag_the_replay_slider(self, position):
        slider = self.view.replay
        if not slider.isEnabled():
            return NOTHING_TO_DO
        slider.setValue(slider.minimum() + position % (slider.maximum() - slider.minimum() + 1))
        process_events()

    @rule(box=st.sampled_from(["projection", "colour_by", "show_choice", "labels_by", "genre_highlight"]),
          choice=st.integers(0, 5),
          side_tab=st.integers(0, 2))
    @step
    def change_a_factor_space_setting(self, box, choice, side_tab):
        combo = getattr(self.view, box)
        # t-SNE and UMAP run in a child process (the real umap-learn compiles itself for tens of seconds):
        # choose_umap_and_cancel_it below starts one with a stand-in and cancels it
        options = [i for i in range(combo.count()) if combo.itemData(i) not in LAYOUTS]
        combo.setCurrentIndex(options[choice % len(options)])
        self.view.side_tabs.setCurrentIndex(side_tab)
        process_events()

    @rule()
    @step
    def choose_umap_and_cancel_it(self):
        """UMAP, from the stand-in module, started by the choice and cancelled by pressing its button again:
        what was shown before comes back."""
        view = self.view
        before = view.projection.currentIndex()
        view.set_umap_module(FAKE_UMAP)
        view.projection.setCurrentIndex(view.projection.findData("umap"))
        process_events()
        if view.layout_job.running:  # not while training, nor without factors
            assert view.layout_button.text().startswith("Cancel UMAP")
            QTest.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)
            assert not view.layout_job.running and view.layout_button.text() == "Recompute UMAP"
        view.projection.setCurrentIndex(before if view.projection.itemData(before) not in LAYOUTS else 0)
        process_events()

    @rule(least=st.sampled_from([0, 1, 2, 3, 5]))
    @step
    def filter_the_neighbours_by_ratings(self, least):
        self.view.neighbour_min_ratings.setValue(least)
        process_events()

    # --- invariants -------------------------------------------------------------------------------------
    @invariant()
    def everything_holds(self):
        """One invariant calling each check (one line per step in a printed example, not six)."""
        if self._window is None:  # nothing done yet (see window)
            return
        with self.stats.recording_failure(self.log), self.stats.timing("(invariants)"):
            self.nothing_reached_the_error_handler()
            for check in (self.no_prediction_after_reset, self.every_cell_is_a_number_or_a_question_mark,
                          self.buttons_match_the_training_state, self.an_idle_controller_has_no_training_thread,
                          self.hover_box_only_while_the_mouse_is_on_the_plot):
                try:
                    check()
                except AssertionError as failure:
                    if not self.errors.is_tolerated(failure):
                        raise

    def nothing_reached_the_error_handler(self):
        self.errors.raise_first()

    def no_prediction_after_reset(self):
        if not self.reset_pending:
            return
        table = self.window.table
        for row in range(table.rowCount()):
            for column in range(table.columnCount()):
                if math.isnan(table.value(row, column)):
                    text = table.appearance(row, column)[0]
                    if text != "?":
                        self.reset_pending = False  # one failure per Reset, not one per later step
                    assert text == "?", (f"after Reset the unrated cell ({row}, {column}) shows {text!r} "
                                         f"(controller {self.panel.controller.state})")

    def every_cell_is_a_number_or_a_question_mark(self):
        table = self.window.table
        for row in range(table.rowCount()):
            for column in range(table.columnCount()):
                text = table.appearance(row, column)[0]
                assert cell_text_is_sound(text), f"cell ({row}, {column}) shows {text!r}"

    def buttons_match_the_training_state(self):
        """The controller changes state only in the GUI thread and the panel follows at once: any mismatch,
        however brief, is a bug."""
        panel = self.panel
        state = panel.controller.state
        assert state in TRANSPORT_ENABLED, f"the controller is in a state the buttons do not know: {state!r}"
        something_to_reset = panel.model is not None or panel.loss_plot.current is not None
        expected, shown = expected_transport(state, something_to_reset), self._buttons()
        assert shown == expected, f"controller {state!r}, buttons show {shown}"
        for name, action in panel.transport_actions.items():
            assert action.isEnabled() == expected[name], f"controller {state!r}, menu item {name} disagrees"

    def _buttons(self) -> dict:
        return {**self.panel.transport_enabled(), "pause text": self.panel.pause_button.text()}

    def an_idle_controller_has_no_training_thread(self):
        if self.frozen_by is not None:
            return  # counted already
        already = self.thread_left_behind
        left = self._thread_left_behind(THREAD_GRACE_S)
        assert already or not left, \
            f"the controller is idle but a training thread is still there {THREAD_GRACE_S} s later"

    def hover_box_only_while_the_mouse_is_on_the_plot(self):
        if self.hover_allowed:
            return
        assert not self.view.plot.hover_text.isVisible(), \
            "the hover box stays after the mouse left the plot (or after Reset or a new document)"


def machine_with(tolerated=(), **options) -> type[WindowMachine]:
    """A WindowMachine class of its own (its own RunStats) that tolerates these known bugs; ``options``
    set its other class attributes (trace, freeze_before_a_crash)."""
    return type("WindowMachine", (WindowMachine,), {"tolerated": tuple(tolerated), "stats": RunStats(), **options})
