"""The factor space as a user works it: train, look, click, select in the grid, replay, export."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication

from cfexplorer.core.embedding import ITEM_KIND, USER_KIND, nearest_neighbours, ranked
from cfexplorer.io.factors import read_factors
from cfexplorer.ui.factor_panels import NO_MODEL_TEXT

from .run_end import train_with_a_slot_after_the_windows_at_the_end

FINISH_MS = 60_000


def train_in_front(qtbot, window):
    """Click Train with the factor space's tab in front; the view once the run has ended."""
    window.factor_dock.raise_()
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    return window.factor_space


@pytest.fixture
def trained(qtbot, window):
    window.open_preset("planted")
    view = train_in_front(qtbot, window)
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == 300)
    return window


def click_point(qtbot, view, kind, index, modifier=Qt.KeyboardModifier.NoModifier):
    scene = view.plot.scene_position_of(kind, index)
    at = view.plot.mapFromScene(scene)
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, modifier, QPoint(at.x(), at.y()))


def open_side_tab(qtbot, view, title):
    """Click the factor space's side tab with this title (a side panel is filled when it is in front)."""
    bar = view.side_tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert view.side_tabs.currentIndex() == index


def test_training_fills_the_factor_space_and_pca_separates_the_tastes(trained):
    view = trained.factor_space
    taste = np.asarray(trained.table.ratings.item_info["taste"])
    x = view.coordinates(ITEM_KIND)[:, 0]
    assert len(x) == trained.table.ratings.n_items
    assert len({tuple(set(np.sign(x[taste == t]))) for t in np.unique(taste)}) == 2
    assert all(len(set(np.sign(x[taste == t]))) == 1 for t in np.unique(taste))
    assert "PC1" in view.plot.getAxis("bottom").labelText and "variance" in view.plot.axis_title("bottom")


def test_clicking_a_point_selects_that_movie_in_the_grid(qtbot, trained):
    view, grid = trained.factor_space, trained.grid
    click_point(qtbot, view, ITEM_KIND, 3)
    assert list(view.selection[ITEM_KIND]) == [3]
    assert grid.selected_entries(1) == [3]  # the movie's whole row, in movies x users layout
    assert set(grid.selected_entries(0)) == set(range(trained.table.ratings.n_users))
    click_point(qtbot, view, ITEM_KIND, 5, Qt.KeyboardModifier.ControlModifier)
    assert list(view.selection[ITEM_KIND]) == [3, 5] and grid.selected_entries(1) == [3, 5]


def test_selecting_in_the_grid_highlights_the_point(qtbot, trained):
    view, table = trained.factor_space, trained.table
    trained.grid.select_entries(1, [2])  # a movie row
    assert list(view.selection[ITEM_KIND]) == [2] and len(view.selection[USER_KIND]) == 0
    highlighted = np.column_stack(view.plot.highlight.getData())
    np.testing.assert_allclose(highlighted, view.coordinates(ITEM_KIND)[[2]])
    cell = trained.proxy.mapFromSource(table.index(*table.position(4, 6)))
    trained.grid.setCurrentIndex(cell)  # one cell: its user and its movie
    assert list(view.selection[ITEM_KIND]) == [6] and list(view.selection[USER_KIND]) == [4]


def test_rubber_band_selects_the_points_inside(qtbot, trained):
    from PySide6.QtCore import QRectF

    view = trained.factor_space
    xy = view.coordinates(ITEM_KIND)
    left = xy[:, 0] < 0
    rect = QRectF(xy[:, 0].min() - 1, xy[:, 1].min() - 1, 1 - xy[:, 0].min(), np.ptp(xy[:, 1]) + 2)
    view.plot.view_box.sig_rect_selected.emit(rect, False)
    assert list(view.selection[ITEM_KIND]) == list(np.flatnonzero(left))
    assert trained.grid.selected_entries(1) == list(np.flatnonzero(left))


def test_hover_names_the_movie_with_its_numbers(qtbot, trained):
    view = trained.factor_space
    table = view.embedding.items
    kind, index = view.plot.point_at(view.plot.scene_position_of(ITEM_KIND, 4))
    assert (kind, index) in {(ITEM_KIND, 4)} or np.allclose(view.coordinates(ITEM_KIND)[index],
                                                             view.coordinates(ITEM_KIND)[4])
    view._on_hover(ITEM_KIND, 4)
    text = view.plot.hover_text.textItem.toPlainText()
    assert str(table.names[4]) in text and f"{int(table.counts[4])} ratings" in text
    assert f"mean rating {table.means[4]:.2f}" in text and "bias" in text


def test_neighbours_and_bias_rankings_come_from_the_model_arrays(qtbot, trained):
    view = trained.factor_space
    model = trained.training_panel.model
    click_point(qtbot, view, ITEM_KIND, 0)
    rows = [view.neighbours.topLevelItem(r) for r in range(view.neighbours.topLevelItemCount())]
    expected, distances = nearest_neighbours(model.item_factors_, [0], 10, "cosine")
    names = trained.table.ratings.item_titles()
    assert [row.text(0) for row in rows] == [names[i] for i in expected]
    assert [row.text(1) for row in rows] == [f"{d:.4f}" for d in distances]
    view.neighbour_metric.setCurrentText("euclidean")
    expected, _ = nearest_neighbours(model.item_factors_, [0], 10, "euclidean")
    assert [view.neighbours.topLevelItem(r).text(0) for r in range(len(expected))] == [names[i] for i in expected]
    best, worst = ranked(model.user_bias_, 8)
    open_side_tab(qtbot, view, "Biases")
    shown_names, values, _ = zip(*bias_rankings_shown(view))
    users = trained.table.ratings.user_labels
    assert shown_names.index(str(users[best[0]])) < shown_names.index("Lowest user bias")
    assert f"{model.user_bias_[best[0]]:+.3f}" in values and f"{model.user_bias_[worst[0]]:+.3f}" in values
    assert view.bias_note.text() == "This model learned no movie bias."  # the course model has user biases only


