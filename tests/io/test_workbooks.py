"""Workbooks made for teaching: the rating crosstab is found wherever it sits, among factor blocks, formulas and
copies on other sheets, and its orientation is read from what the workbook says or left for a person to choose."""

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cfexplorer.io.readers import NoRatingsTable, RatingsFileError, read_any
from cfexplorer.io.workbook import candidate_at, read_candidate
from cfexplorer.io.tables import format_range, parse_range, wide_orientation
from cfexplorer.io.writers import write_by_extension

from .hostile_files import xlsx_bytes
from .workbooks import MOVIE_IDS, USER_IDS, collab_filter_bytes, write_collab_filter


def as_users_by_movies(ratings):
    """The ratings as a users × movies matrix in the workbook's order of ids."""
    users = [str(u) for u in USER_IDS]
    movies = [str(m) for m in MOVIE_IDS]
    assert sorted(map(str, ratings.user_labels)) == sorted(users)
    assert sorted(map(str, ratings.item_labels)) == sorted(movies)
    dense = ratings.to_dense()
    user_at = {str(label): k for k, label in enumerate(ratings.user_labels)}
    movie_at = {str(label): k for k, label in enumerate(ratings.item_labels)}
    return dense[np.ix_([user_at[u] for u in users], [movie_at[m] for m in movies])]


def test_the_fast_ai_workbook_opens_with_users_and_movies_the_right_way_round(tmp_path):
    path = tmp_path / "collab_filter.xlsx"
    made = write_collab_filter(path)
    result = read_any(path)
    assert result.question is None and result.warnings == []
    assert result.format == "xlsx-wide"
    np.testing.assert_array_equal(as_users_by_movies(result.ratings), made.ratings)  # not the predictions block
    assert result.ratings.n_ratings == int((~np.isnan(made.ratings)).sum())
    assert result.orientation.decided and "movielens" in result.orientation.reason


def test_the_sheet_it_comes_from_and_its_range_are_those_of_the_workbook(tmp_path):
    path = tmp_path / "collab_filter.xlsx"
    write_collab_filter(path, long_sheets=False)
    question = read_any(path).question
    chosen = question.chosen
    assert question.sheet_of(chosen).name == "dotprod" and chosen.region.reference == "G1:V16"
    names = [question.sheets[c.region.sheet].name for c in question.candidates]
    # the copies on "bias" are the same tables; the predictions block is a table of other numbers
    assert "bias" not in names and [c.rating_like for c in question.candidates].count(True) == 1
    assert [c.region.reference for c in question.candidates[:2]] == ["G1:V16", "G24:V39"]


def test_without_a_long_table_the_corner_movie_id_is_a_question_not_a_silent_swap(tmp_path):
    path = tmp_path / "collab_filter.xlsx"
    made = write_collab_filter(path, long_sheets=False)
    result = read_any(path)
    source = result.question
    assert source is not None and "“movieId” may name the rows" in source.question
    assert result.warnings == [f"{source.question}: read dotprod G1:V16: 15 × 15 crosstab, "
                               f"{result.ratings.n_ratings} ratings from 0.5 to 5, rows as movies"]
    chosen = read_candidate(source, source.chosen, rows_are_items=False)  # what a person chooses in the preview
    np.testing.assert_array_equal(as_users_by_movies(chosen.ratings), made.ratings)


def test_formulas_without_cached_values_read_as_blanks_and_the_crosstab_is_still_found(tmp_path):
    path = tmp_path / "saved_by_openpyxl.xlsx"
    made = write_collab_filter(path)
    workbook = openpyxl.load_workbook(path)  # drops the cached values, as a workbook saved by a script has none
    workbook.save(path)
    np.testing.assert_array_equal(as_users_by_movies(read_any(path).ratings), made.ratings)


