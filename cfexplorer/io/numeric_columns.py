"""The numbers of a long ratings table parsed straight from the file's bytes: the user and item columns as
int64 ids, the rating column as floats (the readers' fast path for MovieLens and most exports).

pyarrow's CSV reader when it is installed (optional: the ``spark`` extra brings it) and the file is large
enough to repay importing it, else pandas' C parser. Either refuses, by returning None, anything it does
not read exactly as the text path would: blank lines, a cell that is not a number, ids that are not
whole numbers within what a float holds exactly.
"""

from __future__ import annotations

import io
import re

import numpy as np

from ..lazy import lazy_import

pd = lazy_import("pandas")

_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n(?=\S)")  # a blank line with more to come (not the end's)

# Smaller files are read by pandas: importing pyarrow takes longer (0.15-0.45 s) than it would save.
PYARROW_FROM_BYTES = 2**23
# pyarrow's blocks: its buffers for one block are reused for the next (1 MB, pyarrow's default, costs Python
# a call per column a block: 700 batches for ten million ratings).
_BLOCK_BYTES = 2**24


def parse_numeric_columns(data: bytes, delimiter: str, skip: int, width: int, columns
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(user ids as int64, item ids as int64, ratings) of every line after the first ``skip``, or None when
    a line is blank or ragged, an id is not a whole number or a rating not a number. pyarrow's CSV reader
    when it is installed and the file has PYARROW_FROM_BYTES or more (ten million ratings parsed in 0.7-0.8 s
    of CPU, ids read as integers directly), else, or when pyarrow refuses the file (ids written "7.0"),
    pandas' C parser."""
    parsed = _parse_with_pyarrow(data, delimiter, skip, width, columns) if len(data) >= PYARROW_FROM_BYTES else None
    if parsed is not None:
        return parsed
    if _BLANK_LINE.search(data):
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


def _parse_with_pyarrow(data: bytes, delimiter: str, skip: int, width: int, columns):
    """:func:`_parse_numeric_columns` by pyarrow, or None (without pyarrow, or when it refuses the file).

    Read a block at a time into arrays made once for every line the file can hold: pyarrow's whole-table
    read kept every block's buffers and then joined them (557 MB more for ten million ratings, against
    the 240 MB the arrays take), and on a machine where memory touched for the first time is slow (a virtual
    machine's) that memory was half the load's time. The arrays are this reader's own and writable."""
    modules = _pyarrow()
    if modules is None:
        return None
    pa, arrow_csv = modules
    names = [f"column {position}" for position in range(width)]
    wanted = [names[position] for position in columns]
    types = dict(zip(wanted, (pa.int64(), pa.int64(), pa.float64())))
    most_rows = max(data.count(b"\n") + 1 - skip, 0)
    users, items = np.empty(most_rows, dtype=np.int64), np.empty(most_rows, dtype=np.int64)
    values = np.empty(most_rows, dtype=np.float64)
    filled = 0
    try:
        reader = arrow_csv.open_csv(
            pa.BufferReader(data),
            # Named columns: a line with more or fewer cells than the header is an error, as is a blank line.
            read_options=arrow_csv.ReadOptions(skip_rows=skip, column_names=names, block_size=_BLOCK_BYTES),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(include_columns=wanted, column_types=types, null_values=[],
                                                     strings_can_be_null=False))
        for batch in reader:
            end = filled + batch.num_rows
            if end > most_rows:
                return None  # more rows than lines: not a file this path reads
            for target, name in zip((users, items, values), wanted):
                target[filled:end] = batch.column(name).to_numpy(zero_copy_only=False)
            filled = end
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
