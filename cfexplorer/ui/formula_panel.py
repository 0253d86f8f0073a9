"""The cost J in the course's notation, with the numbers of the last epoch plugged in:
data term + regularization term = total, for whichever model is training."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

G = "g"  # the course's name for the sigmoid
SQUARED = "½ Σ<sub>r(i,j)=1</sub> (ŷ<sup>(i,j)</sup> − y<sup>(i,j)</sup>)²"
CROSS_ENTROPY = "−Σ<sub>r(i,j)=1</sub> [y log g(z) + (1 − y) log(1 − g(z))]"
FACTOR_PENALTY = "λ/2 (‖W‖² + ‖X‖²)"
NETWORK_PENALTY = "λ/2 Σ ‖weights‖²"
USER_BIAS, ITEM_BIAS = "b<sup>(j)</sup>", "c<sup>(i)</sup>"


def _number(value: float) -> str:
    return f"{value:g}".replace("-", "−")


def _is_network(model) -> bool:
    return hasattr(model, "hidden")


def _is_content(model) -> bool:
    return hasattr(model, "scale_targets")


def _is_bayesian(model) -> bool:
    return hasattr(model, "kept_samples")


def _binary(model) -> bool:
    return getattr(model, "loss_", "squared") == "bce"  # the content model scales likes to [−1, 1] instead


def _y_range(model):
    return None if _binary(model) else getattr(model, "y_range_", None)


def _offset(model) -> tuple[str, str]:
    """(the offset in z, what it is) for matrix factorization; ("", "") without one."""
    inside = "" if _y_range(model) is None and not _binary(model) else " (through g⁻¹, inside the sigmoid)"
    if getattr(model, "mean_normalization", False):
        return "μ<sub>i</sub>", f"μ<sub>i</sub> is movie i's mean rating (mean normalization){inside}"
    if getattr(model, "global_mean", False):
        mean = getattr(model, "global_mean_", None)
        value = f" = {mean:.4g}" if mean is not None else ""
        return "μ", f"μ{value} is the mean of all training ratings{inside}"
    return "", ""


def y_range_output(low: float, high: float, sigmoid: str = "g(z)") -> str:
    """low + (high − low) · g(z), a negative end written −0.5 and bracketed where it is subtracted ("5.5 − -0.5"
    read as a typo); the Explain pane writes it so too."""
    low_text, high_text = _number(low), _number(high)
    subtracted = f"({low_text})" if low_text.startswith("−") else low_text
    return f"{low_text} + ({high_text} − {subtracted}) · {sigmoid}"


def _prediction(model) -> str:
    """ŷ from z, as the model outputs it."""
    if _binary(model):
        return "ŷ = g(z) = 1 / (1 + e<sup>−z</sup>), the probability of a like"
    y_range = _y_range(model)
    if y_range is not None:
        low, high = (_number(v) for v in y_range)
        return f"ŷ = {y_range_output(*y_range)}: the y-range, a sigmoid g stretched over ({low}, {high})"
    return "ŷ = z"


def _mf_parts(model) -> tuple[str, list[str], list[str]]:
    """(penalty, the lines that say what z and ŷ are, the settings) of matrix factorization and its baselines."""
    k = int(getattr(model, "n_factors", 0) or 0)
    terms = ["w<sup>(j)</sup>·x<sup>(i)</sup>"] if k > 0 else []
    if getattr(model, "user_bias", False):
        terms.append(USER_BIAS)
    if getattr(model, "item_bias", False):
        terms.append(ITEM_BIAS)
    offset, offset_note = _offset(model)
    if offset:
        terms.append(offset)
    named = [f"{USER_BIAS} is user j's bias" if USER_BIAS in terms else "",
             f"{ITEM_BIAS} movie i's bias" if ITEM_BIAS in terms else "", offset_note]
    lines = [f"z = {' + '.join(terms) or '0'}" + (f": {'; '.join(n for n in named if n)}" if any(named) else ""),
             _prediction(model)]
    penalties, settings = [], []
    if k > 0:
        penalties.append(FACTOR_PENALTY)
        settings.append(f"λ = {model.reg:g}")
    biases = [name for name, on in (("‖b‖²", USER_BIAS in terms), ("‖c‖²", ITEM_BIAS in terms)) if on]
    if biases:
        bias_reg = float(getattr(model, "bias_reg", 0.0))
        penalties.append(f"λ<sub>b</sub>/2 ({' + '.join(biases)})")
        settings.append(f"λ<sub>b</sub> = {bias_reg:g}" + (": the biases are not regularized, as in the course"
                                                            if bias_reg == 0 else ""))
    return " + ".join(penalties) or "0", lines, settings


def _content_parts(model) -> tuple[str, list[str], list[str]]:
    unit = getattr(model, "normalize_", getattr(model, "normalize", True))
    scaled = getattr(model, "scale_targets_", getattr(model, "scale_targets", True))
    tower = "v<sub>u</sub> = f<sub>u</sub>(user features), v<sub>m</sub> = f<sub>m</sub>(movie features)"
    tower += ", each divided by its length (L2-normalized: ‖v‖ = 1)" if unit else ", not normalized"
    lines = [tower, "ŷ = v<sub>u</sub>·v<sub>m</sub>" + (" ∈ [−1, 1]" if unit else "")]
    scaler = getattr(model, "target_scaler_", None)
    if scaled:
        if scaler is not None:
            low, high = float(scaler.data_min_[0]), float(scaler.data_max_[0])
            lines.append(f"y is the rating scaled to [−1, 1]: y = 2 (r − {low:g}) / ({high:g} − {low:g}) − 1; the "
                         "prediction is scaled back to the rating's scale")
        else:
            lines.append("y is the rating scaled to [−1, 1]; the prediction is scaled back")
    else:
        lines.append("y is the rating itself (not scaled)")
    return NETWORK_PENALTY + " (the towers' weights)", lines, [f"λ = {model.reg:g}"]


def _neural_parts(model) -> tuple[str, list[str], list[str]]:
    offset = "μ (the mean of the training ratings" + (", through g⁻¹)" if _y_range(model) or _binary(model) else ")")
    lines = [f"z = MLP(e<sub>j</sub> ⊕ e<sub>i</sub>) + {offset}: the user's and movie's embeddings, "
             "concatenated, through dense ReLU layers", _prediction(model)]
    return NETWORK_PENALTY + " (embeddings and layer weights)", lines, [f"λ = {model.reg:g}"]


def _bayes_parts(model) -> tuple[str, list[str], list[str]]:
    """Gibbs sampling's record (core/bayes.py): the course's J at the sample just drawn, with λ = σ²Λ."""
    noise = getattr(model, "noise_sd_", None)
    lines = [f"z = w<sup>(j)</sup>·x<sup>(i)</sup> + {USER_BIAS} + {ITEM_BIAS} + g: one Gibbs sample of every "
             "user's and movie's row θ; g is the mean of the training ratings",
             "the prediction is the mean of z over the samples after the burn-in, with its spread (±)",
             "the penalty holds each row θ near its side's mean μ, with the precision Λ the sampler drew, "
             "scaled by the noise variance σ²: the course's λ/2 ‖·‖² with λ = σ²Λ"]
    settings = [f"k = {int(model.n_factors)}", f"burn-in {int(model.burn_in)}"]
    if noise is not None:
        settings.append(f"σ = {noise:.3g}")
    return "σ²/2 Σ<sub>rows</sub> (θ − μ)ᵀ Λ (θ − μ)", lines, settings


def formula_html(model, record) -> str:
    """J written out for ``model`` — the terms it has, with their settings — and evaluated at ``record``."""
    if model is None or record is None:
        return ("<p><b>J</b> = data term + regularization term</p>"
                "<p><i>Train a model to see the numbers of each epoch plugged in.</i></p>")
    if _is_content(model):
        penalty, lines, settings = _content_parts(model)
        data = "½ Σ<sub>r(i,j)=1</sub> (v<sub>u</sub>·v<sub>m</sub> − y<sup>(i,j)</sup>)²"
    elif _is_bayesian(model):
        penalty, lines, settings = _bayes_parts(model)
        data = "½ Σ<sub>r(i,j)=1</sub> (z<sup>(i,j)</sup> − y<sup>(i,j)</sup>)²"
    else:
        penalty, lines, settings = (_neural_parts if _is_network(model) else _mf_parts)(model)
        data = CROSS_ENTROPY if _binary(model) else SQUARED
    where = "".join(f"<li>{line}</li>" for line in lines)
    return (
        f"<p style='font-size:large'><b>J</b> = {data} &nbsp;+&nbsp; {penalty}</p>"
        f"<ul style='margin-left:0'>{where}</ul>"
        f"<p style='font-size:x-large'>&nbsp;&nbsp;= <b>{record.data_term:.6g}</b> "
        f"<span style='color:gray'>(data)</span> &nbsp;+&nbsp; <b>{record.reg_term:.6g}</b> "
        f"<span style='color:gray'>(regularization)</span> &nbsp;=&nbsp; <b>{record.total:.6g}</b></p>"
        f"<p>epoch {record.epoch}{'; ' + ', '.join(settings) if settings else ''}. The loss curves plot these "
        "three numbers; frameworks often report only the total, which is why it never reaches zero.</p>"
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
        self.in_view = True  # its dock in front (set_in_view)
        self._behind = False  # an epoch came while it could not be seen
        self.setText(formula_html(None, None))

    def show_epoch(self, model, record):
        """Show J for ``record``; behind another tab the text waits until the pane comes to the front. Laying
        out this rich text and the dock around it took 2-3 ms of the GUI thread at each of a run's 30 updates a
        second, whether the pane showed or not."""
        self.model, self.record = model, record
        self._behind = not self.in_view
        if self.in_view:
            self.setText(formula_html(model, record))

    def set_in_view(self, in_view: bool):
        """Whether the pane can be seen (its dock's tab in front, the dock open)."""
        self.in_view = in_view
        if in_view and self._behind:
            self.show_epoch(self.model, self.record)

    def clear(self):
        self.show_epoch(None, None)
