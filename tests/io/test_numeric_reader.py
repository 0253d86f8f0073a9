"""The fast path for numeric long tables (MovieLens and most exports) reads what the text path reads: by our
compiled parser, by pyarrow's CSV reader and by pandas' (the first two are optional: CI may lack either)."""

import contextlib
import io
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplorer.core.sorting import sorted_codes
from cfexplorer.io import numeric_columns, readers
from cfexplorer.io.readers import RatingsFileError, read_ratings


@pytest.fixture(params=["compiled", "pyarrow", "pandas"])
def engine(request, monkeypatch):
    """Each test three times: by our compiled parser (io/_numbers.c) where the install built it, by pyarrow
    where it is installed, and by pandas alone (an installation with neither). The first two for files of any
    size, not only large ones, from the open file and (for the compiled parser) from the bytes as well."""
    if request.param != "compiled":
        monkeypatch.setattr(numeric_columns, "compiled", None)
    elif numeric_columns.compiled is None:
        pytest.skip("io/_numbers.c was not built")
    if request.param == "pyarrow":
        pytest.importorskip("pyarrow")
    else:
        monkeypatch.setattr(numeric_columns, "_pyarrow", lambda: None)  # what the readers find without pyarrow
    if request.param != "pandas":
        monkeypatch.setattr(numeric_columns, "STREAM_FROM_BYTES", 0)
    return request.param


