"""Read ratings from the files people have: MovieLens, long and wide CSV/TSV, Excel.

Every reader returns a :class:`LoadResult` or raises :class:`RatingsFileError`, whose message is
one line naming the file, the line and the problem. Duplicate (user, item) pairs are resolved by
one stated rule: the last one in the file wins, and the result's ``warnings`` say how many. Names
are read without the spaces at their ends (as the window takes a typed name), except where that
would make two names of the file one: those are kept as written, and the ``warnings`` say so.

Nothing is allocated for a file before :mod:`.limits` has agreed to its size: a file that is not a
regular file, would not fit in memory, or has absurdly many columns is refused first, and ratings
that no scale can show (non-finite, beyond a million) are refused with their line.
"""

from __future__ import annotations

import csv
import io
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.sorting import last_of_each_pair, sorted_codes
from ..core.ratings import MAX_ABS_RATING, MAX_SCALE_WIDTH, RatingScale, Ratings, check_rating_values
from ..lazy import lazy_import
from . import limits, numeric_columns
from .child_process import ChildProcessDied, ChildProcessUnavailable, call_in_child_process
from .errors import RatingsFileError, one_line, quoted
from .movie_info import ML100K_GENRES, attach_movie_info
from .numeric_columns import parse_numeric_columns, whole_id_array
from .tables import MISSING_MARKS, Orientation, Sheet, TableSource, rows_name_below, wide_orientation

pd = lazy_import("pandas")

# Text files from this size on, read in a background thread (beside the window), are read in a process of their
# own (_read_text_file_in_a_process). Smaller ones take under a second here: the process's start (about half a
# second) would cost more than the GIL they hold (under 0.15 s at a time).
TEXT_IN_A_PROCESS_BYTES = 2**24

USER_NAMES = {"user", "userid", "user_id", "users", "uid", "username", "user name", "name"}
ITEM_NAMES = {"item", "itemid", "item_id", "items", "movie", "movieid", "movie_id", "movies", "iid",
              "title", "film", "product"}
RATING_NAMES = {"rating", "ratings", "score", "value", "stars", "y", "label", "like"}


@dataclass
class LoadResult:
    """Ratings read from a file. ``question`` is set when the file did not settle what the ratings are (a
    crosstab's orientation, which of a workbook's tables): the reader took its best guess (said in
    ``warnings``) and ``question`` holds what a person can choose from instead."""

    ratings: Ratings
    format: str
    warnings: list[str] = field(default_factory=list)
    duplicates: int = 0  # (user, item) pairs the file repeats; the last of each was kept
    users_from: str = ""  # where the users were read from: "the column 'userId'", "the rows", "the columns (…)"
    question: TableSource | None = None
    orientation: Orientation | None = None  # a crosstab's, as read


class NoRatingsTable(RatingsFileError):
    """Nothing in the file reads as ratings by itself; ``source`` holds its cells for a person to point at
    the table in a preview."""

    def __init__(self, path, problem: str, line: int | None, source: TableSource):
        super().__init__(path, problem, line)
        self.source = source

    def __reduce__(self):
        return type(self), (self.path, self.problem, self.line, self.source), self.__dict__


# --- entry point ---------------------------------------------------------------------------------
# Of the time a large numeric table takes after its lines are counted, at 25M's shape: the parse's share (the
# rest is making the ratings from what it parsed).
PARSE_SHARE = 0.55


def share_of(progress, start: float, end: float):
    """``progress`` (told a share of 0..1 of a whole) as told a share of the part from ``start`` to ``end``; None
    for None."""
    if progress is None:
        return None
    return lambda share: progress(None if share is None else start + (end - start) * min(max(share, 0.0), 1.0))


def _never_back(progress):
    """``progress`` told no share below one it was told (a parser that gives up part-way hands the file to
    another, which starts from its first line again); None (not known) passes."""
    if progress is None:
        return None
    highest = 0.0

    def tell(share):
        nonlocal highest
        if share is not None:
            share = highest = max(highest, share)
        progress(share)
    return tell


