"""The same ratings on Spark: ``cfexplorer train FILE --engine spark`` trains Spark MLlib's ALS
(``pyspark.ml.recommendation.ALS``, explicit ratings) and saves the model, which Factor space ▸ Files ▸
Import a Spark ALS model shows like our own factors (io/spark_model.py).

Settings map from ours: rank = factors k, maxIter = epochs, seed = seed, and regParam from λ. The two
regularize differently. Ours is the course's J = ½ Σ (w·x − y)² + λ/2 (‖W‖² + ‖X‖²): one λ for every user
and movie, so each user's least-squares step solves (XᵀX + λI) w = Xᵀy. Spark's ALS scales the penalty of
each user and movie by its number of ratings ("ALS-WR"): (XᵀX + regParam · n_u · I) w = Xᵀy. We take
regParam = λ / n̄, n̄ the mean number of ratings per user, so that a user with an average number of ratings
is regularized alike by both; users with more ratings are held tighter by Spark, movies with fewer looser.
``--spark-reg`` sets regParam directly. Spark's ALS has no biases and no global mean.

Needs pyspark (``pip install "cfexplorer[spark]"``) and Java 17 (``sudo apt-get install
openjdk-17-jre-headless``); without them a one-line error says which is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from .io.spark_model import NAMES_FILE, whole_numbers

JAVA_HINT = "Java 17 (sudo apt-get install openjdk-17-jre-headless, or set JAVA_HOME)"
PYSPARK_HINT = 'pyspark (pip install "cfexplorer[spark]")'


def missing_requirement() -> str | None:
    """What Spark lacks on this machine, as the words of an error; None when it can run."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return f"Spark needs {PYSPARK_HINT}"
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").exists()) and shutil.which("java") is None:
        return f"Spark needs {JAVA_HINT}"
    return None


def spark_reg_param(reg: float, train) -> float:
    """regParam for Spark's count-scaled penalty from our λ (see the module docstring)."""
    per_user = train.n_ratings / max(int(np.count_nonzero(np.bincount(train.users, minlength=train.n_users))), 1)
    return reg / per_user


def _spark_ids(labels) -> tuple[np.ndarray, bool]:
    """Spark's ALS takes ids as 32-bit integers: the labels themselves when they are such whole numbers
    (MovieLens' userId, movieId), else positions (and the names are written beside the model)."""
    ids = whole_numbers(labels)
    if ids is None:
        return np.arange(len(labels), dtype=np.int64), False
    if len(ids) and (ids.min() < 0 or ids.max() >= 2**31 or len(np.unique(ids)) != len(ids)):
        return np.arange(len(labels), dtype=np.int64), False
    return ids, True


def train_spark_als(train, test, rank: int, reg_param: float, max_iter: int, seed: int, master: str,
                    model_dir: Path, log=print) -> dict:
    """Train Spark's ALS on ``train``, score ``test`` with Spark's predictions, save the model in
    ``model_dir`` (replaced if it exists). Returns the results (the CLI prints them)."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession

    user_ids, users_are_ids = _spark_ids(train.user_labels)
    item_ids, items_are_ids = _spark_ids(train.item_labels)
    started = time.perf_counter()
    spark = (SparkSession.builder.master(master).appName("cfexplorer")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.driver.memory", os.environ.get("CFEXPLORER_SPARK_DRIVER_MEMORY", "4g"))
             .config("spark.sql.shuffle.partitions", "8")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        startup = time.perf_counter() - started
        train_frame = _frame(spark, train, user_ids, item_ids)
        als = ALS(rank=rank, maxIter=max_iter, regParam=reg_param, seed=seed, userCol="user", itemCol="item",
                  ratingCol="rating", implicitPrefs=False, nonnegative=False, coldStartStrategy="drop")
        fit_started = time.perf_counter()
        model = als.fit(train_frame)
        model.userFactors.count()  # the factors are computed lazily: make the timing honest
        fit_seconds = time.perf_counter() - fit_started
        results = {"engine": "spark", "master": master, "rank": rank, "reg_param": reg_param,
                   "max_iter": max_iter, "spark_startup_seconds": round(startup, 3),
                   "fit_seconds": round(fit_seconds, 3)}
        if len(test):
            predicted = model.transform(_frame(spark, test, user_ids, item_ids)).toPandas()
            error = predicted["prediction"].to_numpy(dtype=float) - predicted["rating"].to_numpy(dtype=float)
            results.update(test_rmse=float(np.sqrt(np.mean(error ** 2))) if len(error) else None,
                           test_mae=float(np.mean(np.abs(error))) if len(error) else None,
                           n_test=len(test), n_test_scored=len(predicted))
        model_dir = Path(model_dir)
        model.write().overwrite().save(str(model_dir))
        if not (users_are_ids and items_are_ids):
            names = {"users": [str(x) for x in train.user_labels], "movies": [str(x) for x in train.item_titles()]}
            (model_dir / NAMES_FILE).write_text(json.dumps(names), encoding="utf-8")
        results["model_dir"] = str(model_dir)
        return results
    finally:
        spark.stop()


def _frame(spark, ratings, user_ids, item_ids):
    import pandas as pd

    table = pd.DataFrame({"user": user_ids[ratings.users].astype(np.int32),
                          "item": item_ids[ratings.items].astype(np.int32),
                          "rating": ratings.values.astype(np.float32)})
    return spark.createDataFrame(table)