def bias_rankings_shown(view) -> list[tuple[str, str, str]]:
    """The Biases tab's rows as shown: a ranking's title, then its rows' name, value and number of ratings."""
    rankings = view.bias_rankings
    return [tuple(rankings.topLevelItem(row).text(column) for column in range(3))
            for row in range(rankings.topLevelItemCount())]


def test_a_long_title_in_the_bias_rankings_stays_on_its_line_beside_its_numbers(qtbot, window, tmp_path):
    """In a narrow pane the Biases tab wrapped "Three Billboards Outside Ebbing, Missouri (2017)" onto five
    lines beside one number, and the rankings' columns no longer lined up."""
    long_title = "Three Billboards Outside Ebbing, Missouri (2017)"
    titles = [long_title, "Heat (1995)", "Clue (1985)", "Jaws (1975)", "Alien (1979)", "Fargo (1996)"]
    rows = [f"{user},{movie},{(user + movie) % 5 + 1}"
            for user in range(1, 13) for movie in range(1, len(titles) + 1)]
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating\n" + "\n".join(rows) + "\n")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n" + "".join(
        f'{movie},"{title}",Drama\n' for movie, title in enumerate(titles, start=1)))
    assert window.open_file(tmp_path / "ratings.csv", confirm=False)
    movie_bias = window.training_panel.item_bias
    if not movie_bias.isChecked():  # (not learned by default on data this small)
        qtbot.mouseClick(movie_bias, Qt.MouseButton.LeftButton, pos=QPoint(8, movie_bias.height() // 2))  # its box
    assert movie_bias.isChecked()
    view = train_in_front(qtbot, window)
    qtbot.waitUntil(lambda: view.embedding is not None and len(view.embedding.items) == len(titles))
    open_side_tab(qtbot, view, "Biases")
    splitter = view.side_tabs.parentWidget()  # dragged to leave the side tabs a narrow pane
    splitter.setSizes([sum(splitter.sizes()) - 220, 220])
    qtbot.waitUntil(lambda: view.side_tabs.width() <= 230)

    rankings = view.bias_rankings
    names = [name for name, _, _ in bias_rankings_shown(view)]
    first = names.index("Highest movie bias") + 1
    long_row = rankings.topLevelItem(names.index(long_title, first))  # every movie is listed: there are six
    header, metrics = rankings.header(), rankings.fontMetrics()
    assert metrics.horizontalAdvance(long_title) > header.sectionSize(0)  # too long for the pane's width
    one_line = metrics.lineSpacing() * 3 // 2
    for row in range(rankings.topLevelItemCount()):
        item = rankings.topLevelItem(row)
        assert rankings.visualItemRect(item).height() < one_line, item.text(0)
    assert long_row.toolTip(0) == long_title
    movies = view.embedding.items
    bias = movies.bias[list(movies.names).index(long_title)]
    assert long_row.text(1) == f"{bias:+.3f}" and long_row.text(2) == "12"
    # the numbers in their columns, in view beside the names, right-aligned
    assert header.sectionViewportPosition(2) + header.sectionSize(2) <= rankings.viewport().width()
    assert rankings.horizontalScrollBar().maximum() == 0
    right = Qt.AlignmentFlag.AlignRight
    for row in range(first, names.index("Lowest movie bias")):
        item = rankings.topLevelItem(row)
        assert item.textAlignment(1) & right and item.textAlignment(2) & right, item.text(0)


def test_the_bias_rankings_stay_where_the_reader_scrolled_to_when_a_point_is_selected(qtbot, trained):
    """Filled again at every selection (and every frame of a run), the Biases tab jumped back to its top."""
    view = trained.factor_space
    open_side_tab(qtbot, view, "Biases")
    bar = view.bias_rankings.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)  # to the principal components' ends, say
    scrolled = bar.value()
    click_point(qtbot, view, ITEM_KIND, 3)
    assert list(view.selection[ITEM_KIND]) == [3]
    assert bar.value() == scrolled


def test_one_hot_panel_shows_the_lookup_equals_the_product(qtbot, trained):
    view = trained.factor_space
    click_point(qtbot, view, ITEM_KIND, 2)
    open_side_tab(qtbot, view, "One-hot × W")
    text = view.one_hot_text.toPlainText()
    assert "is movie 2 of 10" in text and "= row 2 of X: yes" in text


def test_search_finds_and_selects_a_user(qtbot, trained):
    view = trained.factor_space
    qtbot.keyClicks(view.search, "action fan 2")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    users = list(trained.table.ratings.user_labels)
    assert list(view.selection[USER_KIND]) == [users.index("Action fan 2")]
    assert USER_KIND in view.plot.visible_kinds  # users were switched on to show the match
    assert trained.grid.selected_entries(0) == [users.index("Action fan 2")]


def test_the_find_box_completes_names_as_they_are_typed(qtbot, trained):
    view = trained.factor_space
    qtbot.mouseClick(view.search, Qt.MouseButton.LeftButton)  # the names go into the completer now
    qtbot.keyClicks(view.search, "fan 2")
    completer = view.search.completer()
    found = {completer.completionModel().index(row, 0).data() for row in range(completer.completionCount())}
    assert "Action fan 2" in found and all("fan 2" in name.lower() for name in found)


def test_raw_factor_axes_and_colour_choices(qtbot, trained):
    view = trained.factor_space
    view.projection.setCurrentIndex(view.projection.findData("factors"))
    np.testing.assert_allclose(view.coordinates(ITEM_KIND), trained.training_panel.model.item_factors_[:, [0, 1]])
    view.y_axis.setValue(1)
    np.testing.assert_allclose(view.coordinates(ITEM_KIND)[:, 1], trained.training_panel.model.item_factors_[:, 0])
    view.colour_by.setCurrentIndex(view.colour_by.findData("cluster"))
    view.clusters.setValue(2)
    labels = view.cluster_labels(ITEM_KIND)
    taste = np.asarray(trained.table.ratings.item_info["taste"])
    assert len({(a, b) for a, b in zip(labels, taste)}) == 2
    brushes = view.plot.scatters[ITEM_KIND].data["brush"]
    assert len({brushes[i].color().name() for i in range(len(brushes))}) == 2
    view.labels_by.setCurrentIndex(view.labels_by.findData("count"))
    view.label_count.setValue(3)
    counts = trained.table.ratings.item_counts()
    assert set(view.plot.label_texts()) >= {trained.table.ratings.item_titles()[i] for i in ranked(counts, 3)[0]}


def test_points_move_during_training_and_the_slider_replays_epochs(qtbot, window):
    window.open_preset("planted")
    window.factor_dock.raise_()
    panel, view = window.training_panel, window.factor_space
    panel.pace.setCurrentText("100 epochs/s")
    panel.epochs.setValue(60)
    seen = []
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.embedding is not None and 5 < view.embedding.epoch < 50, timeout=FINISH_MS)
        seen.append(view.coordinates(ITEM_KIND).copy())
        assert not view.replay.isEnabled()  # no replay while training
    qtbot.waitUntil(lambda: view.embedding.epoch == 60)  # the run's last frame, drawn on a pass of its own
    seen.append(view.coordinates(ITEM_KIND).copy())
    assert not np.allclose(seen[0], seen[1])  # the points moved
    # one frame per epoch on small data, from epoch 0 (the random starting factors)
    assert view.replay.isEnabled() and view.replay.maximum() == 60
    view.replay.setValue(0)
    assert view.embedding.epoch == 0 and view.epoch_label.text() == "0 of 60"
    early = view.coordinates(ITEM_KIND).copy()
    view.replay.setValue(60)
    assert view.embedding.epoch == 60
    assert not np.allclose(early, view.coordinates(ITEM_KIND))
    window.add_movie("A new movie")  # the run's snapshots have one movie too few now
    view.replay.setValue(10)
    assert view.embedding.epoch == 60 and len(view.coordinates(ITEM_KIND)) == window.table.ratings.n_items - 1


