"""The factor scatter's fast path: a new frame of the same points moves them (and restyles only the points
whose colour or size changed) and must look exactly like drawing that frame from scratch."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from cfexplorer.core.embedding import ITEM_KIND
from cfexplorer.ui.factor_plot import FactorPlot, FrameScatter
from cfexplorer.ui.factor_space import CATEGORY_PALETTE, DIVERGING

from .widgets import shown_alone

N_POINTS = 400


def shown_plot(qtbot):
    return shown_alone(qtbot, FactorPlot(), 420, 320)


def frame_the_view(plot):
    plot.view_box.setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)  # compared plots frame the same region


def draw(plot, xy, palette, styles, sizes):
    plot.set_points(ITEM_KIND, xy, palette, styles, sizes)
    frame_the_view(plot)


def draw_with_pyqtgraph(plot, xy, palette, styles, sizes):
    """The reference: the same points in pyqtgraph's own ScatterPlotItem, through its public setData."""
    ours = plot.scatters[ITEM_KIND]
    plot.removeItem(ours)
    reference = pg.ScatterPlotItem(pxMode=True, pen=ours.opts["pen"])
    reference.setCacheMode(ours.cacheMode())  # drawn through a cached picture as ours is (blending rounds alike)
    plot.addItem(reference)
    reference.setData(x=xy[:, 0], y=xy[:, 1], brush=[palette[s] for s in styles], size=sizes, symbol="o")
    frame_the_view(plot)


def pixels(plot) -> np.ndarray:
    image = plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine()).copy()


def frames(seed=0):
    rng = np.random.default_rng(seed)
    first = rng.normal(size=(N_POINTS, 2))
    styles = rng.integers(0, len(DIVERGING), N_POINTS)
    sizes = rng.uniform(5, 18, N_POINTS)
    later_styles, later_sizes = styles.copy(), sizes.copy()
    later_styles[:25] = (later_styles[:25] + 7) % len(DIVERGING)  # a few biases crossed a colour level
    later_sizes[30:35] *= 1.5
    return (first, styles, sizes), (first * 0.8 + 0.3, later_styles, later_sizes)


def test_new_points_look_as_pyqtgraph_draws_them(qtbot):
    first, _ = frames(4)
    ours, reference = shown_plot(qtbot), shown_plot(qtbot)
    draw(ours, first[0], DIVERGING, *first[1:])
    draw_with_pyqtgraph(reference, first[0], DIVERGING, *first[1:])
    assert pixels(ours).shape == pixels(reference).shape
    np.testing.assert_array_equal(pixels(ours), pixels(reference))


def test_a_new_frame_moves_the_points_and_looks_like_drawing_it_afresh(qtbot):
    first, later = frames()
    moved = shown_plot(qtbot)
    draw(moved, first[0], DIVERGING, *first[1:])
    full_restyles = []
    moved.scatters[ITEM_KIND].setData = lambda *a, **k: full_restyles.append(1)  # the slow path would call this
    draw(moved, later[0], DIVERGING, *later[1:])
    assert full_restyles == []  # the fast path was taken
    fresh = shown_plot(qtbot)
    draw_with_pyqtgraph(fresh, later[0], DIVERGING, *later[1:])
    np.testing.assert_array_equal(moved.coordinates[ITEM_KIND], later[0])
    assert pixels(moved).shape == pixels(fresh).shape
    np.testing.assert_array_equal(pixels(moved), pixels(fresh))
    # the scatter's own table holds the new frame (what bounds, hover and export read)
    data = moved.scatters[ITEM_KIND].data
    np.testing.assert_array_equal(np.column_stack([data["x"], data["y"]]), later[0])
    np.testing.assert_array_equal(data["size"], later[2])
    assert all(data["brush"][i] is DIVERGING[later[1][i]] for i in range(N_POINTS))


def test_another_palette_or_number_of_points_draws_from_scratch(qtbot):
    first, later = frames(1)
    plot = shown_plot(qtbot)
    draw(plot, first[0], DIVERGING, *first[1:])
    calls = []
    original = plot.scatters[ITEM_KIND].setData
    plot.scatters[ITEM_KIND].setData = lambda *a, **k: (calls.append(1), original(*a, **k))
    categories = np.arange(N_POINTS) % len(CATEGORY_PALETTE)
    draw(plot, later[0], CATEGORY_PALETTE, categories, later[2])
    draw(plot, later[0][:-1], CATEGORY_PALETTE, categories[:-1], later[2][:-1])
    assert calls == [1, 1]
    brushes = plot.scatters[ITEM_KIND].data["brush"]
    assert len(brushes) == N_POINTS - 1 and all(brushes[i] is CATEGORY_PALETTE[categories[i]] for i in range(5))


