"""Saved files reopen to the same data; saves are atomic; a bad project opens nothing."""

import numpy as np
import pytest

from cfexplorer.core.mf import MatrixFactorization
from cfexplorer.core.models import make_model
from cfexplorer.core.ratings import Ratings, RatingScale, train_test_split
from cfexplorer.core.synthetic import planted_tastes
from cfexplorer.io.project import Project, load_project, save_project
from cfexplorer.io.readers import RatingsFileError, read_ratings
from cfexplorer.io.writers import write_by_extension


@pytest.fixture
def ratings():
    return planted_tastes(n_users=6, n_items=5, density=0.6, seed=0)


@pytest.mark.parametrize("name,shape", [("m.csv", "wide"), ("m.tsv", "wide"), ("l.csv", "long"),
                                        ("l.tsv", "long"), ("m.xlsx", "wide")])
def test_each_written_format_reads_back_the_same(tmp_path, ratings, name, shape):
    path = tmp_path / name
    write_by_extension(ratings, path, shape=shape)
    again = read_ratings(path).ratings
    original = dict(zip(zip(ratings.user_labels[ratings.users], ratings.item_labels[ratings.items]), ratings.values))
    reread = dict(zip(zip(again.user_labels[again.users], again.item_labels[again.items]), again.values))
    assert reread == original


def test_project_round_trip_keeps_data_settings_and_model(tmp_path, ratings):
    model = MatrixFactorization(n_factors=2, optimizer="adam", n_epochs=5).fit(ratings)
    path = tmp_path / "lesson.cfx"
    save_project(path, Project(ratings, {"factors": 2, "note": "λ"}, model.get_state()))
    project = load_project(path)
    again = project.ratings
    np.testing.assert_array_equal(again.to_dense(), ratings.to_dense())
    assert list(again.user_labels) == list(ratings.user_labels)
    assert list(again.item_titles()) == list(ratings.item_titles())
    assert again.scale == ratings.scale and again.binary == ratings.binary
    assert project.settings == {"factors": 2, "note": "λ"}
    restored = MatrixFactorization.from_state(project.model_state)
    np.testing.assert_array_equal(restored.predict_matrix(), model.predict_matrix())
    assert [r.total for r in restored.history_] == pytest.approx([r.total for r in model.history_])


@pytest.mark.parametrize("kind", ["mf", "dot_bias", "neural", "bayes", "biases"])
def test_a_reopened_project_keeps_every_epochs_training_and_validation_scores(tmp_path, kind):
    """The loss plot's validation curves and the cost line's RMSE come from these: a project reopened
    without them showed J alone."""
    ratings = planted_tastes(n_users=30, n_items=12, density=0.6, seed=1)
    train, validation = train_test_split(ratings, 0.2, seed=0)
    model = make_model(kind, n_epochs=4, n_factors=2).fit(train, validation)
    assert all(record.validation for record in model.history_)
    path = tmp_path / f"{kind}.cfx"
    save_project(path, Project(ratings, {}, model.get_state()))
    restored = load_project(path).model
    assert [r.epoch for r in restored.history_] == [r.epoch for r in model.history_]
    for again, record in zip(restored.history_, model.history_):
        assert again.train == pytest.approx(record.train) and again.validation == pytest.approx(record.validation)
        assert (again.data_term, again.reg_term, again.total) == pytest.approx(
            (record.data_term, record.reg_term, record.total))


def test_a_failed_save_leaves_the_previous_file(tmp_path, ratings, monkeypatch):
    path = tmp_path / "keep.csv"
    path.write_text("user,item,rating\na,b,1\n")
    from cfexplorer.io import writers

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writers, "_fsync_file", broken)  # the written data cannot reach the disk
    for shape in ("wide", "long"):
        with pytest.raises(OSError, match="disk full"):
            write_by_extension(ratings, path, shape)
        assert path.read_text() == "user,item,rating\na,b,1\n"
        assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_garbage_project_is_refused(tmp_path):
    path = tmp_path / "x.cfx"
    path.write_bytes(b"not a zip")
    with pytest.raises(RatingsFileError, match="not a valid project: not a zip archive"):
        load_project(path)


def _matrix_as_pandas_writes_it(ratings, path, sep, items_as_rows):
    """The reference: the labelled matrix as a pandas frame, written by to_csv (how matrices were written)."""
    import pandas as pd

    cells = np.full((ratings.n_users, ratings.n_items), "?", dtype=object)
    cells[ratings.users, ratings.items] = [f"{value:g}" for value in ratings.values]
    frame = pd.DataFrame(cells, index=list(ratings.user_labels), columns=list(ratings.item_labels))
    if items_as_rows:
        frame = frame.T
    frame.index.name = "Movie" if items_as_rows else "User"
    frame.to_csv(path, sep=sep)