def read_ratings(path, binary: bool | None = None, cancelled=None, progress=None) -> LoadResult:
    """Read any supported rating file, choosing the reader by name and content. ``cancelled`` (a threading.Event)
    stops a reading process (see _read_text_file_in_a_process) once set. ``progress`` (where given) is told the
    share read, where the reader can tell (a large numeric long table, MovieLens's: its lines counted, then
    parsed); other readers say nothing, and a progress bar keeps moving."""
    path = Path(path)
    limits.check_regular_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return read_excel(path, binary)
        if suffix in (".xls", ".ods"):
            raise RatingsFileError(path, f"{suffix} files are not supported; save the sheet as .xlsx or CSV")
        if suffix == ".cfx":
            raise RatingsFileError(path, "this is a CF Explorer project, not a table of ratings: open it in the "
                                         "window (File ▸ Open) or with cfexplorer.io.project.load_project")
        _refuse_binary_start(path)  # before anything reads the whole file (a 1 GB file of NULs was read whole)
        if path.name == "u.data" or (suffix == ".data"):
            return read_ml100k(path, binary)
        from . import dense  # the course lab's Y and R matrices (it reads through this module's helpers)

        mask = dense.mask_beside(path)
        if mask is not None:
            return dense.read_dense_pair(path, mask, binary)
        streamed = _numeric_long_file(path, binary, progress)
        if streamed is not None:
            return streamed
        if progress is not None:  # what it told stands no more: the readers below tell nothing (a moving bar)
            progress(None)
        data = _read_bytes(path)
        side_file = _movielens_side_file(data)  # (none of them is a table the numeric path above reads)
        if side_file is not None:
            raise RatingsFileError(path, side_file)
        ascii_only = data.isascii()
        if ascii_only:  # MovieLens and most exports: numbers parsed from the bytes, no text made
            fast = _numeric_long_table(data, path, _sniff_delimiter(data[:65536].decode("ascii")), binary)
            if fast is not None:  # a headerless table of 3 or 4 columns: never a dense matrix (more columns)
                return fast
        if len(data) >= TEXT_IN_A_PROCESS_BYTES and threading.current_thread() is not threading.main_thread():
            del data  # the process reads the file itself
            return _read_text_file_in_a_process(path, binary, ascii_only, cancelled)
        return _read_text_file(path, binary, ascii_only, data)
    except MemoryError:  # the estimate was not enough: say so rather than crash
        raise RatingsFileError(path, "there is not enough free memory to read this file") from None


# The files MovieLens ships beside its ratings, by their header: what each holds instead (opened, they were
# refused as "'Toy Story (1995)' in column 'title' is not a rating", "the row label '2' appears twice", or a
# rating of 1,028,530: its TMDB ids).
MOVIELENS_SIDE_FILES = {
    ("movieid", "title", "genres"): "MovieLens' list of movies (movieId, title, genres)",
    ("userid", "movieid", "tag", "timestamp"): "MovieLens' tags (userId, movieId, tag, timestamp)",
    ("movieid", "imdbid", "tmdbid"): "MovieLens' links to IMDb and TMDB (movieId, imdbId, tmdbId)",
}


def _movielens_side_file(data: bytes) -> str | None:
    """What to say of a MovieLens file that is not its ratings, from its first line; None for any other file."""
    first_line = data[:4096].split(b"\n", 1)[0]
    names = tuple(_normalize_name(cell.strip('"')) for cell in first_line.decode("latin-1").rstrip("\r").split(","))
    what = MOVIELENS_SIDE_FILES.get(names)
    if what is None:
        return None
    return f"this is {what}, not ratings: open ratings.csv from the same folder (the titles and genres come with it)"


def _read_text_file(path: Path, binary, numeric_tried: bool, data: bytes | None = None) -> LoadResult:
    """The file as text: names for ids, a matrix, anything the numeric paths declined (``numeric_tried``)."""
    from . import dense

    if data is None:
        data = _read_bytes(path)
    text, read_as = _decode_ratings_text(data, path)
    del data
    if dense.looks_like_dense_matrix(text):
        result = dense.read_dense_matrix(path, binary, text=text)
    else:
        result = read_delimited_text(text, path, binary, numeric_tried=numeric_tried)
    if read_as:
        result.warnings.insert(0, f"the file is not UTF-8 text: it was read as {read_as} (check that accented "
                                  "names look right; save it as UTF-8 to be sure)")
    return result


def _read_text_file_in_a_process(path: Path, binary, numeric_tried: bool, cancelled=None) -> LoadResult:
    """:func:`_read_text_file` in a process of its own (see child_process.py): read in a background thread
    beside the window, pandas' work on a text column held the GIL, and froze the window, for 0.35 s at a time
    with two million ratings. Where no such process can run, the reading is done here, as before."""
    try:
        return call_in_child_process(_read_text_file, path, binary, numeric_tried, cancelled=cancelled)
    except ChildProcessDied as died:
        raise RatingsFileError(path, str(died)) from None
    except ChildProcessUnavailable:
        return _read_text_file(path, binary, numeric_tried)


# --- text helpers -----------------------------------------------------------------------------------
def _read_text(path: Path, encoding: str = "utf-8-sig") -> str:
    return _decode(_read_bytes(path), path, encoding)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, refused when empty (or only whitespace) or when they are not text."""
    data = limits.read_regular_file(path, limits.LONG_TEXT_OVERHEAD, "reading this file")
    if data.isspace() or not data:
        raise RatingsFileError(path, "the file is empty")
    _refuse_binary(data, path)
    return data


def _refuse_binary_start(path: Path) -> None:
    """:func:`_refuse_binary` from the file's first 64 kB alone, before anything reads it whole."""
    with limits.open_regular(path) as handle:
        _refuse_binary(handle.read(_HEAD_BYTES), path)


