"""Runs the main window on an offscreen screen of a given size, in a process of its own (Qt reads the size of
its screens once, when it starts), and prints what tests/ui/test_projector.py checks, as JSON.

    python -m tests.ui.on_a_screen WIDTH HEIGHT SETTINGS.ini [--presentation OUT.png]

Without --presentation: the size and place of the window as it opens (with the geometry SETTINGS.ini holds,
if any). With it: the window trained on the course example in presentation mode, every button and field of
the training panel scrolled to in turn, the loss plots' tick labels (in the everyday type and in presentation
mode's), and a screenshot.
"""

from __future__ import annotations

import json
import sys


def rect(r) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def controls_of(panel):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QWidget

    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit)
    return [widget for widget in panel.findChildren(QWidget) if isinstance(widget, kinds)
            and widget.isVisibleTo(panel)
            and not isinstance(widget.parent(), (QAbstractSpinBox, QComboBox))]  # their own line edits


def where_controls_are(window) -> list[dict]:
    """Each visible control of the training panel, scrolled into view as a user would: its rectangle in the
    window and in the part of the panel one sees."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QApplication

    panel = window.training_panel
    scroller = panel.settings_scroller
    shown = []
    for control in controls_of(panel):
        if scroller.widget().isAncestorOf(control):
            # the whole control (ensureWidgetVisible settles for a field's text cursor)
            centre = control.mapTo(scroller.widget(), control.rect().center())
            scroller.ensureVisible(centre.x(), centre.y(), control.width() // 2 + 1, control.height() // 2 + 1)
            QApplication.processEvents()
            seen = QRect(scroller.viewport().mapTo(window, QPoint(0, 0)), scroller.viewport().size())
        else:
            seen = QRect(panel.mapTo(window, QPoint(0, 0)), panel.size())
        at = QRect(control.mapTo(window, QPoint(0, 0)), control.size())
        name = control.text() if hasattr(control, "text") and isinstance(control.text(), str) else ""
        shown.append({"control": f"{type(control).__name__} {control.objectName() or name}".strip(),
                      "at": rect(at), "seen": rect(seen), "in_window": window.rect().contains(at),
                      "in_view": seen.contains(at)})
    return shown


def legends_and_views(loss_plot) -> list[dict]:
    """Each loss plot's legend, the part of the plot where its curves are drawn and the whole pane's graphics,
    in the scene's pixels."""
    pairs = [("cost", loss_plot.cost_legend, loss_plot.cost_plot)]
    if loss_plot.validation_shown:
        pairs.append(("validation", loss_plot.validation_legend, loss_plot.validation_plot))
    view = loss_plot.layout_widget  # what the pane shows of the plots' scene
    area = rect(view.mapToScene(view.viewport().rect()).boundingRect().toRect())
    return [{"plot": name, "entries": len(legend.items), "legend": rect(legend.sceneBoundingRect().toRect()),
             "view": rect(plot.vb.sceneBoundingRect().toRect()), "area": area} for name, legend, plot in pairs]


def tick_labels(loss_plot) -> list[dict]:
    """The tick labels of each axis of the loss plots that shows numbers (plot_tick_labels)."""
    plots = [("cost", loss_plot.cost_plot)] + ([("validation", loss_plot.validation_plot)]
                                              if loss_plot.validation_shown else [])
    return [axis for name, plot in plots for axis in plot_tick_labels(name, plot)]


def plot_tick_labels(name, plot) -> list[dict]:
    """The tick labels of each axis of a pyqtgraph ``plot`` (a PlotItem) that shows numbers: their text and the
    rectangle each one's text takes where the axis draws it (its font's whole line, not the 0.8 of it pyqtgraph
    lays out by), in the axis's coordinates and in the scene's."""
    from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPicture

    axes = []
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        if not axis.isVisible() or not axis.style["showValues"]:
            continue
        picture = QPicture()
        painter = QPainter(picture)  # as the axis paints itself (AxisItem.paint)
        try:
            font = axis.style["tickFont"] or QFont()
            painter.setFont(font)
            _, _, texts = axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        metrics = QFontMetricsF(font)
        labels = [(text, metrics.boundingRect(where, int(flags), text)) for where, flags, text in texts]
        axes.append({"plot": name, "axis": side, "length": axis.height() if side == "left" else axis.width(),
                     "labels": [{"text": text, "rect": [r.x(), r.y(), r.width(), r.height()],
                                 "in_scene": list(axis.mapRectToScene(r).getRect())} for text, r in labels]})
    return axes


def tick_labels_over_ranges(app, loss_plot) -> list[dict]:
    """The tick labels (tick_labels) of the plots as the runs left them, then as they show values over spans from a
    tenth to a thousand (each run, model and zoom shows others: a 70-pixel validation plot in presentation type
    numbered 1.0 to 2.0 in steps of 0.2 over each other) and 3 to 30,000 epochs; then the plots range themselves
    again."""
    shown = [{"range": "as trained", "axes": tick_labels(loss_plot)}]
    plots = (loss_plot.cost_plot, loss_plot.validation_plot)
    for tenths in range(-10, 31):
        span = 10 ** (tenths / 10)
        for plot in plots:
            plot.setYRange(0.87, 0.87 + span, padding=0)  # an RMSE's start, say: the ends fall between ticks
        loss_plot.cost_plot.setXRange(0, 30 * span, padding=0)  # the validation plot's epochs are linked
        app.processEvents()
        shown.append({"range": span, "axes": tick_labels(loss_plot)})
    for plot in plots:
        plot.enableAutoRange()
    app.processEvents()
    return shown


