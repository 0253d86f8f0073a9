"""The main window's edits of the grid as the menus, the toolbar and the headers ask for them: copy and paste,
add, rename and remove users and movies (each an undoable edit of core.edits), swap, sort and filter. A mixin
of :class:`~cfexplorer.app.MainWindow`, whose grid, table model and filter proxy it uses."""

from __future__ import annotations

import re
import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QInputDialog

from ..core.edits import AXIS_NAMES, ITEMS, USERS, InsertEntries, RemoveEntries, Rename, unique_label
from .density_dialog import DensityFilterDialog

# What a typed name loses at its ends: whitespace, and the invisible characters a name copied from a web page or
# a document brings along, which str.strip keeps (zero-width space, joiners, direction marks, word joiner, byte
# order mark, soft hyphen): "Alice" followed by a zero-width space was a second user who looked like Alice.
# Names read from a file keep what readers.strip_names keeps.
_BLANK_ENDS = re.compile(r"\A[\s\u00ad\u200b-\u200f\u2060\ufeff]+|[\s\u00ad\u200b-\u200f\u2060\ufeff]+\Z")


def typed_name(text: str) -> str:
    """A user's or movie's name as typed by hand, without the blank characters at its ends."""
    return _BLANK_ENDS.sub("", text)


class GridEditingMixin:
    def copy(self):
        text = self.grid.copy_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def paste(self):
        self.grid.paste_text(QGuiApplication.clipboard().text())

    def add_user(self, name: str | None = None) -> bool:
        return self._add_entry(USERS, name)

    def add_movie(self, name: str | None = None) -> bool:
        return self._add_entry(ITEMS, name)

    def _add_entry(self, axis: int, name: str | None) -> bool:
        ratings = self.table.ratings
        labels = ratings.user_labels if axis == USERS else ratings.item_labels
        kind = AXIS_NAMES[axis]
        if name is None:
            suggestion = unique_label(labels, kind.capitalize())
            name, ok = QInputDialog.getText(self, f"Add {kind}", f"Name of the new {kind}:", text=suggestion)
            if not ok:
                return False
        name = typed_name(name)
        if not name:
            self._on_input_rejected(f"A {kind} needs a name.", None)
            return False
        taken = self._name_taken(axis, name)
        if taken:
            self._on_input_rejected(taken, None)
            return False
        position = len(labels)
        info_rows = ({"title": name},) if axis == ITEMS and ratings.item_info is not None else ()
        self.table.request_edit(InsertEntries(axis, (position,), (name,), ((),), info_rows, f"Add {kind} {name}"))
        return True

    def rename_current(self, axis: int, name: str | None = None) -> bool:
        current = self.grid.currentIndex()
        if not current.isValid():
            self._on_input_rejected(f"Click a cell of the {AXIS_NAMES[axis]} to rename first.", None)
            return False
        source = self.proxy.mapToSource(current)
        user, item = self.table.cell(source.row(), source.column())
        return self._rename_at(axis, user if axis == USERS else item, name)

    def _rename_at(self, axis: int, position: int, name: str | None = None) -> bool:
        kind = AXIS_NAMES[axis]
        old = self.table.name(axis, position)
        if name is None:
            name, ok = QInputDialog.getText(self, f"Rename {kind}", f"New name for “{old}”:", text=old)
            if not ok:
                return False
        if name == old:  # OK on the name as shown (a file's name with spaces at its ends, too) changes nothing
            return False
        name = typed_name(name)
        if not name or name == old:
            return False
        taken = self._name_taken(axis, name, position)
        if taken:
            self._on_input_rejected(taken, None)
            return False
        self.table.request_edit(Rename(axis, position, name, f"Rename {kind} {old} to {name}"))
        return True

    def _name_taken(self, axis: int, name: str, position: int | None = None) -> str:
        """Why ``name`` cannot be given to the user or movie at ``position`` (or to a new one), "" when it can:
        another is shown under it, or labelled by it. A movie of MovieLens is labelled by its id and shown by its
        title: checked against the labels alone, a name typed as another's title made a second "Heat (1995)",
        and "1" was refused as a movie called “1”, which the grid showed nowhere."""
        kind = AXIS_NAMES[axis]
        ratings = self.table.ratings
        labels = ratings.user_labels if axis == USERS else ratings.item_labels
        shown = self.table.names(axis)
        others = [other for other in range(len(labels)) if other != position]
        if any(shown[other] == name for other in others):
            return f"There is already a {kind} called “{name}”."
        labelled = next((other for other in others if str(labels[other]) == name), None)
        if labelled is not None:
            return f"There is already a {kind} with the id “{name}”: “{shown[labelled]}”."
        return ""

    def remove_selected(self, axis: int) -> bool:
        positions = self.grid.selected_entries(axis)
        kind = AXIS_NAMES[axis]
        if not positions:
            self._on_input_rejected(f"Select cells of the {kind}s to remove first.", None)
            return False
        count = len(positions)
        text = f"Remove {count} {kind}{'s' if count > 1 else ''}"
        self.table.request_edit(RemoveEntries(axis, tuple(positions), text))
        self.statusBar().showMessage(f"{text} (Undo brings them back)", 5000)
        return True

    def swap_axes(self):
        self.table.set_rows_are_items(not self.table.rows_are_items)
        self._update_summary()

    def sort_rows(self, key: str):
        """Most-rated and best-rated first; names A to Z."""
        self.proxy.sort_rows_by(key, descending=key in ("count", "mean"))

    def _on_column_header_click(self, section: int):
        # the order before this click, should it be a double-click's first (_on_column_header_double_click)
        self._sort_before_header_click = (section, time.monotonic(), self.proxy.sort_state())
        order = Qt.SortOrder.DescendingOrder
        if self.proxy.sortColumn() == section and self.proxy.sortOrder() == Qt.SortOrder.DescendingOrder:
            order = Qt.SortOrder.AscendingOrder
        self.proxy.sort_by_column(section, order)

    def _on_column_header_double_click(self, section: int):
        """Rename the column's user or movie, the rows in the order they had before the double-click's first
        click sorted them by it (a double-click to rename sorted the rows too)."""
        clicked = getattr(self, "_sort_before_header_click", None)
        self._sort_before_header_click = None
        # (Qt says no click where the press scrolled a column cut at the view's edge in under the mouse)
        if clicked is not None and clicked[0] == section and \
                time.monotonic() - clicked[1] <= 2 * QGuiApplication.styleHints().mouseDoubleClickInterval() / 1000:
            self.proxy.set_sort_state(clicked[2])
        self._rename_at(self.table.column_axis, self._source_column(section))

    def clear_filters(self):
        self.filter_edit.clear()
        self.proxy.clear_filters()
        self.proxy.sort_rows_by("original")
        self.sort_actions.actions()[0].setChecked(True)

    def density_dialog(self):
        dialog = DensityFilterDialog(self.proxy, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.proxy.set_min_ratings(dialog.min_user.value(), dialog.min_item.value())
            self.proxy.set_min_mean(*dialog.chosen_means())
            self.proxy.set_restricts_training(dialog.restrict_training.isChecked())

    def _focus_filter(self):
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    def _source_row(self, section: int) -> int:
        return self.proxy.mapToSource(self.proxy.index(section, 0)).row()

    def _source_column(self, section: int) -> int:
        return self.proxy.mapToSource(self.proxy.index(0, section)).column()
