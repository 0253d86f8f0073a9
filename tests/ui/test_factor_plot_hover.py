"""Hover among MovieLens 25M's numbers of points (59,047 movies, 162,541 users): the point under the mouse
is the one reported (the speed is measured by benchmarks/bench_factor_space.py, not here)."""

from concurrent.futures import Future

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest

from cfexplorer.core.embedding import ITEM_KIND, USER_KIND
from cfexplorer.core.point_index import PointIndex
from cfexplorer.ui import factor_plot
from cfexplorer.ui.factor_plot import FactorPlot
from cfexplorer.ui.factor_space import PLAIN

from .widgets import shown_alone

MOVIES, USERS = 59_047, 162_541
HOLE = 0.06  # data units around each target without other points: 19 pixels, past the hover radius


def test_hover_reports_the_point_under_the_mouse_among_221_588(qtbot):
    rng = np.random.default_rng(0)
    movies, users = rng.uniform(-1, 1, (MOVIES, 2)), rng.uniform(-1, 1, (USERS, 2)) * (1, 0.8)
    targets = {(ITEM_KIND, 12_345): (0.25, -0.4), (USER_KIND, 100_000): (-0.6, 0.3)}
    empty = np.array([0.7, 0.7])
    for xy in (movies, users):
        for at in [*targets.values(), empty]:
            xy[np.hypot(*(xy - at).T) < HOLE] = (-5, -5)  # moved out of view
    for (kind, row), at in targets.items():
        (movies if kind == ITEM_KIND else users)[row] = at

    plot = shown_alone(qtbot, FactorPlot(), 640, 480)
    plot.set_visible_kinds((ITEM_KIND, USER_KIND))
    for kind, xy in ((ITEM_KIND, movies), (USER_KIND, users)):
        plot.set_points(kind, xy, PLAIN, np.zeros(len(xy), dtype=np.intp), np.full(len(xy), 5.0))
    plot.view_box.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)

    def hover(x, y):
        at = plot.mapFromScene(plot.view_box.mapViewToScene(pg.Point(x, y)))
        QTest.mouseMove(plot.viewport(), QPoint(at.x(), at.y()))

    for (kind, row), at in targets.items():
        hover(*at)
        qtbot.waitUntil(lambda: plot.hovered == (kind, row), timeout=3000)
    hover(*empty)
    qtbot.waitUntil(lambda: plot.hovered == ("", -1), timeout=3000)


def test_a_hover_does_not_draw_the_points_again(qtbot):
    """The ring and text box of a hover repaint over a cached picture of the scatter: the points are not drawn
    again (that was 40 ms per mouse move with 59,047 movies)."""
    rng = np.random.default_rng(1)
    xy = rng.uniform(-1, 1, (5000, 2))
    plot = shown_alone(qtbot, FactorPlot(), 640, 480)
    plot.set_points(ITEM_KIND, xy, PLAIN, np.zeros(len(xy), dtype=np.intp), np.full(len(xy), 5.0))
    scatter, drawn = plot.scatters[ITEM_KIND], []
    cull = scatter._maskAt  # pyqtgraph's paint culls the points to the view first, each time it draws them
    scatter._maskAt = lambda rect: (drawn.append(rect), cull(rect))[1]
    plot.view_box.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
    qtbot.waitUntil(lambda: len(drawn) > 0)  # the view's new range is applied, and the points drawn, at the next paint
    qtbot.wait(50)
    drawn.clear()
    for row in (10, 20, 30):
        at = plot.mapFromScene(plot.scene_position_of(ITEM_KIND, row))
        QTest.mouseMove(plot.viewport(), QPoint(at.x(), at.y()))
        qtbot.waitUntil(lambda: plot.hovered[1] >= 0 and plot.hover_marker.isVisible(), timeout=3000)
        plot.show_hover(*plot.hovered, f"point {plot.hovered[1]}")
        plot.viewport().repaint()
    assert plot.hover_text.isVisible() and drawn == []


def test_the_hover_box_opens_towards_the_middle_and_stays_inside_the_plot(qtbot):
    plot = shown_alone(qtbot, FactorPlot(), 480, 360)
    corners = np.array([[-0.95, -0.95], [0.95, -0.95], [-0.95, 0.95], [0.95, 0.95], [0.0, 0.0]])
    plot.set_points(ITEM_KIND, corners, PLAIN, np.zeros(len(corners), dtype=np.intp), np.full(len(corners), 5.0))
    plot.view_box.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
    view = plot.view_box.sceneBoundingRect()
    for row in range(len(corners)):
        plot.show_hover(ITEM_KIND, row, "A Movie With a Rather Long Title (1999)\nbias +0.123\n42 ratings")
        qtbot.wait(10)  # a text item places itself (pixel-sized, in no data units) on the next turn
        box = plot.hover_text.sceneBoundingRect()
        assert view.contains(box), (row, box, view)


