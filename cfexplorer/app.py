"""The application: QApplication set-up, the main window's wiring, and the GUI entry point (the screenshot
command is cfexplorer/screenshot.py)."""

from __future__ import annotations

import atexit
import gc
import html
import os
import sys
import time
import weakref
from pathlib import Path

import numpy as np

import shiboken6
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication, QDockWidget, QLabel, QLineEdit, QMainWindow, QMessageBox, QScrollArea,
    QSplitter, QVBoxLayout, QWidget, QDialog,
)

from . import __version__
from .core import kernels
from .core.edits import ITEMS, USERS
from .core.ratings import Ratings
from .core.summary import ratings_summary
from .lazy import load_now
from .io.presets import DEFAULT_PRESET, PRESETS, load_preset
from .io.project import SUFFIX as PROJECT_SUFFIX
from .io.project import Project, SavedRun
from .core.embedding import ITEM_KIND
from .core.memory import keep_freed_memory
from .core.models import checked_model_from_state, kind_of
from .ui.document import RECOVERY_KEYS, Document, DocumentController
from .ui.explain_panel import ExplainPanel
from .ui.factor_space import FactorSpaceView
from .ui.factor_tables import FactorTables
from .ui.file_dialogs import open_file_name, save_file_name
from .ui.filter_proxy import RatingFilterProxy
from .ui.formula_panel import FormulaPanel
from .ui.grid_view import RatingGridView
from .ui.lessons import LESSONS, LessonPanel
from .ui.loss_plot import run_of
from .ui.message_bar import MessageBar
from .ui.table_model import EditCommand, RatingTableModel
from .ui.training_panel import SETTINGS_WAIT_NOTE, TrainingPanel
from .ui.window_geometry import clamp_to_screen, fit_to_screen
from .ui.window_editing import GridEditingMixin
from .ui.window_menus import FACTOR_TABLES_SETTING, setup_actions, setup_menus, setup_toolbar
from .ui.presentation import PresentationMode
from .ui.scrolling import VerticalScrollArea
from .ui.qt_guard import guard_event, qt_virtual, report_current_exception

_UNKNOWN_STEP = object()  # a model whose ratings are not known here (see MainWindow.model_is_stale)
GRID_REFRESH_MS = 200  # predictions in the grid and the factor space change at most 5 times a second
FACTOR_TABLES_WIDTH = 340  # the pane's first width: names, two factors and a bias without a horizontal scroll
ORGANIZATION = "CF Explorer"
APPLICATION = "cfexplorer"

OPEN_FILTER = (
    "All supported (*.cfx *.csv *.tsv *.txt *.data *.dat *.xlsx);;CF Explorer project (*.cfx);;"
    "CSV/TSV ratings (*.csv *.tsv *.txt);;MovieLens 100K (u.data *.data);;MovieLens 1M/10M (ratings.dat *.dat);;"
    "Excel (*.xlsx);;All files (*)"
)
SAVE_FILTERS = {
    "CF Explorer project (*.cfx)": ("project", ".cfx"),
    "Matrix, CSV (*.csv)": ("wide", ".csv"),
    "Matrix, TSV (*.tsv)": ("wide", ".tsv"),
    "Long table user,item,rating, CSV (*.csv)": ("long", ".csv"),
    "Long table, TSV (*.tsv)": ("long", ".tsv"),
    "Excel matrix (*.xlsx)": ("wide", ".xlsx"),
    "Excel long table user,item,rating (*.xlsx)": ("long", ".xlsx"),
}


TABLE_KEYS = (("Next or previous cell of a table, then on past its last (first) cell", "Tab, Shift+Tab"),
              ("Leave a table at once", "Ctrl+Tab, Ctrl+Shift+Tab"))
FOCUS_SKIP_LIMIT = 500  # controls Tab may pass over at one press (the window has some 150)


def _out_of_sight(window: QWidget, widget: QWidget) -> bool:
    """Whether nothing of ``widget`` can be seen, nor scrolled into view: it is in a pane whose tab is not in
    front, or covered (a tab bar Qt keeps for a later layout of the panes). A widget PySide can tell nothing of
    is passed over too: for the side tabs' scroll buttons behind the factor space's tab it handed back a
    wrapper it had kept for a deleted button at the same address ("already deleted")."""
    try:
        area = _scroll_area_holding(window, widget)
        return not _partly_seen(area if area is not None else widget)
    except RuntimeError:
        return True


def _partly_seen(widget: QWidget, depth: int = 2) -> bool:
    """Whether some of ``widget`` is on screen, its own pixels or its children's (a plot's view covers all of
    it: its own visible region is empty)."""
    if not widget.visibleRegion().isEmpty():
        return True
    children = widget.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
    return depth > 0 and any(child.isVisible() and _partly_seen(child, depth - 1) for child in children)


def _scroll_area_holding(window: QWidget, widget: QWidget | None) -> QScrollArea | None:
    """The innermost scroll area of ``window`` that holds ``widget`` (asked of the areas: walking up from the
    widget, PySide may hand back a parent's wrapper of a deleted widget, see _out_of_sight)."""
    if widget is None:
        return None
    holding = [area for area in window.findChildren(QScrollArea) if area.isAncestorOf(widget)]
    return next((area for area in holding if not any(area.isAncestorOf(other) for other in holding
                                                      if other is not area)), None)


