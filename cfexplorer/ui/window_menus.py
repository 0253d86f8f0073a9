"""The main window's commands: each action's name, shortcut and tip, and where it sits in the menus and the
toolbar, set on the window as Qt Designer's setupUi does. The window's methods do the work."""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar

from ..core.edits import ITEMS, USERS
from ..io.presets import PRESETS
from .lessons import LESSONS

FACTOR_TABLES_SETTING = "view/factor_tables_beside_grid"  # View ▸ Factor Tables Beside the Grid, remembered


def make_action(window, text, slot, shortcut=None, tip=None, checkable=False, widget_only=False):
    """A QAction of ``window`` that calls ``slot`` (given the new state when ``checkable``); ``widget_only``
    binds its shortcut to the grid alone."""
    action = QAction(text, window)
    if shortcut is not None:
        if isinstance(shortcut, (list, tuple)):
            action.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    if checkable:
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda checked=False: slot())
    if widget_only:
        # Grid-only shortcuts, so that Delete and Ctrl+C/V in the filter box still edit its text.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.grid.addAction(action)
    return action


def setup_actions(window):
    """Every command of the window as ``window.act_*``, with its shortcut and tip."""
    S = QKeySequence.StandardKey
    act = functools.partial(make_action, window)
    window.act_new = act("&New…", window.new_grid, S.New,
                         "A blank grid of users × movies on a chosen scale")
    window.act_open = act("&Open…", window.open_dialog, S.Open, "Open a ratings file or project")
    window.act_save = act("&Save", window.save, S.Save, "Save the ratings and settings")
    window.act_save_as = act("Save &As…", window.save_as, S.SaveAs, "Save in a chosen file and format")
    window.act_export_script = act("Export as Python &Script…", lambda: window.export_code(".py"),
                                   tip="The current run as a Python script that trains it again")
    window.act_export_notebook = act("Export as &Notebook…", lambda: window.export_code(".ipynb"),
                                     tip="The current run as a Jupyter notebook that trains it again")
    window.act_quit = act("&Quit", window.close, S.Quit)
    window.act_undo = window.undo_stack.createUndoAction(window, "&Undo")
    window.act_undo.setShortcut(S.Undo)
    window.act_redo = window.undo_stack.createRedoAction(window, "&Redo")
    # Both spreadsheet habits; S.Redo is Ctrl+Shift+Z on Linux, and a key bound twice to one action
    # is ambiguous to Qt, which then triggers nothing.
    window.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    # The menu says what would be undone ("Undo Add user Zed"), so does the tooltip; the toolbar keeps one
    # word, or every button after it moved sideways at each edit.
    window.act_undo.setIconText("Undo")
    window.act_redo.setIconText("Redo")
    window.act_copy = act("&Copy", window.copy, S.Copy, "Copy the selected cells", widget_only=True)
    window.act_paste = act("&Paste", window.paste, S.Paste, "Paste a block from a spreadsheet",
                           widget_only=True)
    window.act_clear = act("C&lear Cells", window.grid.clear_selected_cells, [QKeySequence.StandardKey.Delete],
                           "Make the selected cells not rated (?)", widget_only=True)
    window.act_fill_down = act("Fill &Down", window.grid.fill_down, "Ctrl+D",
                               "Copy the top cell of the selection downwards", widget_only=True)
    window.act_add_user = act("Add &User…", window.add_user, "Ctrl+Shift+U", "Add a user")
    window.act_add_movie = act("Add &Movie…", window.add_movie, "Ctrl+Shift+M", "Add a movie")
    window.act_rename_user = act("Rename User…", lambda: window.rename_current(USERS),
                                 tip="Rename the user of the current cell")
    window.act_rename_movie = act("Rename Movie…", lambda: window.rename_current(ITEMS),
                                  tip="Rename the movie of the current cell")
    window.act_remove_users = act("Remove Selected Users", lambda: window.remove_selected(USERS),
                                  tip="Remove the users of the selected cells")
    window.act_remove_movies = act("Remove Selected Movies", lambda: window.remove_selected(ITEMS),
                                   tip="Remove the movies of the selected cells")
    window.act_swap = act("&Swap Rows and Columns", window.swap_axes, "Ctrl+T",
                          "Movies × users (the course's layout) or users × movies")
    window.act_predictions = act("Show &Predictions", window.table.set_show_predictions, "Ctrl+P",
                                 "Show predicted ratings in the ? cells", checkable=True)
    window.act_predictions.setChecked(True)
    window.act_residuals = act("Show &Residuals", window.table.set_show_residuals, tip="Show y − ŷ "
                               "beside each known rating", checkable=True)
    # "4.5 (−1.25)" is wider than "4.5": a small grid's columns fit the texts shown
    window.act_residuals.toggled.connect(lambda _: window.grid.fit_small_grids())
    window.act_uncertainty = act("Shade by &Uncertainty", window.table.set_shade_uncertainty,
                                 tip="Predicted cells turn grey the less sure the model is of them "
                                 "(Bayesian MF)", checkable=True)
    panel = window.training_panel
    window.act_train = act("&Train", panel.train, "F5", "Start a new training run")
    window.act_pause = act("&Pause / Resume", panel.toggle_pause, "F6")
    window.act_step = act("&Step One Epoch", panel.step, "F7")
    window.act_stop = act("St&op", panel.stop, "F8")
    window.act_reset = act("&Reset Model", panel.reset, tip="Forget the trained model")
    window.act_load_params = act("&Load Parameters…", panel.load_parameters_dialog,
                                 tip="Start from given X, W, b (an .npz, or the course lab's CSV files): "
                                 "J at exactly those parameters, then Train continues from them")
    window.act_compare = act("&Compare Models…", window.show_compare_dialog, "Ctrl+K",
                             "Train several models on the same split and compare their test scores")
    window.act_features = act("&Feature Tables…", panel.edit_features,
                              tip="View and edit the features of the content-based model")
    window.act_new_user = act("Recommend for a &New User…", window.show_new_user_dialog,
                              tip="Top movies for a user described only by features (content-based)")
    window.act_filter = act("&Filter by Name", window._focus_filter, S.Find, "Filter rows by name")
    window.act_density = act("&Density and Mean Filter…", window.density_dialog, tip="Keep users and "
                             "movies with at least N ratings or a given mean rating")
    window.act_clear_filters = act("&Clear Filters and Sorting", window.clear_filters)
    window.act_presentation = act("P&resentation Mode", window.set_presentation, "F11",
                                  "Large fonts and markers, high contrast, thick lines, fewer panes",
                                  checkable=True)
    window.act_factor_tables = act("&Factor Tables Beside the Grid", window.set_factor_tables_beside_grid,
                                   tip="X (movies × k) and W (users × k) with their biases beside the grid, "
                                   "following it", checkable=True)
    window.act_factor_tables.setChecked(window.settings.value(FACTOR_TABLES_SETTING, True, type=bool))
    window.factor_tables.setVisible(window.act_factor_tables.isChecked())
    window.act_about = act("&About CF Explorer", window.about)
    window.act_shortcuts = act("&Keyboard Shortcuts", window.show_shortcuts, S.HelpContents)


