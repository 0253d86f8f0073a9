"""The main window's edits of the grid as the menus, the toolbar and the headers ask for them: copy and paste,
add, rename and remove users and movies (each an undoable edit of core.edits), swap, sort and filter. A mixin
of :class:`~cfexplorer.app.MainWindow`, whose grid, table model and filter proxy it uses."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QInputDialog

from ..core.edits import AXIS_NAMES, ITEMS, USERS, InsertEntries, RemoveEntries, Rename, unique_label
from .density_dialog import DensityFilterDialog


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
        name = name.strip()
        if not name:
            self._on_input_rejected(f"A {kind} needs a name.", None)
            return False
        if name in {str(label) for label in labels}:
            self._on_input_rejected(f"There is already a {kind} called “{name}”.", None)
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
        name = name.strip()
        ratings = self.table.ratings
        labels = ratings.user_labels if axis == USERS else ratings.item_labels
        if not name or name == old:
            return False
        if name in {str(label) for i, label in enumerate(labels) if i != position}:
            self._on_input_rejected(f"There is already a {kind} called “{name}”.", None)
            return False
        self.table.request_edit(Rename(axis, position, name, f"Rename {kind} {old} to {name}"))
        return True

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
        order = Qt.SortOrder.DescendingOrder
        if self.proxy.sortColumn() == section and self.proxy.sortOrder() == Qt.SortOrder.DescendingOrder:
            order = Qt.SortOrder.AscendingOrder
        self.proxy.sort_by_column(section, order)

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
