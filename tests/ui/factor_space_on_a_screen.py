"""Runs the main window on an offscreen screen of a given size, in a process of its own (Qt reads the size of
its screens once, when it starts), in presentation mode with the Lesson pane open and the factor space in
front, trained on a preset; prints as JSON where the factor space's parts and point labels are, for
tests/ui/test_factor_space_layout.py.

    python -m tests.ui.factor_space_on_a_screen WIDTH HEIGHT SETTINGS.ini PRESET OUT.png
"""

from __future__ import annotations

import sys

from .on_a_screen import close_and_report, rect, settle

EPOCHS = 40


def parts_of(view) -> dict:
    """The factor space's parts one reads, as rectangles in the window (only those shown)."""
    parts = {"controls": view.controls_scroller, "plot": view.plot, "replay": view.replay,
             "epoch": view.epoch_label, "legend": view.legend, "status": view.status, "side tabs": view.side_tabs}
    return {name: widget for name, widget in parts.items() if widget.isVisible() and widget.height() > 0}


def main(argv: list[str]) -> int:
    import os

    width, height, settings_path, preset, png = int(argv[0]), int(argv[1]), argv[2], argv[3], argv[4]
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["CFEXPLORER_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QPoint, QRect, QSettings

    from cfexplorer.app import MainWindow
    from cfexplorer.screenshot import application_on_screen_of_size

    app = application_on_screen_of_size(width, height)
    window = MainWindow(settings=QSettings(settings_path, QSettings.Format.IniFormat))
    report = {}
    try:
        window.show()
        window.open_preset(preset)
        window.lesson_dock.show()  # View ▸ Lesson
        # The layout is checked, not the fit: a short run places and labels the points as a whole one does.
        window.training_panel.train(epochs=EPOCHS)
        window.wait_for_training()
        window.set_presentation(True)
        window.factor_dock.raise_()
        settle(app, 100, window=window)  # ten passes at least, and the panel's geometry still for 100 ms
        view = window.factor_space
        report["window"] = rect(window.rect())
        report["parts"] = {name: rect(QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()))
                           for name, widget in parts_of(view).items()}
        plot = view.plot
        report["axis titles"] = {}
        for name in ("bottom", "left"):
            label = plot.getAxis(name).label
            margin = label.document().documentMargin()  # blank around the text
            text = label.boundingRect().adjusted(margin, margin, -margin, -margin)
            box = plot.mapFromScene(label.mapRectToScene(text)).boundingRect()
            report["axis titles"][name] = rect(QRect(plot.mapTo(window, box.topLeft()), box.size()))
        box = plot.mapFromScene(plot.view_box.sceneBoundingRect()).boundingRect()
        report["plot"] = rect(QRect(plot.mapTo(window, QPoint(0, 0)), plot.size()))
        report["view box"] = rect(box)  # in the plot's pixels, as the labels are
        report["labels"] = [rect(r) for r in plot.placed_label_rects()]
        report["labels hidden"] = plot.labels_hidden
        report["labelled"] = len(plot.labels)
        report["status"] = view.status.text()
        report["saved"] = window.grab().save(png)
    finally:
        close_and_report(window, app, report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
