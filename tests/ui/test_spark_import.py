"""Factor space ▸ Files ▸ Import a Spark ALS model: the folder Spark wrote, shown like our own factors and
linked to the grid's MovieLens ratings by id and title."""

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from cfexplorer.core.embedding import ITEM_KIND

from ..io.spark_layout import write_spark_model
from .test_factor_space import click_point

pytest.importorskip("pyarrow")


def test_a_spark_model_folder_is_imported_from_the_files_menu(qtbot, window, monkeypatch, tmp_path):
    data = tmp_path / "ml"
    data.mkdir()
    (data / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,4.0,0\n1,20,3.5,0\n2,10,5.0,0\n"
                                      "2,30,2.0,0\n3,20,4.5,0\n3,30,1.0,0\n")
    (data / "movies.csv").write_text("movieId,title,genres\n10,Heat (1995),Action\n20,Up (2009),Animation\n"
                                     "30,Alien (1979),Horror\n")
    assert window.open_file(data / "ratings.csv")
    rng = np.random.default_rng(1)
    folder = write_spark_model(data / "spark-als", [3, 1, 2], rng.normal(size=(3, 5)), [30, 10, 20],
                               rng.normal(size=(3, 5)))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    view = window.factor_space
    action = next(a for a in view.file_button.menu().actions() if "Spark" in a.text())
    messages = []
    view.sig_message.connect(lambda kind, text: messages.append((kind, text)))
    action.trigger()
    assert view.embedding is not None and "Spark ALS" in view.embedding.source
    assert sorted(view.embedding.items.names) == ["Alien (1979)", "Heat (1995)", "Up (2009)"]
    assert messages[-1][0] == "info"
    assert "6 match names in the grid" in messages[-1][1]  # 3 movies by title, 3 users by id
    assert len(view.coordinates(ITEM_KIND)) == 3
    heat = list(view.embedding.items.names).index("Heat (1995)")
    click_point(qtbot, view, ITEM_KIND, heat)  # linked to the grid by title
    titles = list(window.table.ratings.item_titles())
    assert window.grid.selected_entries(1) == [titles.index("Heat (1995)")]


def test_a_folder_that_is_not_a_spark_model_leaves_the_factor_space_as_it_was(qtbot, window, monkeypatch, tmp_path):
    window.open_preset("course")
    (tmp_path / "holiday photos").mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(tmp_path / "holiday photos")))
    view = window.factor_space
    before = view.embedding
    messages = []
    view.sig_message.connect(lambda kind, text: messages.append((kind, text)))
    view.import_spark_model_dialog()
    assert view.embedding is before
    assert messages[-1][0] == "error" and "not a saved Spark ALS model" in messages[-1][1]