def test_export_image_and_factors_and_import_them_back(qtbot, trained, tmp_path):
    view = trained.factor_space
    view.export_image(str(tmp_path / "view.png"))
    view.export_image(str(tmp_path / "view.svg"))
    assert (tmp_path / "view.png").stat().st_size > 1000 and "<svg" in (tmp_path / "view.svg").read_text()
    # large enough for a slide, with the legend under the plot (it was a grab of the plot alone, 330 x 180)
    from PySide6.QtGui import QImage

    from cfexplorer.ui.factor_files import EXPORT_LEAST_WIDTH
    from cfexplorer.ui.image_export import MAX_SCALE

    image = QImage(str(tmp_path / "view.png"))
    scale = min(max(1.0, EXPORT_LEAST_WIDTH / view.plot.width()), MAX_SCALE)
    assert image.width() >= round(view.plot.width() * scale) >= min(EXPORT_LEAST_WIDTH, 4 * view.plot.width())
    assert view.legend.isVisible() and image.height() == round((view.plot.height() + view.legend.height()) * scale)
    view.export_factors(str(tmp_path / "factors.csv"))
    exported = read_factors(tmp_path / "factors.csv")
    np.testing.assert_allclose(exported.items.factors, trained.training_panel.model.item_factors_, rtol=1e-5)
    assert list(exported.users.names) == list(trained.table.ratings.user_labels)
    trained.training_panel.reset()
    assert view.embedding is None  # Reset forgets the trained factors
    assert view.import_factors(str(tmp_path / "factors.csv"))
    assert view.embedding.source == "factors.csv" and len(view.coordinates(ITEM_KIND)) == 10
    click_point(qtbot, view, ITEM_KIND, 1)  # imported factors link to the grid by name
    assert trained.grid.selected_entries(1) == [1]


def test_the_exported_view_draws_its_axes_numbers_and_points_at_its_own_scale(qtbot, trained, tmp_path):
    """The export had the screen's cached pixels of the axes and of the points blown up four times: blocky,
    jagged numbers and soft points beside the sharp legend; the SVG had the axes as bitmaps."""
    from .on_a_screen import plot_tick_labels
    from .test_training import assert_sharp_tick_labels

    view = trained.factor_space
    view.export_image(str(tmp_path / "view.png"))
    labels = [label for axis in plot_tick_labels("factor", view.plot.getPlotItem()) for label in axis["labels"]]
    from PySide6.QtGui import QImage

    # the legend below the plot, wider than it at 1280 x 720: the picture is as wide as the legend's text
    scale = QImage(str(tmp_path / "view.png")).height() / (view.plot.height() + view.legend.height())
    assert_sharp_tick_labels(tmp_path / "view.png", view.plot, labels, scale)
    # and the points: a point's left edge, along the row through its centre, is the screen's pixel blown up
    # when its outermost four pixels (at four times the screen's scale) are one value
    picture = QImage(str(tmp_path / "view.png")).convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(picture.constBits(), np.uint8).reshape(picture.height(), picture.bytesPerLine())
    assert scale == pytest.approx(4.0)
    for index in range(5):
        centre = view.plot.mapFromScene(view.plot.scene_position_of(ITEM_KIND, index))
        row = pixels[int(centre.y() * scale), :int(centre.x() * scale)]
        edge = np.flatnonzero(row >= 245)[-1] + 1  # walking left from the centre, the last pixel before white
        assert len(set(row[edge:edge + 4].tolist())) > 1, (index, row[edge:edge + 8])
    view.export_image(str(tmp_path / "view.svg"))
    svg = (tmp_path / "view.svg").read_text()
    assert all(f">{label['text']}<" in svg for label in labels)  # the numbers as text, not in a bitmap


def test_a_bad_factor_file_is_reported_and_changes_nothing(qtbot, trained, tmp_path):
    view = trained.factor_space
    before = view.embedding
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,name,f1\nmovie,x,not-a-number\n")
    messages = []
    view.sig_message.connect(lambda kind, text: messages.append((kind, text)))
    assert not view.import_factors(str(bad))
    assert view.embedding is before and messages[0][0] == "error" and "bad.csv" in messages[0][1]


