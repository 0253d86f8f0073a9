"""The cost J in the course's notation, with the numbers of the last epoch plugged in:
data term + regularization term = total, for whichever model is training."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

SQUARED = "½ Σ<sub>r(i,j)=1</sub> (w<sup>(j)</sup>·x<sup>(i)</sup> + b<sup>(j)</sup> − y<sup>(i,j)</sup>)²"
CROSS_ENTROPY = ("−Σ<sub>r(i,j)=1</sub> [y log g(z) + (1 − y) log(1 − g(z))],&nbsp; "
                 "z = w<sup>(j)</sup>·x<sup>(i)</sup> + b<sup>(j)</sup>")
FACTOR_PENALTY = "λ/2 (‖W‖² + ‖X‖²)"
BIAS_PENALTY = " + λ<sub>b</sub>/2 (‖b‖² + ‖c‖²)"
NETWORK_DATA = "½ Σ<sub>r(i,j)=1</sub> (ŷ<sup>(i,j)</sup> − y<sup>(i,j)</sup>)²"
NETWORK_PENALTY = "λ/2 Σ ‖weights‖²"


def formula_html(model, record) -> str:
    """J written out for ``model`` and evaluated at ``record`` (an EpochRecord)."""
    if model is None or record is None:
        return ("<p><b>J</b> = data term + regularization term</p>"
                "<p><i>Train a model to see the numbers of each epoch plugged in.</i></p>")
    network = hasattr(model, "hidden")
    binary = getattr(model, "loss_", "squared") == "bce" or getattr(model, "binary_", False)
    if network:
        data, penalty = (CROSS_ENTROPY if binary else NETWORK_DATA), NETWORK_PENALTY
    else:
        data = CROSS_ENTROPY if binary else SQUARED
        penalty = FACTOR_PENALTY + (BIAS_PENALTY if getattr(model, "bias_reg", 0) and
                                    (getattr(model, "user_bias", False) or getattr(model, "item_bias", False))
                                    else "")
    lam = getattr(model, "reg", None)
    settings = f"λ = {lam:g}" if lam is not None else ""
    if getattr(model, "mean_normalization", False):
        settings += ", y is the rating minus its movie's mean μ<sub>i</sub>"
    return (
        f"<p style='font-size:large'><b>J</b> = {data} &nbsp;+&nbsp; {penalty}</p>"
        f"<p style='font-size:x-large'>&nbsp;&nbsp;= <b>{record.data_term:.6g}</b> "
        f"<span style='color:gray'>(data)</span> &nbsp;+&nbsp; <b>{record.reg_term:.6g}</b> "
        f"<span style='color:gray'>(regularization)</span> &nbsp;=&nbsp; <b>{record.total:.6g}</b></p>"
        f"<p>epoch {record.epoch}{'; ' + settings if settings else ''}. The loss curves plot these three "
        "numbers; frameworks often report only the total, which is why it never reaches zero.</p>"
    )


class FormulaPanel(QLabel):
    """Shows :func:`formula_html` for the latest epoch; updated with the training progress (≤ 30 Hz)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setMargin(8)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model, self.record = None, None
        self.setText(formula_html(None, None))

    def show_epoch(self, model, record):
        self.model, self.record = model, record
        self.setText(formula_html(model, record))

    def clear(self):
        self.show_epoch(None, None)
