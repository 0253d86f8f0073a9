"""The factor space shown to a class: neighbours worth naming, colours that say what they can."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cfexplorer.core.ratings import Ratings
from cfexplorer.core.synthetic import planted_tastes
from cfexplorer.ui.factor_plot import RING_SIZE_PX
from cfexplorer.ui.presentation import FONT_SCALE, MARKER_SCALE
from cfexplorer.ui.lessons import NEW_RELEASES, tastes_with_new_releases

from .test_factor_space import open_side_tab

RUN_MS = 60_000
ADAM = {"model": "mf", "optimizer": "adam", "learning_rate": 0.05, "n_epochs": 150, "n_factors": 2, "reg": 1.0,
        "seed": 0, "validation_fraction": 0.0}


def open_and_train(qtbot, window, ratings, title="data", **training):
    window.set_document(ratings, title, settings={"training": {**ADAM, **training}})
    window.factor_dock.raise_()
    with qtbot.waitSignal(window.training_panel.sig_run_ended, timeout=RUN_MS):
        qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    view = window.factor_space
    qtbot.waitUntil(lambda: view.embedding is not None and view.embedding.epoch == training.get("n_epochs", 150))
    return view


def listed(view) -> list[tuple[str, str, str]]:
    tree = view.neighbours
    return [tuple(tree.topLevelItem(r).text(c) for c in range(3)) for r in range(tree.topLevelItemCount())]


def test_neighbours_leave_out_movies_with_too_few_ratings(qtbot, window):
    ratings = tastes_with_new_releases()
    view = open_and_train(qtbot, window, ratings)
    assert view.neighbour_min_ratings.value() == 0  # a small catalogue: every movie may be a neighbour
    open_side_tab(qtbot, view, "Neighbours")
    view.neighbour_count.setValue(20)
    view.select({"movie": [0]})
    titles, counts = list(ratings.item_titles()), ratings.item_counts()
    every = listed(view)
    assert len(every) == ratings.n_items - 1
    assert {name for name, _, _ in every} >= {f"New release {r + 1}" for r in range(NEW_RELEASES)}

    view.neighbour_min_ratings.setValue(2)
    kept = listed(view)
    assert len(kept) == ratings.n_items - 1 - NEW_RELEASES
    assert all(counts[titles.index(name)] >= 2 and int(shown) == counts[titles.index(name)] for name, _, shown in kept)
    assert [name for name, _, _ in kept] == [name for name, _, _ in every if not name.startswith("New release")]
    assert "at least 2 ratings" in view.neighbour_title.toolTip()


def test_the_distance_and_ratings_columns_stay_in_view_beside_a_long_name(qtbot, window):
    base = planted_tastes(n_users=12, n_items=8, density=0.8, seed=0)
    long_names = [f"{name}: The Extended Director's Cut, Remastered and Restored Edition" for name in base.item_labels]
    ratings = Ratings(base.users, base.items, base.values, base.user_labels, long_names, base.scale)
    view = open_and_train(qtbot, window, ratings)
    open_side_tab(qtbot, view, "Neighbours")
    window.resize(1280, 720)
    splitter = view.side_tabs.parentWidget()
    splitter.setSizes([splitter.width() - 240, 240])  # a side panel narrower than a long name
    view.select({"movie": [0]})
    qtbot.wait(20)
    assert 150 < view.neighbours.viewport().width() < view.neighbours.fontMetrics().horizontalAdvance(long_names[0])
    tree = view.neighbours
    header = tree.header()
    for column in (1, 2):
        assert header.sectionViewportPosition(column) + header.sectionSize(column) <= tree.viewport().width()
        assert header.sectionSize(column) >= tree.fontMetrics().horizontalAdvance(listed(view)[0][column])


@pytest.mark.parametrize("movies, expected", [(900, 0), (1200, 20)])
def test_a_large_catalogue_filters_the_neighbours_by_default(window, movies, expected):
    rng = np.random.default_rng(0)
    ratings = Ratings.from_arrays(np.arange(movies) % 40, np.arange(movies), rng.integers(1, 6, movies).astype(float))
    window.set_document(ratings, "many movies")
    assert window.factor_space.neighbour_min_ratings.value() == expected


def bias_entry(view):
    return view.colour_by.model().item(view.colour_by.findData("bias"))


def test_colour_by_bias_is_disabled_with_a_reason_when_the_model_has_no_such_bias(qtbot, window):
    ratings = planted_tastes(n_users=12, n_items=8, density=0.8, seed=0)
    view = open_and_train(qtbot, window, ratings, user_bias=True, item_bias=False)
    view.colour_by.setCurrentIndex(view.colour_by.findData("count"))
    assert not bias_entry(view).isEnabled()
    assert "no movie bias" in bias_entry(view).toolTip() and "no movie bias" in view.colour_by.toolTip()

    view.show_choice.setCurrentText("Users")  # users have theirs
    assert bias_entry(view).isEnabled() and view.bias_missing() == ""
    view.colour_by.setCurrentIndex(view.colour_by.findData("bias"))
    users = view.plot.scatters["user"].data
    assert len({str(brush.color().name()) for brush in users["brush"]}) > 1  # the biases differ: so do colours

    view.show_choice.setCurrentText("Movies")  # bias was the colour: it gives way, and says why
    assert view.colour_by.currentData() != "bias" and not bias_entry(view).isEnabled()


def test_the_network_has_no_bias_to_colour_by_and_matrix_factorization_with_biases_has(qtbot, window):
    ratings = planted_tastes(n_users=12, n_items=8, density=0.8, seed=0)
    view = open_and_train(qtbot, window, ratings, model="neural", n_epochs=5)
    view.show_choice.setCurrentText("Movies and users")
    assert "no movie or user bias" in bias_entry(view).toolTip() and not bias_entry(view).isEnabled()
    view = open_and_train(qtbot, window, ratings, user_bias=True, item_bias=True)
    assert bias_entry(view).isEnabled()


def test_every_point_is_named_by_default_on_a_classroom_matrix_and_no_name_is_cut_off(qtbot, window):
    ratings = planted_tastes(n_users=12, n_items=20, density=0.8, seed=0)
    window.resize(1280, 720)  # a projector's screen
    view = open_and_train(qtbot, window, ratings)
    assert view.labels_by.currentData() == "all"
    assert sorted(view.plot.label_texts()) == sorted(ratings.item_titles())
    seen = []
    for zoom in (1.0, 0.6, 1.0):  # as fitted, zoomed in with points near every edge, in a narrower dock
        view.plot.view_box.scaleBy((zoom, zoom))
        if len(seen) == 2:
            window.resizeDocks([window.training_dock], [window.training_dock.width() + 150], Qt.Orientation.Horizontal)
        QApplication.processEvents()
        plot_area, area = view.plot.view_box.sceneBoundingRect(), view.plot.view_box.viewRect()
        seen.append(plot_area.width())
        for label, (kind, index, _) in zip(view.plot.labels, view.plot._label_keys):
            if area.contains(*view.coordinates(kind)[index]) and label.isVisible():
                assert plot_area.contains(label.sceneBoundingRect()), label.textItem.toPlainText()
    assert seen[2] < seen[1] - 50  # the last round had a narrower plot


def marks_cut(view) -> list[int]:
    """The movies whose mark (the point at its size, or the selection's ring) crosses the view's edge."""
    plot = view.plot
    edge = plot.view_box.sceneBoundingRect()
    radius = max(float(np.max(plot._styles["movie"][2])), RING_SIZE_PX) / 2  # the points' sizes in pixels
    cut = []
    for index, (x, y) in enumerate(view.coordinates("movie")):
        at = plot.view_box.mapViewToScene(pg.Point(float(x), float(y)))
        if not edge.adjusted(radius, radius, -radius, -radius).contains(at):
            cut.append(index)
    return cut


def test_in_a_small_pane_no_point_or_name_is_cut_at_the_edge(qtbot, window):
    """Beside a lesson in presentation mode's type the plot is a few hundred pixels wide: the largest points
    (sized by their ratings) at its edges were cut in half, and a name fitting on neither side of its point
    was cut ("ds vs. karate")."""
    ratings = planted_tastes(n_users=12, n_items=20, density=0.8, seed=0)
    window.resize(1280, 720)
    view = open_and_train(qtbot, window, ratings)
    assert view.size_by_count.isChecked()
    # as presentation mode draws them: larger points and names
    view.set_marker_scale(MARKER_SCALE)
    view.set_text_size(FONT_SCALE * QApplication.font().pointSizeF())
    for width in (420, 520):  # the training panel wider, the plot narrower: about 250 and 150 px
        window.resizeDocks([window.training_dock], [width], Qt.Orientation.Horizontal)
        qtbot.waitUntil(lambda: view.plot.view_box.sceneBoundingRect().width() < 1280 - width - 300)
        QApplication.processEvents()
        assert marks_cut(view) == []
        plot_area, area = view.plot.view_box.sceneBoundingRect(), view.plot.view_box.viewRect()
        shown = [label for label, (kind, index, _) in zip(view.plot.labels, view.plot._label_keys)
                 if label.isVisible() and area.contains(*view.coordinates(kind)[index])]
        assert shown and all(plot_area.contains(label.sceneBoundingRect()) for label in shown)
        assert view.plot.labels_hidden == len(view.plot.labels) - len(shown)  # counted, in the status line


def test_a_larger_matrix_names_the_selection_only_and_all_names_on_request(qtbot, window):
    ratings = planted_tastes(n_users=12, n_items=60, density=0.5, seed=0)
    view = open_and_train(qtbot, window, ratings, n_epochs=30)
    assert view.labels_by.currentData() == "selected" and view.plot.label_texts() == []
    view.labels_by.setCurrentIndex(view.labels_by.findData("all"))
    assert len(view.plot.label_texts()) == 60 and not view.label_count.isEnabled()
    view.labels_by.setCurrentIndex(view.labels_by.findData("count"))
    assert len(view.plot.label_texts()) == view.label_count.value() and view.label_count.isEnabled()


def point_colours(view, kind="movie") -> list[str]:
    return [brush.color().name() for brush in view.plot.scatters[kind].data["brush"]]


def with_genres(ratings, genres) -> Ratings:
    info = ratings.item_info.assign(genres=genres)
    return Ratings(ratings.users, ratings.items, ratings.values, ratings.user_labels, ratings.item_labels,
                   ratings.scale, item_info=info)


def test_the_legend_names_each_colour_and_one_genre_can_be_highlighted(qtbot, window):
    base = planted_tastes(n_users=12, n_items=8, density=0.8, seed=0)
    genres = ["Romance|Comedy", "Action", "Romance", "Action|Comedy", "Romance", "Action", "Action|War", "Action"]
    view = open_and_train(qtbot, window, with_genres(base, genres))
    assert view.colour_by.currentData() == "genre" and view.genre_highlight.isVisible()
    assert [view.genre_highlight.itemText(i) for i in range(view.genre_highlight.count())] == [
        "first genre", "Action", "Romance", "Comedy", "War"]  # most common first
    colours = point_colours(view)
    legend = view.legend.text()
    for genre in ("Action", "Romance"):  # each first genre's colour is the one its legend entry shows
        shown = {colours[i] for i, g in enumerate(genres) if g.split("|")[0] == genre}
        assert len(shown) == 1 and f"{shown.pop()}" in _legend_colours(legend, genre)

    view.genre_highlight.setCurrentText("Comedy")  # a second genre of two movies
    colours = point_colours(view)
    comedies = {i for i, g in enumerate(genres) if "Comedy" in g.split("|")}
    assert comedies == {0, 3}
    assert len({colours[i] for i in comedies}) == 1 and not {colours[i] for i in comedies} & {
        colours[i] for i in range(8) if i not in comedies}
    assert "Comedy" in view.legend.text() and "no Comedy among its genres" in view.legend.text()

    view.colour_by.setCurrentIndex(view.colour_by.findData("count"))
    counts = base.item_counts()
    assert not view.genre_highlight.isVisible()
    assert f"{counts.min():,.0f}" in view.legend.text() and f"{counts.max():,.0f}" in view.legend.text()
    view.colour_by.setCurrentIndex(view.colour_by.findData("cluster"))
    assert view.legend.text().count("cluster ") == view.clusters.value()


def _legend_colours(legend: str, name: str) -> str:
    """The colour of the swatch just before ``name`` in the legend's HTML, as #rrggbb."""
    import re

    match = re.search(r"color:rgb\((\d+),(\d+),(\d+)\)[^<]*</span>&nbsp;" + re.escape(name), legend)
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in match.groups())) if match else ""


