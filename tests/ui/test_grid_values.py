"""Nothing the grid shows is NaN or inf (text, tooltip, colours), whatever the ratings' scale or the
predictor says; a failing predictor shows '?' and is reported once, not once per cell."""

import math
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cfexplorer.core.ratings import Ratings
from cfexplorer.ui import qt_guard, table_model
from cfexplorer.ui.colors import LEVELS, NEUTRAL_LEVEL, RatingColors

TEXT_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.EditRole)


def everything_shown(window):
    """Every text the grid and its headers show, and every cell's colours."""
    proxy = window.proxy
    texts, colours = [], []
    for row in range(proxy.rowCount()):
        texts.append(proxy.headerData(row, Qt.Orientation.Vertical))
        texts.append(proxy.headerData(row, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole))
        for column in range(proxy.columnCount()):
            index = proxy.index(row, column)
            texts.extend(proxy.data(index, role) for role in TEXT_ROLES)
            colours.append(proxy.data(index, Qt.ItemDataRole.BackgroundRole))
    for column in range(proxy.columnCount()):
        texts.append(proxy.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole))
    return texts, colours


def assert_no_nan_or_inf(texts):
    for text in texts:
        assert "nan" not in text.casefold() and "inf" not in text.casefold(), text


def test_absurd_ratings_are_refused_and_absurd_numbers_still_colour():
    """Was a segfault: ratings 1e308, 1e308, -1e308, 3, 4, 2 gave a scale spanning inf, so the colour level
    was NaN and painting raised. Such ratings are refused at the door now; the colour map still answers for
    any number a model may hold."""
    with pytest.raises(ValueError, match="beyond"):
        Ratings([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 1, 2], [1e308, 1e308, -1e308, 3, 4, 2],
                ["Ann", "Ben", "Cid"], ["Huge", "Small", "Plain"])
    colors = RatingColors(-1e308, 1e308)
    assert colors.level(1e308) == LEVELS - 1 and colors.level(-1e308) == 0
    assert colors.level(3.0) == NEUTRAL_LEVEL  # the middle of ±1e308
    for value in (math.nan, math.inf, -math.inf):
        assert colors.level(value) == NEUTRAL_LEVEL
    assert RatingColors(1.0, 1.0).level(1.0) == NEUTRAL_LEVEL


def test_nan_inf_and_huge_predictions(qtbot, window):
    table = window.table
    predictions = np.full((table.ratings.n_users, table.ratings.n_items), np.nan)
    # [user, movie]: Bob × Romance forever inf, Carol × Romance forever 1e308, Dave × Swords vs. karate -inf
    predictions[1, 1], predictions[2, 1], predictions[3, 4] = np.inf, 1e308, -np.inf
    predictions[0, 0] = np.inf  # Alice rated "Love at last" 5: no residual from inf
    table.set_predictions(predictions)
    window.act_residuals.setChecked(True)
    window.grid.grab()
    texts, colours = everything_shown(window)
    assert_no_nan_or_inf(texts)
    romance_bob = window.proxy.index(1, 1)  # "Romance forever" × Bob: unrated, predicted inf
    assert window.proxy.data(romance_bob) == "?" and colours[1 * 4 + 1] is None
    assert window.proxy.data(window.proxy.index(4, 3)) == "?"
    assert window.proxy.data(window.proxy.index(0, 0)) == "5"
    assert window.proxy.data(window.proxy.index(1, 2)) == "1e+308"  # finite, however large: shown
    assert math.isnan(window.proxy.data(romance_bob, table_model.SORT_ROLE))


def test_number_format_never_shows_nan_or_inf():
    fmt = table_model.format_number
    assert [fmt(2.25, 2), fmt(-0.5, 2, signed=True), fmt(1e308, 2), fmt(-2e9, 3, signed=True)] == \
        ["2.25", "-0.50", "1e+308", "-2e+09"]
    assert {fmt(value, 2) for value in (math.nan, math.inf, -math.inf)} == {"?"}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, -1e308, 0.0, 5.0])
