"""Opening a workbook made for teaching, or a table that does not say which way round it is, in the window: the
crosstab found opens directly, and what the file leaves open is asked in a preview before anything switches."""

import numpy as np
import openpyxl
import pytest
from PySide6.QtCore import Qt

from cfexplorer.ui import document as document_module
from cfexplorer.ui.table_preview import TablePreviewDialog

from ..io.workbooks import MOVIE_IDS, USER_IDS, write_collab_filter
from .modal_answers import open_answering


@pytest.fixture
def dialogs(monkeypatch):
    """Modal dialogs as a person sees them (the tests' default takes every reader's own choice)."""
    monkeypatch.delenv("CFEXPLORER_NO_DIALOGS", raising=False)


def users_by_movies(window):
    ratings = window.table.ratings
    user_at = {str(label): k for k, label in enumerate(ratings.user_labels)}
    movie_at = {str(label): k for k, label in enumerate(ratings.item_labels)}
    return ratings.to_dense()[np.ix_([user_at[str(u)] for u in USER_IDS], [movie_at[str(m)] for m in MOVIE_IDS])]


def open_answering_the_preview(window, path, act) -> bool:
    return open_answering(window, path, TablePreviewDialog, act)


def test_the_fast_ai_workbook_opens_directly_with_users_and_movies_the_right_way_round(qtbot, window, tmp_path,
                                                                                     dialogs, monkeypatch):
    monkeypatch.setattr(TablePreviewDialog, "exec", lambda self: pytest.fail("no question was needed"))
    path = tmp_path / "collab_filter.xlsx"
    made = write_collab_filter(path)
    assert window.open_file(path, confirm=False)
    np.testing.assert_array_equal(users_by_movies(window), made.ratings)
    assert window.proxy.rowCount() == 15 and window.proxy.columnCount() == 15  # movies down, users across
    assert window.table.headerData(0, Qt.Orientation.Horizontal) == f"{USER_IDS[0]} ({int((~np.isnan(made.ratings[0])).sum())})"
    assert window.message_bar.text == "" and window.document_title == "collab_filter.xlsx"


def test_an_ambiguous_corner_is_asked_in_a_preview_and_the_choice_is_what_opens(qtbot, window, tmp_path, dialogs):
    path = tmp_path / "collab_filter.xlsx"
    made = write_collab_filter(path, long_sheets=False)
    before = window.table.ratings

    def choose_users_as_rows(dialog):
        assert dialog.range_text == "G1:V16" and dialog.sheet_box.currentText() == "dotprod"
        assert dialog.rows_are_movies.isChecked()  # the reader's guess, shown, not taken
        assert "users such as 27" in dialog.summary.text()
        qtbot.mouseClick(dialog.rows_are_users, Qt.MouseButton.LeftButton)
        assert "users such as 14, 29, 72" in dialog.summary.text()
        assert window.table.ratings is before  # nothing switched while asking
        assert window.documents.state == "opening"
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert open_answering_the_preview(window, path, choose_users_as_rows)
    np.testing.assert_array_equal(users_by_movies(window), made.ratings)
    assert window.message_bar.text == ""  # a person chose: no note of a guess


def test_cancelling_the_preview_changes_nothing(qtbot, window, tmp_path, dialogs):
    path = tmp_path / "collab_filter.xlsx"
    write_collab_filter(path, long_sheets=False)
    before, title = window.table.ratings, window.document_title
    assert not open_answering_the_preview(window, path, lambda dialog: dialog.reject())
    assert window.table.ratings is before and window.document_title == title
    assert "cancelled" in window.message_bar.text and window.documents.state == "idle"


def test_cells_selected_in_the_preview_are_the_table_that_opens(qtbot, window, tmp_path, dialogs):
    path = tmp_path / "collab_filter.xlsx"
    made = write_collab_filter(path, long_sheets=False)

    def take_the_copy_on_bias(dialog):
        dialog.sheet_box.setCurrentText("bias")  # its copy is the same table: nothing found there of its own
        assert dialog.range_text == "" and not dialog.ok_button.isEnabled()
        dialog.select_cells(1, 7, 16, 22)  # a drag from G1 to V16
        assert dialog.range_text == "G1:V16" and dialog.ok_button.isEnabled()
        qtbot.mouseClick(dialog.rows_are_users, Qt.MouseButton.LeftButton)
        dialog.accept()

    assert open_answering_the_preview(window, path, take_the_copy_on_bias)
    np.testing.assert_array_equal(users_by_movies(window), made.ratings)


