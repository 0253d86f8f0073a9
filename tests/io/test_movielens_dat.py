"""MovieLens 1M's and 10M's files: ``ratings.dat`` (user::movie::rating::timestamp, no header) and ``movies.dat``
(id::title::genres, Latin-1 in 1M, UTF-8 in 10M) beside it."""

import numpy as np
import pytest

from cfexplorer.io import numeric_columns, readers
from cfexplorer.io.readers import read_any, read_ratings

RATINGS_DAT = "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n6040::3408::4::978300275\n"


def test_ratings_dat_reads_as_its_csv_twin(tmp_path, monkeypatch):
    """The same ratings as the CSV with the same lines, from the open file (by io/_numbers.c, or pyarrow
    without it) and from the bytes."""
    (tmp_path / "ratings.dat").write_text(RATINGS_DAT)
    (tmp_path / "twin.csv").write_text(RATINGS_DAT.replace("::", ","))
    twin = read_ratings(tmp_path / "twin.csv").ratings
    whole_reads = []
    read_bytes = readers._read_bytes
    monkeypatch.setattr(readers, "_read_bytes", lambda path: whole_reads.append(path) or read_bytes(path))
    for streamed in (True, False):
        if streamed:
            if not numeric_columns.can_parse_streams():  # neither io/_numbers.c nor pyarrow
                continue
            monkeypatch.setattr(numeric_columns, "STREAM_FROM_BYTES", 0)  # any size streams
        else:
            monkeypatch.setattr(numeric_columns, "STREAM_FROM_BYTES", 2**40)
        result = read_ratings(tmp_path / "ratings.dat")
        assert result.users_from == "column 1 (no header)"
        ratings = result.ratings
        for name in ("users", "items", "values", "user_labels", "item_labels"):
            np.testing.assert_array_equal(getattr(ratings, name), getattr(twin, name))
        assert ratings.item_labels.tolist() == [661, 1193, 3408] and ratings.scale.step == 1
        assert (whole_reads == []) == streamed  # streamed, its bytes were never read whole


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8"])
def test_titles_genres_and_years_from_movies_dat_beside_it(tmp_path, encoding):
    (tmp_path / "ratings.dat").write_text(RATINGS_DAT)
    movies = ("1::Toy Story (1995)::Animation|Children's|Comedy\n"
              "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
              "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
              "3408::Misérables, Les (1995)::Drama|Musical\n")
    (tmp_path / "movies.dat").write_text(movies, encoding=encoding)
    result = read_any(tmp_path / "ratings.dat")
    assert result.warnings == []
    info = result.ratings.item_info
    assert result.ratings.item_titles().tolist() == [
        "James and the Giant Peach (1996)", "One Flew Over the Cuckoo's Nest (1975)", "Misérables, Les (1995)"]
    assert info["genres"].tolist() == ["Animation|Children's|Musical", "Drama", "Drama|Musical"]
    assert info["year"].tolist() == [1996, 1975, 1995]


def test_a_damaged_movies_dat_costs_the_titles_not_the_ratings(tmp_path):
    (tmp_path / "ratings.dat").write_text(RATINGS_DAT)
    (tmp_path / "movies.dat").write_text("Toy Story::Animation\nno ids here\n")
    result = read_any(tmp_path / "ratings.dat")
    assert result.ratings.n_ratings == 4
    assert len(result.warnings) == 1
    assert "titles not loaded" in result.warnings[0] and "movies.dat" in result.warnings[0]


def test_double_colons_with_names_or_a_header(tmp_path):
    """Names for ids go through the text path, split on the two colons; a header names the columns."""
    names = tmp_path / "names.dat"
    names.write_text("alice::Toy Story::5\nbob::Heat::3\nalice::Heat::4\n")
    ratings = read_ratings(names).ratings
    assert ratings.user_labels.tolist() == ["alice", "bob"] and ratings.item_labels.tolist() == ["Heat", "Toy Story"]
    np.testing.assert_allclose(ratings.to_dense(), [[4.0, 5.0], [3.0, np.nan]])
    header = tmp_path / "header.dat"
    header.write_text("timestamp::movie::user::rating\n0::10::1::4\n0::10::2::3\n")
    result = read_ratings(header)
    assert result.users_from == "the column 'user'"
    assert result.ratings.user_labels.tolist() == [1, 2] and result.ratings.values.tolist() == [4.0, 3.0]


def test_a_line_with_a_single_colon_between_fields_is_not_read_as_double_colons(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text("user,item,rating,time\na,x,4,12:30\nb,x,3,13:45\n")
    assert read_ratings(path).ratings.user_labels.tolist() == ["a", "b"]


def test_a_short_line_of_a_ratings_dat_is_named(tmp_path):
    """One short line made the file not '::'-separated at all: "line 1: found a single column"."""
    from cfexplorer.io.readers import RatingsFileError, read_any

    path = tmp_path / "ratings.dat"
    path.write_text("1::1193::5::978300760\n1::661\n2::1193::4::978298413\n")
    with pytest.raises(RatingsFileError, match="the rating is missing") as refused:
        read_any(path)
    assert refused.value.line == 2