@pytest.mark.parametrize("low,high", [(0.5, 5.0), (-1e308, 1e308), (-math.inf, math.inf), (0.0, 1e-320)])
def test_every_float_has_a_colour(value, low, high):
    colors = RatingColors(low, high)
    assert 0 <= colors.level(value) < LEVELS
    assert colors.background(value).isValid() and colors.text(value).isValid()


class FailingPredictor:
    """A predictor of the right shape whose every prediction raises."""

    def __init__(self, shape):
        self.shape = shape
        self.calls = 0

    def predict_cell(self, user, item):
        self.calls += 1
        raise ZeroDivisionError("the model's arithmetic failed")

    def predict_matrix(self):
        raise ZeroDivisionError("the model's arithmetic failed")


class NaNPredictor(FailingPredictor):
    def predict_cell(self, user, item):
        return float("nan")

    def predict_matrix(self):
        return np.full(self.shape, np.nan)


@pytest.mark.parametrize("dense", [True, False], ids=["small grid", "per cell"])
def test_a_failing_predictor_shows_question_marks_and_is_reported_once(qtbot, window, monkeypatch, dense):
    if not dense:
        monkeypatch.setattr(table_model, "DENSE_PREDICTION_CELLS", 0)
    qt_guard.forget_reports()
    reports = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, error, trace: reports.append(error))
    table = window.table
    predictor = FailingPredictor((table.ratings.n_users, table.ratings.n_items))
    table.set_predictor(predictor)
    for _ in range(3):
        window.grid.viewport().repaint()
    texts, _ = everything_shown(window)
    assert window.proxy.data(window.proxy.index(1, 1)) == "?"
    assert len(reports) == 1 and isinstance(reports[0], ZeroDivisionError)
    assert predictor.calls <= 1  # asked once, not once per painted cell
    assert not table.has_predictions
    qt_guard.forget_reports()


def test_a_predictor_giving_nan_shows_question_marks(qtbot, window, monkeypatch):
    monkeypatch.setattr(table_model, "DENSE_PREDICTION_CELLS", 0)
    table = window.table
    table.set_predictor(NaNPredictor((table.ratings.n_users, table.ratings.n_items)))
    window.grid.grab()
    texts, colours = everything_shown(window)
    assert_no_nan_or_inf(texts)
    assert window.proxy.data(window.proxy.index(1, 1)) == "?" and colours[1 * 4 + 1] is None


class ExplainedNaNPredictor(NaNPredictor):
    def explain(self, user, item):
        return {"model": "a model that lost its numbers", "terms": [], "sigmoid": False, "prediction": math.nan}


def test_the_explanation_of_a_nan_prediction_says_question_mark(window):
    from cfexplorer.ui.explain_panel import explanation_html

    table = window.table
    table.set_predictor(ExplainedNaNPredictor((table.ratings.n_users, table.ratings.n_items)))
    unrated = explanation_html(table, 1, 1)  # Bob × Romance forever
    rated = explanation_html(table, 0, 0)  # Alice × Love at last: 5
    assert "the grid shows the prediction ?" in unrated and "residual y − ŷ = ?" in rated
    assert "nan" not in (unrated + rated).casefold()


def test_the_grid_names_its_rows_and_columns_with_the_names_made_with_the_read(qtbot):
    """The users' labels and the movies' titles as text (a title missing: the label), the very strings the read
    made off the GUI thread (prepare_for_grid), not made again when the grid shows them."""
    import pandas as pd

    from cfexplorer.core.edits import ITEMS, USERS

    ratings = Ratings([0, 1, 3], [0, 1, 2], [1.0, 2.0, 3.0], np.array([np.int64(5), 7, 2.5, "ann"], dtype=object),
                      [10, 20, 30], item_info=pd.DataFrame({"title": ["Alpha", np.nan, "Gamma"]}))
    table_model.prepare_for_grid(ratings)
    made = ratings.user_names(), ratings.item_titles()
    model = table_model.RatingTableModel(ratings)
    assert model.names(USERS) == ["5", "7", "2.5", "ann"] and model.names(ITEMS) == ["Alpha", "20", "Gamma"]
    assert all(name is shared for name, shared in zip(model.names(USERS), made[0]))
    assert all(name is shared for name, shared in zip(model.names(ITEMS), made[1]))
