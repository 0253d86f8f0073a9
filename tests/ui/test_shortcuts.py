"""Keyboard shortcuts: each key does one thing, and Redo answers both of its usual keys."""

from collections import Counter

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from cfexplorer.core.edits import SetCells


def test_no_two_actions_share_a_shortcut(window):
    keys = Counter()
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            if not sequence.isEmpty():
                keys[sequence.toString(QKeySequence.SequenceFormat.PortableText)] += 1
    shared = {key: count for key, count in keys.items() if count > 1}
    assert not shared, f"shortcuts bound more than once: {shared}"
    assert {"Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Y", "F5", "F6", "F7", "F8"} <= set(keys)


def test_undo_and_redo_from_the_keyboard(qtbot, window):
    table = window.table
    before = table.ratings.to_dense()[1, 1]
    table.request_edit(SetCells((1,), (1,), (2.5,)))
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_equal(table.ratings.to_dense()[1, 1], before)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert table.ratings.to_dense()[1, 1] == 2.5
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.grid, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert table.ratings.to_dense()[1, 1] == 2.5


def test_the_list_of_shortcuts_names_undo_and_redo_and_every_key_of_each(window):
    """It listed "Redo Paste  Ctrl+Shift+Z" (the menu's text at that moment) and not Ctrl+Y."""
    window.table.request_edit(SetCells((1,), (1,), (2.5,)))
    window.undo_stack.undo()
    listed = window.shortcuts_html()
    assert "<td>Redo</td><td><b>Ctrl+Shift+Z, Ctrl+Y</b></td>" in listed
    assert "<td>Undo</td><td><b>Ctrl+Z</b></td>" in listed
    assert "Redo Set" not in listed and "Redo Paste" not in listed


def test_the_list_of_shortcuts_says_how_the_keyboard_leaves_a_table(qtbot, window):
    """Tab goes from cell to cell (every one of a grid of 9,724 × 610); only a docstring said that Ctrl+Tab leaves
    at once."""
    listed = window.shortcuts_html()
    assert "<b>Ctrl+Tab, Ctrl+Shift+Tab</b>" in listed and "<b>Tab, Shift+Tab</b>" in listed
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    qtbot.keyClick(window.grid, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert not window.grid.hasFocus()  # as the list says
