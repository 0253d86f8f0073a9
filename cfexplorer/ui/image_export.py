"""Save a widget as PNG or SVG.

pyqtgraph 0.14's SVG exporter cannot parse the path data Qt 6.11 writes (it expects "x,y" pairs), so
SVG is drawn with Qt's own QSvgGenerator: the same vector picture, rendered by the widget itself."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QRegion, QTextDocument
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QLabel, QWidget


def export_widget_image(widget, path, title: str = "CF Explorer", below=(), least_width: int = 0,
                        fresh_items=()) -> None:
    """PNG (or any raster format Qt knows by the suffix), or SVG through QSvgGenerator, of ``widget`` with the
    ``below`` widgets (a legend) under it. A raster picture is drawn at a scale that makes
    it ``least_width`` pixels wide at least (up to four times the screen's): the widgets draw themselves, lines
    and text sharp at that scale, where a grab of a pane of 330 pixels gave a picture of 330; ``fresh_items``,
    graphics items that keep pictures of themselves at the screen's pixels, too (drawn_afresh)."""
    path = Path(path)
    parts = [widget, *(part for part in below if part.isVisible() and part.height() > 0)]
    # a legend spans its pane: as much of it as its text takes, if that is wider than the plot above it
    width = max([widget.width()] + [min(part.width(), _text_width(part)) for part in parts[1:]])
    height = sum(part.height() for part in parts)
    if path.suffix.lower() == ".svg":
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(width, height))
        generator.setViewBox(QRect(0, 0, width, height))
        generator.setTitle(title)
        painter = QPainter(generator)
        try:
            with drawn_afresh(fresh_items):
                _draw_stacked(painter, parts, width)
        finally:
            painter.end()
        return
    # at least the screen's own scale (a grab on a 2x screen had twice the pixels)
    screen_scale = widget.devicePixelRatioF()
    scale = min(max(screen_scale, least_width / max(width, 1)), max(MAX_SCALE, screen_scale))
    image = QImage(round(width * scale), round(height * scale), QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        with drawn_afresh(fresh_items, scale):
            _draw_stacked(painter, parts, width)
    finally:
        painter.end()
    if not image.save(str(path)):
        raise OSError(f"could not write the image {path}")


MAX_SCALE = 4.0


@contextmanager
def drawn_afresh(items, scale: float = 1.0):
    """Within the block, graphics ``items`` that keep a picture of themselves at the screen's pixels draw
    themselves at ``scale`` times them: a cache mode's (pyqtgraph's axes) is off, and a scatter's atlas of
    symbols (FactorPlot's FrameScatter: ``symbols_at_ratio``) is made at that scale. A picture at four times
    the screen's scale got the screen's pixels blown up (blocky, blurred tick labels, soft points), and an SVG
    got the axes as bitmaps."""
    with ExitStack() as put_back:
        for item in items:
            put_back.callback(item.setCacheMode, item.cacheMode())
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
            if hasattr(item, "symbols_at_ratio"):
                put_back.enter_context(item.symbols_at_ratio(scale))
        yield


def _text_width(part) -> int:
    """How wide a label's text is laid out on one line (its size hint is a wrapped label's), else its width."""
    if not isinstance(part, QLabel):
        return part.width()
    document = QTextDocument()
    document.setDefaultFont(part.font())
    if part.textFormat() == Qt.TextFormat.PlainText:
        document.setPlainText(part.text())
    else:
        document.setHtml(part.text())
    margins = part.contentsMargins()
    return int(document.idealWidth()) + margins.left() + margins.right() + 2 * max(part.margin(), 0) + 8


def _draw_stacked(painter: QPainter, parts, width: int) -> None:
    top = 0
    for part in parts:
        # QWidget's render, which draws the widget as it paints itself (a plot is a QGraphicsView, whose own
        # render draws its scene instead, without the frame and axes' layout as shown)
        QWidget.render(part, painter, QPoint(0, top), QRegion(0, 0, min(width, part.width()), part.height()),
                       QWidget.RenderFlag.DrawChildren)
        top += part.height()
