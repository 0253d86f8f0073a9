"""The command line as scripts use it, on real files: the entry point's ``main(argv)`` with its standard streams
and exit status. A few tests run it as a real process (``python -m cfexplorer``: one JSON object on standard
output, the exit status of a bad file, a pipe closed early); the rest call the same ``main`` in this process,
where starting Python, numpy and pandas again took most of each test's 1-3 s."""

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from types import SimpleNamespace

import numpy as np
import pytest

from cfexplorer.core.synthetic import low_rank


def run_process(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "cfexplorer", *args], capture_output=True, text=True,
                          timeout=timeout)


def run(*args):
    """``cfexplorer *args`` in this process: what it printed on each stream and its exit status, as
    :func:`run_process` gives them (argparse's errors exit through SystemExit)."""
    from cfexplorer import cli

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = cli.main(list(args))
        except SystemExit as exit_:
            # as the interpreter turns it into a process's status: None is 0, a message is 1
            status = 0 if exit_.code is None else exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["cfexplorer", *args], status, out.getvalue(), err.getvalue())


N_RATINGS = low_rank(n_users=60, n_items=40, rank=2, density=0.5, seed=0).n_ratings


@pytest.fixture
def ratings_file(tmp_path):
    ratings = low_rank(n_users=60, n_items=40, rank=2, density=0.5, seed=0)
    frame = ratings.to_frame()
    frame["rating"] = np.clip(np.round(frame["rating"] * 2) / 2, 0.5, 5)
    path = tmp_path / "ratings.csv"
    frame.rename(columns={"user": "userId", "item": "movieId"}).to_csv(path, index=False)
    return path


def test_train_prints_json_with_the_stable_keys(ratings_file):
    done = run_process("train", str(ratings_file), "--factors", "2", "--epochs", "5", "--json")
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
    assert 0 <= results["test_accuracy"] <= 1 and 0 <= results["test_auc"] <= 1
    constant = run("train", str(ratings_file), "--binary", "--like-threshold", "3", "--model", "global_mean", "--json")
    baseline = json.loads(constant.stdout)
    assert baseline["test_auc"] == 0.5  # one probability for every pair ranks nothing
    # the factorization learned the low-rank likes: better probabilities and ranking than the like rate
    assert results["test_bce"] < baseline["test_bce"] and results["test_auc"] > 0.55


@pytest.mark.parametrize("optimizer", ["gd", "adam", "sgd", "als"])
def test_each_optimizer_runs_from_the_command_line(ratings_file, optimizer):
    step = () if optimizer == "als" else ("--lr", "0.001")  # ALS takes no learning rate (one would be refused)
    done = run("train", str(ratings_file), "--optimizer", optimizer, "--epochs", "3", *step, "--json")
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
    factors = [] if model == "global_mean" else ["--factors", "4"]  # the global mean has none (refused)
    done = run("train", str(ratings_file), "--model", model, "--epochs", "3", *factors, "--json", *extra)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["model"] == model and results["epochs"] == 3
    assert results["n_train"] + results["n_test"] == N_RATINGS and results["n_test"] == round(0.2 * N_RATINGS)
    assert 0 < results["test_mae"] <= results["test_rmse"]  # the mean absolute error never exceeds the RMS error
    if binary:
        assert 0 < results["test_bce"] and 0 <= results["test_accuracy"] <= 1 and 0 <= results["test_auc"] <= 1
        assert results["test_rmse"] <= 1  # probabilities against 0/1 labels
    else:
        assert results["test_rmse"] <= 4.5  # predictions stay on the 0.5-5 scale


