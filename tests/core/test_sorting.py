"""The readers' duplicate check against pandas' own, on both of its ways: a table of every possible pair, and
counting distinct pairs in a sparse matrix when that table would be too large."""

import contextlib
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplorer.core import kernels, sorting
from cfexplorer.core.sorting import SEEN_TABLE_BYTES_PER_KEY, last_of_each_pair, sorted_codes


def expected_mask(rows, columns):
    """pandas' answer: None when nothing repeats, else keep the last of each pair."""
    repeated = pd.DataFrame({"row": rows, "column": columns}).duplicated(keep="last").to_numpy()
    return None if not repeated.any() else ~repeated


pairs = st.integers(1, 60).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 5), min_size=n, max_size=n), st.lists(st.integers(0, 6), min_size=n, max_size=n)))


@contextlib.contextmanager
def seen_table_of(kind: str):
    """The compiled kernel's table of a bit a pair ("bits"), or numpy's of a byte a pair ("bytes")."""
    if kind == "bits" and kernels.compiled is None:
        pytest.skip("the compiled kernels were not built")
    with pytest.MonkeyPatch.context() as patch:
        if kind == "bytes":
            patch.setattr(kernels, "compiled", None)
        yield


@pytest.mark.parametrize("seen_table", ["bits", "bytes"])
@settings(max_examples=60, deadline=None)
@given(pairs=pairs, wide=st.booleans())
def test_last_of_each_pair_matches_pandas(seen_table, pairs, wide):
    rows, columns = (np.array(values, dtype=np.intp) for values in pairs)
    # Wide: so many possible pairs (6 x 2**25) that the check counts them in a sparse matrix, not a table.
    n_rows, n_columns = 6, (2**25 if wide else 7)
    largest_table = 2**27 if seen_table == "bits" else max(SEEN_TABLE_BYTES_PER_KEY * rows.size, 2**24)
    assert (n_rows * n_columns > largest_table) == wide
    with seen_table_of(seen_table):
        got = last_of_each_pair(rows, columns, n_rows, n_columns)
    expected = expected_mask(rows, columns)
    if expected is None:
        assert got is None
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seen_table", ["bits", "bytes"])
@pytest.mark.parametrize("copies", [0, 1, 2, 256])
def test_copies_of_one_pair_in_a_large_space(seen_table, copies):
    """A thousand distinct pairs (distinct columns) and copies of one more: 256 copies sum to 0 in the sparse
    matrix's int8 counts and are still counted as one pair."""
    rng = np.random.default_rng(copies)
    rows = np.concatenate([rng.permutation(1000) % 500, np.full(copies, 7)])
    columns = np.concatenate([rng.permutation(1000) * 40_000, np.full(copies, 123)])
    with seen_table_of(seen_table):
        got = last_of_each_pair(rows, columns, 500, 40_000_000)
    if copies <= 1:
        assert got is None
    else:
        np.testing.assert_array_equal(got, expected_mask(rows, columns))
        assert got.size - got.sum() == copies - 1 and got[-1]


def test_the_bit_table_sees_a_repeat_anywhere_and_refuses_indices_outside_it():
    if kernels.compiled is None:
        pytest.skip("the compiled kernels were not built")
    rng = np.random.default_rng(0)
    n_rows, n_columns = 1000, 333  # 333,000 bits: words of 64 hold pairs of different rows
    keys = rng.choice(n_rows * n_columns, 5000, replace=False)
    rows, columns = keys // n_columns, keys % n_columns
    assert not kernels.compiled.pairs_repeat(rows, columns, n_rows, n_columns)
    for position in (0, 1, 2500, 4999):  # a copy of one pair, as the last pair of all
        twice = np.append(rows, rows[position]), np.append(columns, columns[position])
        assert kernels.compiled.pairs_repeat(*twice, n_rows, n_columns)
    neighbour = np.append(rows, rows[0]), np.append(columns, (columns[0] + 1) % n_columns)
    assert kernels.compiled.pairs_repeat(*neighbour, n_rows, n_columns) == (
        (rows[0] * n_columns + (columns[0] + 1) % n_columns) in set(keys.tolist()))
    with pytest.raises(IndexError):
        kernels.compiled.pairs_repeat(np.array([0, n_rows]), np.array([0, 0]), n_rows, n_columns)
    with pytest.raises(IndexError):
        kernels.compiled.pairs_repeat(np.array([0, 1]), np.array([-1, 0]), n_rows, n_columns)
    with pytest.raises(ValueError):
        kernels.compiled.pairs_repeat(np.array([0, 1]), np.array([0]), n_rows, n_columns)
    with pytest.raises(ValueError):  # another byte order is not read as this machine's
        kernels.compiled.pairs_repeat(np.array([0, 1], dtype=">i8"), np.array([0, 0]), n_rows, n_columns)


