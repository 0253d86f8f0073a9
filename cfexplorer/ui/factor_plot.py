"""The scatter of the factor space: points per kind (movies, users), hover, click and rubber-band
selection, highlighted selection and text labels. It knows coordinates and names, not models."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pyqtgraph as pg
import pyqtgraph.functions as fn
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsRectItem

from ..core.embedding import ITEM_KIND, KINDS
from ..core.point_index import SCAN_BELOW, PointIndex, nearest_by_scan
from ..lazy import load_now
from .plot_menu import MenuOnDemandViewBox
from .plot_text import UncrowdedAxis, plain_axis_numbers, set_plot_text_size
from .qt_guard import guard_event, qt_virtual, report_current_exception

HOVER_RADIUS_PX = 10
SYMBOLS = {ITEM_KIND: "o", "user": "t"}
MAX_LABELS = 40
LABEL_GAP_PX = 2  # between two names drawn, and between a name and its point
RING_SIZE_PX = 16  # the selection's ring around a point
# A frame of at least this many points is drawn a chunk per pass of the event loop (see FrameScatter):
# MovieLens 25M's 59,047 movies took 35-50 ms of one pass to draw, a stall the user feels while training.
DRAW_IN_PASSES_FROM = 20_000
POINTS_PER_PASS = 12_000
_index_builder: ThreadPoolExecutor | None = None  # the worker thread that builds the plots' spatial indexes


def _build_in_background(coordinates: np.ndarray) -> Future:
    """A PointIndex of ``coordinates`` built on a worker thread (scipy's build releases the GIL)."""
    global _index_builder
    if _index_builder is None:
        load_now()  # scipy.spatial loaded here, not raced from the worker (lazy.py)
        _index_builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cfexplorer-point-index")
    return _index_builder.submit(PointIndex, coordinates)


class SelectingViewBox(MenuOnDemandViewBox):
    """Drag pans as usual; Shift+drag draws a rectangle that selects the points inside it
    (Ctrl+Shift+drag adds them to the selection)."""

    sig_rect_selected = Signal(QRectF, bool)  # rectangle in data coordinates, add to selection

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.band = QGraphicsRectItem()
        pen = QPen(QColor(33, 102, 172))
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        self.band.setPen(pen)
        self.band.setBrush(pg.mkBrush(33, 102, 172, 40))
        self.band.hide()
        self.addItem(self.band, ignoreBounds=True)

    @guard_event
    def mouseDragEvent(self, event, axis=None):
        if event.button() != Qt.MouseButton.LeftButton or not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().mouseDragEvent(event, axis)
            return
        event.accept()
        rect = QRectF(self.mapToView(event.buttonDownPos()), self.mapToView(event.pos())).normalized()
        self.band.setRect(rect)
        self.band.setVisible(not event.isFinish())
        if event.isFinish():
            add = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self.sig_rect_selected.emit(rect, add)


class FrameScatter(pg.ScatterPlotItem):
    """A scatter whose points share one symbol and one pen and differ in brush and size, as the factor
    space's do.

    pyqtgraph finds each point's pre-rendered symbol in its atlas one point at a time, in Python: 25 ms
    for MovieLens's 9,724 movies, twice that while training competes for the GIL. Here each distinct
    (brush, size) is looked up once and handed to its points by index: :meth:`restyle` when the caller
    numbers the styles itself (the factor plot's frames), ``updateSpots`` otherwise. Points with a symbol
    or pen of their own, and hover styles, take pyqtgraph's own way.

    A large frame is drawn into a picture a chunk of points per pass of the event loop, the frame before it
    shown meanwhile (:meth:`show_moved_points`); a pan, a zoom or a resize draws the points at once."""

    def __init__(self, *args, **kwargs):
        self._painted_for = None  # the device (see _device_key) of the last paint: frames drawn in passes need one
        self._picture: _Picture | None = None  # the points drawn in passes, shown until the next is ready
        self._drawing: _Picture | None = None  # the next picture, a chunk of points drawn per pass
        self._spare_image: QImage | None = None  # the picture before the one shown, to draw the next into
        self._export_ratio: float | None = None  # while a picture is exported: the atlas's pixel ratio
        self._draw_timer = QTimer()  # before pyqtgraph's __init__, which invalidates
        self._draw_timer.setInterval(0)
        self._draw_timer.timeout.connect(self._draw_next_chunk)
        super().__init__(*args, **kwargs)

    @qt_virtual(None)
    def paint(self, painter, option, widget=None):
        if self._export_ratio is not None:
            # no widget: pyqtgraph would make the atlas again at the screen's ratio (symbols_at_ratio)
            super().paint(painter, option, None)
            return
        device = self._device_key()
        self._painted_for = device
        picture = self._picture
        # (a picture kept is complete, and of these points or of the frame before one being drawn: anything
        # else invalidates, which drops it)
        if picture is not None and device is not None and _same_device(picture.device, device) \
                and self._exportOpts is False:
            # The last picture drawn in passes (while the next one is drawn: the points a frame behind).
            offset = painter.transform().map(QPointF(0, 0)) - device[0].map(QPointF(0, 0))
            painter.resetTransform()
            painter.drawImage(offset, picture.image)
            return
        super().paint(painter, option, widget)  # pyqtgraph's paint

    # --- frames drawn in passes --------------------------------------------------------------------------
    @property
    def drawing_in_passes(self) -> bool:
        """Whether a frame is being drawn a chunk per pass (the one before it shown meanwhile)."""
        return self._drawing is not None

    def show_moved_points(self):
        """The points' table has a new frame (moved, restyled): have it drawn and the view told of its bounds.

        A frame of DRAW_IN_PASSES_FROM points or more, in a view painted as it is now, is drawn into a picture
        a chunk of POINTS_PER_PASS per pass of the event loop (what the user does in between is handled in
        between), the frame before shown meanwhile; the bounds change with the picture."""
        self._drawing = None
        if len(self.data) >= DRAW_IN_PASSES_FROM and self.isVisible() and self._exportOpts is False \
                and self._painted_for is not None and _same_device(self._painted_for, self._device_key()):
            self._drawing = self._start_picture(self._painted_for)
            if self._drawing is not None:
                self._draw_timer.start()
                return
        self._draw_timer.stop()
        self._show_new_geometry()
        self.invalidate()

    def invalidate(self):
        """Drawn at once, pyqtgraph's way, on the next paint: a picture drawn in passes is dropped."""
        self._picture = self._drawing = None
        self._draw_timer.stop()
        super().invalidate()

    def _show_new_geometry(self):
        # What ScatterPlotItem.addPoints does once its table is filled: new bounds (pyqtgraph 0.14, pinned;
        # tests/ui/test_factor_plot.py compares the pixels with pyqtgraph's own setData).
        self.prepareGeometryChange()
        self.informViewBoundsChanged()
        self.bounds = [None, None]
        self.sigPlotChanged.emit(self)

    def _device_key(self):
        """(item-to-device transform, viewport size, pixel ratio) of the view this scatter is drawn in."""
        view = self.getViewWidget()
        transform = self.deviceTransform_() if view is not None else None
        if transform is None:
            return None
        viewport = view.viewport()
        return transform, (viewport.width(), viewport.height()), viewport.devicePixelRatioF()

    def _start_picture(self, device) -> "_Picture | None":
        _, (width, height), ratio = device
        if width <= 0 or height <= 0 or not self.opts["pxMode"] or not self.opts["useCache"] \
                or self.fragmentAtlas.devicePixelRatio() != ratio:
            return None
        spare, self._spare_image = self._spare_image, None
        if spare is None or spare.devicePixelRatio() != ratio or \
                (spare.width(), spare.height()) != (round(width * ratio), round(height * ratio)):
            spare = QImage(round(width * ratio), round(height * ratio), QImage.Format.Format_ARGB32_Premultiplied)
            spare.setDevicePixelRatio(ratio)
        return _Picture(device, spare)

    def _prepare_picture(self, picture: "_Picture"):
        """The first pass of a picture: its points' device positions and atlas rectangles, read from the table
        as it is now (any change to the table since the picture began started another picture or dropped it)."""
        transform, (width, height), ratio = picture.device
        table = self.data
        xy = fn.transformCoordinates(transform, np.vstack([table["x"], table["y"]]))
        xy = fn.clip_array(xy, -2 ** 30, 2 ** 30)
        rects = table["sourceRect"]
        reach = max(max(int(rects["w"].max(initial=0)), int(rects["h"].max(initial=0))) / ratio, 1.0)
        inside = np.flatnonzero((xy[0] > -reach) & (xy[0] < width + reach)
                                & (xy[1] > -reach) & (xy[1] < height + reach))  # pyqtgraph leaves those out too
        # gathered into a table of their own, the rectangles' four fields lie side by side
        rects = np.frombuffer(np.ascontiguousarray(rects[inside]), dtype=int).reshape(-1, 4)
        picture.prepare(np.ascontiguousarray(xy[:, inside].T), rects, self.fragmentAtlas.pixmap, ratio)

    def _draw_next_chunk(self):
        picture = self._drawing
        if picture is None:
            self._draw_timer.stop()
            return
        try:
            if picture.prepared:
                picture.draw_chunk(POINTS_PER_PASS)
            else:
                self._prepare_picture(picture)
        except Exception:  # a slot: reported, and the points drawn the ordinary way
            self.show_drawn_at_once()
            report_current_exception("drawing the factor space's points")
            return
        if picture.complete:
            self._draw_timer.stop()
            self._drawing = None
            if self._picture is not None:
                self._spare_image = self._picture.image  # the next picture is drawn into it
            self._picture = picture
            self._show_new_geometry()
            self.update()

    def show_drawn_at_once(self):
        """A picture not finished is dropped: the points drawn the ordinary way."""
        if self._drawing is not None:
            self.invalidate()
            self._show_new_geometry()

    def _one_symbol_and_pen(self, table, points) -> bool:
        """Whether these points (a mask or indices of ``table``) take the scatter's own symbol and pen: asked of
        all the points, which is quicker than picking these out of the table (7 ms a frame for 59,047)."""
        return (bool(self.opts["pxMode"] and self.opts["useCache"]) and not self.opts["hoverable"]
                and table["symbol"].tolist().count(None) == len(table)
                and table["pen"].tolist().count(None) == len(table))

    def restyle(self, points, codes: np.ndarray, brushes: np.ndarray, sizes: np.ndarray, redraw: bool = True):
        """Give ``points`` (a mask or indices of this scatter's points) brush ``brushes[codes]`` and size
        ``sizes[codes]``: each style used looked up once in the atlas, with no sort or Python pass over the
        points (restyling MovieLens 25M's 59,047 movies by object identity took 10 ms of each frame).
        ``redraw=False``: the caller has the frame drawn (:meth:`show_moved_points`)."""
        table = self.data
        if not self._one_symbol_and_pen(table, points):
            table["brush"][points] = brushes[codes]
            table["size"][points] = sizes[codes]
            table["sourceRect"][points] = 0
            super().updateSpots()
            return
        table["brush"][points] = brushes[codes]
        table["size"][points] = sizes[codes]
        self._place_symbols(table, points, codes, brushes, sizes, redraw)

    @contextmanager
    def symbols_at_ratio(self, ratio: float):
        """Within the block, the atlas of symbols made at ``ratio`` times the screen's pixels, as pyqtgraph makes
        it again for a screen of another pixel ratio: a picture exported at four times the screen's pixels then
        stamps sharp symbols (they were the screen's, blown up and soft); then it is made at the screen's again."""
        before = self.fragmentAtlas.devicePixelRatio()
        self._remake_atlas(ratio)
        self._export_ratio = ratio
        try:
            yield
        finally:
            self._export_ratio = None
            self._remake_atlas(before)

    def _remake_atlas(self, ratio: float):
        if not (self.opts["pxMode"] and self.opts["useCache"]) or self.fragmentAtlas.devicePixelRatio() == ratio:
            return
        self.fragmentAtlas.setDevicePixelRatio(ratio)
        self.fragmentAtlas.clear()
        self.data["sourceRect"] = 0
        self.updateSpots()  # which drops the picture of the points drawn at the screen's pixels

    def updateSpots(self, dataSet=None):
        table = self.data if dataSet is None else dataSet
        stale = np.flatnonzero(table["sourceRect"]["w"] == 0)
        if not len(stale) or not self._one_symbol_and_pen(table, stale):
            super().updateSpots(dataSet)
            return
        brushes = table["brush"][stale]
        sizes = table["size"][stale]
        sizes = np.where(sizes == -1, self.opts["size"], sizes)  # -1: the scatter's own size
        _, brush_codes = np.unique(np.fromiter(map(id, brushes), dtype=np.int64, count=len(stale)),
                                   return_inverse=True)
        size_values, size_codes = np.unique(sizes, return_inverse=True)
        _, first, codes = np.unique(brush_codes * len(size_values) + size_codes, return_index=True,
                                    return_inverse=True)
        style_brushes = np.empty(len(first), dtype=object)
        style_brushes[:] = [self.opts["brush"] if brushes[i] is None else brushes[i] for i in first]
        self._place_symbols(table, stale, codes, style_brushes, sizes[first])

    def _place_symbols(self, table, points, codes, brushes, sizes, redraw: bool = True):
        """Point ``points`` of ``table`` at the atlas's picture of style ``codes`` (brush ``brushes[c]``, size
        ``sizes[c]``, each code used looked up once), then what pyqtgraph's updateSpots does after."""
        used = np.flatnonzero(np.bincount(codes, minlength=len(brushes)))
        rects = np.zeros(len(brushes), dtype=table.dtype["sourceRect"])
        if len(used):
            rects[used] = self.fragmentAtlas[[(self.opts["symbol"], sizes[i], self.opts["pen"], brushes[i])
                                              for i in used]]
        table["sourceRect"][points] = rects[codes]
        self._maybeRebuildAtlas()
        self._updateMaxSpotSizes(data=table)
        if redraw:
            self.invalidate()


def _same_device(one, other) -> bool:
    return one is not None and other is not None and one[1:] == other[1:] and _same_transform(one[0], other[0])


def _same_transform(one, other) -> bool:
    return (one.m11(), one.m12(), one.m21(), one.m22(), one.dx(), one.dy()) == \
        (other.m11(), other.m12(), other.m21(), other.m22(), other.dx(), other.dy())


class _Picture:
    """Points drawn into an image for one device (transform, size, pixel ratio), a chunk at a time."""

    def __init__(self, device, image: QImage):
        self.device, self.image = device, image
        self._xy = self._rects = self._atlas = None
        self._ratio = 1.0
        self._drawn = 0
        self._fragments = PrimitiveArray(QPainter.PixmapFragment, 10)

    def prepare(self, xy: np.ndarray, rects: np.ndarray, atlas, ratio: float):
        """The points to draw: device positions (n × 2), atlas rectangles (n × 4: x, y, w, h), the atlas."""
        self._xy, self._rects, self._atlas, self._ratio = xy, rects, atlas, ratio
        self.image.fill(0)

    @property
    def prepared(self) -> bool:
        return self._xy is not None

    @property
    def complete(self) -> bool:
        return self.prepared and self._drawn >= len(self._xy)

    def draw_chunk(self, count: int):
        """The next ``count`` points in the table's order: a point drawn later covers one drawn before, as in
        pyqtgraph's one call for all."""
        start, stop = self._drawn, min(self._drawn + count, len(self._xy))
        self._drawn = stop
        if stop <= start:
            return
        self._fragments.resize(stop - start)
        fragments = self._fragments.ndarray()
        fragments[:, 0:2] = self._xy[start:stop]
        fragments[:, 2:6] = self._rects[start:stop]
        fragments[:, 6:10] = [1 / self._ratio, 1 / self._ratio, 0.0, 1.0]
        painter = QPainter(self.image)
        try:
            painter.drawPixmapFragments(*self._fragments.drawargs(), self._atlas)
        finally:
            painter.end()


class FactorPlot(pg.PlotWidget):
    sig_point_clicked = Signal(str, int, bool)  # kind, index, add to selection (Ctrl)
    sig_empty_clicked = Signal()
    sig_rect_selected = Signal(object, bool)  # {kind: indices}, add
    sig_hovered = Signal(str, int)  # kind, index ("" and -1 when nothing is under the mouse)
    sig_labels_placed = Signal(int)  # how many names are hidden because they would cover one placed before

    def __init__(self, parent=None):
        self.view_box = SelectingViewBox()
        # tick labels that keep apart in a small pane in presentation type ("0.02" over "0.04")
        super().__init__(parent, viewBox=self.view_box,
                         axisItems={side: UncrowdedAxis(side) for side in ("left", "bottom")})
        self.setBackground("w")
        self.showGrid(x=True, y=True, alpha=0.2)
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            plain_axis_numbers(axis)  # "500 (x0.001)" for 0.5 confuses more than it helps
            # Training moves the points five times a second, not the axes: blit them (and the grid lines
            # they draw) from a cached picture instead of laying out their ticks again at every frame.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.coordinates = {kind: np.zeros((0, 2)) for kind in KINDS}
        # kind -> (coordinates, Future of their PointIndex), asked for at the first hover on them
        self._point_indexes: dict = {}
        self.scatters = {}
        for kind in KINDS:
            scatter = FrameScatter(pxMode=True, symbol=SYMBOLS[kind], pen=pg.mkPen(60, 60, 60, 120, width=0.5),
                                   name=kind)
            # A hover moves only the ring and the text box, and Qt repaints what they cover: from a picture of
            # the points, not by drawing 59,047 of them again (40 ms; 110 ms with 162,541 users too).
            scatter.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.addItem(scatter)
            self.scatters[kind] = scatter
        # what keeps a picture of itself at the screen's pixels: an exported image draws them afresh at its own scale
        self.cached_items = [self.getAxis(name) for name in ("left", "bottom")] + list(self.scatters.values())
        self.highlight = pg.ScatterPlotItem(pxMode=True, size=RING_SIZE_PX, brush=None, pen=pg.mkPen(0, 0, 0, width=2.5))
        self.highlight.setZValue(5)
        self.addItem(self.highlight)
        self.hover_marker = pg.ScatterPlotItem(pxMode=True, size=18, brush=None, pen=pg.mkPen(200, 0, 0, width=1.5))
        self.hover_marker.setZValue(6)
        self.addItem(self.hover_marker)
        self.hover_text = pg.TextItem(anchor=(0, 1), color=(30, 30, 30), fill=pg.mkBrush(255, 255, 255, 230),
                                      border=pg.mkPen(150, 150, 150))
        self.hover_text.setZValue(20)
        self.addItem(self.hover_text, ignoreBounds=True)
        self.hover_text.hide()
        self.labels: list[pg.TextItem] = []
        self.label_font = QFont(QApplication.font())  # larger in presentation mode
        self._label_keys: list[tuple[str, int, str]] = []
        self.labels_hidden = 0  # names not drawn because they would cover another (see _place_labels)
        self._axis_titles: dict = {}  # axis -> (title, shorter titles for a small plot, …)
        self._styles: dict = {}  # kind -> (palette, styles, sizes) last drawn
        self._sizes_ranked: dict = {}  # kind -> (sizes, distinct sizes, each point's rank among them)
        self.visible_kinds = {ITEM_KIND}
        self.hovered = ("", -1)
        self._mouse_proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.view_box.sig_rect_selected.connect(self._on_rect_selected)
        # panned, zoomed or resized (a name's width in data units changes): the names keep inside
        self.view_box.sigRangeChanged.connect(self._place_labels)
        self.view_box.sigResized.connect(self._place_labels)
        self.view_box.sigResized.connect(self._fit_axis_titles)

    # --- content ---------------------------------------------------------------------------------------
    def set_points(self, kind: str, coordinates: np.ndarray, palette: list, styles, sizes):
        """Scatter one kind: point i at ``coordinates[i]``, filled with ``palette[styles[i]]``, ``sizes[i]`` px.

        Training sends the same points several times a second with new coordinates. Restyling 9,724
        points costs pyqtgraph about 30 ms of the GUI thread (more while the worker competes for the
        GIL), moving them well under one; so when only coordinates and a few styles changed, the points
        move and only the changed ones are restyled."""
        # Our own read-only copy: a worker thread may be indexing it (point_index), and a caller refilling its
        # array in place must not leave a tree of the old points.
        xy = np.array(coordinates, dtype=float).reshape(-1, 2)
        xy.flags.writeable = False
        styles = np.asarray(styles, dtype=np.intp)
        sizes = np.asarray(sizes, dtype=float)
        self.coordinates[kind] = xy
        scatter = self.scatters[kind]
        shown = self._styles.get(kind)
        if shown is not None and shown[0] is palette and len(shown[1]) == len(xy) == len(scatter.data):
            restyle = (shown[1] != styles) | (shown[2] != sizes)
        else:
            # New points, in the scatter's default style first: setData's list of brushes alone would
            # cost 9 ms for 9,724 points (numpy probes each QBrush as a sequence).
            scatter.setData(x=xy[:, 0], y=xy[:, 1], symbol=SYMBOLS[kind])
            restyle = np.ones(len(xy), dtype=bool)
        table = scatter.data
        table["x"] = xy[:, 0]
        table["y"] = xy[:, 1]
        if restyle.any():
            # style code = palette entry × number of sizes + size's rank: one code per (brush, size)
            size_values, size_ranks = self._size_ranks(kind, sizes)
            codes = styles[restyle] * len(size_values) + size_ranks[restyle]
            brushes = np.empty(len(palette) * len(size_values), dtype=object)
            brushes[:] = [brush for brush in palette for _ in size_values]
            scatter.restyle(restyle, codes, brushes, np.tile(size_values, len(palette)), redraw=False)
        scatter.show_moved_points()
        self._styles[kind] = (palette, styles, sizes)

    def _size_ranks(self, kind: str, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the distinct sizes, each point's rank among them), sorted once for as long as the sizes stay the
        same (every frame of a run: sizes follow rating counts, not training)."""
        known = self._sizes_ranked.get(kind)
        if known is None or not np.array_equal(known[0], sizes):
            known = (sizes, *np.unique(sizes, return_inverse=True))
            self._sizes_ranked[kind] = known
        return known[1], known[2]

    def largest_point_radius_px(self) -> float:
        """Half the width of the largest mark drawn around a point: the largest point shown, or the selection's
        ring, whichever is larger."""
        sizes = [float(np.max(styles[2])) for kind, styles in self._styles.items()
                 if kind in self.visible_kinds and len(styles[2])]
        return _mark_radius_px(max(sizes, default=0.0))

    def set_visible_kinds(self, kinds):
        self.visible_kinds = set(kinds)
        for kind, scatter in self.scatters.items():
            scatter.setVisible(kind in self.visible_kinds)
            if kind not in self.visible_kinds:
                scatter.setData(x=[], y=[])
                self.coordinates[kind] = np.zeros((0, 2))
                held = self._point_indexes.get(kind)
                if held is not None and held[1].done():  # a build still running keeps its place: one at a time
                    del self._point_indexes[kind]

    def set_highlight(self, selection: dict):
        """Ring the selected points ({kind: indices})."""
        points = [self.coordinates[kind][indices] for kind, indices in selection.items()
                  if kind in self.visible_kinds and len(indices) and len(self.coordinates[kind])]
        xy = np.vstack(points) if points else np.zeros((0, 2))
        self.highlight.setData(x=xy[:, 0], y=xy[:, 1])

    def set_labels(self, labelled: list[tuple[str, int, str]], limit: int = MAX_LABELS):
        """Text beside points: (kind, index, text), at most ``limit``, the most important first (a name that
        would cover one placed before it is not drawn). The same labels as last time (every frame of a
        training run) are moved, not made again."""
        keys = [(kind, index, text) for kind, index, text in labelled[:limit]
                if kind in self.visible_kinds and index < len(self.coordinates[kind])]
        if keys != self._label_keys:
            for label in self.labels:
                self.removeItem(label)
            self.labels = []
            for _, _, text in keys:
                label = pg.TextItem(text, color=(20, 20, 20), anchor=(0, 0.5))
                label.setFont(self.label_font)
                label.setZValue(8)
                self.addItem(label, ignoreBounds=True)
                self.labels.append(label)
            self._label_keys = keys
        self._place_labels()

    def _place_labels(self, *_):
        """Each label beside its point, on the side where the view has room for it: to the right where the
        name fits before the plot's edge, else to the left; below points near the top, above points near the
        bottom — so that no name runs off the plot (the view box clips what crosses its edge); a name that fits
        on neither side is hidden. In order of
        importance, a name that would cover one already placed is hidden instead: clustered points would
        otherwise pile their names into one unreadable block. How many are hidden is told (sig_labels_placed)."""
        if not self.labels:
            self._set_labels_hidden(0)
            return
        rect = self.view_box.viewRect()
        left, right = rect.left(), rect.right()
        bottom, top = sorted((rect.top(), rect.bottom()))
        x_per_pixel, y_per_pixel = (abs(v) for v in self.view_box.viewPixelSize())
        placed = np.zeros((0, 4))  # left, top, right, bottom in scene pixels of the names drawn so far
        hidden = 0
        order = sorted(range(len(self.labels)), key=lambda i: self._label_keys[i][:2] != self.hovered)  # hovered 1st
        for label, (kind, index, _) in ((self.labels[i], self._label_keys[i]) for i in order):
            if index >= len(self.coordinates[kind]):  # its points are being replaced: set_labels comes next
                continue
            x, y = (float(v) for v in self.coordinates[kind][index])
            size = label.textItem.boundingRect()
            clearance = self._label_clearance(kind, index)
            width, half_height = (size.width() + clearance) * x_per_pixel, size.height() * y_per_pixel / 2
            room_right, room_left = right - x, x - left
            to_the_left = room_right < width and room_left > room_right
            vertical = 0.0 if y + half_height > top else (1.0 if y - half_height < bottom else 0.5)
            anchor = (1.0 if to_the_left else 0.0, vertical)
            if tuple(label.anchor) != anchor:
                label.setAnchor(anchor)
            # beside the point and its selection ring, not over them (the ring covered a name's first letters)
            shift = (-1.0 if to_the_left else 1.0) * clearance
            label.setPos(x + shift * x_per_pixel, y)
            if not (left <= x <= right and bottom <= y <= top):
                label.setVisible(True)  # out of view: clipped, and no name in view is covered by it
                continue
            if max(room_left, room_right) < width:  # a name longer than the view has room for on either side
                label.setVisible(False)  # hidden and counted, not cut at the edge ("ds vs. karate")
                hidden += 1
                continue
            at = self.view_box.mapViewToScene(pg.Point(x, y))
            box = np.array([at.x() + shift - anchor[0] * size.width(), at.y() - anchor[1] * size.height()])
            box = np.concatenate([box, box + (size.width(), size.height())])
            gap = LABEL_GAP_PX
            covers = ((placed[:, 0] < box[2] + gap) & (box[0] < placed[:, 2] + gap)
                      & (placed[:, 1] < box[3] + gap) & (box[1] < placed[:, 3] + gap))
            label.setVisible(not covers.any())
            if covers.any():
                hidden += 1
            else:
                placed = np.vstack([placed, box])
        self._set_labels_hidden(hidden)

    def _label_clearance(self, kind: str, index: int) -> float:
        """Pixels from a point's centre to its name: past the point itself and past a selection ring around it."""
        styles = self._styles.get(kind)
        size = float(styles[2][index]) if styles is not None and index < len(styles[2]) else 0.0
        return _mark_radius_px(size) + LABEL_GAP_PX

    def _set_labels_hidden(self, hidden: int):
        if hidden != self.labels_hidden:
            self.labels_hidden = hidden
            self.sig_labels_placed.emit(hidden)

    def placed_label_rects(self) -> list:
        """Where the names drawn inside the view are, in the plot widget's pixels (what a test checks)."""
        rects = []
        area = self.view_box.sceneBoundingRect()
        for label in self.labels:
            if label.isVisible():
                box = label.mapRectToScene(label.boundingRect())
                if area.contains(box.center()):
                    rects.append(self.mapFromScene(box).boundingRect())
        return rects

    def set_axis_titles(self, titles: dict):
        """{axis: (title, shorter title, …)}: the longest that fits along its axis (a short pane in presentation
        type has room for "PC2" only), so that no title runs past the plot; axes not named have none."""
        self._axis_titles = {name: tuple(titles.get(name, ("",))) for name in ("bottom", "left")}
        for name, choices in self._axis_titles.items():
            self.getAxis(name).setToolTip(choices[0])  # the whole title, where a shorter one is shown
        self._fit_axis_titles()

    def axis_title(self, name: str) -> str:
        """The whole title of an axis ("bottom" or "left"), whichever is shown."""
        return self._axis_titles.get(name, ("",))[0]

    def _fit_axis_titles(self, *_):
        for name, choices in self._axis_titles.items():
            axis = self.getAxis(name)
            room = self.view_box.width() if name == "bottom" else self.view_box.height()
            for text in choices:
                if axis.labelText != text:  # a new title lays the plot out again
                    self.setLabel(name, text)
                    axis.resizeEvent()  # pyqtgraph centres a title only when its axis resizes
                if text == choices[-1] or axis.label.boundingRect().width() <= room:
                    break

    def set_text_size(self, point_size: float):
        """Axis titles, tick labels, point labels and the hover box in ``point_size`` points."""
        set_plot_text_size(self.getPlotItem(), point_size)
        self._fit_axis_titles()
        self.label_font = QFont(QApplication.font())
        self.label_font.setPointSizeF(point_size)
        for item in (*self.labels, self.hover_text):
            item.setFont(self.label_font)

    def label_texts(self) -> list[str]:
        return [label.textItem.toPlainText() for label in self.labels]

    def center_on(self, kind: str, index: int):
        """Pan so that a point is in view (the view stays where it is when it already is)."""
        xy = self.coordinates[kind]
        if index < len(xy):
            rect = self.view_box.viewRect()
            if rect.contains(float(xy[index, 0]), float(xy[index, 1])):
                return
            self.view_box.setRange(xRange=(xy[index, 0] - rect.width() / 2, xy[index, 0] + rect.width() / 2),
                                   yRange=(xy[index, 1] - rect.height() / 2, xy[index, 1] + rect.height() / 2),
                                   padding=0)

    # --- finding points -----------------------------------------------------------------------------------
    def scene_position_of(self, kind: str, index: int):
        """Where a point is drawn, in scene coordinates (tests click there)."""
        x, y = self.coordinates[kind][index]
        return self.view_box.mapViewToScene(pg.Point(float(x), float(y)))

    def point_at(self, scene_position) -> tuple[str, int]:
        """The nearest visible point within HOVER_RADIUS_PX of a scene position, or ("", -1)."""
        if not self.view_box.sceneBoundingRect().contains(scene_position):
            return "", -1
        here = self.view_box.mapSceneToView(scene_position)
        pixel = self.view_box.viewPixelSize()
        if not pixel[0] or not pixel[1]:
            return "", -1
        best = ("", -1, np.inf)
        for kind in self.visible_kinds:
            if not len(self.coordinates[kind]):
                continue
            index = self.point_index(kind)
            if index is not None:
                row, squared = index.nearest(here.x(), here.y(), pixel, HOVER_RADIUS_PX)
            else:
                row, squared = nearest_by_scan(self.coordinates[kind], here.x(), here.y(), pixel, HOVER_RADIUS_PX)
            if row >= 0 and squared <= best[2]:
                best = (kind, row, squared)
        return best[0], best[1]

    def point_index(self, kind: str) -> PointIndex | None:
        """The spatial index of one kind's points, or None where the hover scans them: too few points to need
        one, or while a worker thread builds it (asked for here; at most one build a kind at a time, so that
        hovering while training moves the points does not queue a build for every frame)."""
        coordinates = self.coordinates[kind]
        if len(coordinates) < SCAN_BELOW:
            return None
        held = self._point_indexes.get(kind)
        if held is not None and held[0] is coordinates:
            build = held[1]
            if not build.done() or build.exception() is not None:
                return None  # a build that failed (out of memory) leaves these points to the scan
            return build.result()
        if held is not None and not held[1].done():
            return None  # points since replaced are still being indexed: these are asked for after
        self._point_indexes[kind] = (coordinates, _build_in_background(coordinates))
        return None

    def show_hover(self, kind: str, index: int, text: str):
        if index < 0:
            self.hover_text.hide()
            self.hover_marker.setData(x=[], y=[])
            return
        x, y = self.coordinates[kind][index]
        self.hover_text.setTextWidth(-1)  # its own width, unless the plot is narrower
        self.hover_text.setText(text)
        room = self.view_box.sceneBoundingRect().width() - 2
        if 0 < room < self.hover_text.textItem.boundingRect().width():
            # its lines wrapped: a box wider than a narrow plot (a projector's) was cut off at the plot's edge
            self.hover_text.setTextWidth(room)
        self.hover_text.setAnchor(self._hover_anchor(x, y))
        self.hover_text.setPos(x, y)
        self.hover_text.show()
        self.hover_marker.setData(x=[x], y=[y])

    def _hover_anchor(self, x: float, y: float) -> tuple[float, float]:
        """Where the point sits on the hover box: (0, 1), its lower-left corner, the box above and to the right
        of the point; on the other side where that side has no room (at the right or top edge the box ran out
        of the plot), slid along where neither has."""
        size = self.hover_text.boundingRect()  # in pixels: the text keeps its size whatever the zoom
        area = self.view_box.sceneBoundingRect()
        at = self.view_box.mapViewToScene(pg.Point(x, y))
        if at is None or area.isEmpty() or size.isEmpty():
            return 0.0, 1.0

        def along(point, length, low, high, first_choice, second_choice):
            fits = [start for start in (first_choice, second_choice) if low <= start and start + length <= high]
            start = fits[0] if fits else min(max(first_choice, low), high - length) if length < high - low else low
            return min(max((point - start) / length, 0.0), 1.0)

        return (along(at.x(), size.width(), area.left(), area.right(), at.x(), at.x() - size.width()),
                along(at.y(), size.height(), area.top(), area.bottom(), at.y() - size.height(), at.y()))

    def forget_hover(self):
        """Nothing is hovered any more: the mouse left, or the points it was over belong to another model."""
        self._set_hovered("", -1)

    # --- mouse ------------------------------------------------------------------------------------------------
    def _on_mouse_moved(self, event):
        if not self.underMouse():
            return  # a move the rate limiter hands on after the mouse has left the plot
        self._set_hovered(*self.point_at(event[0]))

    def _set_hovered(self, kind: str, index: int):
        if (kind, index) != self.hovered:
            self.hovered = (kind, index)
            self.sig_hovered.emit(kind, index)
            hidden_name = any(key[:2] == (kind, index) and not label.isVisible()
                              for label, key in zip(self.labels, self._label_keys))
            if hidden_name:  # the hovered point's name comes first: drawn, the ones it would cover hidden
                self._place_labels()

    @guard_event
    def leaveEvent(self, event):
        super().leaveEvent(event)  # pyqtgraph tells its scene
        self.forget_hover()

    def _on_mouse_clicked(self, event):
        if event.button() != Qt.MouseButton.LeftButton:
            return
        kind, index = self.point_at(event.scenePos())
        if index >= 0:
            add = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self.sig_point_clicked.emit(kind, index, add)
        elif self.view_box.sceneBoundingRect().contains(event.scenePos()):
            self.sig_empty_clicked.emit()

    def _on_rect_selected(self, rect: QRectF, add: bool):
        inside = {}
        for kind in self.visible_kinds:
            xy = self.coordinates[kind]
            mask = ((xy[:, 0] >= rect.left()) & (xy[:, 0] <= rect.right())
                    & (xy[:, 1] >= rect.top()) & (xy[:, 1] <= rect.bottom()))
            inside[kind] = np.flatnonzero(mask)
        self.sig_rect_selected.emit(inside, add)


def _mark_radius_px(point_size: float) -> float:
    """Half the width of what is drawn around a point this many pixels wide: the point, or a selection's ring."""
    return max(point_size, RING_SIZE_PX) / 2