def test_labels_of_a_new_frame_follow_their_points(qtbot):
    first, later = frames(2)
    plot = shown_plot(qtbot)
    draw(plot, first[0], DIVERGING, *first[1:])
    plot.set_labels([(ITEM_KIND, 3, "three"), (ITEM_KIND, 9, "nine")])
    made = list(plot.labels)
    draw(plot, later[0], DIVERGING, *later[1:])
    plot.set_labels([(ITEM_KIND, 3, "three"), (ITEM_KIND, 9, "nine")])
    assert plot.labels == made  # the same label items, moved
    np.testing.assert_allclose([at_the_point(plot, label, index) for label, index in zip(plot.labels, (3, 9))],
                               later[0][[3, 9]])
    plot.set_labels([(ITEM_KIND, 4, "four")])
    assert plot.label_texts() == ["four"]
    np.testing.assert_allclose(at_the_point(plot, plot.labels[0], 4), later[0][4])


def at_the_point(plot, label, index) -> tuple[float, float]:
    """Where a label's point is: a name stands beside its point and the selection ring, on the side it reads
    from (its anchor), by the clearance the plot gives it."""
    x_per_pixel = abs(plot.view_box.viewPixelSize()[0])
    shift = plot._label_clearance(ITEM_KIND, index) * x_per_pixel * (-1.0 if label.anchor[0] == 1.0 else 1.0)
    assert plot._label_clearance(ITEM_KIND, index) >= 8  # past the ring's radius
    return label.pos().x() - shift, label.pos().y()


@pytest.mark.parametrize("style", ["brush and size per point", "one brush, sizes per point", "symbol per point",
                                   "pen per point"])
def test_the_frame_scatter_draws_what_pyqtgraphs_scatter_draws(qtbot, style):
    rng = np.random.default_rng(5)
    xy = rng.normal(size=(300, 2))
    options = {"x": xy[:, 0], "y": xy[:, 1], "size": np.round(rng.uniform(4, 16, 300))}
    if style != "one brush, sizes per point":
        options["brush"] = [DIVERGING[i] for i in rng.integers(0, len(DIVERGING), 300)]
    if style == "symbol per point":
        options["symbol"] = list(rng.choice(["o", "t", "s"], 300))
    if style == "pen per point":
        options["pen"] = [pg.mkPen(0, 0, 0), pg.mkPen(200, 0, 0, width=2)] * 150
    images = []
    for kind in (FrameScatter, pg.ScatterPlotItem):
        plot = shown_alone(qtbot, pg.PlotWidget(), 360, 280)
        scatter = kind(pxMode=True, pen=pg.mkPen(60, 60, 60, 120, width=0.5))
        plot.addItem(scatter)
        scatter.setData(**options)
        plot.getViewBox().setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)
        images.append(pixels(plot))
    np.testing.assert_array_equal(images[0], images[1])


@pytest.mark.parametrize("pens", ["one pen", "pen per point"])
def test_restyle_by_style_codes_draws_what_pyqtgraph_draws(qtbot, pens):
    """FrameScatter.restyle gives points (brush, size) by code; with a pen per point it takes pyqtgraph's way."""
    rng = np.random.default_rng(8)
    xy = rng.normal(size=(300, 2))
    size_values = np.array([6.0, 9.0, 13.5])
    brushes = np.array([brush for brush in DIVERGING for _ in size_values], dtype=object)
    sizes = np.tile(size_values, len(DIVERGING))
    codes = rng.integers(0, len(brushes), 300)
    restyled = rng.random(300) < 0.5
    options = {"x": xy[:, 0], "y": xy[:, 1], "size": 7.0, "brush": [DIVERGING[3]] * 300}
    if pens == "pen per point":
        options["pen"] = [pg.mkPen(0, 0, 0), pg.mkPen(200, 0, 0, width=2)] * 150
    final_brushes = np.where(restyled, brushes[codes], options["brush"])
    final_sizes = np.where(restyled, sizes[codes], 7.0)
    images = []
    for way in ("restyle", "pyqtgraph"):
        plot = shown_alone(qtbot, pg.PlotWidget(), 360, 280)
        scatter = (FrameScatter if way == "restyle" else pg.ScatterPlotItem)(
            pxMode=True, pen=pg.mkPen(60, 60, 60, 120, width=0.5))
        plot.addItem(scatter)
        if way == "restyle":
            scatter.setData(**options)
            scatter.restyle(restyled, codes[restyled], brushes, sizes)
            assert all(scatter.data["brush"][i] is final_brushes[i] for i in range(300))
            size = scatter.data["size"]
            np.testing.assert_array_equal(np.where(size == -1, scatter.opts["size"], size), final_sizes)
        else:
            scatter.setData(**{**options, "brush": list(final_brushes), "size": final_sizes})
        plot.getViewBox().setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)
        images.append(pixels(plot))
    np.testing.assert_array_equal(images[0], images[1])


