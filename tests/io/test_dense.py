"""The course lab's dense Y and R matrices: Y with its R beside it opens with R as the mask, a headerless
numeric matrix alone says what it did with its zeros, and every problem is one line naming the file."""

import numpy as np
import pytest

from cfexplorer.io import dense, limits
from cfexplorer.io.errors import RatingsFileError
from cfexplorer.io.readers import read_any

# 4 movies × 6 users; movie 3 has no rating at all (a row of zeros in R), user 5 neither
R = np.array([[1, 0, 1, 0, 1, 0],
              [0, 1, 1, 1, 0, 0],
              [1, 1, 0, 0, 1, 0],
              [0, 0, 0, 0, 0, 0]])
Y = np.where(R == 1, np.array([[5, 0, 4.5, 0, 1, 0],
                               [0, 0.5, 3, 2, 0, 0],
                               [4, 5, 0, 0, 2.5, 0],
                               [0, 0, 0, 0, 0, 0]]), 0.0)


def write_matrix(path, matrix, fmt="%g"):
    np.savetxt(path, matrix, delimiter=",", fmt=fmt)
    return path


@pytest.fixture
def lab_pair(tmp_path):
    return write_matrix(tmp_path / "small_movies_Y.csv", Y), write_matrix(tmp_path / "small_movies_R.csv", R, "%d")


def movies_by_users(ratings) -> np.ndarray:
    """The ratings as the lab's Y: movies down, users across, 0 where not rated."""
    out = np.zeros((ratings.n_items, ratings.n_users))
    out[ratings.items, ratings.users] = ratings.values
    return out


def test_y_with_its_r_beside_it_reads_the_ratings_where_r_is_1(lab_pair):
    y_path, r_path = lab_pair
    result = read_any(y_path)
    ratings = result.ratings
    assert (ratings.n_items, ratings.n_users) == R.shape  # the empty movie and user are kept: rows in order
    assert len(ratings) == R.sum()
    np.testing.assert_array_equal(movies_by_users(ratings), Y)
    np.testing.assert_array_equal(ratings.item_labels, np.arange(4))  # the lab's 0-based Y[i, j]
    assert result.mask_path == r_path and "small_movies_R.csv" in result.status
    assert not result.zero_question and ratings.scale.low == 0.5 and ratings.scale.step == 0.5


def test_r_decides_even_where_y_holds_a_number(tmp_path):
    values = Y.copy()
    values[3, 0] = 4.0  # a number where R is 0: not a rating
    write_matrix(tmp_path / "Y.csv", values)
    write_matrix(tmp_path / "R.csv", R, "%d")
    np.testing.assert_array_equal(movies_by_users(read_any(tmp_path / "Y.csv").ratings), Y)


def test_a_y_and_r_of_different_shapes_are_one_line_naming_both_files(tmp_path, monkeypatch):
    write_matrix(tmp_path / "small_movies_Y.csv", Y)
    write_matrix(tmp_path / "small_movies_R.csv", R[:, :5], "%d")
    monkeypatch.setattr(dense, "_parse", lambda *a, **k: pytest.fail("nothing is parsed before the shapes agree"))
    with pytest.raises(RatingsFileError) as refused:
        read_any(tmp_path / "small_movies_Y.csv")
    message = str(refused.value)
    assert "\n" not in message
    assert "small_movies_Y.csv" in message and "small_movies_R.csv" in message
    assert "4 × 6" in message and "4 × 5" in message


def test_a_matrix_past_the_limit_is_refused_before_it_is_parsed(lab_pair, monkeypatch):
    monkeypatch.setattr(limits, "MAX_MATRIX_CELLS", 20)
    monkeypatch.setattr(dense, "_parse", lambda *a, **k: pytest.fail("parsed before the size was checked"))
    with pytest.raises(RatingsFileError, match="24 cells"):
        read_any(lab_pair[0])


@pytest.mark.parametrize("r_text, line, problem", [
    ("1,0,1,0,1,0\n0,1,1,1,0,0\n1,2,0,0,1,0\n0,0,0,0,0,0\n", 3, "not 0 or 1"),
    ("1,0,1,0,1,0\n0,1,1,1,0,0\n1,1,0,0,1\n0,0,0,0,0,0\n", 3, "found fewer"),
    ("1,0,1,0,1,0\n0,1,1,1,0,0,1\n1,1,0,0,1,0\n0,0,0,0,0,0\n", 2, "found 7"),
    ("1,0,1,0,1,0\n0,1,x,1,0,0\n1,1,0,0,1,0\n0,0,0,0,0,0\n", 2, "'x' in column 3 is not a number"),
])
def test_a_damaged_r_is_one_line_with_its_line(tmp_path, r_text, line, problem):
    write_matrix(tmp_path / "small_movies_Y.csv", Y)
    (tmp_path / "small_movies_R.csv").write_text(r_text)
    with pytest.raises(RatingsFileError) as refused:
        read_any(tmp_path / "small_movies_Y.csv")
    assert refused.value.line == line and problem in str(refused.value)
    assert "small_movies_R.csv" in refused.value.path


def test_no_rating_in_y_where_r_says_rated_is_named(tmp_path):
    text = "\n".join(",".join("" if (i, j) == (1, 2) else f"{v:g}" for j, v in enumerate(row))
                     for i, row in enumerate(Y))
    (tmp_path / "small_movies_Y.csv").write_text(text + "\n")
    write_matrix(tmp_path / "small_movies_R.csv", R, "%d")
    with pytest.raises(RatingsFileError, match="no rating in column 3") as refused:
        read_any(tmp_path / "small_movies_Y.csv")
    assert refused.value.line == 2


