"""Training ▸ Recommend for a New User…: a user described only by features gets recommendations in the window."""

import numpy as np
from PySide6.QtCore import Qt

from cfexplorer.core.synthetic import TASTE_TAGS, described_movies

RUN_MS = 60_000
TOWERS = {"model": "content", "n_outputs": 4, "hidden": "16", "reg": 0.01, "learning_rate": 0.01, "n_epochs": 300,
          "batch_size": 0, "seed": 0, "validation_fraction": 0.0}


def train(qtbot, window):
    panel = window.training_panel
    with qtbot.waitSignal(panel.sig_run_ended, timeout=RUN_MS) as ended:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert ended.args[1] == "done"


def fill(dialog, liked: str, disliked: str):
    """Type high marks for one taste's tags and low ones for the other's into the form's fields."""
    for name, field in dialog.fields.items():
        tag = name.removeprefix("mean ")
        if tag in TASTE_TAGS[liked]:
            field.setValue(5.0)
        elif tag in TASTE_TAGS[disliked]:
            field.setValue(1.0)


def shown_tastes(window, dialog) -> np.ndarray:
    titles = list(window.table.ratings.item_titles())
    tastes = window.table.ratings.item_info["taste"].to_numpy()
    rows = [titles.index(dialog.results.topLevelItem(r).text(0)) for r in range(dialog.results.topLevelItemCount())]
    return tastes[rows]


def test_a_new_user_described_by_tags_gets_movies_of_that_taste(qtbot, window):
    window.set_document(described_movies(seed=2), "Tagged movies", settings={"training": TOWERS})
    train(qtbot, window)
    window.act_new_user.trigger()
    dialog = window.new_user_dialog
    qtbot.waitExposed(dialog)
    assert set(dialog.fields) == set(window.training_panel.model.user_feature_names_)

    fill(dialog, "Romance", "Action")
    qtbot.mouseClick(dialog.recommend_button, Qt.MouseButton.LeftButton)
    assert dialog.results.topLevelItemCount() == 10
    romance, action = 0, 1
    assert np.all(shown_tastes(window, dialog)[:3] == romance)

    fill(dialog, "Action", "Romance")
    qtbot.mouseClick(dialog.recommend_button, Qt.MouseButton.LeftButton)
    assert np.all(shown_tastes(window, dialog)[:3] == action)
    predicted = [float(dialog.results.topLevelItem(r).text(1)) for r in range(10)]
    assert predicted == sorted(predicted, reverse=True)
    dialog.close()


def test_other_models_say_why_there_is_no_form(qtbot, window):
    window.open_preset("course")
    train(qtbot, window)
    window.act_new_user.trigger()
    assert "content-based" in window.message_bar.label.text()
    qtbot.mouseClick(window.message_bar.action_button, Qt.MouseButton.LeftButton)  # "Choose it"
    assert window.training_panel.kind == "content" and window.message_bar.text == ""


def test_another_document_closes_the_form(qtbot, window):
    window.set_document(described_movies(seed=2), "Tagged movies", settings={"training": {**TOWERS, "n_epochs": 20}})
    train(qtbot, window)
    dialog = window.show_new_user_dialog()
    qtbot.waitExposed(dialog)
    closed = []
    dialog.finished.connect(closed.append)
    window.open_preset("course")
    assert closed and window.new_user_dialog is None


def test_the_form_waits_for_the_run_to_end(qtbot, window):
    window.set_document(described_movies(seed=2), "Tagged movies", settings={"training": {**TOWERS, "n_epochs": 100}})
    panel = window.training_panel
    panel.pace.setCurrentText("100 epochs/s")  # a run of about a second
    with qtbot.waitSignal(panel.sig_run_ended, timeout=RUN_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
        assert panel.controller.is_active
        window.act_new_user.trigger()
        assert window.new_user_dialog is None and "finished training" in window.message_bar.label.text()
    window.act_new_user.trigger()
    assert window.new_user_dialog is not None and window.new_user_dialog.model is panel.model