def test_names_that_would_cover_one_placed_before_are_not_drawn_and_counted(qtbot):
    """A cluster of 30 named points: the first names in the list (the selection, the most rated) are drawn,
    a name that would cover one already drawn is not, and how many are hidden is told. The hovered point's
    name comes first."""
    plot = shown_plot(qtbot)
    rng = np.random.default_rng(3)
    xy = np.vstack([rng.normal(scale=0.05, size=(30, 2)), [[2.0, 2.0]]])  # a tight cluster and one apart
    plot.set_points(ITEM_KIND, xy, DIVERGING, np.zeros(len(xy), dtype=np.intp), np.full(len(xy), 8.0))
    frame_the_view(plot)
    told = []
    plot.sig_labels_placed.connect(told.append)
    plot.set_labels([(ITEM_KIND, i, f"movie number {i}") for i in range(len(xy))])
    rects = plot.placed_label_rects()
    assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    drawn = [key[1] for label, key in zip(plot.labels, plot._label_keys) if label.isVisible()]
    assert 0 in drawn and 30 in drawn, "the first name, and the one with room around it, are drawn"
    assert plot.labels_hidden == len(xy) - len(drawn) > 10 and told[-1] == plot.labels_hidden
    assert len(rects) == len(drawn)

    hidden = next(key[1] for label, key in zip(plot.labels, plot._label_keys) if not label.isVisible())
    plot._set_hovered(ITEM_KIND, hidden)
    assert plot.labels[hidden].isVisible()
    rects = plot.placed_label_rects()
    assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])


# --- large frames, drawn a chunk per pass of the event loop -----------------------------------------------------
N_LARGE, LARGE_FROM, PER_PASS = 1_500, 1_000, 400


@pytest.fixture
def chunks(monkeypatch):
    """Frames of LARGE_FROM points or more drawn PER_PASS points a pass; the sizes of the chunks drawn."""
    from cfexplorer.ui import factor_plot

    monkeypatch.setattr(factor_plot, "DRAW_IN_PASSES_FROM", LARGE_FROM)
    monkeypatch.setattr(factor_plot, "POINTS_PER_PASS", PER_PASS)
    drawn = []
    draw_chunk = factor_plot._Picture.draw_chunk

    def counted(picture, count):
        before = picture._drawn
        draw_chunk(picture, count)
        drawn.append(picture._drawn - before)
    monkeypatch.setattr(factor_plot._Picture, "draw_chunk", counted)
    return drawn


def large_frames(seed=6, count=3):
    rng = np.random.default_rng(seed)
    xy = rng.normal(size=(N_LARGE, 2))
    styles = rng.integers(0, len(DIVERGING), N_LARGE)
    sizes = rng.uniform(5, 18, N_LARGE)
    out = []
    for _ in range(count):
        out.append((xy, styles.copy(), sizes))
        xy = xy * 0.9 + rng.normal(scale=0.05, size=xy.shape)
        styles[rng.integers(0, N_LARGE, 40)] = rng.integers(0, len(DIVERGING), 40)  # some colours change
    return out


def drawn_at_once(qtbot, frame) -> np.ndarray:
    plot = shown_plot(qtbot)
    draw(plot, frame[0], DIVERGING, *frame[1:])
    return settled_pixels(qtbot, plot)


def settled_pixels(qtbot, plot) -> np.ndarray:
    """The plot once its axes have taken the width of their labels (some passes of the event loop later: more
    on a loaded machine), that is, once two pictures 20 ms apart are the same."""
    shown = pixels(plot)
    for _ in range(100):
        qtbot.wait(20)
        before, shown = shown, pixels(plot)
        if np.array_equal(before, shown):
            break
    return shown


def pyqtgraph_paints(monkeypatch) -> list:
    """Each call of pyqtgraph's own (all at once) paint of a scatter."""
    calls = []
    paint = pg.ScatterPlotItem.paint
    monkeypatch.setattr(pg.ScatterPlotItem, "paint", lambda item, *args: (calls.append(item), paint(item, *args)))
    return calls


