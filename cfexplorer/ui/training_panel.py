"""The training panel: model settings, Train/Pause/Step/Stop/Reset, live status and loss curves."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSettings, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget,
)

from ..core.base import same_setting
from ..core.metrics import metric_name
from ..core.models import make_model
from ..io.project import SavedRun
from .elided_label import LiveText
from .file_dialogs import open_file_names, save_file_name
from .initialization import PARAMETER_FILES, loaded_message, read_start_parameters
from .loss_plot import LossPlot, saved_run
from .scrolling import VerticalScrollArea
from .training import IDLE, PAUSED, RUNNING, STOPPING, TrainingController
from .training_settings import MODEL_ROWS, PACES, SettingsFormMixin

SETTINGS_WAIT_NOTE = ("The run going on keeps the settings it started with; the changed settings apply when "
                      "Train (F5) starts the next run.")
SNAPSHOT_BUDGET_BYTES = 64 * 2**20  # factor snapshots kept for the replay slider
MAX_SNAPSHOTS = 200

# What can be pressed in each state of the run (buttons and the Training menu alike). Train is always
# possible: while a run goes on it supersedes it. Step starts a run paused after one epoch when idle.
TRANSPORT_ENABLED = {
    IDLE: {"train": True, "pause": False, "step": True, "stop": False, "reset": True},
    RUNNING: {"train": True, "pause": True, "step": False, "stop": True, "reset": True},
    PAUSED: {"train": True, "pause": True, "step": True, "stop": True, "reset": True},
    STOPPING: {"train": True, "pause": False, "step": False, "stop": False, "reset": True},
}
STATUS_SUFFIX = {PAUSED: " · paused", STOPPING: " · stopping…"}


def snapshot_interval(n_epochs: int, ratings, n_factors: int) -> int:
    """Every how many epochs to keep a copy of the factors for replay: every epoch for small data,
    fewer where a copy is large, within a fixed memory budget."""
    bytes_per_snapshot = 8 * (ratings.n_users + ratings.n_items) * (n_factors + 1)
    frames = int(np.clip(SNAPSHOT_BUDGET_BYTES // max(bytes_per_snapshot, 1), 2, MAX_SNAPSHOTS))
    return max(1, -(-int(n_epochs) // frames))


# What Step does depends on whether a run is on, and with none on whether the last one's model can go on (a stopped
# run's epochs were thrown away by a Step whose tooltip said "one more epoch").
STEP_TIPS = {
    IDLE: "Train one epoch and pause (F7): one more of the last run's model where it can go on (the same ratings "
          "and settings), else the first of a new run from fresh factors",
    RUNNING: "Pause the run after one more epoch (F7)",
    PAUSED: "Train one more epoch of this run (F7)",
}


@dataclass(frozen=True)
class RunInputs:
    """What a run trained on besides its model's settings: the ratings (held-out part included), the
    model kind chosen, and the held-out share and its seed."""

    ratings: object
    kind: str
    validation_fraction: float
    validation_seed: int


class TrainingPanel(SettingsFormMixin, QWidget):
    """The model's settings (a mixin: ui/training_settings.py), the transport buttons, the run's status, and
    the loss curves it feeds."""

    sig_predictor_changed = Signal(object)  # Predictor, or None after Reset
    # the model, "done" / "stopped" / "failed", or left behind: "superseded" / "reset" / "closed"
    sig_run_ended = Signal(object, str)
    LEFT_BEHIND = ("superseded", "reset", "closed")  # the reasons of sig_run_ended for a run not let finish
    # the model, the ratings it trains on: the validation share is held out of them in the worker, and then
    # sig_training_set says what it kept (where the share is above 0)
    sig_run_started = Signal(object, object)
    sig_training_set = Signal(object, object)  # the model, the ratings it trains on with its validation held out
    sig_message = Signal(str, str)           # kind ("error"/"info"), text
    sig_retrain_requested = Signal()

    def __init__(self, data_source, app_settings: QSettings, parent=None, why_no_ratings=None):
        """``data_source()`` returns the Ratings to train on, read when Train is pressed; ``why_no_ratings()``
        says why there are none (the grid may hold ratings that a filter keeps from training). ``app_settings``:
        the window's QSettings, which say where the file dialogs start (not the model's settings: settings())."""
        super().__init__(parent)
        self.data_source = data_source
        self.app_settings = app_settings
        self.why_no_ratings = why_no_ratings or (lambda: "There are no ratings to train on: type some into the "
                                                         "grid first.")
        self.controller = TrainingController(self)
        self.model = None  # the model of the last run (any kind in core.models)
        self.finished_model = None  # the last model whose run ended with epochs trained (what Save keeps)
        self.run_inputs: RunInputs | None = None  # what self.model's run trained on, when it ran here
        self.run_continues = False  # whether the run started last goes on from the one before it (Step)
        self.snapshot_every = 0  # every how many epochs the run started last keeps its factors for replay
        self._plot_run = None  # the loss plot's curves of that run, which Reset takes away
        self._finished_run = None  # the loss plot's run of finished_model
        self._progress_text = ""  # the status line of the last progress, before " · paused"
        self.stale = False
        self._started_at = 0.0
        self._paused_at: float | None = None  # when the run was paused, while it is
        self._paused_for = 0.0  # the run's paused seconds before that
        self._epochs_at_start = 0  # epochs the curves had when the run started (a run going on from the last)
        self._rate_since, self._rate = None, 0.0  # (time, epoch number) when the run last went on; its rate since
        self._binary = False
        self._small_data = False  # a classroom-sized grid: the course's settings are its defaults
        self._settings_note_due = False  # a run goes on that has not said changed settings wait for the next
        self._evaluation = False  # the last run started was Load Parameters' epoch 0 only (no update)
        # Changing λ (or another term of J) while epoch 0 of loaded parameters is shown computes it again.
        self._reevaluate_timer = QTimer(self, singleShot=True, interval=150)
        self._reevaluate_timer.timeout.connect(self.evaluate_start)
        self._build()
        self.controller.sig_progress.connect(self._on_progress)
        self.controller.sig_trained_on.connect(lambda train: self.sig_training_set.emit(self.model, train))
        self.controller.sig_state_changed.connect(self._on_state_change)
        self.controller.sig_finished.connect(self._on_finished)
        self.controller.sig_failed.connect(self._on_failed)
        self._on_state_change(IDLE)

    # --- construction -----------------------------------------------------------------------------------
    def _build(self):
        settings_box = self._build_settings_form()
        for changed in self._setting_signals():
            changed.connect(self._on_setting_change_during_run)

        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Start a new run from fresh random factors (F5)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause or resume the current run (F6)")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip(STEP_TIPS[IDLE])
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run after the current epoch (F8)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Forget the trained model: predictions disappear")
        self.train_button.clicked.connect(self._on_train_click)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.step_button.clicked.connect(self.step)
        self.stop_button.clicked.connect(self.stop)
        self.reset_button.clicked.connect(self.reset)
        self.transport_buttons = {"train": self.train_button, "pause": self.pause_button, "step": self.step_button,
                                  "stop": self.stop_button, "reset": self.reset_button}
        self.transport_actions = {}
        transport = QGridLayout()
        for position, button in enumerate((self.train_button, self.pause_button, self.step_button,
                                           self.stop_button, self.reset_button)):
            transport.addWidget(button, position // 3, position % 3)

        self.progress = QProgressBar()
        self.progress.setFormat("epoch %v / %m")
        self.status_label = LiveText("Not trained yet", lines=1)
        self.stale_label = QLabel()
        self.stale_label.setWordWrap(True)
        self.stale_label.setStyleSheet("color: #8a4b00; font-weight: bold;")
        self.retrain_button = QPushButton("Retrain on the edited ratings")
        self.retrain_button.clicked.connect(self._on_retrain_click)
        self.stale_box = QWidget()
        stale_layout = QVBoxLayout(self.stale_box)
        stale_layout.setContentsMargins(0, 0, 0, 0)
        stale_layout.addWidget(self.stale_label)
        stale_layout.addWidget(self.retrain_button)
        self.stale_box.hide()
        # Room for three lines: J with "Epoch 0 (the starting parameters)" before it, or with validation errors
        # after it, takes three in the dock's usual width, and a third line appearing moved the buttons above.
        self.cost_label = LiveText(lines=3)  # J's two terms and the training (and validation) errors

        self.log_scale = QCheckBox("Log scale")
        self.log_scale.toggled.connect(lambda on: self.loss_plot.set_log_scale(on))
        self.clear_history_button = QPushButton("Clear history")
        self.clear_history_button.setToolTip("Remove the curves of earlier runs")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the curves as PNG, SVG or CSV")
        self.clear_history_button.clicked.connect(lambda: self.loss_plot.clear_history())
        self.export_button.clicked.connect(self.export_dialog)
        plot_tools = QHBoxLayout()
        plot_tools.addWidget(self.log_scale)
        plot_tools.addStretch(1)
        plot_tools.addWidget(self.clear_history_button)
        plot_tools.addWidget(self.export_button)

        self.loss_plot = LossPlot()
        self.loss_plot.setMinimumHeight(200)
        # The curves get their own dock in the window; they are built here because this panel feeds them.
        self.curves_widget = QWidget()
        curves_layout = QVBoxLayout(self.curves_widget)
        curves_layout.setContentsMargins(2, 2, 2, 2)
        curves_layout.addLayout(plot_tools)
        curves_layout.addWidget(self.loss_plot, 1)

        # A projector's 1280×720 at presentation mode's large type has room for the buttons, not for every
        # setting: the settings scroll (vertically only: nothing is ever cut off at the side) and the
        # buttons, progress and cost stay in view below them.
        settings_page = QWidget()
        settings_layout = QVBoxLayout(settings_page)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(settings_box)
        settings_layout.addStretch(1)
        self.settings_scroller = VerticalScrollArea(settings_page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.settings_scroller, 1)
        layout.addLayout(transport)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.cost_label)
        layout.addWidget(self.stale_box)
        for changed in (self.reg.valueChanged, self.bias_reg.valueChanged, self.factors.valueChanged,
                        self.mean_normalization.toggled, self.global_mean.toggled, self.user_bias.toggled,
                        self.item_bias.toggled, self.loss.currentIndexChanged, self.initialization.sig_changed):
            changed.connect(self._on_cost_setting_change)
        self.epochs.valueChanged.connect(self._on_epochs_change)

    # --- transport ------------------------------------------------------------------------------------------
    def train(self, paused: bool = False, steps: int = 0, epochs: int | None = None) -> bool:
        """Start a new run on a snapshot of the current ratings; a run still going is superseded (left to
        end on its own, nothing more of it shown). Settings that cannot train change nothing. ``epochs``
        overrides the Epochs setting for this run (0: only J at the starting parameters)."""
        ratings = self.data_source()
        if ratings.n_ratings == 0:
            self.sig_message.emit("error", self.why_no_ratings())
            return False
        try:
            params = self.model_params()
            if self.kind == "content" and (self.user_features is not None or self.item_features is not None):
                params["user_features"], params["item_features"] = self.current_feature_tables()
            model = make_model(self.kind, **params)
            if params.get("init") == "given":
                model.start_from(self.initialization.start_arrays(model.n_factors))
            if epochs is not None:
                model.set_params(n_epochs=epochs)
            model._check_params(ratings)
        except ValueError as error:
            self.sig_message.emit("error", f"Cannot train with these settings: {error}")
            return False
        if self.controller.retire():
            self.sig_run_ended.emit(self.model, "superseded")
        if self._evaluation and self._plot_run is not None:
            self.loss_plot.remove_run(self._plot_run)  # epoch 0 alone was a preview: this run shows it again
        self._evaluation = False
        self._reevaluate_timer.stop()
        self.model = model
        self.stale = False
        self.stale_box.hide()
        binary = ratings.binary and (self.kind == "content" or model._resolve_loss(ratings) == "bce")
        self._plot_run = self.loss_plot.start_run(self.settings(), ("bce", "accuracy") if binary else ("rmse", "mae"),
                                                  model.n_epochs)
        self.show_planned_run(model.n_epochs)
        self._progress_text = "starting…"
        self._start_the_clock(epochs_at_start=0)
        # What File ▸ Export as Python Script needs to train this run again, number for number.
        self.run_inputs = RunInputs(ratings, self.kind, self.validation.value(), self.seed.value())
        self.run_continues = False
        self.snapshot_every = snapshot_interval(model.n_epochs, ratings, self.factors.value())
        self.sig_run_started.emit(model, ratings)
        self.controller.start(model, ratings, paused=paused, steps=steps,
                              epochs_per_second=PACES[self.pace.currentText()],
                              snapshot_every=self.snapshot_every,
                              holdout=self.validation.value(), holdout_seed=self.seed.value())
        return True

    def _on_train_click(self):
        self.train()

    # --- starting parameters ----------------------------------------------------------------------------------
    def load_parameters_dialog(self):
        paths = open_file_names(self, self.app_settings, "Load parameters: an .npz, or the lab's X, W and b CSV files",
                                PARAMETER_FILES)
        if paths:
            self.load_parameters(paths)

    def load_parameters(self, paths) -> bool:
        """Start from the parameters in ``paths`` (Training ▸ Load Parameters…): the model becomes the one they
        describe, and epoch 0 — J, its terms and the predictions at exactly those parameters — is shown at
        once; Train continues from them. Nothing changes when they cannot be read or do not fit the grid."""
        ratings = self.data_source()
        try:
            found, aligned = read_start_parameters(paths, ratings)
        except ValueError as error:  # FactorFileError is one
            self.sig_message.emit("error", f"Cannot load parameters: {error}")
            return False
        if "init" not in MODEL_ROWS[self.kind]:
            self.model_kind.setCurrentIndex(self.model_kind.findData("mf"))
        # The model the file describes: its biases, no offset (the parameters hold everything), all ratings.
        self.user_bias.setChecked(aligned.user_bias is not None)
        self.item_bias.setChecked(aligned.item_bias is not None)
        self.mean_normalization.setChecked(False)
        self.global_mean.setChecked(False)
        self.factors.setValue(aligned.n_factors)
        self.validation.setValue(0.0)
        self.initialization.set_loaded(aligned)
        self._reevaluate_timer.stop()  # the settings above asked for an evaluation: this is it
        self.sig_message.emit("info", loaded_message(found, aligned, self.bias_reg.value()))
        return self.evaluate_start()

    def evaluate_start(self) -> bool:
        """Epoch 0 only: J, its terms and the predictions at the starting parameters, without an update (a run
        of 0 epochs, shown as one point that the next run replaces)."""
        if not self.train(epochs=0):
            return False
        self._evaluation = True
        return True

    def _on_setting_change_during_run(self, *_):
        """Say once per run that a setting changed during it waits for the next run (users expected it live)."""
        if self._settings_note_due and self.controller.is_active:
            self._settings_note_due = False
            self.sig_message.emit("info", SETTINGS_WAIT_NOTE)

    def _on_cost_setting_change(self, *_):
        if self._evaluation and self.model is not None and "init" in MODEL_ROWS[self.kind]:
            self._reevaluate_timer.start()

    def toggle_pause(self):
        if self.controller.state == RUNNING:
            self.controller.pause()
        elif self.controller.state == PAUSED:
            self.controller.resume()

    def step(self):
        if self.controller.state != IDLE:
            self.controller.step()
        elif not self.continue_last_run(steps=1):
            self.train(paused=True, steps=1)

    def _start_the_clock(self, epochs_at_start: int):
        """A run starts (or goes on from the last): its time, pauses and rate counted from now, and the note that
        settings changed during it due once again."""
        self._epochs_at_start = epochs_at_start
        self._started_at = time.perf_counter()
        self._paused_at, self._paused_for = None, 0.0
        self._rate_since, self._rate = None, 0.0
        self._settings_note_due = True

    def continue_last_run(self, steps: int = 1) -> bool:
        """Train the model of the last run further, from its parameters, in a run paused after ``steps`` epochs
        that Resume takes on for the Epochs setting's count: epoch 201 after a run of 200 (a model that can go on
        from where it ended, on the grid's ratings and the panel's settings as that run had them). Its curves
        go on from the last run's. False, with nothing started, where it cannot (Step then starts a new run)."""
        model = self._continuable_model()
        if model is None:
            return False
        ratings = self.run_inputs.ratings
        continued = copy.deepcopy(model)  # the finished model stays whole for Save while this one trains
        continued.set_params(warm_start=True, n_epochs=self.epochs.value())
        last_epoch = model.history_[-1].epoch
        self.model = continued
        self.stale = False
        self.stale_box.hide()
        self.progress.setRange(0, last_epoch + continued.n_epochs)
        self.progress.setFormat("epoch %v / %m")
        self._show_progress(last_epoch)
        self.loss_plot.extend_planned_epochs(last_epoch + continued.n_epochs)
        self._progress_text = f"going on from epoch {last_epoch}…"
        self._start_the_clock(len(self.loss_plot.current.epochs) if self.loss_plot.current is not None else 0)
        # The replay goes on too: its frames spaced over both runs' epochs, within the same memory budget.
        self.run_continues = True
        self.snapshot_every = snapshot_interval(last_epoch + continued.n_epochs, ratings, self.factors.value())
        self.sig_run_started.emit(continued, ratings)
        self.controller.start(continued, ratings, paused=True, steps=steps,
                              epochs_per_second=PACES[self.pace.currentText()],
                              snapshot_every=self.snapshot_every,
                              holdout=self.run_inputs.validation_fraction, holdout_seed=self.run_inputs.validation_seed)
        return True

    def _continuable_model(self):
        """The last run's model where it can train on: it ended here with epochs trained and is the one shown,
        it goes on from its own parameters (``warm_start``: the factorizations, neural CF, the towers; not the
        Gibbs sampler or the baselines), and the grid's ratings, the model chosen and its settings are what that
        run had (else a new run is what the settings ask)."""
        model, inputs = self.finished_model, self.run_inputs
        if model is None or model is not self.model or inputs is None or self._evaluation or self.stale:
            return None
        if "warm_start" not in model.get_params() or not getattr(model, "history_", None):
            return None
        if inputs.ratings is not self.data_source() or inputs.kind != self.kind:
            return None
        if (inputs.validation_fraction, inputs.validation_seed) != (self.validation.value(), self.seed.value()):
            return None
        try:
            wanted = self.model_params()
        except ValueError:
            return None
        trained = model.get_params()
        if any(not same_setting(trained.get(name), value) for name, value in wanted.items() if name != "n_epochs"):
            return None
        return model

    def stop(self):
        self.controller.stop()

    def reset(self):
        """Forget the model of the last run, going or not: its predictions, factor-space frames and curves."""
        model, left_running = self.model, self.controller.retire()  # nothing more of the run arrives
        self._settings_note_due = False
        if self._plot_run is not None:
            self.loss_plot.remove_run(self._plot_run)
            self._plot_run = None
        self.model = self.finished_model = self._finished_run = None
        self.run_inputs = None  # the ratings it trained on (another document's, at a switch) are let go
        self._evaluation = False
        self._reevaluate_timer.stop()
        self.show_planned_run()
        self.status_label.setText("Not trained yet")
        self.cost_label.clear()
        self.stale = False
        self.stale_box.hide()
        self.sig_predictor_changed.emit(None)
        if left_running:  # every run started is announced as ended exactly once
            self.sig_run_ended.emit(model, "reset")
        self._follow_what_reset_forgets()

    def _follow_what_reset_forgets(self):
        """Reset offered only where it has something to forget: a run going on, a model, curves (it stood
        enabled beside "Not trained yet", as if it would do something)."""
        if self.controller.state == IDLE:
            enabled = self.model is not None or self._plot_run is not None
            self.transport_buttons["reset"].setEnabled(enabled)
            if "reset" in self.transport_actions:
                self.transport_actions["reset"].setEnabled(enabled)

    def show_planned_run(self, epochs: int | None = None):
        """The bar as "epoch 0 / N" of a run of ``epochs`` (by default the settings' epochs: no run is shown)."""
        epochs = self.epochs.value() if epochs is None else epochs
        self.loss_plot.plan_epochs(epochs)  # with no run shown, the epoch axis spans this one
        self.progress.setRange(0, max(epochs, 1))  # 0 / 0 would be Qt's busy bar
        self.progress.setFormat("epoch %v / %m" if epochs else "epoch 0 / 0")
        self._show_progress(0)

    def _on_epochs_change(self, epochs: int):
        # another model chosen sets its own epochs: the bar said "epoch 0 / 20" of the last model's
        if self.model is None and not self.controller.is_active:
            self.show_planned_run()

    def show_trained_model(self, model, how: str, run: SavedRun | None = None):
        """Show a model trained elsewhere (a project's) as this panel's last run: its curves, cost and
        progress, all of which Reset takes away as it does a run's. ``run``: the number and settings its run had
        in the loss plot (else the next number and the panel's settings)."""
        self.model = self.finished_model = model
        self.run_inputs = None  # how it was trained (its held-out split) is not known here
        binary = model.loss_ == "bce" or getattr(model, "binary_", False)
        self._plot_run = self._finished_run = self.loss_plot.start_run(
            self.settings() if run is None else run.settings, ("bce", "accuracy") if binary else ("rmse", "mae"),
            number=None if run is None else run.number)
        self.loss_plot.add_records(model.history_)
        epochs = model.history_[-1].epoch if model.history_ else 0
        if model.history_:
            self.cost_label.setText(self.describe_cost(model.history_[-1]))
        self.status_label.setText(f"trained: {epochs} epochs ({how})")
        self.progress.setRange(0, max(epochs, 1))
        self.progress.setFormat("epoch %v / %m")
        self._show_progress(epochs)
        self._follow_what_reset_forgets()

    def runs_of(self, model) -> tuple[list[SavedRun], SavedRun | None]:
        """The loss plot's runs as a project keeping ``model`` (one of this panel's, or None) keeps them: (the runs
        before its run, its run). Without its run in the plot: (every run but the one going
        on, None). A run started after the model's (the one going on, any it superseded) is not kept: the file
        has the plot as it was when the model's run ended."""
        runs = self.loss_plot.runs
        run = None
        if model is not None and model is self.model:
            run = self._plot_run
        elif model is not None and model is self.finished_model:
            run = self._finished_run
        position = next((i for i, kept in enumerate(runs) if kept is run), None)
        if position is not None:  # (its curves are the model's history)
            return [saved_run(kept) for kept in runs[:position]], SavedRun(run.number, dict(run.settings))
        going_on = self._plot_run if self.controller.is_active else None
        return [saved_run(kept) for kept in runs if kept is not going_on], None

    def shutdown(self) -> bool:
        """Closing: end the run and wait (bounded) for every training thread; True when all have ended."""
        if self.controller.retire():
            self.sig_run_ended.emit(self.model, "closed")
        return self.controller.shutdown()

    def transport_enabled(self) -> dict:
        """Which of Train, Pause, Step, Stop and Reset can be pressed now (see TRANSPORT_ENABLED)."""
        return {name: button.isEnabled() for name, button in self.transport_buttons.items()}

    def follow_with_actions(self, actions: dict):
        """Menu actions (name in TRANSPORT_ENABLED -> QAction) enabled exactly when their button is."""
        self.transport_actions = dict(actions)
        self._on_state_change(self.controller.state)

    def set_stale(self, stale: bool):
        """Whether the grid's ratings differ from those the last run started from: its results then describe
        the old ratings (an undo back to them makes them current again)."""
        stale = stale and self.model is not None
        if stale == self.stale:
            return
        self.stale = stale
        self.stale_label.setText("The ratings were edited after this training started: its predictions "
                                 "and J describe the old ratings.")
        self.stale_box.setVisible(stale)

    def _on_retrain_click(self):
        if self._evaluation:
            self.evaluate_start()
        else:
            self.train()

    # --- reactions ----------------------------------------------------------------------------------------------
    @Slot(object, object)
    def _on_progress(self, records, predictor):
        self.loss_plot.add_records(records)
        last = records[-1]
        elapsed = self._training_seconds()
        run = self.loss_plot.current
        if self.controller.state == RUNNING and self._rate_since is not None:
            # the epochs since the run last went on, over that time: a Step's epoch while paused runs at full
            # speed whatever the speed limit, and counted in it made "124 epochs/s" of a run held to 10
            since, epoch = self._rate_since
            seconds, trained = time.perf_counter() - since, run.epochs[-1] - epoch
            if trained >= 2 and seconds > 0:  # (one epoch over the moment since a resume is no rate)
                self._rate = trained / seconds
        rate = f" · {self._rate:,.0f} epochs/s" if self._rate > 0 else ""  # (none yet: a Step's epoch is no rate)
        self._show_progress(min(last.epoch, self.progress.maximum()))
        self._show_status(f"epoch {last.epoch}{rate} · {elapsed:.1f} s")
        self.cost_label.setText(self.describe_cost(last))
        if predictor is not None:
            self.sig_predictor_changed.emit(predictor)

    def _show_progress(self, epoch: int):
        # QProgressBar.setValue repaints at once when its text changes ("epoch %v": every epoch), and an
        # immediate repaint paints every widget of the window that awaits one, the grid and the factor
        # space included, inside this slot (30 ms of one event-loop turn while training). Updated like
        # any other widget, the bar is painted with the rest when the event loop comes to it.
        self.progress.setUpdatesEnabled(False)
        self.progress.setValue(epoch)
        self.progress.setUpdatesEnabled(True)
        self.progress.update()

    def describe_cost(self, record) -> str:
        text = f"J = {record.data_term:.5g} (data) + {record.reg_term:.5g} (reg) = {record.total:.5g}"
        if record.epoch == 0:
            text = "Epoch 0 (the starting parameters): " + text
        train = record.train
        if "rmse" in train:
            text += f"   train RMSE {train['rmse']:.4f}"
        if "accuracy" in train:
            text += f"   train accuracy {train['accuracy']:.3f}"
        for key in ("rmse", "mae", "bce", "accuracy"):
            if key in record.validation:
                text += f"   val {metric_name(key)} {record.validation[key]:.4f}"
        return text

    def _training_seconds(self) -> float:
        """Seconds since the run started, less the time it stood paused (the time and the rate said so far
        counted a pause as training: 563 epochs/s fell to 374 after a pause of 2.5 s)."""
        now = time.perf_counter() if self._paused_at is None else self._paused_at
        return now - self._started_at - self._paused_for

    def _on_state_change(self, state: str):
        now = time.perf_counter()
        if state == RUNNING:  # the rate is measured from here (see _on_progress), by epoch numbers: epoch 0 is J at
            run = self.loss_plot.current  # the start, no epoch trained
            self._rate_since = (now, run.epochs[-1] if run is not None and run.epochs else 0)
        if state == PAUSED and self._paused_at is None:
            self._paused_at = now
        elif state != PAUSED and self._paused_at is not None:
            self._paused_for += now - self._paused_at
            self._paused_at = None
        for name, enabled in TRANSPORT_ENABLED[state].items():
            self.transport_buttons[name].setEnabled(enabled)
            if name in self.transport_actions:
                self.transport_actions[name].setEnabled(enabled)
        self._follow_what_reset_forgets()
        self.pause_button.setText("Resume" if state == PAUSED else "Pause")
        self.step_button.setToolTip(STEP_TIPS.get(state, STEP_TIPS[RUNNING]))
        if state in STATUS_SUFFIX:
            self._show_status(self._progress_text)

    def _show_status(self, progress_text: str):
        self._progress_text = progress_text
        self.status_label.setText(progress_text + STATUS_SUFFIX.get(self.controller.state, ""))

    @Slot(str)
    def _on_finished(self, reason: str):
        self._settings_note_due = False
        history = getattr(self.model, "history_", [])
        epochs = history[-1].epoch if history else 0
        word = "finished" if reason == "done" else "stopped"
        elapsed = self._training_seconds()
        if not history:  # a model without an epoch 0 trained for no epoch: it predicts nothing
            self.sig_predictor_changed.emit(None)
        else:
            self.finished_model, self._finished_run = self.model, self._plot_run
        run = self.loss_plot.current
        if self._evaluation and epochs == 0:
            self.status_label.setText("epoch 0: J at the starting parameters, no update")
        elif self.run_continues and run is not None:  # "after 201 epochs in 0.01 s" counted the run it went on from
            more = len(run.epochs) - self._epochs_at_start
            self.status_label.setText(f"{word} at epoch {epochs}: {more} more in {elapsed:.2f} s")
        else:
            self.status_label.setText(f"{word} after {epochs} epoch{'' if epochs == 1 else 's'} in {elapsed:.2f} s")
        self.sig_run_ended.emit(self.model, reason)
        self.loss_plot.prepare_next_run()

    @Slot(str, str)
    def _on_failed(self, message: str, details: str):
        self._settings_note_due = False
        self.status_label.setText("training failed")
        # Parameters from just before a divergence predict nothing useful: show '?' again.
        self.sig_predictor_changed.emit(None)
        self.sig_message.emit("error", message)
        self.sig_run_ended.emit(self.model, "failed")
        self.loss_plot.prepare_next_run()

    # --- export ---------------------------------------------------------------------------------------------------
    def export_dialog(self):
        path, _ = save_file_name(self, self.app_settings, "Export loss curves",
                                 "PNG image (*.png);;SVG image (*.svg);;CSV table (*.csv)", "loss-curves.png")
        if path:
            try:
                self.export_curves(path)
            except OSError as error:  # a folder without write access, a full disk: said, not raised into Qt
                self.sig_message.emit("error", f"Could not export the curves: {error}")

    def export_curves(self, path: str):
        if path.lower().endswith(".csv"):
            self.loss_plot.export_csv(path)
        else:
            self.loss_plot.export_image(path)