# --- bad inputs: exit status 2 and one line, never a traceback (issue #16) --------------------------------
def _bad_inputs(tmp_path):
    """(name, path) of each file a user reported, made small."""
    from tests.io.hostile_files import npy_bytes, npz_bytes, xlsx_bytes

    from cfexplorer.core.mf import MatrixFactorization
    from cfexplorer.io.project import Project, save_project

    made = {}
    path = tmp_path / "huge_values.csv"
    path.write_text("user,item,rating\n1,1,1e308\n1,2,1e308\n2,1,-1e308\n2,2,3\n3,1,4\n3,2,2\n")
    made["1e308 ratings"] = path
    path = tmp_path / "far.xlsx"
    path.write_bytes(xlsx_bytes({"A1": "x", "XFD1048576": 1}, dimension="A1:XFD1048576"))
    made["xlsx declaring XFD1048576"] = path
    path = tmp_path / "far_nodim.xlsx"
    path.write_bytes(xlsx_bytes({"A1": "x", "XFD1048576": 1}, dimension=None))
    made["xlsx reaching XFD1048576"] = path
    path = tmp_path / "one_line.csv"
    path.write_text(",".join(["1"] * 1_000_000))
    made["a million columns"] = path
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.csv")
        made["FIFO"] = tmp_path / "fifo.csv"
    if os.path.exists("/dev/zero"):
        made["/dev/zero"] = "/dev/zero"
    ratings = low_rank(n_users=5, n_items=4, rank=2, density=0.8, seed=0)
    state = MatrixFactorization(n_factors=2, n_epochs=2, optimizer="adam").fit(ratings).get_state()
    state["param_item_factors"] = np.full_like(state["param_item_factors"], np.nan)
    path = tmp_path / "nan_model.cfx"
    save_project(path, Project(ratings, {}, state))
    made["project with a NaN model"] = path
    path = tmp_path / "bomb.cfx"
    path.write_bytes(npz_bytes({"users": npy_bytes((1_825_000_000, 1), "<i8", data=bytes(2**20)),
                                "items": np.zeros(1, int), "values": np.ones(1), "meta": np.zeros(2, np.uint8)}))
    made["project declaring 14.6 GB"] = path
    path = tmp_path / "factors.npz"
    path.write_bytes(npz_bytes({"item_factors": npy_bytes((1_825_000_000, 1), data=b"")}))
    made["an .npz given as ratings"] = path
    return made


def test_every_bad_input_exits_2_with_one_line(tmp_path, capsys):
    from cfexplorer import cli

    for name, path in _bad_inputs(tmp_path).items():
        code = cli.main(["train", str(path)])
        captured = capsys.readouterr()
        assert code == 2, name
        assert captured.out == "", name
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"cfexplorer: error: {path}"), (name, captured.err)
        assert "Traceback" not in captured.err and "regularization" not in captured.err, name


def test_every_bad_option_value_exits_2_with_one_line_that_names_it(ratings_file, capsys):
    from cfexplorer import cli

    bad = {("--factors", "-3"): "factors", ("--epochs", "-1"): "epochs", ("--test-fraction", "1"): "test fraction",
           ("--reg", "-1"): "regularization", ("--batch-size", "0"): "batch size",
           ("--init-scale", "-1"): "initial scale", ("--seed", "-5"): "seed",
           ("--optimizer", "adam", "--lr", "-1"): "learning rate",
           ("--like-threshold", "3"): "--like-threshold applies with --binary"}  # else ignored, silently
    for options, named in bad.items():
        code = cli.main(["train", str(ratings_file), *options])
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert code == 2 and captured.out == "", options
        assert len(lines) == 1 and lines[0].startswith("cfexplorer: error:") and named in lines[0], (options, lines)


OPTIONS_THAT_CHANGE_NOTHING = {
    ("--model", "global_mean", "--factors", "5"): "--factors would change nothing for --model global_mean",
    ("--model", "neural", "--optimizer", "adam"): "--optimizer would change nothing for --model neural",
    ("--model", "bayes", "--reg", "5"): "--reg would change nothing for --model bayes",
    ("--model", "bayes", "--bias-reg", "0"): "--bias-reg would change nothing for --model bayes",  # 0 given
    ("--model", "content", "--mean-normalization"): "--mean-normalization would change nothing for --model content",
    ("--burn-in", "2"): "--burn-in would change nothing for --model mf",
    ("--lr", "0.1"): "--lr (alternating least squares takes no steps",
    ("--batch-size", "7"): "--batch-size (als reads every rating",
    ("--optimizer", "gd", "--batch-size", "7"): "--batch-size (gd reads every rating",
    ("--init", "normal", "--init-scale", "0.5"): "--init-scale (it scales --init small, and the start is normal)",
    ("--no-user-bias", "--no-movie-bias", "--bias-reg", "1"): "--bias-reg (the model learns no bias)",
    ("--master", "local[2]"): "--master apply with --engine spark",
    ("--model-dir", "x", "--spark-reg", "0.1"): "--spark-reg, --model-dir apply with --engine spark",
    ("--engine", "spark", "--lr", "0.1"): "--lr would change nothing for --engine spark",
    ("--engine", "spark", "--reg", "1", "--spark-reg", "0.1"): "--reg (with --spark-reg) would change nothing",
}


