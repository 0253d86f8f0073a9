"""The command line as the course lab uses it: J at given parameters (--params, --epochs 0), the
initializations, and `cfexplorer info`."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cfexplorer import cli

from .course_lab import lab_subset_grid


def run(*args):
    return subprocess.run([sys.executable, "-m", "cfexplorer", *args], capture_output=True, text=True, timeout=120)


def main(capsys, *args):
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def tiny(tmp_path):
    """Two movies × two users with three ratings (the grid as the course draws it: movies down, users across),
    and parameters whose J is worked out by hand: data 2.125, |X|² = |W|² = 6."""
    grid = tmp_path / "tiny.csv"
    grid.write_text("movie,u0,u1\nm0,3,4\nm1,?,1\n")
    params = tmp_path / "params.npz"
    np.savez(params, item_factors=[[1.0, 2.0], [0.0, 1.0]], user_factors=[[1.0, 0.0], [2.0, 1.0]],
             user_bias=[0.5, -1.0])
    return grid, params


def test_params_with_epochs_0_prints_j_at_exactly_those_parameters(tiny):
    grid, params = tiny
    done = run("train", str(grid), "--params", str(params), "--epochs", "0", "--reg", "1.5", "--bias-reg", "0",
               "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    # z = 1.5, 3, 0 against 3, 4, 1 (no offset: the model is w·x + b as the file has it)
    assert results["data_term"] == pytest.approx(2.125)
    assert results["reg_term"] == pytest.approx(0.75 * 12)
    assert results["cost"] == pytest.approx(11.125) and results["reg"] == 1.5
    # the scale is 1 to 5 (whole stars): z = 0 predicts 1, so the errors are -1.5, -1 and 0
    assert results["train_rmse"] == pytest.approx(np.sqrt(3.25 / 3))
    assert results["epochs"] == 0 and results["n_train"] == 3 and results["n_test"] == 0  # nothing held out
    assert results["params"] == "params.npz, 2 factors, rows by order"
    assert "epoch 0/0  J=11.125 (data 2.125 + reg 9)" in done.stderr


def test_the_biases_of_the_file_decide_the_model_and_the_flags_can_drop_them(capsys, tiny):
    grid, params = tiny
    code, out, _ = main(capsys, "train", str(grid), "--params", str(params), "--epochs", "0", "--reg", "0",
                        "--no-user-bias", "--json")
    assert code == 0
    assert json.loads(out)["data_term"] == pytest.approx(2.0)  # z = 1, 4, 1 without b


def test_training_continues_from_the_parameters(capsys, tiny):
    grid, params = tiny
    code, out, err = main(capsys, "train", str(grid), "--params", str(params), "--epochs", "40", "--reg", "1",
                          "--bias-reg", "0", "--optimizer", "adam", "--lr", "0.1", "--json")
    assert code == 0, err
    results = json.loads(out)
    assert results["epochs"] == 40 and results["cost"] < 0.5 * 8.125
    lines = err.splitlines()
    assert lines[0].startswith("epoch 0/40  J=8.125") and lines[-1].startswith("epoch 40/40")


def test_the_labs_csv_files_give_the_first_k_factors(capsys, tmp_path, tiny):
    grid, _ = tiny
    x, w, b = (tmp_path / f"lab_{name}.csv" for name in "XWb")
    x.write_text("1,2,7\n0,1,7\n5,5,5\n")  # three movies, three factors: the grid takes 2 × 2 of them
    w.write_text("1,0,7\n2,1,7\n")
    b.write_text("0.5,-1\n")
    code, out, err = main(capsys, "train", str(grid), "--params", str(w), str(b), str(x), "--factors", "2",
                          "--epochs", "0", "--reg", "1", "--bias-reg", "0", "--json")
    assert code == 0, err
    results = json.loads(out)
    assert results["cost"] == pytest.approx(8.125)
    assert results["params"] == "lab_X.csv, lab_W.csv, lab_b.csv, 2 factors, rows by order: the first 2 of 3 movies"


def test_bad_parameters_exit_2_with_one_line_naming_the_file(capsys, tmp_path, tiny):
    grid, params = tiny
    bad = tmp_path / "bad_X.csv"
    bad.write_text("1,2\n3,x\n")
    w = tmp_path / "bad_W.csv"
    w.write_text("1,2\n3,4\n")
    for arguments, expected in (
        ([str(bad), str(w)], f"cfexplorer: error: {bad}, line 2: 'x' is not a number"),
        ([str(params), "--factors", "3"], "Factors k must be at most 2, not 3"),
        ([str(tmp_path / "missing.npz")], f"cfexplorer: error: {tmp_path / 'missing.npz'}: no such file"),
    ):
        code, out, err = main(capsys, "train", str(grid), "--epochs", "0", "--params", *arguments)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and expected in err, err
    code, _, err = main(capsys, "train", str(grid), "--model", "neural", "--params", str(params))
    assert code == 2 and "--params apply to matrix factorization" in err


def test_init_normal_starts_in_the_labs_scale_and_init_scale_in_its_own(capsys, tmp_path):
    rng = np.random.default_rng(0)
    rows = [f"{u},{i},{rng.integers(1, 6)}" for u in range(40) for i in range(30) if rng.random() < 0.5]
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating\n" + "\n".join(rows) + "\n")
    n = len(rows)
    costs = {}
    for options in (("--init", "normal"), ("--init", "small", "--init-scale", "0"), ("--init-scale", "1")):
        code, out, err = main(capsys, "train", str(path), "--factors", "20", "--epochs", "0", "--test-fraction", "0",
                              "--reg", "1", "--bias-reg", "0", "--mean-normalization", *options, "--json")
        assert code == 0, err
        costs[options] = json.loads(out)
    normal = costs[("--init", "normal")]
    # N(0, 1) everywhere: about 1/2 (k + 2 + var) per rating, 1/2 per factor (lambda = 1)
    assert normal["data_term"] == pytest.approx(0.5 * n * 23, rel=0.25)
    assert normal["reg_term"] == pytest.approx(0.5 * 20 * (40 + 30), rel=0.1)
    zero = costs[("--init", "small", "--init-scale", "0")]
    assert zero["reg_term"] == 0 and zero["train_rmse"] < 1.5  # predicts the movie means
    assert costs[("--init-scale", "1")]["reg_term"] == pytest.approx(normal["reg_term"], rel=0.1)


def test_the_labs_cost_from_the_command_line(capsys, shared_data, tmp_path):
    """The lab's 5 movies × 4 users × 3 features: J = 13.67 at λ = 0 and 28.09 at λ = 1.5."""
    grid = tmp_path / "lab_subset.csv"
    params = [str(path) for path in lab_subset_grid(shared_data, grid)]
    printed = {}
    for reg in ("0", "1.5"):
        code, out, err = main(capsys, "train", str(grid), "--params", *params, "--factors", "3", "--epochs", "0",
                              "--reg", reg, "--bias-reg", "0", "--json")
        assert code == 0, err
        printed[reg] = f"{json.loads(out)['cost']:0.2f}"
    assert printed == {"0": "13.67", "1.5": "28.09"}


