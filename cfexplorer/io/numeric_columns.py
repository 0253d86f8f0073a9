"""The numbers of a long ratings table parsed straight from the file: the user and item columns as int64 ids,
the rating column as floats (the readers' fast path for MovieLens and most exports).

Who parses: our compiled parser (io/_numbers.c, built by the install where a C compiler is at hand) the
plainest text, from the open file a block at a time when the file is large, else from its bytes; pyarrow's
CSV reader (optional: the ``spark`` extra brings it), streaming from the open file, a large file the first
declines or where it was not built; pandas' C parser, from the bytes, the rest. Each refuses, by returning
None, anything it does not read exactly as the text path would: blank lines, a cell that is not a number, ids
that are not whole numbers within what a float holds exactly.
"""

from __future__ import annotations

import io
import mmap
import re
from typing import BinaryIO

import numpy as np

from ..core.kernels import import_compiled
from ..lazy import lazy_import

pd = lazy_import("pandas")

compiled = import_compiled("cfexplorer.io._numbers")  # None: pandas (or pyarrow) parses

_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n(?=\S)")  # a blank line with more to come (not the end's)
# Searched this much at a time: one search of MovieLens 25M's 600 MB held the GIL for 0.6-1 s, and the window
# froze for as long while it opened the file in the background (without pyarrow, the default install).
_SEARCH_BYTES = 2**22

# Smaller files are parsed from their bytes read whole: importing pyarrow takes longer (0.15-0.45 s) than
# streaming would save.
STREAM_FROM_BYTES = 2**23
# Read a block at a time from an open file. pyarrow reuses its buffers for one block for the next (1 MB,
# pyarrow's default, costs Python a call per column a block: 700 batches for ten million ratings).
_BLOCK_BYTES = 2**24