def test_tsne_runs_in_the_background_and_can_be_cancelled(qtbot, trained, recwarn):
    view = trained.factor_space
    view.projection.setCurrentIndex(view.projection.findData("tsne"))
    assert view.layout_job.running and view.layout_button.text() == "Cancel t-SNE"
    qtbot.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)
    assert not view.layout_job.running and "cancelled" in view.status.text()
    qtbot.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)  # Recompute
    qtbot.waitUntil(lambda: not view.layout_job.running, timeout=60_000)
    assert "t-SNE 1" in view.plot.getAxis("bottom").labelText
    assert np.isfinite(view.coordinates(ITEM_KIND)).all() and len(view.coordinates(ITEM_KIND)) == 10
    # the view fitted to the t-SNE's float32 coordinates in float64: pyqtgraph's range limits overflowed in its
    # comparisons with them ("overflow encountered in cast", nine times)
    assert not [warning for warning in recwarn if issubclass(warning.category, RuntimeWarning)]


def test_pca_standing_in_for_a_tsne_not_computed_yet_is_framed_as_pca(qtbot, trained):
    """A t-SNE's axes span tens; PCA's points, drawn while the next model's t-SNE is not computed yet, must
    not sit squeezed in the middle of them."""
    view, panel = trained.factor_space, trained.training_panel
    view.projection.setCurrentIndex(view.projection.findData("tsne"))
    qtbot.waitUntil(lambda: not view.layout_job.running, timeout=60_000)
    assert "t-SNE 1" in view.plot.getAxis("bottom").labelText
    tsne_width = np.ptp(view.coordinates(ITEM_KIND)[:, 0])
    panel.epochs.setValue(20)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    trained._show_pending_factor_frame(in_passes=False)  # the run's last frame: PCA while its t-SNE is computed
    assert view.plot.getAxis("bottom").labelText.startswith("PC1")
    xy = view.coordinates(ITEM_KIND)
    (left, right), (bottom, top) = view.plot.view_box.viewRange()
    assert left <= xy[:, 0].min() and xy[:, 0].max() <= right and bottom <= xy[:, 1].min() and xy[:, 1].max() <= top
    assert right - left < 3 * np.ptp(xy[:, 0]) < tsne_width  # framed as PCA, not as the t-SNE before it
    view.layout_job.cancel()


def test_a_factor_tab_behind_the_loss_curves_draws_nothing_until_it_comes_to_the_front(qtbot, window):
    window.open_preset("planted")
    window.curves_dock.raise_()
    view = window.factor_space
    drawn = []
    original = view._set_embedding
    view._set_embedding = lambda *args, **kwargs: (drawn.append(args[0]), original(*args, **kwargs))
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    assert [e for e in drawn if e is not None] == []  # training cost the hidden view nothing
    window.factor_dock.raise_()
    qtbot.waitUntil(lambda: view.embedding is not None)
    assert view.embedding.epoch == window.training_panel.model.n_epochs  # the latest model, at once
    np.testing.assert_allclose(view.embedding.items.factors, window.training_panel.model.item_factors_)


def test_training_in_front_moves_the_points_each_frame_and_colours_follow_the_biases(qtbot, window):
    from cfexplorer.ui.factor_space import DIVERGING, _levels

    window.open_preset("planted")
    window.factor_dock.raise_()
    view, panel = window.factor_space, window.training_panel
    panel.item_bias.setChecked(True)  # movies have a bias to colour by (the preset trains without one)
    view.colour_by.setCurrentIndex(view.colour_by.findData("bias"))
    panel.epochs.setValue(150)
    panel.pace.setCurrentText("100 epochs/s")  # about 1.5 s: several live frames
    scatter = view.plot.scatters[ITEM_KIND]
    drawn_afresh, frames = [], []
    set_data = scatter.setData
    scatter.setData = lambda *args, **kwargs: (drawn_afresh.append(1), set_data(*args, **kwargs))[1]
    set_points = view.plot.set_points
    view.plot.set_points = lambda *args: (frames.append(args[0]), set_points(*args))[1]
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == 150)
    assert frames.count(ITEM_KIND) >= 4  # live frames while training, the last one included
    assert drawn_afresh == [1]  # only the first frame built the points; the others moved them
    bias = view.embedding.items.bias
    assert view.colour_by.currentData() == "bias" and np.any(bias != 0)
    limit = np.max(np.abs(bias))
    expected = _levels(bias, -limit, limit)
    assert all(scatter.data["brush"][i] is DIVERGING[expected[i]] for i in range(len(bias)))
    np.testing.assert_array_equal(np.column_stack([scatter.data["x"], scatter.data["y"]]),
                                  view.coordinates(ITEM_KIND))


def test_reset_while_a_frame_waits_to_be_drawn_leaves_the_factor_space_empty(qtbot, window):
    from cfexplorer.app import GRID_REFRESH_MS

    window.open_preset("planted")
    window.factor_dock.raise_()
    panel, view = window.training_panel, window.factor_space
    panel.epochs.setValue(1000)
    panel.pace.setCurrentText("30 epochs/s")
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.embedding is not None, timeout=5000)  # live frames are being drawn
    qtbot.waitUntil(lambda: window._pending_factor_frame is not None, timeout=5000)  # and one is due
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    qtbot.wait(2 * GRID_REFRESH_MS)
    assert view.embedding is None and window.table.predictor is None
    assert not panel.controller.is_active


