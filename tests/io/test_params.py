"""Starting parameters from files: the lab's X, W, b CSVs and .npz archives, matched to a grid's rows."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfexplorer.core.ratings import Ratings
from cfexplorer.io.params import FactorFileError, align_parameters, read_parameters

RNG = np.random.default_rng(0)
X = np.round(RNG.normal(size=(6, 3)), 4)  # 6 movies
W = np.round(RNG.normal(size=(5, 3)), 4)  # 5 users
B = np.round(RNG.normal(size=5), 4)


def grid(n_users=4, n_items=5, users=None, items=None) -> Ratings:
    """A grid of n_users × n_items with one rating per user."""
    users = users or [f"u{j}" for j in range(n_users)]
    items = items or [f"m{i}" for i in range(n_items)]
    return Ratings(np.arange(len(users)), np.arange(len(users)) % len(items), np.full(len(users), 3.0), users, items)


def write_lab_files(folder, x=X, w=W, b=B, prefix="small_movies"):
    """As the lab writes them: no header, comma-separated, b on one line."""
    paths = [folder / f"{prefix}_X.csv", folder / f"{prefix}_W.csv", folder / f"{prefix}_b.csv"]
    np.savetxt(paths[0], x, delimiter=",", fmt="%.4f")
    np.savetxt(paths[1], w, delimiter=",", fmt="%.4f")
    np.savetxt(paths[2], np.atleast_2d(b), delimiter=",", fmt="%.4f")
    return paths


def test_the_labs_csv_files_are_told_apart_by_name_and_taken_in_the_grids_order(tmp_path):
    x_path, w_path, b_path = write_lab_files(tmp_path)
    found = read_parameters([b_path, w_path, x_path])  # any order
    assert found.describe() == "X 6 × 3, W 5 × 3, b 5"
    assert found.source == "small_movies_X.csv, small_movies_W.csv, small_movies_b.csv"
    aligned = align_parameters(found, grid(n_users=4, n_items=5))
    # the lab's X[:num_movies], W[:num_users], b[:num_users]
    np.testing.assert_array_equal(aligned.item_factors, X[:5])
    np.testing.assert_array_equal(aligned.user_factors, W[:4])
    np.testing.assert_array_equal(aligned.user_bias, B[:4])
    assert aligned.item_bias is None
    assert aligned.how == "by order: the first 5 of 6 movies and the first 4 of 5 users"
    # and the first k features, as X[:, :num_features]
    first_two = aligned.arrays(2)
    np.testing.assert_array_equal(first_two["item_factors"], X[:5, :2])
    np.testing.assert_array_equal(first_two["user_bias"], B[:4])
    with pytest.raises(ValueError, match="Factors k must be at most 3, not 4"):
        aligned.arrays(4)


def test_b_may_be_a_column_and_a_header_line_is_skipped(tmp_path):
    x_path, w_path, b_path = write_lab_files(tmp_path)
    b_path.write_text("b\n" + "\n".join(f"{v:.4f}" for v in B) + "\n")
    x_path.write_text("f1,f2,f3\n" + x_path.read_text())
    found = read_parameters([x_path, w_path, b_path])
    np.testing.assert_array_equal(found.user_bias, B)
    np.testing.assert_array_equal(found.item_factors, X)


def test_files_without_the_labs_names_are_told_apart_by_shape_and_the_grid(tmp_path):
    movies, users, bias = tmp_path / "movies.csv", tmp_path / "users.csv", tmp_path / "bias.csv"
    np.savetxt(movies, X, delimiter=",")
    np.savetxt(users, W, delimiter=",")
    np.savetxt(bias, B[None, :], delimiter=",")
    found = read_parameters([users, bias, movies], n_items=6, n_users=5)
    np.testing.assert_array_equal(found.item_factors, X)
    np.testing.assert_array_equal(found.user_bias, B)
    with pytest.raises(FactorFileError, match="cannot tell whether this is X .* end the names in _X, _W and _b"):
        read_parameters([users, movies])  # no grid to compare with


def test_too_few_rows_for_the_grid_are_refused_naming_the_file(tmp_path):
    found = read_parameters(write_lab_files(tmp_path))
    with pytest.raises(ValueError, match=r"^small_movies_X.csv.*: the parameters have 6 movies but the grid has 7"):
        align_parameters(found, grid(n_users=4, n_items=7))


def test_an_npz_with_names_is_matched_by_name_whatever_its_order(tmp_path):
    path = tmp_path / "params.npz"
    np.savez(path, item_factors=X[::-1], user_factors=W[::-1], user_bias=B[::-1], item_bias=np.arange(6.0)[::-1],
             item_names=np.array([f"m{i}" for i in range(6)])[::-1], user_names=np.array([f"u{j}" for j in range(5)])[::-1])
    aligned = align_parameters(read_parameters(path), grid(users=["u3", "u0"], items=["m5", "m1", "m2"]))
    assert aligned.how == "by name"
    np.testing.assert_array_equal(aligned.item_factors, X[[5, 1, 2]])
    np.testing.assert_array_equal(aligned.user_factors, W[[3, 0]])
    np.testing.assert_array_equal(aligned.user_bias, B[[3, 0]])
    np.testing.assert_array_equal(aligned.item_bias, [5.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"params.npz: 1 of the grid's 2 users have no row in user_names \(first: 'Zoe'\)"):
        align_parameters(read_parameters(path), grid(users=["u3", "Zoe"], items=["m1"]))


def test_movies_are_matched_by_title_when_their_ids_are_not_named(tmp_path):
    import pandas as pd

    ratings = Ratings([0, 1], [0, 1], [4.0, 2.0], ["1", "2"], [318, 260],
                      item_info=pd.DataFrame({"title": ["Shawshank", "Star Wars"]}))
    path = tmp_path / "titles.npz"
    np.savez(path, item_factors=X[:3], user_factors=W[:2], item_names=np.array(["Star Wars", "Alien", "Shawshank"]))
    aligned = align_parameters(read_parameters(path), ratings)
    np.testing.assert_array_equal(aligned.item_factors, X[[2, 0]])
    assert aligned.how == "movies by name, users by order"


@pytest.mark.parametrize("arrays, message", [
    ({"item_factors": X}, "no 'user_factors' array"),
    ({"item_factors": X, "user_factors": W[:, :2]}, "user_factors has 2 factors but item_factors has 3"),
    ({"item_factors": X, "user_factors": W, "user_bias": B[:3]}, r"user_bias has shape \(3,\); expected 5 values"),
    ({"item_factors": X[0], "user_factors": W}, "item_factors must be a 2-D array of numbers"),
    ({"item_factors": np.where(X > 1, np.inf, X), "user_factors": W}, "a value of item_factors is not a finite number"),
    ({"item_factors": X, "user_factors": W * 1e7}, "is beyond ±1,000,000"),
    ({"item_factors": X, "user_factors": W, "user_names": np.array(["a", "a", "b", "c", "d"])}, "names 'a' twice"),
])
def test_a_bad_npz_is_refused_in_one_line_naming_the_file(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(FactorFileError, match=message) as raised:
        read_parameters(path)
    assert str(raised.value).startswith(str(path)) and "\n" not in str(raised.value)


@pytest.mark.parametrize("x_text, message", [
    ("1,2,3\n4,5\n", "line 2: expected 3 numbers like the lines before, found 2"),
    ("1,2,3\n4,five,6\n", "line 2: 'five' is not a number"),
    ("1,2,3\n4,nan,6\n", "line 2: a value of small_movies_X is not a finite number"),
    ("", "the file is empty"),
])
def test_a_bad_csv_is_refused_with_its_line(tmp_path, x_text, message):
    x_path, w_path, b_path = write_lab_files(tmp_path)
    x_path.write_text(x_text)
    with pytest.raises(FactorFileError, match=message) as raised:
        read_parameters([x_path, w_path, b_path])
    assert str(raised.value).startswith(str(x_path))


def test_mismatched_lab_files_are_refused(tmp_path):
    x_path, w_path, b_path = write_lab_files(tmp_path, b=B[:3])
    with pytest.raises(FactorFileError, match="b has 3 values but W .* has 5 users"):
        read_parameters([x_path, w_path, b_path])
    with pytest.raises(FactorFileError, match=r"W \(user factors\) missing"):
        read_parameters([x_path, b_path])
    npz = tmp_path / "p.npz"
    np.savez(npz, item_factors=X, user_factors=W)
    with pytest.raises(FactorFileError, match="give it alone"):
        read_parameters([npz, x_path])
    with pytest.raises(FactorFileError, match="from an .npz or from the lab's CSV files"):
        read_parameters([tmp_path / "p.xlsx"])


def test_the_labs_own_files(shared_data):
    folder = shared_data / "ng-cf-lab-small-movies"
    found = read_parameters([folder / f"small_movies_{name}.csv" for name in "XWb"])
    assert found.describe() == "X 4778 × 10, W 443 × 10, b 443"
    assert found.item_factors[0, 0] == pytest.approx(-0.033286825)
    aligned = align_parameters(found, grid(n_users=4, n_items=5))
    assert aligned.how == "by order: the first 5 of 4,778 movies and the first 4 of 443 users"
    np.testing.assert_array_equal(aligned.arrays(3)["user_factors"], found.user_factors[:4, :3])


# --- whatever the files hold: parameters, or one line --------------------------------------------------------
numberish = st.sampled_from(["1", "-0.5", "2e3", "", " ", "nan", "inf", "1e400", "x", "1,5", '"3"', "b", "W"])
csv_text = st.lists(st.lists(st.one_of(numberish, st.text(max_size=4)), max_size=4), max_size=6).map(
    lambda rows: "\n".join(",".join(cells) for cells in rows))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.tuples(csv_text, csv_text, st.one_of(csv_text, st.binary(max_size=40).map(lambda b: b.decode("latin-1")))))
def test_any_lab_style_files_give_finite_parameters_or_one_line(tmp_path, texts):
    paths = [tmp_path / f"p_{letter}.csv" for letter in "XWb"]
    for path, text in zip(paths, texts):
        path.write_text(text, encoding="utf-8")
    try:
        found = read_parameters(paths)
    except FactorFileError as error:
        assert str(error).strip() and "\n" not in str(error)
        return
    assert found.item_factors.shape[1] == found.user_factors.shape[1]
    for values in (found.item_factors, found.user_factors, found.user_bias):
        assert np.isfinite(values).all() and np.abs(values).max(initial=0) <= 1e6
    assert len(found.user_bias) == len(found.user_factors)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrays=st.dictionaries(st.sampled_from(["item_factors", "user_factors", "user_bias", "item_bias", "item_names",
                                              "user_names", "other"]),
                              st.sampled_from([np.zeros((0, 2)), np.ones((3, 2)), np.ones((2, 2)), np.ones((1, 3)),
                                               np.array([np.nan, np.inf]), np.array(["a", "b"]), np.arange(3),
                                               np.array([b"x", b"y", b"z"]), np.ones((2, 2, 2))]),
                              max_size=5))
def test_any_npz_gives_parameters_that_align_or_one_line(tmp_path, arrays):
    path = tmp_path / "p.npz"
    np.savez(path, **arrays)
    try:
        found = read_parameters(path)
        aligned = align_parameters(found, grid(n_users=2, n_items=2))
    except (FactorFileError, ValueError) as error:
        assert str(error).strip() and "\n" not in str(error)
        return
    assert aligned.item_factors.shape == (2, found.n_factors) and aligned.user_factors.shape == (2, found.n_factors)