def workbook(path, sheets: dict[str, dict[str, object]]):
    book = openpyxl.Workbook()
    for position, (title, cells) in enumerate(sheets.items()):
        sheet = book.active if position == 0 else book.create_sheet()
        sheet.title = title
        for reference, value in cells.items():
            sheet[reference] = value
    book.save(path)
    return path


def grid_cells(top_left_row: int, top_left_column: str, rows: list[list]) -> dict:
    from cfexplorer.io.tables import column_name, column_number

    first = column_number(top_left_column)
    return {f"{column_name(first + c)}{top_left_row + r}": value
            for r, row in enumerate(rows) for c, value in enumerate(row) if value is not None}


def test_a_corner_naming_both_axes_decides(tmp_path):
    path = workbook(tmp_path / "both.xlsx", {"notes": {"A1": "see the next sheet"}, "data": grid_cells(
        3, "C", [["userId \\ movieId", 10, 20, 30], [1, 5, None, 3], [2, 4, 4, None], [3, None, 1, 2]])})
    result = read_any(path)
    assert result.question is None
    assert list(result.ratings.user_labels) == ["1", "2", "3"] and list(result.ratings.item_labels) == ["10", "20", "30"]


def test_a_crosstab_copied_from_a_notebook_display_has_the_rows_name_in_its_second_row(tmp_path):
    path = workbook(tmp_path / "copied.xlsx", {"crosstab": grid_cells(
        1, "A", [["movieId", 10, 20, 30], ["userId"], [1, 5, None, 3], [2, 4, 4, None], [3, None, 1, 2]])})
    result = read_any(path)
    assert result.question is None and result.ratings.n_ratings == 6
    assert list(result.ratings.user_labels) == ["1", "2", "3"]
    np.testing.assert_array_equal(result.ratings.to_dense(), [[5, np.nan, 3], [4, 4, np.nan], [np.nan, 1, 2]])


def test_two_different_tables_of_ratings_are_a_question(tmp_path):
    path = workbook(tmp_path / "two.xlsx", {
        "week 1": grid_cells(2, "B", [["Movie", "ann", "bob"], ["Up", 5, 3], ["Heat", 1, None], ["Jaws", 2, 2]]),
        "week 2": grid_cells(1, "A", [["Movie", "ann", "bob"], ["Up", 4, 4], ["Heat", 1, 2]]),
    })
    result = read_any(path)
    source = result.question
    assert source is not None and source.question == "the workbook holds 2 tables that could be the ratings"
    assert source.sheet_of(source.chosen).name == "week 1" and result.ratings.n_ratings == 5
    other = read_candidate(source, source.candidates[1])
    assert other.ratings.n_ratings == 4


def test_a_long_table_among_other_columns_is_found_below_notes(tmp_path):
    path = workbook(tmp_path / "long.xlsx", {"ratings": {
        "A1": "Ratings collected in class", **grid_cells(3, "B", [
            ["when", "userId", "movieId", "rating", "comment"], ["mon", "ann", "Up", 4, "nice"],
            ["tue", "bob", "Up", 2.5, None], ["wed", "ann", "Heat", 5, "loud"]])}})
    result = read_any(path)
    assert result.format == "xlsx-long" and result.question is None
    assert sorted(result.ratings.to_frame().values.tolist()) == [["ann", "Heat", 5.0], ["ann", "Up", 4.0],
                                                                 ["bob", "Up", 2.5]]


def test_a_workbook_without_ratings_says_so_in_one_line_and_keeps_its_cells_for_a_preview(tmp_path):
    path = workbook(tmp_path / "notes.xlsx", {"notes": {"A1": "nothing", "B2": "here"}, "more": {"C3": "words"}})
    with pytest.raises(NoRatingsTable) as caught:
        read_any(path)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path))
    assert [sheet.name for sheet in caught.value.source.sheets] == ["notes", "more"]


