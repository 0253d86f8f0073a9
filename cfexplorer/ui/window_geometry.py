"""Where the main window opens: inside the screen it is on, whatever size it had last time on another screen.

A classroom laptop goes from a 1920×1080 desk screen to a 1280×720 projector: a window that opened at its
old size there would hide its right-hand dock (and the Train button) beyond the screen's edge.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication

DEFAULT_SIZE = QSize(1400, 860)


def available_area(window) -> QRect:
    """The part of the window's screen that windows may cover (without the task bar)."""
    centre = window.frameGeometry().center()
    screen = QGuiApplication.screenAt(centre) or window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window, size: QSize = DEFAULT_SIZE) -> None:
    """The first window: ``size`` where the screen has room for it, else the whole available area; centred."""
    area = available_area(window)
    width, height = min(size.width(), area.width()), min(size.height(), area.height())
    window.resize(width, height)
    window.move(area.x() + (area.width() - window.width()) // 2, area.y() + (area.height() - window.height()) // 2)


def clamp_to_screen(window) -> None:
    """Geometry restored from a session on another screen: no larger than this screen's available area, and
    inside it, frame included (a maximized or full-screen window is the screen's size already). The frame is
    known once the window is shown: the window calls this again then."""
    if window.isMaximized() or window.isFullScreen():
        return
    area = available_area(window)
    frame = window.frameGeometry()
    extra_width, extra_height = frame.width() - window.width(), frame.height() - window.height()
    width = min(window.width(), area.width() - extra_width)
    height = min(window.height(), area.height() - extra_height)
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
        frame = window.frameGeometry()
    x = min(max(frame.x(), area.left()), area.x() + area.width() - frame.width())
    y = min(max(frame.y(), area.top()), area.y() + area.height() - frame.height())
    if (x, y) != (frame.x(), frame.y()):
        window.move(max(x, area.left()), max(y, area.top()))
