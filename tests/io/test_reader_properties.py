"""Property-based tests for every reader: whatever the file holds, it loads correctly or fails with a
clear one-line error, and a failed open changes neither the data in the window nor the file."""

import io
import json
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfexplorer.io.factors import FactorFileError, read_factors
from cfexplorer.io.project import load_project
from cfexplorer.io.readers import RatingsFileError, read_any

from .hostile_files import array_bytes, declare_size, npy_bytes, npz_bytes, project_bytes, project_parts, xlsx_bytes

READER_ERRORS = (RatingsFileError, FactorFileError)

# The suffix picks the reader: delimited text, MovieLens 100K, Excel, project; factor files separately.
RATING_SUFFIXES = [".csv", ".tsv", ".txt", ".data", ".xlsx"]
FACTOR_SUFFIXES = [".csv", ".npz", ".npy"]

cell = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(["", "?", " ", "nan", "NaN", "inf", "-inf", "1e400", "3.5", " 4 ", "4.0", "5,5", "0x10",
                     "99999999999999999999999", "-0", "1_0", "Alice", "Bob ", "Löwe", "電影", '"q,uoted"', "'",
                     "userId", "movieId", "rating", "Movie"]),
    st.text(max_size=6),
)
row = st.lists(cell, min_size=0, max_size=5)
delimiter = st.sampled_from([",", "\t", ";", "|"])
encoding = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])


@st.composite
def table_bytes(draw):
    """A table-like file: ragged rows of awkward cells, some repeated, in some delimiter and encoding."""
    rows = draw(st.lists(row, max_size=8))
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))  # duplicate lines: duplicate pairs
    if draw(st.booleans()):
        rows.insert(0, draw(st.sampled_from([["userId", "movieId", "rating"], ["Movie", "Alice", "Bob"],
                                             ["user", "item", "rating", "timestamp"]])))
    sep = draw(delimiter)
    text = "\n".join(sep.join(cells) for cells in rows)
    return text.encode(draw(encoding), errors="replace")


def check_one_line_error(error: Exception):
    message = str(error)
    assert message.strip(), "an error needs a message"
    assert "\n" not in message.strip(), f"not one line: {message!r}"


def assert_loaded_correctly(result):
    ratings = result.ratings
    assert ratings.n_users > 0 and ratings.n_items > 0  # a matrix of "?" only is a valid, empty grid
    assert np.all(np.isfinite(ratings.values))
    keys = np.sort(ratings.keys())
    assert np.all(keys[1:] != keys[:-1])  # one rating per pair
    assert len(ratings.user_labels) == ratings.n_users and len(ratings.item_labels) == ratings.n_items


def read_or_refuse(path):
    try:
        result = read_any(path)
    except READER_ERRORS as error:
        check_one_line_error(error)
        return None
    assert_loaded_correctly(result)
    return result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), suffix=st.sampled_from(RATING_SUFFIXES + [".cfx"]))
def test_arbitrary_bytes_load_or_fail_in_one_line(tmp_path, data, suffix):
    path = tmp_path / f"ratings{suffix}"
    path.write_bytes(data)
    if suffix == ".cfx":
        try:
            load_project(path)
        except RatingsFileError as error:
            check_one_line_error(error)
    else:
        read_or_refuse(path)
    assert path.read_bytes() == data  # reading never writes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=table_bytes(), suffix=st.sampled_from([".csv", ".tsv", ".txt", ".data"]))
def test_messy_tables_load_or_fail_in_one_line(tmp_path, data, suffix):
    path = tmp_path / f"ratings{suffix}"
    path.write_bytes(data)
    read_or_refuse(path)


@st.composite
def long_ratings(draw):
    """Distinct (user, movie) pairs with ratings on a half-star scale; ids possibly huge."""
    n = draw(st.integers(1, 30))
    ids = st.one_of(st.integers(0, 50), st.integers(2**40, 2**52))
    pairs = draw(st.lists(st.tuples(ids, ids), min_size=n, max_size=n, unique=True))
    stars = draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    return [(user, item, star / 2) for (user, item), star in zip(pairs, stars)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=long_ratings(), sep=st.sampled_from([",", "\t", ";"]), header=st.booleans())
