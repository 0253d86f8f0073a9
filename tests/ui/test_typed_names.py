"""Names typed by hand for a user or a movie (a header's double-click, Edit ▸ Rename…, Add User…/Add Movie…)
lose the blank characters at their ends, and a name the grid already shows is refused as a duplicate: a zero-width
space (a name copied from a web page) after "Alice" made a second Alice, and on MovieLens, whose movies are
labelled by id and shown by title, "Heat (1995) " made a second Heat (1995)."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from cfexplorer.core.edits import ITEMS, USERS

from .test_grid import cell_index

ZERO_WIDTH_SPACE = "\u200b"


class TypedNames:
    """QInputDialog.getText as a person answers it: what each dialog asked, and the text typed into it."""

    def __init__(self, monkeypatch):
        self.asked: list[str] = []
        self.typed = ""
        monkeypatch.setattr(QInputDialog, "getText", staticmethod(self._answer))

    def _answer(self, parent, title, label, *args, **kwargs):
        self.asked.append(f"{title}: {label}")
        return self.typed, True


def double_click_header(qtbot, window, axis: int, name: str):
    """Double-click the grid's header section of the user or movie the grid shows as ``name``."""
    position = window.table.names(axis).index(name)
    if axis == window.table.column_axis:
        header = window.grid.horizontalHeader()
        section = window.proxy.mapFromSource(window.table.index(0, position)).column()
    else:
        header = window.grid.verticalHeader()
        section = window.proxy.mapFromSource(window.table.index(position, 0)).row()
    middle = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    across = header.height() // 2 if header.orientation() == Qt.Orientation.Horizontal else header.width() // 2
    at = QPoint(middle, across) if header.orientation() == Qt.Orientation.Horizontal else QPoint(across, middle)
    # as a mouse does it: a click, then the double-click (qtbot.mouseDClick alone sends no click before it)
    for event in (qtbot.mousePress, qtbot.mouseRelease, qtbot.mouseDClick, qtbot.mouseRelease):
        event(header.viewport(), Qt.MouseButton.LeftButton, pos=at)


def users(window):
    return [str(label) for label in window.table.ratings.user_labels]


def test_a_typed_users_name_loses_its_blank_ends_and_may_not_copy_another(qtbot, window, monkeypatch):
    dialogs = TypedNames(monkeypatch)
    stack = window.undo_stack
    assert users(window) == ["Alice", "Bob", "Carol", "Dave"]

    dialogs.typed = "Alice" + ZERO_WIDTH_SPACE  # copied from a web page
    double_click_header(qtbot, window, USERS, "Bob")
    assert dialogs.asked == ["Rename user: New name for “Bob”:"]
    assert window.message_bar.text == "There is already a user called “Alice”."
    assert users(window) == ["Alice", "Bob", "Carol", "Dave"] and stack.count() == 0

    for typed in ("Alice ", " Alice", "Alice\t", ZERO_WIDTH_SPACE + "Alice"):  # Edit ▸ Add User…
        window.message_bar.dismiss_error()
        dialogs.typed = typed
        window.act_add_user.trigger()
        assert window.message_bar.text == "There is already a user called “Alice”.", repr(typed)
    assert users(window) == ["Alice", "Bob", "Carol", "Dave"] and stack.count() == 0

    dialogs.typed = " " + ZERO_WIDTH_SPACE
    window.act_add_user.trigger()
    assert window.message_bar.text == "A user needs a name."
    double_click_header(qtbot, window, USERS, "Bob")  # a blank new name changes nothing, as before
    assert dialogs.asked[-1] == "Rename user: New name for “Bob”:"
    assert users(window) == ["Alice", "Bob", "Carol", "Dave"] and stack.count() == 0

    dialogs.typed = " Eve " + ZERO_WIDTH_SPACE
    double_click_header(qtbot, window, USERS, "Bob")
    assert users(window) == ["Alice", "Eve", "Carol", "Dave"]
    assert window.act_undo.text() == "&Undo Rename user Bob to Eve"
    window.act_undo.trigger()
    assert users(window) == ["Alice", "Bob", "Carol", "Dave"]
    window.act_redo.trigger()
    assert users(window) == ["Alice", "Eve", "Carol", "Dave"]

    dialogs.typed = "Zed" + ZERO_WIDTH_SPACE + " "
    window.act_add_user.trigger()
    assert users(window) == ["Alice", "Eve", "Carol", "Dave", "Zed"]
    window.act_undo.trigger()
    assert users(window) == ["Alice", "Eve", "Carol", "Dave"]
    # Eve as Alice, through Edit ▸ Rename User… on one of her cells
    window.grid.setCurrentIndex(cell_index(window, "Eve", "Love at last")[0])
    dialogs.typed = "Alice" + ZERO_WIDTH_SPACE
    window.act_rename_user.trigger()
    assert window.message_bar.text == "There is already a user called “Alice”."
    assert users(window) == ["Alice", "Eve", "Carol", "Dave"]