@pytest.mark.parametrize("options", OPTIONS_THAT_CHANGE_NOTHING)
def test_an_option_that_would_change_nothing_exits_2_with_one_line_that_names_it(ratings_file, options):
    done = run("train", str(ratings_file), "--epochs", "2", *options)
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and done.stdout == "", (options, done.stderr)
    assert len(lines) == 1 and lines[0].startswith("cfexplorer: error:"), (options, lines)
    assert OPTIONS_THAT_CHANGE_NOTHING[options] in lines[0], (options, lines)


def test_the_options_that_apply_to_the_dot_product_model_change_it(ratings_file):
    """--mean-normalization and the bias switches were taken and ignored for dot_bias (the same RMSE)."""
    def test_rmse(*options):
        done = run("train", str(ratings_file), "--model", "dot_bias", "--epochs", "5", *options, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["test_rmse"]

    plain = test_rmse()
    for options in (("--mean-normalization",), ("--no-user-bias",), ("--no-movie-bias",)):
        assert test_rmse(*options) != plain, options
    assert test_rmse("--no-user-bias", "--no-movie-bias") != test_rmse("--no-user-bias")


@pytest.mark.parametrize("options", [("--reg", "nan"), ("--optimizer", "adam", "--lr", "inf"),
                                     ("--bias-reg", "inf"), ("--test-fraction", "nan"), ("--init-scale", "inf"),
                                     ("--binary", "--like-threshold", "nan")])
def test_a_number_that_is_not_finite_is_refused_by_name(ratings_file, options):
    done = run("train", str(ratings_file), *options)
    lines = done.stderr.splitlines()
    name = options[-2]
    assert done.returncode == 2 and lines == [f"cfexplorer: error: {name} must be a finite number, not "
                                              f"{float(options[-1])}"], (options, lines)


@pytest.mark.parametrize("model", ["mf", "dot_bias", "neural", "content", "bayes"])
def test_settings_that_cannot_fit_in_memory_are_refused_before_anything_is_allocated(ratings_file, model):
    """Terabytes of factors: a traceback of numpy's MemoryError before, or (bayes) the system killing the process."""
    done = run("train", str(ratings_file), "--model", model, "--epochs", "1", "--factors", "100000000")
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1, (model, done.stderr)
    assert lines[0].startswith("cfexplorer: error: these settings need at least") and "GB of memory" in lines[0]
    assert "choose fewer factors" in lines[0]


def test_memory_that_runs_out_while_training_is_one_line(ratings_file, monkeypatch):
    from cfexplorer.core.mf import MatrixFactorization

    def out_of_memory(self, *args, **kwargs):
        raise MemoryError
        yield

    monkeypatch.setattr(MatrixFactorization, "iter_fit", out_of_memory)
    done = run("train", str(ratings_file))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"cfexplorer: error: not enough memory to train --model mf with these "
                                        f"settings on {ratings_file}"]


def test_a_value_argparse_refuses_is_one_line_pointing_to_help(ratings_file):
    for options, named in ((("--epochs", "abc"), "--epochs"), (("--model", "nosuch"), "--model")):
        done = run("train", str(ratings_file), *options)
        lines = done.stderr.splitlines()
        assert done.returncode == 2 and len(lines) == 1, lines
        assert lines[0].startswith("cfexplorer train: error: argument ") and named in lines[0]
        assert lines[0].endswith("(see cfexplorer train --help)")


def test_the_bayesian_models_own_settings_are_named_as_the_options_say(ratings_file):
    done = run("train", str(ratings_file), "--model", "bayes", "--burn-in", "-1", "--epochs", "3")
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["cfexplorer: error: the burn-in must be a whole number >= 0; got -1"]


