"""LiveText: the training pane's status and cost lines, which change at every progress update."""

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAccessible, QFont, QGuiApplication
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cfexplorer.ui.elided_label import LiveText

from .widgets import shown_alone


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives."""

    def __init__(self, widget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event):  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def pane_with_text(qtbot, lines=3, width=300):
    pane = QWidget()
    layout = QVBoxLayout(pane)
    text = LiveText("J = 1.0", lines=lines)
    layout.addWidget(text)
    layout.addStretch(1)
    shown_alone(qtbot, pane, width, 300)
    qtbot.wait(1)
    return pane, text


def test_a_new_text_of_as_many_lines_is_painted_without_laying_out_its_pane(qtbot):
    pane, text = pane_with_text(qtbot)
    requests = LayoutRequests(pane)
    height = text.height()
    for epoch in range(50):
        text.setText(f"J = {epoch * 1.2345:.5g} (data) + 0.25 (reg)")
        qtbot.wait(0)
    qtbot.wait(1)
    assert requests.count == 0
    assert text.height() == height == 3 * text.fontMetrics().lineSpacing()
    assert text.text() == "J = 60.49 (data) + 0.25 (reg)"
    image = text.grab().toImage()
    dark = sum(1 for x in range(0, image.width(), 2) for y in range(image.height())
               if image.pixelColor(x, y).lightness() < 100)
    assert dark > 20  # the text is drawn


def test_a_text_that_needs_more_lines_gets_them_and_gives_them_back(qtbot):
    pane, text = pane_with_text(qtbot, lines=1, width=200)
    spacing = text.fontMetrics().lineSpacing()
    assert text.height() == spacing
    text.setText("epoch 12 · 3,456 epochs/s · 1.2 s · and a long note that cannot fit in one line of 200 pixels")
    qtbot.wait(1)
    assert text.lines_needed() > 1
    assert text.height() == text.lines_needed() * spacing
    text.setText("epoch 13")
    qtbot.wait(1)
    assert text.height() == spacing
    pane.resize(90, 300)  # narrower: the same text wraps
    text.setText("finished after 100 epochs in 0.25 s")
    qtbot.waitUntil(lambda: text.height() > spacing)
    assert text.height() == text.lines_needed() * spacing


def test_a_larger_font_keeps_room_for_as_many_lines(qtbot):
    pane, text = pane_with_text(qtbot, lines=3)
    font = QFont(text.font())
    font.setPointSizeF(font.pointSizeF() * 1.5)
    text.setFont(font)  # presentation mode's type
    qtbot.wait(1)
    assert text.height() == 3 * text.fontMetrics().lineSpacing()


def test_its_context_menu_copies_the_text(qtbot):
    pane, text = pane_with_text(qtbot)
    text.setText("J = 12.5 (data) + 0.5 (reg) = 13")
    assert text.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    (copy,) = [action for action in text.actions() if action.text() == "Copy"]
    copy.trigger()
    assert QGuiApplication.clipboard().text() == "J = 12.5 (data) + 0.5 (reg) = 13"


def test_a_screen_reader_reads_the_text_as_its_name(qtbot):
    pane, text = pane_with_text(qtbot)
    text.setText("epoch 40 · J = 3.25")
    interface = QAccessible.queryAccessibleInterface(text)
    assert interface.text(QAccessible.Text.Name) == "epoch 40 · J = 3.25"


def test_a_narrower_pane_gives_the_same_text_the_lines_it_now_needs(qtbot):
    pane, text = pane_with_text(qtbot, lines=1, width=400)
    spacing = text.fontMetrics().lineSpacing()
    text.setText("finished after 100 epochs in 0.25 s, J = 3.25")
    qtbot.wait(1)
    assert text.height() == spacing
    pane.resize(100, 300)  # no new text: the resize alone refits it
    qtbot.waitUntil(lambda: text.height() > spacing)
    assert text.height() == text.lines_needed() * spacing
    pane.resize(400, 300)
    qtbot.waitUntil(lambda: text.height() == spacing)
