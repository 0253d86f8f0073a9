"""The density filter can restrict what Train learns from, not only what the grid shows."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from cfexplorer.ui.density_dialog import DensityFilterDialog

RUN_MS = 60_000


def filter_by_dialog(window, monkeypatch, min_movie_ratings, restrict):
    def answer(dialog):
        dialog.min_item.setValue(min_movie_ratings)
        dialog.restrict_training.setChecked(restrict)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(DensityFilterDialog, "exec", answer)
    window.act_density.trigger()


def train(qtbot, window):
    panel = window.training_panel
    with qtbot.waitSignal(panel.sig_run_started, timeout=RUN_MS) as started:
        with qtbot.waitSignal(panel.sig_run_ended, timeout=RUN_MS):
            qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    return started.args[1]  # the ratings the run trained on


def test_train_uses_only_the_kept_ratings_when_asked(qtbot, window, monkeypatch):
    window.open_preset("planted")
    ratings = window.table.ratings
    counts = ratings.item_counts()
    cut = int(np.median(counts)) + 1
    rare = counts < cut
    assert rare.any() and not rare.all()

    filter_by_dialog(window, monkeypatch, cut, restrict=False)
    assert window.proxy.columnCount() + window.proxy.rowCount() < ratings.n_items + ratings.n_users
    assert train(qtbot, window).n_ratings == ratings.n_ratings  # the view is filtered, training is not

    filter_by_dialog(window, monkeypatch, cut, restrict=True)
    trained_on = train(qtbot, window)
    assert trained_on.n_ratings == int(counts[~rare].sum())
    assert np.all(trained_on.item_counts()[rare] == 0)
    assert (trained_on.n_users, trained_on.n_items) == (ratings.n_users, ratings.n_items)  # rows line up
    predictions = window.table.predictor.predict_matrix()
    assert predictions.shape == (ratings.n_users, ratings.n_items) and np.isfinite(predictions).all()
    assert "Train uses these" in window.summary_label.text()

    window.act_clear_filters.trigger()
    assert not window.proxy.restricts_training
    assert train(qtbot, window).n_ratings == ratings.n_ratings


def test_a_filter_keeping_no_ratings_is_named_when_train_is_pressed(qtbot, window, monkeypatch):
    window.open_preset("planted")
    most = int(window.table.ratings.item_counts().max())
    filter_by_dialog(window, monkeypatch, most + 1, restrict=True)
    qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    assert "density filter keeps no ratings" in window.message_bar.text
    assert "type some into the grid" not in window.message_bar.text
    assert window.training_panel.model is None  # nothing trained


def test_the_factor_space_sizes_and_describes_movies_by_the_ratings_their_factors_trained_on(
        qtbot, window, monkeypatch):
    """A movie the filter kept out of training was drawn as large as the grid's count of it, and its hover said
    "4 ratings": its factors learned from none of them."""
    window.open_preset("planted")
    counts = window.table.ratings.item_counts()
    cut = int(np.median(counts)) + 1
    rare = np.flatnonzero(counts < cut)
    kept = np.flatnonzero(counts >= cut)
    filter_by_dialog(window, monkeypatch, cut, restrict=True)
    train(qtbot, window)
    window.factor_dock.raise_()
    space = window.factor_space
    qtbot.waitUntil(lambda: space.embedding is not None and len(space.plot.scatters["movie"].data) == len(counts))
    scatter = space.plot.scatters["movie"]
    sizes = np.where(scatter.data["size"] == -1, scatter.opts["size"], scatter.data["size"])
    # every movie trained on none of its ratings has the least size, below every movie that was trained on
    assert len(set(sizes[rare])) == 1 and sizes[rare][0] < sizes[kept].min()
    rare_one = int(rare[np.argmax(counts[rare])])
    assert f"{counts[rare_one]} ratings, 0 of them trained on" in space.describe("movie", rare_one)
    kept_one = int(kept[0])
    assert f"{counts[kept_one]} ratings\n" in space.describe("movie", kept_one)  # all of them: said once


def test_the_factor_space_counts_a_movies_ratings_trained_on_without_the_validation_share(qtbot, window):
    """The hover said "215 ratings" of Toy Story with a validation share of 0.1, though 25 of them were held out
    to measure the model and its factors learned from 190."""
    from cfexplorer.core.ratings import train_test_split

    window.open_preset("planted")
    panel = window.training_panel
    panel.validation.setValue(0.3)
    ratings = window.table.ratings
    train(qtbot, window)
    kept, _ = train_test_split(ratings, 0.3, seed=panel.seed.value())
    window.factor_dock.raise_()
    space = window.factor_space
    qtbot.waitUntil(lambda: space.embedding is not None, timeout=RUN_MS)
    counts, trained_counts = ratings.item_counts(), kept.item_counts()
    fewer = np.flatnonzero(trained_counts < counts)
    assert len(fewer) and np.all(trained_counts <= counts)
    for movie in fewer[:3]:
        assert f"{counts[movie]} ratings, {trained_counts[movie]} of them trained on" in space.describe("movie", movie)


def test_a_movie_no_rating_trained_has_no_cosine_neighbours_and_is_no_ones(qtbot, window, monkeypatch):
    """With the rare movies kept out of training their factors stay 0: selecting one listed arbitrary movies at
    distance 1.0000, and they stood among every movie's neighbours at 1.0000; "with ≥ 20 ratings" counted the
    grid's ratings, not those trained on."""
    window.open_preset("planted")
    counts = window.table.ratings.item_counts()
    cut = int(np.median(counts)) + 1
    rare, kept = np.flatnonzero(counts < cut), np.flatnonzero(counts >= cut)
    filter_by_dialog(window, monkeypatch, cut, restrict=True)
    train(qtbot, window)
    window.factor_dock.raise_()
    space = window.factor_space
    qtbot.waitUntil(lambda: space.embedding is not None, timeout=RUN_MS)
    assert not np.any(space.embedding.items.factors[rare])  # nothing trained them
    space.neighbour_count.setValue(40)
    space.select({"movie": [int(rare[0])]})
    assert space.neighbours.topLevelItemCount() == 0 and "no direction" in space.neighbour_title.text()
    space.select({"movie": [int(kept[0])]})
    listed = {space.neighbours.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)[1]
              for i in range(space.neighbours.topLevelItemCount())}
    assert listed and not listed & set(rare.tolist())
    assert all(int(space.neighbours.topLevelItem(i).text(2)) >= cut for i in range(len(listed)))  # trained on