class MainWindow(GridEditingMixin, QMainWindow):
    """The rating grid in the centre, docks for training and factor space, menus around them."""

    def __init__(self, ratings: Ratings | None = None, title: str | None = None, settings: QSettings | None = None):
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.documents = DocumentController(self, self.settings)
        # The history belongs to the document: its owner goes first when the window closes, so the stack's
        # last signals (it clears itself as it goes) reach nobody and cannot count as "saved".
        self.undo_stack = QUndoStack(self.documents)
        if ratings is None:
            ratings, title = load_preset(DEFAULT_PRESET), PRESETS[DEFAULT_PRESET].title
        self.table = RatingTableModel(ratings, self.undo_stack, self)
        self.proxy = RatingFilterProxy(self.table, self)
        self.grid = RatingGridView(self.proxy)
        self.message_bar = MessageBar()
        self.filter_edit = QLineEdit(placeholderText="Filter rows by name  (Ctrl+F)", clearButtonEnabled=True)
        self.documents.title = title or "Untitled"
        self._document_notes: list[str] = []  # warnings of the document being installed, shown once it is
        self._installing = False
        # for each model shown or kept (a run's, a project's), the ratings it trained on (see _ratings_step): which
        # users and movies its rows are, and whether its results are those of the grid's ratings
        self._trained_steps: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self._stale_when_opened: "weakref.WeakSet" = weakref.WeakSet()  # a project's model saved stale
        # for each model, the grid's rows it trained on (RatingTableModel.rows_token): whose rows its rows are
        self._trained_rows: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.message_bar)
        # the grid and, beside it, the factor tables (added with the docks), as in Jeremy Howard's spreadsheet
        self.grid_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.grid_splitter.addWidget(self.grid)
        layout.addWidget(self.grid_splitter, 1)  # the room is the grid's: the message bar (a line or two) took a share
        self.setCentralWidget(central)
        self._build_docks()
        setup_actions(self)
        setup_menus(self)
        setup_toolbar(self)
        self.summary_label = QLabel()
        self.statusBar().addPermanentWidget(self.summary_label)
        self.setAcceptDrops(True)

        self.table.sig_input_rejected.connect(self._on_cell_input_rejected)
        self.grid.sig_input_rejected.connect(self._on_input_rejected)
        self.grid.sig_growth_offered.connect(lambda message, action, grow: self.message_bar.show_message(
            message, kind="info", action_text=action, callback=self._fix_for_these_cells(grow)))
        self.table.sig_ratings_changed.connect(self._on_ratings_change)
        self.proxy.sig_filter_changed.connect(self._update_summary)
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.documents.follow_edits(self.undo_stack)
        self.documents.sig_message.connect(lambda kind, text: self.message_bar.show_message(text, kind))
        self.documents.sig_recent_changed.connect(self._refresh_recent_menu)
        self.documents.sig_switched.connect(self._on_document_switched)
        self.filter_edit.textChanged.connect(self.proxy.set_name_filter)
        self.grid.horizontalHeader().sectionClicked.connect(self._on_column_header_click)
        self.grid.horizontalHeader().sectionDoubleClicked.connect(self._on_column_header_double_click)
        self.grid.verticalHeader().sectionDoubleClicked.connect(
            lambda section: self._rename_at(self.table.row_axis, self._source_row(section)))

        # Repainting the visible grid cells costs ~15 ms on MovieLens; at the plot's 30 updates a second
        # it would stall the window, and numbers changing faster than 5 times a second cannot be read.
        self._pending_predictor = None
        self._pending_factor_frame = None  # the newest predictor the factor space has not drawn yet
        self.compare_dialog = None
        self.new_user_dialog = None  # Training ▸ Recommend for a New User…, of the document shown
        self._grid_refresh_timer = QTimer(self, singleShot=True, interval=GRID_REFRESH_MS)
        self._grid_refresh_timer.timeout.connect(self._show_pending_predictor)
        # A timer of the window's, not QTimer.singleShot: a zero-time single shot is a posted event, handled
        # in the same turn of the event loop as what posted it (a run's end and its last frame made one stall
        # of 80-95 ms on MovieLens 25M's shape), where a timer waits for the timers' and the input's turn.
        self._factor_frame_timer = QTimer(self, singleShot=True)
        self._factor_frame_timer.timeout.connect(self._show_pending_factor_frame)
        # The factor tables follow the grid on the next pass: with the grid, their update and repaint made the
        # grid's refresh 25-50 ms beside 59,047 movies.
        self._pending_tables = None  # the predictor the grid shows and the factor tables not yet
        self._tables_timer = QTimer(self, singleShot=True, interval=0)
        self._tables_timer.timeout.connect(self._show_pending_tables)
        self.training_panel.sig_predictor_changed.connect(self._on_predictor_change)
        self.training_panel.sig_run_ended.connect(self._on_run_ended)
        self.training_panel.sig_message.connect(lambda kind, text: self.message_bar.show_message(text, kind))
        self.grid.selectionModel().currentChanged.connect(self._on_current_cell_change)
        self.explain_panel.sig_cell_requested.connect(self._go_to_cell)
        self.training_panel.sig_run_started.connect(self._drop_the_last_runs_pending_views)
        self.training_panel.sig_run_started.connect(
            lambda model, train: self.factor_space.start_run(
                model, self.table.ratings,
                continued_every=self.training_panel.snapshot_every if self.training_panel.run_continues else 0,
                trained_on=train))
        self.training_panel.sig_run_started.connect(self._remember_trained_ratings)
        self.training_panel.sig_training_set.connect(lambda model, train: self.factor_space.set_training_set(train))
        # after an edit is on the stack (its redo runs before it is counted), and after undo and redo
        self.undo_stack.indexChanged.connect(self._follow_stale_training)
        # again once the stack's position has moved: an undo's edit is applied before it does, and whether the
        # model's rows are the grid's is read from that position (_rows_as_trained)
        self.undo_stack.indexChanged.connect(self._follow_the_grid_with_the_model)
        self.undo_stack.indexChanged.connect(self.message_bar.dismiss_error)
        self.training_panel.sig_run_started.connect(self.message_bar.dismiss_error)
        # "the run going on keeps the settings it started with" holds while it goes on: not past its end or Reset
        for ended_or_replaced in (self.training_panel.sig_run_started, self.training_panel.sig_run_ended):
            ended_or_replaced.connect(lambda *_: self.message_bar.dismiss_if(SETTINGS_WAIT_NOTE))
        # "no movie or user named like …" is about the name typed: not past the next key or a name found
        self.factor_space.search.textEdited.connect(
            lambda _: self.message_bar.dismiss_if(self.factor_space.not_found_note))
        self.training_panel.controller.sig_progress.connect(
            lambda records, predictor: self.factor_space.add_records(records))
        self.training_panel.controller.sig_progress.connect(
            lambda records, predictor: self.formula_panel.show_epoch(self.training_panel.model, records[-1]))
        self.training_panel.follow_with_actions({"train": self.act_train, "pause": self.act_pause,
                                                 "step": self.act_step, "stop": self.act_stop,
                                                 "reset": self.act_reset})
        self._selecting_from_factor_space = False
        self.factor_space.sig_selection_changed.connect(self._on_factor_selection_change)
        self.grid.sig_entries_selected.connect(self._on_grid_entries_selected)
        self.factor_space.sig_message.connect(lambda kind, text: self.message_bar.show_message(text, kind))
        self.factor_tables.sig_message.connect(lambda kind, text: self.message_bar.show_message(text, kind))
        self.factor_tables.sig_parameters_edited.connect(self._on_factors_edited)

        self.presentation = PresentationMode(self)
        self._shown_once = False
        self._clamp_on_moves_until = 0.0  # see showEvent
        fit_to_screen(self)
        self._restore_geometry()
        self._update_title()
        self._update_summary()
        self._refresh_recent_menu()
        is_default_example = title == PRESETS[DEFAULT_PRESET].title
        if is_default_example:
            self.documents.project_settings = {"preset": DEFAULT_PRESET}
        self.training_panel.apply_defaults(PRESETS[DEFAULT_PRESET].training if is_default_example else None,
                                           ratings.binary, ratings.n_ratings)

    # --- construction ------------------------------------------------------------------------------
    def _build_docks(self):
        # the density filter may restrict what Train learns from (Data ▸ Density and Mean Filter)
        self.training_panel = TrainingPanel(lambda: self.proxy.training_ratings(), self.settings,
                                            why_no_ratings=self._why_no_training_ratings)
        self.training_dock = QDockWidget("Training", self)
        self.training_dock.setObjectName("trainingDock")
        self.training_dock.setWidget(self.training_panel)  # its settings scroll inside it, vertically only
        self.curves_dock = QDockWidget("Loss curves", self)
        self.curves_dock.setObjectName("curvesDock")
        self.curves_dock.setWidget(self.training_panel.curves_widget)
        self.explain_panel = ExplainPanel(self.table)
        self.explain_dock = QDockWidget("Explain a prediction", self)
        self.explain_dock.setObjectName("explainDock")
        self.explain_dock.setWidget(self.explain_panel)
        self.factor_dock = QDockWidget("Factor space", self)
        self.factor_dock.setObjectName("factorDock")
        self.factor_space = FactorSpaceView(self.settings)
        self.factor_dock.setWidget(self.factor_space)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.training_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.curves_dock)
        self.splitDockWidget(self.curves_dock, self.explain_dock, Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.curves_dock, self.factor_dock)
        self.formula_panel = FormulaPanel()
        self.formula_dock = QDockWidget("Cost J", self)
        self.formula_dock.setObjectName("formulaDock")
        formula_scroller = VerticalScrollArea(self.formula_panel)  # long in presentation's type
        # and sideways where the pane is narrowed below its formula's unbreakable parts ("Σr(i,j)=1 (ŷ(i,j)"),
        # which were cut off at its right edge
        formula_scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.formula_dock.setWidget(formula_scroller)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.formula_dock)
        self.tabifyDockWidget(self.explain_dock, self.formula_dock)
        self.explain_dock.raise_()
        self.factor_tables = FactorTables(self.training_panel, self.undo_stack, lambda: self.table.ratings)
        self.grid_splitter.addWidget(self.factor_tables)
        # Room gained or lost goes 3:1 to the grid: with the tables' width fixed, a projector's 1280 × 720 with the
        # Lesson pane open left the grid a strip of 80 pixels beside them.
        self.grid_splitter.setStretchFactor(0, 3)
        self.grid_splitter.setStretchFactor(1, 1)
        self.grid_splitter.setSizes([2 * FACTOR_TABLES_WIDTH, FACTOR_TABLES_WIDTH])
        for pane in range(2):
            self.grid_splitter.setCollapsible(pane, False)  # hidden by the View menu, not dragged away
        self.factor_tables.link_to_grid(self.grid, self.table)
        # the keyboard goes from the grid to the tables beside it, then on to the training panel (Qt's order is the
        # widgets' making: from the grid's last cell it went to the training panel, the panes below and only then
        # to the tables beside the grid)
        QWidget.setTabOrder(self.grid, self.factor_tables.movie_view)
        QWidget.setTabOrder(self.factor_tables.movie_view, self.factor_tables.user_view)
        self.lesson_panel = LessonPanel(self)
        self.lesson_dock = QDockWidget("Lesson", self)
        self.lesson_dock.setObjectName("lessonDock")
        self.lesson_dock.setWidget(self.lesson_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.lesson_dock)
        self.lesson_dock.hide()
        self.factor_dock.visibilityChanged.connect(self._on_factor_dock_shown)
        self.formula_dock.visibilityChanged.connect(self.formula_panel.set_in_view)
        self.curves_dock.visibilityChanged.connect(self.training_panel.loss_plot.set_in_view)
        self.curves_dock.raise_()
        self.resizeDocks([self.curves_dock], [340], Qt.Orientation.Vertical)
        self.resizeDocks([self.training_dock], [400], Qt.Orientation.Horizontal)
        self.resizeDocks([self.curves_dock, self.explain_dock], [640, 360], Qt.Orientation.Horizontal)

    # --- documents -----------------------------------------------------------------------------------
    # The document's lifecycle (open, switch, save, recover) is the DocumentController's; the window shows
    # whatever document it is handed and asks the user the questions.
    @property
    def path(self) -> Path | None:
        """The project Save writes to without asking."""
        return self.documents.path

    @property
    def document_title(self) -> str:
        return self.documents.title

    @property
    def project_settings(self) -> dict:
        return self.documents.project_settings

    def set_document(self, ratings: Ratings, title: str, path: Path | None = None, settings: dict | None = None,
                     model_state: dict | None = None, kind: str = "file") -> bool:
        """Switch to these ratings (lessons, scripts); False, with the window unchanged, when it fails."""
        model = None
        if model_state is not None:
            try:
                model = checked_model_from_state(model_state, ratings)
            except ValueError as error:
                self.message_bar.show_message(f"The saved model could not be restored ({error}); the data is fine.")
        return self.documents.switch_to(Document(ratings, title, path, dict(settings or {}), model, kind=kind))

    def install_document(self, document: Document, keep_history: bool = False):
        """Make every view show ``document`` and forget the one before (called by the DocumentController,
        which puts the previous document back, with its undo history, should this fail half-way)."""
        ratings, settings = document.ratings, dict(document.settings)
        if document.kind != "lesson":
            self.close_lesson()
        self.training_panel.reset()
        self._close_new_user_dialog()  # its towers were trained on the old document
        self.training_panel.loss_plot.clear_runs()  # the epoch axis and the legend belong to the old data
        self.filter_edit.clear()
        self.proxy.clear_filters()
        self.proxy.sort_rows_by("original")
        self.sort_actions.actions()[0].setChecked(True)
        self._installing = True  # _on_ratings_change's work is done here, where a failure stops the switch
        try:
            self.table.set_ratings(ratings, clear_undo=False, rows_token=document.rows_token)
        finally:
            self._installing = False
        if document.model is not None and not keep_history:  # a project's model: trained on the rows it opens with
            self._trained_rows[document.model] = self.table.rows_token
        self.factor_space.reset_for_new_document()
        self.factor_space.set_ratings(ratings)
        self.factor_space.choose_defaults(ratings)  # colouring, neighbours filter
        self.message_bar.hide()
        problems = []
        preset = PRESETS.get(settings.get("preset", "")) if isinstance(settings.get("preset"), str) else None
        training = settings.get("training") if isinstance(settings.get("training"), dict) else None
        if training is None and document.model is not None:
            # a project saved by a script (api.save_project) keeps its model but no panel: the panel shows the
            # model's own settings (it showed the defaults: 200 epochs, mean normalization, beside a model
            # trained 5 epochs with a global mean and movie biases)
            training = {"model": kind_of(document.model), **document.model.get_params()}
        try:
            self.training_panel.apply_defaults(training or (preset.training if preset else None), ratings.binary,
                                               ratings.n_ratings)
        except (ValueError, TypeError, KeyError, IndexError) as error:
            self.training_panel.apply_defaults(None, ratings.binary, ratings.n_ratings)
            problems.append(f"its training settings could not be used ({error}); the defaults are set")
        problem = self.training_panel.restore_feature_tables(settings.get("feature_tables"), ratings)
        if problem:
            problems.append(problem)
        self.training_panel.show_planned_run()
        self.table.set_rows_are_items(bool(settings.get("rows_are_items", True)))
        # the new document from its first cell (the scroll bars kept the old one's place: rows 5,895 of a grid
        # of 9,724 shown, the current cell off-screen)
        self.grid.verticalScrollBar().setValue(0)
        self.grid.horizontalScrollBar().setValue(0)
        if self.presenting:  # on a projector the panes below take what the new grid's rows leave
            QTimer.singleShot(0, self, self.presentation.fit_the_grid)
        # before the model's run, which is numbered after them
        self.training_panel.loss_plot.put_back_earlier_runs([run_of(run) for run in document.earlier_runs])
        if document.model is not None:
            if self._fitting_the_grid(document.model) is not None:
                self.show_restored_model(document.model, document.model_run)
            else:  # put back (a switch that failed) while its rows were not the grid's: in the panel alone
                self.training_panel.show_trained_model(document.model, "its users or movies have changed since",
                                                       document.model_run)
        if isinstance(settings.get("view"), dict):
            try:
                self.apply_view_state(settings["view"])
            except (ValueError, TypeError, KeyError, AttributeError, UnicodeError) as error:
                problems.append(f"its window layout could not be restored ({error})")
        if not keep_history:
            self.undo_stack.clear()  # last: had anything above failed, the history would still match the data
            # clear() leaves an empty stack as it was: one a recovery marked "never saved" (resetClean) would
            # have made every later document count as unsaved
            self.undo_stack.setClean()
        if document.model is not None and not keep_history:  # a project's: trained on the ratings it opens with
            self._trained_steps[document.model] = self._ratings_step()
            if settings.get("model_stale") is True:  # trained before edits the file holds: still says so
                self._stale_when_opened.add(document.model)
        self._follow_stale_training()
        self.explain_panel.refresh()
        self._update_summary()
        self._document_notes = [*document.warnings, *problems]

    def _on_document_switched(self):
        self._update_title()
        if self.compare_dialog is not None:  # (open beside the window: it showed the last document's numbers)
            self.compare_dialog.forget_results_of_other_data()
        if self._document_notes:
            self.message_bar.show_message(" ".join(self._document_notes), kind="info")
        self._document_notes = []

    def show_restored_model(self, model, run: SavedRun | None = None):
        """Show a model saved in a project, as if it had just been trained (``run``: its run's number and settings
        in the loss plot, where the project kept them)."""
        self.training_panel.show_trained_model(model, "restored from the project", run)
        if model.history_:
            self.formula_panel.show_epoch(model, model.history_[-1])
        self.table.set_predictor(model.predictor())
        self._show_factor_tables(model.predictor())
        self.factor_space.show_model(model.predictor(), self.table.ratings)

    def open_preset(self, name: str) -> bool:
        if name not in PRESETS:
            self.show_error("No such example", f"There is no example called {name!r}; choose from "
                                               f"{', '.join(PRESETS)}.")
            return False
        if not self.confirm_discard():
            return False
        if not self.documents.open_preset(name):
            return False
        self.statusBar().showMessage(PRESETS[name].description, 8000)
        return True

    def new_grid(self, ratings: Ratings | None = None) -> bool:
        """File ▸ New: a blank grid (asked for in a dialog unless given); False when cancelled."""
        if not self.confirm_discard():
            return False
        if ratings is None:
            from .ui.new_grid_dialog import NewGridDialog

            dialog = NewGridDialog(self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            ratings = dialog.ratings()
        return self.documents.switch_to(Document(ratings, "Untitled", None, {}, None, kind="new"))

    def open_dialog(self):
        if not self.confirm_discard():
            return
        path = open_file_name(self, self.settings, "Open ratings", OPEN_FILTER)
        if path:
            self.open_file(path, confirm=False)

    def open_file(self, path, confirm: bool = True) -> bool:
        """Open a ratings file or project; on any error the current document stays as it was."""
        if confirm and not self.confirm_discard():
            return False
        if not self.documents.open_file(path):
            return False
        status = self.documents.opened_status
        self.statusBar().showMessage(f"Opened {path}" + (f": {status}" if status else ""), 10000 if status else 5000)
        return True

    def ask_zero_meaning(self, question):
        """Whether a headerless matrix's zeros mean "not rated" (True), are ratings (False) or None (cancelled),
        asked in a preview (the DocumentController asks after reading, before switching)."""
        from .ui.dense_preview import ask_zero_meaning

        return ask_zero_meaning(self, question)

    def choose_table(self, question):
        """Which table of a file holds the ratings, asked in a preview (the DocumentController asks after
        reading, before switching); a TableChoice, or None when cancelled."""
        from .ui.table_preview import ask_for_table

        return ask_for_table(self, question.source, question.error)

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        suggested = str(self.documents.suggested_save_path())
        path, chosen = save_file_name(self, self.settings, "Save as", ";;".join(SAVE_FILTERS), suggested)
        if not path:
            return False
        shape, suffix = SAVE_FILTERS.get(chosen, ("project", PROJECT_SUFFIX))
        path = Path(path)
        if not path.suffix or (path.name == Path(suggested).name and suffix != path.suffix):
            # no suffix typed, or the suggested name kept while another type was chosen: the type's suffix
            path = path.with_suffix(suffix)
        return self.save_to(path, shape)

    def save_to(self, path, shape: str | None = None) -> bool:
        """Write the document; a project (.cfx) becomes the file Save writes to from then on."""
        if not self.documents.save_to(path, shape):
            return False
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def export_code(self, suffix: str) -> list:
        """File ▸ Export as Python Script… / Notebook…: the files written (none when cancelled)."""
        from .ui.export_code import export_dialog

        return export_dialog(self, suffix)

    def current_settings(self) -> dict:
        """Settings stored in a project: layout and the training panel's settings."""
        model = self._model_to_save()
        # what a recovery file says of where it came from is not the document's (a project saved after a recovery
        # carried it on, and suggested the old project for its every Save As)
        kept = {key: value for key, value in self.project_settings.items() if key not in RECOVERY_KEYS}
        return {**kept, "rows_are_items": self.table.rows_are_items,
                "training": self.training_panel.settings(), "view": self.view_state(),
                "feature_tables": self.training_panel.feature_tables_state(),
                "model_stale": model is not None and self.model_is_stale(model)}

    def model_is_stale(self, model) -> bool:
        """Whether the grid's ratings differ from those ``model`` trained on (its J and predictions describe
        older ratings): edited since its run, here or before its project was saved."""
        return model in self._stale_when_opened or \
            self._ratings_step() is not self._trained_steps.get(model, _UNKNOWN_STEP)

    def view_state(self) -> dict:
        """How the window looks, saved with a session so that students open what the teacher saw."""
        factor_space = self.factor_space
        # the dock layout to keep is the everyday one, not presentation mode's reduced one
        layout = self.presentation.layout_before if self.presenting else self.saveState()
        return {
            "layout": bytes(layout.toBase64()).decode("ascii"), "presentation": self.presenting,
            "factor_space_in_front": bool(factor_space._tab_in_front and self.factor_dock.isVisible()),
            "factor_space": {"show": factor_space.show_choice.currentText(),
                             "projection": factor_space.projection.currentData(),
                             "colour_by": factor_space.colour_by.currentData(),
                             # the one genre coloured, and the side tab (Biases, One-hot × W) the class looked at
                             "genre": factor_space.genre_highlight.currentData(),
                             "side_tab": factor_space.side_tabs.currentIndex()},
            "grid": {**self.proxy.view_state(), "name_filter": self.filter_edit.text()},
        }

    def apply_view_state(self, view: dict):
        if "layout" in view:
            self.restoreState(QByteArray.fromBase64(view["layout"].encode("ascii")))
        choices = view.get("factor_space", {})
        factor_space = self.factor_space
        if choices.get("show") is not None:
            factor_space.show_choice.setCurrentText(choices["show"])
        for box, key in ((factor_space.projection, "projection"), (factor_space.colour_by, "colour_by"),
                         (factor_space.genre_highlight, "genre")):
            index = box.findData(choices.get(key)) if choices.get(key) is not None else -1
            if index >= 0:
                box.setCurrentIndex(index)
        side_tab = choices.get("side_tab")
        if isinstance(side_tab, int) and 0 <= side_tab < factor_space.side_tabs.count():
            factor_space.side_tabs.setCurrentIndex(side_tab)
        if view.get("factor_space_in_front"):
            self.factor_dock.raise_()
        grid = view.get("grid")
        if isinstance(grid, dict):  # the rows in the order and the filters the teacher had
            self.filter_edit.setText(str(grid.get("name_filter", "")))
            self.proxy.apply_view_state(grid)
            key = self.proxy.sort_key
            for action, shown in zip(self.sort_actions.actions(), ("original", "name", "count", "mean")):
                action.setChecked(shown == key)
        self.set_presentation(bool(view.get("presentation", False)))

    def current_model_state(self) -> dict | None:
        """What a project saves of the trained model: the last run's, or while a run goes on the last one that
        ended (a run's parameters change under it); None without one that fits the data's shape."""
        model = self._model_to_save()
        return model.get_state() if model is not None else None

    def project_to_save(self, settings: dict) -> Project:
        """The project a save (or a recovery file) writes now: the grid's ratings, ``settings``, the model
        current_model_state keeps and the loss plot's runs around it (TrainingPanel.runs_of)."""
        model = self._model_to_save()
        earlier_runs, model_run = self.training_panel.runs_of(model)
        return Project(self.table.ratings, settings, model.get_state() if model is not None else None,
                       earlier_runs=earlier_runs, model_run=model_run)

    def saves_a_model(self) -> bool:
        """Whether a project saved now keeps a trained model."""
        return self._model_to_save() is not None

    def _model_to_save(self):
        panel = self.training_panel
        return self._fitting_the_grid(panel.finished_model if panel.controller.is_active else panel.model)

    def _fitting_the_grid(self, model):
        """``model`` when it has trained and knows the grid's users and movies (none added or removed since),
        else None."""
        if model is None or not getattr(model, "history_", None):
            return None
        if (model.n_users_, model.n_items_) != (self.table.ratings.n_users, self.table.ratings.n_items):
            return None
        if not self._rows_as_trained(model):
            return None
        return model

    def _rows_as_trained(self, model) -> bool:
        """Whether the grid's rows are, one for one, the users and movies ``model`` trained on: the rows' token
        then is the one they had (RatingTableModel.rows_token: ratings typed and renames keep it, adding or
        removing users or movies gives a new one, undoing it the old one back). The counts alone let a user
        removed and another added pass: the grid showed Carol what the model had learned of Bob, and Save kept
        that model as the grid's."""
        return self._trained_rows.get(model) is self.table.rows_token

    def model_left_out(self) -> str:
        """Why a project saved now keeps another model than the one shown, or none; "" when it keeps that one."""
        panel = self.training_panel
        if panel.controller.is_active:
            if self._model_to_save() is not None:
                return "training is still going on: the file keeps the model of the last run that ended"
            return "training is still going on: the file has no model (save again when the run has ended)"
        if panel.model is not None and self._model_to_save() is None:
            return "the trained model is not in it (users or movies were added or removed after its training)"
        return ""

    @property
    def has_unsaved_changes(self) -> bool:
        return not self.undo_stack.isClean()

    def confirm_discard(self) -> bool:
        """True when it is fine to replace the current data: nothing unsaved, or saved, or discarded."""
        if not self.has_unsaved_changes:
            return True
        answer = self.ask_save_changes()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def ask_save_changes(self):
        return QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to “{self.document_title}” first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )

    def show_error(self, title: str, text: str):
        self.statusBar().showMessage(text.splitlines()[0], 10000)
        self.message_bar.show_message(text.replace("\n", " "), kind="error")
        if not os.environ.get("CFEXPLORER_NO_DIALOGS"):
            QMessageBox.warning(self, title, text)

    # --- reactions ------------------------------------------------------------------------------------
    @Slot(str, object, object)
    def _on_cell_input_rejected(self, message: str, suggestion, edit):
        callback = None
        if suggestion is not None and edit is not None:
            callback = lambda: self.table.request_edit(edit)  # noqa: E731
        self._on_input_rejected(message, callback, suggestion)

    def _on_input_rejected(self, message: str, callback, suggestion=None):
        if callback is None:
            self.message_bar.show_message(message, kind="error")
        else:
            action = f"Use {suggestion:g}" if suggestion is not None else "Round and paste"
            self.message_bar.show_message(message, kind="error", action_text=action,
                                          callback=self._fix_for_these_cells(callback))
        self.statusBar().showMessage(message, 8000)

    def _fix_for_these_cells(self, apply):
        """A suggested fix names cells by position: it applies only while the same users and movies stand
        at those positions (a movie removed in between would move it onto another movie)."""
        made_for = self.table.ratings

        def fix():
            now = self.table.ratings
            same_entries = now is made_for or (
                np.array_equal(now.user_labels, made_for.user_labels)
                and np.array_equal(now.item_labels, made_for.item_labels))
            if not same_entries:
                self._on_input_rejected("Users or movies were added, removed or renamed since; nothing was "
                                        "changed. Type the rating again.", None)
                return
            apply()
        return fix

    def _on_predictor_change(self, predictor):
        if predictor is None:  # hiding predictions (a failed run, Reset) must not wait
            self._grid_refresh_timer.stop()
            self._pending_predictor = None
            self._pending_factor_frame = None
            self.table.set_predictor(None)
            self._show_factor_tables(None)
            self.factor_space.clear_trained()
            self.formula_panel.clear()
            self.explain_panel.refresh()
            return
        self._pending_predictor = predictor
        if not self._grid_refresh_timer.isActive():
            self._grid_refresh_timer.start()

    def _show_pending_predictor(self, factor_space_delay_ms: int = GRID_REFRESH_MS // 2):
        self._grid_refresh_timer.stop()
        if self._pending_predictor is not None and not self._rows_as_trained(self.training_panel.model):
            # users or movies added or removed since the run started: its rows are no longer the grid's (with
            # as many, the grid showed one user's predictions in another's row)
            self._pending_predictor = None
        if self._pending_predictor is not None:
            self.table.set_predictor(self._pending_predictor)
            self._pending_tables = self._pending_predictor
            self._tables_timer.start()
            # The factor space draws apart from the grid: painted with the grid (20 ms for 160 cells while
            # training) its frame (another 20) made one stall of 50 ms; apart, each is its own short one.
            self._pending_factor_frame = self._pending_predictor
            self._factor_frame_timer.start(factor_space_delay_ms)
            self._pending_predictor = None
            self.explain_panel.refresh_soon()

    def _show_pending_tables(self):
        predictor, self._pending_tables = self._pending_tables, None
        if predictor is not None:
            self.factor_tables.show_predictor(predictor)

    def _show_factor_tables(self, predictor):
        """Show ``predictor`` in the factor tables at once (an update waiting for its pass is dropped)."""
        self._pending_tables = None
        self._tables_timer.stop()
        self.factor_tables.show_predictor(predictor)

    def _show_pending_factor_frame(self, in_passes: bool = True):
        """The frame of a run waiting for its turn: projected now and drawn on the next pass (a run's last
        one too: drawn with its projection it made one stall of 45-60 ms beside 59,047 movies), or with
        ``in_passes`` False drawn at once."""
        predictor, self._pending_factor_frame = self._pending_factor_frame, None
        if predictor is not None:  # not drawn yet, and not forgotten since (Reset, a failed run)
            self.factor_space.show_model(predictor, self.table.ratings, in_passes=in_passes)
        if not in_passes:
            self.factor_space.draw_pending_frame()

    def _on_factor_dock_shown(self, in_front: bool):
        if in_front:  # a frame still waiting for its turn is the one to show, not the one before it
            self._show_pending_factor_frame()
        self.factor_space.set_tab_in_front(in_front)

    def _on_run_ended(self, model, reason):
        if reason in self.training_panel.LEFT_BEHIND:
            # A run left behind: what it left waiting for the next refresh is not wanted any more.
            self._grid_refresh_timer.stop()
            self._pending_predictor = self._pending_factor_frame = None
        else:
            # The last update of a run must show at once, not when the throttled refresh comes round; its
            # factor-space frame on the event loop's next pass, after the grid has painted (together: 60 ms
            # on MovieLens 25M's shape).
            self._show_pending_predictor(factor_space_delay_ms=0)
        self.factor_space.end_run(None if reason in self.training_panel.LEFT_BEHIND else model)
        self.explain_panel.refresh_soon()
        if self.has_unsaved_changes:  # the recovery file gets the model this run trained, not only the edits
            self.documents.on_unsaved_change()

    def _drop_the_last_runs_pending_views(self, *_):
        """A run starts before the last one's tables and frame had their pass: the new run's first update
        replaces them. Shown with the new, unfitted model, the tables lost their bias columns and got them back
        at that first update, two resets of 9,724 rows (15-20 ms) as Train was clicked."""
        self._pending_tables = self._pending_factor_frame = None
        self._tables_timer.stop()
        self._factor_frame_timer.stop()

    def _on_factors_edited(self, model):
        """A factor typed over (or its undo): everything that follows from the parameters, at once."""
        predictor = model.predictor()
        self.table.set_predictor(predictor)
        self._show_factor_tables(predictor)
        record = self.factor_tables.cost_after_edit(model)
        self.factor_space.show_model(predictor, self.table.ratings)
        self.formula_panel.show_epoch(model, record)
        self.training_panel.cost_label.setText(self.training_panel.describe_cost(record) + "   (factors edited)")
        self.explain_panel.refresh()

    def _go_to_cell(self, user: int, item: int):
        """Make (user, movie)'s cell current in the grid and bring it into view, where the grid shows it (a filter
        may hide its row or column: then the explanation alone follows)."""
        row, column = self.table.position(user, item)
        shown = self.proxy.mapFromSource(self.table.index(row, column))
        if shown.isValid():
            self.grid.setCurrentIndex(shown)
            self.grid.scrollTo(shown)
        else:
            self.explain_panel.show_cell(user, item)

    def _on_current_cell_change(self, current, previous):
        if current.isValid():
            source = self.proxy.mapToSource(current)
            self.explain_panel.show_cell(*self.table.cell(source.row(), source.column()))

    def _on_factor_selection_change(self, kind, positions):
        self._selecting_from_factor_space = True  # the grid's echo of this selection is not news
        try:
            self.grid.select_entries(ITEMS if kind == ITEM_KIND else USERS, positions)
        finally:
            self._selecting_from_factor_space = False

    def _on_grid_entries_selected(self, users, items):
        if not self._selecting_from_factor_space:
            self.factor_space.select_grid_entries(users, items)

    def _on_ratings_change(self):
        if self._installing:
            return
        self.factor_space.set_ratings(self.table.ratings)
        self.factor_tables.follow_ratings()
        self._follow_the_grid_in_the_factor_space()
        self._show_the_model_again_if_it_fits()
        self.explain_panel.refresh()
        self._update_title()
        self._update_summary()

    def _follow_the_grid_with_the_model(self, *_):
        if not self._installing:
            self._follow_the_grid_in_the_factor_space()
            self._show_the_model_again_if_it_fits()

    def _follow_the_grid_in_the_factor_space(self):
        """The trained factors shown under the grid's names: a movie renamed is labelled, found and linked by its
        new name (its point kept the old one, and Find said there was no such movie); a user or movie removed
        takes them down, as the grid's predictions and the factor tables go (its point stayed, selected and
        clickable; Undo brings them back). One added leaves them: every point still has its row. A run going on
        keeps its frames (its stale notice says the ratings changed); imported factors are linked by name."""
        view, panel = self.factor_space, self.training_panel
        shown = view.embedding
        if panel.controller.is_active or shown is None or shown.source != "trained here":
            return
        ratings = self.table.ratings
        model = self._fitting_the_grid(panel.model)
        if model is None:
            if view.has_rows_gone_from_the_grid():
                view.clear_trained()
            return
        before = view.rows_from
        if before is not None and before.user_labels is ratings.user_labels and \
                before.item_labels is ratings.item_labels and before.item_info is ratings.item_info:
            return  # a rating typed: the same labels (made again and compared, 62 ms on MovieLens 25M's shape)
        if (np.array_equal(shown.items.names, ratings.item_titles())
                and np.array_equal(shown.users.names, ratings.user_names())):
            return  # the names, and the links by them, hold
        view.show_the_frame_again(model.predictor(), ratings)

    def _show_the_model_again_if_it_fits(self):
        """Adding a user or a movie takes the last run's predictions and factors down (the model has no row
        for them); undoing it back to the shape the model knows shows them again."""
        panel = self.training_panel
        if panel.controller.is_active or self.table.has_predictions or self._pending_predictor is not None:
            return
        # the shape from the model itself: a predictor (a copy of every factor) only once it fits
        model = self._fitting_the_grid(panel.model)
        if model is not None:
            self._on_predictor_change(model.predictor())

    def _ratings_step(self):
        """The last ratings edit below the undo stack's position (None: the ratings as opened). The stack is
        one line of history, so this command, while it is on it, names the ratings the grid holds. A rename is
        none: after one, a model's J and predictions still describe the grid's ratings (it said "edited after
        this training started… Retrain")."""
        for position in range(self.undo_stack.index() - 1, -1, -1):
            command = self.undo_stack.command(position)
            if isinstance(command, EditCommand) and command.changes_ratings:
                return command
        return None

    def _remember_trained_ratings(self, model, _ratings):
        self._trained_steps[model] = self._ratings_step()
        self._trained_rows[model] = self.table.rows_token

    def _follow_stale_training(self, *_):
        if not self._installing:
            model = self.training_panel.model
            self.training_panel.set_stale(model is not None and self.model_is_stale(model))

    def _update_title(self, *_):
        self.setWindowTitle(f"{self.document_title}[*] — CF Explorer")
        self.setWindowModified(self.has_unsaved_changes)

    def _why_no_training_ratings(self) -> str:
        if self.table.ratings.n_ratings and self.proxy.restricts_training:
            return ("The density filter keeps no ratings to train on: lower its minimums or untick \"Train only on "
                    "the ratings kept\" (Data ▸ Density and Mean Filter).")
        return "There are no ratings to train on: type some into the grid first."

    def _update_summary(self):
        text = ratings_summary(self.table.ratings)  # what `cfexplorer info` prints first
        limits = self.proxy.min_ratings
        if any(limits.values()) or any(v is not None for v in self.proxy.min_mean.values()):
            kept = self.proxy.shown_density()
            text += f" · filtered to {kept.users} × {kept.items}, density {kept.density:.1%}"
            if self.proxy.restricts_training:
                text += f" · Train uses these {kept.ratings:,} ratings only"
        self.summary_label.setText(text)

    # --- settings, recent files, drag and drop -----------------------------------------------------------
    def set_factor_tables_beside_grid(self, on: bool):
        """View ▸ Factor Tables Beside the Grid: the pane shown or hidden, and remembered for the next start."""
        self.factor_tables.setVisible(on)
        self.settings.setValue(FACTOR_TABLES_SETTING, bool(on))
        if on:
            self.factor_tables.show_kept()
            self.factor_tables.follow_grid_scroll()

    def _restore_geometry(self):
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            clamp_to_screen(self)  # saved on a larger screen (a desk screen before the projector)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)

    def recent_files(self) -> list[str]:
        return self.documents.recent.files()

    def _refresh_recent_menu(self):
        self.recent_menu.clear()
        files = self.recent_files()
        for number, name in enumerate(files, start=1):
            action = self.recent_menu.addAction(f"&{number} {name}")
            action.triggered.connect(lambda checked=False, p=name: self.open_file(p))
        self.recent_menu.setEnabled(bool(files))

    @qt_virtual(False)
    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab and Shift+Tab pass over the panes behind other panes' tabs: Qt keeps their widgets shown, off the
        window, and the focus went through the factor space's eighteen controls with nothing on screen marked.
        A control reached inside a scrolling pane is scrolled into view."""
        first = QApplication.focusWidget()
        moved = super().focusNextPrevChild(next)
        for _ in range(FOCUS_SKIP_LIMIT):
            now = QApplication.focusWidget()
            if now is None or now is first or not _out_of_sight(self, now):
                break
            super().focusNextPrevChild(next)
        now = QApplication.focusWidget()
        try:
            area = _scroll_area_holding(self, now)
        except RuntimeError:  # see _out_of_sight
            area = None
        if area is not None:
            area.ensureWidgetVisible(now)
        return moved

    @guard_event
    def keyPressEvent(self, event):
        """Escape leaves presentation mode, as full-screen views do (F11 alone did); an editor or a dialog that
        takes Escape itself keeps it."""
        if event.key() == Qt.Key.Key_Escape and self.presenting:
            self.set_presentation(False)
            event.accept()
            return
        super().keyPressEvent(event)

    @guard_event
    def showEvent(self, event):
        super().showEvent(event)
        if not self._shown_once:  # the frame around the window exists now: keep it on the screen too
            self._shown_once = True
            QTimer.singleShot(0, lambda: clamp_to_screen(self))
            # A window manager frames the window after it has mapped it, when it gets to it (openbox: after the
            # first pass, and a 1280×720 window's status bar stayed under the screen's edge): the window is moved
            # into its frame then, and kept on the screen with it.
            self._clamp_on_moves_until = time.monotonic() + FRAME_SETTLES_S

    @guard_event
    def moveEvent(self, event):
        super().moveEvent(event)
        if time.monotonic() < self._clamp_on_moves_until:
            clamp_to_screen(self)

    @guard_event
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    @guard_event
    def dropEvent(self, event):
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.open_file(files[0]))

    @guard_event
    def closeEvent(self, event):
        if not self.confirm_discard():
            event.ignore()
            return
        self.shut_down()
        event.accept()

    def shut_down(self, deliberate: bool = True):
        """Everything that must happen before the window goes, each step on its own: one that fails must
        not keep a training thread alive past its window (Qt aborts when a running QThread is destroyed).
        ``deliberate`` False: the process ends with the window open (release_windows), so its recovery copy
        and the saved layout stay as they are."""
        steps = [self.training_panel.shutdown, self.factor_space.shutdown]
        if self.compare_dialog is not None:
            steps.append(self.compare_dialog.shut_down_with_window)
        if deliberate:  # the user saved or chose to discard, and the layout is theirs to keep
            steps += [self.documents.on_clean, self._save_window_layout]
        steps.append(self.documents.shutdown)  # after on_clean: it gives up the recovery file's lock
        for step in steps:
            try:
                step()
            except Exception:
                report_current_exception(f"closing the window ({getattr(step, '__name__', step)})")

    def _save_window_layout(self):
        if self.presenting:
            self.set_presentation(False)  # the saved layout and the app's font are the everyday ones
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())

    # --- crash recovery ----------------------------------------------------------------------------------
    @property
    def recovery_path(self) -> Path:
        return self.documents.recovery.path

    def write_recovery(self) -> bool:
        """Copy unsaved edits to this window's recovery file (in the background); True when started."""
        return self.documents.write_recovery()

    def remove_recovery(self):
        self.documents.recovery.remove()

    def offer_recovery(self, restore: bool | None = None) -> bool:
        """At start: if an earlier session ended with unsaved edits, offer them back. ``restore`` answers
        without asking (tests, scripts). True when recovered data was opened."""
        documents = self.documents
        for path in documents.recovery_candidates():
            document = documents.open_recovery(path)
            if document is None:
                continue  # set aside, with a message
            answer = restore
            if answer is None:
                from datetime import datetime

                when = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
                title = document.title.removeprefix("Recovered ")
                reply = QMessageBox.question(
                    self, "Recover unsaved work?",
                    f"CF Explorer did not close normally. Unsaved edits of “{title}” from {when} were kept "
                    f"({document.ratings.n_users} users × {document.ratings.n_items} movies). Open them? "
                    "(Cancel keeps them for the next start.)",
                    QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Discard
                    | QMessageBox.StandardButton.Cancel)
                if reply == QMessageBox.StandardButton.Cancel:  # Escape too: decided later, nothing lost
                    continue
                answer = reply == QMessageBox.StandardButton.Open
            if not answer or not documents.switch_to(document):
                path.unlink(missing_ok=True)
                continue
            self.undo_stack.resetClean()  # recovered edits are not saved anywhere yet
            self._update_title()
            # this window's own copy first, then the dead instance's can go
            if documents.write_recovery():
                documents.recovery.wait()
            path.unlink(missing_ok=True)
            self.message_bar.show_message(f"Recovered the unsaved edits of “{document.title[10:]}”. Save them to "
                                          "keep them.", kind="info")
            return True
        return False

    @property
    def presenting(self) -> bool:
        return self.act_presentation.isChecked()

    def set_presentation(self, on: bool):
        """View ▸ Presentation Mode (F11): for a projector at the back of a lecture hall (ui/presentation.py)."""
        if self.act_presentation.isChecked() != on:
            self.act_presentation.setChecked(on)  # toggled() comes back here
            return
        self.presentation.set(on)

    def start_lesson(self, index: int) -> bool:
        """Help ▸ Lessons: set up the lesson's first step and show the lesson panel."""
        if not self.lesson_panel.start(index):
            return False
        self.lesson_dock.show()
        self.lesson_dock.raise_()
        return True

    def close_lesson(self):
        """A document that is not the lesson's was opened: the lesson pane goes with the lesson."""
        if self.lesson_panel.lesson is not None:
            self.lesson_panel.stop()
        self.lesson_dock.hide()

    def run_lesson_to_end(self, index: int, timeout_s: float = 120.0):
        """Every step of a lesson, each training run waited for (screenshots, demonstrations)."""
        self.start_lesson(index)
        lesson = LESSONS[index]
        for step_index in range(len(lesson.steps)):
            if step_index:
                self.lesson_panel.next()
            if lesson.steps[step_index].trains:
                self.wait_for_training(timeout_s)

    def show_compare_dialog(self):
        """The comparison window (one per main window, kept between uses so its results stay)."""
        from .ui.compare_dialog import CompareDialog

        if self.compare_dialog is None:
            self.compare_dialog = CompareDialog(lambda: self.table.ratings, self.training_panel.current_candidate, self)
        else:
            self.compare_dialog.refresh_choices()
            self.compare_dialog.forget_results_of_other_data()
        self.compare_dialog.show()
        self.compare_dialog.raise_()
        return self.compare_dialog

    def show_new_user_dialog(self):
        """Training ▸ Recommend for a New User…: needs a trained content-based model (its user tower)."""
        from .core.content import ContentBased
        from .ui.new_user_dialog import NewUserDialog

        model = self.training_panel.model
        if not isinstance(model, ContentBased):
            panel = self.training_panel
            self.message_bar.show_message(
                "Train the content-based model first: it describes a new user by features, which the other "
                "models do not read.", kind="error", action_text="Choose it",
                callback=lambda: panel.model_kind.setCurrentIndex(panel.model_kind.findData("content")))
            return None
        if self.training_panel.controller.is_active or not getattr(model, "history_", None):
            # while a run is on, its towers change in another thread
            self.message_bar.show_message("Wait until the content-based model has finished training (or stop "
                                          "it): the form reads its towers.", kind="error")
            return None
        self._close_new_user_dialog()
        self.new_user_dialog = NewUserDialog(model, self.table.ratings.item_titles(), self)
        self.new_user_dialog.show()
        return self.new_user_dialog

    def _close_new_user_dialog(self):
        if self.new_user_dialog is not None:
            self.new_user_dialog.close()
            self.new_user_dialog.deleteLater()
            self.new_user_dialog = None

    def train_and_wait(self, timeout_s: float = 120.0) -> bool:
        """Train with the current settings and return when the run ends (screenshots, scripts)."""
        return self.training_panel.train() and self.wait_for_training(timeout_s)

    def wait_for_training(self, timeout_s: float = 120.0) -> bool:
        """Return when the current run ends (its end arrives as a queued signal, so none is missed), its last
        frame drawn in the factor space."""
        from PySide6.QtCore import QEventLoop

        if not self.training_panel.controller.is_active:
            return True
        loop = QEventLoop()
        self.training_panel.sig_run_ended.connect(loop.quit)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        self.training_panel.sig_run_ended.disconnect(loop.quit)
        # the run's last tables, frame and explanation, each waiting for a pass of its own: shown now, for the caller
        self._show_pending_tables()
        self._show_pending_factor_frame(in_passes=False)
        self.explain_panel.refresh_if_due()
        return not self.training_panel.controller.is_active

    # --- help ----------------------------------------------------------------------------------------------
    def about(self):
        QMessageBox.about(self, "About CF Explorer",
                          f"<b>CF Explorer {__version__}</b><p>See collaborative filtering work: edit ratings, "
                          "train a factorization, inspect what it learned.</p>"
                          f"<p><small>Training runs on {kernels.describe()}.</small></p>")

    def show_shortcuts(self):
        QMessageBox.information(self, "Keyboard shortcuts", self.shortcuts_html())

    def shortcuts_html(self) -> str:
        """Every action with a key, and its keys, as a table (Help ▸ Keyboard Shortcuts)."""
        listed = []  # (name, keys)
        for action in self.findChildren(QAction):
            # every key of an action (Redo has two), and Undo and Redo by their short names: their menu text
            # names the edit they would undo or redo ("Redo Paste") at the moment the list is opened
            keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts())
            name = action.iconText() if action in (self.act_undo, self.act_redo) else action.text().replace("&", "")
            if keys and name:
                listed.append((name, keys))
        listed += TABLE_KEYS  # keys no action has: the tables' own (ui/table_focus.py), which nothing else told
        rows = {f"<tr><td>{html.escape(name)}</td><td><b>{html.escape(keys)}</b></td></tr>" for name, keys in listed}
        return "<table>" + "".join(sorted(rows)) + "</table>"


