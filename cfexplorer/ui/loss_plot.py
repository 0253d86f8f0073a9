"""Live loss curves: the data term, the regularization term and their sum J, plus a validation
metric on the same epoch axis. Earlier runs stay as dashed overlays, each in a colour of its own, so settings
can be compared.

The axis starts at epoch 0, the cost at the starting parameters before any update (models that report
no epoch 0 start at 1). A run of a single epoch, such as epoch 0 of loaded parameters, shows as points."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from ..core.metrics import metric_name
from ..io.project import MAX_SAVED_RUNS, RUN_COLUMNS, SavedRun
from .image_export import export_widget_image
from .plot_legend import LegendAbove, fit_legend, park_entries_of, sync_legend
from .plot_menu import MenuOnDemandViewBox
from .plot_text import UncrowdedAxis, plain_axis_numbers, set_plot_text_size

pg.setConfigOptions(antialias=True, useOpenGL=False, background="w", foreground="k")

TERM_COLORS = {"total": (33, 102, 172), "data": (230, 97, 1), "reg": (94, 60, 153)}
TERM_LABELS = {"total": "J (total)", "data": "data term", "reg": "regularization term"}
VALIDATION_COLORS = ((27, 120, 55), (140, 81, 10))  # first and second validation metric
VALIDATION_KEYS = ("validation", "validation2")  # their series in a Run, and their curves

# Each earlier run in a colour of its own, all its curves in it: drawn in the current run's colours, faded, three
# earlier runs were three alike dashed blue J curves, the legend naming each ("run 2: λ=1.5") by a sample that
# matched them all. Paul Tol's "muted" colours, told apart with the common colour blindnesses, less the two
# (indigo, green) near the current run's regularization term and first metric; the darker ones first.
EARLIER_RUN_COLORS = ((68, 170, 153), (204, 102, 119), (153, 153, 51), (136, 34, 85), (170, 68, 153),
                      (136, 204, 238), (221, 204, 119))
EARLIER_RUN_ALPHA = 200  # a little faded, and dashed: the current run's solid curves stand out
# An earlier run's curves told apart by their lines: J dashed, as its legend sample shows it.
EARLIER_RUN_LINES = {"total": Qt.PenStyle.DashLine, "data": Qt.PenStyle.DotLine, "reg": Qt.PenStyle.DashDotLine,
                     "validation": Qt.PenStyle.DashLine, "validation2": Qt.PenStyle.DotLine}


def earlier_run_color(run: Run) -> tuple:
    """The colour of an earlier run's curves: by its number, so that a run keeps it while newer runs come (the
    kept runs' numbers follow each other: the seven earlier ones are seven colours)."""
    return EARLIER_RUN_COLORS[(run.number - 1) % len(EARLIER_RUN_COLORS)]


@dataclass
class Run:
    """The curves of one training run and the settings that produced it."""

    number: int
    settings: dict
    metrics: tuple = ("rmse", "mae")
    epochs: list = field(default_factory=list)
    data: list = field(default_factory=list)
    reg: list = field(default_factory=list)
    total: list = field(default_factory=list)
    validation: list = field(default_factory=list)  # first metric
    validation2: list = field(default_factory=list)  # second metric
    validated: bool = field(default=False, compare=False)  # a record had a validation value

    @property
    def metric(self) -> str:
        return self.metrics[0]

    def add(self, records):
        for record in records:
            self.epochs.append(record.epoch)
            self.data.append(record.data_term)
            self.reg.append(record.reg_term)
            self.total.append(record.total)
            self.validation.append(record.validation.get(self.metrics[0], math.nan))
            self.validation2.append(record.validation.get(self.metrics[1], math.nan))
            self.validated = self.validated or bool(record.validation)

    # name -> (buffer, entries filled): each series as an array, extended by what arrived since it was last
    # asked for. Converting the whole list at every progress update made a long run quadratic: five curves of
    # 100,000 epochs cost the GUI thread tens of milliseconds 30 times a second.
    _arrays: dict = field(default_factory=dict, repr=False, compare=False)

    def series(self, name: str) -> np.ndarray:
        """The values of one series as floats (a read-only view: later epochs do not change it)."""
        values = getattr(self, name)
        buffer, filled = self._arrays.get(name, (np.empty(0), 0))
        if filled > len(values):  # the list was replaced by a shorter one: start again
            buffer, filled = np.empty(0), 0
        if len(values) > filled:
            if len(values) > len(buffer):
                grown = np.empty(max(2 * len(buffer), len(values), 64))
                grown[:filled] = buffer[:filled]
                buffer = grown
            buffer[filled:len(values)] = np.asarray(values[filled:], dtype=float)
            filled = len(values)
            self._arrays[name] = (buffer, filled)
        view = buffer[:filled]
        view.flags.writeable = False
        return view