@pytest.fixture
def movielens(tmp_path, window):
    """Movies labelled by id (1, 2, 3), shown by their titles."""
    rows = [f"{user},{movie},{(user + movie) % 5 + 1}" for user in range(1, 4) for movie in (1, 2, 3)]
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating\n" + "\n".join(rows) + "\n")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n1,Hamlet (1996),Drama\n2,Heat (1995),Action\n"
                                         "3,Clue (1985),Comedy\n")
    assert window.open_file(tmp_path / "ratings.csv", confirm=False)
    assert window.table.names(ITEMS) == ["Hamlet (1996)", "Heat (1995)", "Clue (1985)"]
    return window


def test_a_typed_movie_title_loses_its_blank_ends_and_may_not_copy_another(qtbot, movielens, monkeypatch):
    window = movielens
    dialogs = TypedNames(monkeypatch)
    stack = window.undo_stack
    shown = ["Hamlet (1996)", "Heat (1995)", "Clue (1985)"]

    dialogs.typed = "Heat (1995) "
    double_click_header(qtbot, window, ITEMS, "Clue (1985)")
    assert dialogs.asked == ["Rename movie: New name for “Clue (1985)”:"]
    assert window.message_bar.text == "There is already a movie called “Heat (1995)”."
    window.act_add_movie.trigger()
    assert window.message_bar.text == "There is already a movie called “Heat (1995)”."
    assert window.table.names(ITEMS) == shown and stack.count() == 0

    dialogs.typed = "1"  # Hamlet's id: the grid shows no movie called 1
    window.act_add_movie.trigger()
    assert window.message_bar.text == "There is already a movie with the id “1”: “Hamlet (1996)”."
    assert window.table.names(ITEMS) == shown and stack.count() == 0

    window.message_bar.dismiss_error()
    dialogs.typed = "Clue (1985)"  # OK on the name as it was
    double_click_header(qtbot, window, ITEMS, "Clue (1985)")
    assert len(dialogs.asked) == 4 and window.message_bar.text == "" and stack.count() == 0

    dialogs.typed = " Jaws (1975) "
    double_click_header(qtbot, window, ITEMS, "Clue (1985)")
    assert window.table.names(ITEMS) == ["Hamlet (1996)", "Heat (1995)", "Jaws (1975)"]
    window.act_undo.trigger()
    assert window.table.names(ITEMS) == shown
    window.act_redo.trigger()
    assert window.table.names(ITEMS) == ["Hamlet (1996)", "Heat (1995)", "Jaws (1975)"]


def test_ok_on_a_files_name_with_a_space_at_its_end_changes_nothing(qtbot, window, monkeypatch, tmp_path):
    """" Alice" beside "Alice" in a file are kept apart as written; OK in the rename dialog on " Alice" as it was
    refused it as a duplicate of Alice."""
    (tmp_path / "spaced.csv").write_text('user,movie,rating\n" Alice",m1,3\nAlice,m1,4\nBob,m2,2\n')
    assert window.open_file(tmp_path / "spaced.csv", confirm=False)
    assert window.table.names(USERS) == [" Alice", "Alice", "Bob"]
    window.message_bar.dismiss_error()
    dialogs = TypedNames(monkeypatch)
    dialogs.typed = " Alice"  # the dialog's text, as it opened
    double_click_header(qtbot, window, USERS, " Alice")
    assert dialogs.asked == ["Rename user: New name for “ Alice”:"]
    assert "already" not in window.message_bar.text and window.undo_stack.count() == 0


def test_a_double_click_on_a_column_header_renames_and_leaves_the_rows_order(qtbot, window, monkeypatch):
    """A double-click on a user's column header to rename her sorted the rows by her ratings too: its first
    click is a header's click, which sorts."""
    dialogs = TypedNames(monkeypatch)
    window.resize(1280, 720)  # every column in view whole (a press on one cut at the view's edge scrolls it in
    qtbot.wait(50)  # under the mouse, and Qt then says no click)
    order = [window.proxy.headerData(row, Qt.Orientation.Vertical) for row in range(window.proxy.rowCount())]
    dialogs.typed = "Carla"
    double_click_header(qtbot, window, USERS, "Carol")
    assert users(window) == ["Alice", "Bob", "Carla", "Dave"]
    assert [window.proxy.headerData(row, Qt.Orientation.Vertical) for row in range(window.proxy.rowCount())] == order
    assert window.proxy.sort_key == "original"
    # a single click still sorts by the column, and a double-click then leaves that order as it was
    header = window.grid.horizontalHeader()
    # Alice's column, in view whole (a click on one cut at the view's edge scrolls it in under the mouse: no click)
    section = window.proxy.mapFromSource(window.table.index(0, window.table.names(USERS).index("Alice"))).column()
    at = QPoint(header.sectionViewportPosition(section) + header.sectionSize(section) // 2, header.height() // 2)
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 50)  # a click of its own
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert window.proxy.sort_key == "column" and window.proxy.sortColumn() == section
    by_alice = [window.proxy.headerData(row, Qt.Orientation.Vertical) for row in range(window.proxy.rowCount())]
    assert by_alice != order
    qtbot.wait(QApplication.styleHints().mouseDoubleClickInterval() + 50)  # not a double-click with it
    dialogs.typed = "Carol"
    double_click_header(qtbot, window, USERS, "Carla")
    assert users(window) == ["Alice", "Bob", "Carol", "Dave"]
    assert [window.proxy.headerData(row, Qt.Orientation.Vertical) for row in range(window.proxy.rowCount())] == by_alice
