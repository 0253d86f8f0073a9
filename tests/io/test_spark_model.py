"""A saved Spark ALS model read as factors: ids, names, checks before allocating, one-line refusals."""

import json
import sys

import numpy as np
import pytest

from cfexplorer.core.ratings import Ratings
from cfexplorer.io import limits
from cfexplorer.io.errors import FactorFileError
from cfexplorer.io.factors import read_factors
from cfexplorer.io.spark_model import NAMES_FILE, is_spark_model

from .spark_layout import write_spark_model

pytest.importorskip("pyarrow")

USERS = np.array([7, 3, 11])
ITEMS = np.array([50, 10, 30, 20])
RNG = np.random.default_rng(0)
USER_FACTORS = RNG.normal(size=(3, 4)).astype(np.float32)
ITEM_FACTORS = RNG.normal(size=(4, 4)).astype(np.float32)


def model(tmp_path, **options):
    return write_spark_model(tmp_path / "als", USERS, USER_FACTORS, ITEMS, ITEM_FACTORS, **options)


def test_the_factors_come_back_by_id_with_zero_biases(tmp_path):
    folder = model(tmp_path)
    assert is_spark_model(folder)
    embedding = read_factors(folder)
    order = np.argsort(ITEMS)
    assert list(embedding.items.names) == [f"movie {i}" for i in ITEMS[order]]
    np.testing.assert_array_equal(embedding.items.factors, ITEM_FACTORS[order].astype(float))
    np.testing.assert_array_equal(embedding.users.factors, USER_FACTORS[np.argsort(USERS)].astype(float))
    assert not embedding.items.bias.any() and not embedding.users.bias.any()  # Spark's ALS has no biases
    assert "Spark ALS" in embedding.source


def test_rows_are_named_by_the_ratings_whose_labels_are_the_ids(tmp_path):
    ratings = Ratings([0, 1, 2], [0, 1, 2], [4.0, 3.0, 5.0], ["3", "7", "11"], [10, 20, 30],
                      item_info=__import__("pandas").DataFrame({"title": ["Ten", "Twenty", "Thirty"]}))
    embedding = read_factors(model(tmp_path), ratings)
    assert list(embedding.items.names) == ["Ten", "Twenty", "Thirty", "movie 50"]  # 50 is not in the ratings
    assert list(embedding.users.names) == ["3", "7", "11"]


def test_rows_are_named_by_movies_csv_beside_the_model(tmp_path):
    folder = model(tmp_path)
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n10,Heat (1995),Action\n30,Up (2009),Animation\n")
    embedding = read_factors(folder)
    assert list(embedding.items.names) == ["Heat (1995)", "movie 20", "Up (2009)", "movie 50"]


def test_names_written_beside_the_model_by_the_cli_win(tmp_path):
    folder = write_spark_model(tmp_path / "als", [0, 1], USER_FACTORS[:2], [0, 1, 2], ITEM_FACTORS[:3])
    (folder / NAMES_FILE).write_text(json.dumps({"users": ["ann", "bob"], "movies": ["A", "B", "C"]}))
    embedding = read_factors(folder)
    assert list(embedding.users.names) == ["ann", "bob"] and list(embedding.items.names) == ["A", "B", "C"]


@pytest.mark.parametrize("damage, message", [
    ("nan", "not finite"),
    ("lengths", "different lengths"),
    ("twice", "appears twice"),
    ("class", "not an ALS model"),
    ("columns", "need the columns id and features"),
    ("not parquet", "not a parquet file"),
])
def test_a_damaged_model_is_refused_in_one_line_naming_it(tmp_path, damage, message):
    import pyarrow as pa
    import pyarrow.parquet as parquet

    folder = model(tmp_path)
    part = sorted((folder / "itemFactors").glob("*.parquet"))[0]
    if damage == "nan":
        bad = ITEM_FACTORS.copy()
        bad[1, 2] = np.nan
        folder = write_spark_model(tmp_path / "nan", USERS, USER_FACTORS, ITEMS, bad)
    elif damage == "lengths":
        parquet.write_table(pa.table({"id": pa.array([1, 2], pa.int32()),
                                      "features": pa.array([[1.0, 2.0], [1.0]], pa.list_(pa.float32()))}), part)
    elif damage == "twice":
        folder = write_spark_model(tmp_path / "twice", USERS, USER_FACTORS, [1, 1, 2, 3], ITEM_FACTORS)
    elif damage == "class":
        folder = write_spark_model(tmp_path / "kmeans", USERS, USER_FACTORS, ITEMS, ITEM_FACTORS,
                                   metadata={"class": "org.apache.spark.ml.clustering.KMeansModel"})
    elif damage == "columns":
        parquet.write_table(pa.table({"key": pa.array([1], pa.int32())}), part)
    else:
        part.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(FactorFileError, match=message) as caught:
        read_factors(folder)
    assert "\n" not in str(caught.value) and str(folder.name) in str(caught.value)


def test_a_folder_that_is_not_a_model_is_refused(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(FactorFileError, match="not a saved Spark ALS model"):
        read_factors(tmp_path / "photos")


def test_sizes_the_footers_declare_are_checked_before_reading(tmp_path, monkeypatch):
    folder = model(tmp_path)
    monkeypatch.setattr(limits, "MAX_ARRAY_BYTES", 64)
    with pytest.raises(FactorFileError, match="declares"):
        read_factors(folder)


def test_without_pyarrow_the_error_says_what_to_install(tmp_path, monkeypatch):
    folder = model(tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(FactorFileError, match=r'pip install "cfexplorer\[spark\]"'):
        read_factors(folder)