def test_the_bias_legend_spans_the_learned_biases(qtbot, window):
    ratings = planted_tastes(n_users=12, n_items=8, density=0.8, seed=0)
    view = open_and_train(qtbot, window, ratings, user_bias=True, item_bias=True)
    view.colour_by.setCurrentIndex(view.colour_by.findData("bias"))
    limit = np.max(np.abs(view.embedding.items.bias))
    assert limit > 0 and f"{-limit:+.2f}" in view.legend.text() and f"{limit:+.2f}" in view.legend.text()


def test_tsne_shows_how_far_it_is(qtbot, window):
    ratings = planted_tastes(n_users=12, n_items=40, density=0.8, seed=0)
    view = open_and_train(qtbot, window, ratings, n_epochs=30)
    seen = []
    view.layout_job.sig_progress.connect(lambda share, text: seen.append((share, view.status.text(),
                                                                        view.layout_button.text())))
    view.projection.setCurrentIndex(view.projection.findData("tsne"))
    qtbot.waitUntil(lambda: not view.layout_job.running, timeout=60_000)
    assert len(seen) >= 5 and [share for share, _, _ in seen] == sorted(share for share, _, _ in seen)
    middle = next((status, button) for share, status, button in seen if 0.2 < share < 0.9)
    assert "iteration" in middle[0] and f"{40:,} points" in middle[0] and middle[1].endswith("%")
    assert view.layout_button.text() == "Recompute t-SNE" and "t-SNE 1" in view.plot.getAxis("bottom").labelText
    assert "t-SNE done" in view.status.text()
    view.select({"movie": [0]})  # the status line is written again: what t-SNE's picture means stays said
    assert "t-SNE done" in view.status.text()


def test_the_controls_rows_stay_whole_in_presentation_type(qtbot, window):
    """The controls' height was set once, in the everyday type: in presentation type the second row (Find, size =
    ratings, the names) lay half under the controls' sideways scroll bar, however tall the pane."""
    window.resize(1280, 720)
    window.factor_dock.raise_()
    window.resizeDocks([window.training_dock], [700], Qt.Orientation.Horizontal)  # a narrow factor space
    view = window.factor_space
    scroller = view.controls_scroller

    def rows_whole():
        return scroller.viewport().height() >= scroller.widget().sizeHint().height()

    assert rows_whole()
    everyday = scroller.widget().sizeHint().height()
    window.set_presentation(True)
    qtbot.waitUntil(lambda: scroller.widget().sizeHint().height() > everyday)  # the larger type has arrived
    assert scroller.horizontalScrollBar().isVisible()  # the controls scroll sideways: the bar takes a row's room
    qtbot.waitUntil(rows_whole)
    window.set_presentation(False)
    qtbot.waitUntil(rows_whole)