# --- entry points ----------------------------------------------------------------------------------------
# Measured with benchmarks/bench_gui_stall.py (Adam on MovieLens latest-small): the longest GUI stall
# was 1.76 s at Python's default 5 ms, 0.32 s at 0.2 ms, and no better below that; what remains are
# single GIL-holding numpy/scipy calls in the worker.
GIL_SWITCH_INTERVAL_S = 0.0002
FRAME_SETTLES_S = 3.0  # see MainWindow.showEvent


def one_blas_thread_per_call() -> None:
    """Numpy's BLAS runs each call in the thread that makes it (cfexplorer/core/threads.py says why)."""
    from .core.threads import choose_blas_threads

    choose_blas_threads()


def make_application(argv=None) -> QApplication:
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    # The GUI thread needs the GIL for each call from Qt into Python (hundreds per repaint); with the
    # training thread busy, each waits for a hand-over, so a short interval keeps painting moving.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    keep_freed_memory()  # before the training and reading threads start: they share its one heap
    one_blas_thread_per_call()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    if not hasattr(app, "gui_thread_garbage_collector"):
        # Python's cyclic collector runs in whichever thread allocates; if that is the training thread
        # and the garbage holds Qt objects, their destructors run there and deadlock with the GUI
        # thread (seen in gdb: QObject::~QObject in the worker waiting for the GIL while the GUI thread
        # waits for Qt's connection mutex). Collect on a timer in the GUI thread instead.
        from pyqtgraph.util.garbage_collector import GarbageCollector

        app.gui_thread_garbage_collector = GarbageCollector(interval=0.5)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("CF Explorer")
    app.setApplicationVersion(__version__)
    return app


