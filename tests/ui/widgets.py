"""Showing one widget on its own in a test."""


def shown_alone(qtbot, widget, width: int, height: int):
    """``widget`` at ``width`` × ``height``, shown and exposed (so that it paints), closed after the test."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