def test_a_range_pointed_at_reads_what_is_there(tmp_path):
    path = tmp_path / "collab_filter.xlsx"
    made = write_collab_filter(path, long_sheets=False)
    source = read_any(path).question
    pointed = candidate_at(source, 1, *parse_range("G1:V16"))  # the copy on "bias"
    assert (pointed.rows, pointed.columns, pointed.rated) == (15, 15, int((~np.isnan(made.ratings)).sum()))
    np.testing.assert_array_equal(as_users_by_movies(read_candidate(source, pointed, rows_are_items=False).ratings),
                                  made.ratings)
    with pytest.raises(RatingsFileError, match=r"sheet “dotprod” X1:Z3: not a table"):
        read_candidate(source, candidate_at(source, 0, *parse_range("X1:Z3")))  # nothing there


def test_orientation_rules():
    assert wide_orientation("Movie", ["Up", "Heat"], ["ann", "bob", "cy"]).rows_are_items
    assert wide_orientation("Movie", ["Up", "Heat"], ["ann", "bob"]).decided
    assert not wide_orientation("User", ["ann"], ["Up", "Heat"]).rows_are_items
    assert wide_orientation("movie × user", [], []).rows_are_items
    both = wide_orientation("users/movies", ["a", "b"], ["x", "y"])
    assert both.decided and not both.rows_are_items
    for corner in ("movieId", "movie_id", "userId", "item id"):
        assert not wide_orientation(corner, ["1", "2"], ["3", "4"]).decided, corner
    titled = wide_orientation("", ["ann", "bob"], ["Heat (1995)", "Up (2009)"])
    assert titled.decided and not titled.rows_are_items
    square = wide_orientation("", ["ann", "bob"], ["x", "y"])
    assert not square.decided and not square.rows_are_items
    assert wide_orientation("", ["ann", "bob"], ["x", "y", "z"]).decided


def test_ranges_read_and_write_as_in_a_spreadsheet():
    assert parse_range("G1:V16") == (1, 7, 16, 22) and parse_range(" $v$16 : g1 ") == (1, 7, 16, 22)
    assert format_range(1, 7, 16, 22) == "G1:V16" and format_range(3, 27, 4, 28) == "AA3:AB4"
    assert parse_range("B2") == (2, 2, 2, 2)
    for text in ("", "1:2", "G1:", "nowhere"):
        with pytest.raises(ValueError):
            parse_range(text)


@pytest.mark.parametrize("text, decided", [
    ("Movie,Alice,Bob\nUp,5,?\nHeat,1,2\n", True),
    ("movieId,14,29\n27,5,?\n49,1,2\n", False),
    (",Up,Heat\nann,1,?\nbob,4,5\n", False),
    (",Up,Heat,Jaws\nann,1,?,3\nbob,4,5,?\n", True),
])
def test_a_text_matrix_asks_only_when_it_does_not_say(tmp_path, text, decided):
    path = tmp_path / "matrix.csv"
    path.write_text(text)
    result = read_any(path)
    assert (result.question is None) == decided
    if not decided:
        assert result.warnings and result.warnings[-1].startswith("rows were taken as")
        assert result.question.chosen.region.reference == "A1:C3"
        flipped = read_candidate(result.question, result.question.chosen,
                                 rows_are_items=not result.orientation.rows_are_items)
        np.testing.assert_array_equal(flipped.ratings.to_dense(), result.ratings.to_dense().T)


@pytest.mark.parametrize("items_as_rows", [True, False])
def test_the_apps_own_excel_matrices_reopen_without_a_question(tmp_path, items_as_rows):
    from cfexplorer.core.ratings import Ratings

    ratings = Ratings.from_dense(np.array([[5, np.nan], [1, 2]]), ["ann", "bob"], ["Up", "Heat"])
    path = tmp_path / "saved.xlsx"
    write_by_extension(ratings, path, items_as_rows=items_as_rows)
    result = read_any(path)
    assert result.question is None
    np.testing.assert_array_equal(result.ratings.to_dense(), ratings.to_dense())


