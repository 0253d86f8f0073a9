"""A projector's screen: the window opens inside it, and presentation mode fills it without cutting off any
control of the training panel (each process below has a screen of its own size: tests/ui/on_a_screen.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QCheckBox

ROOT = Path(__file__).resolve().parents[2]


def on_a_screen(width, height, settings, presentation_png=None, lesson=None) -> dict:
    command = [sys.executable, "-m", "tests.ui.on_a_screen", str(width), str(height), str(settings)]
    if presentation_png is not None:
        command += ["--presentation", str(presentation_png)]
    if lesson is not None:
        command += ["--lesson", str(lesson)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def inside(rect, area) -> bool:
    x, y, w, h = rect
    ax, ay, aw, ah = area
    return ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah


@pytest.fixture(scope="module", params=[(1280, 720), (1920, 1080)], ids=["1280x720", "1920x1080"])
def presented(request, tmp_path_factory):
    """The window trained on a projector's screen of each size, then in presentation mode: (width, height, its
    screenshot, the report of tests/ui/on_a_screen.py), one process a size for the tests that read it."""
    width, height = request.param
    folder = tmp_path_factory.mktemp(f"presentation-{width}x{height}")
    picture = folder / f"presentation-{width}x{height}.png"
    return width, height, picture, on_a_screen(width, height, folder / "settings.ini", picture)


def test_presentation_mode_fills_the_screen_and_every_control_of_the_training_panel_can_be_seen(presented):
    width, height, picture, report = presented
    assert report["full_screen"] and report["window"] == [0, 0, width, height]
    assert not report["panel_scrolls_sideways"]
    assert report["model_names_cut_presenting"] == []
    assert report["settings_width"] <= report["settings_view_width"]
    for kind, controls in report["controls"].items():
        assert len(controls) >= 8, kind  # the transport buttons and the model's settings
        cut_off = [c["control"] for c in controls if not (c["in_window"] and c["in_view"])]
        assert not cut_off, f"{kind} at {width}x{height}: {cut_off}"
        assert all(inside(c["at"], [0, 0, width, height]) and inside(c["at"], c["seen"]) for c in controls)
    # the legends in the larger type: each whole in the pane (at 1280 x 720 "regularization term" and "MAE"
    # were cut off below the plots' bottom edges), above its plot, over none of its curves
    assert [legend["plot"] for legend in report["legends"]] == ["cost", "validation"]
    for legend in report["legends"]:
        assert legend["entries"] >= 2 and inside(legend["legend"], legend["area"]), legend
        x, y, w, h = legend["legend"]
        assert y + h <= legend["view"][1], legend
    image = QImage(str(picture))
    assert (image.width(), image.height()) == (width, height)


def test_the_loss_plots_tick_labels_never_overlap(presented):
    """In presentation mode at 1280 x 720 with a validation share, the validation plot (70 pixels tall) numbered
    its axis 1.0, 1.2, ..., 2.0 with each label over the next: pyqtgraph spaces ticks by the axis's length alone,
    whatever the type. On both plots, in both types, over ranges of values and epochs, no two labels meet."""
    width, height, _, report = presented
    for kind, shown in report["tick_labels"].items():
        assert shown[0]["range"] == "as trained"
        assert {(axis["plot"], axis["axis"]) for axis in shown[0]["axes"]} == \
            {("cost", "left"), ("validation", "left"), ("validation", "bottom")}  # the epochs numbered once
        for ranged in shown:
            for axis in ranged["axes"]:
                where = f"{kind} type at {width}x{height}, {axis['plot']} {axis['axis']} axis, {ranged['range']}"
                labels = axis["labels"]
                assert labels, where  # numbered still
                meeting = [(first["text"], second["text"]) for index, first in enumerate(labels)
                           for second in labels[index + 1:] if overlap(first["rect"], second["rect"])]
                assert not meeting, f"{where}: {meeting}"


def overlap(first, second) -> bool:
    """Whether two [x, y, width, height] rectangles share any area."""
    x, y, w, h = first
    u, v, p, q = second
    return x < u + p and u < x + w and y < v + q and v < y + h


def test_presentation_beside_a_lesson_leaves_the_grid_its_room_and_puts_the_panes_back(tmp_path):
    """At 1280 x 720 with a lesson open, presentation mode left the grid one user's column (the factor tables
    beside it no number), and kept the panes' titles in the platform's small type."""
    report = on_a_screen(1280, 720, tmp_path / "settings.ini", tmp_path / "lesson.png", lesson=0)
    assert report["model_names_cut"] == []  # "Dot product + biases, y-range (fast." in the everyday window
    # and in presentation mode's type: "Matrix factorization (co" (the name goes under its label instead)
    assert report["model_names_cut_presenting"] == []
    assert report["grid_width"] >= 1280 // 4 and not report["factor_tables_shown"]
    assert report["lesson_width"] <= 1280 // 4
    assert report["dock_title_points"] == [report["font_points"]] and report["dock_title_font_own"]
    assert report["lesson_title_points"] == pytest.approx(1.4 * report["font_points"])
    # left: the panes as they were, the lesson's title in the everyday type
    assert report["factor_tables_after"] and abs(report["lesson_after"] - report["lesson_before"]) <= 2
    assert report["lesson_title_points_after"] == pytest.approx(1.4 * report["font_points_after"])


def test_the_first_window_fits_a_small_screen(tmp_path):
    report = on_a_screen(1280, 720, tmp_path / "settings.ini")
    assert inside(report["window"], report["screen"])
    assert report["window"][2:] == [1280, 720]  # it takes what there is (1400 x 860 where there is room)


def test_a_window_last_seen_on_a_larger_screen_opens_inside_the_smaller_one(tmp_path):
    settings = tmp_path / "settings.ini"
    desk = on_a_screen(1920, 1080, settings)  # closing saves the geometry
    assert desk["window"][2] > 1280 and desk["window"][3] > 720  # 1400 x 860 and its frame: too large for
    projector = on_a_screen(1280, 720, settings)  # the next lecture
    assert inside(projector["window"], [0, 0, 1280, 720])


# --- numbers a class can read ------------------------------------------------------------------------------
def test_compare_models_shows_every_row_and_bars_that_differ_where_the_scores_do(qtbot, window):
    from cfexplorer.core.compare import ComparisonRow

    scores = [0.849, 0.856, 0.853, 0.855, 0.865, 1.042, 0.851]
    rows = [ComparisonRow(f"model {i}", "mf", {"rmse": v, "mae": v - 0.2}, {"rmse": 0.0, "mae": 0.0}, 0.1, 10, 1)
            for i, v in enumerate(scores)]
    dialog = window.show_compare_dialog()
    qtbot.waitExposed(dialog)
    dialog.show_rows(rows, ("rmse", "mae"))
    qtbot.wait(50)
    table = dialog.table
    bottom = table.viewport().height()
    assert all(table.rowViewportPosition(r) >= 0 and table.rowViewportPosition(r) + table.rowHeight(r) <= bottom
               for r in range(len(rows)))
    low, high = dialog.chart.getPlotItem().viewRange()[1]
    assert 0.7 < low < 0.849 and high > 1.042
    view = dialog.chart.getPlotItem().vb
    top = {v: view.mapViewToScene(pg_point(0, v)).y() for v in (0.849, 0.856)}
    assert top[0.849] - top[0.856] > 3  # pixels: the higher score's bar is visibly taller
    shown = {item.textItem.toPlainText() for item in dialog.chart.getPlotItem().items
             if type(item).__name__ == "TextItem"}
    assert {"0.849", "0.856", "1.042"} <= shown
    dialog.close()


def pg_point(x, y):
    import pyqtgraph as pg

    return pg.Point(x, y)


def compare_on_a_screen(width, height, tmp_path, presentation=False) -> dict:
    """Every model compared with 3 folds in Training ▸ Compare Models: how the dialog shows their names
    (tests/ui/compare_on_a_screen.py)."""
    command = [sys.executable, "-m", "tests.ui.compare_on_a_screen", str(width), str(height),
               str(tmp_path / "settings.ini"), str(tmp_path / "compare.png")]
    if presentation:
        command.append("--presentation")
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == "Done: 8 models on 3-fold cross-validation." and len(report["rows"]) == 8
    return report


@pytest.mark.parametrize("presentation", [False, True], ids=["everyday type", "presentation type"])
def test_compare_models_shows_every_model_name_whole_on_a_projector(tmp_path, presentation):
    """At 1280 x 720 the Models list cut its names at its right edge ("Matrix factorization (course) (panel
    set", "Dot product + biases (fast.ai) (defaults"), and with 3 folds (or in presentation type) the table's
    last columns went beyond its right side, out of view until scrolled to."""
    report = compare_on_a_screen(1280, 720, tmp_path, presentation)
    assert inside(report["dialog"], report["screen"])
    listed = report["list"] + report["list_after"]  # as the dialog opens, and beside the results
    assert [entry["text"] for entry in listed if not entry["whole"]] == []
    assert [entry["text"] for entry in report["rows"] if not entry["whole"]] == []
    assert [entry["text"] for entry in report["numbers"] if not entry["whole"]] == []
    assert not report["scrolls_sideways"]
    if not presentation:  # room for each name of the list on one line, too
        assert [entry["text"] for entry in listed if not entry["one_line"]] == []


def test_compare_models_on_a_screen_too_narrow_for_the_names_keeps_the_numbers_in_view(tmp_path):
    """Where the names cannot all be whole beside the numbers, the numbers stay in view and a name gives way:
    shortened in the middle, whole in its tooltip; the list wraps its names."""
    report = compare_on_a_screen(800, 600, tmp_path)
    assert inside(report["dialog"], report["screen"])
    assert [entry["text"] for entry in report["numbers"] if not entry["whole"]] == []
    assert not report["scrolls_sideways"]
    assert all(entry["tooltip"] == entry["text"] for entry in report["rows"])
    assert [entry["text"] for entry in report["list_after"] if not entry["whole"]] == []


def test_the_validation_axis_reads_rmse_as_it_is(qtbot, window):
    from cfexplorer.core.mf import EpochRecord

    plot = window.training_panel.loss_plot
    plot.start_run({}, ("rmse", "mae"), 3)
    plot.add_records([EpochRecord(epoch=e, data_term=10.0 / e, reg_term=1.0, total=10.0 / e + 1,
                                  validation={"rmse": 0.8512 - 0.001 * e, "mae": 0.66})
                      for e in (1, 2, 3)])
    qtbot.wait(50)
    for axis in (plot.validation_plot.getAxis("left"), plot.cost_plot.getAxis("left")):
        assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()
    values = [value for _, ticks in plot.validation_plot.getAxis("left").tickValues(0.845, 0.851, 200)
              for value in ticks]
    assert values and all(0.8 < value < 0.9 for value in values)


def test_presentation_scales_the_plots_text_with_the_font(qtbot, window):
    curves, factor_plot = window.training_panel.loss_plot, window.factor_space.plot
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=60_000):
        window.training_panel.train()
    normal = QApplication.font().pointSizeF()
    window.set_presentation(True)
    large = QApplication.font().pointSizeF()
    assert large == pytest.approx(1.5 * normal)
    for plot_item in (curves.cost_plot, curves.validation_plot, factor_plot.getPlotItem()):
        for name in ("left", "bottom"):
            axis = plot_item.getAxis(name)
            assert axis.style["tickFont"].pointSizeF() == pytest.approx(large)
            assert axis.labelStyle["font-size"] == f"{large:g}pt"
    entries = [label for legend in (curves.cost_legend, curves.validation_legend) for _, label in legend.items]
    assert entries and all(label.opts["size"] == f"{large:g}pt" for label in entries)
    window.set_presentation(False)
    assert all(label.opts["size"] == f"{normal:g}pt" for _, label in curves.cost_legend.items)


def test_the_model_check_boxes_go_to_one_column_on_a_narrow_panel_and_back(qtbot, window):
    window.open_preset("course")
    dock, checks = window.training_dock, window.training_panel.checks
    boxes = checks.findChildren(QCheckBox)
    assert len(boxes) == 4

    def laid_out():
        qtbot.wait(50)
        QApplication.processEvents()
        return [box.geometry() for box in boxes]

    window.resize(1400, 860)
    window.resizeDocks([dock], [600], Qt.Orientation.Horizontal)
    wide = laid_out()
    assert len({rect.y() for rect in wide}) == 2 and len({rect.x() for rect in wide}) == 2

    window.resizeDocks([dock], [dock.minimumSizeHint().width()], Qt.Orientation.Horizontal)
    narrow = laid_out()
    assert len({rect.x() for rect in narrow}) == 1 and len({rect.y() for rect in narrow}) == 4
    for placed in (wide, narrow):
        assert not any(a.intersects(b) for i, a in enumerate(placed) for b in placed[i + 1:])
    for box in boxes:  # whole, inside the row the form gave them
        assert checks.rect().contains(box.geometry()) and box.width() >= box.sizeHint().width()
    # the window may be narrower than two check boxes side by side would allow
    assert dock.minimumSizeHint().width() < checks.sizeHint().width() + 60


def test_a_move_soon_after_the_window_shows_keeps_it_on_the_screen(qtbot, settings, monkeypatch):
    """A window manager frames the window after mapping it (openbox, a 1280×720 screen): the clamp made at the
    first pass saw no frame yet, and the status bar stayed under the screen's edge. The move into the frame is
    when the frame is known."""
    import cfexplorer.app as app_module
    from cfexplorer.app import MainWindow, make_application

    make_application()
    clamped = []
    monkeypatch.setattr(app_module, "clamp_to_screen", lambda window: clamped.append(window.pos()))
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: len(clamped) >= 1)  # the first pass's
    before = len(clamped)
    window.move(window.x() + 1, window.y() + 20)  # as a window manager's frame moves it
    assert len(clamped) > before
    window._clamp_on_moves_until = 0.0  # later moves are the user's own
    before = len(clamped)
    window.move(window.x() + 5, window.y())
    assert len(clamped) == before
    window.close()


def test_the_message_bar_is_as_tall_as_its_text_on_a_large_window(qtbot, window):
    """At 1920 x 1080 a one-line error took a share of the grid's height: a red bar 187 px tall."""
    window.resize(1900, 1000)
    window.message_bar.show_message("a factor file needs a 'name' column", "error")
    qtbot.waitUntil(lambda: window.message_bar.isVisible())
    qtbot.wait(50)
    line = window.message_bar.label.fontMetrics().height()
    assert window.message_bar.height() < 3 * line + 20
