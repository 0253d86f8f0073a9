"""``cfexplorer train FILE --engine spark``: a one-line error without pyspark or Java; with both (and the shared
MovieLens data), Spark's ALS trained on latest-small and imported here scores within 0.02 of our ALS with
matched settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cfexplorer import cli, spark_als
from cfexplorer.core import metrics
from cfexplorer.core.models import make_model
from cfexplorer.core.ratings import train_test_split
from cfexplorer.io.readers import read_any

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user,movie,rating\na,X,4\na,Y,2\nb,X,5\nb,Z,3\n")
    return path


def test_without_pyspark_the_error_names_what_to_install(small_file, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    assert cli.main(["train", str(small_file), "--engine", "spark"]) == cli.EXIT_BAD_INPUT
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and 'pip install "cfexplorer[spark]"' in error


def test_without_java_the_error_names_what_to_install(small_file, monkeypatch, capsys):
    pytest.importorskip("pyspark")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(spark_als.shutil, "which", lambda name: None)
    assert cli.main(["train", str(small_file), "--engine", "spark"]) == cli.EXIT_BAD_INPUT
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "openjdk-17-jre-headless" in error


def test_spark_takes_explicit_ratings_only(small_file, monkeypatch, capsys):
    monkeypatch.setattr(spark_als, "missing_requirement", lambda: None)
    assert cli.main(["train", str(small_file), "--engine", "spark", "--binary"]) == cli.EXIT_BAD_INPUT
    assert "explicit ratings" in capsys.readouterr().err


def test_regparam_is_lambda_over_the_mean_ratings_per_user():
    ratings = read_any(ROOT / "resources" / "presets" / "course.csv").ratings
    per_user = ratings.n_ratings / ratings.n_users
    assert spark_als.spark_reg_param(10.0, ratings) == pytest.approx(10.0 / per_user)


def _spark_ready() -> bool:
    return spark_als.missing_requirement() is None


@pytest.mark.spark
@pytest.mark.skipif(not _spark_ready(), reason="needs pyspark and Java (pip install 'cfexplorer[spark]')")
def test_spark_als_on_latest_small_matches_ours_within_0_02(shared_data, tmp_path, request):
    if request.config.getoption("--busy-cpu"):
        pytest.skip("a JVM and two spinning processes on two cores: Spark runs in the idle pass only")
    pytest.importorskip("pyarrow")
    ratings_file = shared_data / "ml-latest-small" / "ratings.csv"
    model_dir = tmp_path / "spark-als"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CFEXPLORER_SPARK_DRIVER_MEMORY": "2g"}
    done = subprocess.run(
        [sys.executable, "-m", "cfexplorer", "train", str(ratings_file), "--engine", "spark", "--master", "local[2]",
         "--factors", "10", "--epochs", "10", "--reg", "10", "--model-dir", str(model_dir), "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    reported = json.loads(done.stdout.strip().splitlines()[-1])
    from cfexplorer.io.factors import read_factors

    ratings = read_any(ratings_file).ratings
    train, test = train_test_split(ratings, 0.2, seed=0)
    imported = read_factors(model_dir)  # without the ratings rows are named by Spark's ids: "user 7", "movie 42"
    # Spark's ids are MovieLens' ids (the grid's labels): map them back to the grid's rows
    user_row = {name: row for row, name in enumerate(imported.users.names)}
    item_row = {name: row for row, name in enumerate(imported.items.names)}
    users = np.array([user_row.get(f"user {label}", -1) for label in ratings.user_labels])[test.users]
    items = np.array([item_row.get(f"movie {label}", -1) for label in ratings.item_labels])[test.items]
    scored = (users >= 0) & (items >= 0)
    assert scored.sum() == reported["n_test_scored"]  # Spark drops the users and movies it never saw
    spark_predictions = np.einsum("nk,nk->n", imported.users.factors[users[scored]], imported.items.factors[items[scored]])
    spark_rmse = metrics.rmse(test.values[scored], spark_predictions)
    assert spark_rmse == pytest.approx(reported["test_rmse"], abs=1e-3)  # the import is what Spark predicts with
    # ours, matched: same rank, epochs and λ (Spark's regParam = λ / mean ratings per user), no biases; the global
    # mean stays, because with one λ for everything rare movies' factors shrink to 0 and would predict 0
    ours = make_model("mf", n_factors=10, reg=10.0, n_epochs=10, optimizer="als", user_bias=False, item_bias=False,
                      global_mean=True, mean_normalization=False, seed=0).fit(train)
    our_rmse = metrics.rmse(test.values[scored], ours.predict(test.users[scored], test.items[scored]))
    assert abs(spark_rmse - our_rmse) <= 0.02, (spark_rmse, our_rmse)
