"""Each supported file shape loads from a small file the test writes; bad files fail in one line."""

import numpy as np
import pandas as pd
import pytest

from cfexplorer.io.readers import RatingsFileError, read_any, read_ratings


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_movielens_ratings_with_titles_beside_it(tmp_path):
    path = write(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n1,10,4.0,1\n1,2,3.5,2\n7,10,5.0,3\n")
    write(tmp_path, "movies.csv", 'movieId,title,genres\n2,"Jumanji (1995)",Adventure|Children\n10,GoldenEye (1995),Action\n')
    result = read_any(path)
    ratings = result.ratings
    assert (ratings.n_users, ratings.n_items, ratings.n_ratings) == (2, 2, 3)
    assert list(ratings.item_labels) == [2, 10]
    assert list(ratings.item_titles()) == ["Jumanji (1995)", "GoldenEye (1995)"]
    assert ratings.item_info["year"].tolist() == [1995, 1995]
    assert ratings.to_dense()[0].tolist() == [3.5, 4.0]
    assert ratings.scale.step == 0.5


def test_ml100k_u_data_with_latin1_u_item(tmp_path):
    path = write(tmp_path, "u.data", "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n")
    action = "|".join(["0", "1"] + ["0"] * 17)
    unknown = "|".join(["1"] + ["0"] * 18)
    item = (f"1|Toy Story (1995)|01-Jan-1995||http://x|{action}\n"
            f"2|Café Society (1995)|01-Jan-1995||http://x|{unknown}\n")
    write(tmp_path, "u.item", item, encoding="latin-1")
    ratings = read_any(path).ratings
    assert ratings.n_ratings == 3 and ratings.scale.step == 1
    assert list(ratings.item_titles()) == ["Toy Story (1995)", "Café Society (1995)"]
    assert ratings.item_info["genres"].tolist() == ["Action", "unknown"]


@pytest.mark.parametrize("text,delim", [
    ("user,item,rating\nann,Up,4\nbob,Up,2\nann,Heat,5\n", ","),
    ("User\tMovie\tScore\nann\tUp\t4\nbob\tUp\t2\nann\tHeat\t5\n", "\t"),
    ("ann;Up;4\nbob;Up;2\nann;Heat;5\n", ";"),
])
def test_long_tables_with_or_without_header(tmp_path, text, delim):
    ratings = read_ratings(write(tmp_path, "r.txt", text)).ratings
    assert list(ratings.user_labels) == ["ann", "bob"]
    assert list(ratings.item_labels) == ["Heat", "Up"]
    np.testing.assert_allclose(ratings.to_dense(), [[5.0, 4.0], [np.nan, 2.0]])


def test_headerless_numeric_long_file(tmp_path):
    ratings = read_ratings(write(tmp_path, "r.csv", "1,2,3\n2,2,4\n")).ratings
    assert ratings.n_ratings == 2 and list(ratings.user_labels) == [1, 2]


def test_wide_matrix_with_movies_as_rows_like_the_course(tmp_path):
    text = "Movie,Alice,Bob,Carol\nLove at last,5,5,0\nNonstop car chases,0,?,5\nSwords,, ?,5\n"
    ratings = read_ratings(write(tmp_path, "m.csv", text)).ratings
    assert list(ratings.user_labels) == ["Alice", "Bob", "Carol"]
    assert list(ratings.item_labels) == ["Love at last", "Nonstop car chases", "Swords"]
    np.testing.assert_allclose(ratings.to_dense(), [[5, 0, np.nan], [5, np.nan, np.nan], [0, 5, 5]])


def test_wide_matrix_with_users_as_rows_and_binary_detection(tmp_path):
    ratings = read_ratings(write(tmp_path, "m.tsv", "\tUp\tHeat\nann\t1\t?\nbob\t0\t1\n")).ratings
    assert list(ratings.user_labels) == ["ann", "bob"] and ratings.binary


def test_excel_workbook(tmp_path):
    path = tmp_path / "ratings.xlsx"
    pd.DataFrame({"Movie": ["Up", "Heat"], "ann": [5, None], "bob": [2, 4]}).to_excel(path, index=False)
    ratings = read_ratings(path).ratings
    assert list(ratings.user_labels) == ["ann", "bob"]
    np.testing.assert_allclose(ratings.to_dense(), [[5, np.nan], [2, 4]])  # users x items


def test_duplicates_keep_the_last_and_are_reported(tmp_path):
    result = read_ratings(write(tmp_path, "r.csv", "user,item,rating\na,x,1\na,x,5\nb,x,2\n"))
    assert result.ratings.n_ratings == 2
    assert result.ratings.to_dense()[0, 0] == 5
    assert "1 duplicate" in result.warnings[0] and "line 2" in result.warnings[0] and "last" in result.warnings[0]


@pytest.mark.parametrize("text,line,words", [
    ("user,item,rating\na,x,4\na,y,great\n", 3, "'great' is not a finite number"),
    ("user,item,rating\na,x,4\nb,y\n", 3, "rating is missing"),
    ("user,item,rating\na,x,4\nb,y,3,9\n", 3, "expected 3 fields"),
    ("user,item,rating\na,x,inf\n", 2, "not a finite number"),
    ("user,item,rating\n,x,4\n", 2, "user is empty"),
    ("Movie,ann,bob\nUp,5,x\n", 2, "'x' in column 'bob'"),
    ("Movie,ann,ann\nUp,5,1\n", 1, "appears twice"),
])
def test_malformed_files_name_file_line_and_problem(tmp_path, text, line, words):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(RatingsFileError) as caught:
        read_ratings(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line {line}: ")
    assert words in message and "\n" not in message


@pytest.mark.parametrize("content,words", [
    (b"", "empty"),
    (b"user,item,rating\n", "no ratings"),
    (b"user,item,rating\n\x81\x8da,b,1\n", "not valid UTF-8"),  # bytes Windows-1252 leaves undefined too
    (b"\x00\x01\x02", "not a text file"),
])
def test_empty_binary_and_wrongly_encoded_files(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(RatingsFileError, match=words):
        read_ratings(path)


def test_missing_file(tmp_path):
    with pytest.raises(RatingsFileError, match="no such file"):
        read_ratings(tmp_path / "nothing.csv")


def test_real_movielens_latest_small_loads(shared_data):
    ratings = read_any(shared_data / "ml-latest-small" / "ratings.csv").ratings
    assert (ratings.n_users, ratings.n_items, ratings.n_ratings) == (610, 9724, 100836)
    assert ratings.item_titles()[0] == "Toy Story (1995)"


@pytest.mark.parametrize("encoding, read_as", [("cp1252", "Windows-1252"), ("latin-1", "Windows-1252"),
                                                ("utf-16", "UTF-16")])
def test_a_file_from_excel_on_windows_is_read_with_a_note_instead_of_refused(tmp_path, encoding, read_as):
    """Excel's CSV on a Western European Windows is Windows-1252 and its "Unicode Text" UTF-16: both were refused
    ("save the file as UTF-8") though nothing else is wrong with them."""
    text = "user\titem\trating\nZoë\tAmélie\t5\nJosé\tLe Dîner de cons\t4\nZoë\tLéon\t3\n"
    path = tmp_path / "ratings.txt"
    path.write_bytes(text.encode(encoding))
    result = read_ratings(path)
    assert sorted(result.ratings.user_labels) == ["José", "Zoë"]
    assert "Amélie" in list(result.ratings.item_labels) and result.ratings.n_ratings == 3
    assert f"read as {read_as}" in result.warnings[0] and "not UTF-8" in result.warnings[0]
    path.write_bytes(text.encode("utf-8"))  # UTF-8 itself: no note
    assert not any("UTF-8" in note for note in read_ratings(path).warnings)


@pytest.mark.parametrize("name, header, rows, what", [
    ("movies.csv", "movieId,title,genres", ["1,Toy Story (1995),Adventure|Animation", "2,Jumanji (1995),Adventure"],
     "list of movies"),
    ("tags.csv", "userId,movieId,tag,timestamp", ["2,60756,funny,1445714994", "2,60756,Highly quotable,1445714996"],
     "tags"),
    ("links.csv", "movieId,imdbId,tmdbId", ["1,0114709,862", "2,0113497,8844"], "links to IMDb and TMDB"),
])
def test_a_movielens_file_beside_the_ratings_says_what_it_is_and_which_to_open(tmp_path, name, header, rows, what):
    """Opened, movies.csv was "'Toy Story (1995)' in column 'title' is not a rating", tags.csv "the row label '2'
    appears twice", and links.csv read its TMDB ids as ratings."""
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(RatingsFileError) as refused:
        read_any(path)
    assert str(refused.value) == (f"{path}: this is MovieLens' {what} ({header.replace(',', ', ')}), not ratings: "
                                  "open ratings.csv from the same folder (the titles and genres come with it)")
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,1,3.5,964982224\n")
    assert read_any(ratings).ratings.n_ratings == 2  # the ratings beside them read as ever


def test_a_large_numeric_file_tells_its_share_while_its_ratings_are_made(tmp_path, monkeypatch):
    """After the parse (three fifths of the bar) the ratings were made from it with nothing told: at 25M's shape
    the opening bar stood still for 1.6 s before the grid's index moved it on."""
    from cfexplorer.io import numeric_columns

    monkeypatch.setattr(numeric_columns, "STREAM_FROM_BYTES", 2**14)
    monkeypatch.setattr(numeric_columns, "_BLOCK_BYTES", 2**14)
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating\n" + "".join(f"{1 + k // 97},{1 + k % 97},{1 + k % 5}\n"
                                                       for k in range(20_000)))
    told = []
    result = read_ratings(path, progress=told.append)
    assert result.ratings.n_ratings == 20_000
    assert told == sorted(told) and told[-1] == 1.0
    parse_ends = max(share for share in told if share < 0.7)
    assert [share for share in told if parse_ends < share < 1.0]  # the making of the ratings moves the bar too


def test_names_of_spaces_alone_are_empty_names_however_many(tmp_path):
    """" " and "  " differ in their spaces only, and were kept apart as two users, though a name of spaces alone
    is an empty name, which a file's one such user already was refused as."""
    path = tmp_path / "blank.csv"
    path.write_text('user,movie,rating\n" ",Up,4\n"  ",Heat,2\nAlice,Up,5\n')
    with pytest.raises(RatingsFileError, match="the user is empty"):
        read_ratings(path)