def test_the_factor_space_brought_forward_as_a_run_ends_shows_the_runs_last_frame(qtbot, window):
    """A run's last frame is drawn on the event loop's pass after the grid's; bringing the factor space
    forward before that pass (a lesson's Next, a click queued behind the run's end) must show that frame,
    not the one before it."""
    window.open_preset("course")
    window.curves_dock.raise_()
    panel, view = window.training_panel, window.factor_space
    panel.epochs.setValue(40)
    frame_due = []

    def bring_forward_at_once(*_):
        frame_due.append(window._pending_factor_frame is not None)
        window.factor_dock.raise_()

    train_with_a_slot_after_the_windows_at_the_end(qtbot, panel, bring_forward_at_once)
    assert frame_due == [True]  # the last frame was due on the next pass when the view came forward
    assert view.embedding is not None and view.embedding.epoch == 40
    np.testing.assert_array_equal(view.embedding.items.factors, panel.model.item_factors_)


def test_a_runs_last_frame_waits_for_a_later_turn_of_the_event_loop_than_the_runs_end(qtbot, window):
    """Posted in the run end's turn and handled in the same one (a zero-time single shot is a posted event), the
    last frame made one stall with the end (80-95 ms at MovieLens 25M's shape): it waits for a timer's turn."""
    window.open_preset("course")
    window.factor_dock.raise_()
    panel, view = window.training_panel, window.factor_space
    panel.epochs.setValue(30)
    still_due = []

    def handle_what_the_end_posted(*_):
        QApplication.sendPostedEvents()
        still_due.append(window._pending_factor_frame is not None)

    train_with_a_slot_after_the_windows_at_the_end(qtbot, panel, handle_what_the_end_posted)
    assert still_due == [True]
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == 30)
    assert window._pending_factor_frame is None


def paused_run_with_its_first_frame_drawn(qtbot, window):
    """A run started by Step (one epoch more of the model trained before it, then paused: the factor space follows
    a run that sends nothing more), with what it sent drawn: the model trained before it, and the view."""
    panel, view = window.training_panel, window.factor_space
    before = panel.model
    next_epoch = before.history_[-1].epoch + 1
    window.act_step.trigger()
    qtbot.waitUntil(lambda: panel.controller.state == "paused" and panel.model is not before, timeout=5000)
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == next_epoch, timeout=5000)
    qtbot.waitUntil(lambda: window._pending_factor_frame is None and view._live_frame is None, timeout=5000)
    return before, view


def frames_drawn(monkeypatch, view) -> list:
    """The epochs of the embeddings the view draws from now on."""
    drawn = []
    original = view._set_embedding

    def recording(embedding, *args, **kwargs):
        drawn.append(None if embedding is None else embedding.epoch)
        return original(embedding, *args, **kwargs)

    monkeypatch.setattr(view, "_set_embedding", recording)
    return drawn


def test_a_live_frame_is_projected_in_one_pass_and_drawn_in_the_next(qtbot, trained, monkeypatch):
    """A run's frame took its projection and its drawing in one pass (30 ms idle for 59,047 movies, twice that
    beside the worker): the drawing waits for the event loop's next pass, with the projection made for it; a
    frame that comes before that pass is drawn instead of it."""
    from dataclasses import replace

    from cfexplorer.core.embedding import pca

    trained_model, view = paused_run_with_its_first_frame_drawn(qtbot, trained)
    drawn = frames_drawn(monkeypatch, view)
    ratings = trained.table.ratings
    predictor = trained_model.predictor()
    early = replace(predictor, item_factors=predictor.item_factors * 2.0, epoch=500)
    late = replace(predictor, item_factors=predictor.item_factors[::-1].copy(), epoch=501)
    view.show_model(early, ratings)
    assert drawn == [] and view._live_frame is not None  # projected, not drawn in this pass
    view.show_model(late, ratings)  # before the next pass: the one drawn
    qtbot.waitUntil(lambda: drawn == [501])
    qtbot.wait(20)
    assert drawn == [501] and view.embedding.epoch == 501
    expected = pca(late.item_factors, 2, None).coordinates
    shown = view.coordinates(ITEM_KIND)
    # the late frame's own projection (up to each axis's sign), not the early one's
    for axis in range(2):
        np.testing.assert_allclose(np.abs(shown[:, axis]), np.abs(expected[:, axis]), atol=1e-9)


def test_a_live_frame_while_a_t_sne_is_shown_is_drawn_as_pca_not_with_the_last_models_t_sne(qtbot, trained,
                                                                                              monkeypatch):
    """A t-SNE is kept for the model it was computed for: a run's next frame is new factors, drawn as PCA
    (a t-SNE is not computed while training), never with the points of the t-SNE before it."""
    from dataclasses import replace

    from cfexplorer.core.embedding import pca

    trained_model, view = paused_run_with_its_first_frame_drawn(qtbot, trained)
    view.projection.setCurrentIndex(view.projection.findData("tsne"))  # PCA meanwhile: a run is on
    qtbot.mouseClick(view.layout_button, Qt.MouseButton.LeftButton)  # "Recompute t-SNE" of the frame shown
    qtbot.waitUntil(lambda: not view.layout_job.running and "t-SNE" in view.plot.axis_title("bottom"),
                    timeout=60_000)
    drawn = frames_drawn(monkeypatch, view)
    predictor = trained_model.predictor()
    frame = replace(predictor, item_factors=predictor.item_factors[::-1].copy(), epoch=500)
    view.show_model(frame, trained.table.ratings)
    qtbot.waitUntil(lambda: drawn == [500])
    assert view.plot.axis_title("bottom").startswith("PC1")
    expected = pca(frame.item_factors, 2, None).coordinates
    for axis in range(2):
        np.testing.assert_allclose(np.abs(view.coordinates(ITEM_KIND)[:, axis]), np.abs(expected[:, axis]),
                                   atol=1e-9)
    view.layout_job.cancel()


def test_reset_drops_a_live_frame_waiting_to_be_drawn(qtbot, trained, monkeypatch):
    trained_model, view = paused_run_with_its_first_frame_drawn(qtbot, trained)
    drawn = frames_drawn(monkeypatch, view)
    predictor = trained_model.predictor()
    view.show_model(replace_epoch(predictor, 500), trained.table.ratings)
    trained.act_reset.trigger()  # in the same pass: the frame of the run reset must not come back after it
    qtbot.wait(100)
    assert 500 not in drawn and view.embedding is None and view._live_frame is None


