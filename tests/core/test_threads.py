"""BLAS threads are chosen by one function, at every entry point that trains."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cfexplorer.core.threads import ENVIRONMENT_VARIABLE, blas_threads_wanted

REPORT_BLAS = ("from threadpoolctl import threadpool_info; import json; "
               "print(json.dumps([p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']))")


def blas_threads_after(code: str, environment: dict | None = None) -> list[int]:
    """Thread counts of every loaded BLAS in a fresh interpreter after running ``code``."""
    env = {name: value for name, value in os.environ.items() if name != ENVIRONMENT_VARIABLE}
    env.update(environment or {})
    result = subprocess.run([sys.executable, "-c", code + "\n" + REPORT_BLAS], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_fresh_interpreter_starts_with_more_than_one_blas_thread_here():
    """What the entry points change: without them this machine's BLAS starts a pool (skip on one core)."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: BLAS starts with one thread anyway")
    assert max(blas_threads_after("import numpy, scipy.linalg", {"OPENBLAS_NUM_THREADS": ""})) > 1


def test_choose_blas_threads_limits_numpy_and_a_blas_loaded_afterwards():
    threads = blas_threads_after("from cfexplorer.core.threads import choose_blas_threads\n"
                                 "assert choose_blas_threads() == 1\n"
                                 "import scipy.linalg")
    assert threads and all(count == 1 for count in threads)


def test_the_environment_variable_chooses_another_number():
    threads = blas_threads_after("import numpy\nfrom cfexplorer.core.threads import choose_blas_threads\n"
                                 "assert choose_blas_threads() == 2", {ENVIRONMENT_VARIABLE: "2"})
    assert threads and all(count == 2 for count in threads)


@pytest.mark.parametrize("text", ["zero", "0", "-3"])
def test_a_bad_environment_variable_falls_back_to_one_thread_with_a_warning(monkeypatch, text):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, text)
    with pytest.warns(RuntimeWarning, match=ENVIRONMENT_VARIABLE):
        assert blas_threads_wanted() == 1


def test_cli_train_runs_with_one_blas_thread(tmp_path):
    path = tmp_path / "ratings.csv"
    rng = np.random.default_rng(0)
    rows = [f"{u},{i},{rng.integers(1, 6)}" for u in range(12) for i in range(10) if rng.random() < 0.7]
    path.write_text("user,item,rating\n" + "\n".join(rows) + "\n")
    threads = blas_threads_after("import contextlib, io\nfrom cfexplorer.cli import main\n"
                                 "with contextlib.redirect_stdout(io.StringIO()):\n"
                                 f"    assert main(['train', {str(path)!r}, '--epochs', '2', '--json']) == 0")
    assert threads and all(count == 1 for count in threads)


def test_compare_runs_with_one_blas_thread():
    threads = blas_threads_after(
        "from cfexplorer.core.compare import Candidate, compare\n"
        "from cfexplorer.core.synthetic import planted_tastes\n"
        "compare([Candidate('mf', 'mf', {'n_epochs': 2})], planted_tastes(seed=1))")
    assert threads and all(count == 1 for count in threads)


def test_the_command_line_says_a_bad_environment_variable_in_one_line(tmp_path):
    """A user's typo in the variable is one line on the terminal, as the command line's errors are; Python's
    form of a warning adds the file, line and source of the call in the package."""
    path = tmp_path / "ratings.csv"
    path.write_text("user,item,rating\n1,1,4\n1,2,3\n2,1,5\n")
    env = {**os.environ, ENVIRONMENT_VARIABLE: "abc"}
    result = subprocess.run([sys.executable, "-m", "cfexplorer", "train", str(path), "--epochs", "1", "--json"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    warning, *progress = result.stderr.splitlines()
    assert warning == f"cfexplorer: warning: {ENVIRONMENT_VARIABLE}='abc' is not a whole number >= 1; using 1 BLAS thread"
    assert all(line.startswith("epoch ") for line in progress)  # the epochs' lines go there too, with --json