def _refuse_binary(data: bytes, path: Path) -> None:
    """Refuse bytes whose first 64 kB hold a NUL byte without a UTF-16 mark (UTF-16 text has a NUL in every ASCII
    letter): not text, whatever follows."""
    if b"\x00" in data[:_HEAD_BYTES] and not data.startswith(_UTF16_MARKS):
        raise RatingsFileError(path, "this is not a text file (it contains NUL bytes)")


def _decode(data: bytes, path: Path, encoding: str = "utf-8-sig") -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RatingsFileError(
            path, f"not valid {encoding.replace('-sig', '').upper()} text (byte 0x{data[error.start]:02x}); "
            "save the file as UTF-8", line,
        ) from None


# What a ratings file that is not UTF-8 is read as: Excel's "Unicode Text" (UTF-16 with its byte-order mark)
# and Excel's CSV on a Western European Windows (Windows-1252, Latin-1 with curly quotes and the euro sign).
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
_WESTERN_EUROPEAN = ("cp1252", "Windows-1252 (Western European)")


def _decode_ratings_text(data: bytes, path: Path) -> tuple[str, str]:
    """(text, "" or what it was read as instead of UTF-8). Windows-1252 leaves five byte values undefined: a file
    with any of them (or no text at all) is refused as not UTF-8."""
    try:
        return _decode(data, path), ""
    except RatingsFileError as not_utf8:
        refusal = not_utf8
    if data.startswith(_UTF16_MARKS):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    encoding, name = _WESTERN_EUROPEAN
    try:
        return data.decode(encoding), name
    except UnicodeDecodeError:
        raise refusal from None


