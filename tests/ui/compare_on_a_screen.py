"""Runs the main window on an offscreen screen of a given size, in a process of its own (Qt reads the size of
its screens once, when it starts), opens Training ▸ Compare Models on the planted example, runs every model
with 3-fold cross-validation (the widest numbers) and prints as JSON how the dialog shows the models' names,
for tests/ui/test_projector.py.

    python -m tests.ui.compare_on_a_screen WIDTH HEIGHT SETTINGS.ini OUT.png [--presentation]
"""

from __future__ import annotations

import sys

from .on_a_screen import close_and_report, rect, settle

FOLDS = 3


def text_rect(view, index, text: str):
    """Where the view's style draws an item's text (its check box, margins and focus frame left out)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = view.visualRect(index)
    option.font = view.font()
    option.fontMetrics = view.fontMetrics()
    option.text = text
    option.features = QStyleOptionViewItem.ViewItemFeature.HasDisplay
    if view.wordWrap():
        option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
    if index.flags() & Qt.ItemFlag.ItemIsUserCheckable:
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    return view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)


def how_shown(view, index) -> dict:
    """An item's text, whether it is drawn whole (on one line in its text's place or, where the view wraps, on
    as many lines as that place holds, and that place not beyond the view's sides) and on one line."""
    from PySide6.QtCore import QRect, Qt

    text = index.data()
    place = text_rect(view, index, text)
    metrics = view.fontMetrics()
    if view.wordWrap():
        wrapped = metrics.boundingRect(QRect(0, 0, place.width(), 100_000), int(Qt.TextFlag.TextWordWrap), text)
    else:
        wrapped = metrics.boundingRect(text)
    in_view_sideways = place.left() >= 0 and place.right() <= view.viewport().rect().right()
    return {"text": text, "width": metrics.horizontalAdvance(text), "place": rect(place),
            "whole": wrapped.width() <= place.width() and wrapped.height() <= place.height() and in_view_sideways,
            "one_line": wrapped.height() < 2 * metrics.lineSpacing(),
            "tooltip": index.data(Qt.ItemDataRole.ToolTipRole)}


def main(argv: list[str]) -> int:
    import os

    width, height, settings_path, png = int(argv[0]), int(argv[1]), argv[2], argv[3]
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["CFEXPLORER_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QEventLoop, QSettings, QTimer, Qt
    from PySide6.QtTest import QTest

    from cfexplorer.app import MainWindow
    from cfexplorer.screenshot import application_on_screen_of_size

    app = application_on_screen_of_size(width, height)
    window = MainWindow(settings=QSettings(settings_path, QSettings.Format.IniFormat))
    report = {"screen": rect(app.primaryScreen().availableGeometry())}
    dialog = None
    try:
        window.show()
        window.open_preset("planted")
        window.set_presentation("--presentation" in argv)
        settle(app, 100)
        window.act_compare.trigger()
        dialog = window.compare_dialog
        settle(app, 100)
        report["list"] = [how_shown(dialog.choice_view, dialog.choices.index(row, 0))
                          for row in range(dialog.choices.rowCount())]
        dialog.folds.selectAll()
        QTest.keyClicks(dialog.folds, str(FOLDS))
        finished = QEventLoop()
        dialog.sig_done.connect(finished.quit)
        QTimer.singleShot(120_000, finished.quit)
        QTest.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
        finished.exec()
        settle(app, 100)
        table = dialog.table
        report["status"] = dialog.status.text()
        report["rows"] = [how_shown(table, dialog.table_model.index(row, 0))
                          for row in range(dialog.table_model.rowCount())]
        report["numbers"] = [how_shown(table, dialog.table_model.index(row, column))
                             for row in range(dialog.table_model.rowCount())
                             for column in range(1, dialog.table_model.columnCount())]
        report["scrolls_sideways"] = table.horizontalScrollBar().maximum() > 0
        report["list_after"] = [how_shown(dialog.choice_view, dialog.choices.index(row, 0))
                                for row in range(dialog.choices.rowCount())]
        report["dialog"] = rect(dialog.frameGeometry())
        report["saved"] = dialog.grab().save(png)
    finally:
        if dialog is not None:
            dialog.shutdown(5000)
        close_and_report(window, app, report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
