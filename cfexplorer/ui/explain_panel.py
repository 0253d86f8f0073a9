"""Why the grid shows what it shows: the terms of one prediction, and a user's top recommendations."""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QStringListModel, QTimer, Signal
from PySide6.QtWidgets import QLabel, QListView, QSpinBox, QHBoxLayout, QTextBrowser, QVBoxLayout, QWidget

from .focus_mark import mark_focus
from .formula_panel import y_range_output
from .qt_guard import report_current_exception
from .table_model import RatingTableModel, format_number

MAX_VECTOR_SHOWN = 8


def _vector(values: np.ndarray) -> str:
    shown = ", ".join(f"{v:+.3f}" for v in values[:MAX_VECTOR_SHOWN])
    more = f", … ({len(values)} in all)" if len(values) > MAX_VECTOR_SHOWN else ""
    return f"[{shown}{more}]"


def explanation_html(table: RatingTableModel, user: int, item: int) -> str:
    """The arithmetic of one cell: w·x + b + c + offset = z (→ sigmoid) = the number in the grid."""
    predictor = table.predictor
    user_name = html.escape(table.name(0, user))
    item_name = html.escape(table.name(1, item))
    value = table.value(*table.position(user, item))
    lines = [f"<b>{item_name}</b> × <b>{user_name}</b>"]
    if predictor is None:
        lines.append("<i>Train a model to see how its prediction for this cell is made.</i>")
        return "<br>".join(lines)
    parts = predictor.explain(user, item)
    if "terms" in parts:
        rows = _model_terms(parts)
    else:
        rows = _factorization_terms(parts)
    lines.append("<table cellspacing=4>" + "".join(f"<tr><td>{a}</td><td align=right>{b}</td></tr>" for a, b in rows)
                 + "</table>")
    spread = parts.get("spread")
    plus_minus = f" ± {format_number(spread, 2)}" if spread is not None and math.isfinite(spread) else ""
    if not math.isnan(value):
        residual = format_number(value - parts["prediction"], 4, signed=True)
        lines.append(f"Known rating y = {value:g}; the model gives {format_number(parts['prediction'], 2)}"
                     f"{plus_minus}; residual y − ŷ = {residual}")
        if "terms" not in parts and parts.get("clipped"):  # the sums on screen must reach J's data term
            lines.append(f"<i>J's data term takes z before the clipping: y − z = "
                         f"{format_number(value - parts['score'], 4, signed=True)}.</i>")
    else:
        lines.append(f"Not rated: the grid shows the prediction {format_number(parts['prediction'], 2)}{plus_minus}")
    if "spread" in parts:
        lines.append(_certainty(parts, user_name))
    return "<br>".join(lines)


def _certainty(parts: dict, user_name: str) -> str:
    """How sure a Bayesian model is: the ± of this prediction and of the user's predictions on average."""
    if not math.isfinite(parts["spread"]):
        return ("<i>How sure the model is shows once it has kept two samples after the burn-in "
                f"({parts['spread_samples']} so far).</i>")
    return (f"How sure the model is: ± is the posterior standard deviation over {parts['spread_samples']} kept "
            f"samples. About <b>{user_name}</b> on average over every movie: ± "
            f"{format_number(parts['user_spread'], 2)}. A rating scatters around the prediction by another "
            f"± {format_number(parts['noise_sd'], 2)} (the noise the model found).")


def _model_terms(parts: dict) -> list[tuple[str, str]]:
    """Rows for models that describe their own terms (neural, content-based)."""
    rows = [("model", html.escape(parts["model"]))]
    for label, value in parts["terms"]:
        if isinstance(value, np.ndarray):
            shown = _vector(value)
        elif isinstance(value, str):
            shown = html.escape(value)
        else:
            shown = f"{value:+.4f}"
        rows.append((label, shown))
    rows.extend(_output_rows(parts))
    if "scaled_back" in parts:
        rows.append((parts["scaled_back"], f"<b>{parts['prediction']:.4f}</b>"))
    return rows


def _output_rows(parts: dict) -> list[tuple[str, str]]:
    if parts["sigmoid"]:
        return [("sigmoid(z) = P(like)", f"<b>{parts['prediction']:.4f}</b>")]
    if parts.get("y_range") is not None:
        return [(y_range_output(*parts["y_range"], sigmoid="sigmoid(z)"), f"<b>{parts['prediction']:.4f}</b>")]
    if parts.get("clipped"):
        return [("clipped to the scale", f"<b>{parts['prediction']:.4f}</b>")]
    return []


