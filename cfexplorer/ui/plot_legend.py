"""Legends of the loss plots kept cheap and readable: entries reused instead of made again (each is an HTML
text item, milliseconds to make), each legend in a row of its own above its plot, in as many columns as the
plot's width holds."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy

PARKED_ENTRIES = 12  # legend entries kept out of sight for reuse, per legend
UNBOUNDED = 1e9  # a graphics widget's height without a maximum


class LegendAbove(pg.LegendItem):
    """A legend that a graphics layout places in a row of its own, above its plot. Drawn over the plot's view
    (pyqtgraph's place for it) it hid what lay under its box: the start of J's fall, the earlier runs' dashed
    curves, the validation errors of a long run. Its height is its entries' (none: no row); its width is
    theirs, as many columns as :func:`fit_legend` lets it have."""

    def __init__(self, **kwargs):
        super().__init__(offset=None, frame=False, **kwargs)
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        # Never wider than the pane lets its plot be: its columns' least width made the plots wider than the
        # pane (cut off at its right, in presentation type), and fit_legend then found room for them there.
        self.setMinimumWidth(0)
        self.setMaximumHeight(0)
        self.shown_entries = 0  # the first entries laid out (lay_out_legend); the others hidden

    def updateSize(self):
        # The enclosing layout sets the geometry from the size hint (LegendItem.updateSize set it itself, at
        # its parent's corner).
        self.setMaximumHeight(UNBOUNDED if self.items else 0)
        self.layout.invalidate()
        self.updateGeometry()


def sync_legend(legend: LegendAbove, entries: list):
    """Make ``legend`` list ``entries`` ((curve, name) pairs), in that order, changing only what differs.

    A legend entry's text is a QGraphicsTextItem laid out from HTML: making one costs several milliseconds,
    and clearing and refilling the legend at each Train was most of the click's 120 ms. An entry whose name
    is wanted again keeps its label (its sample is pointed at the new curve, as "J (total)" moves to the new
    run); an entry no longer wanted is renamed for a new one; a surplus is hidden and parked, and parked entries
    come back before any is made (reopening a project cleared the legend and made it again: 30-50 ms)."""
    existing = list(legend.items)
    by_name: dict[str, list] = {}
    for sample, label in existing:
        by_name.setdefault(label.text, []).append((sample, label))
    kept, unplaced = [], []
    for curve, name in entries:
        reusable = by_name.get(name)
        if reusable:
            kept.append(reusable.pop(0))
        else:
            kept.append(None)
            unplaced.append(len(kept) - 1)
    spare = [entry for entries_of_name in by_name.values() for entry in entries_of_name]
    parked = legend.__dict__.setdefault("_parked_entries", [])  # taken off earlier, kept for reuse
    for position in unplaced:
        name = entries[position][1]
        if not spare and parked:  # back from the parked ones, one of the same name first
            same = next((entry for entry in parked if entry[1].text == name), parked[-1])
            parked.remove(same)
            same[0].show()
            same[1].show()
            if same[1].opts.get("size") != legend.opts["labelTextSize"]:  # parked before a text-size change
                same[1].setText(same[1].text, size=legend.opts["labelTextSize"])
            spare.append(same)
        if spare:
            sample, label = spare.pop(0)
            if label.text != name:
                label.setText(name)
            kept[position] = (sample, label)
    _park(legend, spare)  # more entries than wanted: out of sight (another document, Reset)
    added = False
    for position, entry in enumerate(kept):
        curve, name = entries[position]
        if entry is None:
            added = True
            legend.addItem(curve, name)  # appended to items and to the layout; placed below
            entry = legend.items[-1]
            kept[position] = entry
        sample, _ = entry
        if sample.item is not curve:
            sample.item = curve
            sample.update()
    same_order = [(id(s), id(l)) for s, l in legend.items] == [(id(s), id(l)) for s, l in kept]
    if same_order and not spare and not added:  # renamed or pointed elsewhere in place: the layout stands
        if unplaced:
            legend.updateSize()  # a renamed entry may be wider
        return
    legend.items = kept
    lay_out_legend(legend, legend.columnCount)


def lay_out_legend(legend: LegendAbove, columns: int, shown: int | None = None):
    """Place ``legend``'s first ``shown`` entries (all by default) row by row in ``columns`` columns; the others
    are hidden."""
    layout = legend.layout
    for index in range(layout.count() - 1, -1, -1):
        layout.removeAt(index)
    shown = len(legend.items) if shown is None else shown
    for index, (sample, label) in enumerate(legend.items):
        for item in (sample, label):
            item.setVisible(index < shown)
        if index < shown:
            row, column = divmod(index, columns)
            layout.addItem(sample, row, 2 * column, alignment=Qt.AlignmentFlag.AlignVCenter)
            layout.addItem(label, row, 2 * column + 1)
    legend.columnCount = columns
    legend.rowCount = max(math.ceil(shown / columns), 1)
    legend.shown_entries = shown
    legend.updateSize()


def fit_legend(legend: LegendAbove, plot, most_height: float | None = None, kept: int = 0) -> None:
    """As many columns (up to one an entry) as fit the width of ``plot``: the fewer rows, the more height is
    left to the curves below; and no more rows than ``most_height`` pixels hold (one at least), the entries
    past them hidden — the last ones, the earlier runs (a short pane, presentation type: six rows of names
    left the plots a sliver, or nothing) — but never the first ``kept`` (the current run's)."""
    entries = len(legend.items)
    if not entries:
        return
    room = plot.width()
    spacing = legend.layout.horizontalSpacing()
    widths = [sample.minimumWidth() + spacing + label.minimumWidth() + spacing for sample, label in legend.items]
    rows_allowed = entries
    if most_height is not None:
        row_height = max(label.minimumHeight() for _, label in legend.items) + legend.layout.verticalSpacing()
        rows_allowed = max(1, int(most_height // max(row_height, 1)))
    # the most entries, the first ones, that fit in those rows in as many columns as the width holds (at the
    # least the kept ones, and one)
    for shown in range(entries, max(min(kept, entries), 1) - 1, -1):
        columns = _columns_for(widths[:shown], room)
        if math.ceil(shown / columns) <= rows_allowed:
            break
    if columns != legend.columnCount or shown != legend.shown_entries:
        lay_out_legend(legend, columns, shown)


def _columns_for(widths: list, room: float) -> int:
    """As many columns as entries this wide fit side by side in ``room`` (one at least)."""
    columns = len(widths)
    while columns > 1 and _width_in_columns(widths, columns) > room:
        columns -= 1
    return max(columns, 1)


def _width_in_columns(widths: list, columns: int) -> float:
    """The width of entries this wide laid out row by row in ``columns`` columns: each column as wide as its
    widest entry."""
    return sum(max(widths[column::columns]) for column in range(columns))


def _park(legend: pg.LegendItem, entries: list):
    """Take these (sample, label) entries out of ``legend``, hidden and kept for :func:`sync_legend` to reuse."""
    parked = legend.__dict__.setdefault("_parked_entries", [])
    for sample, label in entries:
        if (sample, label) in legend.items:
            legend.items.remove((sample, label))
        legend.layout.removeItem(sample)
        legend.layout.removeItem(label)
        sample.hide()
        label.hide()
        parked.append((sample, label))
    for sample, label in parked[PARKED_ENTRIES:]:
        for item in (sample, label):
            item.close()
            if item.scene() is not None:
                item.scene().removeItem(item)
    del parked[PARKED_ENTRIES:]


def park_entries_of(legend: pg.LegendItem, curves):
    """Park the legend entries of curves about to be taken off the plot (PlotItem.removeItem would delete
    them, and the next run would make them again)."""
    _park(legend, [(sample, label) for sample, label in legend.items if any(sample.item is c for c in curves)])