def test_a_second_sheet_past_the_limits_is_refused_naming_it(tmp_path):
    path = tmp_path / "far.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "x"
    far = book.create_sheet("far")
    far["A1"] = "y"
    far["XFD5000"] = 1
    book.save(path)
    with pytest.raises(RatingsFileError, match=r"the sheet “far”'s declared size \(A1:XFD5000\) is 5,000 rows"):
        read_any(path)


def test_all_sheets_together_are_within_the_matrix_limit(tmp_path, monkeypatch):
    from cfexplorer.io import limits

    monkeypatch.setattr(limits, "MAX_MATRIX_CELLS", 300)
    data, _ = collab_filter_bytes()  # each sheet under 1,000 cells, 3,000 together
    path = tmp_path / "many.xlsx"
    path.write_bytes(data)
    with pytest.raises(RatingsFileError, match="the first sheet's declared size"):
        read_any(path)
    monkeypatch.setattr(limits, "MAX_MATRIX_CELLS", 1_500)
    with pytest.raises(RatingsFileError, match="the workbook's sheets reach .* cells together"):
        read_any(path)


def test_the_first_sheet_read_whole_still_wins_when_nothing_else_competes(tmp_path):
    path = tmp_path / "plain.xlsx"
    pd.DataFrame({"user": ["a", "b"], "item": ["x", "x"], "rating": [2, 5]}).to_excel(path, index=False)
    result = read_any(path)
    assert result.question is None and result.format == "xlsx-long" and result.ratings.n_ratings == 2
    path.write_bytes(xlsx_bytes({"A1": 1, "B1": 10, "C1": 4, "A2": 2, "B2": 10, "C2": 3}))  # no header at all
    assert read_any(path).ratings.n_ratings == 2


def test_a_notebook_crosstab_pasted_into_a_csv_reads_the_right_way_round(tmp_path):
    path = tmp_path / "crosstab.csv"
    path.write_text("movieId,27,49,57\nuserId,,,\n14,3,5,?\n29,?,4,4\n")
    result = read_any(path)
    assert result.question is None and list(result.ratings.user_labels) == ["14", "29"]
    np.testing.assert_array_equal(result.ratings.to_dense(), [[3, 5, np.nan], [np.nan, 4, 4]])


@pytest.mark.parametrize("n_rows", [2, 3, 5])
def test_a_short_long_table_on_another_sheet_is_read_as_one_not_as_a_crosstab_of_its_ids(tmp_path, n_rows):
    """Its header made a crosstab (corner userId, columns movieId and rating) that outranked it: the movie ids
    were read as ratings, with no error."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "notes"
    sheet = workbook.create_sheet("ratings")
    sheet.append(["userId", "movieId", "rating"])
    rows = [(user + 1, 10 + user % 2, 1 + user % 5) for user in range(n_rows)]
    for row in rows:
        sheet.append(list(row))
    path = tmp_path / "second.xlsx"
    workbook.save(path)
    result = read_any(path)
    assert result.format == "xlsx-long" and result.users_from == "the column 'userId'"
    ratings = result.ratings
    read = sorted(zip(ratings.user_labels[ratings.users].astype(int), ratings.item_labels[ratings.items].astype(int),
                      ratings.values))
    assert read == sorted(rows)


def test_a_workbook_s_warning_gives_the_lowest_rating_and_calls_a_long_sheet_long(tmp_path):
    """It said "12 ratings from 0 to 5" of ratings 1 to 5, and "2 × 3 crosstab" of a long table."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    for row in (["userId", "movieId", "rating"], [1, 10, 3], [2, 10, 4]):
        first.append(row)
    second = workbook.create_sheet("other")
    for row in (["user", "A", "B"], ["x", 1, 2], ["y", 2, 1]):
        second.append(row)
    path = tmp_path / "two.xlsx"
    workbook.save(path)
    result = read_any(path)
    assert result.warnings[-1].endswith("long table, 2 ratings from 3 to 4")