def saved_run(run: Run) -> SavedRun:
    """``run`` as a project keeps it (a copy: the run may go on)."""
    curves = np.column_stack([run.series(name) for name in RUN_COLUMNS]).reshape(-1, len(RUN_COLUMNS))
    return SavedRun(run.number, dict(run.settings), tuple(run.metrics), run.validated, curves)


def run_of(saved: SavedRun) -> Run:
    """The run a project kept (:func:`saved_run`), as the plot holds it."""
    run = Run(saved.number, dict(saved.settings), tuple(saved.metrics))
    columns = np.asarray(saved.curves, dtype=float).reshape(-1, len(RUN_COLUMNS)).T
    for name, values in zip(RUN_COLUMNS, columns):
        setattr(run, name, [int(epoch) for epoch in values] if name == "epochs" else values.tolist())
    run.validated = saved.validated
    return run


# The settings by the words of the panel's rows (the legend said "mean_normalization=off", "bias_reg=0").
SETTING_WORDS = {
    "model": "model", "reg": "λ", "bias_reg": "λ biases", "n_factors": "k", "n_outputs": "k",
    "learning_rate": "learning rate", "optimizer": "optimizer", "n_epochs": "epochs", "batch_size": "batch",
    "seed": "seed", "mean_normalization": "mean normalization", "global_mean": "global mean",
    "user_bias": "user bias", "item_bias": "movie bias", "loss": "loss", "hidden": "layers", "dropout": "dropout",
    "y_range": "y-range", "init": "init", "init_scale": "init scale", "normalize": "L2 normalization",
    "scale_targets": "target scaling", "burn_in": "burn-in", "kept_samples": "kept samples",
    "validation_fraction": "validation",
}
# Not what a run learned from: how fast it was shown.
NOT_COMPARED = {"pace"}


def settings_label(run: Run, runs: list[Run]) -> str:
    """'run 2: λ=1.5, mean normalization=on' — only the settings that differ between runs; and the epochs the run
    trained where they are not the Epochs setting's ("epochs=72 of 300": a run stopped at 72 was labelled by the
    300 it was set to)."""
    keys = [k for k in run.settings if k not in NOT_COMPARED and len({repr(r.settings.get(k)) for r in runs}) > 1]
    planned, trained = run.settings.get("n_epochs"), run.epochs[-1] if run.epochs else None
    if isinstance(planned, int) and trained is not None and trained != planned and "n_epochs" not in keys:
        keys.insert(0, "n_epochs")

    def value(key):
        if key == "n_epochs" and isinstance(planned, int) and trained is not None and trained < planned:
            return f"{trained} of {planned}"
        return _fmt(trained if key == "n_epochs" and trained is not None else run.settings.get(key))

    shown = ", ".join(f"{SETTING_WORDS.get(k, k.replace('_', ' '))}={value(k)}" for k in keys[:4])
    return f"run {run.number}" + (f": {shown}" if shown else "")


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