def release_windows() -> None:
    """Destroy every main window still there while Python is whole: after run_gui's event loop, and at exit
    for a script that made a window and ended with it open. Left to the interpreter's exit (run_gui's window
    outlives its return, held in reference cycles by its signal connections), a window is destroyed while the
    modules are being torn down: its plots' items call back into Python from their destructors, and PySide6
    crashed reporting what failed there (gdb: PepException_GetArgs under QGraphicsScene::clear; 3 exits in 20
    of the test's hammered transport keys)."""
    app = QApplication.instance()
    if app is None:
        return
    for widget in app.topLevelWidgets():
        if isinstance(widget, MainWindow) and shiboken6.isValid(widget):
            widget.shut_down(deliberate=False)  # its training threads end before their QThread objects go
            shiboken6.delete(widget)


atexit.register(release_windows)  # exit hooks run before the interpreter starts tearing modules down


def finish_start():
    """Once the window is on screen: load the lazily imported modules (pandas, scipy.sparse), so that opening a
    file or training does not wait for them, then freeze what the start made. Modules, classes and functions
    (about 60,000 objects) live as long as the process; left in the collector's younger generations, one
    collection scanned them all again in the middle of a training run, 60-70 ms (a run's longest stall).
    Frozen, collections look only at what the app makes afterwards; nothing made later is frozen."""
    load_now()
    gc.collect()
    gc.freeze()


def build_window(file: str | None = None, preset: str | None = None) -> MainWindow:
    window = MainWindow()
    if preset:
        window.open_preset(preset)
    if file:
        window.open_file(file, confirm=False)
    return window


def run_gui(file: str | None = None, preset: str | None = None) -> int:
    from .ui.error_dialog import ErrorReporter

    if preset is not None and preset not in PRESETS:
        print(f"cfexplorer: error: no preset {preset!r}; choose from {', '.join(PRESETS)}", file=sys.stderr)
        return 2
    if file is not None:
        # a path that names no file is said here, before a window opens; what a file holds, the window says
        from .io.errors import RatingsFileError
        from .io.limits import check_regular_file

        try:
            check_regular_file(file)
        except RatingsFileError as error:
            print(f"cfexplorer: error: {error}", file=sys.stderr)
            return 2
    app = make_application()
    window = build_window(file, preset)
    reporter = ErrorReporter(window).install()
    window.show()
    QTimer.singleShot(0, finish_start)
    if os.environ.get("CFEXPLORER_NO_DIALOGS") != "1":
        QTimer.singleShot(0, window.offer_recovery)
    try:
        return app.exec()
    finally:
        release_windows()
        reporter.uninstall()
