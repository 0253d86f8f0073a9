"""Sorting and numbering that scale linearly: what ALS's arrangement of the ratings and the readers' ids and
duplicate check need."""

from __future__ import annotations

import numpy as np

from ..lazy import lazy_import
from . import kernels

pd = lazy_import("pandas")
sparse = lazy_import("scipy.sparse")


def stable_order(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """np.argsort(keys, kind="stable") for integer keys in 0..n_keys-1, as a radix sort of 16 bits a pass
    (numpy sorts 16-bit keys by radix, in linear time: 0.5 s for 10M ratings against 2.6 s)."""
    order = None
    for shift in range(0, max(int(n_keys - 1).bit_length(), 1), 16):
        digits = ((keys if order is None else keys[order]) >> shift).astype(np.uint16)  # the low 16 bits
        order = np.argsort(digits, kind="stable") if order is None else order[np.argsort(digits, kind="stable")]
    return order


def row_major_order(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> np.ndarray | None:
    """The stable order of (row, column) pairs by row, then column; None where they are in that order already.
    Files such as MovieLens' list ratings by user, then movie: their users' side needs no sort and their
    movies' side one (a stable sort by movie keeps each movie's users in order), where sorting by column and
    then by row took two radix sorts a side (1.3 s of a run's start on ten million ratings)."""
    if _pairs_ascend(rows, columns):
        return None
    if _non_decreasing(columns):
        return stable_order(rows, n_rows)
    order = stable_order(columns, n_columns)
    return order[stable_order(rows[order], n_rows)]


def arrange_by_row(rows: np.ndarray, columns: np.ndarray, values: np.ndarray, n_rows: int, n_columns: int,
                   row_offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ratings by row, then column, as CSR: (indptr, each rating's column, its value minus its row's
    ``row_offset``), equal pairs in their given order. Columns are int32 where they fit. The compiled kernel
    does it in two counting sorts without an order array; numpy sorts an order by :func:`row_major_order` and
    gathers through it: both sides of ten million ratings 1.1-1.3 s of a fit's start there, 0.4 s here."""
    column_type = np.int32 if n_columns < 2**31 - 1 else np.int64
    int_arrays = all(a.dtype == np.int64 and a.flags.c_contiguous for a in (rows, columns))
    arrange_rows = getattr(kernels.compiled, "arrange_rows", None)  # None in a build from before it was written
    # The kernel's counting sort by column takes memory and time for every possible column: not for a few
    # ratings among very many columns.
    few_columns = n_columns <= 4 * len(rows) + 2**16
    if arrange_rows is not None and int_arrays and n_rows < 2**32 and few_columns:
        indptr = np.empty(n_rows + 1, dtype=np.int64)
        arranged_columns = np.empty(len(rows), dtype=column_type)
        arranged_values = np.empty(len(rows))
        offsets = np.zeros(0) if row_offset is None else np.ascontiguousarray(row_offset, dtype=float)
        arrange_rows(rows, columns, np.ascontiguousarray(values, dtype=float), offsets, n_rows, n_columns, indptr,
                     arranged_columns, arranged_values)
        return indptr, arranged_columns, arranged_values
    order = row_major_order(rows, columns, n_rows, n_columns)
    if order is None:
        order = slice(None)
    arranged_columns = columns[order].astype(column_type)
    values = np.asarray(values, dtype=float)
    arranged_values = values[order] - (row_offset[rows[order]] if row_offset is not None else 0.0)
    del order
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(kernels.bincount(rows, n_rows), out=indptr[1:])
    return indptr, arranged_columns, arranged_values


def sorted_codes(ids: np.ndarray, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize(ids, sort=True): the index of each id among the distinct ids, and those in order. Integer
    ids spanning not much more than their number (MovieLens') by a table over their range, in linear time:
    factorize's hashing and sorting took 2.5 of the 17 seconds of reading ten million ratings. With
    ``overwrite`` such ids may become the codes in place (a reader's own array: no second one of their size)."""
    if ids.dtype.kind == "i" and ids.size:
        low = int(ids.min())
        span = int(ids.max()) - low + 1
        if span <= 4 * ids.size + 2**16:
            in_place = overwrite and ids.dtype == np.intp and ids.flags.writeable
            offsets = np.subtract(ids, low, out=ids) if in_place else ids - low
            present = np.zeros(span, dtype=bool)
            present[offsets] = True
            code_of = np.cumsum(present, dtype=np.intp)
            code_of -= 1
            # In place (each index read before its own slot is written); "clip" does not buffer the output.
            return code_of.take(offsets, out=offsets, mode="clip"), np.flatnonzero(present) + low
    return pd.factorize(ids, sort=True)


# The table of seen (user, item) pairs may take this many bytes a rating (the keys themselves take 8).
SEEN_TABLE_BYTES_PER_KEY = 32


def last_of_each_pair(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> np.ndarray | None:
    """A mask keeping the last occurrence of each (row, column) pair, in file order; None when no pair repeats.
    Nothing here sorts all the pairs unless one repeats: pandas' hash-based duplicated() took 3 of the 8
    seconds of reading ten million ratings, and a sort of their keys 0.7 of 3."""
    if _pairs_ascend(rows, columns):
        return None  # already in order (MovieLens' files are): no sort needed to see that nothing repeats
    n_keys = max(n_rows, 1) * max(n_columns, 1)
    pairs_repeat = getattr(kernels.compiled, "pairs_repeat", None)  # None: not built, or built before it was
    if pairs_repeat is not None and n_keys <= max(8 * SEEN_TABLE_BYTES_PER_KEY * rows.size, 2**27) and (
            rows.dtype == columns.dtype == np.int64 and rows.flags.c_contiguous and columns.flags.c_contiguous):
        # the same table a bit a pair: ten million ratings' was 28 MB instead of 224 (0.05 s instead of 0.5)
        if not pairs_repeat(rows, columns, max(n_rows, 1), max(n_columns, 1)):
            return None
    elif n_keys <= max(SEEN_TABLE_BYTES_PER_KEY * rows.size, 2**24):
        # A table of the keys seen says whether any repeats in linear time (0.01 s for a million ratings).
        seen = np.zeros(n_keys, dtype=bool)
        seen[_pair_keys(rows, columns, n_columns)] = True
        if np.count_nonzero(seen) == rows.size:
            return None
        del seen
    elif _distinct_pairs(rows, columns, n_rows, n_columns) == rows.size:
        return None
    keys = _pair_keys(rows, columns, n_columns)
    order = stable_order(keys, n_keys)  # equal keys stay in file order
    ordered = keys[order]
    repeated = ordered[1:] == ordered[:-1]
    kept = np.ones(len(keys), dtype=bool)
    kept[order[:-1][repeated]] = False  # an occurrence followed by the same key is not the last
    return kept


def _pair_keys(rows: np.ndarray, columns: np.ndarray, n_columns: int) -> np.ndarray:
    """One integer a pair, ordered as the pairs are (row first)."""
    return rows.astype(np.int64) * max(n_columns, 1) + columns


# Pairs compared at once by _pairs_ascend: its comparisons' arrays stay small and are reused.
_ASCEND_CHUNK = 2**20


def _pairs_ascend(rows: np.ndarray, columns: np.ndarray) -> bool:
    """Whether (row, column) pairs strictly ascend, row first, compared a chunk at a time: the keys of ten
    million pairs would be 80 MB made only to be compared."""
    for start in range(0, rows.size - 1, _ASCEND_CHUNK):
        stop = min(start + _ASCEND_CHUNK, rows.size - 1)
        row, next_row = rows[start:stop], rows[start + 1:stop + 1]
        later_column = columns[start + 1:stop + 1] > columns[start:stop]
        if not bool(((next_row > row) | ((next_row == row) & later_column)).all()):
            return False
    return True


def _non_decreasing(values: np.ndarray) -> bool:
    """Whether ``values`` never decrease, compared a chunk at a time (as :func:`_pairs_ascend`)."""
    for start in range(0, values.size - 1, _ASCEND_CHUNK):
        stop = min(start + _ASCEND_CHUNK, values.size - 1)
        if not bool((values[start + 1:stop + 1] >= values[start:stop]).all()):
            return False
    return True


def _distinct_pairs(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> int:
    """How many distinct (row, column) pairs there are, where a table of every possible pair would be too large:
    a compressed sparse row matrix is built by counting (linear) and sorts each row's columns, short lists
    (0.2 s for ten million ratings against 0.7 s to sort their keys). Summing duplicates keeps entries that
    sum to 0, so wrapping int8 counts do not change the count."""
    matrix = sparse.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, columns)), shape=(n_rows, n_columns))
    matrix.sum_duplicates()
    return int(matrix.nnz)