def test_a_headerless_matrix_alone_takes_0_as_not_rated_and_asks(tmp_path):
    path = write_matrix(tmp_path / "small_movies_Y.csv", Y)  # no R beside it
    result = read_any(path)
    assert result.zero_question and result.zeros == int((Y == 0).sum())
    np.testing.assert_array_equal(movies_by_users(result.ratings), Y)
    assert len(result.ratings) == R.sum() and "zeros read as not rated" in result.status
    kept = dense.read_dense_matrix(path, zero_is_rating=True)
    assert len(kept.ratings) == Y.size and not kept.zero_question and kept.ratings.scale.low == 0


def test_files_that_are_not_a_lab_matrix_are_read_as_before(tmp_path):
    # a long table whose name has a y, with a file named like its R beside it: its header says what it is
    (tmp_path / "my.csv").write_text("user,item,rating\n1,10,4\n2,10,3\n")
    write_matrix(tmp_path / "mr.csv", R, "%d")
    result = read_any(tmp_path / "my.csv")
    assert result.format == "long" and len(result.ratings) == 2
    # a headerless long table of numbers: three columns are (user, item, rating), not a matrix
    (tmp_path / "plain.csv").write_text("1,10,4\n2,10,3\n2,11,5\n")
    assert read_any(tmp_path / "plain.csv").format == "long"
    assert dense.mask_beside(tmp_path / "plain.csv") is None


def test_the_lab_y_and_r_built_from_the_shared_triplets_open_as_those_ratings(shared_data, tmp_path):
    pd = pytest.importorskip("pandas")
    triplets = pd.read_csv(shared_data / "ng-cf-lab-small-movies" / "small_movies_Y_R_reconstructed_triplets.csv")
    shape = (triplets.movie_index.max() + 1, triplets.user_index.max() + 1)
    y, r = np.zeros(shape), np.zeros(shape, dtype=int)
    y[triplets.movie_index, triplets.user_index] = triplets.rating
    r[triplets.movie_index, triplets.user_index] = 1
    write_matrix(tmp_path / "small_movies_Y.csv", y, "%.1f")
    write_matrix(tmp_path / "small_movies_R.csv", r, "%d")
    ratings = read_any(tmp_path / "small_movies_Y.csv").ratings
    assert (ratings.n_items, ratings.n_users) == shape == (4778, 443)
    assert len(ratings) == len(triplets)
    read = pd.DataFrame({"movie_index": ratings.item_labels[ratings.items].astype(int),
                         "user_index": ratings.user_labels[ratings.users].astype(int), "rating": ratings.values})
    expected = triplets[["movie_index", "user_index", "rating"]]
    pd.testing.assert_frame_equal(read.sort_values(["movie_index", "user_index"]).reset_index(drop=True),
                                  expected.sort_values(["movie_index", "user_index"]).reset_index(drop=True))


def test_a_matrix_of_more_columns_than_a_file_may_have_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    """Refused by its first line, as a labelled table is: a row of a million numbers passed the cells' limit and
    took pandas 18 s and 1.6 GB (whether the file met the columns' check depended on which byte its first
    64 kB ended at)."""
    monkeypatch.setattr(limits, "MAX_COLUMNS", 8)
    monkeypatch.setattr(dense, "_parse", lambda *a, **k: pytest.fail("parsed before the columns were counted"))
    path = tmp_path / "wide.csv"
    path.write_text(",".join(str(1 + j % 5) for j in range(9)) + "\n")
    with pytest.raises(RatingsFileError, match="the first line has 9 columns, more than the 8") as refused:
        read_any(path)
    assert refused.value.line == 1


def test_a_cell_that_is_not_a_number_below_a_first_line_of_numbers_is_named(tmp_path):
    """The reader of labelled tables took the numbers for labels: "the column label '3' appears twice"."""
    path = tmp_path / "matrix.csv"
    path.write_text("1,2,3,4,5,3\n5,1,x,1,1,1\n")
    with pytest.raises(RatingsFileError, match="'x' in column 3 is not a number") as refused:
        read_any(path)
    assert refused.value.line == 2


def test_a_matrix_separated_by_semicolons_is_read(tmp_path):
    path = tmp_path / "matrix.csv"
    path.write_text("\n".join(";".join(f"{v:g}" for v in row) for row in Y) + "\n")
    result = read_any(path)
    assert result.format == dense.DENSE_FORMAT
    np.testing.assert_array_equal(movies_by_users(result.ratings), Y)


def test_a_line_cut_short_in_a_matrix_alone_is_named(tmp_path):
    """Without R an empty cell is "not rated", and a line of two numbers under a first line of six was read as
    four unrated cells."""
    path = tmp_path / "matrix.csv"
    path.write_text("1,2,3,4,5,3\n5,1\n4,,,2,1,\n")
    with pytest.raises(RatingsFileError, match="expected 6 numbers like the first line, found 2") as refused:
        read_any(path)
    assert refused.value.line == 2
    path.write_text("1,2,3,4,5,3\n5,1,,,,\n")  # empty cells are fine
    assert len(read_any(path).ratings) == 8