def parse_numeric_columns(data: bytes, delimiter: str, skip: int, width: int, columns
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(user ids as int64, item ids as int64, ratings) of every line after the first ``skip``, by the compiled
    parser (io/_numbers.c) where it was built and the text is of the plainest form, else by pandas' C parser;
    None when a line is blank or ragged, an id is not a whole number or a rating not a number."""
    parsed = _parse_compiled(data, delimiter, skip, width, columns)
    if parsed is not None:
        return parsed
    if has_blank_line(data):
        return None
    try:
        table = pd.read_csv(io.BytesIO(data), sep=delimiter, header=None, skiprows=skip, usecols=list(columns),
                            dtype=np.float64, na_filter=False, engine="c", skipinitialspace=True,
                            skip_blank_lines=False)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, OverflowError):
        return None
    if table.shape[1] != 3:
        return None
    users, items, values = (table[column].to_numpy() for column in columns)
    del table
    users, items = whole_id_array(users), whole_id_array(items)
    if users is None or items is None:
        return None
    return users, items, values


# What the readers split on (":" for "::"): the compiled parser skips spaces before a number, and would read
# a space, a digit or a point as a delimiter differently from pandas.
_COMPILED_DELIMITERS = (",", "\t", ";", "|", ":")


def _parse_compiled(data: bytes, delimiter: str, skip: int, width: int, columns
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`parse_numeric_columns` by io/_numbers.c, in linear time: pandas read ten million ratings 13 times
    slower than a million (they were 1.7 of its 2.7 s). None where it was not built or declines the text."""
    if compiled is None or delimiter not in _COMPILED_DELIMITERS:
        return None
    text_end = _end_of_text(data, len(data))
    rows = compiled.count_lines(data) + 1 - skip  # at most: the last line may end without a newline
    if rows <= 0 or text_end == 0:
        return None
    users, items, values = _row_arrays(rows)
    user_column, item_column, rating_column = columns
    parsed = compiled.parse_long_table(memoryview(data)[:text_end], delimiter, skip, width, user_column, item_column,
                                       rating_column, users, items, values)
    if parsed <= 0:
        return None
    return users[:parsed], items[:parsed], values[:parsed]


# Where the text of a file ends is looked for in this much of its end.
_TAIL_BYTES = 2**16


def _end_of_text(data: bytes, end: int) -> int:
    """Where data[:end] ends without lines of nothing but spaces at its end (after the newline of its last other
    line; 0 if it has none): the text path ignores them, and a file that ends so is no reason to leave it to
    that path, ten times slower. Looked for in the last 64 KB: blank for longer, the parser decides."""
    tail_start = max(end - _TAIL_BYTES, 0)
    text_in_tail = len(data[tail_start:end].rstrip(b" \r\n"))
    if text_in_tail == 0:
        return 0 if tail_start == 0 else end
    newline = data.find(b"\n", tail_start + text_in_tail, end)
    return end if newline < 0 else newline + 1


def has_blank_line(data: bytes) -> bool:
    """Whether ``data`` has a blank line with more to come (what ``_BLANK_LINE`` finds), searched _SEARCH_BYTES
    at a time, so that other threads get the GIL between the searches. Each search ends just after a newline,
    plus the character after it for the lookahead, and the next starts at that newline: a blank line's two
    newlines always fall in one search."""
    start, size = 0, len(data)
    while start < size:
        end = data.rfind(b"\n", start + 1, start + _SEARCH_BYTES) + 1  # just after the last newline in reach
        if end == 0:  # none: a line longer than a search, up to its end
            end = data.find(b"\n", start + _SEARCH_BYTES) + 1 or size
        if _BLANK_LINE.search(data, start, min(end + 1, size)):
            return True
        start = end - 1 if end < size else size
    return False


def count_newlines(data: bytes) -> int:
    """The number of newlines in ``data``: counted by the compiled parser, with the GIL released, where it was
    built."""
    return data.count(b"\n") if compiled is None else compiled.count_lines(data)


def can_parse_streams() -> bool:
    """Whether :func:`parse_numeric_stream` can read (the compiled parser was built, or pyarrow is installed)."""
    return compiled is not None or _pyarrow() is not None


def parse_numeric_stream(stream: BinaryIO, lines: int, delimiter: str, skip: int, width: int, columns,
                         progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`parse_numeric_columns` from an open file of at most ``lines`` lines, never holding the whole file:
    by the compiled parser for the plainest text, else by pyarrow's CSV reader. None when neither can.
    ``progress`` (where given) is told the share of the lines parsed, a block at a time."""
    parsed = _parse_stream_compiled(stream, lines, delimiter, skip, width, columns, progress)
    if parsed is None:
        stream.seek(0)
        parsed = _parse_stream_pyarrow(stream, lines, delimiter, skip, width, columns, progress)
    return parsed


def _tell(progress, filled: int, rows: int) -> None:
    if progress is not None:
        progress(filled / max(rows, 1))


def _row_arrays(rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empty (users int64, items int64, ratings float64) of ``rows`` values, in memory mapped for them without
    huge pages. numpy asks for huge pages for large arrays, and where the system's free memory is fragmented
    Linux compacts memory at the first touch of each (transparent huge pages, defrag=madvise): ten million
    ratings loaded in a median 1.16 s (1.0-1.28) through numpy's arrays, 1.02 s (0.83-1.18) through these
    (fresh processes in turns, six each; in a shared map just before: 1.21 against 0.98 s)."""
    private = {"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS} if hasattr(mmap, "MAP_ANONYMOUS") else {}
    try:
        memory = mmap.mmap(-1, max(rows, 1) * 24, **private)
    except (OSError, ValueError):  # no anonymous maps here: numpy's own
        return np.empty(rows, dtype=np.int64), np.empty(rows, dtype=np.int64), np.empty(rows, dtype=np.float64)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        memory.madvise(mmap.MADV_NOHUGEPAGE)
    return (np.frombuffer(memory, dtype=np.int64, count=rows), np.frombuffer(memory, dtype=np.int64, count=rows,
                                                                            offset=8 * rows),
            np.frombuffer(memory, dtype=np.float64, count=rows, offset=16 * rows))


def _parse_stream_compiled(stream: BinaryIO, lines: int, delimiter: str, skip: int, width: int, columns,
                           progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """io/_numbers.c's parse of the file a block of whole lines at a time, into arrays made once for ``lines``
    (a file's bytes read whole were 230 MB for ten million ratings, memory a virtual machine is slow to give
    the first time). None where it was not built or declines a block."""
    if compiled is None or delimiter not in _COMPILED_DELIMITERS:
        return None
    users, items, values = _row_arrays(max(lines - skip, 0))
    filled, rest = 0, b""
    while True:
        read = stream.read(_BLOCK_BYTES)
        block = rest + read if rest else read
        # up to the block's last newline; at the file's end, its last line too, which may have none
        whole_lines = len(block) if not read else block.rfind(b"\n") + 1
        if read and skip and block.count(b"\n", 0, whole_lines) < skip:
            whole_lines = 0  # the lines to skip end in a later block
        # blank lines at the block's end wait for the next block: the file's end, or a blank line within it
        text_end = _end_of_text(block, whole_lines)
        if text_end:
            parsed = compiled.parse_long_table(memoryview(block)[:text_end], delimiter, skip, width, *columns,
                                               users[filled:], items[filled:], values[filled:])
            if parsed < 0:
                return None
            filled, skip = filled + parsed, 0
            _tell(progress, filled, lines)
        if not read:
            break
        rest = block[text_end:]  # the start of a line the next block ends
    if filled == 0:
        return None
    return users[:filled], items[:filled], values[:filled]


def _parse_stream_pyarrow(stream: BinaryIO, lines: int, delimiter: str, skip: int, width: int, columns,
                          progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`parse_numeric_columns` by pyarrow's CSV reader from an open file of at most ``lines`` lines: read a
    block at a time into arrays made once (ten million ratings parsed in about a second of CPU, ids read as
    integers directly). None without pyarrow, or when pyarrow refuses the file (ids written "7.0" among them:
    pandas' turn).

    Memory touched for the first time is slow on some machines (a virtual machine's: 80 MB filled in 0.11 s,
    reused in 0.013 s), and it was most of a large load: the file's bytes read whole (230 MB for ten million
    ratings), and pyarrow's whole-table read keeping every block and then joining them (557 MB more, against
    the 240 MB the arrays take)."""
    modules = _pyarrow()
    if modules is None:
        return None
    pa, arrow_csv = modules
    names = [f"column {position}" for position in range(width)]
    wanted = [names[position] for position in columns]
    types = dict(zip(wanted, (pa.int64(), pa.int64(), pa.float64())))
    most_rows = max(lines - skip, 0)
    users, items = np.empty(most_rows, dtype=np.int64), np.empty(most_rows, dtype=np.int64)
    values = np.empty(most_rows, dtype=np.float64)
    filled = 0
    try:
        reader = arrow_csv.open_csv(
            stream,
            # Named columns: a line with more or fewer cells than the header is an error, as is a blank line.
            read_options=arrow_csv.ReadOptions(skip_rows=skip, column_names=names, block_size=_BLOCK_BYTES),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(include_columns=wanted, column_types=types, null_values=[],
                                                     strings_can_be_null=False))
        for batch in reader:
            end = filled + batch.num_rows
            if end > most_rows:
                return None  # more rows than the file had lines (it grew since they were counted)
            for target, name in zip((users, items, values), wanted):
                target[filled:end] = batch.column(name).to_numpy(zero_copy_only=False)
            filled = end
            _tell(progress, filled, most_rows)
    except (pa.ArrowException, ValueError, OverflowError):
        return None
    users, items, values = users[:filled], items[:filled], values[:filled]
    if not (_ids_fit(users) and _ids_fit(items)):
        return None
    return users, items, values


def _pyarrow():
    """(pyarrow, pyarrow.csv), or None where the optional pyarrow is not installed."""
    try:
        import pyarrow
        from pyarrow import csv
    except ImportError:
        return None
    return pyarrow, csv


def _ids_fit(ids: np.ndarray) -> bool:
    """Whole-number ids within what a float holds exactly (what the text path accepts)."""
    return ids.size == 0 or bool(-(2**53) < ids.min() and ids.max() < 2**53)


def whole_id_array(ids: np.ndarray) -> np.ndarray | None:
    """Float ids as int64 when all are whole numbers within ±2^53, else None."""
    if ids.size == 0:
        return ids.astype(np.int64)
    low, high = ids.min(), ids.max()  # NaN propagates
    if not (np.isfinite(low) and np.isfinite(high) and -(2**53) < low and high < 2**53):
        return None
    whole = ids.astype(np.int64)
    return whole if bool((whole == ids).all()) else None
