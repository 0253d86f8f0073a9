"""The command line as scripts use it: real processes, real files."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cfexplorer.core.synthetic import low_rank


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "cfexplorer", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def ratings_file(tmp_path):
    ratings = low_rank(n_users=60, n_items=40, rank=2, density=0.5, seed=0)
    frame = ratings.to_frame()
    frame["rating"] = np.clip(np.round(frame["rating"] * 2) / 2, 0.5, 5)
    path = tmp_path / "ratings.csv"
    frame.rename(columns={"user": "userId", "item": "movieId"}).to_csv(path, index=False)
    return path


def test_train_prints_json_with_the_stable_keys(ratings_file):
    done = run("train", str(ratings_file), "--factors", "2", "--epochs", "5", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for key in ("train_rmse", "test_rmse", "test_mae", "epochs", "fit_seconds"):
        assert key in results
    assert results["epochs"] == 5 and 0 < results["test_rmse"] < 2
    assert "epoch 5/5" in done.stderr  # progress goes to stderr, so stdout stays one JSON object


def test_train_binary_reports_classification_metrics(ratings_file):
    done = run("train", str(ratings_file), "--binary", "--like-threshold", "3", "--epochs", "20", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for key in ("test_bce", "test_accuracy", "test_auc"):
        assert 0 <= results[key] < 5


@pytest.mark.parametrize("optimizer", ["gd", "adam", "sgd", "als"])
def test_each_optimizer_runs_from_the_command_line(ratings_file, optimizer):
    done = run("train", str(ratings_file), "--optimizer", optimizer, "--epochs", "3", "--lr", "0.001", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs"] == 3


def test_malformed_file_gives_one_line_and_status_2(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("user,item,rating\na,b,4\na,c,lots\n")
    done = run("train", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == f"cfexplorer: error: {path}, line 3: rating 'lots' is not a finite number"


def test_diverging_training_is_reported_not_a_traceback(ratings_file):
    done = run("train", str(ratings_file), "--optimizer", "gd", "--lr", "100", "--epochs", "50")
    assert done.returncode == 1
    assert "learning rate (100) is probably too high" in done.stderr
    assert "Traceback" not in done.stderr


def test_movielens_latest_small_default_model(shared_data):
    done = run("train", str(shared_data / "ml-latest-small" / "ratings.csv"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["test_rmse"] <= 0.86


def test_a_bare_file_argument_means_open_it_in_the_app(monkeypatch):
    import cfexplorer.app as app
    from cfexplorer import cli

    opened = []
    monkeypatch.setattr(app, "run_gui", lambda file=None, preset=None: opened.append((file, preset)) or 0)
    assert cli.main(["ratings.csv"]) == 0
    assert cli.main(["gui", "--preset", "course-eve"]) == 0
    assert opened == [("ratings.csv", None), (None, "course-eve")]


def test_movielens_likes_default_model(shared_data):
    done = run("train", str(shared_data / "ml-latest-small" / "ratings.csv"), "--binary", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["test_bce"] < 0.6 and results["test_auc"] > 0.77


@pytest.mark.parametrize("model", ["dot_bias", "neural", "content", "global_mean"])
@pytest.mark.parametrize("binary", [False, True])
def test_every_model_trains_from_the_command_line(ratings_file, model, binary):
    extra = ["--binary", "--like-threshold", "3"] if binary else []
    done = run("train", str(ratings_file), "--model", model, "--epochs", "3", "--factors", "4", "--json", *extra)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["model"] == model and results["epochs"] == 3
    metric = "test_bce" if binary else "test_rmse"
    assert 0 < results[metric] < 5
