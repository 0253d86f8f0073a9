"""The code writer on its own: literals that evaluate to exactly the values they stand for, large edited
ratings written beside the code, and the script and notebook made of the same sections."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from cfexplorer.core.models import make_model
from cfexplorer.core.ratings import Ratings
from cfexplorer.io import code_export
from cfexplorer.io.code_export import RunRecipe, literal, notebook, script_text, write_code

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=12)
                | st.none() | st.booleans(), max_size=30))
def test_a_literal_evaluates_to_exactly_its_value(values):
    again = eval(literal(values))  # noqa: S307 - the text under test is our own
    assert len(again) == len(values)
    for a, b in zip(again, values):
        assert (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b
        assert type(a) is type(b)


def test_titles_that_contain_nan_or_inf_stay_as_written():
    titles = ["Nanny McPhee", "Infinity War", "nan", "inf"]
    assert eval(literal(np.array(titles, dtype=object))) == titles  # noqa: S307


def test_a_table_literal_keeps_its_columns_index_and_values():
    table = pd.DataFrame({"year": [1995.0, float("nan")], "Comedy": [1.0, 0.0]},
                         index=pd.Index(["Toy Story", "Heat"], name="movie"))
    again = eval(literal(table), {"pd": pd})  # noqa: S307
    pd.testing.assert_frame_equal(again, table)


def _ratings(n_users=30, n_items=20, density=0.5, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    users, items = np.nonzero(mask)
    values = rng.integers(1, 11, size=len(users)) / 2
    return Ratings(users, items, values, [f"user {u}" for u in range(n_users)],
                   [f"movie {i}" for i in range(n_items)])


def _run(path: Path) -> dict:
    runner = ("import json, runpy, sys; names = runpy.run_path(sys.argv[1]); "
              "print('RESULT', json.dumps(names['model'].history_[-1].total))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", runner, str(path)], cwd=path.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("RESULT ")[-1])


def test_large_edited_ratings_go_into_a_project_beside_the_code(tmp_path, monkeypatch):
    monkeypatch.setattr(code_export, "EMBED_MAX_RATINGS", 50)
    ratings = _ratings()
    assert ratings.n_ratings > 50
    model = make_model("mf", n_factors=2, n_epochs=15, optimizer="adam", learning_rate=0.05)
    model.fit(ratings)
    recipe = RunRecipe("edited", "mf", model.get_params(), ratings)
    written = write_code(recipe, tmp_path / "big run.py")
    assert [p.name for p in written] == ["big run.py", "big run-ratings.cfx"]
    text = written[0].read_text()
    assert "big run-ratings.cfx" in text and "api.Ratings(" not in text
    assert _run(written[0]) == pytest.approx(model.history_[-1].total, rel=1e-9)


def test_script_and_notebook_are_the_same_sections():
    ratings = _ratings(6, 5)
    recipe = RunRecipe("same", "biases", {"n_epochs": 3}, ratings, validation_fraction=0.25, validation_seed=7)
    script = script_text(recipe)
    cells = notebook(recipe)["cells"]
    codes = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    assert len(codes) == len(code_export.sections(recipe, for_notebook=True))
    for code in codes[1:-1]:  # setup and plots differ (a script writes a file, a notebook shows the figure)
        assert code in script
    assert "api.train_test_split(ratings, 0.25, seed=7)" in script
    compile(script, "exported.py", "exec")
    for code in codes:
        compile(code, "cell", "exec")


def test_a_long_run_prints_about_a_hundred_epochs_and_keeps_them_all(tmp_path):
    ratings = _ratings(8, 6)
    recipe = RunRecipe("long", "biases", {"n_epochs": 1000}, ratings)
    path = write_code(recipe, tmp_path / "long.py")[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    epoch_lines = [line for line in done.stdout.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    assert 90 <= len(epoch_lines) <= 110
    assert epoch_lines[-1].split()[0] == "1000"
