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
    config = tmp_path / "config"
    done = subprocess.run([sys.executable, "-m", "cfexplorer", "screenshot", str(tmp_path / "out.png"),
                           "--data", str(bad)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(config)})
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if "propagateSizeHints" not in line]
    assert len(lines) == 1 and "bad.csv" in lines[0] and "line 3" in lines[0]
    assert not (tmp_path / "out.png").exists()
    # its settings were its own, in a folder it removed: two screenshots at once cannot share (and clear) them
    assert not [path.name for path in config.rglob("*") if "screenshot" in path.name.lower()]


def _screenshot(tmp_path, *options):
    return subprocess.run([sys.executable, "-m", "cfexplorer", "screenshot", str(tmp_path / "out.png"), *options],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def _error_lines(done):
    return [line for line in done.stderr.splitlines() if "propagateSizeHints" not in line]


def test_a_lesson_that_does_not_exist_is_an_error_not_ignored(tmp_path):
    from cfexplorer.ui.lessons import LESSONS

    done = _screenshot(tmp_path, "--lesson", "0")
    assert done.returncode == 2
    assert _error_lines(done) == [f"cfexplorer: error: lessons are numbered 1 to {len(LESSONS)}, not 0"]
    assert not (tmp_path / "out.png").exists()


def test_a_size_the_window_cannot_take_is_an_error_not_ignored(tmp_path):
    done = _screenshot(tmp_path, "--size", "300x200")
    lines = _error_lines(done)
    assert done.returncode == 2 and len(lines) == 1 and "cannot be 300x200" in lines[0]
    assert not (tmp_path / "out.png").exists()


def test_a_size_larger_than_any_screen_is_an_error_not_a_crash(tmp_path):
    from cfexplorer.screenshot import LARGEST_SIDE

    for size in ("99999x99999", f"{LARGEST_SIDE + 1}x600", "800x0"):
        done = _screenshot(tmp_path, "--size", size)
        assert done.returncode == 2  # not a segmentation fault (-11): Qt could not make the screen's image
        assert _error_lines(done) == [f"cfexplorer: error: --size {size}: each side must be 1 to {LARGEST_SIDE} "
                                      "pixels"]
    assert not (tmp_path / "out.png").exists()


def test_help_lists_the_examples(capsys):
    import pytest

    from cfexplorer.io.presets import PRESETS

    for command in ("gui", "screenshot"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        shown = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps at hyphens
        assert all(name in shown for name in PRESETS), shown


def test_a_size_that_presentation_mode_or_a_lesson_cannot_take_is_an_error_not_a_picture_of_another(tmp_path):
    """The size is checked after the options set the window up: presentation mode's larger type and a lesson's
    panels make its least size larger (a 900 x 579 picture came out of --size 900x560 --presentation)."""
    from PySide6.QtGui import QImage

    plain = _screenshot(tmp_path, "--size", "900x500")
    assert plain.returncode == 0, plain.stderr
    picture = QImage(str(tmp_path / "out.png"))
    assert (picture.width(), picture.height()) == (900, 500)
    (tmp_path / "out.png").unlink()
    # (presentation mode sets the factor tables aside: its least size is below the plain window's 900 x 500)
    for size, options in (("800x450", ("--presentation",)), ("900x500", ("--lesson", "11"))):
        done = _screenshot(tmp_path, "--size", size, *options)
        lines = _error_lines(done)
        assert done.returncode == 2 and len(lines) == 1, (options, done.stderr)
        assert f"cannot be {size} as the options set it up" in lines[0], options
        assert not (tmp_path / "out.png").exists(), options


def test_an_empty_preset_name_is_an_unknown_example_not_the_default_one(tmp_path, capsys):
    assert cli.main(["gui", "--preset", ""]) == 2
    assert capsys.readouterr().err.strip() == ("cfexplorer: error: no preset ''; choose from course, course-eve, "
                                               "course-binary, planted, disjoint")
    done = _screenshot(tmp_path, "--preset", "")
    assert done.returncode == 2 and _error_lines(done)[0].startswith("cfexplorer: error: no preset ''")
    assert not (tmp_path / "out.png").exists()


def test_a_path_that_names_no_file_is_a_one_line_error_before_the_window_opens(tmp_path, capsys, monkeypatch):
    import cfexplorer.app

    def no_window():
        raise AssertionError("the window was started")

    monkeypatch.setattr(cfexplorer.app, "make_application", no_window)
    for argv, problem in ((["gui", str(tmp_path / "missing.csv")], "no such file"),
                          ([str(tmp_path / "missing.csv")], "no such file"),
                          ([str(tmp_path)], "is a folder, not a file")):
        assert cli.main(argv) == 2, argv
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("cfexplorer: error:") and problem in lines[0], (argv, lines)


def test_the_app_takes_its_options_without_the_gui_command(capsys):
    import pytest

    assert cli.main(["--preset", "nosuch"]) == 2  # read as `cfexplorer gui --preset nosuch`
    assert "no preset 'nosuch'" in capsys.readouterr().err
    assert cli.main(["--preset=nosuch"]) == 2
    assert "no preset 'nosuch'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # the top level's own options, abbreviated as argparse allows
        cli.main(["--vers"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("cfexplorer ")
