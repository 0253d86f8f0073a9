"""Compare models: train several on the same split (or k folds) in a worker thread; a table and a bar chart."""

from __future__ import annotations

import threading
import time
import traceback

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QDialog, QDoubleSpinBox, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QListView, QProgressBar, QPushButton,
    QSpinBox, QSplitter, QStyle, QTableView, QVBoxLayout, QWidget,
)

from ..core.compare import Candidate, ComparisonStopped, compare, metric_names
from ..core.models import MODEL_KINDS, settings_for_likes
from ..lazy import load_now
from .plot_text import plain_axis_numbers
from .qt_guard import guard_event, qt_virtual
from .training import SHUTDOWN_WAIT_MS, keep_until_exit
from .window_geometry import available_area, clamp_to_screen

METRIC_LABELS = {"rmse": "test RMSE", "mae": "test MAE", "bce": "test BCE", "auc": "test AUC"}


def numbered(row: int, name: str) -> str:
    """A model's name in the table: the number labels its bar in the chart."""
    return f"{row + 1} · {name}"


class ComparisonWorker(QObject):
    """One comparison, run in a thread of its own; every signal carries the run's id, so that the dialog drops
    what a run it has left behind (stopped, or closed) still sends."""

    sig_progress = Signal(int, int, int, str)  # run id, done, total, text
    sig_row = Signal(int, object)  # run id, a ComparisonRow: a model compared on every split
    sig_finished = Signal(int, object)  # run id, list of ComparisonRow
    sig_stopped = Signal(int)
    sig_failed = Signal(int, str, str)  # run id, message, details
    sig_ended = Signal()  # after any of the three: the thread may quit

    def __init__(self, run_id, candidates, ratings, folds, test_fraction, seed):
        super().__init__()
        self.run_id = run_id
        self.candidates, self.ratings = candidates, ratings
        self.folds, self.test_fraction, self.seed = folds, test_fraction, seed
        self._stop = threading.Event()

    def request_stop(self):
        self._stop.set()

    @Slot()
    def run(self):
        try:
            rows = compare(self.candidates, self.ratings, self.folds, self.test_fraction, self.seed,
                           progress=lambda done, total, text: self.sig_progress.emit(self.run_id, done, total, text),
                           should_stop=self._stop.is_set, on_row=lambda row: self.sig_row.emit(self.run_id, row))
        except ComparisonStopped:
            self.sig_stopped.emit(self.run_id)
        except Exception as error:  # a model that cannot train must not kill the thread silently
            self.sig_failed.emit(self.run_id, f"The comparison stopped: {error}", traceback.format_exc())
        else:
            self.sig_finished.emit(self.run_id, rows)
        finally:
            self.sig_ended.emit()


class ComparisonTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows = []
        self.metrics = ("rmse", "mae")

    def set_rows(self, rows, metrics):
        self.beginResetModel()
        self.rows, self.metrics = list(rows), tuple(metrics)
        self.endResetModel()

    def headers(self):
        return ["Model", *(METRIC_LABELS[m] for m in self.metrics), "Fit s", "Parameters"]

    @qt_virtual(0)
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    @qt_virtual(0)
    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.headers())

    def cell(self, row: int, column: int) -> str:
        entry = self.rows[row]
        if column == 0:
            return numbered(row, entry.name)
        if column <= len(self.metrics):
            return entry.describe(self.metrics[column - 1])
        if column == len(self.metrics) + 1:
            return f"{entry.fit_seconds:.2f}"
        return f"{entry.n_parameters:,}"

    @qt_virtual(None)
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(index.row(), index.column())
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:  # whole where the screen is too narrow
            return self.cell(index.row(), 0)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @qt_virtual(None)
    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers()[section]
        return None