@pytest.mark.parametrize("labels", ["numbers", "awkward names"])
def test_a_matrix_is_written_as_pandas_writes_it(tmp_path, labels):
    """Line by line from each row's ratings, byte for byte what pandas' to_csv wrote for the same matrix: labels
    with separators, quotes, line breaks and accents quoted alike, either way round, either separator. (Labels
    with spaces at their ends are quoted, where pandas does not: see test_names_that_differ_only_in_spaces_….)"""
    from cfexplorer.core.ratings import Ratings

    rng = np.random.default_rng(7)
    for trial in range(12):
        n_users, n_items = rng.integers(1, 25, 2)
        cells = rng.permutation(n_users * n_items)[:rng.integers(1, n_users * n_items + 1)]
        values = rng.choice([0.5, 1.0, 3.0, 4.5, 5.0, 1e-7, 123456.0, -2.25], len(cells))
        if labels == "numbers":
            user_labels, item_labels = np.arange(n_users) * 7 + 1, np.arange(n_items) * 3
        else:
            awkward = ["a,b", 'say "hi"', "line\nbreak", "tab\tx", "", "in side", "Amélie", "semi;colon"]
            user_labels = np.array([f"user {i}" for i in range(n_users)], dtype=object)
            item_labels = np.array([awkward[i % len(awkward)] + str(i) for i in range(n_items)], dtype=object)
        ratings = Ratings(cells // n_items, cells % n_items, values, user_labels, item_labels)
        for suffix, sep in ((".csv", ","), (".tsv", "\t")):
            for items_as_rows in (True, False):
                written, expected = tmp_path / f"ours{suffix}", tmp_path / f"pandas{suffix}"
                write_by_extension(ratings, written, "wide", items_as_rows=items_as_rows)
                _matrix_as_pandas_writes_it(ratings, expected, sep, items_as_rows)
                assert written.read_bytes() == expected.read_bytes()


def test_a_cancelled_matrix_save_keeps_the_old_file(tmp_path, ratings):
    import threading

    from cfexplorer.io.writers import SaveCancelled

    path = tmp_path / "m.csv"
    path.write_text("the old file")
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(SaveCancelled):
        write_by_extension(ratings, path, "wide", cancelled=cancelled)
    assert path.read_text() == "the old file" and [p.name for p in tmp_path.iterdir()] == ["m.csv"]


def test_a_long_table_written_in_pieces_is_the_one_pandas_writes_whole(tmp_path, ratings, monkeypatch):
    """Written a piece at a time (one frame of 25 million ratings froze the window behind the save's progress
    dialog), byte for byte what pandas writes for the whole table; and a Cancel between pieces keeps the old file."""
    from cfexplorer.core.ratings import Ratings
    from cfexplorer.io import writers

    # names that need quoting, and ratings that are not whole numbers
    names = Ratings(ratings.users, ratings.items, ratings.values / 2,
                    np.array([f"user, {u}" for u in range(ratings.n_users)], dtype=object), ratings.item_labels)
    whole = tmp_path / "whole.csv"
    frame = names.to_frame()
    frame["rating"] = [f"{value:g}" for value in frame["rating"]]
    frame.to_csv(whole, index=False)
    monkeypatch.setattr(writers, "LONG_ROWS_PER_PIECE", 4)
    pieces = tmp_path / "pieces.csv"
    writers.write_long(names, pieces)
    assert names.n_ratings > 3 * 4 and pieces.read_bytes() == whole.read_bytes()
    assert b'"user, 0"' in whole.read_bytes() and b".5" in whole.read_bytes()

    class CancelledAtTheThirdLook:
        looks = 0

        def is_set(self):
            self.looks += 1
            return self.looks >= 3

    pieces.write_text("the old file")
    with pytest.raises(writers.SaveCancelled):
        writers.write_long(names, pieces, cancelled=CancelledAtTheThirdLook())
    assert pieces.read_text() == "the old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pieces.csv", "whole.csv"]