def test_well_formed_long_files_load_exactly(tmp_path, rows, sep, header):
    path = tmp_path / "ratings.csv"
    lines = (["userId", "movieId", "rating"],) if header else ()
    text = "\n".join(sep.join(str(v) for v in line) for line in [*lines, *rows])
    path.write_text(text, encoding="utf-8")
    ratings = read_any(path).ratings
    loaded = {(ratings.user_labels[u], ratings.item_labels[i]): v
              for u, i, v in zip(ratings.users, ratings.items, ratings.values)}
    assert loaded == {(user, item): value for user, item, value in rows}


def test_an_excel_file_of_random_cells_loads_or_fails_in_one_line(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    for attempt in range(5):
        cells = rng.choice(np.array(["1", "2.5", "", "?", "x", "nan", "inf", "Alice", "1e400"], dtype=object),
                           size=(rng.integers(1, 6), rng.integers(1, 5)))
        path = tmp_path / f"sheet{attempt}.xlsx"
        pd.DataFrame(cells).to_excel(path, header=False, index=False)
        read_or_refuse(path)


def test_a_zip_that_is_not_a_workbook_is_refused_in_one_line(tmp_path):
    path = tmp_path / "ratings.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(RatingsFileError) as caught:
        read_any(path)
    check_one_line_error(caught.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), table_bytes()), suffix=st.sampled_from(FACTOR_SUFFIXES))
def test_factor_files_load_or_fail_in_one_line(tmp_path, data, suffix):
    path = tmp_path / f"factors{suffix}"
    path.write_bytes(data)
    try:
        embedding = read_factors(path)
    except FactorFileError as error:
        check_one_line_error(error)
        return
    assert np.all(np.isfinite(embedding.items.factors)) or embedding.items.factors.size == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrays=st.dictionaries(st.sampled_from(["item_factors", "item_names", "item_bias", "user_factors",
                                              "meta", "users", "values"]),
                              st.sampled_from([np.zeros((0, 2)), np.ones((3, 2)), np.array([np.nan, np.inf]),
                                               np.array(["a", "b"]), np.arange(5), np.ones((2, 2, 2))]),
                              max_size=4))