def test_likes_that_are_all_alike_are_said_to_be(tmp_path, capsys):
    from cfexplorer import cli

    path = tmp_path / "low.csv"
    path.write_text("user,item,rating\n1,1,2\n1,2,3\n2,1,1\n2,2,2\n3,1,3\n3,2,1\n")
    assert cli.main(["train", str(path), "--binary", "--like-threshold", "4", "--epochs", "2", "--json"]) == 0
    captured = capsys.readouterr()
    assert f"cfexplorer: warning: {path}: every rating is a dislike (0) at --like-threshold 4" in captured.err
    assert '"test_auc": null' in captured.out  # no positive to rank: no AUC, and still valid JSON
    assert cli.main(["train", str(path), "--binary", "--like-threshold", "2", "--epochs", "2"]) == 0
    assert "warning" not in capsys.readouterr().err
    likes = tmp_path / "likes.csv"
    likes.write_text("user,item,rating\n1,1,1\n1,2,0\n2,1,0\n2,2,1\n")
    assert cli.main(["train", str(likes), "--binary", "--like-threshold", "0.5"]) == 2  # a threshold would do nothing
    assert "holds likes already" in capsys.readouterr().err


def test_a_file_larger_than_free_memory_exits_2_with_one_line(tmp_path, capsys, monkeypatch, ratings_file):
    from cfexplorer import cli
    from cfexplorer.io import limits

    monkeypatch.setattr(limits, "available_memory", lambda: 1000)
    assert cli.main(["train", str(ratings_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reading this file needs about" in err and "1.0 kB is free" in err


def test_the_user_reported_file_exits_2_in_a_real_process(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user,item,rating\n1,1,1e308\n1,2,1e308\n2,1,-1e308\n2,2,3\n3,1,4\n3,2,2\n")
    done = run_process("train", str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"cfexplorer: error: {path}, line 2: rating 1e+308 is beyond ±1,000,000, more than "
                           "any rating scale this app can show\n")


def test_a_damaged_movies_csv_is_a_warning_and_training_goes_on(tmp_path):
    path = tmp_path / "ratings.csv"
    frame = low_rank(n_users=20, n_items=10, rank=2, density=0.8, seed=0).to_frame()
    frame["rating"] = np.clip(np.round(frame["rating"]), 1, 5)
    frame.rename(columns={"user": "userId", "item": "movieId"}).to_csv(path, index=False)
    (tmp_path / "movies.csv").write_text("id,title\n1,Heat\n")
    done = run("train", str(path), "--epochs", "2", "--json")
    assert done.returncode == 0, done.stderr
    assert f"cfexplorer: warning: {path}: titles not loaded: {tmp_path / 'movies.csv'}: no movieId column" in done.stderr
    assert json.loads(done.stdout)["epochs"] == 2


def test_a_project_trains_on_its_ratings(tmp_path):
    from cfexplorer.io.project import Project, save_project

    path = tmp_path / "lesson.cfx"
    save_project(path, Project(low_rank(n_users=20, n_items=10, rank=2, density=0.8, seed=0)))
    done = run("train", str(path), "--epochs", "2", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n_users"] == 20


def test_the_bayesian_model_trains_from_the_command_line_and_refuses_likes(ratings_file):
    done = run("train", str(ratings_file), "--model", "bayes", "--epochs", "40", "--burn-in", "10", "--factors", "2",
               "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["model"] == "bayes" and results["epochs"] == 40
    from cfexplorer.core.mf import GlobalMeanBaseline
    from cfexplorer.core.ratings import train_test_split
    from cfexplorer.io.readers import read_any

    train, test = train_test_split(read_any(ratings_file).ratings, 0.2, seed=0)  # the CLI's split
    constant = GlobalMeanBaseline().fit(train).score(test)["rmse"]
    assert results["test_rmse"] < 0.7 * constant  # it learned the rank-2 matrix
    likes = run("train", str(ratings_file), "--model", "bayes", "--binary", "--epochs", "3")
    assert likes.returncode == 2 and likes.stdout == ""
    assert likes.stderr.startswith("cfexplorer: error: the Bayesian model predicts ratings") and likes.stderr.count(
        "\n") == 1


@pytest.mark.parametrize("model", ["neural", "content"])
def test_epochs_0_reports_the_cost_at_the_starting_parameters_for_every_model(ratings_file, model, capsys):
    from cfexplorer import cli

    assert cli.main(["train", str(ratings_file), "--model", model, "--epochs", "0", "--json"]) == 0
    none = capsys.readouterr()
    results = json.loads(none.out)
    assert results["epochs"] == 0 and "epoch 0/0" in none.err
    assert cli.main(["train", str(ratings_file), "--model", model, "--epochs", "1"]) == 0
    one = capsys.readouterr()
    # the same seed starts from the same parameters: epoch 0 of a longer run is the same J
    assert f"epoch 0/1  J={results['cost']:.6g} " in one.err
    assert results["cost"] == pytest.approx(results["data_term"] + results["reg_term"])


def test_info_into_a_pipe_closed_early_ends_quietly(ratings_file):
    """`cfexplorer info ratings.csv | head`: a reader that stops early closed the pipe, and the command died
    with a BrokenPipeError traceback."""
    reader_gone = subprocess.Popen([sys.executable, "-m", "cfexplorer", "info", str(ratings_file)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader_gone.stdout.close()  # as `head` does once it has its lines: every write now fails
    _, errors = reader_gone.communicate(timeout=120)
    assert reader_gone.returncode == 0 and b"Traceback" not in errors and b"BrokenPipe" not in errors


def test_version_says_whether_training_runs_on_the_compiled_kernels(capsys, monkeypatch):
    from cfexplorer import __version__
    from cfexplorer.cli import main
    from cfexplorer.core import kernels

    compiled_with = {widest: SimpleNamespace(vector_extensions=lambda widest=widest: widest)
                     for widest in ("avx512", "avx2", "none")}
    for compiled, said in ((compiled_with["avx512"], "compiled kernels (core/_kernels.c, AVX-512 and AVX2)"),
                           (compiled_with["avx2"], "compiled kernels (core/_kernels.c, AVX2)"),
                           (compiled_with["none"], "compiled kernels (core/_kernels.c, no vector extensions)"),
                           (None, "numpy only")):
        monkeypatch.setattr(kernels, "compiled", compiled)
        with pytest.raises(SystemExit) as exit_:
            main(["--version"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"cfexplorer {__version__}: ") and said in out


def test_info_and_train_say_what_a_headerless_matrix_s_zeros_were_read_as(tmp_path):
    """The window asks whether the zeros of a headerless matrix are ratings; the command line said nothing."""
    path = tmp_path / "matrix.csv"
    path.write_text("1,2,0,4,5,3\n5,0,0,1,2,3\n")
    info = run("info", str(path))
    assert info.returncode == 0 and "9 ratings" in info.stdout
    assert "warning: 3 zeros were read as not rated" in info.stdout
    train = run("train", str(path), "--epochs", "1")
    assert train.returncode == 0
    assert f"cfexplorer: warning: {path}: 3 zeros were read as not rated" in train.stderr


def test_train_refuses_a_file_without_ratings(tmp_path):
    """It trained on nothing: exit 0, n_train 0 and a RMSE of nan."""
    path = tmp_path / "empty.csv"
    path.write_text("user,A,B\nx,?,?\ny,,\n")
    result = run("train", str(path), "--epochs", "3")
    assert result.returncode == 2
    assert result.stderr.strip() == f"cfexplorer: error: {path}: no ratings to train on (every cell is empty or '?')"


def test_a_project_or_a_binary_file_given_to_the_ratings_reader_says_what_it_is(tmp_path):
    """A project read as ratings said "not a text file"; a file of NULs was read whole before it was refused."""
    from cfexplorer.io.readers import RatingsFileError, read_any

    project = tmp_path / "lesson.cfx"
    project.write_bytes(b"PK\\x03\\x04" + bytes(100))
    with pytest.raises(RatingsFileError, match="this is a CF Explorer project, not a table of ratings"):
        read_any(project)
    nuls = tmp_path / "zeros.csv"
    with open(nuls, "wb") as handle:
        handle.truncate(2**30)  # a gigabyte of NULs, sparse: read whole, it took a gigabyte of memory
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(RatingsFileError, match="not a text file"):
            read_any(nuls)
        assert tracemalloc.get_traced_memory()[1] < 2**20
    finally:
        tracemalloc.stop()