# The most of the pane's height each legend takes (the cost's, the validation's): the rest is the curves'.
LEGEND_HEIGHT_SHARES = (0.22, 0.11)
COST_ROW, VALIDATION_ROW = 1, 3  # of the plots' layout: each plot's legend in the row above it
KEPT_RUNS = MAX_SAVED_RUNS  # runs overlaid in the plots, the newest included (as many as a project keeps)
LEGEND_EARLIER_RUNS = 3  # earlier runs the legend names (the others are drawn, dashed, unnamed)


SPARE_CURVES_DELAY_MS = 300

# The automatic y range moves only when the curves leave it or fill less than this share of it, and then
# with this share of the curves' span as room on each side.
STEADY_FILL = 0.6
STEADY_ROOM = 0.15


def steady_range(shown, wanted, fill: float = STEADY_FILL, room: float = STEADY_ROOM) -> list:
    """The range to show for data spanning ``wanted`` while ``shown`` is shown: ``shown`` itself while it holds
    ``wanted`` and ``wanted`` fills at least ``fill`` of it, else ``wanted`` with ``room`` of its span added on
    each side (so that the next few epochs of a falling loss fit without moving the axis again)."""
    low, high = min(shown), max(shown)
    wanted_low, wanted_high = min(wanted), max(wanted)
    span = wanted_high - wanted_low
    if low <= wanted_low and wanted_high <= high and span >= fill * (high - low):
        return [low, high]
    if not span > 0:
        return [wanted_low, wanted_high]
    return [wanted_low - room * span, wanted_high + room * span]


class SteadyViewBox(MenuOnDemandViewBox):
    """A view box whose automatic y range moves in steps (see :func:`steady_range`) instead of at every update.

    A y range that moves makes pyqtgraph redraw both axes' text and re-clip and re-downsample every curve of
    the kept runs: 20-40 ms of the GUI thread at each of a run's 30 updates a second, the longest stalls while
    training. The x range and ranges the user sets (zoom, pan, the "A" button) are pyqtgraph's own."""

    _auto_ranging = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.settled_items: list = []  # items whose data and pens no longer change: the earlier runs' curves
        self._settled_bounds = None  # (what they were measured for, their bounds)

    def set_settled_items(self, items):
        """The items whose bounds may be measured once (until this is called again, or one of them changes its
        data, as pyqtgraph's own menu's transforms do): with eight kept runs, pyqtgraph measured 40 curves before
        every paint, a millisecond of each of a run's 30 updates a second."""
        for item in self.settled_items:
            item.sigPlotChanged.disconnect(self._forget_settled_bounds)
        self.settled_items = list(items)
        for item in self.settled_items:
            item.sigPlotChanged.connect(self._forget_settled_bounds)
        self._settled_bounds = None

    def _forget_settled_bounds(self, *_):
        self._settled_bounds = None

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):  # noqa: N802 - pyqtgraph's name
        settled = self.settled_items
        if items is not None or not settled:
            return super().childrenBounds(frac, orthoRange, items)
        # each part's room for its pens is figured on its own span: a pixel or two apart from the whole's
        key = (None if frac is None else tuple(frac), tuple(None if r is None else tuple(r) for r in orthoRange),
               self.width(), self.height(), tuple(self.state["logMode"]), tuple(item.isVisible() for item in settled))
        if self._settled_bounds is None or self._settled_bounds[0] != key:
            self._settled_bounds = (key, super().childrenBounds(frac, orthoRange, settled))
        settled_ids = {id(item) for item in settled}
        moving = super().childrenBounds(frac, orthoRange, [item for item in self.addedItems
                                                            if id(item) not in settled_ids])
        return [_joined(a, b) for a, b in zip(self._settled_bounds[1], moving)]

    def updateAutoRange(self):
        self._auto_ranging = True
        try:
            super().updateAutoRange()
        finally:
            self._auto_ranging = False

    def setRange(self, rect=None, xRange=None, yRange=None, *args, **kwargs):
        if self._auto_ranging and yRange is not None:
            yRange = steady_range(self.viewRange()[1], yRange)
        return super().setRange(rect, xRange, yRange, *args, **kwargs)


