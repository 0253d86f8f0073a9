"""The window's command-line entry points say what is wrong in one line and exit with status 2."""

import os
import subprocess
import sys

from cfexplorer import cli


def test_an_unknown_example_is_a_one_line_error(capsys):
    assert cli.main(["gui", "--preset", "nosuch"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("cfexplorer: error:") and "nosuch" in error and "course" in error
    assert "\n" not in error


def test_a_screenshot_of_a_file_that_cannot_be_opened_prints_why(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\na,x,4\nb,y,lots\n")
    done = subprocess.run([sys.executable, "-m", "cfexplorer", "screenshot", str(tmp_path / "out.png"),
                           "--data", str(bad)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if "propagateSizeHints" not in line]
    assert len(lines) == 1 and "bad.csv" in lines[0] and "line 3" in lines[0]
    assert not (tmp_path / "out.png").exists()