class CompareDialog(QDialog):
    """Choose models, a split or k folds; Run trains them all off the GUI thread."""

    sig_done = Signal(object)  # the rows, when a comparison finished

    def __init__(self, data_source, panel_candidate, parent=None):
        """``data_source()`` gives the ratings; ``panel_candidate()`` the training panel's current model."""
        super().__init__(parent)
        self.setWindowTitle("Compare models")
        self.data_source, self.panel_candidate = data_source, panel_candidate
        self._worker: ComparisonWorker | None = None
        self._run_id: int | None = None
        self._last_run_id = 0
        self._ending: list[tuple[QThread, ComparisonWorker]] = []  # every run's thread until it has finished
        self.rows = []
        self._results_of = None  # the ratings the rows were measured on
        self._candidates_run: list = []  # the models the run going on (or the last) compares

        self.choices = QStandardItemModel(self)
        self.choice_view = QListView()
        self.choice_view.setModel(self.choices)
        # narrower than its longest name (the results' table comes first), the list wraps a name, never cuts it
        self.choice_view.setWordWrap(True)
        self.choice_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.folds = QSpinBox(minimum=1, maximum=10, value=1)
        self.folds.setSpecialValueText("1 (one split)")
        self.folds.setToolTip("1: one random train/test split; k > 1: k-fold cross-validation, mean ± spread")
        self.test_share = QDoubleSpinBox(minimum=0.05, maximum=0.5, decimals=2, singleStep=0.05, value=0.2)
        self.test_share.setToolTip("Share of the ratings held out for testing (with one split)")
        self.folds.valueChanged.connect(lambda k: self.test_share.setEnabled(k == 1))
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed.setToolTip("Seed of the split: same seed, same split for every model")
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.status = QLabel("Choose models and press Run.")
        self.status.setWordWrap(True)

        self.table_model = ComparisonTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        # The names take the width the numbers leave: where the screen has no room for a name, it keeps both
        # ends ("Matrix factorization (course) (defaults)" and "(panel settings)" differ at the end; its tooltip
        # has it whole), and the numbers stay in view.
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.chart = pg.PlotWidget(background="w")
        self.chart.setMinimumHeight(160)
        self.chart.getPlotItem().hideButtons()
        self.chart.setMouseEnabled(x=False, y=False)

        settings = QFormLayout()
        settings.addRow("Folds", self.folds)
        settings.addRow("Test share", self.test_share)
        settings.addRow("Seed", self.seed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Models"))
        left_layout.addWidget(self.choice_view, 1)
        left_layout.addLayout(settings)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.status)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.table)
        right.addWidget(self.chart)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.resize(860, 520)
        self.refresh_choices()

    # --- choices ------------------------------------------------------------------------------------------
    def forget_results_of_other_data(self):
        """The table and chart show results of the ratings the window holds, or none: reopened on another
        document, the dialog showed the last one's numbers (and on the next Run, beside its progress)."""
        if self.rows and self._results_of is not self.data_source() and not self.is_running:
            # the metrics of the data it holds now (likes: BCE and AUC, not the last document's RMSE), no bar
            self.show_rows([], metric_names(self.data_source()))
            self.status.setText("")
            self.progress.reset()

    def refresh_choices(self):
        """The training panel's current model first, then every kind with its defaults (on likes, its settings for
        likes), all checked."""
        checked = {self.choices.item(row).text(): self.choices.item(row).checkState()
                   for row in range(self.choices.rowCount())}
        self.choices.clear()
        binary = self.data_source().binary
        self._candidates = [self.panel_candidate()]
        # on likes a kind trains with its settings for them (core.models.settings_for_likes), which the name says
        for key, kind in MODEL_KINDS.items():
            settings = "for likes" if binary and settings_for_likes(key) else "defaults"
            self._candidates.append(Candidate(f"{kind.label} ({settings})", key))
        for candidate in self._candidates:
            item = QStandardItem(candidate.name)
            item.setCheckable(True)
            item.setEditable(False)
            item.setCheckState(checked.get(candidate.name, Qt.CheckState.Checked))
            if binary and not MODEL_KINDS[candidate.kind].trains_on_likes:
                item.setEnabled(False)
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setToolTip("Predicts ratings only, not likes (1/0)")
            self.choices.appendRow(item)
        self._fit_width_to_names(self._model_column_width_for([c.name for c in self._candidates]))

    def chosen(self) -> list[Candidate]:
        """The checked candidates that can train on the current ratings (the data may have changed since
        the list was made)."""
        binary = self.data_source().binary
        return [candidate for row, candidate in enumerate(self._candidates)
                if self.choices.item(row).checkState() == Qt.CheckState.Checked
                and (MODEL_KINDS[candidate.kind].trains_on_likes or not binary)]

    def set_chosen(self, kinds_or_names):
        """Check exactly the candidates whose kind or name is listed."""
        for row, candidate in enumerate(self._candidates):
            on = candidate.kind in kinds_or_names or candidate.name in kinds_or_names
            self.choices.item(row).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    # --- running ------------------------------------------------------------------------------------------
    # A run is idle (no id), running, or stopping (Stop pressed: its worker ends after the current epoch). A run
    # left behind (the dialog closed) is forgotten at once: its signals are dropped by id, and its thread, told
    # to stop, is kept referenced in _ending until it has finished (a QThread destroyed running aborts the app).
    @property
    def is_running(self) -> bool:
        return self._run_id is not None

    def run(self):
        if self.is_running:
            return
        candidates = self.chosen()
        ratings = self.data_source()
        if not candidates:
            self.status.setText("Check at least one model to compare.")
            return
        if ratings.n_ratings < max(self.folds.value(), 2) * 2:
            self.status.setText("There are too few ratings to hold some out for testing.")
            return
        self._last_run_id += 1
        self.show_rows([], self.table_model.metrics)  # no earlier numbers beside this run's progress
        self._candidates_run = candidates
        self._results_of = ratings
        worker = ComparisonWorker(self._last_run_id, candidates, ratings, self.folds.value(), self.test_share.value(),
                                  self.seed.value())
        thread = QThread()
        thread.setObjectName("cfexplorer-compare")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # bound slots of this dialog, which lives in the GUI thread: queued there (a lambda ran in the worker's
        # thread, and the thread then waited on itself: the app aborted)
        worker.sig_progress.connect(self._on_progress)
        worker.sig_row.connect(self._on_row)
        worker.sig_finished.connect(self._on_finished)
        worker.sig_stopped.connect(self._on_stopped)
        worker.sig_failed.connect(self._on_failed)
        # direct: quit is safe from any thread, and the GUI thread may be waiting for this one (shutdown)
        worker.sig_ended.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._release_finished_threads)
        self._run_id, self._worker = self._last_run_id, worker
        self._ending.append((thread, worker))
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.progress.setRange(0, len(candidates) * max(self.folds.value(), 1))
        self.progress.setValue(0)
        load_now()  # lazy modules load here, in the GUI thread, never racing the worker's first use
        thread.start()

    def stop(self):
        """End the run after the epoch under way (a model's epoch on large data can take seconds)."""
        if self._worker is not None:
            self._worker.request_stop()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping after the current epoch…")

    def _is_current(self, run_id: int) -> bool:
        return run_id == self._run_id

    @Slot(int, int, int, str)
    def _on_progress(self, run_id: int, done: int, total: int, text: str):
        if not self._is_current(run_id):
            return
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        if self.stop_button.isEnabled():  # not over "Stopping…"
            self.status.setText(text)

    @Slot(int, object)
    def _on_row(self, run_id: int, row):
        """A model compared on every split: its row at once (the table and the chart stayed empty until the last
        model's, and a Stop threw the finished ones away)."""
        if self._is_current(run_id):
            self.show_rows(self.rows + [row], metric_names(self._results_of))

    @Slot(int, object)
    def _on_finished(self, run_id: int, rows):
        if not self._is_current(run_id):
            return
        self.show_rows(rows, metric_names(self._results_of))
        folds = rows[0].folds if rows else 1
        how = f"{folds}-fold cross-validation" if folds > 1 else "one split"
        self._end(f"Done: {len(rows)} models on {how}.")
        self.sig_done.emit(rows)

    @Slot(int)
    def _on_stopped(self, run_id: int):
        if self._is_current(run_id):
            compared = len(self.rows)
            self._end(f"Stopped: {compared} of {len(self._candidates_run)} models compared." if compared
                      else "Stopped before any model was compared on every split.")

    @Slot(int, str, str)
    def _on_failed(self, run_id: int, message: str, details: str):
        if self._is_current(run_id):
            self._end(message)

    def _end(self, text: str):
        """The current run is over (or left behind): the dialog is ready for another."""
        self.status.setText(text)
        self._run_id, self._worker = None, None
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    @Slot()
    def _release_finished_threads(self):
        for thread, worker in [pair for pair in self._ending if pair[0].isFinished()]:
            self._ending.remove((thread, worker))  # the worker goes with its last reference, its thread ended
            thread.deleteLater()

    def shutdown(self, wait_ms: int = 0) -> bool:
        """Leave the current run behind (the dialog closed: at once, never waiting on the GUI thread); with
        ``wait_ms`` (the window closing), wait that long for the threads to end, and keep those that have not
        referenced until the process exits. True when none is left running."""
        if self.is_running:
            self._end("Stopped.")
        for _, worker in self._ending:  # the current run's among them
            worker.request_stop()
        deadline = time.monotonic() + wait_ms / 1000
        if wait_ms:
            for thread, _ in self._ending:
                thread.wait(max(int((deadline - time.monotonic()) * 1000), 0))
        self._release_finished_threads()
        all_ended = not self._ending
        if wait_ms and self._ending:
            for thread, worker in self._ending:
                keep_until_exit(thread, worker)
            self._ending.clear()
        return all_ended

    def shut_down_with_window(self) -> bool:
        return self.shutdown(SHUTDOWN_WAIT_MS)

    @guard_event
    def showEvent(self, event):
        super().showEvent(event)
        # sized before it was shown, the dialog could fill the screen's width and its frame stick out
        QTimer.singleShot(0, self, lambda: clamp_to_screen(self))

    @guard_event
    def closeEvent(self, event):
        self.shutdown()
        super().closeEvent(event)

    @guard_event
    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # (presentation mode): the columns measured in the new type
            QTimer.singleShot(0, self, lambda: self.show_rows(self.rows, self.table_model.metrics))

    @qt_virtual(None)
    def reject(self):
        self.shutdown()
        super().reject()

    # --- results ------------------------------------------------------------------------------------------
    def show_rows(self, rows, metrics):
        self.rows = list(rows)
        self.table_model.set_rows(rows, metrics)
        self.table.resizeColumnsToContents()
        if self.rows:
            self._fit_width_to_names(self._column_width_needed(0))
        self._fit_table_to_rows()
        self._draw_chart(metrics[0])

    def _model_column_width_for(self, names) -> int:
        """The width the table's Model column will take for these models' results: the dialog opens wide enough
        for them, not widening when they come (only for numbers wider than the headers: mean ± spread)."""
        table = self.table
        margins = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1)
        widest = max((table.fontMetrics().horizontalAdvance(numbered(row, name)) for row, name in enumerate(names)),
                     default=0)
        return max(widest + margins + int(table.showGrid()), table.horizontalHeader().sectionSizeHint(0))

    def _fit_width_to_names(self, model_column: int):
        """Wide enough, where the screen has room, for every model's name whole: on one line in the list and in
        the table beside every number. On a narrow screen (a projector, in presentation type) the list gives
        way first, wrapping its names; then the table's Model column, eliding its names in the middle. The
        dialog is made narrower only to fit its screen (the user may have widened it)."""
        table, header = self.table, self.table.horizontalHeader()
        others = sum(self._column_width_needed(c) for c in range(1, header.count()))
        vertical_header = table.verticalHeader().sizeHint().width() if not table.verticalHeader().isHidden() else 0
        table_chrome = vertical_header + 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()
        table_needed = table_chrome + model_column + others
        view = self.choice_view
        list_needed = view.sizeHintForColumn(0) + 2 * view.frameWidth() + view.verticalScrollBar().sizeHint().width()
        left = self.splitter.widget(0)
        left_least = left.minimumSizeHint().width()
        margins = self.layout().contentsMargins()
        chrome = margins.left() + margins.right() + self.splitter.handleWidth()
        room = available_area(self).width() - (self.frameGeometry().width() - self.width())
        width = min(max(self.width(), chrome + max(list_needed, left_least) + table_needed), room)
        if width != self.width():
            self.resize(width, self.height())
            if self.isVisible():
                clamp_to_screen(self)
        left_width = max(min(list_needed, width - chrome - table_needed), left_least)
        self.splitter.setSizes([left_width, width - chrome - left_width])

    def _column_width_needed(self, column: int) -> int:
        """A column's width for its header and cells whole (the Model column's, which stretches, included)."""
        return max(self.table.sizeHintForColumn(column), self.table.horizontalHeader().sectionSizeHint(column))

    def _fit_table_to_rows(self):
        """Every row in view, not two of seven with a scroll bar: the table takes the height they need (the
        chart below keeps at least its own minimum)."""
        table = self.table
        rows = self.table_model.rowCount()
        needed = (table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(rows))
                  + 2 * table.frameWidth() + table.horizontalScrollBar().sizeHint().height())
        table.setMinimumHeight(min(needed, max(self.height() - self.chart.minimumHeight() - 60, 120)))

    def _draw_chart(self, metric: str):
        plot = self.chart.getPlotItem()
        plot.clear()
        plot.setLabel("left", METRIC_LABELS[metric])
        if not self.rows:
            plot.getAxis("bottom").setTicks([[]])  # no row numbers of a table now empty
            return
        x = np.arange(len(self.rows))
        heights = np.array([row.metrics[metric] for row in self.rows], dtype=float)
        spread = np.array([row.spread[metric] for row in self.rows], dtype=float)
        plot.addItem(pg.BarGraphItem(x=x, height=heights, width=0.6, brush=pg.mkBrush(70, 120, 180)))
        if self.rows[0].folds > 1:
            plot.addItem(pg.ErrorBarItem(x=x, y=heights, height=2 * spread, beam=0.2, pen=pg.mkPen("k")))
        low, high = chart_range(heights, spread)
        for i, value in enumerate(heights):  # the value on each bar: 0.849 and 0.856 read as different
            if np.isfinite(value):
                label = pg.TextItem(f"{value:.3f}", color=(20, 20, 20), anchor=(0.5, 1))
                label.setPos(i, min(value + spread[i], high))
                plot.addItem(label)
        # Model names would overlap under the bars: the bars carry the table's row numbers.
        plot.getAxis("bottom").setTicks([[(i, str(i + 1)) for i in range(len(self.rows))]])
        plain_axis_numbers(plot.getAxis("left"))
        plot.setLabel("bottom", "model (row of the table)")
        plot.setLabel("left", METRIC_LABELS[metric])
        plot.setYRange(low, high, padding=0)


def chart_range(heights: np.ndarray, spread: np.ndarray) -> tuple[float, float]:
    """The bar chart's value axis: from a little below the smallest bar to a little above the largest (with
    room for its value), not from 0 — test RMSEs of 0.849 and 0.856 would be bars of the same height."""
    finite = np.isfinite(heights)
    if not finite.any():
        return 0.0, 1.0
    spread = np.nan_to_num(spread)
    low = float(np.min(heights[finite] - spread[finite]))
    high = float(np.max(heights[finite] + spread[finite]))
    span = high - low if high > low else max(abs(high), 1.0) * 0.05
    return max(low - 0.3 * span, 0.0) if low >= 0 else low - 0.3 * span, high + 0.3 * span
