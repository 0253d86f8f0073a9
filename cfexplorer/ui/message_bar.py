"""An inline message above the grid: says what went wrong without a modal dialog, and can offer a fix."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

_STYLES = {
    "error": "QFrame#messageBar { background: #fde7e4; border: 1px solid #e0a39b; border-radius: 3px; }",
    "info": "QFrame#messageBar { background: #e8f0fb; border: 1px solid #9fb8dc; border-radius: 3px; }",
}


class MessageBar(QFrame):
    sig_action_triggered = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("messageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.action_button = QPushButton()
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self.close_button.clicked.connect(self.hide)
        self.action_button.clicked.connect(self._on_action)
        self._callback = None
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error", action_text: str | None = None, callback=None):
        self.kind = kind
        self.label.setText(text)
        self.setStyleSheet(_STYLES.get(kind, _STYLES["info"]))
        self._callback = callback
        self.action_button.setVisible(bool(action_text))
        if action_text:
            self.action_button.setText(action_text)
        self.show()

    def dismiss_error(self):
        """Take down an error once what it was about is over (the next edit went through, a run started):
        "There is already a user called Alice" stayed up after Alice2 was added. Notes stay."""
        if self.kind == "error":
            self._take_down()

    def dismiss_if(self, text: str):
        """Take down this note, if it is the one shown (what it said no longer holds)."""
        if not self.isHidden() and self.label.text() == text:
            self._take_down()

    def _take_down(self):
        self._callback = None  # a fix offered for what is gone is not applied later
        self.hide()

    @property
    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()  # shown, even while its window is not yet

    def set_text_size(self, point_size: float):
        """The type's size (presentation mode's): styled by a style sheet, the bar does not follow the
        application's font as other widgets do (it stayed at the everyday size on a projector)."""
        font = QFont(self.label.font())
        font.setPointSizeF(point_size)
        for widget in (self, self.label, self.action_button, self.close_button):
            widget.setFont(font)

    def _on_action(self):
        callback = self._callback
        self._take_down()
        if callback is not None:
            callback()
        self.sig_action_triggered.emit()