def test_a_hover_box_wider_than_a_narrow_plot_wraps_its_lines_inside_it(qtbot):
    """In a narrow factor plot (a projector's pane) the box ran past the plot's right edge, its factors' line
    cut off mid-number."""
    plot = shown_alone(qtbot, FactorPlot(), 220, 360)
    corners = np.array([[-0.95, -0.95], [0.95, -0.95], [-0.95, 0.95], [0.95, 0.95], [0.0, 0.0]])
    plot.set_points(ITEM_KIND, corners, PLAIN, np.zeros(len(corners), dtype=np.intp), np.full(len(corners), 5.0))
    plot.view_box.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
    view = plot.view_box.sceneBoundingRect()
    text = ("Waiting to Exhale (1995)  (movie)\nbias +0.123\n7 ratings, 0 of them trained on\n"
            "factors [+0.044, +0.031, -0.272, -0.175, -0.290, +0.359, …]")
    for row in range(len(corners)):
        plot.show_hover(ITEM_KIND, row, text)
        qtbot.wait(10)
        box = plot.hover_text.sceneBoundingRect()
        assert view.contains(box), (row, box, view)
    assert plot.hover_text.textItem.toPlainText() == text  # wrapped where shown, not shortened
    plot.resize(900, 360)  # room again: one line each
    qtbot.wait(20)
    plot.show_hover(ITEM_KIND, 4, text)
    assert plot.hover_text.textItem.textWidth() == -1


def test_the_first_hover_scans_while_a_worker_thread_builds_the_tree(qtbot, monkeypatch):
    """Building the tree of 221,588 points took up to 250 ms of the first hover: the hover now measures every
    point while the tree is built on a worker thread, and takes the tree once it is there; points replaced
    meanwhile (training moves them) are asked for once that build ends, never one build per frame, and a tree of
    old points is never asked."""
    builds = []

    def build_later(coordinates):
        builds.append((coordinates, Future()))
        return builds[-1][1]

    monkeypatch.setattr(factor_plot, "_build_in_background", build_later)
    monkeypatch.setattr(factor_plot, "SCAN_BELOW", 100)
    rng = np.random.default_rng(2)
    plot = shown_alone(qtbot, FactorPlot(), 640, 480)
    plot.view_box.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)

    def show(xy):
        plot.set_points(ITEM_KIND, xy, PLAIN, np.zeros(len(xy), dtype=np.intp), np.full(len(xy), 5.0))

    def hovered_at(row):
        return plot.point_at(plot.scene_position_of(ITEM_KIND, row))

    first = rng.uniform(-1, 1, (500, 2))
    show(first)
    assert hovered_at(123) == (ITEM_KIND, 123) and len(builds) == 1  # scanned; the tree asked for
    assert hovered_at(321) == (ITEM_KIND, 321) and len(builds) == 1  # still building: scanned, not asked again
    np.testing.assert_array_equal(builds[0][0], first)
    assert not builds[0][0].flags.writeable  # the plot's own copy: nothing refills it under the worker

    moved = rng.uniform(-1, 1, (500, 2))
    show(moved)  # as a training frame does
    assert hovered_at(77) == (ITEM_KIND, 77) and len(builds) == 1  # the old build still runs: no second one
    builds[0][1].set_result(PointIndex(builds[0][0]))
    assert hovered_at(77) == (ITEM_KIND, 77) and len(builds) == 2  # the old tree is not asked; the new one is
    np.testing.assert_array_equal(builds[1][0], moved)

    tree = PointIndex(builds[1][0])
    asked = []
    nearest = tree.nearest
    tree.nearest = lambda *args: (asked.append(args), nearest(*args))[1]
    builds[1][1].set_result(tree)
    assert hovered_at(400) == (ITEM_KIND, 400) and len(asked) == 1 and len(builds) == 2  # answered by the tree

    show(rng.uniform(-1, 1, (500, 2)))
    assert hovered_at(5) == (ITEM_KIND, 5) and len(builds) == 3
    plot.set_visible_kinds(())  # hidden and shown again while that build runs: still one build at a time
    plot.set_visible_kinds((ITEM_KIND,))
    show(rng.uniform(-1, 1, (500, 2)))
    assert hovered_at(6) == (ITEM_KIND, 6) and len(builds) == 3
    builds[2][1].set_exception(MemoryError())  # the superseded build ends (failed): the shown points' is asked for
    assert hovered_at(6) == (ITEM_KIND, 6) and len(builds) == 4
    builds[3][1].set_exception(MemoryError())
    assert hovered_at(7) == (ITEM_KIND, 7) and len(builds) == 4  # a failed build leaves these points to the scan


def test_the_worker_thread_builds_the_same_tree(qtbot):
    """The real worker thread: the tree arrives and answers as the scan did."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(-1, 1, (factor_plot.SCAN_BELOW + 10, 2))
    plot = shown_alone(qtbot, FactorPlot(), 640, 480)
    plot.set_points(ITEM_KIND, xy, PLAIN, np.zeros(len(xy), dtype=np.intp), np.full(len(xy), 5.0))
    plot.view_box.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
    assert plot.point_index(ITEM_KIND) is None  # asked for, not there yet (a scan answers meanwhile)
    qtbot.waitUntil(lambda: plot.point_index(ITEM_KIND) is not None, timeout=10_000)
    tree = plot.point_index(ITEM_KIND)
    assert tree.coordinates is plot.coordinates[ITEM_KIND]
    for row in rng.integers(0, len(xy), 20):
        scene = plot.scene_position_of(ITEM_KIND, int(row))
        here, pixel = plot.view_box.mapSceneToView(scene), plot.view_box.viewPixelSize()
        assert tree.nearest(here.x(), here.y(), pixel, factor_plot.HOVER_RADIUS_PX)[0] == row
        assert plot.point_at(scene) == (ITEM_KIND, row)