def test_a_workbook_where_nothing_is_found_lets_the_person_type_the_range(qtbot, window, tmp_path, dialogs):
    path = tmp_path / "small.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Ratings of one student, by hand"
    for reference, value in {"C3": "Movie", "D3": "ann", "C4": "Up", "D4": 5, "C5": "Heat", "D5": 2}.items():
        sheet[reference] = value
    book.save(path)

    def type_the_range(dialog):
        assert "no table of ratings" in dialog.question.text() or "label" in dialog.question.text()
        assert not dialog.ok_button.isEnabled()
        dialog.range_edit.setText("C3:D7")  # a little more than the table: blank rows are left out
        dialog.range_edit.editingFinished.emit()
        assert "1 user × 2 movies" in dialog.summary.text()
        dialog.range_edit.setText("A1:D5")
        dialog.range_edit.editingFinished.emit()
        assert "do not read as ratings" in dialog.summary.text() and not dialog.ok_button.isEnabled()
        for past_the_columns in ("F4:G6", "Q1:R3"):  # right of the sheet's last column: no cells at all
            dialog.range_edit.setText(past_the_columns)
            dialog.range_edit.editingFinished.emit()  # (an IndexError, and the table before kept for OK)
            assert "do not read as ratings" in dialog.summary.text() and not dialog.ok_button.isEnabled(), past_the_columns
        dialog.range_edit.setText("C3:D5")
        dialog.range_edit.editingFinished.emit()
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert open_answering_the_preview(window, path, type_the_range)
    ratings = window.table.ratings
    assert list(ratings.user_labels) == ["ann"] and sorted(ratings.item_labels) == ["Heat", "Up"]


def write_two_terms(path):
    """Two sheets, each with a crosstab below a title (spring's a screen further down): the workbook holds two
    tables that could be the ratings."""
    book = openpyxl.Workbook()
    autumn = book.active
    autumn.title = "autumn"
    autumn["A1"] = "Autumn term's ratings"
    spring = book.create_sheet("spring")
    spring["B2"] = "Spring term's ratings"
    tables = ((autumn, 3, 3, [("Movie", "ann", "bob", "cy"), ("Up", 5, 3, None), ("Heat", 2, None, 4),
                              ("Alien", 1, 4, 5)]),
              (spring, 60, 4, [("Movie", "dee", "eve", "fay"), ("Jaws", 4, 3, 1), ("Big", 2, 5, 4),
                              ("Ran", 3, None, 5)]))
    for sheet, top, left, rows in tables:
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.cell(top + r, left + c, value)
    book.save(path)


def click_found(qtbot, dialog, row):
    found = dialog.found
    qtbot.mouseClick(found.viewport(), Qt.MouseButton.LeftButton, pos=found.visualItemRect(found.item(row)).center())


def test_a_table_found_is_taken_when_its_entry_is_clicked_whatever_was_chosen_before(qtbot, window, tmp_path,
                                                                                    dialogs):
    path = tmp_path / "terms.xlsx"
    write_two_terms(path)

    def shows(dialog, sheet, reference):
        choice = dialog.choice()
        return (dialog.sheet_box.currentText() == sheet and dialog.range_text == reference
                and dialog.found.currentItem() is not None and dialog.found.currentItem().isSelected()
                and dialog.found.currentItem().text().startswith(f"{sheet} {reference}")
                and choice is not None and choice.candidate.region.reference == reference
                and dialog.source.sheets[choice.candidate.region.sheet].name == sheet)

    def go_back_to_autumn(dialog):
        assert [dialog.found.item(row).text().split(": ")[0] for row in range(dialog.found.count())] == \
            ["autumn C3:F6", "spring D60:G63"]
        assert shows(dialog, "autumn", "C3:F6")
        dialog.sheet_box.setCurrentText("spring")  # spring's table is shown: autumn's entry is no longer current
        assert shows(dialog, "spring", "D60:G63")
        click_found(qtbot, dialog, 0)
        assert shows(dialog, "autumn", "C3:F6")
        dialog.range_edit.setText("D60:G63")
        dialog.range_edit.editingFinished.emit()  # typed on autumn: not a table there
        assert "users such as" not in dialog.summary.text() and dialog.found.currentRow() == -1
        click_found(qtbot, dialog, 1)
        assert shows(dialog, "spring", "D60:G63")
        dialog.view.scrollToTop()
        corner = dialog.view.model().index(59, 3)
        assert not dialog.view.viewport().rect().contains(dialog.view.visualRect(corner))
        click_found(qtbot, dialog, 1)  # the entry already chosen: its table is brought back into view
        assert dialog.view.viewport().rect().contains(dialog.view.visualRect(corner))
        for typed in ("D60:F63", "D60:G63"):  # part of spring's table, then all of it: the table found
            dialog.range_edit.setText(typed)
            dialog.range_edit.editingFinished.emit()
        assert shows(dialog, "spring", "D60:G63")
        click_found(qtbot, dialog, 0)
        assert shows(dialog, "autumn", "C3:F6")
        dialog.select_cells(3, 3, 5, 6)  # a drag over part of autumn's table
        assert dialog.range_text == "C3:F5" and dialog.found.currentRow() == -1
        click_found(qtbot, dialog, 0)
        assert shows(dialog, "autumn", "C3:F6")
        assert not dialog.view.selectionModel().hasSelection()  # the drag's cells are not left highlighted
        assert "users such as ann, bob, cy" in dialog.summary.text()
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert open_answering_the_preview(window, path, go_back_to_autumn)
    ratings = window.table.ratings
    assert sorted(ratings.user_labels) == ["ann", "bob", "cy"]
    assert sorted(ratings.item_labels) == ["Alien", "Heat", "Up"]