def test_npz_archives_with_odd_contents_load_or_fail_in_one_line(tmp_path, arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    for name, read, errors in (("factors.npz", read_factors, FactorFileError),
                               ("project.cfx", load_project, RatingsFileError)):
        path = tmp_path / name
        path.write_bytes(buffer.getvalue())
        try:
            read(path)
        except errors as error:
            check_one_line_error(error)


# --- valid containers, hostile contents (issue #16) -----------------------------------------------------------
# Each example is a well-formed zip, .npy header or project whose contents lie: huge declared sizes,
# far-away cells, object dtypes, NaN, wrong JSON types. Every one loads correctly or fails with one
# line of the documented error type, and never allocates what it declares (tracemalloc's peak).
MAX_PEAK = 64 * 2**20


def within_memory(call):
    """Run ``call``; (its result or its error, tracemalloc's peak)."""
    tracemalloc.start()
    try:
        outcome = call()
    except (RatingsFileError, FactorFileError) as error:
        outcome = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MAX_PEAK, f"{peak / 2**20:.0f} MB allocated"
    return outcome


NEAR = [f"{column}{row}" for column in "ABCD" for row in range(1, 6)]
FAR = ["XFD1", "A20000", "XFD5000", "ZZ5000", "AAA1", "B65536"]  # past the 25M-cell limit: XFD5000
sheet_value = st.one_of(
    st.sampled_from(["user", "item", "rating", "Movie", "ann", "bob", "?", "", "x", "1e308", "-1e308", "inf"]),
    st.sampled_from([1, 2.5, 5, 0, 1e308, -1e308, 7e9, 600000, -600000]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
DIMENSIONS = [None, "auto", "A1", "A1:XFD1048576", "A1:C3", "B2:A1", "A1:XFD5000", "A1:D5", "C3"]


@st.composite
def hostile_workbooks(draw, far_cells: bool):
    refs = draw(st.lists(st.sampled_from(NEAR), min_size=1, max_size=12, unique=True))
    if far_cells:
        refs += draw(st.lists(st.sampled_from(FAR), min_size=1, max_size=2, unique=True))
    cells = {ref: draw(sheet_value) for ref in refs}
    extra, declared = {}, None
    part = draw(st.sampled_from(["none", "bomb", "declared"]))
    if part == "bomb":
        extra["xl/media/image1.bin"] = bytes(draw(st.sampled_from([2, 3])) * 2**20)
    elif part == "declared":
        declared = (draw(st.sampled_from(["xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/workbook.xml"])),
                    draw(st.sampled_from([2**31, 2**32 - 1, 10**6])))
    content = xlsx_bytes(cells, dimension=draw(st.sampled_from(DIMENSIONS)), extra=extra)
    return declare_size(content, *declared) if declared else content


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=hostile_workbooks(far_cells=False))
def test_workbooks_with_hostile_contents_load_or_fail_in_one_line(tmp_path, content):
    check_hostile_workbook(tmp_path, content)


# Workbooks with a cell far from the others apart, and fewer of them: openpyxl fills the gap before a far cell
# with a row for each row skipped (65,535 for B65536), which tracemalloc makes 20-30 times slower to read
# (25 ms -> 0.5 s). Drawn among the others, they made that test the suite's slowest (9 s on a loaded machine).
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=hostile_workbooks(far_cells=True))
def test_workbooks_with_a_far_away_cell_load_or_fail_in_one_line(tmp_path, content):
    check_hostile_workbook(tmp_path, content)


def check_hostile_workbook(tmp_path, content):
    path = tmp_path / "ratings.xlsx"
    path.write_bytes(content)
    outcome = within_memory(lambda: read_any(path))
    if isinstance(outcome, Exception):
        check_one_line_error(outcome)
        assert str(outcome).startswith(str(path))
    else:
        assert_loaded_correctly(outcome)
        assert np.abs(outcome.ratings.values).max(initial=0) <= 1e6


DESCRIPTORS = ["<f8", "<f4", "<i8", "|u1", "|b1", "|O", "<c16", "<U4", "|S3", "|V8", "<M8[s]",
               [("a", "<f8")], [("a", "|O")]]
dimension = st.one_of(st.integers(0, 4), st.sampled_from([2**31, 2**40, 10**12, 1_825_000_000]))


@st.composite
def hostile_npy(draw):
    """.npy bytes whose header declares a dtype and shape its data may not have."""
    descr = draw(st.sampled_from(DESCRIPTORS))
    shape = tuple(draw(st.lists(dimension, max_size=3)))
    itemsize = np.dtype(descr).itemsize
    declared = int(np.prod(shape, dtype=object) or 0) * itemsize if shape else itemsize
    length = draw(st.sampled_from(["declared", "none", "short", "long"]))
    if length == "declared" and declared <= 4096:
        data = bytes(declared)
    elif length == "long":
        data = bytes(min(declared, 4096) + 16)
    elif length == "short":
        data = bytes(min(declared // 2, 4096))
    else:
        data = b""
    return npy_bytes(shape, descr, data=data)


finite_or_not = st.sampled_from([np.ones((3, 2)), np.zeros((0, 2)), np.array([[np.nan, 1.0], [0, 0]]),
                                 np.array([[np.inf, 1.0]]), np.full((2, 2), 1e300), np.ones((2, 3, 1)),
                                 np.ones(4), np.array([["a", "b"]]), np.arange(6).reshape(3, 2)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.dictionaries(st.sampled_from(["item_factors", "item_names", "item_bias", "user_factors",
                                                "user_names", "user_bias"]),
                               st.one_of(hostile_npy(), finite_or_not.map(array_bytes)), min_size=1, max_size=4),
       single=hostile_npy())
def test_factor_arrays_with_hostile_headers_load_or_fail_in_one_line(tmp_path, members, single):
    archive, array = tmp_path / "factors.npz", tmp_path / "factors.npy"
    archive.write_bytes(npz_bytes(members))
    array.write_bytes(single)
    for path in (archive, array):
        outcome = within_memory(lambda: read_factors(path))
        if isinstance(outcome, Exception):
            check_one_line_error(outcome)
            assert isinstance(outcome, FactorFileError) and str(outcome).startswith(str(path))
            continue
        for table in (outcome.items, outcome.users):
            assert table.factors.ndim == 2 and len(table.names) == len(table.factors) == len(table.bias)
            assert np.isfinite(table.factors).all() and np.isfinite(table.bias).all()
        assert outcome.items.n_factors == outcome.users.n_factors


_SAVED_PROJECT = None


def saved_project() -> tuple[dict, dict]:
    """(meta, arrays) of a small trained project, made once."""
    global _SAVED_PROJECT
    if _SAVED_PROJECT is None:
        from cfexplorer.core.mf import MatrixFactorization
        from cfexplorer.core.synthetic import planted_tastes
        from cfexplorer.io.project import Project, save_project

        ratings = planted_tastes(n_users=5, n_items=4, density=0.8, seed=0)
        model = MatrixFactorization(n_factors=2, n_epochs=2).fit(ratings)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "good.cfx"
            save_project(path, Project(ratings, {"rows_are_items": True, "training": {"n_factors": 2}},
                                       model.get_state()))
            _SAVED_PROJECT = project_parts(path)
    return _SAVED_PROJECT


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10, 10**20), st.floats(), st.text(max_size=5)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=4), children, max_size=4)),
    max_leaves=8,
)
META_KEYS = ["user_labels", "item_labels", "scale", "binary", "item_info", "settings", "model", "version", "format"]
MODEL_KEYS = ["class", "params", "loss", "global_mean", "scale", "y_range"]
PARAMS = ["optimizer", "loss", "n_factors", "reg", "n_epochs", "y_range", "batch_size"]