def replace_epoch(predictor, epoch):
    from dataclasses import replace

    return replace(predictor, epoch=epoch)


class PaintCounter(QObject):
    def __init__(self, widget):
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_a_frame_is_painted_in_the_event_loops_next_pass(qtbot, trained):
    """A frame's numbers and its paint take a pass of the event loop each, and a click or a key between them is
    seen between them: for MovieLens 25M's 59,047 movies each took 20-30 ms, together over the 50 ms a window
    may stall (benchmarks/bench_25m.py)."""
    view = trained.factor_space
    paints = PaintCounter(view.plot.viewport())
    qtbot.wait(100)  # what was pending is painted
    paints.count = 0
    view.show_model(trained.training_panel.model.predictor(), trained.table.ratings)
    QApplication.sendPostedEvents()  # all that the frame asked for in its own pass
    assert paints.count == 0 and not view.plot.updatesEnabled()
    qtbot.waitUntil(lambda: paints.count > 0, timeout=5000)
    assert view.plot.updatesEnabled()


def test_the_view_follows_a_runs_points_until_the_user_frames_it(qtbot, window):
    """The first frames' range was kept the whole run: the points spread out of it and the plot was empty from
    about epoch 60 to the end. A view zoomed or panned by the user stays where it was put; View All follows again."""
    window.open_preset("planted")
    window.factor_dock.raise_()
    view, panel = window.factor_space, window.training_panel
    panel.epochs.setValue(300)
    panel.pace.setCurrentText("100 epochs/s")
    ranges = []

    def all_in_view():
        xy = np.vstack([view.coordinates(kind) for kind in view._kinds_to_draw(view.embedding)])
        (left, right), (bottom, top) = view.plot.view_box.viewRange()
        return bool(left <= xy[:, 0].min() and xy[:, 0].max() <= right and bottom <= xy[:, 1].min()
                    and xy[:, 1].max() <= top)

    sampler = QTimer()
    sampler.timeout.connect(lambda: view.embedding is not None and view._live_frame is None
                            and ranges.append((view.embedding.epoch, all_in_view())))
    sampler.start(20)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.embedding.epoch == 300)
    sampler.stop()
    assert len({epoch for epoch, _ in ranges}) >= 4 and all(inside for _, inside in ranges), ranges
    assert all_in_view()
    # the user zooms in during a run: its points move on out of the view, which stays where it was put
    panel.epochs.setValue(200)
    panel.pace.setCurrentText("10 epochs/s")
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: 2 <= view.embedding.epoch < 100 and view._live_frame is None,  # this run's frames
                    timeout=FINISH_MS)
    view.plot.view_box.scaleBy((0.1, 0.1))
    view.plot.view_box.sigRangeChangedManually.emit([True, True])  # what a wheel or a drag sends
    zoomed, epoch = view.plot.view_box.viewRange(), view.embedding.epoch
    qtbot.waitUntil(lambda: view.embedding.epoch >= epoch + 3, timeout=FINISH_MS)
    assert view.plot.view_box.viewRange() == zoomed and not all_in_view()
    view.plot.view_box.getMenu().viewAll.trigger()  # View All, from the plot's menu
    assert all_in_view()
    qtbot.waitUntil(lambda: view.embedding.epoch >= epoch + 6, timeout=FINISH_MS)
    assert all_in_view()  # followed again
    view.plot.view_box.scaleBy((0.1, 0.1))
    view.plot.view_box.sigRangeChangedManually.emit([True, True])
    panel.pace.setCurrentText("full speed")
    panel.epochs.setValue(5)
    with qtbot.waitSignal(panel.sig_run_ended, timeout=FINISH_MS):  # a new run: a new picture, followed
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.embedding.epoch == 5)
    assert all_in_view()


def test_the_status_says_pca_stands_in_for_a_t_sne_while_training(qtbot, trained):
    view, panel = trained.factor_space, trained.training_panel
    view.projection.setCurrentIndex(view.projection.findData("tsne"))
    qtbot.waitUntil(lambda: not view.layout_job.running, timeout=60_000)
    assert "t-SNE done" in view.status.text()
    trained.act_step.trigger()  # epoch 301 of the model trained
    qtbot.waitUntil(lambda: panel.controller.state == "paused" and view.embedding.epoch == 301, timeout=5000)
    view.draw_pending_frame()
    assert view.plot.axis_title("bottom").startswith("PC1")
    assert "PCA shown: the t-SNE is computed when training stops" in view.status.text()
    assert "t-SNE done" not in view.status.text()
    panel.stop_button.click()
    view.layout_job.cancel()


def test_a_renamed_movie_is_found_and_labelled_by_its_new_name(qtbot, trained):
    """Its point kept the name it had when trained, Find said there was no such movie, and its point no longer
    selected its row."""
    from cfexplorer.core.edits import ITEMS

    view = trained.factor_space
    items = list(trained.table.ratings.item_titles())
    position = items.index("Action 3")
    assert trained._rename_at(ITEMS, position, "Zorro Returns")
    assert list(view.embedding.items.names)[position] == "Zorro Returns"
    qtbot.keyClicks(view.search, "Zor")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert list(view.selection[ITEM_KIND]) == [position]
    assert trained.grid.selected_entries(ITEMS) == [position]
    assert view.embedding.epoch == 300  # the same model, under the grid's names


def test_removing_a_user_takes_the_trained_factors_down_and_undo_brings_them_back(qtbot, trained):
    """The removed user's point stayed, selected and clickable, and the status still counted them."""
    from cfexplorer.core.edits import USERS, RemoveEntries

    view = trained.factor_space
    users = list(trained.table.ratings.user_labels)
    view.show_choice.setCurrentText("Movies and users")
    click_point(qtbot, view, USER_KIND, users.index("Romance fan 5"))
    assert list(view.selection[USER_KIND]) == [users.index("Romance fan 5")]
    trained.table.request_edit(RemoveEntries(USERS, (users.index("Romance fan 5"),), "Remove 1 user"))
    assert view.embedding is None and not view.plot.visible_kinds
    assert view.status.text() == NO_MODEL_TEXT
    trained.undo_stack.undo()
    qtbot.waitUntil(lambda: view.embedding is not None and len(view.embedding.users) == len(users), timeout=5000)
    assert "Romance fan 5" in list(view.embedding.users.names)


