"""Save a widget as PNG or SVG.

pyqtgraph 0.14's SVG exporter cannot parse the path data Qt 6.11 writes (it expects "x,y" pairs), so
SVG is drawn with Qt's own QSvgGenerator: the same vector picture, rendered by the widget itself."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator


def export_widget_image(widget, path, title: str = "CF Explorer") -> None:
    """PNG (or any raster format Qt knows by the suffix) from a grab; SVG through QSvgGenerator."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(widget.size())
        generator.setViewBox(widget.rect())
        generator.setTitle(title)
        painter = QPainter(generator)
        try:
            widget.render(painter)
        finally:
            painter.end()
        return
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write the image {path}")