def test_a_large_frame_is_drawn_a_chunk_per_pass_and_looks_like_one_drawn_at_once(qtbot, chunks, monkeypatch):
    first, second, third = large_frames()
    plot = shown_plot(qtbot)
    draw(plot, first[0], DIVERGING, *first[1:])
    shown_first = settled_pixels(qtbot, plot)
    scatter = plot.scatters[ITEM_KIND]
    for frame in (second, third):
        chunks.clear()
        plot.set_points(ITEM_KIND, frame[0], DIVERGING, *frame[1:])  # a training frame: the view stays
        assert chunks == [] and scatter.drawing_in_passes  # nothing drawn in the frame's own pass
        qtbot.waitUntil(lambda: not scatter.drawing_in_passes)
        in_view = np.all(np.abs(frame[0]) < 3, axis=1).sum()  # and a few beyond, whose symbols reach in
        assert in_view <= sum(chunks) <= N_LARGE and max(chunks) == PER_PASS
        assert len(chunks) == -(-sum(chunks) // PER_PASS)
        np.testing.assert_array_equal(settled_pixels(qtbot, plot), drawn_at_once(qtbot, frame))
    # Until the next picture is ready the view shows the last one, and pyqtgraph draws nothing at once.
    paints = pyqtgraph_paints(monkeypatch)
    plot.set_points(ITEM_KIND, first[0], DIVERGING, *first[1:])
    np.testing.assert_array_equal(pixels(plot), drawn_at_once(qtbot, third))
    qtbot.waitUntil(lambda: not scatter.drawing_in_passes)
    np.testing.assert_array_equal(settled_pixels(qtbot, plot), shown_first)
    assert scatter not in paints


def test_a_pan_while_a_frame_is_drawn_shows_the_new_points_at_once(qtbot, chunks):
    first, second, _ = large_frames(7)
    plot = shown_plot(qtbot)
    draw(plot, first[0], DIVERGING, *first[1:])
    pixels(plot)
    plot.set_points(ITEM_KIND, second[0], DIVERGING, *second[1:])
    plot.view_box.setRange(xRange=(-2, 4), yRange=(-3, 3), padding=0)  # the user pans before the first chunk
    panned = shown_plot(qtbot)
    panned.set_points(ITEM_KIND, second[0], DIVERGING, *second[1:])
    panned.view_box.setRange(xRange=(-2, 4), yRange=(-3, 3), padding=0)
    np.testing.assert_array_equal(settled_pixels(qtbot, plot), settled_pixels(qtbot, panned))
    qtbot.waitUntil(lambda: not plot.scatters[ITEM_KIND].drawing_in_passes)  # finished for the old view:
    # not shown
    np.testing.assert_array_equal(settled_pixels(qtbot, plot), settled_pixels(qtbot, panned))


def test_points_hidden_while_a_frame_is_drawn_stop_its_drawing(qtbot, chunks, monkeypatch):
    from cfexplorer.ui import factor_plot

    first, second, _ = large_frames(8)
    plot = shown_plot(qtbot)
    draw(plot, first[0], DIVERGING, *first[1:])
    pixels(plot)
    draw_chunk = factor_plot._Picture.draw_chunk  # counted by the fixture

    def hide_after_the_first(picture, count):  # in the pass of the first chunk, however loaded the machine
        draw_chunk(picture, count)
        if len(chunks) == 1:
            plot.set_visible_kinds(())
    monkeypatch.setattr(factor_plot._Picture, "draw_chunk", hide_after_the_first)
    plot.set_points(ITEM_KIND, second[0], DIVERGING, *second[1:])
    qtbot.waitUntil(lambda: len(chunks) >= 1)
    qtbot.wait(50)
    assert len(chunks) == 1 and not plot.scatters[ITEM_KIND].drawing_in_passes
    empty = shown_plot(qtbot)
    frame_the_view(empty)
    np.testing.assert_array_equal(settled_pixels(qtbot, plot), settled_pixels(qtbot, empty))


def test_a_picture_that_cannot_be_drawn_is_reported_and_the_points_drawn_at_once(qtbot, chunks, monkeypatch):
    from cfexplorer.ui import factor_plot, qt_guard

    first, second, _ = large_frames(9)
    plot = shown_plot(qtbot)
    draw(plot, first[0], DIVERGING, *first[1:])
    settled_pixels(qtbot, plot)
    reported = []
    monkeypatch.setattr("sys.excepthook", lambda kind, error, trace: reported.append(str(error)))
    monkeypatch.setattr(qt_guard, "should_report", lambda key, now=None: True)

    def broken(picture, count):
        raise MemoryError("no room for the picture")
    monkeypatch.setattr(factor_plot._Picture, "draw_chunk", broken)
    plot.set_points(ITEM_KIND, second[0], DIVERGING, *second[1:])
    qtbot.waitUntil(lambda: reported == ["no room for the picture"])
    assert not plot.scatters[ITEM_KIND].drawing_in_passes
    np.testing.assert_array_equal(settled_pixels(qtbot, plot), drawn_at_once(qtbot, second))