def test_a_completion_clicked_selects_its_point_and_another_selection_empties_the_find_box(qtbot, trained):
    """A name clicked in the completions only filled the box in (Return was still needed), and the box kept the
    name found last when the grid or the plot selected something else."""
    view = trained.factor_space
    qtbot.mouseClick(view.search, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(view.search, "fan 2")
    completer = view.search.completer()
    qtbot.waitUntil(lambda: completer.popup().isVisible())
    popup = completer.popup()
    row = next(r for r in range(completer.completionCount())
               if completer.completionModel().index(r, 0).data() == "Action fan 2")
    popup.setCurrentIndex(completer.completionModel().index(row, 0))
    qtbot.mouseClick(popup.viewport(), Qt.MouseButton.LeftButton, pos=popup.visualRect(popup.currentIndex()).center())
    users = list(trained.table.ratings.user_labels)
    qtbot.waitUntil(lambda: list(view.selection[USER_KIND]) == [users.index("Action fan 2")])
    assert view.search.text() == "Action fan 2"
    click_point(qtbot, view, ITEM_KIND, 0)  # another point, from the plot
    assert list(view.selection[ITEM_KIND]) == [0] and view.search.text() == ""


def test_a_name_not_found_is_said_until_the_next_key(qtbot, trained):
    """The note stayed up through a whole retrain."""
    view = trained.factor_space
    qtbot.keyClicks(view.search, "Zor")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert trained.message_bar.text == "No movie or user named like “Zor”."
    qtbot.keyClick(view.search, Qt.Key.Key_Backspace)
    assert trained.message_bar.text == ""


def test_the_replay_handle_sits_at_the_end_of_a_reopened_model_and_at_the_start_after_reset(qtbot, trained, tmp_path):
    """A reopened project's model (its snapshots are not saved) had the handle at the left under "300"; after
    Reset it sat at the right with nothing shown."""
    view = trained.factor_space
    assert trained.save_to(tmp_path / "trained.cfx")
    assert trained.open_file(tmp_path / "trained.cfx", confirm=False)
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == 300)
    assert not view.replay.isEnabled() and view.replay.value() == view.replay.maximum() == 1
    assert view.epoch_label.text() == "300" and "not saved" in view.replay.toolTip()
    qtbot.mouseClick(trained.training_panel.reset_button, Qt.MouseButton.LeftButton)
    assert view.embedding is None and view.replay.value() == view.replay.maximum() == 0


def test_colouring_by_genre_without_genres_says_why_the_points_are_grey(qtbot, window):
    """Every point went grey with no legend and no word of why."""
    window.open_preset("course")
    view = train_in_front(qtbot, window)
    qtbot.waitUntil(lambda: view.embedding is not None)
    assert view.embedding.items.genres is None
    view.colour_by.setCurrentIndex(view.colour_by.findData("genre"))
    assert "have no genres" in view.legend.text()
    view.show_choice.setCurrentText("Users")
    assert "show movies to colour by genre" in view.legend.text()


def test_an_export_that_cannot_be_written_is_said_not_raised(qtbot, trained, tmp_path, monkeypatch):
    """An OSError from the dialog's slot went up into Qt (PySide6 prints it; the user saw nothing)."""
    from PySide6.QtWidgets import QFileDialog

    view, panel = trained.factor_space, trained.training_panel
    where = str(tmp_path / "no such folder" / "view.png")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (where, ""))
    view.export_image_dialog()
    assert trained.message_bar.text.startswith("Could not export the view:")
    panel.export_dialog()
    assert trained.message_bar.text.startswith("Could not export the curves:")


def test_a_large_frame_is_fitted_to_its_own_points(qtbot, window, monkeypatch):
    """A frame drawn in passes learns its bounds when its picture is done: autoRange fitted the frame before it,
    and on MovieLens' size points were left outside the view after the last epoch."""
    from dataclasses import replace

    from cfexplorer.core.synthetic import planted_tastes
    from cfexplorer.ui import factor_plot

    monkeypatch.setattr(factor_plot, "DRAW_IN_PASSES_FROM", 500)
    window.set_document(planted_tastes(n_users=60, n_items=1500, density=0.1, seed=0), "large",
                        settings={"training": {"model": "mf", "optimizer": "adam", "learning_rate": 0.05, "n_epochs": 5,
                                               "n_factors": 2, "reg": 1.0, "seed": 0, "validation_fraction": 0.0}})
    view = train_in_front(qtbot, window)
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == 5)
    qtbot.wait(300)  # its picture done
    predictor = window.training_panel.model.predictor()
    spread = replace(predictor, item_factors=predictor.item_factors * 3, user_factors=predictor.user_factors * 3,
                     epoch=6)
    view.show_model(spread, window.table.ratings, in_passes=False)
    qtbot.waitUntil(lambda: not view.plot.scatters[ITEM_KIND].drawing_in_passes)
    qtbot.wait(300)
    xy = view.coordinates(ITEM_KIND)
    (left, right), (bottom, top) = view.plot.view_box.viewRange()
    assert left <= xy[:, 0].min() and xy[:, 0].max() <= right and bottom <= xy[:, 1].min() and xy[:, 1].max() <= top


def test_a_rename_while_replaying_keeps_the_epoch_shown(qtbot, trained):
    """The rename redrew the last epoch while the slider and its label said "2 of 300"."""
    from cfexplorer.core.edits import ITEMS

    view = trained.factor_space
    view.replay.setValue(1)
    epoch = view.embedding.epoch
    assert epoch < 300
    assert trained._rename_at(ITEMS, 0, "Renamed")
    assert view.embedding.epoch == epoch and view.embedding.items.names[0] == "Renamed"
    assert view.epoch_label.text() == f"{epoch} of 300"


