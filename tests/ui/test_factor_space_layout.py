"""The factor space in a short pane: presentation mode with the Lesson pane open, at 1280×720 and 1920×1080
(each in a process with a screen of that size: tests/ui/factor_space_on_a_screen.py). Its parts lie inside
the window without covering one another, the axis titles stay inside the plot, and point names that would
cover one another are not drawn (how many is said in the status line)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
TITLE_NUDGE_PX = 2  # pyqtgraph sets the bottom axis title a pixel past its axis, into the text's blank descent


def factor_space_on_a_screen(width, height, tmp_path, preset="planted") -> dict:
    picture = tmp_path / f"factor-space-{width}x{height}.png"
    command = [sys.executable, "-m", "tests.ui.factor_space_on_a_screen", str(width), str(height),
               str(tmp_path / "settings.ini"), preset, str(picture)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    image = QImage(str(picture))
    assert report["saved"] and (image.width(), image.height()) == (width, height)
    return report


def intersect(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def inside(rect, area) -> bool:
    return area[0] <= rect[0] and area[1] <= rect[1] and rect[0] + rect[2] <= area[0] + area[2] \
        and rect[1] + rect[3] <= area[1] + area[3]


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_a_short_factor_pane_lays_its_parts_out_without_overlap(tmp_path, width, height):
    report = factor_space_on_a_screen(width, height, tmp_path)
    parts = report["parts"]
    assert {"controls", "plot", "legend", "status", "side tabs", "replay"} <= set(parts)
    for name, rect in parts.items():
        assert rect[2] > 0 and rect[3] > 0 and inside(rect, report["window"]), (name, rect)
    names = sorted(parts)
    overlapping = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if intersect(parts[a], parts[b])]
    assert not overlapping, overlapping
    x, y, w, h = report["plot"]
    plot = [x, y, w, h + TITLE_NUDGE_PX]
    for axis, title in report["axis titles"].items():
        assert inside(title, plot), (axis, title, report["plot"])
        assert not any(intersect(title, parts[name]) for name in parts if name not in ("plot", "controls"))

    labels = report["labels"]
    assert labels, "some names are drawn"
    assert all(inside(label, report["view box"]) or intersect(label, report["view box"]) for label in labels)
    covering = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:] if intersect(a, b)]
    assert not covering, covering
    assert len(labels) + report["labels hidden"] == report["labelled"]
    assert report["labels hidden"] > 0 and f"{report['labels hidden']} names hidden" in report["status"]
