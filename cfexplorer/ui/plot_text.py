"""Text of pyqtgraph plots. Their axis titles, tick labels and legends do not follow the application's font by
themselves (legends are 9 pt, titles keep the font they were made with), so presentation mode sets them with the
font; and an axis spaces its ticks so that their labels, in whatever type, keep apart (UncrowdedAxis)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QApplication

from .qt_guard import qt_virtual

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


# The room between two tick labels' lines of text, in lines: (the least, where they must keep apart; the room
# they are given where the axis has it). Above each other their lines may touch (the digits keep a third of a
# line apart), side by side "100" and "150" must not read as "100150".
LABEL_GAPS = {"vertical": (0.0, 0.2), "horizontal": (0.5, 1.0)}
ROUND_STEPS = (1, 2, 5)  # tick spacings, times a power of ten
SLACK = 1e-9  # for floating point: one quantity reached by two computations


class UncrowdedAxis(pg.AxisItem):
    """An axis whose tick labels keep apart. pyqtgraph spaces its ticks by the axis's length alone (2 to 6 numbered
    intervals, whatever the size of their type), so a short axis in large type drew its labels over each other:
    the validation plot in presentation mode, 70 pixels tall, read "1.2" "1.4" "1.6" "1.8" on top of each other.
    Here the numbered spacing grows along 1, 2, 5, 10, ... until its labels have room (pyqtgraph's own where
    they have), and finer ticks are numbered only where their labels keep apart too."""

    @qt_virtual(lambda self, *args: pg.AxisItem.tickSpacing(self, *args))
    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        """pyqtgraph's (spacing, offset) levels, the first, numbered one wider where its labels need the room."""
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if self._tickSpacing is not None or not levels or not (math.isfinite(span) and span > 0):
            return levels
        low, high = sorted((minVal, maxVal))
        numbered = self._roomy_spacing(low, high, levels[0][0], comfortable=True)
        if len(_ticks_between(low, high, numbered)) < 2:
            # one number or none is no scale: closer ones if they keep apart (0.6 and 0.8 on a 50-pixel axis
            # from 0.5 to 1.0, where 0.5 apart there was no tick to number)
            closer = self._roomy_spacing(low, high, levels[0][0], comfortable=False)
            if len(_ticks_between(low, high, closer)) > len(_ticks_between(low, high, numbered)):
                numbered = closer
        if numbered == levels[0][0]:
            return levels
        # pyqtgraph's finer spacings that divide the numbered one, as its unnumbered ticks and grid lines
        finer = [(spacing, 0) for spacing, _ in levels if spacing < numbered and _divides(spacing, numbered)]
        return [(numbered, 0), *finer[:2]]

    @qt_virtual(lambda self, *args: pg.AxisItem.tickStrings(self, *args))
    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        """The labels of one level of ticks; none (pyqtgraph then numbers no tick of the level) where they would
        meet each other or the coarser level's labels."""
        strings = super().tickStrings(values, scale, spacing)
        low, high = sorted(self.range)
        if spacing is None:  # a log axis's 2, 3, ..., 9 between its decades: as near as its closest two
            ticks = np.unique(np.concatenate([values, np.arange(math.ceil(low), math.floor(high) + 1)]))
            nearest = float(np.diff(ticks).min()) if len(ticks) > 1 else math.inf
        else:
            # the next tick of this level or a coarser one is a spacing away, where the range goes on that far
            alone = all(not low <= value + step <= high for value in values for step in (-spacing, spacing))
            nearest = math.inf if alone else spacing
        return strings if self._room_for(strings, nearest, high - low, comfortable=False) else []

    def _roomy_spacing(self, low: float, high: float, spacing: float, comfortable: bool) -> float:
        """``spacing``, or the next round one after it whose labels have room (the comfortable room, or the
        least); one wider than the range (a label alone) at most."""
        while spacing <= high - low and not self._room_for(self._labels_at(low, high, spacing), spacing,
                                                           high - low, comfortable):
            spacing = next_round_step(spacing)
        return spacing

    def _labels_at(self, low: float, high: float, spacing: float) -> list[str]:
        """The labels of ticks ``spacing`` apart between ``low`` and ``high`` (in the axis's scaled units)."""
        values = _ticks_between(low, high, spacing)
        return pg.AxisItem.tickStrings(self, list(values / self.scale), self.autoSIPrefixScale * self.scale,
                                       spacing / self.scale)

    def _room_for(self, labels: list[str], apart: float, span: float, comfortable: bool) -> bool:
        """Whether ``labels`` whose ticks are ``apart`` (in the units of the range ``span``) keep apart on the axis
        by the room LABEL_GAPS asks: measured in pixels by its length and in the type of its tick labels."""
        if not labels or not math.isfinite(apart):
            return True
        direction = "vertical" if self.orientation in ("left", "right") else "horizontal"
        length = self.geometry().height() if direction == "vertical" else self.geometry().width()
        metrics = QFontMetricsF(self.style["tickFont"] or QFont())  # as AxisItem.paint draws them
        extent = metrics.height() if direction == "vertical" else \
            max(metrics.horizontalAdvance(label) for label in labels)
        needed = extent + metrics.height() * LABEL_GAPS[direction][comfortable]
        # tickSpacing and tickStrings measure one spacing from two ranges (scaled, and not): the same verdict
        return apart * length / span >= needed * (1 - SLACK)


def _ticks_between(low: float, high: float, spacing: float) -> np.ndarray:
    """The multiples of ``spacing`` from ``low`` to ``high``."""
    first = math.ceil(low / spacing - SLACK) * spacing
    return first + spacing * np.arange(max(math.floor((high - first) / spacing + SLACK) + 1, 0))


def next_round_step(step: float) -> float:
    """The next of 1, 2, 5, 10, 20, 50, ... (times a power of ten) after ``step``, itself one of them."""
    exponent = math.floor(math.log10(step) + SLACK)
    mantissa = round(step / 10 ** exponent, 6)
    larger = [round_step for round_step in ROUND_STEPS if round_step > mantissa]
    return (larger[0] if larger else 10) * 10 ** exponent


def _divides(finer: float, coarser: float) -> bool:
    ratio = coarser / finer
    return abs(ratio - round(ratio)) < 1e-6
