"""The fast path for numeric long tables (MovieLens and most exports) reads what the text path reads, with
pyarrow's CSV reader and without it (pyarrow is optional; CI may lack it)."""

import numpy as np
import pytest

from cfexplorer.core.sorting import sorted_codes
from cfexplorer.io import numeric_columns
from cfexplorer.io.readers import RatingsFileError, read_ratings


@pytest.fixture(params=["pyarrow", "pandas"])
def engine(request, monkeypatch):
    """Each test twice: with pyarrow when it is installed, and as an installation without it."""
    if request.param == "pyarrow":
        pytest.importorskip("pyarrow")
        monkeypatch.setattr(numeric_columns, "PYARROW_FROM_BYTES", 0)  # for files of any size, not only large ones
    else:
        monkeypatch.setattr(numeric_columns, "_pyarrow", lambda: None)  # what the readers find without pyarrow
    return request.param


def write(tmp_path, text, name="ratings.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_movielens_file_unsorted_with_a_repeat(tmp_path, engine):
    text = ("userId,movieId,rating,timestamp\r\n"
            "7,30,4.5,1\r\n1,10,3.0,2\r\n7,10,1.0,3\r\n1,10,5.0,4\r\n")
    result = read_ratings(write(tmp_path, text))
    ratings = result.ratings
    assert list(ratings.user_labels) == [1, 7] and list(ratings.item_labels) == [10, 30]
    np.testing.assert_allclose(ratings.to_dense(), [[5.0, np.nan], [1.0, 4.5]])  # the last 1,10 kept
    assert result.duplicates == 1 and "first at line 3" in result.warnings[0]


def test_ids_far_apart_negative_or_written_as_floats(tmp_path, engine):
    text = "user,item,rating\n-5,1000000000,2\n3.0, 7,4\n3,1000000000,1\n"
    ratings = read_ratings(write(tmp_path, text)).ratings
    assert list(ratings.user_labels) == [-5, 3] and list(ratings.item_labels) == [7, 1000000000]
    np.testing.assert_allclose(ratings.to_dense(), [[np.nan, 2.0], [4.0, 1.0]])


@pytest.mark.parametrize("text", [
    "user,item,rating\n1,1,4\n\n2,1,3\n",       # a blank line between ratings
    "user,item,rating\n1,1,4\n  \n2,1,3\n",     # a line of spaces
    "user,item,rating\n1,1,4\n2,1,3\n\n\n",     # blank lines at the end only
])
def test_blank_lines_read_as_the_text_path_reads_them(tmp_path, engine, text):
    ratings = read_ratings(write(tmp_path, text)).ratings
    assert list(ratings.user_labels) == [1, 2]
    np.testing.assert_allclose(ratings.values, [4.0, 3.0])


@pytest.mark.parametrize("text,line,words", [
    ("user,item,rating\n1,1,4\n2,1,nan\n", 3, "not a finite number"),
    ("user,item,rating\n1,1,4\n2,1,2e7\n", 3, "beyond"),
])
def test_problems_name_their_line(tmp_path, engine, text, line, words):
    with pytest.raises(RatingsFileError) as caught:
        read_ratings(write(tmp_path, text))
    assert f"line {line}" in str(caught.value) and words in str(caught.value)


def test_pyarrow_reads_ids_as_integers_and_refuses_what_it_cannot_read():
    pytest.importorskip("pyarrow")
    users, items, values = numeric_columns._parse_with_pyarrow(b"user,item,rating,t\n1,20,3.5,0\n4,5,1,0\n", ",", 1, 4, (0, 1, 2))
    assert users.dtype == np.int64 and users.tolist() == [1, 4] and items.tolist() == [20, 5]
    assert values.tolist() == [3.5, 1.0]
    assert numeric_columns._parse_with_pyarrow(b"user,item,rating\n1.0,2,3\n", ",", 1, 3, (0, 1, 2)) is None  # "1.0": pandas' turn
    assert numeric_columns._parse_with_pyarrow(b"user,item,rating\n1,2,3\n\n4,5,6\n", ",", 1, 3, (0, 1, 2)) is None


def test_sorted_codes_match_pandas_factorize():
    import pandas as pd

    rng = np.random.default_rng(0)
    for ids in (rng.integers(-50, 200, 1000), rng.integers(0, 2**40, 300), np.array([5, 5, 5])):
        codes, labels = sorted_codes(ids)
        expected_codes, expected_labels = pd.factorize(ids, sort=True)
        assert codes.tolist() == expected_codes.tolist() and labels.tolist() == expected_labels.tolist()