# --- info -----------------------------------------------------------------------------------------------------
def test_info_prints_the_status_bar_summary_and_what_the_reader_decided(capsys, tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating\n1,10,4\n1,11,3.5\n2,10,2\n1,10,5\n")
    code, out, _ = main(capsys, "info", str(path))
    assert code == 0
    assert out.splitlines() == [
        f"{path}: 2 users × 2 movies · 3 ratings 0.5 to 5 in steps of 0.5 · density 75.0%",
        "  users from: the column 'userId'",
        "  scale: 0.5 to 5 in steps of 0.5",
        "  duplicates: 1 (the last of each kept)",
        "  format: long",
        "  warning: 1 duplicate (user, item) ratings (first at line 2); the last one in the file was kept",
    ]


@pytest.mark.parametrize("content, users_from, users, movies", [
    ("movie,Alice,Bob,Carol\nHeat,5,?,1\nUp,?,4,\n", "the columns (the corner cell 'movie' names movies)", 3, 2),
    ("user,Heat,Up,Alien\nAlice,5,?,1\nBob,?,4,\n", "the rows", 2, 3),
    ("1\t10\t4\t0\n2\t10\t1\t0\n", "column 1 (no header)", 2, 1),
])
def test_info_json_says_which_axis_holds_the_users(capsys, tmp_path, content, users_from, users, movies):
    path = tmp_path / "grid.tsv" if "\t" in content else tmp_path / "grid.csv"
    path.write_text(content)
    code, out, _ = main(capsys, "info", str(path), "--json")
    assert code == 0
    facts = json.loads(out)
    assert facts["users_from"] == users_from
    assert (facts["users"], facts["movies"], facts["duplicates"]) == (users, movies, 0)
    assert facts["scale"]["high"] == 5 and facts["summary"].startswith(
        f"{users} user{'s' if users != 1 else ''} × {movies} movie{'s' if movies != 1 else ''}")


def test_info_on_a_file_that_cannot_be_read_exits_2_in_one_line(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("user,item,rating\na,x,4\nb,y,lots\n")
    code, out, err = main(capsys, "info", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1 and "line 3" in err


def test_info_on_movielens(shared_data):
    done = run("info", str(shared_data / "ml-latest-small" / "ratings.csv"), "--json")
    facts = json.loads(done.stdout)
    assert (facts["users"], facts["movies"], facts["ratings"], facts["duplicates"]) == (610, 9724, 100836, 0)
    assert facts["scale"] == {"low": 0.5, "high": 5.0, "step": 0.5} and facts["users_from"] == "the column 'userId'"
