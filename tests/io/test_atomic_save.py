"""Saves: the mode a plain write gives, the old file's mode kept, symbolic links written through,
data on disk before the rename, temporaries of killed saves cleaned up, matrices too large to write
refused before they are built."""

import os
import stat
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from cfexplorer.core.ratings import Ratings
from cfexplorer.core.synthetic import planted_tastes
from cfexplorer.io import writers
from cfexplorer.io.project import Project, load_project, save_project
from cfexplorer.io.readers import read_ratings
from cfexplorer.io.writers import SaveError, atomic_path, remove_abandoned_temporaries, write_by_extension

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes and links")


@pytest.fixture
def ratings():
    return planted_tastes(n_users=4, n_items=3, density=0.7, seed=1)


@pytest.fixture
def umask():
    """Set the process umask for one test, and restore it."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_mode_a_plain_write_gives(tmp_path, ratings, umask, mask):
    umask(mask)
    plain = tmp_path / "plain.csv"
    plain.write_text("x")
    for name in ("saved.csv", "saved.xlsx", "saved.cfx"):
        path = tmp_path / name
        if name.endswith(".cfx"):
            save_project(path, Project(ratings))
        else:
            write_by_extension(ratings, path)
        assert mode(path) == mode(plain) == 0o666 & ~mask, name


@posix_only
def test_overwriting_keeps_the_old_files_mode(tmp_path, ratings, umask):
    umask(0o022)
    path = tmp_path / "shared.csv"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_by_extension(ratings, path, shape="long")
    assert mode(path) == 0o640 and read_ratings(path).ratings.n_ratings == ratings.n_ratings


@posix_only
def test_a_symbolic_link_is_written_through(tmp_path, ratings):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "lesson.cfx"
    save_project(target, Project(planted_tastes(n_users=2, n_items=2, density=1.0)))
    link = tmp_path / "lesson.cfx"
    link.symlink_to(target)
    save_project(link, Project(ratings))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load_project(target).ratings.n_ratings == ratings.n_ratings
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["lesson.cfx"]


@posix_only
def test_a_dangling_link_is_written_through_to_its_target(tmp_path, ratings):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "target.csv")
    write_by_extension(ratings, link, shape="long")
    assert link.is_symlink() and (tmp_path / "target.csv").is_file()


def test_the_data_is_on_disk_before_the_rename(tmp_path, ratings, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        events.append(("fsync", stat.S_ISDIR(os.fstat(descriptor).st_mode)))
        real_fsync(descriptor)

    def replace(source, destination):
        events.append(("replace", os.path.getsize(source) > 0))
        real_replace(source, destination)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_by_extension(ratings, tmp_path / "m.csv")
    expected = [("fsync", False), ("replace", True)] + ([("fsync", True)] if os.name == "posix" else [])
    assert events == expected  # file data, then the rename, then the folder entry


def test_a_failed_save_leaves_nothing_behind(tmp_path, ratings):
    path = tmp_path / "keep.cfx"
    save_project(path, Project(ratings))
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_path(path) as temporary:
            temporary.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["keep.cfx"]


def test_temporaries_left_by_a_killed_save_are_removed_at_the_next_save(tmp_path, ratings):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)
    abandoned = tmp_path / f".lesson.cfx.{dead}.0badc0de.tmp"
    abandoned.write_bytes(b"half a project")
    alive_elsewhere = tmp_path / f".other.csv.{os.getppid()}.12345678.tmp"  # a save still running
    ours = tmp_path / f".third.csv.{os.getpid()}.abcdef01.tmp"  # this process's own save in progress
    not_ours = tmp_path / f".notes.txt.{dead}.tmp"  # not the pattern: someone else's file
    for path in (alive_elsewhere, ours, not_ours):
        path.write_text("x")
    save_project(tmp_path / "lesson.cfx", Project(ratings))
    assert not abandoned.exists()
    assert alive_elsewhere.exists() and ours.exists() and not_ours.exists()
    assert remove_abandoned_temporaries(tmp_path) == []


def test_temporary_names_say_whose_they_are(tmp_path):
    with atomic_path(tmp_path / "x.csv") as temporary:
        temporary.write_text("a")
        assert writers._TEMPORARY.match(temporary.name)["pid"] == str(os.getpid())
        assert temporary.name.startswith(".x.csv.") and temporary.parent == tmp_path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_target_that_is_not_a_regular_file_is_not_replaced(tmp_path, ratings):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    with pytest.raises(SaveError, match="not a regular file \\(a named pipe\\); choose another name"):
        write_by_extension(ratings, path)
    assert stat.S_ISFIFO(os.stat(path).st_mode)


# --- matrices too large to write -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sparse_giant():
    n = 100_000
    ids = np.arange(n)
    return Ratings(ids, (ids * 7919) % n, np.full(n, 4.0), ids, ids)


@pytest.mark.parametrize("name", ["wide.csv", "wide.tsv", "wide.xlsx"])
def test_a_matrix_too_large_is_refused_before_it_is_built(tmp_path, sparse_giant, name):
    tracemalloc.start()
    with pytest.raises(SaveError) as caught:
        write_by_extension(sparse_giant, tmp_path / name)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    message = str(caught.value)
    assert "\n" not in message and "100,000 users × 100,000 movies is 10,000,000,000 cells" in message
    assert "save as a long table (user,item,rating)" in message
    assert peak < 5 * 2**20 and list(tmp_path.iterdir()) == []


def test_the_long_format_writes_what_the_matrix_cannot(tmp_path, sparse_giant):
    path = tmp_path / "long.csv"
    write_by_extension(sparse_giant, path, shape="long")
    assert read_ratings(path).ratings.n_ratings == sparse_giant.n_ratings


def test_an_excel_sheet_has_excels_limits(tmp_path, monkeypatch):
    wide = Ratings([0], [0], [4.0], ["ann"], [f"m{i}" for i in range(20_000)])
    with pytest.raises(SaveError, match="1 rows × 20,000 columns do not fit an Excel sheet"):
        write_by_extension(wide, tmp_path / "w.xlsx", items_as_rows=False)
    monkeypatch.setattr(writers.limits, "MAX_XLSX_WIDE_CELLS", 10)
    with pytest.raises(SaveError, match="20,000 cells, more than the 10 an Excel matrix written here may have"):
        write_by_extension(wide, tmp_path / "w.xlsx")


def test_a_wide_file_keeps_its_numbers(tmp_path):
    ratings = Ratings([0, 1, 1], [0, 0, 1], [4.5, 1.0, 0.5], ["ann", "bob"], ["Up", "Heat"])
    path = tmp_path / "m.csv"
    write_by_extension(ratings, path)
    assert path.read_text().splitlines() == ["Movie,ann,bob", "Up,4.5,1", "Heat,?,0.5"]
    path = tmp_path / "m.xlsx"
    write_by_extension(ratings, path)
    again = read_ratings(path).ratings
    np.testing.assert_array_equal(again.to_dense(), ratings.to_dense())


def test_an_excel_long_table_reopens_and_latest_small_sized_matrices_are_refused(tmp_path):
    ratings = Ratings([0, 1, 1], [0, 0, 1], [4.5, 1.0, 0.5], ["ann", "bob"], ["Up", "Heat"])
    path = tmp_path / "long.xlsx"
    write_by_extension(ratings, path, shape="long")
    again = read_ratings(path).ratings
    assert sorted(zip(again.user_labels[again.users], again.item_labels[again.items], again.values)) == [
        ("ann", "Up", 4.5), ("bob", "Heat", 0.5), ("bob", "Up", 1.0)]
    movielens_shape = Ratings([0], [0], [4.0], [f"u{i}" for i in range(611)], [f"m{i}" for i in range(9_725)])
    with pytest.raises(SaveError, match="save as a long table"):
        write_by_extension(movielens_shape, tmp_path / "wide.xlsx")
    assert not (tmp_path / "wide.xlsx").exists()


def test_a_cancelled_save_leaves_the_old_file_and_no_temporary(tmp_path):
    import threading

    from cfexplorer.io.writers import SaveCancelled

    path = tmp_path / "kept.csv"
    path.write_text("old")
    cancelled = threading.Event()
    cancelled.set()
    ratings = Ratings([0], [0], [4.0], ["ann"], ["Up"])
    for shape in ("long", "wide"):
        with pytest.raises(SaveCancelled):
            write_by_extension(ratings, path, shape=shape, cancelled=cancelled)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv"]


def test_a_read_only_file_is_refused_by_name_and_left_as_it_was(tmp_path, ratings):
    """A read-only file was refused only because its mode, copied to the temporary file, made that read-only too,
    and the message named the hidden temporary (".kept.csv.<pid>.<hex>.tmp"), not the file."""
    path = tmp_path / "kept.csv"
    path.write_text("the old file")
    path.chmod(0o444)
    with pytest.raises(SaveError) as refused:
        write_by_extension(ratings, path, "long")
    assert str(refused.value) == f"{path}: the file is read-only; save under another name, or make it writable first"
    assert path.read_text() == "the old file" and os.listdir(tmp_path) == ["kept.csv"]


def test_a_missing_folder_is_named(tmp_path, ratings):
    path = tmp_path / "no such folder" / "ratings.csv"
    with pytest.raises(SaveError) as refused:
        write_by_extension(ratings, path, "long")
    assert str(refused.value) == f"{path}: the folder {path.parent} does not exist"


def test_a_refused_rename_names_the_file_asked_for_not_the_temporary(tmp_path, ratings, monkeypatch):
    """os.replace names both files in its error ("[Errno 13] Permission denied: '.held.csv.123.ab12.tmp' ->
    'held.csv'"): the message named the hidden temporary first."""
    path = tmp_path / "held.csv"
    real_replace = os.replace

    def refused(source, target):
        try:  # the error os.replace itself gives, with both names, from a rename it cannot do
            real_replace(source, tmp_path / "no such folder" / "x")
        except OSError as error:
            raise PermissionError(13, "Permission denied", error.filename, None, str(target)) from None

    monkeypatch.setattr(writers.os, "replace", refused)
    with pytest.raises(SaveError) as refused_save:
        write_by_extension(ratings, path, "long")
    assert str(refused_save.value) == f"{path}: Permission denied"
    assert os.listdir(tmp_path) == []
