"""Where a training run starts: the training panel's Initialization row (small random factors, normal(0, 1)
as in the course lab, or parameters loaded with Training ▸ Load Parameters…) and the reading of those
parameters for the grid's ratings."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from ..io.params import AlignedParameters, ParameterSet, align_parameters, read_parameters

INIT_LABELS = {"small": "small random", "normal": "normal(0, 1), lab"}
INIT_TIPS = {
    "small": "Factors drawn from N(0, s²) with the scale s beside; biases start at 0.",
    "normal": "Every factor and bias drawn from N(0, 1), as the course lab's tf.random.normal: J starts in the "
              "millions on the lab's data.",
    "given": "Start from the loaded parameters (Training ▸ Load Parameters…); Factors k takes their first k.",
}
PARAMETER_FILES = "Parameters (*.npz *.csv *.tsv *.txt);;All files (*)"


class InitializationRow(QWidget):
    """The Initialization setting: a choice (small / normal / loaded) and the scale s of 'small'."""

    sig_changed = Signal()  # the choice or the scale changed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loaded: AlignedParameters | None = None  # what Load Parameters… read, matched to the grid
        self.choice = QComboBox()
        # Its longest entry must not widen the training panel (a projector's 1280 × 720 has no width to spare).
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.choice.setMinimumContentsLength(12)
        for key, label in INIT_LABELS.items():
            self.choice.addItem(label, key)
            self.choice.setItemData(self.choice.count() - 1, INIT_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.choice.setToolTip("Where training starts: epoch 0 of the loss curves is J at these parameters.")
        self.scale = QDoubleSpinBox(minimum=0.0, maximum=10.0, decimals=3, singleStep=0.05, value=0.1)
        self.scale.setToolTip("s: the standard deviation of the small random factors.")
        self.scale_label = QLabel("s")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choice, 1)
        layout.addWidget(self.scale_label)
        layout.addWidget(self.scale)
        self.choice.currentIndexChanged.connect(self._on_choice_change)
        self.scale.valueChanged.connect(lambda _: self.sig_changed.emit())
        self._on_choice_change()

    @property
    def init(self) -> str:
        """'small', 'normal' or 'given' (the loaded parameters)."""
        return self.choice.currentData()

    def set_init(self, init: str, scale: float | None = None):
        """Show a model's setting; an init this row cannot offer ('given' without loaded parameters) shows 'small'."""
        index = self.choice.findData(init)
        self.choice.setCurrentIndex(index if index >= 0 else 0)
        if scale is not None:
            self.scale.setValue(float(scale))

    def set_loaded(self, aligned: AlignedParameters | None):
        """Offer (and choose) these loaded parameters, or forget any (None: another document is open)."""
        given = self.choice.findData("given")
        if given >= 0:
            if aligned is None and self.init == "given":
                self.choice.setCurrentIndex(0)
            self.choice.removeItem(given)
        self.loaded = aligned
        if aligned is not None:
            self.choice.addItem(f"loaded: {aligned.source.split(',')[0]}", "given")
            self.choice.setItemData(self.choice.count() - 1, f"{INIT_TIPS['given']} Read from {aligned.source}, "
                                    f"rows {aligned.how}.", Qt.ItemDataRole.ToolTipRole)
            self.choice.setCurrentIndex(self.choice.count() - 1)

    def start_arrays(self, n_factors: int) -> dict:
        """The loaded parameters with their first ``n_factors`` factors (ValueError when there are fewer)."""
        if self.loaded is None:
            raise ValueError("no parameters are loaded (Training ▸ Load Parameters…)")
        return self.loaded.arrays(n_factors)

    def _on_choice_change(self):
        small = self.init == "small"
        self.scale.setEnabled(small)
        self.scale_label.setEnabled(small)
        self.setToolTip(INIT_TIPS.get(self.init, ""))
        self.sig_changed.emit()


def read_start_parameters(paths, ratings) -> tuple[ParameterSet, AlignedParameters]:
    """The parameters in ``paths`` (an .npz, or the lab's X, W, b CSVs) matched to ``ratings``' movies and users;
    ValueError with one line naming the file otherwise."""
    found = read_parameters(paths, ratings.n_items, ratings.n_users)
    return found, align_parameters(found, ratings)


def loaded_message(found: ParameterSet, aligned: AlignedParameters, bias_reg: float) -> str:
    """What the user is told after loading: what was read, how it was matched, and what the model now is."""
    biases = [name for name, array in (("b", aligned.user_bias), ("movie biases", aligned.item_bias))
              if array is not None]
    model = "w·x" + "".join(" + b" if name == "b" else " + movie bias" for name in biases)
    text = (f"Loaded {found.describe()} from {aligned.source}, rows {aligned.how}. The model is now {model} with "
            "no offset, and nothing is held out: epoch 0 of the curves is J at exactly these parameters, and Train "
            "continues from them.")
    if biases and bias_reg > 0:
        text += f" λ (biases) = {bias_reg:g} adds λ_b/2 ‖b‖² to J; the course's J has no such term (set it to 0)."
    return text