@pytest.mark.parametrize("chunk", [1, 2, 3, 2**20])
def test_pairs_in_order_are_seen_across_chunk_boundaries(monkeypatch, chunk):
    """Pairs ascending (row first) need no table and no sort; one step back anywhere, even across the edge of
    the chunks the check compares at once, is seen."""
    monkeypatch.setattr(sorting, "_ASCEND_CHUNK", chunk)
    rows = np.array([0, 0, 0, 1, 1, 2, 4])
    columns = np.array([1, 2, 5, 0, 3, 3, 0])
    assert sorting._pairs_ascend(rows, columns)
    for position in range(1, rows.size):
        swapped_rows, swapped_columns = rows.copy(), columns.copy()
        swapped_rows[[position - 1, position]] = rows[[position, position - 1]]
        swapped_columns[[position - 1, position]] = columns[[position, position - 1]]
        assert not sorting._pairs_ascend(swapped_rows, swapped_columns)
    repeated = np.array([0, 0, 1]), np.array([2, 2, 0])
    assert not sorting._pairs_ascend(*repeated)
    np.testing.assert_array_equal(last_of_each_pair(*repeated, 2, 3), [False, True, True])


def test_sorted_codes_in_place_gives_pandas_codes_and_overwrites_only_when_asked():
    ids = np.array([40, 7, 7, 1000, 40, 12], dtype=np.intp)
    expected_codes, expected_labels = pd.factorize(ids, sort=True)
    kept = ids.copy()
    codes, labels = sorted_codes(ids)
    np.testing.assert_array_equal(ids, kept)  # not asked: untouched
    codes_in_place, labels_in_place = sorted_codes(ids, overwrite=True)
    for got, got_labels in ((codes, labels), (codes_in_place, labels_in_place)):
        np.testing.assert_array_equal(got, expected_codes)
        np.testing.assert_array_equal(got_labels, expected_labels)
    assert np.shares_memory(codes_in_place, ids)
    read_only = kept.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(sorted_codes(read_only, overwrite=True)[0], expected_codes)


ARRANGEMENTS = {  # the order a file may list its ratings in
    "as drawn": lambda rows, columns: np.arange(len(rows)),
    "by row, then column": lambda rows, columns: np.lexsort((columns, rows)),
    "by column": lambda rows, columns: np.argsort(columns, kind="stable"),
    "by column, then row": lambda rows, columns: np.lexsort((rows, columns)),
}


@settings(max_examples=80, deadline=None)
@given(pairs=pairs, arrangement=st.sampled_from(sorted(ARRANGEMENTS)), chunk=st.sampled_from([2, 3, 2**20]))
def test_row_major_order_is_a_stable_sort_by_row_then_column(pairs, arrangement, chunk):
    """Whatever order the pairs come in (a file sorted by user then movie, by movie, or none), the order that
    puts them by row then column, equal pairs in their given order; None only where they already are."""
    rows, columns = (np.array(values, dtype=np.intp) for values in pairs)
    given_order = ARRANGEMENTS[arrangement](rows, columns)
    rows, columns = rows[given_order], columns[given_order]
    expected = np.lexsort((columns, rows))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sorting, "_ASCEND_CHUNK", chunk)
        order = sorting.row_major_order(rows, columns, 6, 7)
    if order is None:
        assert (np.diff(rows * 7 + columns) > 0).all()  # None says: strictly in order already
    else:
        np.testing.assert_array_equal(order, expected)
    if arrangement == "by row, then column" and len(set(zip(rows.tolist(), columns.tolist()))) == len(rows):
        assert order is None


@pytest.mark.parametrize("form", ["compiled", "numpy"])
@settings(max_examples=80, deadline=None)
@given(pairs=pairs, arrangement=st.sampled_from(sorted(ARRANGEMENTS)), with_offset=st.booleans(),
       data=st.data())
