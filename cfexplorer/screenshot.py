"""``cfexplorer screenshot``: the main window rendered offscreen to a PNG, on a screen of a chosen size."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from .app import MainWindow, make_application
from .io.presets import PRESETS
from .ui.lessons import LESSONS

# Offscreen, the window is painted into an image of the screen's size: 99999 x 99999 asked for 40 GB, and Qt's
# painting on the image it could not make crashed the process. An 8K screen is 7680 x 4320.
LARGEST_SIDE = 8192


def _render_screenshot(app, window, args, width: int, height: int) -> str | None:
    """Set the window up as the options say and save its picture; what went wrong, or None."""
    if args.preset is not None:
        window.open_preset(args.preset)
    if args.data and not window.open_file(args.data, confirm=False):
        return window.message_bar.text or f"cannot open {args.data}"
    window.show()
    for _ in range(2):  # the first show keeps the frame on the screen (clamp_to_screen): done before sizing
        app.processEvents()
    window.resize(width, height)  # the picture is the window without its frame: a screen's worth, as asked
    app.processEvents()
    if args.train:
        window.train_and_wait()
    if args.lesson is not None:
        window.run_lesson_to_end(args.lesson - 1)
    if args.factor_space:
        window.factor_dock.raise_()
    if args.presentation:
        window.set_presentation(True)
    for _ in range(5):
        app.processEvents()
    # checked last: a lesson's panels and presentation mode's larger type can make the window's least size larger
    window.resize(width, height)
    for _ in range(2):
        app.processEvents()
    if (window.width(), window.height()) != (width, height):
        smallest = window.minimumSizeHint()
        shown_as = " as the options set it up" if args.lesson is not None or args.presentation else ""
        return (f"the window cannot be {width}x{height}{shown_as} (it came out {window.width()}x{window.height()}; "
                f"the smallest it can be is about {smallest.width()}x{smallest.height()})")
    if not window.grab().save(args.out):
        return f"could not write {args.out}"
    return None


def use_screen_of_size(width: int, height: int) -> Path | None:
    """Offscreen, before Qt starts: a screen of this size, so that the window (presentation mode fills the
    screen) is laid out as on a real one, e.g. a 1280×720 projector. Qt's offscreen screen is 800×800."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen" or QApplication.instance() is not None:
        return
    screen = {"name": "screenshot", "x": 0, "y": 0, "width": width, "height": height,
              "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="cfexplorer-screen-", delete=False) as config:
        json.dump({"screens": [screen]}, config)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config.name}"
    return Path(config.name)


def application_on_screen_of_size(width: int, height: int) -> QApplication:
    """The application (:func:`.app.make_application`), offscreen on a screen of this size when it starts here."""
    screen_config = use_screen_of_size(width, height)
    app = make_application()
    if screen_config is not None:
        screen_config.unlink(missing_ok=True)  # read once, as Qt started
    return app


def run_screenshot(args) -> int:
    """``cfexplorer screenshot OUT.png``: render the main window offscreen to a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CFEXPLORER_NO_DIALOGS"] = "1"
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        print(f"cfexplorer: error: --size must look like 1400x900, not {args.size!r}", file=sys.stderr)
        return 2
    if not (0 < width <= LARGEST_SIDE and 0 < height <= LARGEST_SIDE):
        print(f"cfexplorer: error: --size {args.size}: each side must be 1 to {LARGEST_SIDE} pixels",
              file=sys.stderr)
        return 2
    if args.preset is not None and args.preset not in PRESETS:
        print(f"cfexplorer: error: no preset {args.preset!r}; choose from {', '.join(PRESETS)}", file=sys.stderr)
        return 2
    if args.lesson is not None and not 1 <= args.lesson <= len(LESSONS):
        print(f"cfexplorer: error: lessons are numbered 1 to {len(LESSONS)}, not {args.lesson}", file=sys.stderr)
        return 2
    app = application_on_screen_of_size(width, height)
    # Fresh settings in a folder of this process's own: a shared file cleared at the start let two screenshot
    # commands at once change each other's window.
    with tempfile.TemporaryDirectory(prefix="cfexplorer-screenshot-") as folder:
        settings = QSettings(os.path.join(folder, "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        try:
            problem = _render_screenshot(app, window, args, width, height)
        finally:
            # a shown window left to the interpreter's exit crashes it: close it on every path
            window.undo_stack.setClean()
            window.close()
            app.processEvents()
            settings.sync()
    if problem:
        print(f"cfexplorer: error: {problem}", file=sys.stderr)
        return 2
    print(args.out)
    return 0
