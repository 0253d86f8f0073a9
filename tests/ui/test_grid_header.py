"""SteadyHintHeader: its size hint is kept between edits and measured again when what it depends on changes."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QStandardItemModel
from PySide6.QtWidgets import QStyleFactory, QTableView

from cfexplorer.ui.grid_header import SteadyHintHeader

from .widgets import shown_alone


def table_with_rows(qtbot, names):
    model = QStandardItemModel(len(names), 2)
    model.setVerticalHeaderLabels(names)
    view = QTableView()
    view.setVerticalHeader(SteadyHintHeader(Qt.Orientation.Vertical, view))
    view.setModel(model)
    shown_alone(qtbot, view, 400, 300)
    return view, model, view.verticalHeader()


def test_a_larger_font_or_another_style_measures_the_hint_again(qtbot):
    view, model, header = table_with_rows(qtbot, [f"Movie {row}" for row in range(30)])
    width = header.sizeHint().width()
    font = QFont(header.font())
    font.setPointSizeF(font.pointSizeF() * 2)  # presentation mode's type
    header.setFont(font)
    assert header.sizeHint().width() > 1.5 * width
    header.setFont(QFont(view.font()))
    assert header.sizeHint().width() == width
    fusion = QStyleFactory.create("Fusion")
    header.setStyle(fusion)  # measured again under the new style: what Qt's own header would say
    assert header.sizeHint() == super(SteadyHintHeader, header).sizeHint()


def test_rows_added_removed_or_reset_measure_it_again_and_a_shorter_label_keeps_it(qtbot):
    view, model, header = table_with_rows(qtbot, [f"Movie {row}" for row in range(30)])
    width = header.sizeHint().width()
    model.insertRow(0)
    model.setVerticalHeaderItem(0, type(model.verticalHeaderItem(1))("A title long enough to widen the header"))
    wide = header.sizeHint().width()
    assert wide > width + 100
    model.verticalHeaderItem(0).setText("Short")  # a rename: the kept hint is not narrowed
    assert header.sizeHint().width() == wide
    model.removeRow(0)  # the long one gone: measured again
    assert header.sizeHint().width() == width
    model.setVerticalHeaderLabels([f"Row {row} with a somewhat longer name" for row in range(30)])
    model.beginResetModel()
    model.endResetModel()
    assert header.sizeHint().width() == super(SteadyHintHeader, header).sizeHint().width() > width
