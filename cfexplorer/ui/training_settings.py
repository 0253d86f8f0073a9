"""The training panel's model settings: a form whose rows follow the chosen model, read into the model's
parameters and filled from a preset's, a project's or a lesson's. A mixin of
:class:`~cfexplorer.ui.training_panel.TrainingPanel`."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from ..core.mf import SGD_DEFAULT_BATCH
from ..core.models import MODEL_KINDS, make_model, settings_for_likes
from ..core.network import parse_hidden
from ..io.presets import COURSE_TRAINING
from ..io.writers import shortest_text
from .initialization import InitializationRow
from .qt_guard import qt_virtual
from .scrolling import WrappingColumns

PACES = {"full speed": None, "100 epochs/s": 100, "30 epochs/s": 30, "10 epochs/s": 10, "3 epochs/s": 3}
OPTIMIZER_LABELS = {"als": "ALS (alternating least squares)", "adam": "Adam", "gd": "Gradient descent",
                    "sgd": "Mini-batch SGD"}


# Which settings each kind of model has; the others are hidden while it is chosen.
_MF_ROWS = ("loss", "checks", "factors", "reg", "bias_reg", "optimizer", "learning_rate", "epochs", "batch_size",
            "y_range", "init")
MODEL_ROWS = {
    "mf": _MF_ROWS,
    "dot_bias": _MF_ROWS,
    "neural": ("loss", "factors", "hidden", "dropout", "reg", "learning_rate", "epochs", "batch_size", "y_range"),
    "content": ("factors", "hidden", "reg", "learning_rate", "epochs", "batch_size", "features", "towers"),
    "bayes": ("factors", "epochs", "burn_in", "kept_samples"),
    "biases": ("loss", "bias_reg", "optimizer", "learning_rate", "epochs"),
    "global_mean": ("loss",),
}


# A grid this small (a class's own example, a student's CSV) gets the course's settings: the defaults tuned on
# MovieLens (ALS with λ = 15, neural CF with weight decay 60) regularize a few ratings a row down to zero factors
# (train RMSE 2.3 on the course's grid, against 0.3 with these).
SMALL_DATA_RATINGS = 1_000
SMALL_DATA_DEFAULTS = {
    "mf": COURSE_TRAINING,
    "dot_bias": {"reg": 1.0, "bias_reg": 0.0},
    "neural": {"reg": 1.0, "n_epochs": 200},
}
SMALL_BINARY_DEFAULTS = {**COURSE_TRAINING, "mean_normalization": False}  # the course's likes example


def format_y_range(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return f"{shortest_text(value[0])}, {shortest_text(value[1])}"  # ":g" kept six digits: 5.7654321 came back rounded


def parse_y_range(text: str):
    """None, "auto" or (low, high) from what a user typed."""
    text = text.strip().lower()
    if text in ("", "none", "off", "no"):
        return None
    if text == "auto":
        return "auto"
    parts = [part for part in text.replace(";", ",").replace("..", ",").replace(" ", ",").split(",") if part]
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise ValueError(f"y-range must be 'none', 'auto' or 'low, high' such as '0, 5.5'; got {text!r}") from None
    return low, high


class WholeChoiceComboBox(QComboBox):
    """A combo box at least as wide as its longest choice: where a row of the settings form has not that
    room, the form (wrapping long rows) puts it under its label instead of cutting the name
    ("Matrix factorization (co" beside a lesson in presentation mode's type)."""

    def __init__(self):
        super().__init__()
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # measured again with the font

    @qt_virtual(fallback=lambda self: QComboBox.minimumSizeHint(self))
    def minimumSizeHint(self) -> QSize:
        least = super().minimumSizeHint()
        return QSize(max(least.width(), self.sizeHint().width()), least.height())


class SettingsFormMixin:
    """The settings widgets, the form that shows a model's rows, and the parameters they make."""

    def _build_settings_form(self) -> QGroupBox:
        self.model_kind = WholeChoiceComboBox()
        for key, kind in MODEL_KINDS.items():
            self.model_kind.addItem(kind.label, key)
            self.model_kind.setItemData(self.model_kind.count() - 1, kind.description, Qt.ItemDataRole.ToolTipRole)
        self.model_kind.setToolTip("Which model to train; each shows its own settings below.")
        self.model_kind.currentIndexChanged.connect(self._on_model_kind_change)
        self.y_range = QLineEdit()
        self.y_range.setPlaceholderText("none, auto, or low, high")
        self.y_range.setToolTip("Squash predictions through a sigmoid scaled to (low, high), as fast.ai's y_range; "
                                "'auto' widens the rating scale by one step on each side; 'none' turns it off.")
        self.hidden = QLineEdit()
        self.hidden.setPlaceholderText("e.g. 64, 32")
        self.hidden.setToolTip("Sizes of the dense ReLU layers, separated by commas; empty for none.")
        self.dropout = QDoubleSpinBox(minimum=0, maximum=0.9, decimals=2, singleStep=0.05)
        self.dropout.setToolTip("Share of hidden units dropped at random in each training step.")
        self.features_button = QPushButton("Feature tables…")
        self.features_button.setToolTip("View and edit the user and movie features the two towers read.")
        self.features_button.clicked.connect(self.edit_features)
        self.normalize = QCheckBox("L2-normalize tower outputs")
        self.normalize.setToolTip("Scale each tower's output vector to length 1, so that their dot product is a "
                                  "cosine in [−1, 1] (the course's towers do).")
        self.scale_targets = QCheckBox("Scale targets to [−1, 1]")
        self.scale_targets.setToolTip("Fit the ratings scaled to [−1, 1], the range of a dot product of unit "
                                      "vectors, and scale predictions back (the course's towers do).")
        self.towers = QWidget()
        towers = QVBoxLayout(self.towers)
        towers.setContentsMargins(0, 0, 0, 0)
        towers.addWidget(self.normalize)
        towers.addWidget(self.scale_targets)
        self.user_features = None  # edited feature tables, or None: computed from the ratings
        self.item_features = None
        self.feature_dialog = None
        self.loss = QComboBox()
        self.loss.addItem("Squared error (ratings)", "squared")
        self.loss.addItem("Binary cross-entropy (likes)", "bce")
        self.loss.setToolTip("Squared error for star ratings; sigmoid + cross-entropy for 1/0 likes.")
        self.mean_normalization = QCheckBox("Mean normalization")
        self.mean_normalization.setToolTip("Subtract each movie's mean before training and add it back when "
                                           "predicting: a user with no ratings gets the movie means.")
        self.global_mean = QCheckBox("Global mean offset")
        self.global_mean.setToolTip("Add the mean of all ratings as a fixed offset (when not mean-normalizing).")
        self.user_bias = QCheckBox("User bias b")
        self.user_bias.setToolTip("Learn one number per user that shifts all of their predictions.")
        self.item_bias = QCheckBox("Movie bias")
        self.item_bias.setToolTip("Learn one number per movie that shifts all of its predictions.")
        self.factors = QSpinBox(minimum=0, maximum=500)
        self.factors.setToolTip("Number of latent factors k: the length of each x (movie) and w (user) vector.")
        self.reg = QDoubleSpinBox(minimum=0, maximum=1e6, decimals=3, singleStep=0.1)
        self.reg.setToolTip("λ: weight of the regularization term λ/2 (|W|² + |X|²); larger keeps factors small.")
        self.bias_reg = QDoubleSpinBox(minimum=0, maximum=1e6, decimals=3, singleStep=0.1)
        self.bias_reg.setToolTip("λ for the biases; 0 leaves them unregularized, as in the course.")
        self.learning_rate = QDoubleSpinBox(minimum=1e-6, maximum=100, decimals=5, singleStep=0.01)
        self.learning_rate.setToolTip("Step size α of gradient descent, SGD and Adam (ALS needs none).")
        self.optimizer = QComboBox()
        for key, label in OPTIMIZER_LABELS.items():
            self.optimizer.addItem(label, key)
        self.optimizer.setToolTip("How the cost is minimized: ALS solves exactly for users, then movies; "
                                  "the others take gradient steps.")
        self.epochs = QSpinBox(minimum=0, maximum=100_000)
        self.epochs.setToolTip("How many passes over the ratings to train for; 0 computes J at the starting "
                               "parameters (epoch 0) without an update.")
        self.initialization = InitializationRow()
        self._init_scale_unshown = 0.1  # the init scale of a model without the row (see _load_params)
        self.burn_in = QSpinBox(minimum=0, maximum=100_000)
        self.burn_in.setToolTip("Gibbs samples drawn first and left out of the posterior mean (the chain is "
                                "still finding its level).")
        self.kept_samples = QSpinBox(minimum=2, maximum=1000)
        self.kept_samples.setToolTip("Samples kept, evenly through the chain, to measure how sure each prediction "
                                     "is (the ± in the grid's tooltips); each costs (users + movies) × (k + 1) "
                                     "numbers of memory.")
        self.batch_size = QSpinBox(minimum=0, maximum=10_000_000, specialValueText="full batch")
        self.batch_size.setToolTip("Ratings per step for SGD and Adam; Adam's 'full batch' uses all of them, SGD "
                                   f"unset takes {SGD_DEFAULT_BATCH}.")
        self.validation = QDoubleSpinBox(minimum=0, maximum=0.5, decimals=2, singleStep=0.05)
        self.validation.setToolTip("Share of the ratings held out to measure how well unseen ratings are predicted.")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed.setToolTip("Seed of the initial factors and the validation split: same seed, same run.")
        self.pace = QComboBox()
        for label in PACES:
            self.pace.addItem(label)
        self.pace.setToolTip("Slow training down to watch it happen in class.")
        self.pace.currentTextChanged.connect(lambda text: self.controller.set_pace(PACES[text]))
        self.optimizer.currentIndexChanged.connect(self._on_optimizer_change)

        form = QFormLayout()
        self.form = form
        form.addRow("Model", self.model_kind)
        form.addRow("Loss", self.loss)
        # two columns where there is room, one on a narrow panel (the window's minimum width)
        self.checks = WrappingColumns([self.mean_normalization, self.global_mean, self.user_bias, self.item_bias])
        form.addRow(self.checks)
        self.factors_label = QLabel("Factors k")
        form.addRow(self.factors_label, self.factors)
        form.addRow("Hidden layers", self.hidden)
        form.addRow("Dropout", self.dropout)
        self.reg_label = QLabel("λ (factors)")
        form.addRow(self.reg_label, self.reg)
        form.addRow("λ (biases)", self.bias_reg)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate α", self.learning_rate)
        self.epochs_label = QLabel("Epochs")
        form.addRow(self.epochs_label, self.epochs)
        form.addRow("Burn-in samples", self.burn_in)
        form.addRow("Samples kept for ±", self.kept_samples)
        form.addRow("Batch size", self.batch_size)
        form.addRow("y-range", self.y_range)
        form.addRow("Initialization", self.initialization)
        form.addRow(self.features_button)
        form.addRow(self.towers)
        self._row_widgets = {
            "loss": self.loss, "checks": self.checks, "factors": self.factors, "hidden": self.hidden,
            "dropout": self.dropout, "reg": self.reg, "bias_reg": self.bias_reg, "optimizer": self.optimizer,
            "learning_rate": self.learning_rate, "epochs": self.epochs, "batch_size": self.batch_size,
            "y_range": self.y_range, "features": self.features_button, "init": self.initialization,
            "towers": self.towers,
            "burn_in": self.burn_in, "kept_samples": self.kept_samples,
        }
        form.addRow("Validation share", self.validation)
        form.addRow("Seed", self.seed)
        form.addRow("Speed", self.pace)
        settings_box = QGroupBox("Model")
        settings_box.setLayout(form)
        # A projector's 1280×720 at presentation mode's large type: long rows wrap (the settings scroll
        # vertically in the panel, never sideways).
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for combo in settings_box.findChildren(QComboBox):
            if combo is self.model_kind:  # a model's name whole, under its label where beside it is too narrow
                continue
            # as wide as its longest choice where there is room, a dozen characters where there is not
            combo.setMinimumWidth(12 * combo.fontMetrics().averageCharWidth())
        return settings_box

    def _setting_signals(self) -> list:
        """The change signals of every setting a run reads when it starts (the speed applies at once)."""
        signals = [self.model_kind.currentIndexChanged, self.initialization.sig_changed]
        for name, widget in (*self._row_widgets.items(), ("validation", self.validation), ("seed", self.seed)):
            if isinstance(widget, QComboBox):
                signals.append(widget.currentIndexChanged)
            elif isinstance(widget, QAbstractSpinBox):
                signals.append(widget.valueChanged)
            elif isinstance(widget, QLineEdit):
                signals.append(widget.textEdited)
        signals += [box.toggled for box in (self.mean_normalization, self.global_mean, self.user_bias,
                                            self.item_bias, self.normalize, self.scale_targets)]
        return signals

    @property
    def kind(self) -> str:
        return self.model_kind.currentData()

    def apply_defaults(self, training: dict | None = None, binary: bool = False, n_ratings: int | None = None):
        """Settings for new data: the model's defaults (a classroom-sized grid's own: see SMALL_DATA_RATINGS),
        overridden by a preset's or project's own."""
        training = training or {}
        self._binary = binary
        self._small_data = n_ratings is not None and n_ratings < SMALL_DATA_RATINGS
        self.user_features = self.item_features = None
        self.initialization.set_loaded(None)  # parameters loaded for the previous document
        kind = training.get("model", "mf")
        self.model_kind.blockSignals(True)
        self.model_kind.setCurrentIndex(max(self.model_kind.findData(kind), 0))
        self.model_kind.blockSignals(False)
        self._load_params({**self._kind_defaults(self.kind), **training})
        held_out = 0.0 if self._small_data else 0.1  # a tenth of a few dozen ratings measures nothing
        self.validation.setValue(training.get("validation_fraction", 0.0) if training else held_out)
        pace = training.get("pace")
        self.pace.setCurrentText(next((k for k, v in PACES.items() if v == pace), "full speed"))

    def set_params(self, params: dict):
        """Change some settings of the current model, as a user would in the widgets (lessons use this)."""
        if "validation_fraction" in params:
            self.validation.setValue(params["validation_fraction"])
        self._load_params(params)

    def _kind_defaults(self, kind: str) -> dict:
        params = make_model(kind).get_params()
        if self._binary:
            params.update(settings_for_likes(kind))
            if self._small_data and kind in ("mf", "biases"):  # the course's likes example
                params.update({k: v for k, v in SMALL_BINARY_DEFAULTS.items() if k in params})
        elif self._small_data:
            params.update({k: v for k, v in SMALL_DATA_DEFAULTS.get(kind, {}).items() if k in params})
        return params

    def _load_params(self, params: dict):
        """Show ``params`` in the widgets; settings a model does not have keep their values."""
        self.loss.setCurrentIndex(1 if self._binary else 0)
        if params.get("loss") in ("squared", "bce"):  # chosen, not "auto": a project's squared error on likes too
            self.loss.setCurrentIndex(self.loss.findData(params["loss"]))
        for name, box in (("mean_normalization", self.mean_normalization), ("global_mean", self.global_mean),
                          ("user_bias", self.user_bias), ("item_bias", self.item_bias),
                          ("normalize", self.normalize), ("scale_targets", self.scale_targets)):
            if name in params:
                box.setChecked(bool(params[name]))
        factors = params.get("n_outputs", params.get("n_factors"))
        if factors is not None:
            self.factors.setValue(int(factors))
        for name, box in (("reg", self.reg), ("bias_reg", self.bias_reg), ("learning_rate", self.learning_rate),
                          ("dropout", self.dropout)):
            if name in params:
                box.setValue(float(params[name]))
        for name, box in (("burn_in", self.burn_in), ("kept_samples", self.kept_samples)):
            if name in params:
                box.setValue(int(params[name]))
        if "optimizer" in params:
            self.optimizer.setCurrentIndex(list(OPTIMIZER_LABELS).index(params["optimizer"]))
        if "n_epochs" in params:
            self.epochs.setValue(int(params["n_epochs"]))
        if "batch_size" in params:
            self.batch_size.setValue(params["batch_size"] or 0)
        if "seed" in params:
            self.seed.setValue(params["seed"] or 0)
        if "hidden" in params:
            hidden = params["hidden"]
            self.hidden.setText(hidden if isinstance(hidden, str) else ", ".join(str(v) for v in hidden))
        if "y_range" in params:
            self.y_range.setText(format_y_range(params["y_range"]))
        if "init" in params:
            self.initialization.set_init(params["init"], params.get("init_scale"))
        # A setting of the model with no row in the panel (neural CF's init scale): kept as given, not taken
        # from another model's row that happens to be hidden (the factorization's scale reached neural CF).
        if "init" not in MODEL_ROWS[self.kind] and "init_scale" in params:
            self._init_scale_unshown = params["init_scale"]
        self._show_rows()

    def _on_model_kind_change(self):
        self._load_params(self._kind_defaults(self.kind))

    def _show_rows(self):
        kind = self.kind
        visible = MODEL_ROWS[kind]
        for name, widget in self._row_widgets.items():
            self.form.setRowVisible(widget, name in visible)
        self.factors_label.setText("Tower outputs k" if kind == "content" else "Factors k")
        self.epochs_label.setText("Gibbs samples" if kind == "bayes" else "Epochs")
        self.epochs.setToolTip("How many Gibbs samples to draw: each draws every user, then every movie, once."
                               if kind == "bayes" else "How many passes over the ratings to train for.")
        self.reg_label.setText("Weight decay λ" if kind in ("neural", "content") else "λ (factors)")
        self.model_kind.setToolTip(MODEL_KINDS[kind].description)
        self._on_optimizer_change()

    def model_params(self) -> dict:
        """Settings of the chosen model (raises ValueError for text a user typed wrongly)."""
        kind = self.kind
        params = {
            "n_factors": self.factors.value(),
            "n_outputs": self.factors.value(),
            "reg": self.reg.value(),
            "bias_reg": self.bias_reg.value(),
            "learning_rate": self.learning_rate.value(),
            "optimizer": self.optimizer.currentData(),
            "n_epochs": self.epochs.value(),
            "batch_size": self.batch_size.value() or None,
            "seed": self.seed.value(),
            "mean_normalization": self.mean_normalization.isChecked(),
            "global_mean": self.global_mean.isChecked(),
            "user_bias": self.user_bias.isChecked(),
            "item_bias": self.item_bias.isChecked(),
            "loss": self.loss.currentData(),
            "hidden": parse_hidden(self.hidden.text()),
            "dropout": self.dropout.value(),
            "y_range": parse_y_range(self.y_range.text()),
            "init": self.initialization.init,
            "init_scale": (self.initialization.scale.value() if "init" in MODEL_ROWS[kind]
                           else self._init_scale_unshown),
            "normalize": self.normalize.isChecked(),
            "scale_targets": self.scale_targets.isChecked(),
            "burn_in": self.burn_in.value(),
            "kept_samples": self.kept_samples.value(),
        }
        known = MODEL_KINDS[kind].model_class._PARAM_NAMES
        return {name: value for name, value in params.items() if name in known}

    def settings(self) -> dict:
        """What a project file stores of this panel."""
        pace = PACES[self.pace.currentText()]
        try:
            params = self.model_params()
        except ValueError:
            params = {}
        for name in ("hidden", "y_range"):
            if isinstance(params.get(name), tuple):
                params[name] = list(params[name])
        return {"model": self.kind, **params, "validation_fraction": self.validation.value(), "pace": pace}

    def _on_optimizer_change(self):
        has_optimizer = "optimizer" in MODEL_ROWS[self.kind]
        optimizer = self.optimizer.currentData() if has_optimizer else "adam"
        self.learning_rate.setEnabled(optimizer != "als")
        self.batch_size.setEnabled(optimizer in ("sgd", "adam"))
        # unset, mini-batch SGD takes batches of its own size: "full batch" beside it said what it did not do
        self.batch_size.setSpecialValueText(f"{SGD_DEFAULT_BATCH} (SGD's own)" if optimizer == "sgd" else "full batch")

    def current_candidate(self):
        """The chosen model with the panel's settings, for the comparison window."""
        from ..core.compare import Candidate

        label = f"{MODEL_KINDS[self.kind].label} (panel settings)"
        try:
            params = self.model_params()
        except ValueError:
            params = {}
        if self.kind == "content" and (self.user_features is not None or self.item_features is not None):
            params["user_features"], params["item_features"] = self.current_feature_tables()
        return Candidate(label, self.kind, params)

    # --- feature tables (content-based model) ------------------------------------------------------------------
    def current_feature_tables(self):
        """The (user, movie) feature tables the content model will read: edited ones where they fit the data."""
        from ..core.content import item_features, user_features

        ratings = self.data_source()
        users = self.user_features if self.user_features is not None and len(self.user_features) == ratings.n_users \
            else user_features(ratings)
        items = self.item_features if self.item_features is not None and len(self.item_features) == ratings.n_items \
            else item_features(ratings)
        return users, items

    def edit_features(self):
        from .feature_tables import FeatureTablesDialog

        users, items = self.current_feature_tables()
        self.feature_dialog = FeatureTablesDialog(users, items, self.data_source, self)
        self.feature_dialog.accepted.connect(self._on_features_accepted)
        self.feature_dialog.open()

    def feature_tables_state(self) -> dict | None:
        """The edited feature tables as a project keeps them (None: none edited, they come from the ratings)."""
        if self.user_features is None and self.item_features is None:
            return None
        import pandas as pd  # here: the window opens without pandas (tests/test_startup.py)

        return {side: None if frame is None else {
                    "index_name": frame.index.name, "index": [str(label) for label in frame.index],
                    "columns": [str(column) for column in frame.columns],
                    "values": frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float).tolist()}
                for side, frame in (("users", self.user_features), ("items", self.item_features))}

    def restore_feature_tables(self, state, ratings) -> str | None:
        """The edited feature tables a project kept (the next content-based run reads them, as before it was
        saved); None, or what was wrong with them (the tables then come from the ratings)."""
        self.user_features = self.item_features = None
        if state is None:
            return None
        import pandas as pd

        try:
            tables = {}
            for side, rows in (("users", ratings.n_users), ("items", ratings.n_items)):
                table = state[side]
                if table is None:
                    tables[side] = None
                    continue
                columns, index = [str(c) for c in table["columns"]], [str(label) for label in table["index"]]
                if len(index) != rows or len(table["values"]) != rows:
                    raise ValueError(f"the {side[:-1]} table has {len(index)} rows for {rows:,} {side}")
                values = np.array(table["values"], dtype=float).reshape(rows, len(columns))
                tables[side] = pd.DataFrame(values, columns=columns,
                                            index=pd.Index(index, name=table.get("index_name")))
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            return f"its edited feature tables could not be used ({error}); they are made from the ratings again"
        self.user_features, self.item_features = tables["users"], tables["items"]
        return None

    def _on_features_accepted(self):
        self.user_features, self.item_features = self.feature_dialog.tables()
        self.sig_message.emit("info", "The content-based model will read the edited feature tables.")