def test_arrange_by_row_is_csr_in_row_then_column_order(form, pairs, arrangement, with_offset, data):
    """Both forms give the ratings by row, then column, equal pairs in their given order, each value less its
    row's offset, bit for bit what the sort and subtraction give, whatever order a file listed them in."""
    rows, columns = (np.array(values, dtype=np.int64) for values in pairs)
    given_order = ARRANGEMENTS[arrangement](rows, columns)
    rows, columns = rows[given_order], columns[given_order]
    values = np.array(data.draw(st.lists(st.floats(-5, 5), min_size=len(rows), max_size=len(rows))))
    offset = np.linspace(-1.3, 2.7, 6) if with_offset else None
    with seen_table_of("bits" if form == "compiled" else "bytes"):
        indptr, arranged_columns, arranged_values = sorting.arrange_by_row(rows, columns, values, 6, 7, offset)
    expected = np.lexsort((columns, rows))
    np.testing.assert_array_equal(indptr, np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=6))]))
    assert arranged_columns.dtype == np.int32
    np.testing.assert_array_equal(arranged_columns, columns[expected])
    wanted = values[expected] - (offset[rows[expected]] if with_offset else 0.0)
    np.testing.assert_array_equal(arranged_values.view(np.int64), wanted.view(np.int64))


@pytest.mark.skipif(kernels.compiled is None, reason="the compiled kernels were not built")
def test_the_arrangement_kernel_refuses_what_it_cannot_place():
    rows, columns, values = np.array([0, 1]), np.array([1, 0]), np.array([1.0, 2.0])

    def arrange(rows=rows, columns=columns, n_rows=2, n_columns=2, offset=np.zeros(0), out_columns=None):
        out_columns = np.empty(2, dtype=np.int32) if out_columns is None else out_columns
        kernels.compiled.arrange_rows(rows, columns, values, offset, n_rows, n_columns,
                                      np.empty(min(n_rows, 2) + 1, dtype=np.int64), out_columns, np.empty(2))
        return out_columns

    np.testing.assert_array_equal(arrange(), [1, 0])
    np.testing.assert_array_equal(arrange(out_columns=np.empty(2, dtype=np.int64)), [1, 0])
    with pytest.raises(IndexError):
        arrange(rows=np.array([0, 2]))
    with pytest.raises(IndexError):
        arrange(columns=np.array([-1, 0]))
    with pytest.raises(ValueError, match="row_offset"):
        arrange(offset=np.zeros(3))
    with pytest.raises(ValueError, match="n_rows"):
        arrange(n_rows=2**32)
    with pytest.raises(ValueError):
        arrange(rows=np.array([0, 1], dtype=">i8"))
    with pytest.raises(ValueError):
        arrange(out_columns=np.empty(2, dtype=np.int16))


def test_the_arrangement_without_the_kernel_it_needs_is_numpys():
    """A compiled build from before the arrangement kernel (no ``arrange_rows``), a few ratings among very many
    columns (the kernel's counting sort would take memory for every column: 8 GB here) and float32 ratings all
    take numpy's sort, with the same CSR as the kernel gives, in float64."""
    rows, columns = np.array([1, 0, 1], dtype=np.int64), np.array([2**30, 5, 3], dtype=np.int64)
    values = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    expected = ([0, 1, 3], [5, 3, 2**30], [1.5, 2.5, 0.5])
    with pytest.MonkeyPatch.context() as patch:
        real = kernels.compiled
        older = None if real is None else types.SimpleNamespace(
            **{name: getattr(real, name) for name in dir(real) if not name.startswith("_") and name != "arrange_rows"})
        patch.setattr(kernels, "compiled", older)
        arranged = sorting.arrange_by_row(rows, columns, values, 2, 2**31)
    few_among_many = sorting.arrange_by_row(rows, columns, values, 2, 2**31)
    for indptr, arranged_columns, arranged_values in (arranged, few_among_many):
        np.testing.assert_array_equal(indptr, expected[0])
        np.testing.assert_array_equal(arranged_columns, expected[1])
        assert arranged_columns.dtype == np.int64 and arranged_values.dtype == np.float64
        np.testing.assert_array_equal(arranged_values, expected[2])
