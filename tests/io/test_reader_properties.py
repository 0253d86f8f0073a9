"""Property-based tests for every reader: whatever the file holds, it loads correctly or fails with a
clear one-line error, and a failed open changes neither the data in the window nor the file."""

import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfexplorer.io.factors import FactorFileError, read_factors
from cfexplorer.io.project import load_project
from cfexplorer.io.readers import RatingsFileError, read_any

READER_ERRORS = (RatingsFileError, FactorFileError)

# The suffix picks the reader: delimited text, MovieLens 100K, Excel, project; factor files separately.
RATING_SUFFIXES = [".csv", ".tsv", ".txt", ".data", ".xlsx"]
FACTOR_SUFFIXES = [".csv", ".npz", ".npy"]

cell = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(["", "?", " ", "nan", "NaN", "inf", "-inf", "1e400", "3.5", " 4 ", "4.0", "5,5", "0x10",
                     "99999999999999999999999", "-0", "1_0", "Alice", "Bob ", "Löwe", "電影", '"q,uoted"', "'",
                     "userId", "movieId", "rating", "Movie"]),
    st.text(max_size=6),
)
row = st.lists(cell, min_size=0, max_size=5)
delimiter = st.sampled_from([",", "\t", ";", "|"])
encoding = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])


@st.composite
def table_bytes(draw):
    """A table-like file: ragged rows of awkward cells, some repeated, in some delimiter and encoding."""
    rows = draw(st.lists(row, max_size=8))
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))  # duplicate lines: duplicate pairs
    if draw(st.booleans()):
        rows.insert(0, draw(st.sampled_from([["userId", "movieId", "rating"], ["Movie", "Alice", "Bob"],
                                             ["user", "item", "rating", "timestamp"]])))
    sep = draw(delimiter)
    text = "\n".join(sep.join(cells) for cells in rows)
    return text.encode(draw(encoding), errors="replace")


def check_one_line_error(error: Exception):
    message = str(error)
    assert message.strip(), "an error needs a message"
    assert "\n" not in message.strip(), f"not one line: {message!r}"


def assert_loaded_correctly(result):
    ratings = result.ratings
    assert ratings.n_users > 0 and ratings.n_items > 0  # a matrix of "?" only is a valid, empty grid
    assert np.all(np.isfinite(ratings.values))
    keys = np.sort(ratings.keys())
    assert np.all(keys[1:] != keys[:-1])  # one rating per pair
    assert len(ratings.user_labels) == ratings.n_users and len(ratings.item_labels) == ratings.n_items


def read_or_refuse(path):
    try:
        result = read_any(path)
    except READER_ERRORS as error:
        check_one_line_error(error)
        return None
    assert_loaded_correctly(result)
    return result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), suffix=st.sampled_from(RATING_SUFFIXES + [".cfx"]))
def test_arbitrary_bytes_load_or_fail_in_one_line(tmp_path, data, suffix):
    path = tmp_path / f"ratings{suffix}"
    path.write_bytes(data)
    if suffix == ".cfx":
        try:
            load_project(path)
        except RatingsFileError as error:
            check_one_line_error(error)
    else:
        read_or_refuse(path)
    assert path.read_bytes() == data  # reading never writes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=table_bytes(), suffix=st.sampled_from([".csv", ".tsv", ".txt", ".data"]))
def test_messy_tables_load_or_fail_in_one_line(tmp_path, data, suffix):
    path = tmp_path / f"ratings{suffix}"
    path.write_bytes(data)
    read_or_refuse(path)


@st.composite
def long_ratings(draw):
    """Distinct (user, movie) pairs with ratings on a half-star scale; ids possibly huge."""
    n = draw(st.integers(1, 30))
    ids = st.one_of(st.integers(0, 50), st.integers(2**40, 2**52))
    pairs = draw(st.lists(st.tuples(ids, ids), min_size=n, max_size=n, unique=True))
    stars = draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    return [(user, item, star / 2) for (user, item), star in zip(pairs, stars)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=long_ratings(), sep=st.sampled_from([",", "\t", ";"]), header=st.booleans())
def test_well_formed_long_files_load_exactly(tmp_path, rows, sep, header):
    path = tmp_path / "ratings.csv"
    lines = (["userId", "movieId", "rating"],) if header else ()
    text = "\n".join(sep.join(str(v) for v in line) for line in [*lines, *rows])
    path.write_text(text, encoding="utf-8")
    ratings = read_any(path).ratings
    loaded = {(ratings.user_labels[u], ratings.item_labels[i]): v
              for u, i, v in zip(ratings.users, ratings.items, ratings.values)}
    assert loaded == {(user, item): value for user, item, value in rows}


def test_an_excel_file_of_random_cells_loads_or_fails_in_one_line(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    for attempt in range(5):
        cells = rng.choice(np.array(["1", "2.5", "", "?", "x", "nan", "inf", "Alice", "1e400"], dtype=object),
                           size=(rng.integers(1, 6), rng.integers(1, 5)))
        path = tmp_path / f"sheet{attempt}.xlsx"
        pd.DataFrame(cells).to_excel(path, header=False, index=False)
        read_or_refuse(path)


def test_a_zip_that_is_not_a_workbook_is_refused_in_one_line(tmp_path):
    path = tmp_path / "ratings.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(RatingsFileError) as caught:
        read_any(path)
    check_one_line_error(caught.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), table_bytes()), suffix=st.sampled_from(FACTOR_SUFFIXES))
def test_factor_files_load_or_fail_in_one_line(tmp_path, data, suffix):
    path = tmp_path / f"factors{suffix}"
    path.write_bytes(data)
    try:
        embedding = read_factors(path)
    except FactorFileError as error:
        check_one_line_error(error)
        return
    assert np.all(np.isfinite(embedding.items.factors)) or embedding.items.factors.size == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrays=st.dictionaries(st.sampled_from(["item_factors", "item_names", "item_bias", "user_factors",
                                              "meta", "users", "values"]),
                              st.sampled_from([np.zeros((0, 2)), np.ones((3, 2)), np.array([np.nan, np.inf]),
                                               np.array(["a", "b"]), np.arange(5), np.ones((2, 2, 2))]),
                              max_size=4))
def test_npz_archives_with_odd_contents_load_or_fail_in_one_line(tmp_path, arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    for name, read, errors in (("factors.npz", read_factors, FactorFileError),
                               ("project.cfx", load_project, RatingsFileError)):
        path = tmp_path / name
        path.write_bytes(buffer.getvalue())
        try:
            read(path)
        except errors as error:
            check_one_line_error(error)