# MovieLens 1M and 10M (ratings.dat, movies.dat) put two colons between fields.
DOUBLE_COLON = "::"


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text[:65536].splitlines()[:20] if line.strip()]
    # the first line and most others: a short line is then named as such ("found a single column" blamed line 1)
    colons = [line.count(DOUBLE_COLON) >= 2 for line in lines]
    if colons and colons[0] and 2 * sum(colons) > len(colons):
        return DOUBLE_COLON
    sample = "\n".join(lines)
    counts = {delim: sample.count(delim) for delim in ("\t", ",", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _parse_table(text: str, path, delimiter: str) -> pd.DataFrame:
    """All cells as text ("" where empty); the index is the 1-based line number.

    Ragged rows are an error naming the line; blank lines are skipped. A first line past
    MAX_COLUMNS is refused before anything is parsed.
    """
    columns = limits.first_line_columns(text, delimiter)
    limits.check_columns(path, columns)
    if columns > limits.WIDE_FIRST_LINE_COLUMNS and len(delimiter) == 1:  # the csv module's delimiters are one
        limits.check_memory(path, len(text) * limits.WIDE_TEXT_OVERHEAD, "reading this matrix")
        table = _parse_wide_table(text, path, delimiter)
    else:
        table = _parse_narrow_table(text, path, delimiter)
    occupied = (table != "").any(axis=1).to_numpy()
    if not occupied.all():
        table = table[occupied]
    if table.empty:
        raise RatingsFileError(path, "the file is empty")
    return table


def _parse_narrow_table(text: str, path, delimiter: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=delimiter, header=None, dtype=str, keep_default_na=False,
            skip_blank_lines=False, skipinitialspace=True, quoting=csv.QUOTE_MINIMAL,
            engine="c" if len(delimiter) == 1 else "python",  # pandas' C parser splits on one character
        )
    except pd.errors.ParserError as error:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if match:
            expected, line, saw = (int(g) for g in match.groups())
            raise RatingsFileError(path, f"expected {expected} fields like the lines before, found {saw}", line) from None
        match = re.search(r"EOF inside string starting at row (\d+)", str(error))
        if match:  # pandas' rows from 0, the file's lines from 1
            raise RatingsFileError(path, 'a quote (") opens a field here and is never closed',
                                   int(match.group(1)) + 1) from None
        detail = re.sub(r"^Error tokenizing data\. C error: ", "", one_line(error))
        raise RatingsFileError(path, f"cannot be parsed as a table: {detail}") from None
    except pd.errors.EmptyDataError:
        raise RatingsFileError(path, "the file is empty") from None
    table = table.fillna("")
    table.index = np.arange(1, len(table) + 1)
    return table


def _parse_wide_table(text: str, path, delimiter: str) -> pd.DataFrame:
    """A matrix, parsed by the csv module into one block of cells: pandas spends milliseconds on each
    column it makes (minutes for 50,000 columns), the csv module microseconds per row."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    rows, lines, width = [], [], 0
    try:
        for cells in reader:
            if not width:
                width = len(cells)
            elif len(cells) > width:
                raise RatingsFileError(path, f"expected {width} fields like the lines before, found {len(cells)}",
                                       reader.line_num)
            rows.append(cells)
            lines.append(reader.line_num)
    except csv.Error as error:
        raise RatingsFileError(path, f"cannot be parsed as a table: {error}", reader.line_num) from None
    matrix = np.full((len(rows), width), "", dtype=object)
    for position, cells in enumerate(rows):
        matrix[position, : len(cells)] = cells
    return pd.DataFrame(matrix, index=np.asarray(lines), dtype=object, copy=False)


def is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


_SPACES = re.compile(r"\s+")


def _normalize_name(name: str) -> str:
    return _SPACES.sub(" ", str(name).strip().lower())


def long_columns(header: list[str]) -> tuple[int, int, int] | None:
    """Positions of the user, item and rating columns if the header names them."""
    names = [_normalize_name(cell) for cell in header]
    found = []
    for vocabulary in (USER_NAMES, ITEM_NAMES, RATING_NAMES):
        matches = [i for i, name in enumerate(names) if name in vocabulary]
        if not matches:
            return None
        found.append(matches[0])
    return tuple(found) if len(set(found)) == 3 else None


# --- long format ----------------------------------------------------------------------------------
def read_delimited_text(text: str, path, binary: bool | None = None, numeric_tried: bool = False) -> LoadResult:
    """A CSV/TSV of either shape: long (user, item, rating columns) or wide (a matrix). ``numeric_tried``: the
    caller already tried these bytes as a numeric long table."""
    path = Path(path)
    delimiter = _sniff_delimiter(text)
    if not numeric_tried:
        fast = _numeric_long_table(text.encode("utf-8"), path, delimiter, binary)
        if fast is not None:
            return fast
    table = _parse_table(text, path, delimiter)
    result = _table_result(table, path, binary)
    if result.orientation is not None and not result.orientation.decided:
        from .workbook import whole_sheet_candidate

        sheet = Sheet(path.name, table.to_numpy(dtype=object), table.index.to_numpy(dtype=np.int64), kind="text")
        whole = whole_sheet_candidate(sheet, 0, result)
        result.question = TableSource(path, [sheet], [whole], whole, result.orientation.reason)
    return result


# Read at a time while a large file's lines are counted (and its bytes checked to be ASCII).
_SCAN_BYTES = 2**24
# A large file's head, read first: its header and first rating say whether the numeric path can read it.
_HEAD_BYTES = 2**16


def _numeric_long_file(path: Path, binary, progress=None) -> LoadResult | None:
    """:func:`_numeric_long_table` for a large ASCII file, parsed by pyarrow from the open file without its
    bytes in memory at once: a pass counts the lines (the parser's arrays are made once, for that many) and
    checks the bytes are ASCII, as the path through the bytes does. None when pyarrow is not installed, the
    file is small or not ASCII, or the numbers are not there to read: the bytes are then read whole. A file
    whose first rating is not numbers (names for ids) is declined from its head, before the pass."""
    if not numeric_columns.can_parse_streams():
        return None
    with limits.open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size < numeric_columns.STREAM_FROM_BYTES:
            return None
        # What reading the bytes whole would ask: when this path declines, that one follows.
        limits.check_memory(path, size * limits.LONG_TEXT_OVERHEAD, "reading this file")
        head = handle.read(_HEAD_BYTES)
        if not head.strip() or b"\x00" in head or not head.isascii():
            return None  # the path through the bytes says what is wrong
        delimiter = _sniff_delimiter(head.decode("ascii"))
        layout = _numeric_layout(head, delimiter)
        if layout is None or not _first_rating_is_numbers(head, delimiter, layout):
            return None
        if layout[2] and not _plainly_quoted(head.split(b"\n", 1)[0].decode("ascii"), delimiter):
            return None  # pyarrow would read past a quote pandas follows to the file's end: pandas' turn
        handle.seek(0)
        lines, scanned = 1, 0
        # the shares of the time at 25M's shape: the count a tenth, then the parse and making the ratings
        counting = share_of(progress, 0.0, 0.12)
        while chunk := handle.read(_SCAN_BYTES):
            if not chunk.isascii():
                return None
            lines += numeric_columns.count_newlines(chunk)
            scanned += len(chunk)
            if counting is not None:
                counting(scanned / size)
        handle.seek(0)
        return _numeric_long_table(head, path, delimiter, binary, stream=(handle, lines),
                                   progress=_never_back(share_of(progress, 0.12, 1.0)))


def _numeric_layout(data: bytes, delimiter: str) -> tuple[list[str], tuple, int] | None:
    """(header cells, the user, item and rating columns, lines before the first rating) of a long table whose
    first line is a header naming them or a first rating of three or four numbers; None for anything else."""
    newline = data.find(b"\n")
    first_line = (data[:newline] if newline >= 0 else data).decode("utf-8", errors="replace")
    if first_line.count(delimiter) >= limits.WIDE_FIRST_LINE_COLUMNS:  # the text path refuses it (or counts
        return None  # quoted delimiters out) without this path naming a million cells first
    header = [cell.strip().strip('"') for cell in first_line.rstrip("\r").split(delimiter)]
    columns = long_columns(header)
    if columns is not None:
        return header, columns, 1
    if len(header) not in (3, 4) or not all(is_number(cell) for cell in header[:3]):
        return None
    return header, (0, 1, 2), 0


# An id such as "0013714" (ISBNs, Amazon's ids) is text: as a number it would lose its zeros and be the same
# id as "13714".
_ZERO_PADDED = re.compile(r'\s*"?[+-]?0\d')
_MAY_BE_ZERO_PADDED = ("0", " ", "\t", '"', "+", "-")  # how such a cell can begin


def _zero_padded_ids_in_head(head: bytes, delimiter: str, layout) -> bool:
    """Whether a user or item id among the ratings in the first 64 KB of ``head`` is a number written with
    leading zeros. (Such a file's ids usually all have the same width, so a tenth or more of them do.)"""
    _, columns, skip = layout
    for line in head[:_HEAD_BYTES].decode("ascii", errors="replace").split("\n")[skip:]:
        cells = line.split(delimiter)
        if any(index < len(cells) and _ZERO_PADDED.match(cells[index]) for index in columns[:2]):
            return True
    return False


def _plainly_quoted(line: str, delimiter: str) -> bool:
    """Whether each cell of a header line holds no quote or is one quoted name ("userId", as R writes it):
    pandas follows any other quote, past the line's end, and reads the lines after it differently (what
    io/_numbers.c checks of the lines it skips)."""
    for cell in line.rstrip("\r").split(delimiter):
        cell = cell.strip(" ")
        if '"' in cell and not (len(cell) >= 2 and cell[0] == cell[-1] == '"' and '"' not in cell[1:-1]):
            return False
    return True


def _first_rating_is_numbers(head: bytes, delimiter: str, layout) -> bool:
    """Whether the first rating of ``head`` has numbers in its user, item and rating columns."""
    _, columns, skip = layout
    lines = head.split(b"\n", skip + 1)
    if len(lines) <= skip:
        return True  # a head of one line: the parse decides
    cells = lines[skip].decode("ascii").rstrip("\r").split(delimiter)
    return all(column < len(cells) and is_number(cells[column].strip().strip('"')) for column in columns)


def _numeric_long_table(data: bytes, path: Path, delimiter: str, binary, stream=None,
                        progress=None) -> LoadResult | None:
    """The common case at C speed: a long table whose user, item and rating columns are all numbers (MovieLens
    and most exports), parsed straight from the bytes (or, with ``stream``, from the open file by pyarrow:
    ``data`` is then the file's head). None when the file is anything else — names for ids,
    a matrix, blank lines, a cell that is not a number, a ragged row — and the text path (which names the
    line of any problem) reads it instead. Ten million ratings: 3-4 s of CPU here against 15 s as text.
    ``progress`` is told the share done of the parse (the first 55%, as at 25M's shape) and of making the
    ratings from what it parsed (the rest)."""
    layout = _numeric_layout(data, delimiter)
    if layout is None or _zero_padded_ids_in_head(data, delimiter, layout):
        return None
    header, columns, skip = layout
    user_column, fields, parsed_on = columns[0], len(header), delimiter
    if delimiter == DOUBLE_COLON:  # split on one colon: an empty field between each two
        fields, parsed_on, columns = 2 * fields - 1, ":", tuple(2 * column for column in columns)
    if stream is None:
        parsed = parse_numeric_columns(data, parsed_on, skip, fields, columns)
    else:  # ``data`` is the head of the file ``stream`` = (open file, its number of lines) is read from
        parsed = numeric_columns.parse_numeric_stream(*stream, parsed_on, skip, fields, columns,
                                                      progress=share_of(progress, 0.0, PARSE_SHARE))
    if parsed is None:
        return None
    users, items, values = parsed
    if not (len(values) and np.isfinite(values).all()):
        return None
    lines = range(1 + skip, len(values) + 1 + skip)  # the line of each rating, without an array of them
    _refuse_unshowable(values, lines, path)
    result = _build(path, users, items, values, binary, "long", lines,
                    progress=share_of(progress, PARSE_SHARE, 1.0))
    result.users_from = _user_column(header if skip else None, user_column)
    return result


def _table_result(table: pd.DataFrame, path: Path, binary: bool | None,
                  rows_are_items: bool | Orientation | None = None) -> LoadResult:
    """Ratings from cells of text (index: line numbers), long or wide by what the first row says; a matrix
    is read with ``rows_are_items`` when given, else as its corner and labels say."""
    header = list(table.iloc[0])
    columns = long_columns(header)
    if columns is not None:
        result = _long_from_table(table.iloc[1:], columns, path, binary, fmt="long")
        result.users_from = _user_column(header, columns[0])
        return result
    corner_names_a_matrix = _corner_names_items(header[0]) or _normalize_name(header[0]) in USER_NAMES
    headerless_long = table.shape[1] in (3, 4) and is_number(header[2]) and not corner_names_a_matrix
    if headerless_long:
        result = _long_from_table(table, (0, 1, 2), path, binary, fmt="long")
        result.users_from = _user_column(None, 0)
        return result
    if table.shape[1] < 2:
        raise RatingsFileError(path, "found a single column; expected user, item, rating columns or a matrix", 1)
    return _wide_from_table(table, path, binary, rows_are_items)


def _user_column(header, position: int) -> str:
    if header is None:
        return f"column {position + 1} (no header)"
    return f"the column {quoted(str(header[position]).strip())}"


def _long_from_table(table: pd.DataFrame, columns, path, binary, fmt: str) -> LoadResult:
    if table.empty:
        raise RatingsFileError(path, "the file has a header but no ratings")
    user_col, item_col, rating_col = columns
    lines = table.index.to_numpy()
    # read_csv dropped leading blanks and to_numeric ignores trailing ones, so text is stripped only
    # where it stays text (ids that are names): stripping a million cells costs a second.
    users, users_apart = _as_ids(table.iloc[:, user_col])
    items, items_apart = _as_ids(table.iloc[:, item_col])
    rating_text = table.iloc[:, rating_col]
    values = _numbers(rating_text)
    bad = ~np.isfinite(values)
    if bad.any():
        at = int(np.argmax(bad))
        cell = rating_text.iloc[at].strip()
        problem = "the rating is missing" if cell == "" else f"rating {quoted(cell)} is not a finite number"
        raise RatingsFileError(path, problem, int(lines[at]))
    for name, labels in (("user", users), ("item", items)):
        if labels.dtype == object:
            empty = labels == ""
            if empty.any():
                raise RatingsFileError(path, f"the {name} is empty", int(lines[int(np.argmax(empty))]))
    _refuse_unshowable(values, lines, path)
    result = _build(path, users, items, values, binary, fmt, lines)
    result.warnings += kept_apart_notes("user", users_apart) + kept_apart_notes("movie", items_apart)
    return result


def _refuse_unshowable(values: np.ndarray, lines: np.ndarray, path) -> None:
    """Finite ratings no scale can show (beyond ±MAX_ABS_RATING, or spanning more than
    MAX_SCALE_WIDTH) are refused with the line of the first offender."""
    if values.size == 0:
        return
    low, high = values.min(), values.max()
    if -MAX_ABS_RATING <= low and high <= MAX_ABS_RATING and high - low <= MAX_SCALE_WIDTH:
        return  # the common case, settled by two passes that make no array
    beyond = np.abs(values) > MAX_ABS_RATING
    if beyond.any():
        at = int(np.argmax(beyond))
        raise RatingsFileError(path, f"rating {values[at]:g} is beyond ±{MAX_ABS_RATING:,.0f}, more than any "
                                     "rating scale this app can show", int(lines[at]))
    low, high = int(np.argmin(values)), int(np.argmax(values))
    if values[high] - values[low] > MAX_SCALE_WIDTH:
        raise RatingsFileError(path, f"ratings span {values[low]:g} (line {int(lines[low])}) to {values[high]:g}, "
                                     f"more than the {MAX_SCALE_WIDTH:,.0f} a rating scale may span",
                               int(lines[high]))


def _as_ids(column: pd.Series) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Whole-number ids as int64 (so that 2 sorts before 10), anything else as names (:func:`strip_names`); and
    the names kept as written."""
    if len(column) and np.isnan(_numbers(column.iloc[:1])[0]):
        # The first id is no number, so they are not all whole numbers: parsing every one of a million names
        # to find that out took seconds (3 s a column of 3 million).
        return strip_names(column)
    whole = whole_id_array(_numbers(column))
    if whole is None or _zero_padded(column):
        return strip_names(column)
    return whole, []


def strip_names(names) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Names (text) without the spaces at their ends ("Alice ," in a file is Alice), except where two different
    names would become one (" Alice" and "Alice", which a save keeps apart): those are kept as written. Also the
    groups of names so kept, each as written."""
    written = names if isinstance(names, pd.Series) else pd.Series(names, dtype=object)  # (a copy took 0.3 s)
    stripped = written.str.strip()
    changed = (stripped != written).to_numpy()
    if not changed.any():  # (the common case: one comparison)
        return stripped.to_numpy(dtype=object), []
    forms: dict[str, list[str]] = {}
    for name in pd.unique(written[changed]):
        if name.strip():  # names of spaces alone stay empty names, which the readers refuse
            forms.setdefault(name.strip(), []).append(name)
    unchanged = written[~changed]
    plain = set(unchanged[unchanged.isin(list(forms))])
    groups = [tuple(sorted(spaced + ([name] if name in plain else []))) for name, spaced in forms.items()
              if len(spaced) + (name in plain) > 1]
    if groups:
        kept = changed & written.isin([name for group in groups for name in group]).to_numpy()
        stripped[kept] = written[kept]
    return stripped.to_numpy(dtype=object), groups


def kept_apart_notes(kind: str, groups: list[tuple[str, ...]]) -> list[str]:
    """What a reader says of the names :func:`strip_names` kept as written ("user" or "movie" names)."""
    if not groups:
        return []
    shown = "; ".join(" and ".join(quoted(name) for name in group) for group in groups[:3])
    more = f" and {len(groups) - 3:,} more" if len(groups) > 3 else ""
    return [f"{kind} names that differ only in spaces at their ends were kept apart, as written: {shown}{more}"]


def _zero_padded(column: pd.Series) -> bool:
    """Whether a cell is a number written with leading zeros (the few cells that may be, matched)."""
    may_be = column.str.startswith(_MAY_BE_ZERO_PADDED)  # 13 ms a column of 3 million; the match, 740
    return bool(may_be.any() and column[may_be].str.match(_ZERO_PADDED.pattern).any())


def _numbers(column: pd.Series) -> np.ndarray:
    """The cells as floats, NaN where a cell is not a number."""
    try:
        return column.to_numpy(dtype=object).astype(np.float64)  # twice as fast as to_numeric when all parse
    except (ValueError, TypeError):
        return pd.to_numeric(column, errors="coerce").to_numpy(float)


def _build(path, users, items, values, binary, fmt, lines=None, progress=None) -> LoadResult:
    """Ratings from the ids and values a reader parsed: ``users`` and ``items`` are the reader's own arrays,
    made for this, and whole-number ids become the codes in place. ``progress`` (where given) is told the share
    done after each step, by the steps' shares of the time at 25M's shape (1.6 s there, which the opening bar
    spent standing still)."""
    tell = progress if progress is not None else (lambda share: None)
    warnings = []
    user_codes, user_labels = sorted_codes(users, overwrite=True)
    tell(0.2)
    item_codes, item_labels = sorted_codes(items, overwrite=True)
    tell(0.55)
    kept = last_of_each_pair(user_codes, item_codes, len(user_labels), len(item_labels))
    tell(0.65)
    if kept is not None:
        first = int(np.argmin(kept))
        where = f" (first at line {int(lines[first])})" if lines is not None else ""
        warnings.append(f"{int(kept.size - kept.sum())} duplicate (user, item) ratings{where}; "
                        "the last one in the file was kept")
        user_codes, item_codes, values = user_codes[kept], item_codes[kept], values[kept]
    values = np.asarray(values, dtype=float)
    if binary is None:
        binary = _looks_binary(values)
    if binary and not np.all((values == 0) | (values == 1)):
        raise RatingsFileError(path, "binary labels must be 0 or 1")
    check_rating_values(values)
    tell(0.8)
    # Valid by construction: codes index their labels, and no (user, item) repeats (checked above by the
    # same sort Ratings' own check would repeat, a second on ten million ratings).
    ratings = Ratings(user_codes, item_codes, values, np.asarray(user_labels, dtype=object),
                      np.asarray(item_labels, dtype=object), binary=binary, validate=False)
    tell(1.0)
    return LoadResult(ratings, fmt, warnings, duplicates=0 if kept is None else int(kept.size - kept.sum()))


def _looks_binary(values: np.ndarray) -> bool:
    return values.size > 0 and bool(np.all((values == 0) | (values == 1)))


# --- wide format ---------------------------------------------------------------------------------
def _corner_names_items(corner: str) -> bool:
    corner = _normalize_name(corner)
    return any(word in corner for word in ("movie", "item", "title", "film"))


def _wide_from_table(table: pd.DataFrame, path, binary, rows_are_items: bool | Orientation | None = None
                     ) -> LoadResult:
    """First row: column labels after a corner cell; first column: row labels.

    The orientation is ``rows_are_items`` when given, else what the corner and labels say
    (:func:`.tables.wide_orientation`: rows are users unless the corner cell names movies, as in the
    course's tables); a guess is said in the result's warnings. The cells are handled as one array: a
    matrix can have millions of cells, mostly empty.
    """
    cells = table.to_numpy(dtype=object)
    lines = table.index.to_numpy()
    column_labels, columns_apart = strip_names([str(label) for label in cells[0, 1:]])
    body, body_lines = cells[1:], lines[1:]
    row_labels, rows_apart = strip_names([str(label) for label in body[:, 0]])
    column_labels, row_labels = column_labels.tolist(), row_labels.tolist()
    if not row_labels:
        raise RatingsFileError(path, "the matrix has column labels but no rows")
    below = rows_name_below(cells[0, 0], body[0])
    if below is not None and len(row_labels) > 1:  # a crosstab copied from a notebook: its rows' name, no ratings
        body, body_lines, row_labels = body[1:], body_lines[1:], row_labels[1:]
    if rows_are_items is None:
        corner = cells[0, 0] if below is None else f"{below} \\ {cells[0, 0]}"
        orientation = wide_orientation(corner, row_labels, column_labels)
    elif isinstance(rows_are_items, Orientation):
        orientation = rows_are_items
    else:
        orientation = Orientation(bool(rows_are_items), True, "chosen")
    rows_are_items = orientation.rows_are_items
    for kind, labels in (("column", column_labels), ("row", row_labels)):
        seen = set()
        for position, label in enumerate(labels):
            line = int(lines[0]) if kind == "column" else int(body_lines[position])
            if not label:
                raise RatingsFileError(path, f"a {kind} label is empty", line)
            if label in seen:
                raise RatingsFileError(path, f"the {kind} label {quoted(label)} appears twice", line)
            seen.add(label)
    values = body[:, 1:]
    limits.check_matrix_cells(path, *values.shape, "the matrix")
    filled, numbers, cell_text = _rated_cells(values.ravel())
    bad = ~np.isfinite(numbers)
    if bad.any():
        r, c = divmod(int(filled[int(np.argmax(bad))]), values.shape[1])
        raise RatingsFileError(
            path, f"{quoted(cell_text[int(np.argmax(bad))].strip())} in column {quoted(column_labels[c])} is not a "
            "rating (use ? or leave empty for none)", int(body_lines[r]),
        )
    _refuse_unshowable(numbers, body_lines[filled // values.shape[1]], path)
    matrix = np.full(values.shape, np.nan)
    matrix.flat[filled] = numbers
    result = _wide_result(matrix, row_labels, column_labels, rows_are_items, binary, "wide")
    users_apart, items_apart = (columns_apart, rows_apart) if rows_are_items else (rows_apart, columns_apart)
    result.warnings += kept_apart_notes("user", users_apart) + kept_apart_notes("movie", items_apart)
    if rows_are_items:
        result.users_from = f"the columns (the corner cell {quoted(str(cells[0, 0]).strip())} names movies)"
    result.orientation = orientation
    if not orientation.decided:
        result.warnings.append(f"rows were taken as {'movies' if rows_are_items else 'users'}: "
                               f"{orientation.reason}")
    return result


def _rated_cells(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, values, text) of the cells that are not empty or a missing mark; NaN values where a
    cell is not a number. Most cells of a rating matrix are empty and only the others are parsed;
    whitespace is stripped only from the few cells that do not parse as they are."""
    filled = np.flatnonzero(cells != "")
    text = cells[filled]
    rated = ~pd.Series(text, dtype=object).isin(MISSING_MARKS).to_numpy()
    filled, text = filled[rated], text[rated]
    try:
        return filled, text.astype(np.float64), text
    except (ValueError, TypeError):
        numbers = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce").to_numpy(float)
    unparsed = np.flatnonzero(np.isnan(numbers))
    marks = set(MISSING_MARKS)
    blank = np.array([text[k].strip() in marks for k in unparsed], dtype=bool)  # "? " and "  "
    keep = np.ones(len(text), dtype=bool)
    keep[unparsed[blank]] = False
    return filled[keep], numbers[keep], text[keep]


def _wide_result(matrix, row_labels, column_labels, rows_are_items, binary, fmt) -> LoadResult:
    if rows_are_items:
        matrix, user_labels, item_labels = matrix.T, column_labels, row_labels
    else:
        user_labels, item_labels = row_labels, column_labels
    observed = matrix[~np.isnan(matrix)]
    if binary is None:
        binary = _looks_binary(observed)
    ratings = Ratings.from_dense(matrix, user_labels, item_labels, binary=binary)
    return LoadResult(ratings, fmt, [], users_from="the columns" if rows_are_items else "the rows")


# --- MovieLens ------------------------------------------------------------------------------------
def read_ml100k(path, binary: bool | None = None) -> LoadResult:
    """MovieLens 100K ``u.data``: user, item, rating, timestamp separated by tabs, no header."""
    path = Path(path)
    table = _parse_table(_read_text(path), path, "\t")
    if table.shape[1] < 3:
        raise RatingsFileError(path, "expected tab-separated user, item, rating, timestamp", int(table.index[0]))
    result = _long_from_table(table, (0, 1, 2), path, binary, fmt="ml100k")
    result.users_from = "column 1 (u.data: user, item, rating, timestamp)"
    return result


# --- Excel ----------------------------------------------------------------------------------------
def read_excel(path, binary: bool | None = None) -> LoadResult:
    """The ratings in an .xlsx workbook (see :func:`.workbook.read_workbook`)."""
    from .workbook import read_workbook

    return read_workbook(path, binary)


def read_any(path, binary: bool | None = None, cancelled=None, progress=None) -> LoadResult:
    """:func:`read_ratings` plus MovieLens titles and genres from the files beside it."""
    path = Path(path)
    result = read_ratings(path, binary, cancelled, progress)
    return attach_movie_info(result, path)


__all__ = [
    "LoadResult", "NoRatingsTable", "RatingsFileError", "RatingScale", "TableSource", "read_any", "read_ratings",
    "read_excel",
    "read_ml100k", "read_delimited_text", "attach_movie_info", "ML100K_GENRES",
]
