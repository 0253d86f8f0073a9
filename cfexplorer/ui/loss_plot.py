"""Live loss curves: the data term, the regularization term and their sum J, plus a validation
metric on the same epoch axis. Earlier runs stay as fainter overlays so settings can be compared."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

pg.setConfigOptions(antialias=True, useOpenGL=False, background="w", foreground="k")

TERM_COLORS = {"total": (33, 102, 172), "data": (230, 97, 1), "reg": (94, 60, 153)}
TERM_LABELS = {"total": "J (total)", "data": "data term", "reg": "regularization term"}
VALIDATION_COLOR = (27, 120, 55)


@dataclass
class Run:
    """The curves of one training run and the settings that produced it."""

    number: int
    settings: dict
    metric: str = "rmse"
    epochs: list = field(default_factory=list)
    data: list = field(default_factory=list)
    reg: list = field(default_factory=list)
    total: list = field(default_factory=list)
    validation: list = field(default_factory=list)

    def add(self, records):
        for record in records:
            self.epochs.append(record.epoch)
            self.data.append(record.data_term)
            self.reg.append(record.reg_term)
            self.total.append(record.total)
            self.validation.append(record.validation.get(self.metric, math.nan))

    def series(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, name), dtype=float)


def settings_label(run: Run, runs: list[Run]) -> str:
    """'run 2: λ=1.5, mean normalization=on' — only the settings that differ between runs."""
    keys = [k for k in run.settings if len({repr(r.settings.get(k)) for r in runs}) > 1]
    shown = ", ".join(f"{k}={_fmt(run.settings[k])}" for k in keys[:4])
    return f"run {run.number}" + (f": {shown}" if shown else "")


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class LossPlot(QWidget):
    sig_hover = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layout_widget = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)
        self.cost_plot = self.layout_widget.addPlot(row=0, col=0)
        self.cost_plot.setLabel("left", "cost")
        self.cost_plot.showGrid(x=True, y=True, alpha=0.25)
        self.cost_legend = self.cost_plot.addLegend(offset=(-10, 10))
        self.validation_plot = self.layout_widget.addPlot(row=1, col=0)
        self.validation_plot.setLabel("left", "validation RMSE")
        self.validation_plot.setLabel("bottom", "epoch")
        self.validation_plot.showGrid(x=True, y=True, alpha=0.25)
        self.validation_plot.setXLink(self.cost_plot)
        self.validation_legend = self.validation_plot.addLegend(offset=(-10, 10))
        self.layout_widget.ci.layout.setRowStretchFactor(0, 3)
        self.layout_widget.ci.layout.setRowStretchFactor(1, 2)
        self.hover_text = pg.TextItem(anchor=(0, 0), color=(40, 40, 40), fill=pg.mkBrush(255, 255, 255, 220))
        self.hover_text.setZValue(10)
        self.cost_plot.addItem(self.hover_text, ignoreBounds=True)
        self.hover_text.hide()
        self.runs: list[Run] = []
        self._curves: list[dict] = []
        self.line_width = 2
        self._mouse_proxy = pg.SignalProxy(self.cost_plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)

    # --- runs ---------------------------------------------------------------------------------------
    @property
    def current(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def start_run(self, settings: dict, metric: str = "rmse") -> Run:
        run = Run(len(self.runs) + 1, dict(settings), metric)
        self.runs.append(run)
        self.validation_plot.setLabel("left", f"validation {metric.upper()}")
        self._rebuild()
        return run

    def add_records(self, records):
        if self.current is None:
            self.start_run({})
        self.current.add(records)
        self._update_current()

    def clear_history(self):
        """Forget earlier runs; the current one stays."""
        self.runs = self.runs[-1:] if self.runs else []
        for number, run in enumerate(self.runs, start=1):
            run.number = number
        self._rebuild()

    def set_log_scale(self, on: bool):
        self.cost_plot.setLogMode(y=on)

    def set_line_width(self, width: int):
        self.line_width = width
        self._rebuild()

    # --- drawing ------------------------------------------------------------------------------------
    def _pen(self, color, current: bool):
        if current:
            return pg.mkPen(color=color, width=self.line_width)
        return pg.mkPen(color=(*color, 110), width=max(1, self.line_width - 1), style=Qt.PenStyle.DashLine)

    def _rebuild(self):
        for plot in (self.cost_plot, self.validation_plot):
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
        self.cost_legend.clear()
        self.validation_legend.clear()
        self._curves = []
        for run in self.runs:
            current = run is self.current
            label = settings_label(run, self.runs)
            curves = {}
            for term in ("total", "data", "reg"):
                name = TERM_LABELS[term] if current else f"{TERM_LABELS[term]} ({label})"
                curves[term] = self.cost_plot.plot([], [], pen=self._pen(TERM_COLORS[term], current),
                                                   name=name if (current or term == "total") else None)
            curves["validation"] = self.validation_plot.plot(
                [], [], pen=self._pen(VALIDATION_COLOR, current), name=label)
            self._curves.append(curves)
            self._set_data(run, curves)

    def _set_data(self, run: Run, curves: dict):
        epochs = run.series("epochs")
        for term, series in (("total", "total"), ("data", "data"), ("reg", "reg")):
            values = run.series(series)
            if self.cost_plot.ctrl.logYCheck.isChecked():
                values = np.where(values > 0, values, np.nan)
            curves[term].setData(epochs, values, connect="finite")
        validation = run.series("validation")
        curves["validation"].setData(epochs, validation, connect="finite")

    def _update_current(self):
        if self._curves:
            self._set_data(self.current, self._curves[-1])

    def curve_data(self, term: str, run_index: int = -1):
        """(x, y) drawn for one term of a run: what the user sees, for tests and export."""
        return self._curves[run_index][term].getData()

    # --- hover --------------------------------------------------------------------------------------------
    def _on_mouse(self, event):
        position = event[0]
        run = self.current
        if run is None or not run.epochs or not self.cost_plot.sceneBoundingRect().contains(position):
            self.hover_text.hide()
            return
        point = self.cost_plot.vb.mapSceneToView(position)
        epoch = int(round(point.x()))
        text = self.describe_epoch(epoch)
        if not text:
            self.hover_text.hide()
            return
        self.hover_text.setText(text)
        self.hover_text.setPos(point.x(), point.y())
        self.hover_text.show()
        self.sig_hover.emit(text)

    def describe_epoch(self, epoch: int) -> str:
        run = self.current
        if run is None or not run.epochs:
            return ""
        position = int(np.clip(np.searchsorted(run.epochs, epoch), 0, len(run.epochs) - 1))
        parts = [f"epoch {run.epochs[position]}",
                 f"J = {run.total[position]:.5g}",
                 f"  data {run.data[position]:.5g} + reg {run.reg[position]:.5g}"]
        if not math.isnan(run.validation[position]):
            parts.append(f"validation {run.metric.upper()} {run.validation[position]:.4f}")
        return "\n".join(parts)

    # --- export ---------------------------------------------------------------------------------------------
    def export_image(self, path: str):
        from pyqtgraph import exporters

        exporter_class = exporters.SVGExporter if str(path).lower().endswith(".svg") else exporters.ImageExporter
        exporter = exporter_class(self.layout_widget.scene())
        if exporter_class is exporters.ImageExporter:
            exporter.parameters()["width"] = max(800, self.layout_widget.width())
        exporter.export(str(path))

    def export_csv(self, path: str):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["run", "settings", "epoch", "data_term", "reg_term", "total", "validation_metric",
                             "validation"])
            for run in self.runs:
                label = settings_label(run, self.runs)
                for row in zip(run.epochs, run.data, run.reg, run.total, run.validation):
                    epoch, data, reg, total, validation = row
                    writer.writerow([run.number, label, epoch, repr(data), repr(reg), repr(total), run.metric,
                                     "" if math.isnan(validation) else repr(validation)])