def test_without_anyone_to_ask_the_guess_opens_and_says_so(qtbot, window, tmp_path):
    path = tmp_path / "collab_filter.xlsx"
    write_collab_filter(path, long_sheets=False)
    assert window.open_file(path, confirm=False)
    assert "“movieId” may name the rows" in window.message_bar.text and "rows as movies" in window.message_bar.text


def test_a_large_file_is_read_in_the_background_and_asked_about_after(qtbot, window, tmp_path, dialogs, monkeypatch):
    monkeypatch.setattr(document_module, "BACKGROUND_OPEN_BYTES", 0)
    path = tmp_path / "square.csv"
    path.write_text(",Up,Heat\nann,1,?\nbob,4,5\n")

    def answer(dialog):
        assert window.documents.progress_dialog is None  # the reading is over
        assert not window.open_file(path, confirm=False)  # still opening: another open is refused
        qtbot.mouseClick(dialog.rows_are_movies, Qt.MouseButton.LeftButton)
        dialog.accept()

    assert open_answering_the_preview(window, path, answer)
    ratings = window.table.ratings
    assert sorted(ratings.user_labels) == ["Heat", "Up"] and sorted(ratings.item_labels) == ["ann", "bob"]


def test_the_workbook_walk_through_trains_k_5_to_the_sheets_own_rmse(qtbot, window, tmp_path):
    """README's walk-through: open the workbook, train the dot product with k = 5 and no biases (the dotprod
    sheet's model) on every rating, and compare the training RMSE with the RMSE the sheet computes."""
    path = tmp_path / "collab_filter.xlsx"
    made = write_collab_filter(path)
    assert window.open_file(path, confirm=False)
    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData("mf"))
    panel.factors.setValue(5)
    panel.reg.setValue(0)
    panel.validation.setValue(0)
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("als"))
    for box in (panel.mean_normalization, panel.global_mean, panel.user_bias, panel.item_bias):
        box.setChecked(False)
    panel.epochs.setValue(100)
    qtbot.mouseClick(panel.transport_buttons["train"], Qt.MouseButton.LeftButton)
    assert window.wait_for_training(60)
    record = panel.model.history_[-1]
    assert f"train RMSE {record.train['rmse']:.4f}" in panel.cost_label.text()
    assert abs(record.train["rmse"] - made.rmse) < 0.02  # the same model, fitted by another solver


def test_a_sheet_with_no_table_offers_no_orientation_and_a_choice_reads_the_cells_once(qtbot, window, tmp_path,
                                                                                      dialogs, monkeypatch):
    """On a sheet with no table the "Rows are users / movies" buttons stayed enabled, the last table's choice
    checked, beside "Choose a table above"; and each choice read the chosen cells twice (once to find a problem,
    once to describe them)."""
    from cfexplorer.io import workbook

    path = tmp_path / "collab_filter.xlsx"
    write_collab_filter(path, long_sheets=False)
    reads = []
    read_candidate = workbook.read_candidate

    def counted(*args, **kwargs):
        reads.append(args[1])
        return read_candidate(*args, **kwargs)

    monkeypatch.setattr(workbook, "read_candidate", counted)

    def look_around(dialog):
        assert dialog.rows_are_movies.isChecked() and dialog.rows_are_movies.isEnabled()
        reads.clear()
        qtbot.mouseClick(dialog.rows_are_users, Qt.MouseButton.LeftButton)
        assert "users such as 14, 29, 72" in dialog.summary.text() and len(reads) == 1
        dialog.sheet_box.setCurrentText("bias")  # a copy of the table: nothing found there of its own
        assert "Choose a table" in dialog.summary.text() and not dialog.ok_button.isEnabled()
        assert not dialog.rows_are_users.isEnabled() and not dialog.rows_are_movies.isEnabled()
        assert dialog.orientation.checkedButton() is None
        reads.clear()
        dialog.select_cells(1, 7, 16, 22)  # a drag from G1 to V16: a crosstab again, the reader's guess checked
        assert dialog.rows_are_movies.isEnabled() and dialog.orientation.checkedButton() is not None
        assert dialog.ok_button.isEnabled() and len(reads) == 1
        dialog.reject()

    assert not open_answering_the_preview(window, path, look_around)