def setup_menus(window):
    """The menu bar, from the actions (and the examples, lessons and sort orders)."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(window.act_new)
    window.preset_menu = file_menu.addMenu("&New from Example")
    for preset in PRESETS.values():
        action = window.preset_menu.addAction(preset.title)
        action.setStatusTip(preset.description)
        action.triggered.connect(lambda checked=False, name=preset.name: window.open_preset(name))
    file_menu.addAction(window.act_open)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    file_menu.addSeparator()
    file_menu.addActions([window.act_save, window.act_save_as])
    file_menu.addSeparator()
    file_menu.addActions([window.act_export_script, window.act_export_notebook])
    file_menu.addSeparator()
    file_menu.addAction(window.act_quit)

    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([window.act_undo, window.act_redo])
    edit_menu.addSeparator()
    edit_menu.addActions([window.act_copy, window.act_paste, window.act_clear, window.act_fill_down])
    edit_menu.addSeparator()
    edit_menu.addActions([window.act_add_user, window.act_add_movie, window.act_rename_user, window.act_rename_movie,
                          window.act_remove_users, window.act_remove_movies])

    window.view_menu = bar.addMenu("&View")
    window.view_menu.addActions([window.act_swap, window.act_predictions, window.act_residuals])
    window.view_menu.addAction(window.act_uncertainty)
    window.view_menu.addSeparator()
    window.view_menu.addAction(window.act_presentation)
    window.view_menu.addSeparator()
    window.view_menu.addAction(window.act_factor_tables)
    for dock in (window.training_dock, window.curves_dock, window.explain_dock, window.formula_dock, window.factor_dock,
                 window.lesson_dock):
        window.view_menu.addAction(dock.toggleViewAction())

    training_menu = bar.addMenu("&Training")
    training_menu.addActions([window.act_train, window.act_pause, window.act_step, window.act_stop])
    training_menu.addSeparator()
    training_menu.addAction(window.act_reset)
    training_menu.addAction(window.act_load_params)
    training_menu.addSeparator()
    training_menu.addActions([window.act_compare, window.act_features])
    training_menu.addAction(window.act_new_user)

    data_menu = bar.addMenu("&Data")
    data_menu.addAction(window.act_filter)
    data_menu.addAction(window.act_density)
    sort_menu = data_menu.addMenu("&Sort Rows By")
    group = QActionGroup(window)
    for key, label in (("original", "Original Order"), ("name", "Name"), ("count", "Number of Ratings"),
                       ("mean", "Mean Rating")):
        action = sort_menu.addAction(label)
        action.setCheckable(True)
        action.setChecked(key == "original")
        group.addAction(action)
        action.triggered.connect(lambda checked=False, k=key: window.sort_rows(k))
    window.sort_actions = group
    data_menu.addAction(window.act_clear_filters)

    help_menu = bar.addMenu("&Help")
    window.lessons_menu = help_menu.addMenu("&Lessons")
    for index, lesson in enumerate(LESSONS):
        action = window.lessons_menu.addAction(lesson.title)
        action.triggered.connect(lambda checked=False, i=index: window.start_lesson(i))
    window.lessons_menu.addSeparator()
    window.lessons_menu.addActions([window.lesson_panel.act_back, window.lesson_panel.act_next])
    help_menu.addSeparator()
    help_menu.addActions([window.act_shortcuts, window.act_about])


def setup_toolbar(window):
    """The toolbar: files, undo, adding entries, the name filter."""
    toolbar = window.toolbar = QToolBar("Main", window)
    toolbar.setObjectName("mainToolbar")
    toolbar.addActions([window.act_open, window.act_save])
    toolbar.addSeparator()
    toolbar.addActions([window.act_undo, window.act_redo])
    toolbar.addSeparator()
    toolbar.addActions([window.act_add_user, window.act_add_movie, window.act_swap])
    toolbar.addSeparator()
    toolbar.addWidget(window.filter_edit)
    window.filter_edit.setMaximumWidth(280)
    window.addToolBar(toolbar)