def test_the_text_writers_tell_how_much_they_have_written(tmp_path, monkeypatch):
    """The save's progress dialog showed a moving bar and no percentage: the writers now say how far they are."""
    from cfexplorer.io import writers

    rng = np.random.default_rng(0)
    cells = rng.choice(300 * 40, 2000, replace=False)
    ratings = Ratings.from_arrays(cells // 40, cells % 40, rng.integers(1, 6, len(cells)).astype(float))
    monkeypatch.setattr(writers, "LONG_ROWS_PER_PIECE", 100)
    shares = []
    writers.write_by_extension(ratings, tmp_path / "long.csv", "long", progress=shares.append)
    assert len(shares) == 20 and shares == sorted(shares) and shares[0] == 0 and shares[-1] == 0.95
    wide = []
    writers.write_by_extension(ratings, tmp_path / "wide.tsv", "wide", items_as_rows=False, progress=wide.append)
    assert wide == [0.0]  # every 4,096 rows: 300 users are one look
    assert (tmp_path / "long.csv").read_text().count("\n") == ratings.n_ratings + 1


HOSTILE_LABELS = Ratings(np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1]),
                         np.array([4.0, 0.30000000000000004, 3.14159265358979, 2.718281828459045]),
                         np.array(["=1+1", "@SUM(A1)", "-2+3"], dtype=object), np.array(["+cmd", "=A1"], dtype=object),
                         scale=RatingScale(0.0, 5.0, None))


@pytest.mark.parametrize("name,shape,items_as_rows", [
    ("m.csv", "wide", True), ("l.csv", "long", True), ("l.tsv", "long", True), ("m.xlsx", "wide", True),
    ("m.xlsx", "wide", False), ("l.xlsx", "long", True)])
def test_a_save_reads_back_every_digit_and_labels_that_look_like_formulas(tmp_path, name, shape, items_as_rows):
    """CSV and TSV kept six digits (3.14159265358979 came back 3.14159); Excel wrote "=1+1" as a formula, which
    read back as an empty label."""
    path = tmp_path / name
    write_by_extension(HOSTILE_LABELS, path, shape=shape, items_as_rows=items_as_rows)
    again = read_ratings(path).ratings
    if name.endswith(".xlsx"):  # openpyxl writes 16 digits (Excel shows 15): 0.30000000000000004 is 0.3 there
        assert _as_pairs(again) == pytest.approx(_as_pairs(HOSTILE_LABELS), rel=1e-15)
    else:
        assert _as_pairs(again) == _as_pairs(HOSTILE_LABELS)


@pytest.mark.parametrize("shape", ["long", "wide"])
def test_an_excel_save_keeps_ids_past_two_to_the_53_apart(tmp_path, shape):
    """Written as numbers, Excel's doubles rounded 2^62 + 1 and 2^62 + 3 onto one id: a rating was lost."""
    ratings = Ratings(np.array([0, 1]), np.array([0, 0]), np.array([4.0, 3.0]), np.array([2**62 + 1, 2**62 + 3]),
                      np.array([10]))
    path = tmp_path / "ids.xlsx"
    write_by_extension(ratings, path, shape=shape)
    again = read_ratings(path).ratings
    assert {(str(user), value) for user, value in zip(again.user_labels[again.users], again.values)} == {
        (str(2**62 + 1), 4.0), (str(2**62 + 3), 3.0)}


# " Alice", "Alice" and "Alice ": three users; " Up" and "Up" two movies; "Heat " alone has nothing to be told from
SPACED_NAMES = Ratings(np.array([0, 1, 2, 3, 0, 2]), np.array([0, 0, 0, 1, 2, 1]),
                       np.array([5.0, 1.0, 3.0, 4.0, 2.0, 4.5]),
                       np.array([" Alice", "Alice", "Alice ", "Bob"], dtype=object),
                       np.array([" Up", "Up", "Heat "], dtype=object))


@pytest.mark.parametrize("name,shape,items_as_rows", [
    ("m.csv", "wide", True), ("m.csv", "wide", False), ("m.tsv", "wide", True), ("l.csv", "long", True),
    ("l.tsv", "long", True), ("m.xlsx", "wide", True), ("m.xlsx", "wide", False), ("l.xlsx", "long", True)])
def test_names_that_differ_only_in_spaces_at_their_ends_stay_apart_through_a_save(tmp_path, name, shape,
                                                                                    items_as_rows):
    """The readers strip names, and a save of " Alice" and "Alice" came back as one user (a long table: her
    ratings merged, one of each pair dropped as a duplicate) or was refused ("the column label 'Alice' appears
    twice"); a workbook's matrix was then searched for another table and read B1:D3, ratings as users. Names set
    apart only by spaces at their ends are now read as written, and said; a name alone is read stripped."""
    path = tmp_path / name
    write_by_extension(SPACED_NAMES, path, shape=shape, items_as_rows=items_as_rows)
    result = read_ratings(path)
    again = result.ratings
    assert sorted(again.user_labels) == [" Alice", "Alice", "Alice ", "Bob"]
    assert sorted(again.item_labels) == [" Up", "Heat", "Up"]
    expected = {(user, item.strip() if item == "Heat " else item): value
                for (user, item), value in _as_pairs(SPACED_NAMES).items()}
    assert _as_pairs(again) == expected and result.duplicates == 0
    assert "user names that differ only in spaces at their ends were kept apart, as written: ' Alice' and " \
           "'Alice' and 'Alice '" in result.warnings
    assert "movie names that differ only in spaces at their ends were kept apart, as written: ' Up' and 'Up'" in \
           result.warnings


