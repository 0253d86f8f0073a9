"""Project and recovery files are validated, not trusted: each way a .cfx can lie is one line,
"<path>: not a valid project: <what>", and every model kind the app trains saves and reopens."""

import json
import os
import re
import threading
import tracemalloc

import numpy as np
import pytest

from cfexplorer.core.models import MODEL_KINDS, make_model, model_from_state
from cfexplorer.core.synthetic import planted_tastes
from cfexplorer.io import project as project_module
from cfexplorer.io.project import Project, load_project, save_project
from cfexplorer.io.readers import RatingsFileError

from .hostile_files import npy_bytes, npz_bytes, project_bytes, project_parts

MB = 2**20


@pytest.fixture(scope="module")
def ratings():
    return planted_tastes(n_users=6, n_items=5, density=0.8, seed=0)


@pytest.fixture(scope="module")
def saved(ratings, tmp_path_factory):
    """A project with a trained matrix factorization: (meta, arrays) to change."""
    path = tmp_path_factory.mktemp("saved") / "good.cfx"
    model = make_model("mf", n_factors=2, n_epochs=3).fit(ratings)
    save_project(path, Project(ratings, {"training": {"n_factors": 2}, "rows_are_items": True}, model.get_state()))
    return project_parts(path)


def invalid(path) -> str:
    with pytest.raises(RatingsFileError) as caught:
        load_project(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: not a valid project: "), message
    return message[len(f"{path}: not a valid project: "):]


def write(tmp_path, meta, arrays, raw_meta=None):
    path = tmp_path / "project.cfx"
    path.write_bytes(project_bytes(meta, arrays, raw_meta))
    return path


@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
@pytest.mark.parametrize("binary", [False, True])
def test_every_model_kind_saves_and_reopens(tmp_path, ratings, kind, binary):
    data = ratings
    if binary:
        data = planted_tastes(n_users=6, n_items=5, density=0.8, seed=0, scale=project_module.RatingScale(0, 1, 1))
    if kind == "dot_bias" and binary:
        pytest.skip("a y-range model does not train on likes")
    params = {"n_epochs": 2}
    if binary and kind in ("mf", "biases"):
        params["optimizer"] = "adam"
    model = make_model(kind, **params).fit(data)
    path = tmp_path / f"{kind}.cfx"
    save_project(path, Project(data, {"note": "λ"}, model.get_state()))
    project = load_project(path)
    restored = model_from_state(project.model_state)
    users, items = data.users, data.items
    np.testing.assert_allclose(restored.predict(users, items), model.predict(users, items))
    assert project.ratings.binary == data.binary


def test_a_recovery_file_without_a_model_opens(tmp_path, ratings):
    path = tmp_path / "recovery.cfx"
    save_project(path, Project(ratings, {"recovered_from": "lesson.cfx"}, None))
    project = load_project(path)
    assert project.model_state is None and project.settings == {"recovered_from": "lesson.cfx"}


# --- the description (meta JSON) ------------------------------------------------------------------------
def changed(meta, key, value):
    meta = json.loads(json.dumps(meta))
    if value is KeyError:
        del meta[key]
    else:
        meta[key] = value
    return meta


@pytest.mark.parametrize("key, value, words", [
    ("user_labels", "ann", "the user labels is str, not a list"),
    ("user_labels", {"a": 1}, "the user labels is dict, not a list"),
    ("item_labels", [1, [2], 3, 4, 5], "movie label 2 is list, not text or a number"),
    ("item_labels", [1, None, 3, 4, 5], "movie label 2 is NoneType"),
    ("user_labels", ["a", "b"], "it declares 28 ratings, more than its 2 users × 5 movies have cells"),
    ("scale", [1, 5], "its rating scale is [1, 5], not three numbers"),
    ("scale", "1-5", "not three numbers"),
    ("scale", [1, "5", 1], "not three numbers"),
    ("scale", [1, 5e9, None], "rating scale 1..5e+09 is wider than 1,000,000"),
    ("scale", [1, 5, 1e-12], "more than 1,000,000 steps"),
    ("binary", "no", "binary is str, not true or false"),
    ("settings", [1, 2], "the settings is list, not a table of named values"),
    ("settings", {"preset": ["course"]}, "the setting 'preset' is list, not text"),
    ("settings", {"training": 3}, "the setting 'training' is int, not a table of named values"),
    ("settings", {"rows_are_items": "yes"}, "the setting 'rows_are_items' is str, not true or false"),
    ("item_info", 5, "the movie information is int, not text"),
    ("item_info", '{"columns": ["title"], "index": [0], "data": [["a"]]}', "has 1 rows for 5 movies"),
    ("item_info", '{"columns": ["title"], "data": [["a"], [["x"]], ["c"], ["d"], ["e"]]}',
     "row 2 of the movie information holds a list or table"),
    ("item_info", '{"columns": "title", "data": []}', "the movie information's columns is str, not a list"),
    ("item_info", "[[[", "the movie information is not JSON text"),
    ("item_info", "[" * 100_000 + "]" * 100_000, "the movie information is nested too deeply"),
    ("model", [1, 2], "the model is list, not a table of named values"),
    ("version", "1", "its version is '1', not a whole number"),
    ("version", 99, "made by a newer CF Explorer (project version 99)"),
    ("format", KeyError, "not a CF Explorer project"),
])
def test_wrong_json_types_and_sizes_are_refused(tmp_path, saved, key, value, words):
    meta, arrays = saved
    assert words in invalid(write(tmp_path, changed(meta, key, value), arrays))


@pytest.mark.parametrize("raw, words", [
    (b"[" * 200_000 + b"]" * 200_000, "its description (meta) is nested too deeply"),
    (b'{"format": "cfexplorer-project", "settings": ' + b'{"a": ' * 40 + b"1" + b"}" * 41,
     "its description (meta) is nested more than 32 levels deep"),
    (b"\xff\xfe", "its description (meta) is not JSON text"),
    (b"{nope", "its description (meta) is not JSON text"),
    (b'"just text"', "not a CF Explorer project"),
])
def test_a_description_that_is_not_a_project_is_refused(tmp_path, saved, raw, words):
    assert words in invalid(write(tmp_path, None, saved[1], raw_meta=raw))


def test_a_description_past_its_size_limit_is_refused_unparsed(tmp_path, saved, monkeypatch):
    meta, arrays = saved
    path = write(tmp_path, changed(meta, "settings", {"note": "x" * 5000}), arrays)
    monkeypatch.setattr(project_module, "MAX_META_BYTES", 4096)
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed"))
    assert re.search(r"its description \(meta\) is \d\.\d kB, more than the 4\.1 kB", invalid(path))


def test_a_description_that_is_not_bytes_is_refused(tmp_path, saved):
    meta, arrays = saved
    path = tmp_path / "project.cfx"
    path.write_bytes(npz_bytes({**arrays, "meta": np.ones((2, 2))}))
    assert "its description (meta) is a float64 array of shape (2, 2), not text" in invalid(path)
    path.write_bytes(npz_bytes(arrays))
    assert "it has no description (meta)" in invalid(path)


# --- the rating arrays -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, value, words", [
    ("users", np.array([0.5, 1.0]), "its users array is 1-D float64, not a list of whole numbers"),
    ("items", np.zeros((2, 2), dtype=np.int64), "its items array is 2-D int64"),
    ("values", np.array(["a"]), "array 'values' has type <U1; expected numbers"),
    ("values", None, "it has no values array"),
    ("values", "nan", "ratings must be finite numbers"),
    ("values", "huge", "rating 1e+308 is beyond ±1,000,000"),
    ("users", "short", "its users, items and values arrays have different lengths (users 27, items 28, values 28)"),
    ("items", "outside", "an item index is outside the item labels"),
    ("values", "times 100", "is outside its rating scale"),  # was opened, its status bar saying "1 to 5"
])
def test_rating_arrays_that_lie_are_refused(tmp_path, saved, name, value, words):
    meta, arrays = saved
    arrays = dict(arrays)
    if value is None:
        del arrays[name]
    elif isinstance(value, str):
        array = arrays[name].copy()
        if value == "nan":
            array[0] = np.nan
        elif value == "huge":
            array[1] = 1e308
        elif value == "short":
            array = array[:-1]
        elif value == "times 100":
            array = array * 100
        else:
            array[0] = 10**6
        arrays[name] = array
    else:
        arrays[name] = value
    assert words in invalid(write(tmp_path, meta, arrays))