NESTED = "\u2063nested\u2063"  # stands for a deeply nested list in the JSON text

@st.composite
def hostile_projects(draw):
    """A real project with a few of its parts replaced by values of the wrong type, size or depth."""
    meta, arrays = saved_project()
    meta, arrays = json.loads(json.dumps(meta)), dict(arrays)
    depth = None
    for _ in range(draw(st.integers(1, 3))):
        change = draw(st.sampled_from(["meta", "nest", "model", "param", "array", "array_nan", "labels"]))
        if change == "meta":
            meta[draw(st.sampled_from(META_KEYS))] = draw(json_value)
        elif change == "nest":  # written as text below: json.dumps itself cannot go 3000 deep
            meta[draw(st.sampled_from(["settings", "model", "user_labels"]))] = NESTED
            depth = draw(st.sampled_from([5, 33, 3000]))
        elif change == "model" and isinstance(meta.get("model"), dict):
            meta["model"][draw(st.sampled_from(MODEL_KEYS))] = draw(json_value)
        elif change == "param" and isinstance(meta.get("model"), dict) and isinstance(meta["model"].get("params"), dict):
            meta["model"]["params"][draw(st.sampled_from(PARAMS))] = draw(
                st.one_of(json_value, st.sampled_from(["rmsprop", "als", "adam", "bce", "hinge"])))
        elif change == "array":
            name = draw(st.sampled_from(sorted(arrays)))
            arrays[name] = draw(st.one_of(hostile_npy(), finite_or_not.map(array_bytes)))
        elif change == "array_nan":
            name = draw(st.sampled_from(sorted(arrays)))
            if isinstance(arrays[name], np.ndarray) and arrays[name].dtype.kind == "f" and arrays[name].size:
                array = arrays[name].copy()
                array.flat[draw(st.integers(0, array.size - 1))] = draw(st.sampled_from([np.nan, np.inf, 1e308]))
                arrays[name] = array
        elif change == "labels":
            key = draw(st.sampled_from(["user_labels", "item_labels"]))
            meta[key] = draw(st.sampled_from([[], ["a"], list(range(10**4)), ["a", "a", "b", "c", "d"]]))
    text = json.dumps(meta)
    if depth is not None:
        text = text.replace(json.dumps(NESTED), "[" * depth + "1" + "]" * depth)
    return project_bytes(None, arrays, raw_meta=text.encode())


# 50 examples: each load is traced (tracemalloc, 29 ms a project against 6 ms untraced); 80 took 6 s on a loaded
# machine. Each run draws new ones (the tests are not derandomized).
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=hostile_projects())
def test_projects_with_hostile_contents_load_or_fail_in_one_line(tmp_path, content):
    from cfexplorer.core.models import model_from_state

    path = tmp_path / "project.cfx"
    path.write_bytes(content)
    outcome = within_memory(lambda: load_project(path))
    if isinstance(outcome, Exception):
        check_one_line_error(outcome)
        assert str(outcome).startswith(f"{path}: ")
        return
    ratings = outcome.ratings
    assert np.isfinite(ratings.values).all() and isinstance(outcome.settings, dict)
    assert ratings.scale.high - ratings.scale.low <= 1e6
    if outcome.model_state is not None:
        predictor = model_from_state(outcome.model_state).predictor()
        assert predictor.shape == (ratings.n_users, ratings.n_items)
        assert np.isfinite(predictor.predict_matrix()).all()