def settle(app, ms: int = 300, window=None, longest_ms: int = 10_000):
    """Let the layouts that a font change and a resize set off run to the end. They are chains of posted
    events (a layout request, a deferred dock resize, the next layout request), each link one pass of the
    event loop: so at least one pass per 10 ms asked for, however few passes a loaded machine fits in that
    time, and with a ``window``, until its training panel's geometry has not changed for ``ms`` (a scroll bar
    appearing narrows the viewport first and the settings a moment later: under two busy test processes the
    settings were measured mid-way, 542 px in a 528 px view)."""
    import time

    def geometry():
        if window is None:
            return None
        scroller = window.training_panel.settings_scroller
        return (rect(window.frameGeometry()), scroller.widget().width(), scroller.viewport().width(),
                scroller.horizontalScrollBar().maximum())

    start = last_change = time.monotonic()
    seen = geometry()
    passes = 0
    while True:
        app.processEvents()
        passes += 1
        time.sleep(0.01)
        now = time.monotonic()
        current = geometry()
        if current != seen:
            seen, last_change = current, now
        if passes >= ms // 10 and (now - last_change >= ms / 1000 or now - start >= longest_ms / 1000):
            return


def model_names_cut(combo) -> list[str]:
    """The model names the closed combo box cannot show whole."""
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    return [combo.itemText(i) for i in range(combo.count())
            if combo.fontMetrics().horizontalAdvance(combo.itemText(i)) > field.width()]


def close_and_report(window, app, report: dict) -> None:
    """Close the window without its unsaved-changes question and print the report, the last line the test reads."""
    window.undo_stack.setClean()
    window.close()
    app.processEvents()
    print(json.dumps(report))


def main(argv: list[str]) -> int:
    import os

    width, height, settings_path = int(argv[0]), int(argv[1]), argv[2]
    presentation_png = argv[argv.index("--presentation") + 1] if "--presentation" in argv else None
    lesson = int(argv[argv.index("--lesson") + 1]) if "--lesson" in argv else None
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["CFEXPLORER_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QSettings

    from cfexplorer.app import MainWindow
    from cfexplorer.screenshot import application_on_screen_of_size

    app = application_on_screen_of_size(width, height)
    window = MainWindow(settings=QSettings(settings_path, QSettings.Format.IniFormat))
    report = {"screen": rect(app.primaryScreen().availableGeometry())}
    try:
        report["before_show"] = rect(window.frameGeometry())
        window.show()
        app.processEvents()
        report["window"] = rect(window.frameGeometry())
        if lesson is not None:
            window.start_lesson(lesson)
            window.set_factor_tables_beside_grid(True)
            settle(app, window=window)
            report["lesson_before"] = window.lesson_dock.width()
            report["model_names_cut"] = model_names_cut(window.training_panel.model_kind)
        if presentation_png:
            window.training_panel.validation.setValue(0.2)  # both loss plots, each with its legend
            # A short run: the legends and the settings' layout are what is checked, not the fit (the course's
            # whole run was a third of this process's time)
            window.training_panel.train(epochs=20)
            window.wait_for_training()
            # and a second run: the first one dashed, named in the legend by its λ (four entries, two columns)
            window.training_panel.reg.setValue(window.training_panel.reg.value() + 1.0)
            window.training_panel.train(epochs=20)
            window.wait_for_training()
            settle(app, window=window)
            report["tick_labels"] = {"everyday": tick_labels_over_ranges(app, window.training_panel.loss_plot)}
            window.set_presentation(True)
            settle(app, window=window)
            report["tick_labels"]["presentation"] = tick_labels_over_ranges(app, window.training_panel.loss_plot)
            panel = window.training_panel
            report["legends"] = legends_and_views(panel.loss_plot)
            report["model_names_cut_presenting"] = model_names_cut(panel.model_kind)
            report["full_screen"] = window.isFullScreen()
            report["window"] = rect(window.frameGeometry())
            report["panel_scrolls_sideways"] = panel.settings_scroller.horizontalScrollBar().maximum() > 0
            report["settings_width"] = panel.settings_scroller.widget().width()
            report["settings_view_width"] = panel.settings_scroller.viewport().width()
            from PySide6.QtWidgets import QApplication, QDockWidget

            report["grid_width"] = window.grid.width()
            report["lesson_width"] = window.lesson_dock.width() if window.lesson_dock.isVisible() else 0
            report["factor_tables_shown"] = window.factor_tables.isVisible()
            report["dock_title_points"] = sorted({dock.font().pointSizeF() for dock in window.findChildren(QDockWidget)})
            report["dock_title_font_own"] = all(dock.font() != QApplication.font("QDockWidget")
                                                for dock in window.findChildren(QDockWidget))
            report["font_points"] = app.font().pointSizeF()
            report["lesson_title_points"] = window.lesson_panel.title.font().pointSizeF()
            report["controls"] = {}
            for index in range(panel.model_kind.count()):  # each model shows settings of its own
                panel.model_kind.setCurrentIndex(index)
                settle(app, 50, window=window)  # five passes at least, and the panel's geometry still for 50 ms
                report["controls"][panel.kind] = where_controls_are(window)
            panel.model_kind.setCurrentIndex(0)
            settle(app, 100)
            panel.settings_scroller.verticalScrollBar().setValue(0)
            app.processEvents()
            report["saved"] = window.grab().save(presentation_png)
            if lesson is not None:
                window.set_presentation(False)
                settle(app, window=window)
                report["lesson_after"] = window.lesson_dock.width()
                report["factor_tables_after"] = window.factor_tables.isVisible()
                report["lesson_title_points_after"] = window.lesson_panel.title.font().pointSizeF()
                report["font_points_after"] = app.font().pointSizeF()
    finally:
        close_and_report(window, app, report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