def test_return_on_a_completion_finds_once(qtbot, trained, monkeypatch):
    """The completer's activated and the box's returnPressed both ran Find: two selections sent to the grid."""
    view = trained.factor_space
    selected = []
    select = view.select
    monkeypatch.setattr(view, "select", lambda *args, **kwargs: (selected.append(args), select(*args, **kwargs)))
    view.search.setText("Action fan 2")
    view.search.completer().activated[str].emit("Action fan 2")
    view.search.returnPressed.emit()
    assert len(selected) == 1
    qtbot.wait(10)
    view.search.returnPressed.emit()  # a later Return finds again
    assert len(selected) == 2


def test_removing_a_movie_with_a_namesake_takes_the_factors_down(qtbot, window, tmp_path):
    """Linked by title, the removed "Hamlet (1996)" took its namesake's row, and its point stayed."""
    from cfexplorer.core.edits import ITEMS, RemoveEntries

    rows = [f"{user},{movie},{(user + movie) % 5 + 1}" for user in range(1, 9) for movie in (1, 2, 3, 4)]
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating\n" + "\n".join(rows) + "\n")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n1,Hamlet (1996),Drama\n2,Hamlet (1996),Drama\n"
                                         "3,Heat (1995),Action\n4,Clue (1985),Comedy\n")
    assert window.open_file(tmp_path / "ratings.csv", confirm=False)
    view = train_in_front(qtbot, window)
    qtbot.waitUntil(lambda: view.embedding is not None and len(view.embedding.items) == 4)
    window.table.request_edit(RemoveEntries(ITEMS, (1,), "Remove 1 movie"))
    assert view.embedding is None


@pytest.mark.parametrize("kind", ["biases", "global_mean"])
def test_a_baseline_without_factors_places_no_points_and_says_why(qtbot, window, kind):
    """Every movie was drawn at the origin, "PC1 (0% of variance)", as if the model had learned a position."""
    from cfexplorer.ui.factor_panels import NO_FACTORS_TEXT

    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData(kind))
    view = train_in_front(qtbot, window)
    qtbot.waitUntil(lambda: view.embedding is not None, timeout=10_000)
    assert view.embedding.items.n_factors == 0
    qtbot.waitUntil(lambda: view.status.text() == NO_FACTORS_TEXT, timeout=10_000)
    for scatter in view.plot.scatters.values():
        assert len(scatter.data) == 0  # no point placed
    view.projection.setCurrentIndex(view.projection.findData("tsne"))
    assert not view.layout_button.isVisibleTo(view)  # nothing to lay out ("t-SNE failed: 0 feature(s)")
    view._on_layout_button()
    assert not view.layout_job.running and view.status.text() == NO_FACTORS_TEXT


def test_the_factor_views_tick_labels_keep_apart_in_presentation_type(qtbot, trained):
    """In presentation mode's type the narrow factor view numbered its horizontal axis "0", "0.0002",
    "0.0004" (and "0.02" beside "0.04") over each other: pyqtgraph spaces ticks by an axis's length alone."""
    from .on_a_screen import plot_tick_labels
    from .test_projector import overlap

    window = trained
    window.set_presentation(True)
    window.factor_dock.raise_()
    qtbot.waitUntil(lambda: window.factor_space.plot.isVisible(), timeout=5000)
    qtbot.wait(200)
    plot = window.factor_space.plot.getPlotItem()
    try:
        for tenths in range(-30, 31, 2):
            span = 10 ** (tenths / 10)  # zoomed in and out: labels from "0.0002" to "400"
            plot.setXRange(-0.37 * span, 0.63 * span, padding=0)
            plot.setYRange(-0.41 * span, 0.59 * span, padding=0)
            QApplication.processEvents()
            for axis in plot_tick_labels("factor", plot):
                labels = axis["labels"]
                meeting = [(first["text"], second["text"]) for index, first in enumerate(labels)
                           for second in labels[index + 1:] if overlap(first["rect"], second["rect"])]
                assert labels and not meeting, (span, axis["axis"], [label["text"] for label in labels])
    finally:
        window.set_presentation(False)


def test_two_movies_of_one_title_are_told_apart_in_the_find_box_by_their_ids(qtbot, window):
    """MovieLens has two "Saturn 3 (1980)" (ids 2851 and 168358): the Find box offered the title twice, and
    either found the first."""
    import pandas as pd

    from cfexplorer.core.ratings import Ratings

    rng = np.random.default_rng(3)
    users, items = np.meshgrid(np.arange(6), np.arange(4), indexing="ij")
    keep = rng.random(users.size) < 0.8
    titles = ["Saturn 3 (1980)", "Heat (1995)", "Saturn 3 (1980)", "Up (2009)"]
    ratings = Ratings(users.ravel()[keep], items.ravel()[keep], rng.integers(1, 6, int(keep.sum())).astype(float),
                      [f"user {u}" for u in range(6)], [2851, 10, 168358, 20],
                      item_info=pd.DataFrame({"title": titles}))
    assert window.set_document(ratings, "two Saturns")
    view = train_in_front(qtbot, window)
    qtbot.waitUntil(lambda: view.embedding is not None)
    qtbot.mouseClick(view.search, Qt.MouseButton.LeftButton)  # the names go into the completer now
    qtbot.keyClicks(view.search, "saturn")
    completer = view.search.completer()
    offered = [completer.completionModel().index(row, 0).data() for row in range(completer.completionCount())]
    assert sorted(offered) == ["Saturn 3 (1980) [id 168358]", "Saturn 3 (1980) [id 2851]"]
    view.search.clear()
    qtbot.keyClicks(view.search, "Saturn 3 (1980) [id 168358]")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert list(view.selection[ITEM_KIND]) == [2] and window.grid.selected_entries(1) == [2]
    view.search.clear()
    qtbot.keyClicks(view.search, "heat")  # a name alone is found as before
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert list(view.selection[ITEM_KIND]) == [1]
