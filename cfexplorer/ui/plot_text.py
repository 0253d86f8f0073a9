"""Text sizes of pyqtgraph plots: their axis titles, tick labels and legends do not follow the application's
font by themselves (legends are 9 pt, titles keep the font they were made with), so presentation mode sets
them with the font."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

AXES = ("left", "bottom")


def set_plot_text_size(plot_item, point_size: float, legends=()) -> None:
    """Tick labels, axis titles and legend entries of ``plot_item`` in ``point_size`` points."""
    font = QFont(QApplication.font())
    font.setPointSizeF(point_size)
    size = f"{point_size:g}pt"
    for name in AXES:
        axis = plot_item.getAxis(name)
        axis.setTickFont(font)
        # setLabel with a style keeps it for every later title of this axis ("validation BCE / ACCURACY")
        axis.setLabel(axis.labelText, axis.labelUnits or None, **{"font-size": size})
    for legend in legends:
        legend.setLabelTextSize(size)  # for entries added from now on; the ones there are drawn again:
        for _, label in legend.items:
            label.setText(label.text, size=size)
        legend.updateSize()


def plain_axis_numbers(axis) -> None:
    """``axis`` numbers its ticks as they are, never "500 (x0.001)" for 0.5 or "250" (m) for 0.25 epochs.
    pyqtgraph's enableAutoSIPrefix(False) keeps the scale it works out from the range of that moment, for
    good: a plot whose range was still within (0, 1) then numbered 300 epochs in thousands."""
    axis.setSIPrefixEnableRanges(())  # no range of values is given a prefix
    axis.enableAutoSIPrefix(False)
