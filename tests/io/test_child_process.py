"""Reading in a process of its own: the window's background reads of large text files (names for ids), where
pandas' work on text holds the GIL for long and froze the window."""

import os
import threading

import numpy as np
import pytest

from cfexplorer.io import readers
from cfexplorer.io.child_process import ChildProcessDied, ChildProcessUnavailable, call_in_child_process
from cfexplorer.io.errors import RatingsFileError


def test_the_call_runs_in_another_process_and_its_answer_comes_back():
    assert call_in_child_process(os.getpid) != os.getpid()
    assert call_in_child_process(divmod, 17, 5) == (3, 2)
    # What the call prints goes to standard error, not into the answer on standard output.
    assert call_in_child_process(print, "printed by the child") is None


def test_an_error_raised_there_is_raised_here_with_its_file_and_line():
    with pytest.raises(RatingsFileError) as raised:
        call_in_child_process(readers.read_ratings, "/nonexistent/ratings.csv")
    assert raised.value.path == "/nonexistent/ratings.csv" and "no such file" in str(raised.value)
    with pytest.raises(ZeroDivisionError):
        call_in_child_process(divmod, 1, 0)


def test_a_process_killed_before_it_answers_is_an_error_saying_so():
    with pytest.raises(ChildProcessDied, match=r"killed \(signal 6; out of memory\?\)"):
        call_in_child_process(os.abort)


def test_a_process_that_cannot_answer_leaves_the_work_to_this_one(tmp_path, monkeypatch):
    with pytest.raises(ChildProcessUnavailable, match="exit code 3"):
        call_in_child_process(os._exit, 3)
    monkeypatch.setattr("sys.executable", str(tmp_path / "no-python"))
    with pytest.raises(ChildProcessUnavailable, match="could not start"):
        call_in_child_process(divmod, 7, 2)


def test_the_current_folder_cannot_put_other_modules_in_its_place(tmp_path, monkeypatch):
    """``python -m`` puts the current folder first on the path: a folder holding a package of our name (or a
    pandas.py) would have been imported instead of ours."""
    (tmp_path / "cfexplorer").mkdir()
    (tmp_path / "cfexplorer" / "__init__.py").write_text("raise ImportError('not this one')\n")
    monkeypatch.chdir(tmp_path)
    assert call_in_child_process(divmod, 7, 2) == (3, 1)


def test_cancel_stops_the_process():
    import time

    cancelled = threading.Event()
    threading.Timer(0.3, cancelled.set).start()
    with pytest.raises(ChildProcessDied, match="cancelled"):
        call_in_child_process(time.sleep, 60, cancelled=cancelled)  # without the kill: a minute, then no error


def write_names(path, users=300, items=40, seed=0):
    rng = np.random.default_rng(seed)
    lines = [f"user {u},movie {m},{rng.integers(1, 6)}" for u in range(users) for m in rng.choice(items, 5, False)]
    path.write_text("user,item,rating\n" + "\n".join(lines) + "\n")
    return path


def read_in_a_thread(path):
    """read_ratings as the window's background read calls it: not on the main thread."""
    outcome = {}

    def read():
        try:
            outcome["result"] = readers.read_ratings(path)
        except Exception as error:  # noqa: BLE001 - compared by the test
            outcome["error"] = error

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return outcome


@pytest.fixture
def processes_started(monkeypatch):
    """Every text file read off the main thread goes to a process (not only large ones); the calls, counted."""
    calls = []

    def counted(function, *args, **options):
        calls.append(function.__name__)
        return call_in_child_process(function, *args, **options)

    monkeypatch.setattr(readers, "TEXT_IN_A_PROCESS_BYTES", 0)
    monkeypatch.setattr(readers, "call_in_child_process", counted)
    return calls


def test_a_text_file_read_in_a_process_is_the_same_as_read_here(tmp_path, processes_started):
    path = write_names(tmp_path / "names.csv")
    here = readers.read_ratings(path)  # the main thread: nothing else waits for the GIL, no process
    assert processes_started == []
    there = read_in_a_thread(path)["result"]
    assert processes_started == ["_read_text_file"]
    for name in ("user_labels", "item_labels", "users", "items", "values"):
        np.testing.assert_array_equal(getattr(there.ratings, name), getattr(here.ratings, name))
    assert (there.format, there.warnings, there.duplicates, there.users_from) == \
           (here.format, here.warnings, here.duplicates, here.users_from)
    assert not there.ratings.users.flags.writeable  # the ratings' arrays stay read-only, as made here


def test_a_bad_line_found_in_the_process_is_named_as_here(tmp_path, processes_started):
    path = tmp_path / "bad.csv"
    path.write_text("user,item,rating\nann,x,4\nbob,y,lots\n")
    error = read_in_a_thread(path)["error"]
    assert processes_started == ["_read_text_file"]
    assert isinstance(error, RatingsFileError) and error.line == 3 and "'lots'" in str(error)
    assert str(error) == str(pytest.raises(RatingsFileError, readers.read_ratings, path).value)


def test_where_no_process_can_start_the_file_is_read_here(tmp_path, processes_started, monkeypatch):
    monkeypatch.setattr("sys.executable", str(tmp_path / "no-python"))
    path = write_names(tmp_path / "names.csv")
    there = read_in_a_thread(path)["result"]
    assert processes_started == ["_read_text_file"]
    np.testing.assert_array_equal(there.ratings.values, readers.read_ratings(path).ratings.values)


def test_numbers_read_by_the_numeric_path_start_no_process(tmp_path, processes_started):
    path = tmp_path / "numbers.csv"
    path.write_text("userId,movieId,rating\n1,10,4\n2,10,3\n")
    assert read_in_a_thread(path)["result"].ratings.n_ratings == 2
    assert processes_started == []