def test_a_file_whose_names_differ_only_in_spaces_at_their_ends_reads_them_apart(tmp_path):
    """Typed by hand: "Alice ," and "Alice," were one user (the ratings of the one dropped where both rated a
    movie), a matrix with both was refused, and a workbook's table holding both was not found."""
    long = tmp_path / "long.csv"
    long.write_text('user,item,rating\nAlice ,Up,4\nAlice,Up,2\n" Bob",Heat,5\nCy , Heat,3\n')
    result = read_ratings(long)
    assert _as_pairs(result.ratings) == {("Alice ", "Up"): 4.0, ("Alice", "Up"): 2.0, ("Bob", "Heat"): 5.0,
                                         ("Cy", "Heat"): 3.0}
    assert result.duplicates == 0 and any("'Alice' and 'Alice '" in note for note in result.warnings)
    wide = tmp_path / "wide.csv"
    wide.write_text("User,Up,Up \nann,4,?\nbob,?,2\n")
    assert _as_pairs(read_ratings(wide).ratings) == {("ann", "Up"): 4.0, ("bob", "Up "): 2.0}

    import openpyxl

    book = tmp_path / "book.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "Ratings typed in class"
    for row, cells in enumerate([("Movie", "ann", "ann "), ("Up", 4, 1), ("Heat", None, 5)], start=3):
        for column, value in enumerate(cells, start=3):
            sheet.cell(row, column, value)
    workbook.save(book)
    result = read_ratings(book)
    assert _as_pairs(result.ratings) == {("ann", "Up"): 4.0, ("ann ", "Up"): 1.0, ("ann ", "Heat"): 5.0}
    assert any("'ann' and 'ann '" in note for note in result.warnings)


def _as_pairs(ratings) -> dict:
    return {(str(user), str(item)): value for user, item, value in
            zip(ratings.user_labels[ratings.users], ratings.item_labels[ratings.items], ratings.values)}


def test_a_cancelled_excel_save_leaves_no_temporary_file(tmp_path, monkeypatch):
    """openpyxl streams a write-only sheet into a temporary file of its own, which a save given up left behind
    until the process ended (100 MB for a million rows)."""
    import glob
    import tempfile
    import threading

    from cfexplorer.io import writers

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where openpyxl makes its file
    monkeypatch.setattr(writers, "XLSX_ROWS_PER_LOOK", 1)
    ratings = planted_tastes(n_users=30, n_items=20, density=0.6, seed=0)
    cancelled = threading.Event()
    seen = []

    def progress(share):
        seen.append(share)
        if len(seen) == 5:
            cancelled.set()

    path = tmp_path / "out.xlsx"
    with pytest.raises(writers.SaveCancelled):
        write_by_extension(ratings, path, shape="long", cancelled=cancelled, progress=progress)
    assert not path.exists() and len(seen) == 5
    assert glob.glob(str(tmp_path / "openpyxl.*")) == []


LINE_BREAK_NAMES = Ratings(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([4.0, 2.0, 5.0]),
                           np.array(["Ann\nLee", "Bo"], dtype=object), np.array(["Movie\nOne", "Two\nParts"],
                                                                               dtype=object))


@pytest.mark.parametrize("name,shape,items_as_rows", [
    ("m.xlsx", "wide", True), ("m.xlsx", "wide", False), ("l.xlsx", "long", True), ("m.csv", "wide", True),
    ("l.csv", "long", True)])
def test_names_with_a_line_break_come_back_as_written(tmp_path, name, shape, items_as_rows):
    """A workbook's "Ann\\nLee" came back "Ann Lee" (its cells once went through a line-based parser; a CSV's
    came back whole): a project saved as .xlsx and opened again had renamed its users."""
    path = tmp_path / name
    write_by_extension(LINE_BREAK_NAMES, path, shape=shape, items_as_rows=items_as_rows)
    again = read_ratings(path).ratings
    assert _as_pairs(again) == _as_pairs(LINE_BREAK_NAMES)