def _factorization_terms(parts: dict) -> list[tuple[str, str]]:
    k = len(parts["item_factors"])
    rows = []
    if k:
        rows.append(("x<sub>i</sub> (movie factors)", _vector(parts["item_factors"])))
        rows.append(("w<sub>j</sub> (user factors)", _vector(parts["user_factors"])))
        rows.append(("w<sub>j</sub>·x<sub>i</sub>", f"{parts['dot']:+.4f}"))
    rows.append(("+ b<sub>j</sub> (user bias)", f"{parts['user_bias']:+.4f}"))
    rows.append(("+ movie bias", f"{parts['item_bias']:+.4f}"))
    rows.append((f"+ {parts['offset_label']}", f"{parts['offset']:+.4f}"))
    rows.append(("= z", f"<b>{parts['score']:.4f}</b>"))
    rows.extend(_output_rows(parts))
    return rows


class ExplainPanel(QWidget):
    sig_cell_requested = Signal(int, int)  # user, movie: a recommendation clicked

    def __init__(self, table: RatingTableModel, parent=None):
        super().__init__(parent)
        self.table = table
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        mark_focus(self.text)  # Tab stops here (its lines can be selected and copied): where the keys go is seen
        self.top_n = QSpinBox(minimum=1, maximum=100, value=10)
        self.top_n.setToolTip("How many recommendations to list")
        self.top_label = QLabel("Top recommendations")
        self.recommendations = QStringListModel(self)
        self.list_view = QListView()
        self.list_view.setModel(self.recommendations)
        self.list_view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self._recommended: tuple[int, list] = (-1, [])  # the user and the movies listed, best first
        self.list_view.activated.connect(self._on_recommendation_clicked)  # Return, or a click where that opens
        self.list_view.clicked.connect(self._on_recommendation_clicked)
        self.list_view.setToolTip("Click a movie to see its cell in the grid")
        header = QHBoxLayout()
        header.addWidget(self.top_label, 1)
        header.addWidget(self.top_n)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 3)
        layout.addLayout(header)
        layout.addWidget(self.list_view, 2)
        self._cell: tuple[int, int] | None = None
        # The grid's new predictions explained in a pass of their own (see refresh_soon).
        self._refresh_soon_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_soon_timer.timeout.connect(self.refresh)
        self.top_n.valueChanged.connect(lambda _: self.refresh())
        self.refresh()

    def show_cell(self, user: int, item: int):
        self._cell = (user, item)
        self.refresh()

    def refresh_soon(self):
        """Refresh on the event loop's next pass, apart from the grid's update: with it, the rich text and the
        top list (6-11 ms beside 59,047 movies) made one stall at a run's end. Asked at each of the grid's
        updates (at most five a second): on a clock of its own, 200 ms behind the grid's, the pane explained
        the epoch before the grid's most of the time in a run slowed to 3 epochs a second."""
        self._refresh_soon_timer.start()

    def refresh_if_due(self):
        """Refresh now if a refresh is waiting (a script or a test reading the explanation at once)."""
        if self._refresh_soon_timer.isActive():
            self.refresh()

    def refresh(self):
        self._refresh_soon_timer.stop()
        ratings = self.table.ratings
        cell = self._cell
        if cell is None or cell[0] >= ratings.n_users or cell[1] >= ratings.n_items:
            self.text.setHtml("<i>Select a cell to see how its prediction is made.</i>")
            self.recommendations.setStringList([])
            self.top_label.setText("Top recommendations")
            return
        user, item = cell
        # an empty list under "(unrated movies)" read as if the user had rated every movie
        ranked = " (unrated movies)" if self.table.predictor is not None else ": no trained model"
        self.top_label.setText(f"Top {self.top_n.value()} for {self.table.name(0, user)}{ranked}")
        try:
            self.text.setHtml(explanation_html(self.table, user, item))
            self.recommendations.setStringList(self.recommend(user))
        except Exception as exc:
            # A model that cannot explain a cell is a bug to report, but the pane says so instead of going blank.
            report_current_exception("ExplainPanel.refresh")
            self.text.setHtml(f"<i>This cell's prediction cannot be explained: {html.escape(str(exc) or type(exc).__name__)}"
                              "</i>")
            self.recommendations.setStringList([])

    def recommend(self, user: int) -> list[str]:
        predictor = self.table.predictor
        self._recommended = (user, [])
        if predictor is None:
            return []
        rated, _ = self.table.cells.user_cells(user)  # O(log n), not a pass over every rating
        items, predictions = predictor.recommend(user, rated, self.top_n.value())
        self._recommended = (user, [int(i) for i in items])
        scale = self.table.ratings.scale
        listed = []
        for item, prediction in zip(items, predictions):
            text = f"{self.table.name(1, int(item))}  —  {prediction:.2f}"
            if prediction in (scale.low, scale.high):
                # at the scale's end, a model's own score may lie past it: a Top 10 of "5.00" ten times hid the
                # ranking, which is by that score
                parts = predictor.explain(user, int(item))
                if parts.get("clipped"):
                    text += f" (clipped from {parts['score']:.2f})"
            listed.append(text)
        return listed

    def _on_recommendation_clicked(self, index):
        """A recommendation clicked: its cell in the grid (it did nothing), explained here in turn."""
        user, items = self._recommended
        if 0 <= index.row() < len(items):
            self.sig_cell_requested.emit(user, items[index.row()])