def _joined(first, second) -> list | None:
    """The range spanning two [low, high] ranges (either None: no bounds); a new list."""
    if first is None or second is None:
        return None if first is None and second is None else list(first if second is None else second)
    return [min(first[0], second[0]), max(first[1], second[1])]


class SharedWidthAxis(UncrowdedAxis):
    """A left axis as wide as the widest of its group. Plots whose x ranges are linked line them up by screen
    position: with left axes of different widths (a cost of 12,345 beside an RMSE of 0.9) the plot below
    started some epochs later at its left edge than the one above."""

    def __init__(self, orientation: str, group: list, **kwargs):
        self._group = group
        group.append(self)
        super().__init__(orientation, **kwargs)

    def _updateWidth(self):
        for axis in self._group:
            pg.AxisItem._updateWidth(axis)  # each one's own width, by pyqtgraph's rule
        width = max(axis.maximumWidth() for axis in self._group)
        for axis in self._group:
            axis.setMaximumWidth(width)
            axis.setMinimumWidth(width)


class LossPlot(QWidget):
    sig_hover = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no keys of its own, and no mark of the focus
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)
        left_axes = []  # as wide as each other: see SharedWidthAxis
        # Rows: the cost's legend, the cost plot, the validation's legend, the validation plot.
        # Their tick labels keep apart (UncrowdedAxis) in a short plot in presentation mode's type too.
        self.cost_plot = self.layout_widget.addPlot(row=COST_ROW, col=0, viewBox=SteadyViewBox(),
                                                    axisItems={"left": SharedWidthAxis("left", left_axes),
                                                               "bottom": UncrowdedAxis("bottom")})
        self.cost_plot.setLabel("left", "cost")
        self.cost_plot.showGrid(x=True, y=True, alpha=0.25)
        self.validation_plot = self.layout_widget.addPlot(row=VALIDATION_ROW, col=0, viewBox=SteadyViewBox(),
                                                          axisItems={"left": SharedWidthAxis("left", left_axes),
                                                                     "bottom": UncrowdedAxis("bottom")})
        self.validation_plot.setLabel("left", "validation")  # the legend names the metrics
        self.validation_plot.setLabel("bottom", "epoch")
        self.validation_plot.showGrid(x=True, y=True, alpha=0.25)
        self.validation_plot.setXLink(self.cost_plot)
        self.cost_legend, self.validation_legend = LegendAbove(), LegendAbove()
        self._legends = ((self.cost_legend, self.cost_plot), (self.validation_legend, self.validation_plot))
        for legend, plot in self._legends:
            plot.legend = legend  # as PlotItem.addLegend leaves it: removeItem takes a curve's entry off too
        self._place_legend(self.cost_legend, COST_ROW - 1)
        # Shown once a kept run has a validation value: an empty plot took two fifths of the pane.
        self.layout_widget.ci.removeItem(self.validation_plot)
        self.validation_shown = False
        self.cost_plot.setLabel("bottom", "epoch")
        # Axis text is most of a repaint; cached as a pixmap, an axis whose range did not change is
        # blitted instead of redrawn (pyqtgraph invalidates the cache when the range moves). Not in an
        # exported picture (export_image).
        self.axes = [plot.getAxis(name) for plot in (self.cost_plot, self.validation_plot)
                     for name in ("left", "bottom")]
        for axis in self.axes:
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plain_axis_numbers(axis)  # an RMSE of 0.85 is read as 0.85, not as "850 (x0.001)"
        self.hover_text = pg.TextItem(anchor=(0, 0), color=(40, 40, 40), fill=pg.mkBrush(255, 255, 255, 220))
        self.hover_text.setZValue(10)
        self.cost_plot.addItem(self.hover_text, ignoreBounds=True)
        self.hover_text.hide()
        self.runs: list[Run] = []
        self._curves: list[dict] = []
        self.in_view = True  # its dock in front (set_in_view)
        self._current_behind = False  # the current run has records its curves do not show yet
        self._current_reset = False  # no current run: Reset took it away, or the runs are a project's earlier ones
        # the epochs the epoch axis spans beside the kept runs': the current run's plan, or with no run the one Train
        # would start (plan_epochs); None: the axis follows the curves (a run shown without a plan)
        self._planned_epochs: int | None = None
        self._spare_curves: dict | None = None  # the next run's, made ahead (prepare_next_run)
        self._pens: dict = {}  # (colour, line, line width) -> pen
        # apart from the end of a run's own event, which has its share of work already
        self._spare_timer = QTimer(self, singleShot=True, interval=SPARE_CURVES_DELAY_MS)
        self._spare_timer.timeout.connect(self._make_spare_curves)
        self.line_width = 2
        self._mouse_proxy = pg.SignalProxy(self.cost_plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)
        for plot in (self.cost_plot, self.validation_plot):
            plot.vb.sigResized.connect(lambda _: self._fit_legends())

    # --- runs ---------------------------------------------------------------------------------------
    @property
    def current(self) -> Run | None:
        """The run going on or shown last; None once Reset took it away (the runs left are earlier ones)."""
        return self.runs[-1] if self.runs and not self._current_reset else None

    def start_run(self, settings: dict, metrics: tuple = ("rmse", "mae"), planned_epochs: int | None = None,
                  number: int | None = None) -> Run:
        """A new run, numbered after the last unless ``number`` is given (a project's run put back); with
        ``planned_epochs`` the epoch axis spans the whole run (and the kept runs) from the start, so the curves
        grow into a still frame, as fast.ai's live plot does. An axis that does not move is blitted from its
        cached picture; redrawn 30 times a second it was a third of the GUI thread's time while training."""
        self._catch_up()  # it becomes an earlier run, whose curves are not set again
        if number is None:
            number = self.runs[-1].number + 1 if self.runs else 1
        run = Run(number, dict(settings), tuple(metrics))
        # Older runs beyond a handful make the overlay unreadable and every redraw slower.
        self._keep_last(KEPT_RUNS - 1)
        self.runs.append(run)
        self._current_reset = False
        self._restyle()
        self._planned_epochs = planned_epochs
        if planned_epochs is not None:
            self._fit_epoch_axis()
        else:
            self.cost_plot.enableAutoRange(x=True)
        return run

    def extend_planned_epochs(self, last_epoch: int):
        """The current run goes on (Step after it ended): its epoch axis spans it to ``last_epoch``."""
        self._planned_epochs = last_epoch
        self._fit_epoch_axis()

    def plan_epochs(self, epochs: int):
        """With no run shown, the epoch axis spans the run Train would start (and the kept runs): an empty plot
        numbered 0 to 0.7 its epochs."""
        if self.current is None:
            self._planned_epochs = epochs
            self._fit_epoch_axis()

    def _fit_epoch_axis(self):
        """The epoch axis from 0 to the longest of the kept runs and the plan (a fixed frame the curves grow
        into); left to follow the curves where there is no plan."""
        if self._planned_epochs is None:
            return
        longest = max([self._planned_epochs] + [r.epochs[-1] for r in self.runs if r.epochs])
        self.cost_plot.setXRange(0, max(longest, 1), padding=0.02)  # the validation plot's x is linked

    def add_records(self, records):
        """Extend the current run. Behind another tab its curves are set when the plot comes to the front:
        setting them cost the GUI thread 2 ms at each of a run's 30 updates a second, seen or not."""
        if self.current is None:
            self.start_run({})
        self.current.add(records)
        if self.in_view:
            self._update_current()
        else:
            self._current_behind = True
        if self.current.validated:
            self._show_validation(True)  # nothing to do once it shows

    def set_in_view(self, in_view: bool):
        """Whether the plot can be seen (its dock's tab in front, the dock open)."""
        self.in_view = in_view
        if in_view:
            self._catch_up()

    def _catch_up(self):
        """Set the current run's curves if records came while the plot was behind another tab."""
        if self._current_behind:
            self._update_current()

    def _show_validation(self, shown: bool):
        """The validation plot below the cost plot, with the epoch axis title, or not there at all."""
        if shown == self.validation_shown:
            return
        self.validation_shown = shown
        layout = self.layout_widget.ci
        if shown:
            self._place_legend(self.validation_legend, VALIDATION_ROW - 1)
            layout.addItem(self.validation_plot, row=VALIDATION_ROW, col=0)
            # two thirds for the cost's three terms, a third for the two metrics; the legends their own height
            layout.layout.setRowStretchFactor(COST_ROW, 2)
            layout.layout.setRowStretchFactor(VALIDATION_ROW, 1)
            self.cost_plot.setLabel("bottom", "")
        else:
            layout.removeItem(self.validation_plot)
            layout.removeItem(self.validation_legend)
            self.cost_plot.setLabel("bottom", "epoch")
        # the plots share their epochs: numbered once, below the lower one (the room goes to the curves)
        self.cost_plot.getAxis("bottom").setStyle(showValues=not shown)

    def _place_legend(self, legend: LegendAbove, row: int):
        layout = self.layout_widget.ci
        layout.addItem(legend, row=row, col=0)
        layout.layout.setAlignment(legend, Qt.AlignmentFlag.AlignRight)
        layout.layout.setRowStretchFactor(row, 0)

    def _show_validation_if_kept(self):
        self._show_validation(any(run.validated for run in self.runs))

    def remove_run(self, run: Run):
        """Take one run and its curves off the plots (Reset forgets the run it trained); the others stay."""
        index = next((i for i, kept in enumerate(self.runs) if kept is run), None)
        if index is None:  # already dropped from the kept runs
            return
        if index < len(self._curves):
            self._take_off(self._curves.pop(index))
        if run is self.current:  # the earlier runs stay earlier: dashed, named by their settings
            self._current_reset = True
        del self.runs[index]
        self._restyle()

    def clear_history(self):
        """Forget earlier runs; the current one stays, the epoch axis fitted to it (it kept the longest
        forgotten run's 200 epochs beside a run of 7)."""
        self._keep_last(0 if self.current is None else 1)
        for number, run in enumerate(self.runs, start=1):
            run.number = number
        self._restyle()
        self._fit_epoch_axis()

    def put_back_earlier_runs(self, runs: list[Run]):
        """Show ``runs`` (a project's) as earlier runs, dashed and named by their settings, in place of any kept
        run; a run started next (the project's model's) is the current one."""
        self._keep_last(0)
        self.runs = list(runs)[-KEPT_RUNS:]
        self._current_reset = True
        self._restyle()

    def clear_runs(self):
        """Forget every run (another document is open): no curve, no legend entry, the axes refit."""
        self._keep_last(0)
        self._restyle()
        self._fit_epoch_axis()
        for plot in (self.cost_plot, self.validation_plot):
            # autoranging nothing keeps the old range: 5,000 epochs and a cost of 60,000 over a new, empty plot
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            plot.enableAutoRange(x=True, y=True)
        self.hover_text.hide()

    def set_log_scale(self, on: bool):
        self.cost_plot.setLogMode(y=on)
        self._settle_earlier_runs()  # their bounds are in log units now

    def _settle_earlier_runs(self):
        """Tell the view boxes which curves will not change until the runs do: every run's but the current one."""
        earlier = [curves for run, curves in zip(self.runs, self._curves) if run is not self.current]
        for plot, keys in ((self.cost_plot, ("total", "data", "reg")), (self.validation_plot, VALIDATION_KEYS)):
            plot.getViewBox().set_settled_items([curves[key] for curves in earlier for key in keys])

    def set_line_width(self, width: int):
        self.line_width = width
        self._restyle()

    def set_text_size(self, point_size: float):
        """Legends, axis titles and tick labels in ``point_size`` points (presentation mode)."""
        set_plot_text_size(self.cost_plot, point_size, [self.cost_legend])
        set_plot_text_size(self.validation_plot, point_size, [self.validation_legend])
        self._fit_legends()

    def _fit_legends(self):
        height = self.layout_widget.viewport().height()
        current_terms = 3 if self.current is not None else 0  # named whatever the room: J and its two terms
        for (legend, plot), share, kept in zip(self._legends, LEGEND_HEIGHT_SHARES,
                                               (current_terms, len(self.validation_legend.items))):
            fit_legend(legend, plot, share * height, kept)

    # --- drawing ------------------------------------------------------------------------------------
    def _pen(self, run: Run, key: str, color):
        """The pen of ``run``'s curve ``key``: the current run's solid, in ``color`` (its term's or metric's); an
        earlier run's in the run's own colour, in the term's or metric's line (J dashed)."""
        if run is not self.current:
            color, line = (*earlier_run_color(run), EARLIER_RUN_ALPHA), EARLIER_RUN_LINES[key]
        else:
            line = Qt.PenStyle.SolidLine
        # Kept, not made again: every kept run's five pens were made and compared at each Train.
        pen_key = (color, line, self.line_width)
        pen = self._pens.get(pen_key)
        if pen is None:
            pen = self._pens[pen_key] = pg.mkPen(color=color, width=self.line_width, style=line)
        return pen

    def _keep_last(self, n: int):
        """Forget all runs but the last ``n``, and take their curves off the plots."""
        cut = max(len(self.runs) - n, 0)
        for curves in self._curves[:cut]:
            self._take_off(curves)
        self.runs, self._curves = self.runs[cut:], self._curves[cut:]

    def _take_off(self, curves: dict):
        """Remove one run's curves from the plots; their legend entries are parked for the next run."""
        park_entries_of(self.cost_legend, curves.values())
        park_entries_of(self.validation_legend, curves.values())
        for key, curve in curves.items():
            self._plot_of(key).removeItem(curve)

    def _restyle(self):
        """Pens and legend entries of the kept runs: the current run solid and named by term, earlier runs each in a
        colour of its own, J dashed, and named by the settings that differ. A run's curves are made once, when it
        first shows: making every kept run's curves again at each Train took 70 ms of the GUI thread with eight
        runs."""
        current_entries, earlier_entries, validation_entries = [], [], []
        for index, run in enumerate(self.runs):
            if index == len(self._curves):
                self._curves.append(self._new_curves(run))
            curves, current = self._curves[index], run is self.current
            label = settings_label(run, self.runs)
            for term in ("total", "data", "reg"):
                pen = self._pen(run, term, TERM_COLORS[term])
                if curves[term].opts["pen"] != pen:
                    curves[term].setPen(pen)
                if current:
                    current_entries.append((curves[term], TERM_LABELS[term]))
                elif term == "total":
                    earlier_entries.append((curves[term], label))  # its J: the sample's colour says which run
            for key, color, metric in zip(VALIDATION_KEYS, VALIDATION_COLORS, run.metrics):
                pen = self._pen(run, key, color)
                if curves[key].opts["pen"] != pen:
                    curves[key].setPen(pen)
                if current:
                    validation_entries.append((curves[key], metric_name(metric)))
        # The current run's terms first, then the newest few earlier runs: with seven earlier runs listed
        # first the current run's names fell below the plot.
        earlier_entries = earlier_entries[::-1][:LEGEND_EARLIER_RUNS]
        sync_legend(self.cost_legend, current_entries + earlier_entries)
        sync_legend(self.validation_legend, validation_entries)
        self._settle_earlier_runs()
        self._show_validation_if_kept()
        self._fit_legends()

    def prepare_next_run(self):
        """Make the next run's curves soon, while nothing trains (a run has ended), and put them on the plots,
        hidden: made at Train, they were half of the click's 20 ms, and adding them to the plots another 3 ms.
        They are shown when the run starts."""
        self._spare_timer.start()

    def _make_spare_curves(self):
        if self._spare_curves is None:
            curves = self._empty_curves()
            for key, curve in curves.items():
                curve.hide()  # hidden items count for no axis range
                self._plot_of(key).addItem(curve)
            self._spare_curves = curves

    def _plot_of(self, key: str):
        return self.validation_plot if key in VALIDATION_KEYS else self.cost_plot

    def _new_curves(self, run: Run) -> dict:
        self._make_spare_curves()  # unless made ahead
        curves, self._spare_curves = self._spare_curves, None
        for curve in curves.values():
            curve.show()
        self._set_data(run, curves)
        return curves

    @staticmethod
    def _empty_curves() -> dict:
        curves = {}
        for key in ("total", "data", "reg", *VALIDATION_KEYS):
            # Every point drawn: pyqtgraph's automatic downsampling and clipping to the view (which
            # PlotItem.addItem had silently turned off here) made an update of a 100,000-epoch run
            # 3.8 ms of the GUI thread instead of 1.0 (update and repaint, measured interleaved).
            curves[key] = pg.PlotDataItem()
        return curves

    def _set_data(self, run: Run, curves: dict):
        epochs = run.series("epochs")
        for term, series in (("total", "total"), ("data", "data"), ("reg", "reg")):
            values = run.series(series)
            if self.cost_plot.ctrl.logYCheck.isChecked():
                values = np.where(values > 0, values, np.nan)
            curves[term].setData(epochs, values, connect="finite")
        for key in VALIDATION_KEYS:
            curves[key].setData(epochs, run.series(key), connect="finite")
        for curve in curves.values():
            # A line needs two points: one epoch alone (a finite one) is drawn as a dot.
            lone = len(epochs) == 1 and curve.yData is not None and bool(np.isfinite(curve.yData).all())
            if lone:
                color = curve.opts["pen"].color()
                # one call: three (setSymbol, its brush, its pen) redraw the curve three times
                curve.setData(epochs, curve.yData, connect="finite", symbol="o", symbolBrush=color, symbolPen=color)
            elif curve.opts["symbol"] is not None:
                curve.setSymbol(None)
                # its legend sample draws the curve's symbol too, and is not told: it kept the lone dot
                for legend, _ in self._legends:
                    for sample, _ in legend.items:
                        if sample.item is curve:
                            sample.update()

    def _update_current(self):
        self._current_behind = False
        if self._curves and self.current is not None:
            self._set_data(self.current, self._curves[-1])

    def curve_data(self, term: str, run_index: int = -1):
        """(x, y) of one curve of a run, every point."""
        self._catch_up()
        curve = self._curves[run_index][term]
        return curve.xData, curve.yData

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
        for metric, series in zip(run.metrics, (run.validation, run.validation2)):
            if not math.isnan(series[position]):
                parts.append(f"validation {metric_name(metric)} {series[position]:.4f}")
        return "\n".join(parts)

    # --- export ---------------------------------------------------------------------------------------------
    def export_image(self, path: str):
        self._catch_up()
        # the axes' text at the picture's scale, not the screen's cached pixels
        export_widget_image(self.layout_widget, path, "CF Explorer loss curves", least_width=1600,
                            fresh_items=self.axes)

    def export_csv(self, path: str):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["run", "settings", "epoch", "data_term", "reg_term", "total", "metric_1",
                             "validation_1", "metric_2", "validation_2"])
            for run in self.runs:
                label = settings_label(run, self.runs)
                rows = zip(run.epochs, run.data, run.reg, run.total, run.validation, run.validation2)
                for epoch, data, reg, total, first, second in rows:
                    writer.writerow([run.number, label, epoch, repr(data), repr(reg), repr(total),
                                     run.metrics[0], "" if math.isnan(first) else repr(first),
                                     run.metrics[1], "" if math.isnan(second) else repr(second)])