def write(tmp_path, text, name="ratings.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_a_header_that_opens_a_quote_is_refused_as_the_text_path_refuses_it(tmp_path, engine):
    """pandas follows the quote to the end of the file; the compiled parser, skipping the header, must not
    read the ratings after it as if it were closed."""
    path = write(tmp_path, 'user,item,"rating\n1,1,4\n2,1,3\n')
    with pytest.raises(RatingsFileError, match=r'a quote \(\"\) opens a field here and is never closed') as refused:
        read_ratings(path)
    assert refused.value.line == 1  # pandas said "EOF inside string starting at row 0"


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


def parse_stream(data: bytes, width: int):
    """What the reader asks of pyarrow for a file of these bytes with a header of ``width`` columns."""
    return numeric_columns.parse_numeric_stream(io.BytesIO(data), data.count(b"\n") + 1, ",", 1, width, (0, 1, 2))


def test_pyarrow_reads_ids_as_integers_and_refuses_what_it_cannot_read():
    pytest.importorskip("pyarrow")
    users, items, values = parse_stream(b"user,item,rating,t\n1,20,3.5,0\n4,5,1,0\n", 4)
    assert users.dtype == np.int64 and users.tolist() == [1, 4] and items.tolist() == [20, 5]
    assert values.tolist() == [3.5, 1.0]
    assert parse_stream(b"user,item,rating\n1.0,2,3\n", 3) is None  # "1.0": pandas' turn
    assert parse_stream(b"user,item,rating\n1,2,3\n\n4,5,6\n", 3) is None


def test_pyarrow_refuses_more_rows_than_the_lines_counted():
    """A file that grew between the count of its lines and the parse: the bytes are then read whole."""
    pytest.importorskip("pyarrow")
    data = b"user,item,rating\n1,2,3\n4,5,6\n"
    assert numeric_columns.parse_numeric_stream(io.BytesIO(data), 2, ",", 1, 3, (0, 1, 2)) is None
    assert numeric_columns.parse_numeric_stream(io.BytesIO(data), 3, ",", 1, 3, (0, 1, 2))[0].tolist() == [1, 4]


@pytest.mark.parametrize("streamer", ["compiled", "pyarrow"])
def test_large_files_are_parsed_from_the_open_file_not_from_their_bytes(tmp_path, monkeypatch, streamer):
    """Our compiled parser or pyarrow reads a large ASCII file as a stream (its bytes never read whole), and
    what it reads is what the path through the bytes reads; a file it declines (not ASCII, ids written 7.0)
    is read through the bytes as before."""
    if streamer == "pyarrow":
        pytest.importorskip("pyarrow")
        monkeypatch.setattr(numeric_columns, "compiled", None)
    elif numeric_columns.compiled is None:
        pytest.skip("io/_numbers.c was not built")
    else:
        monkeypatch.setattr(numeric_columns, "_pyarrow", lambda: None)
    with_compiled = numeric_columns.compiled
    monkeypatch.setattr(numeric_columns, "STREAM_FROM_BYTES", 0)
    whole_reads = []
    read_bytes = readers._read_bytes
    monkeypatch.setattr(readers, "_read_bytes", lambda path: whole_reads.append(path) or read_bytes(path))
    rng = np.random.default_rng(3)
    pairs = rng.permutation(40 * 30)[:500]
    stars = rng.integers(1, 6, 500)
    lines = [f"{user},{item},{rating}" for user, item, rating in zip(pairs // 30 + 100, pairs % 30, stars)]
    streamed = read_ratings(write(tmp_path, "userId,movieId,rating\n" + "\n".join(lines) + "\n")).ratings
    assert whole_reads == []
    with_pyarrow = numeric_columns._pyarrow
    monkeypatch.setattr(numeric_columns, "_pyarrow", lambda: None)
    monkeypatch.setattr(numeric_columns, "compiled", None)  # pandas from the bytes
    through_bytes = read_ratings(write(tmp_path, "userId,movieId,rating\n" + "\n".join(lines) + "\n", "b.csv"))
    assert len(whole_reads) == 1
    for name in ("users", "items", "values", "user_labels", "item_labels"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(through_bytes.ratings, name))
    monkeypatch.setattr(numeric_columns, "_pyarrow", with_pyarrow)
    monkeypatch.setattr(numeric_columns, "compiled", with_compiled)
    for text, users in (("user,item,rating\n7.0,1,4\n2,1,3\n", [2, 7]),
                        ("user,item,rating,title\n1,1,4,Amélie\n2,1,3,Zoë\n", [1, 2])):
        ratings = read_ratings(write(tmp_path, text, "declined.csv")).ratings
        assert ratings.user_labels.tolist() == users
    assert len(whole_reads) == 3


def test_sorted_codes_match_pandas_factorize():
    import pandas as pd

    rng = np.random.default_rng(0)
    for ids in (rng.integers(-50, 200, 1000), rng.integers(0, 2**40, 300), np.array([5, 5, 5])):
        codes, labels = sorted_codes(ids)
        expected_codes, expected_labels = pd.factorize(ids, sort=True)
        assert codes.tolist() == expected_codes.tolist() and labels.tolist() == expected_labels.tolist()


def test_a_large_file_with_names_for_ids_is_declined_from_its_head(tmp_path, monkeypatch):
    """Names for ids: the numeric path gives up on the file's first rating, before counting its lines or asking
    a parser to stream it, and the bytes are read whole once (the file was read three times)."""
    if not numeric_columns.can_parse_streams():
        pytest.skip("neither io/_numbers.c nor pyarrow: nothing streams")
    monkeypatch.setattr(numeric_columns, "STREAM_FROM_BYTES", 0)
    read_through_handles = []
    open_regular = readers.limits.open_regular

    @contextlib.contextmanager
    def counting_open(path, *args):
        with open_regular(path, *args) as handle:
            read = handle.read

            def counted(*size):
                data = read(*size)
                read_through_handles.append(len(data))
                return data

            handle.read = counted
            yield handle

    monkeypatch.setattr(readers.limits, "open_regular", counting_open)
    streams = []
    monkeypatch.setattr(numeric_columns, "parse_numeric_stream", lambda *args: streams.append(args))
    whole_reads = []
    read_bytes = readers._read_bytes
    monkeypatch.setattr(readers, "_read_bytes",  # with what was read before it
                        lambda path: whole_reads.append((path, sum(read_through_handles))) or read_bytes(path))
    lines = [f"user{u % 700},movie{u % 300},{u % 5 + 1}" for u in range(20_000)]
    path = write(tmp_path, "user,item,rating\n" + "\n".join(lines) + "\n", "names.csv")
    ratings = read_ratings(path).ratings
    assert ratings.n_users == 700 and ratings.n_ratings == len(set(lines))
    assert streams == [] and [read for read, _ in whole_reads] == [path]
    # before it, the head alone: twice (the first look for NUL bytes, then the numeric path's)
    assert whole_reads[0][1] <= 2 * readers._HEAD_BYTES < path.stat().st_size


@pytest.mark.parametrize("users, labels", [
    (["alice", "bob", "7"], ["7", "alice", "bob"]),  # a name first: text, sorted as text
    (["7", "bob", "10"], ["10", "7", "bob"]),  # a name later: text all the same
    (["7", "10", "2"], [2, 7, 10]),  # whole numbers: numbers, sorted as numbers
    (["7", "1_000", "2"], [2, 7, 1000]),  # what Python's float reads
])
def test_ids_are_numbers_only_when_every_one_is_a_whole_number(tmp_path, monkeypatch, users, labels):
    """Only a column whose first id is a number is parsed as numbers whole: names were parsed as numbers cell by
    cell first, 3 of the 10 s a file of 3 million ratings with names took to open."""
    parsed_as_numbers = []
    to_numeric = readers.pd.to_numeric
    monkeypatch.setattr(readers.pd, "to_numeric", lambda column, **options: (
        parsed_as_numbers.append(len(column)) or to_numeric(column, **options)))
    text = "user,item,rating\n" + "".join(f"{user},m{row},4\n" for row, user in enumerate(users))
    ratings = read_ratings(write(tmp_path, text)).ratings
    assert ratings.user_labels.tolist() == labels
    assert ratings.item_labels.tolist() == ["m0", "m1", "m2"]  # a name first: never parsed as numbers whole
    assert max(parsed_as_numbers, default=0) <= 1 or users[0].isdigit()


@pytest.mark.parametrize("header, sep", [("user,item,rating\n", ","), ("", ","), ("", "::"), ("", "\t")])
def test_ids_written_with_leading_zeros_stay_text(tmp_path, engine, header, sep):
    """ISBN-like ids ("0013714"): as numbers they lost their zeros, and "0013714" and "13714" became one item
    (two users' ratings of different books in one cell)."""
    rows = [("1", "0013714", "4"), ("2", "13714", "3"), ("1", "0440", "5"), ("3", "13714", "2")]
    name = "ratings.dat" if sep == "::" else "ratings.csv"
    ratings = read_ratings(write(tmp_path, header + "".join(sep.join(row) + "\n" for row in rows), name)).ratings
    assert ratings.item_labels.tolist() == ["0013714", "0440", "13714"]
    assert ratings.user_labels.tolist() == [1, 2, 3]  # no zeros there: numbers still
    np.testing.assert_array_equal(ratings.to_dense(), [[4, 5, np.nan], [np.nan, np.nan, 3], [np.nan, np.nan, 2]])


def test_leading_zeros_far_down_a_file_read_through_the_text_path_stay_text(tmp_path):
    """The text path looks at every id (the numeric paths decide from the first 64 KB): a zero-padded id on the
    last line of a file the numeric path declines (a blank line in it) keeps its zeros."""
    lines = [f"{user},{1000 + user % 97},4" for user in range(1, 20_000)] + ["", "5,01003,2"]
    path = write(tmp_path, "user,item,rating\n" + "\n".join(lines) + "\n")
    assert readers._numeric_long_table(path.read_bytes(), path, ",", None) is None
    labels = read_ratings(path).ratings.item_labels
    assert "01003" in labels.tolist() and "1003" in labels.tolist()


def test_the_zero_padded_check_looks_at_the_few_cells_that_can_be(monkeypatch):
    """A column of three million ids is matched against the pattern only where a cell begins as a zero-padded
    number can (a prefix test of 13 ms; the pattern over every cell took 740)."""
    import pandas as pd

    column = pd.Series([str(n) for n in range(1, 5000)] + ["0012", " 7"], dtype="str")
    matched = []
    match = pd.Series.str.match
    monkeypatch.setattr(pd.core.strings.accessor.StringMethods, "match",
                        lambda self, *args, **kwargs: matched.append(len(self._data)) or match(self, *args, **kwargs))
    assert readers._zero_padded(column)
    assert matched == [2]
    assert not readers._zero_padded(pd.Series(["10", "0", "7", "-3"], dtype="str"))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="\n \t\r1,", max_size=60), search_bytes=st.integers(1, 9))
def test_the_blank_line_search_a_few_bytes_at_a_time_finds_what_one_search_finds(text, search_bytes):
    """The search is cut into pieces (one search of 600 MB held the GIL for a second, freezing the window):
    wherever the cuts fall, it finds a blank line exactly where the whole search does."""
    data = text.encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(numeric_columns, "_SEARCH_BYTES", search_bytes)
        assert numeric_columns.has_blank_line(data) == bool(numeric_columns._BLANK_LINE.search(data))


# --- the compiled parser (io/_numbers.c) against pandas' -------------------------------------------------
needs_compiled = pytest.mark.skipif(numeric_columns.compiled is None, reason="io/_numbers.c was not built")


def by_pandas(data: bytes, delimiter: str, skip: int, width: int, columns):
    """pandas' numbers, of the lines before any lines of nothing but spaces at the end: pandas' path leaves a
    file that ends with them to the text path, which ignores them; the compiled parser ignores them too."""
    data = re.sub(rb"(?:\n[ \r]*)+\Z", b"\n", data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(numeric_columns, "compiled", None)
        return numeric_columns.parse_numeric_columns(data, delimiter, skip, width, columns)


def assert_same_numbers(got, expected):
    assert got is not None and expected is not None
    for ours, theirs in zip(got, expected):
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
        assert np.array_equal(np.signbit(ours), np.signbit(theirs))  # -0.0 read as pandas reads it


ids = st.integers(-(10**15) + 1, 10**15 - 1).map(str) | st.integers(0, 999).map(lambda n: f"+{n:03d}")
ratings = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.decimals(-1000, 1000, places=3, allow_nan=False).map(str),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(repr),
    st.builds(lambda m, e: f"{m}e{e:+d}", st.integers(1, 99_999), st.integers(-22, 15)),
    st.sampled_from(["4.", ".5", "-0", "0.1", "3.0000", "1E2", "0.30000000000000004", "9007199254740993"]),
)
rows = st.lists(st.tuples(ids, ids, ratings, st.integers(0, 2**31).map(str)), min_size=1, max_size=30)


@needs_compiled
@settings(max_examples=150, deadline=None)
@given(rows=rows, delimiter=st.sampled_from([",", "\t", ";", "|"]), header=st.booleans(),
       width=st.sampled_from([3, 4]), spaces=st.booleans(), crlf=st.booleans(), final_newline=st.booleans())
def test_the_compiled_parser_reads_exactly_what_pandas_reads_or_leaves_it_to_pandas(
        rows, delimiter, header, width, spaces, crlf, final_newline):
    gap = delimiter + (" " if spaces and delimiter != " " else "")
    lines = [gap.join(cells[:width]) for cells in rows]
    newline = "\r\n" if crlf else "\n"
    text = (gap.join(["user", "item", "rating", "when"][:width]) + newline if header else "") + newline.join(lines)
    data = (text + (newline if final_newline else "")).encode()
    args = (delimiter, int(header), width, (0, 1, 2))
    got, expected = numeric_columns._parse_compiled(data, *args), by_pandas(data, *args)
    if got is not None:
        assert_same_numbers(got, expected)
    else:  # declined (a number beyond its fast path): pandas reads it, as before
        assert any(len(cells[2].lstrip("+-").replace(".", "").lstrip("0")) > 15 or "e" in cells[2]
                   for cells in rows)


@needs_compiled
@pytest.mark.parametrize("text", [
    "user,item,rating\n1,1,4\n\n2,1,3\n",              # a blank line
    "user,item,rating\n1,1,4\n2,1,3\n\t\n",            # a tab on a line at the end (the text path refuses it)
    "user,item,rating\n1,1,4\n2,1\n",                  # a field short
    "user,item,rating\n1,1,4,9\n2,1,3\n",              # a field more
    "user,item,rating\n7.0,1,4\n2,1,3\n",              # an id written as a float
    "user,item,rating\n1,1,4 \n2,1,3\n",               # a space after a number
    'user,item,rating\n"1",1,4\n2,1,3\n',              # a quoted number
    'user,item,rating,title\n1,1,4,"a, b"\n2,1,3,c\n',  # a quoted delimiter in a column not read
    "user,item,rating,title\n1,1,4,a\rb\n2,1,3,c\n",   # a carriage return that ends a line for pandas
    "user,item,rating\n1,1,nan\n2,1,3\n",              # not a finite number
    "user,item,rating\n1234567890123456,1,4\n",        # an id of 16 digits
    "user,item,rating\n1,1,12345678901234567890\n",    # 20 significant digits
    "user,item,rating\n1,1,1e23\n",                    # beyond the exact powers of ten
    "user,item,rating\n",                              # no rating
    'user,item,"rating\n1,1,4\n2,1,3\n',               # a quote the header opens: pandas reads to the end
    "user,item,rating\n" + "9" * 40 + ",1,4\n",         # an id of 40 digits (its sum would overflow)
    "user,item,rating\n1,1,0." + "0" * 50 + "1\n",      # fifty zeros before a digit
])
def test_the_compiled_parser_declines_all_but_the_plainest_text(text):
    assert numeric_columns._parse_compiled(text.encode(), ",", 1, text.split("\n")[0].count(",") + 1,
                                           (0, 1, 2)) is None


@needs_compiled
@pytest.mark.parametrize("end", ["\n\n", "\r\n\r\n", "\n  \n\n", "\n   "])
@pytest.mark.parametrize("streamed", [False, True])
def test_lines_of_spaces_at_the_end_are_no_reason_to_leave_a_file_to_the_text_path(monkeypatch, end, streamed):
    """The text path ignores them (ten times slower for a large file); so does the compiled parser, from the
    bytes and from the open file wherever its blocks are cut."""
    monkeypatch.setattr(numeric_columns, "_BLOCK_BYTES", 7)
    data = ("user,item,rating\n" + "\n".join(f"{u},{u % 3},{u % 5}" for u in range(1, 40)) + end).encode()
    args = (",", 1, 3, (0, 1, 2))
    got = (numeric_columns._parse_stream_compiled(io.BytesIO(data), data.count(b"\n") + 1, *args) if streamed
           else numeric_columns._parse_compiled(data, *args))
    assert got is not None and got[0].tolist() == list(range(1, 40))
    assert_same_numbers(got, by_pandas(data, *args))


@needs_compiled
@pytest.mark.parametrize("header", ['"userId","movieId","rating"', '"user" , "item",rating\r', 'user,item,rating'])
def test_a_header_of_names_quoted_whole_is_skipped_by_the_compiled_parser(header):
    """R's write.csv quotes each name: such a header is no reason to leave the file to pandas."""
    data = (header + "\n1,20,3.5\n4,5,1\n").encode()
    args = (",", 1, 3, (0, 1, 2))
    assert_same_numbers(numeric_columns._parse_compiled(data, *args), by_pandas(data, *args))


@needs_compiled
@pytest.mark.parametrize("block_bytes", [1, 5, 11, 64, 2**24])
def test_the_compiled_parser_reads_a_stream_whatever_its_blocks(monkeypatch, block_bytes):
    """A file read a block at a time, cut anywhere: in the middle of a number, of the header, of a CRLF, a
    line longer than a block; the last line without a newline."""
    monkeypatch.setattr(numeric_columns, "_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(block_bytes)
    lines = [f"{u},{i},{r / 2},{t}" for u, i, r, t in zip(rng.integers(1, 10**9, 200), rng.integers(1, 99, 200),
                                                          rng.integers(1, 11, 200), rng.integers(0, 2**31, 200))]
    data = ("userId,movieId,rating,timestamp\r\n" + "\r\n".join(lines)).encode()
    args = (",", 1, 4, (0, 1, 2))
    got = numeric_columns._parse_stream_compiled(io.BytesIO(data), data.count(b"\n") + 1, *args)
    assert_same_numbers(got, by_pandas(data, *args))
    assert len(got[0]) == 200 and got[2].tolist() == [float(line.split(",")[2]) for line in lines]
    declined = data.replace(b"\r\n5", b"\r\n\r\n5", 1)  # a blank line somewhere: pyarrow's or pandas' to read
    assert numeric_columns._parse_stream_compiled(io.BytesIO(declined), declined.count(b"\n") + 1, *args) is None
    two_lines_to_skip = b"# exported\r\nuser;item;rating\r\n1;2;3.5\r\n4;5;1"
    args_two = (";", 2, 3, (0, 1, 2))
    assert_same_numbers(numeric_columns._parse_stream_compiled(io.BytesIO(two_lines_to_skip), 4, *args_two),
                        by_pandas(two_lines_to_skip, *args_two))
    # a file that grew between the count of its lines and the parse: more rows than there is room for
    assert numeric_columns._parse_stream_compiled(io.BytesIO(data), data.count(b"\n"), *args) is None


plain_lines = st.lists(st.tuples(ids, ids, ratings, st.integers(0, 2**31).map(str)), min_size=1, max_size=8)
# one change to them, or none: a cell replaced by a bit of text, a line's end by another (or a blank line)
changes = st.none() | st.tuples(st.integers(0, 7), st.integers(0, 4),
                                st.text(alphabet="0123456789.-+eE \r\n\"x:,", max_size=6))


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(rows=plain_lines, change=changes, width=st.sampled_from([3, 4]), delimiter=st.sampled_from([",", ":", " "]))
def test_any_text_the_compiled_parser_reads_it_reads_as_pandas_does(rows, change, width, delimiter):
    """Whatever the lines (a cell or a line's end changed to any bit of text), the compiled parser declines
    them or gives pandas' numbers, never other numbers."""
    lines = [[list(cells[:width]), "\n"] for cells in rows]
    if change is not None:
        line, cell, text = lines[change[0] % len(lines)], change[1], change[2]
        if cell < width:
            line[0][cell] = text
        else:
            line[1] = text
    body = "".join(delimiter.join(cells) + end for cells, end in lines)
    data = (delimiter.join("uirt"[:width]) + "\n" + body).encode()
    args = (delimiter, 1, width, (0, 1, 2))
    got = numeric_columns._parse_compiled(data, *args)
    if got is not None:
        assert delimiter != " "  # a delimiter it would read differently from pandas is never tried
        assert_same_numbers(got, by_pandas(data, *args))


@pytest.mark.parametrize("rows", [0, 1, 7, 100_000])
def test_the_parsers_arrays_are_three_of_their_own(rows):
    """The three arrays share one map: each is writable, of its type and length, and apart from the others."""
    users, items, values = numeric_columns._row_arrays(rows)
    assert [array.dtype for array in (users, items, values)] == [np.int64, np.int64, np.float64]
    assert len(users) == len(items) == len(values) == rows
    users[:], items[:], values[:] = 1, 2, 0.5
    assert (users == 1).all() and (items == 2).all() and (values == 0.5).all()
    assert all(array.flags.writeable and array.flags.c_contiguous for array in (users, items, values))
