"""Saved files reopen to the same data; saves are atomic; a bad project opens nothing."""

import numpy as np
import pytest

from cfexplorer.core.mf import MatrixFactorization
from cfexplorer.core.synthetic import planted_tastes
from cfexplorer.io.project import Project, load_project, save_project
from cfexplorer.io.readers import RatingsFileError, read_ratings
from cfexplorer.io.writers import write_by_extension


@pytest.fixture
def ratings():
    return planted_tastes(n_users=6, n_items=5, density=0.6, seed=0)


@pytest.mark.parametrize("name,shape", [("m.csv", "wide"), ("m.tsv", "wide"), ("l.csv", "long"),
                                        ("l.tsv", "long"), ("m.xlsx", "wide")])
def test_each_written_format_reads_back_the_same(tmp_path, ratings, name, shape):
    path = tmp_path / name
    write_by_extension(ratings, path, shape=shape)
    again = read_ratings(path).ratings
    original = dict(zip(zip(ratings.user_labels[ratings.users], ratings.item_labels[ratings.items]), ratings.values))
    reread = dict(zip(zip(again.user_labels[again.users], again.item_labels[again.items]), again.values))
    assert reread == original


def test_project_round_trip_keeps_data_settings_and_model(tmp_path, ratings):
    model = MatrixFactorization(n_factors=2, optimizer="adam", n_epochs=5).fit(ratings)
    path = tmp_path / "lesson.cfx"
    save_project(path, Project(ratings, {"factors": 2, "note": "λ"}, model.get_state()))
    project = load_project(path)
    again = project.ratings
    np.testing.assert_array_equal(again.to_dense(), ratings.to_dense())
    assert list(again.user_labels) == list(ratings.user_labels)
    assert list(again.item_titles()) == list(ratings.item_titles())
    assert again.scale == ratings.scale and again.binary == ratings.binary
    assert project.settings == {"factors": 2, "note": "λ"}
    restored = MatrixFactorization.from_state(project.model_state)
    np.testing.assert_array_equal(restored.predict_matrix(), model.predict_matrix())
    assert [r.total for r in restored.history_] == pytest.approx([r.total for r in model.history_])


def test_a_failed_save_leaves_the_previous_file(tmp_path, ratings, monkeypatch):
    path = tmp_path / "keep.csv"
    path.write_text("user,item,rating\na,b,1\n")
    import pandas as pd

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        write_by_extension(ratings, path)
    assert path.read_text() == "user,item,rating\na,b,1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_garbage_project_is_refused(tmp_path):
    path = tmp_path / "x.cfx"
    path.write_bytes(b"not a zip")
    with pytest.raises(RatingsFileError, match="not a valid project: not a zip archive"):
        load_project(path)
