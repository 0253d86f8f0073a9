"""The factor space between documents and under the mouse: the hover box leaves with the mouse, and a new
document starts from a clean view (nothing of the previous one stays on screen or in a cache)."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from cfexplorer.core.edits import ITEMS
from cfexplorer.core.embedding import ITEM_KIND
from cfexplorer.ui.factor_space import NO_MODEL_TEXT

FINISH_MS = 60_000
MOUSE_SETTLE_MS = 80  # the plot reads mouse moves through a 30-per-second rate limiter


@pytest.fixture
def trained(qtbot, window):
    window.open_preset("planted")
    window.factor_dock.raise_()
    window.training_panel.epochs.setValue(60)
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    view = window.factor_space
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == 60)
    return window


def point_position(view, kind, index) -> QPoint:
    at = view.plot.mapFromScene(view.plot.scene_position_of(kind, index))
    return QPoint(int(at.x()), int(at.y()))


def hover(qtbot, view, kind, index):
    QTest.mouseMove(view.plot.viewport(), point_position(view, kind, index))
    qtbot.wait(MOUSE_SETTLE_MS)


def hover_text(view) -> str:
    return view.plot.hover_text.textItem.toPlainText() if view.plot.hover_text.isVisible() else ""


def test_the_hover_box_goes_when_the_mouse_leaves_the_plot(qtbot, trained):
    view = trained.factor_space
    name = str(view.embedding.items.names[3])
    hover(qtbot, view, ITEM_KIND, 3)
    assert name in hover_text(view)
    QTest.mouseMove(trained.grid.viewport(), QPoint(5, 5))
    qtbot.wait(MOUSE_SETTLE_MS)
    assert hover_text(view) == "" and view.plot.hovered == ("", -1)
    hover(qtbot, view, ITEM_KIND, 3)  # and it comes back when the mouse does
    assert name in hover_text(view)


def test_a_move_delivered_late_by_the_rate_limiter_does_not_bring_the_box_back(qtbot, trained):
    view = trained.factor_space
    hover(qtbot, view, ITEM_KIND, 1)
    QTest.mouseMove(view.plot.viewport(), point_position(view, ITEM_KIND, 5))  # still held by the limiter...
    QTest.mouseMove(view.status, QPoint(2, 2))  # ...when the mouse leaves the plot
    qtbot.wait(MOUSE_SETTLE_MS)
    assert hover_text(view) == ""


def test_reset_takes_the_hover_box_and_the_captions_away(qtbot, trained):
    view = trained.factor_space
    hover(qtbot, view, ITEM_KIND, 2)
    assert hover_text(view) and "epoch 60" in view.status.text() and view.epoch_label.text() == "60 of 60"
    qtbot.mouseClick(trained.training_panel.reset_button, Qt.MouseButton.LeftButton)
    assert view.embedding is None
    assert hover_text(view) == ""
    assert view.status.text() == NO_MODEL_TEXT and view.epoch_label.text() == ""
    assert view.plot.getAxis("bottom").labelText == "" and view.plot.getAxis("left").labelText == ""
    assert not view.replay.isEnabled()


def test_a_new_document_starts_from_a_clean_view(qtbot, trained):
    view = trained.factor_space
    view.labels_by.setCurrentIndex(view.labels_by.findData("count"))
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=point_position(view, ITEM_KIND, 4))
    view.replay.setValue(10)  # replaying epoch 10 of the old run (frame 0 is epoch 0)
    hover(qtbot, view, ITEM_KIND, 6)
    assert list(view.selection[ITEM_KIND]) == [4] and len(view.plot.highlight.getData()[0]) == 1
    assert view.plot.label_texts() and hover_text(view) and view.epoch_label.text() == "10 of 60"
    assert view.search.completer().model().rowCount() == 0  # named when the Find box is first used
    qtbot.mouseClick(view.search, Qt.MouseButton.LeftButton)
    assert view.search.completer().model().rowCount() == len(view.embedding.items) + len(view.embedding.users)

    view.reset_for_new_document()  # what the window does when another file, preset or lesson opens

    assert view.embedding is None and view.frames == []
    assert hover_text(view) == "" and view.plot.hovered == ("", -1)
    assert len(view.plot.highlight.getData()[0]) == 0 and all(len(v) == 0 for v in view.selection.values())
    assert view.plot.label_texts() == []
    assert not view.replay.isEnabled() and view.replay.maximum() == 0 and view.epoch_label.text() == ""
    assert view.status.text() == NO_MODEL_TEXT
    assert view.plot.getAxis("bottom").labelText == ""
    assert view.search.completer().model().rowCount() == 0
    assert view.neighbours.topLevelItemCount() == 0
    # the user's choices of how to look stay
    assert view.labels_by.currentData() == "count"

    # the next document's model is drawn afresh: its own frames, its own points, nothing selected
    trained.open_preset("course")
    trained.training_panel.epochs.setValue(30)
    with qtbot.waitSignal(trained.training_panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(trained.training_panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == 30)
    assert len(view.coordinates(ITEM_KIND)) == 5 and view.replay.maximum() == 30  # frames of epochs 0 to 30
    assert all(len(v) == 0 for v in view.selection.values())


def test_a_new_document_forgets_the_t_sne_of_the_previous_one(qtbot, trained):
    view = trained.factor_space
    view.projection.setCurrentIndex(view.projection.findData("tsne"))
    qtbot.waitUntil(lambda: not view.layout_job.running, timeout=FINISH_MS)
    assert "t-SNE 1" in view.plot.getAxis("bottom").labelText
    view.reset_for_new_document()
    view.set_ratings(trained.table.ratings)
    view.show_model(trained.training_panel.model.predictor(), trained.table.ratings)  # the same numbers again
    assert view.layout_job.running, "a new document's points get their own t-SNE, not the cached one"
    assert "PC1" in view.plot.getAxis("bottom").labelText  # PCA while it computes
    qtbot.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)  # cancel
    assert not view.layout_job.running


def test_reset_before_the_first_frame_ends_the_run_for_the_view(qtbot, window, tmp_path):
    """Reset stops a run without its last signal; the view must not think it still trains (it would never
    start a t-SNE again, nor replay)."""
    window.open_preset("planted")
    window.factor_dock.raise_()
    panel, view = window.training_panel, window.factor_space
    panel.epochs.setValue(1000)
    panel.pace.setCurrentText("3 epochs/s")
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    factors = tmp_path / "factors.npz"
    np.savez(factors, item_factors=np.random.default_rng(0).normal(size=(10, 3)),
             item_names=np.array(window.table.ratings.item_titles(), dtype=str))
    assert view.import_factors(str(factors))
    view.projection.setCurrentIndex(view.projection.findData("tsne"))
    assert view.layout_job.running
    qtbot.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)


def test_a_lesson_step_selecting_a_movie_that_was_removed_selects_nothing(qtbot, window):
    """Lesson 6 ends by selecting movie 10 (the first new release); a student who removed movies first gets no
    selection instead of an error."""
    assert window.start_lesson(5)
    window.grid.select_entries(ITEMS, [9, 10, 11, 12])
    assert window.remove_selected(ITEMS) and window.table.ratings.n_items == 9
    window.training_panel.epochs.setValue(20)
    for _ in range(2):  # trained on every rating, then on the movies the density filter keeps
        with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=FINISH_MS):
            qtbot.mouseClick(window.lesson_panel.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.lesson_panel.next_button, Qt.MouseButton.LeftButton)
    view = window.factor_space
    qtbot.waitUntil(lambda: view.embedding is not None)
    assert len(view.selection[ITEM_KIND]) == 0
    assert "Select a movie" in view.one_hot_text.toPlainText()


def test_edits_made_during_a_lesson_stay_unsaved_after_next(qtbot, window):
    assert window.start_lesson(0)
    assert not window.isWindowModified()  # what the lesson set up is not the user's work
    window.add_movie("My own movie")
    assert window.isWindowModified()
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(window.lesson_panel.next_button, Qt.MouseButton.LeftButton)
    assert window.isWindowModified() and window.has_unsaved_changes