def test_a_project_declaring_a_huge_array_is_refused_unread(tmp_path, saved):
    meta, arrays = saved
    path = write(tmp_path, meta, {**arrays, "users": npy_bytes((1_825_000_000, 1), "<i8", data=bytes(MB))})
    tracemalloc.start()
    message = invalid(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * MB
    assert "array 'users' declares (1825000000, 1) (14.6 GB) but its part of the archive holds 1.0 MB" in message


def test_a_fifo_is_refused_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "project.cfx"
    os.mkfifo(path)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(error=pytest.raises(RatingsFileError, load_project, path)),
                              daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive()
    assert str(outcome["error"].value) == f"{path}: not a regular file (a named pipe)"


# --- the model --------------------------------------------------------------------------------------------
def with_model(meta, arrays, meta_change=None, array_change=None):
    meta, arrays = json.loads(json.dumps(meta)), dict(arrays)
    if meta_change:
        meta_change(meta["model"])
    if array_change:
        array_change(arrays)
    return meta, arrays


def put(arrays, name, value):
    arrays[name] = value


def poke(arrays, name, index, value):
    array = arrays[name].copy()
    array[index] = value
    arrays[name] = array


@pytest.mark.parametrize("meta_change, array_change, words", [
    (None, lambda a: poke(a, "model/param_item_factors", (0, 0), np.nan),
     "the model's param_item_factors is not a finite number"),
    (None, lambda a: poke(a, "model/param_user_bias", 2, np.inf), "the model's param_user_bias is not a finite number"),
    (None, lambda a: poke(a, "model/history", (0, 3), np.nan), "the model's history is not a finite number"),
    (None, lambda a: put(a, "model/history", np.ones((4, 3))), "its history is of shape (4, 3), not (epochs, 4)"),
    (None, lambda a: put(a, "model/history_scores", np.ones((2, 2))),
     "its history's scores are of shape (2, 2), not (4, 2)"),
    (None, lambda a: poke(a, "model/history_scores", (1, 1), np.inf), "the model's history_scores is not a finite"),
    (lambda m: m.update({"history_score_names": ["test rmse", "train mae"]}), None,
     "its history's score names are not all 'train <metric>' or 'validation <metric>'"),
    (lambda m: m.update({"history_score_names": "train rmse"}), None, "its history's score names are not all"),
    (None, lambda a: put(a, "model/param_item_factors", np.ones((6, 2))),
     "does not fit the ratings (it was trained on 6 users × 6 movies, the ratings have 6 × 5)"),
    (None, lambda a: put(a, "model/param_user_factors", np.ones((6, 3))),
     "does not fit the ratings (users and movies have factors of different lengths)"),
    (None, lambda a: put(a, "model/param_user_bias", np.ones(4)), "does not fit the ratings"),
    (None, lambda a: put(a, "model/item_offset", np.ones(2)), "does not fit the ratings"),
    (None, lambda a: put(a, "model/item_offset", np.ones((5, 5))), "does not fit the ratings"),
    (None, lambda a: a.pop("model/param_item_factors"), "model cannot be rebuilt ('item_factors')"),
    (lambda m: m.update({"class": "Pickle"}), None, "unknown model class 'Pickle'"),
    (lambda m: m.update({"class": ["MatrixFactorization"]}), None, "unknown model class"),
    (lambda m: m["params"].update({"optimizer": "rmsprop"}), None,
     "optimizer must be one of gd, adam, sgd, als; got 'rmsprop'"),
    (lambda m: m["params"].update({"loss": "hinge"}), None, "loss must be one of"),
    (lambda m: m["params"].update({"n_factors": "many"}), None, "cannot be rebuilt"),
    (lambda m: m["params"].update({"reg": -1}), None, "regularization strengths must be finite numbers >= 0"),
    (lambda m: m.update({"params": "all"}), None, "the model's settings are not a table of named values"),
    (lambda m: m.update({"scale": [0, float("inf"), 1]}), None, "the model's scale.1 is not a finite number"),
    (lambda m: m.update({"global_mean": float("nan")}), None, "the model's global_mean is not a finite number"),
    (lambda m: m.update({"loss": None}), None, "its loss is None, not squared or bce"),
])
def test_a_model_that_cannot_be_rebuilt_for_these_ratings_is_refused(tmp_path, saved, meta_change, array_change, words):
    meta, arrays = with_model(*saved, meta_change, array_change)
    assert words in invalid(write(tmp_path, meta, arrays))


def test_a_neural_model_with_a_layer_of_the_wrong_shape_is_refused(tmp_path, ratings):
    model = make_model("neural", n_epochs=1, n_factors=3, hidden=(4,)).fit(ratings)
    state = model.get_state()
    state["param_W0"] = np.ones((7, 4))  # 2k = 6 inputs
    path = tmp_path / "neural.cfx"
    save_project(path, Project(ratings, {}, state))
    assert "the NeuralCF model does not fit the ratings" in invalid(path)


@pytest.mark.parametrize("user_factor", [1e308, 1e300])
def test_a_model_whose_finite_numbers_predict_nan_is_refused(tmp_path, saved, user_factor):
    """1e308·10 + 1e308·(−10) is inf − inf = NaN summed in that order, but inf with a fused multiply-add (as
    clang builds the kernels), which the rating scale would clip to a rating: refused by the factors' size,
    whatever the compiler. 1e300·10 does not overflow, yet k · max|w| · max|x| is beyond the bound."""
    def overflowing(arrays):
        arrays["model/param_user_factors"] = np.full(arrays["model/param_user_factors"].shape, user_factor)
        arrays["model/param_item_factors"] = np.tile([10.0, -10.0], (len(arrays["model/param_item_factors"]), 1))

    meta, arrays = with_model(*saved, None, overflowing)
    assert "its learned numbers are so large that a prediction overflows" in invalid(write(tmp_path, meta, arrays))


def _huge_biases_on_the_first_user_and_last_movie(kind, state):
    if kind == "bayes":  # a row's last column is its bias
        state["user_rows"][0, -1] = state["item_rows"][-1, -1] = 1.5e308
    else:
        state["param_user_bias"][0] = state["param_item_bias"][-1] = 1.5e308


def _huge_hidden_layer_and_output(kind, state):
    state["param_W1"] = np.full(state["param_W1"].shape, 1e200)
    state["param_w_out"] = np.full(state["param_w_out"].shape, 1e200)


def _first_layer_sums_that_cancel(kind, state):
    """u W0 = 1.5e308 and v W0 = 1.5e308 − 1.5e308 = 0 summed the predictor's way, but the network's own
    forward pass adds u W0 and v W0 term by term: 1.5e308 + 1.5e308 overflows there."""
    state["param_W0"] = np.ones_like(state["param_W0"])
    state["param_w_out"] = np.full(state["param_w_out"].shape, 1e-300)
    for side, row in (("user", [1.5e308, 0.0]), ("item", [1.5e308, -1.5e308])):
        state[f"param_{side}_embedding"][0] = row


def _a_kept_sample_too_large_to_square(kind, state):
    """The posterior mean is untouched, but the spread squares each kept sample's score: (1e200)² is inf."""
    state["kept_user_rows"][0, 0, -1] = 1e200


def _a_target_range_beyond_float(kind, state):
    state["target_range"] = np.array([-1e308, 1e308])  # z mapped back: (z + 1) · 0.5 · 2e308


@pytest.mark.parametrize("kind, params, change", [
    ("mf", {}, _huge_biases_on_the_first_user_and_last_movie),
    ("dot_bias", {}, _huge_biases_on_the_first_user_and_last_movie),
    ("bayes", {"burn_in": 1}, _huge_biases_on_the_first_user_and_last_movie),
    ("bayes", {"burn_in": 1}, _a_kept_sample_too_large_to_square),
    ("neural", {"hidden": (4, 3)}, _huge_hidden_layer_and_output),
    ("neural", {"n_factors": 2, "hidden": (1,)}, _first_layer_sums_that_cancel),
    ("content", {}, _a_target_range_beyond_float),
])
def test_a_model_whose_predictions_overflow_outside_every_sampled_pair_is_refused(tmp_path, ratings, kind, params,
                                                                                 change):
    """1.5e308 + 1.5e308 is inf only in the one cell where the first user meets the last movie, which the
    sampled predictions do not reach, and the rating scale would clip it; layers of 1e200 overflow in every
    cell, clipped as well; and the rest overflow in sums the sampled predictions do not make: refused by a
    bound on every number a prediction is summed from, whatever the model."""
    model = make_model(kind, n_epochs=2, **params).fit(ratings)
    state = {name: value.copy() if isinstance(value, np.ndarray) else value for name, value in model.get_state().items()}
    change(kind, state)
    path = tmp_path / f"{kind}.cfx"
    save_project(path, Project(ratings, {}, state))
    assert "its learned numbers are so large that a prediction overflows (a sum up to inf)" in invalid(path)


def test_a_model_with_large_factors_that_cannot_overflow_reopens(tmp_path, saved):
    def large(arrays):
        arrays["model/param_user_factors"] = np.full(arrays["model/param_user_factors"].shape, 1e100)
        arrays["model/param_item_factors"] = np.tile([1e-100, 2e-100], (len(arrays["model/param_item_factors"]), 1))

    meta, arrays = with_model(*saved, None, large)
    project = load_project(write(tmp_path, meta, arrays))
    np.testing.assert_allclose(project.model.user_factors_, 1e100)


def sizes_of_arrays_read(monkeypatch) -> list[int]:
    """The bytes of every array numpy reads from now on (an array declared but never inflated is not there)."""
    read_array = np.lib.format.read_array
    sizes = []

    def spy(*args, **kwargs):
        array = read_array(*args, **kwargs)
        sizes.append(array.nbytes)
        return array

    monkeypatch.setattr(np.lib.format, "read_array", spy)
    return sizes


@pytest.mark.parametrize("lengths", [(5_000_000, 28, 28), (5_000_000,) * 3])
def test_rating_arrays_are_refused_by_their_headers_before_they_are_inflated(tmp_path, saved, monkeypatch, lengths):
    """A member is checked against its size once inflated, which zeros compress 1,000:1 below: a 3 MB project
    declaring 3 GB of users was read whole (3.2 GB, 14 s) before its lengths were compared."""
    meta, arrays = saved
    arrays = dict(arrays)
    for name, length in zip(("users", "items", "values"), lengths):
        arrays[name] = np.zeros(length, dtype=arrays[name].dtype)
    path = tmp_path / "inflating.cfx"
    path.write_bytes(project_bytes(meta, arrays))
    assert path.stat().st_size < 1 * MB
    largest_read = sizes_of_arrays_read(monkeypatch)
    words = ("its users, items and values arrays have different lengths (users 5,000,000, items 28, values 28)"
             if lengths[1] == 28 else "it declares 5,000,000 ratings, more than its 6 users × 5 movies have cells")
    assert invalid(path) == words
    assert max(largest_read) < MB  # the description alone was read


def test_model_arrays_past_what_the_file_could_hold_are_refused_before_they_are_inflated(tmp_path, saved,
                                                                                          monkeypatch):
    """A trained model's arrays deflate little; zeros deflate 1,000 to 1: a 1.5 MB project with a stray
    model array declaring 1.6 GB of zeros was inflated whole (7 s, 1.7 GB) and then opened."""
    meta, arrays = saved
    arrays = {**arrays, "model/item_factors": np.zeros((MB, 8))}  # 64 MiB of zeros
    path = tmp_path / "inflating.cfx"
    path.write_bytes(project_bytes(meta, arrays))
    assert path.stat().st_size < MB
    largest_read = sizes_of_arrays_read(monkeypatch)
    assert invalid(path).startswith("its model declares 67.1 MB of arrays in a file of ")  # 64 MiB, in decimal units
    assert max(largest_read) < MB


# --- the loss plot's runs ---------------------------------------------------------------------------------
def curves(epochs: int, start: float, validated: bool) -> np.ndarray:
    """A run's curves (RUN_COLUMNS): J falling from ``start``; validation values on even epochs, if any."""
    rows = np.full((epochs, 6), np.nan)
    rows[:, 0] = np.arange(epochs)
    rows[:, 1] = start / (1 + rows[:, 0])
    rows[:, 2] = 0.5
    rows[:, 3] = rows[:, 1] + rows[:, 2]
    if validated:
        rows[::2, 4:] = [1.2, 0.9]
    return rows


@pytest.fixture(scope="module")
def saved_runs(ratings, tmp_path_factory):
    """A project whose loss plot kept two runs before its model's: (meta, arrays) to change, and its earlier runs."""
    from cfexplorer.io.project import SavedRun

    path = tmp_path_factory.mktemp("runs") / "runs.cfx"
    model = make_model("mf", n_factors=2, n_epochs=3).fit(ratings)
    earlier = [SavedRun(1, {"reg": 0.0, "hidden": [8, 4]}, ("rmse", "mae"), False, curves(4, 10.0, False)),
               SavedRun(2, {"reg": 1.5, "hidden": [8, 4]}, ("bce", "accuracy"), True, curves(3, 20.0, True))]
    save_project(path, Project(ratings, {}, model.get_state(), earlier_runs=earlier,
                               model_run=SavedRun(3, {"reg": 2.0, "hidden": [8, 4]})))
    return (*project_parts(path), earlier)


def test_the_loss_plots_runs_are_saved_and_reopened(tmp_path, saved_runs):
    meta, arrays, earlier = saved_runs
    project = load_project(write(tmp_path, meta, arrays))
    assert [(run.number, run.settings, run.metrics, run.validated) for run in project.earlier_runs] == \
        [(run.number, run.settings, run.metrics, run.validated) for run in earlier]
    for reopened, run in zip(project.earlier_runs, earlier, strict=True):
        np.testing.assert_array_equal(reopened.curves, run.curves)  # NaN where an epoch measured no validation
    assert (project.model_run.number, project.model_run.settings) == (3, {"reg": 2.0, "hidden": [8, 4]})


def test_a_project_without_the_runs_opens_with_none(tmp_path, saved, ratings):
    """Saved before the runs were kept (or with none to keep): no earlier run, no model's run."""
    from cfexplorer.io.project import SavedRun

    project = load_project(write(tmp_path, *saved))
    assert project.earlier_runs == [] and project.model_run is None and project.model is not None
    path = tmp_path / "no-model.cfx"
    save_project(path, Project(ratings, {}, None, model_run=SavedRun(1, {})))  # a model's run without a model
    assert "model_run" not in project_parts(path)[0] and load_project(path).model_run is None


def runs_changed(meta, arrays, change):
    meta, arrays = json.loads(json.dumps(meta)), dict(arrays)
    change(meta, arrays)
    return meta, arrays


def poke_curves(arrays, index, value):
    poke(arrays, "earlier_runs", index, value)


@pytest.mark.parametrize("change, words", [
    (lambda m, a: m.update({"earlier_runs": "all"}), "its earlier runs is str, not a list"),
    (lambda m, a: m.update({"earlier_runs": m["earlier_runs"] * 4}), "it lists 9 runs of the loss plot, which keeps 8"),
    (lambda m, a: m["earlier_runs"][0].update({"number": "1"}), "earlier run 1's number is str, not a number"),
    (lambda m, a: m["earlier_runs"][1].update({"number": 1}), "its runs are numbered 1, 1, not from 1 up in order"),
    (lambda m, a: m["earlier_runs"][0].update({"number": 0}), "its runs are numbered 0, 2"),
    (lambda m, a: m["model_run"].update({"number": 2}), "its runs are numbered 1, 2, 2"),
    (lambda m, a: m.update({"model_run": [3]}), "the model's run is list, not a table of named values"),
    (lambda m, a: m["model_run"].pop("settings"), "the model's run's settings is NoneType"),
    (lambda m, a: m["earlier_runs"][0].update({"settings": "λ=0"}), "earlier run 1's settings is str"),
    (lambda m, a: m["earlier_runs"][1].update({"metrics": ["rmse"]}), "earlier run 2's metrics are not two names"),
    (lambda m, a: m["earlier_runs"][1].update({"metrics": ["rmse", 2]}), "earlier run 2's metrics are not two names"),
    (lambda m, a: m["earlier_runs"][0].update({"validated": 1}), "earlier run 1's validated is int, not true or"),
    (lambda m, a: m["earlier_runs"][0].update({"rows": -1}), "earlier run 1 has -1 epochs"),
    (lambda m, a: m["earlier_runs"][0].update({"rows": 5}),
     "its earlier runs' curves are a float64 array of shape (7, 6), not 8 epochs × 6 numbers"),
    (lambda m, a: a.update({"earlier_runs": a["earlier_runs"][:, :4]}), "array of shape (7, 4), not 7 epochs × 6"),
    (lambda m, a: a.update({"earlier_runs": np.zeros((7, 6), dtype=int)}), "are a int64 array of shape (7, 6)"),
    (lambda m, a: a.pop("earlier_runs"), "it lists 2 earlier runs but has no earlier_runs array"),
    (lambda m, a: poke_curves(a, (5, 0), 0.0), "earlier run 2's epochs are not whole numbers going up"),
    (lambda m, a: poke_curves(a, (1, 0), 0.5), "earlier run 1's epochs are not whole numbers going up"),
    (lambda m, a: poke_curves(a, (0, 0), -1.0), "earlier run 1's epochs are not whole numbers going up"),
    (lambda m, a: poke_curves(a, (3, 0), np.inf), "earlier run 1's epochs are not whole numbers going up"),
    (lambda m, a: poke_curves(a, (4, 3), np.nan), "earlier run 2's cost is not a finite number at every epoch"),
    (lambda m, a: poke_curves(a, (2, 1), np.inf), "earlier run 1's cost is not a finite number at every epoch"),
    (lambda m, a: poke_curves(a, (4, 5), -np.inf), "earlier run 2's validation scores are not all finite numbers"),
])
def test_runs_that_lie_are_refused(tmp_path, saved_runs, change, words):
    meta, arrays, _ = saved_runs
    assert words in invalid(write(tmp_path, *runs_changed(meta, arrays, change)))


def test_curves_past_what_the_file_could_hold_are_refused_before_they_are_inflated(tmp_path, saved_runs,
                                                                                   monkeypatch):
    """A run's curves are learned numbers; a member of zeros deflates 1,000 to 1 and declares what it likes."""
    meta, arrays, _ = saved_runs
    rows = 1_400_000  # 67.2 MB of zeros

    def declare(meta, arrays):
        meta["earlier_runs"] = meta["earlier_runs"][:1]
        meta["earlier_runs"][0]["rows"] = rows
        arrays["earlier_runs"] = np.zeros((rows, 6))

    path = tmp_path / "inflating.cfx"
    path.write_bytes(project_bytes(*runs_changed(meta, arrays, declare)))
    assert path.stat().st_size < MB
    largest_read = sizes_of_arrays_read(monkeypatch)
    assert invalid(path) == "its earlier runs' curves declare 67.2 MB: not what a file of this size holds"
    assert max(largest_read) < MB


def test_curves_the_description_does_not_list_are_not_read(tmp_path, saved_runs, monkeypatch):
    """An earlier_runs array beside a description listing no earlier runs was inflated all the same, past any
    bound (the check of its header had let it through unread): 192 MB of zeros from a 188 KB file."""
    meta, arrays, _ = saved_runs

    def unlisted(meta, arrays):
        meta.pop("earlier_runs")
        arrays["earlier_runs"] = np.zeros((1_400_000, 6))

    path = tmp_path / "unlisted.cfx"
    path.write_bytes(project_bytes(*runs_changed(meta, arrays, unlisted)))
    assert path.stat().st_size < MB
    largest_read = sizes_of_arrays_read(monkeypatch)
    project = load_project(path)
    assert project.earlier_runs == [] and project.model is not None
    assert max(largest_read) < MB


def test_a_runs_settings_are_kept_to_what_names_a_run(tmp_path, saved_runs):
    """A run's settings were any table of values: 20,000 names in each run made every Train a quarter of a second
    slower (the legend compares each run's settings with every other's). Kept: a few dozen names of numbers, words,
    flags and short lists; the rest is left out."""
    meta, arrays, _ = saved_runs

    def swollen(meta, arrays):
        settings = meta["earlier_runs"][0]["settings"]
        settings.update({f"name {k}": k for k in range(20_000)})
        settings.update({"nested": {"a": 1}, "long": "x" * 1000, "deep": [[1, 2]]})

    project = load_project(write(tmp_path, *runs_changed(meta, arrays, swollen)))
    settings = project.earlier_runs[0].settings
    assert len(settings) <= 64 and settings["reg"] == 0.0 and settings["hidden"] == [8, 4]
    assert not {"nested", "long", "deep"} & set(settings)
    assert project.earlier_runs[0] != project.earlier_runs[1]  # runs compare by identity (not an array's ==)
