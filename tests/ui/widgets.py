"""Showing one widget on its own in a test, and bringing a dock to the front as a user does."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar


def shown_alone(qtbot, widget, width: int, height: int):
    """``widget`` at ``width`` × ``height``, shown and exposed (so that it paints), closed after the test."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def click_dock_tab(qtbot, window, title: str):
    """Click the tab of the dock named ``title`` where docks share a place (the Cost J tab beside Explain)."""
    qtbot.wait(1)  # the dock areas are laid out on the event loop's first turns after the window shows
    for bar in window.findChildren(QTabBar):
        for index in range(bar.count()):
            if bar.tabText(index) == title and bar.isVisible():
                qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
                qtbot.waitUntil(lambda: bar.currentIndex() == index, timeout=2000)
                qtbot.wait(1)
                return
    raise AssertionError(f"no tab named {title!r}")
