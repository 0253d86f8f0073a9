"""A training run written out as code: a Python script and a Jupyter notebook that reproduce it.

Both are made from the same sections (a short markdown note naming the course's formula for the step,
then the code), so that the script and the notebook never drift apart. The code uses only
:mod:`cfexplorer.api`. Reproducing a run exactly needs the same ratings in the same order, the same
settings and seed, the same held-out split and the same number of epochs; :class:`RunRecipe` holds those.

Where the ratings come from, in the code:
  * a built-in example, unedited: ``api.load_example(name)``;
  * a ratings file or project, unedited: its path (``api.read_ratings`` / ``api.open_project``);
  * anything else up to EMBED_MAX_RATINGS ratings: the ratings themselves, written into the code;
  * larger edited data: a project file written beside the code (``<name>-ratings.cfx``).

The notebook is nbformat 4 JSON, written directly: the format is a documented, stable JSON schema, and
the package ``nbformat`` would be a dependency for a dozen lines (tests validate the output with it when
it is installed).
"""

from __future__ import annotations

import json
import math
import pprint
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.ratings import Ratings
from .project import Project, save_project
from .writers import atomic_path

EMBED_MAX_RATINGS = 5_000  # beyond this the ratings go into a file beside the code, not into the code
PRINTED_EPOCHS = 100  # about this many lines of J per run; model.history_ keeps every epoch
SCRIPT_SUFFIX, NOTEBOOK_SUFFIX = ".py", ".ipynb"


@dataclass
class RunRecipe:
    """What reproducing a run needs.

    ``source`` says where the code reads the ratings: ("example", name), ("file", path, binary),
    ("project", path) or ("embedded",). ``ratings`` are the ratings the run trained on (held-out part
    included), used to embed them or write them beside the code."""

    title: str
    kind: str
    params: dict
    ratings: Ratings
    source: tuple = ("embedded",)
    validation_fraction: float = 0.0
    validation_seed: int | None = 0
    note: str = ""  # e.g. "stopped after 37 of 200 epochs in the window"
    companion: Path | None = field(default=None, repr=False)  # set by write_code for large edited data


@dataclass(frozen=True)
class Section:
    markdown: str
    code: str


# --- what each model computes, in the course's notation -----------------------------------------------------
_MODEL_NOTES = {
    "mf": "Matrix factorization, as in the course: the prediction for movie i and user j is "
          "ŷ(i,j) = w⁽ʲ⁾·x⁽ⁱ⁾ + b⁽ʲ⁾ (+ a movie bias) (+ μᵢ, the movie's mean, when mean normalization is on: "
          "a user with no ratings is then predicted μᵢ, not 0).",
    "dot_bias": "fast.ai's dot product with biases and a y-range: "
                "ŷ(i,j) = low + (high − low)·σ(w⁽ʲ⁾·x⁽ⁱ⁾ + b_user⁽ʲ⁾ + b_movie⁽ⁱ⁾).",
    "neural": "Neural collaborative filtering (fast.ai's EmbeddingNN): the user's and the movie's embeddings, "
              "concatenated, go through dense ReLU layers to one output.",
    "content": "Content-based filtering: user features and movie features each go through a tower (dense "
               "layers) to a vector v_u, v_m, L2-normalized; ŷ = v_u·v_m, trained on targets scaled to [−1, 1].",
    "bayes": "Bayesian matrix factorization by Gibbs sampling (BPMF): each epoch draws one sample of every user's "
             "and movie's factors and biases from their conditional distributions; ŷ(i,j) is the mean of "
             "μ + b⁽ʲ⁾ + c⁽ⁱ⁾ + w⁽ʲ⁾·x⁽ⁱ⁾ over the samples after the burn-in, and model.predict_std gives how sure it is.",
    "biases": "Baseline: ŷ(i,j) = μ + b_user⁽ʲ⁾ + b_movie⁽ⁱ⁾, no latent factors.",
    "global_mean": "Baseline: every prediction is μ, the mean of the training ratings.",
}
_SQUARED_COST = ("J = ½ Σ_{r(i,j)=1} (ŷ(i,j) − y(i,j))² + λ/2 (‖W‖² + ‖X‖²) (+ λ_b/2 ‖b‖² for the biases): "
                 "the data term sums over the rated cells only; the regularization term over the parameters.")
_BCE_COST = ("Binary labels (like = 1, dislike = 0): ŷ = σ(z) and the data term is the cross-entropy "
             "−Σ_{r(i,j)=1} [y log ŷ + (1 − y) log(1 − ŷ)]; the regularization term is λ/2 (‖W‖² + ‖X‖²).")


_SAMPLER_COST = ("J = ½ Σ_{r(i,j)=1} (ŷ(i,j) − y(i,j))² at the sample just drawn + σ²/2 Σ_rows (θ − m)ᵀΛ(θ − m) "
                 "with that sample's noise σ² and each side's mean m and precision Λ: the course's J with λ = σ²Λ. "
                 "A chain does not descend to a minimum; J settles and wanders.")


def _cost_note(recipe: RunRecipe) -> str:
    if recipe.kind == "bayes":
        return _SAMPLER_COST
    loss = recipe.params.get("loss", "auto")
    binary = loss == "bce" or (loss == "auto" and recipe.ratings.binary)
    return _BCE_COST if binary else _SQUARED_COST


# --- literals ---------------------------------------------------------------------------------------------
class _NonFinite:
    """A NaN or an infinity, which repr would write as a name Python does not know."""

    def __init__(self, value: float):
        self.value = value

    def __repr__(self) -> str:
        return f'float("{self.value}")'


def _plain(value):
    """numpy scalars and arrays as Python values, so that repr writes them as literals."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return _NonFinite(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def literal(value, indent: int = 0) -> str:
    """Python source that evaluates to ``value`` exactly (floats through repr; NaN and infinities as
    float("…"); tables as pd.DataFrame)."""
    if isinstance(value, pd.DataFrame):
        data = {str(column): _plain(value[column].to_numpy()) for column in value.columns}
        index = _plain(value.index.to_numpy())
        return (f"pd.DataFrame({_format(data, indent + 13)},\n{' ' * (indent + 13)}"
                f"index=pd.Index({_format(index, indent + 28)}, name={value.index.name!r}))")
    return _format(_plain(value), indent)


def _format(value, indent: int) -> str:
    text = pprint.pformat(value, width=max(100 - indent, 40), compact=True, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


# --- the sections -----------------------------------------------------------------------------------------
def sections(recipe: RunRecipe, for_notebook: bool) -> list[Section]:
    ratings = recipe.ratings
    n_epochs = int(recipe.params.get("n_epochs", 0) or 0)
    every = max(1, n_epochs // PRINTED_EPOCHS)
    out = [Section(
        f"# {recipe.title}\n\nA training run of CF Explorer, written out as code: the same ratings, the same "
        f"model with the same settings and seed, the same held-out ratings; it prints the cost J per epoch "
        f"and what the window showed in the \"?\" cells.{(' ' + recipe.note) if recipe.note else ''}",
        _setup_code(for_notebook))]
    out.append(Section(
        f"## The ratings\n\n{ratings.n_users:,} users, {ratings.n_items:,} movies, {ratings.n_ratings:,} ratings. "
        "r(i,j) = 1 where user j rated movie i, and y(i,j) is that rating; every other cell is a \"?\".",
        _data_code(recipe)))
    if recipe.validation_fraction > 0:
        split = (f"train, validation = api.train_test_split(ratings, {recipe.validation_fraction!r}, "
                 f"seed={recipe.validation_seed!r})\n"
                 "if len(validation) == 0:\n    validation = None\n")
        split_note = (f"## Held-out ratings\n\n{recipe.validation_fraction:.0%} of the ratings are held out "
                      "(chosen at random with the run's seed) to score the model on ratings it never saw.")
    else:
        split = "train, validation = ratings, None\n"
        split_note = "## Training set\n\nThe run trained on every rating (nothing held out)."
    out.append(Section(split_note, split))
    params = ",\n".join(f"    {name}={literal(value, 4 + len(name) + 1)}" for name, value in recipe.params.items())
    out.append(Section(
        f"## The model\n\n{_MODEL_NOTES.get(recipe.kind, recipe.kind)}\n\nCost: {_cost_note(recipe)}",
        f"model = api.make_model(\n    {recipe.kind!r},\n{params},\n)\nprint(model)\n"))
    out.append(Section(
        "## Training\n\nEach epoch reports J = data term + regularization term, kept apart as in the window's "
        f"loss curves{'' if every == 1 else f' (printed every {every} epochs; model.history_ holds them all)'}.",
        "print(f\"{'epoch':>6} {'J':>16} {'data term':>16} {'reg. term':>16}  scores\")\n"
        "for record in model.iter_fit(train, validation):\n"
        + (f"    if record.epoch % {every} and record.epoch != model.n_epochs:\n        continue\n" if every > 1 else "")
        + "    scores = '  '.join(f'{name} {value:.4f}' for name, value in record.train.items())\n"
        "    held_out = '  '.join(f'held-out {name} {value:.4f}' for name, value in record.validation.items())\n"
        "    print(f'{record.epoch:6d} {record.total:16.6f} {record.data_term:16.6f} {record.reg_term:16.6f}'\n"
        "          f'  {scores}  {held_out}')\n"
        "final = model.history_[-1]\n"
        "print(f'final J = {final.total!r} (data term {final.data_term!r} + regularization {final.reg_term!r})')\n"))
    out.append(Section(
        "## Predictions for the \"?\" cells\n\nWhat the grid shows where a user has not rated a movie "
        "(best first for each user).",
        "predictions = api.unrated_predictions(model, ratings)\n"
        "print(predictions.head(40).to_string(index=False))\n"))
    out.append(Section(
        "## Loss curves and the factor space\n\nJ and its two terms per epoch; then the movies' learned "
        "factors x⁽ⁱ⁾ projected on their first two principal components (the window's factor space).",
        _plot_code(recipe, for_notebook)))
    return out


def _setup_code(for_notebook: bool) -> str:
    lines = ["from pathlib import Path", "", "import numpy as np", "import pandas as pd", "",
             "from cfexplorer import api", "",
             "api.choose_blas_threads()  # one BLAS thread, as the window uses: the same sums in the same order"]
    if not for_notebook:
        lines.insert(0, "# Run it with:  python <this file>   (pip install cfexplorer[notebook] for the plots)")
    return "\n".join(lines) + "\n"


def _data_code(recipe: RunRecipe) -> str:
    kind = recipe.source[0]
    if kind == "example":
        return f"ratings = api.load_example({recipe.source[1]!r})\nprint(ratings)\n"
    if kind == "file":
        binary = recipe.source[2] if len(recipe.source) > 2 else None
        return f"ratings = api.read_ratings({str(recipe.source[1])!r}, binary={binary!r})\nprint(ratings)\n"
    if kind == "project":
        return f"ratings = api.open_project({str(recipe.source[1])!r}).ratings\nprint(ratings)\n"
    if recipe.companion is not None:
        return ("# The ratings as the window had them (edited), saved beside this file.\n"
                "here = Path(__file__).parent if '__file__' in globals() else Path.cwd()\n"
                f"ratings = api.open_project(here / {recipe.companion.name!r}).ratings\nprint(ratings)\n")
    return _embedded_ratings(recipe.ratings)


def _embedded_ratings(ratings: Ratings) -> str:
    scale = ratings.scale
    info = ""
    if ratings.item_info is not None:
        info = f"    item_info={literal(ratings.item_info.reset_index(drop=True), 14)},\n"
    return (
        "# users[k] rated items[k] with values[k] (indices into the labels below)\n"
        "ratings = api.Ratings(\n"
        f"    users={literal(ratings.users, 10)},\n"
        f"    items={literal(ratings.items, 10)},\n"
        f"    values={literal(ratings.values, 11)},\n"
        f"    user_labels={literal(ratings.user_labels, 16)},\n"
        f"    item_labels={literal(ratings.item_labels, 16)},\n"
        f"    scale=api.RatingScale(low={float(scale.low)!r}, high={float(scale.high)!r}, "
        f"step={None if scale.step is None else float(scale.step)!r}),\n"
        f"    binary={ratings.binary!r},\n"
        f"{info})\nprint(ratings)\n")


def _plot_code(recipe: RunRecipe, for_notebook: bool) -> str:
    backend = "" if for_notebook else "    matplotlib.use('Agg')  # files, not windows: the script runs anywhere\n"
    save = "" if for_notebook else (
        "    figure.savefig(here / 'run-loss-and-factors.png', dpi=100)\n"
        "    print('plots written to', here / 'run-loss-and-factors.png')\n")
    here = "" if for_notebook else "    here = Path(__file__).parent if '__file__' in globals() else Path.cwd()\n"
    return (
        "try:\n"
        "    import matplotlib\n"
        f"{backend}"
        "    import matplotlib.pyplot as plt\n"
        "except ImportError:\n"
        "    plt = None\n"
        "    print('matplotlib is not installed: pip install \"cfexplorer[notebook]\" to draw the plots')\n"
        "if plt is not None:\n"
        f"{here}"
        "    epochs = [record.epoch for record in model.history_]\n"
        "    figure, (loss_axes, factor_axes) = plt.subplots(1, 2, figsize=(11, 4.5))\n"
        "    loss_axes.plot(epochs, [record.total for record in model.history_], label='J')\n"
        "    loss_axes.plot(epochs, [record.data_term for record in model.history_], label='data term')\n"
        "    loss_axes.plot(epochs, [record.reg_term for record in model.history_], label='regularization term')\n"
        "    loss_axes.set_xlabel('epoch')\n"
        "    loss_axes.set_yscale('symlog')\n"
        "    loss_axes.legend()\n"
        "    movies = api.learned_arrays(model)['item_factors']\n"
        "    if movies.shape[1] >= 2:\n"
        "        points = api.pca(movies, 2).coordinates\n"
        "        factor_axes.scatter(points[:, 0], points[:, 1], s=12)\n"
        "        if len(points) <= 50:\n"
        "            for (x, y), title in zip(points, ratings.item_titles()):\n"
        "                factor_axes.annotate(str(title), (x, y), fontsize=8)\n"
        "        factor_axes.set_xlabel('PC 1')\n"
        "        factor_axes.tick_params(axis='x', labelrotation=30)\n"
        "        factor_axes.set_ylabel('PC 2')\n"
        "    factor_axes.set_title('movies in factor space')\n"
        "    figure.tight_layout()\n"
        f"{save}")


# --- the two files ------------------------------------------------------------------------------------------
def script_text(recipe: RunRecipe) -> str:
    parts = [f'"""{recipe.title}: a CF Explorer run as a script (File ▸ Export as Python Script…)."""\n']
    for section in sections(recipe, for_notebook=False):
        comment = "\n".join(f"# {line.lstrip('#').strip()}".rstrip() for line in section.markdown.strip().splitlines())
        parts.append(f"{comment}\n{section.code}")
    return "\n".join(parts)


def notebook(recipe: RunRecipe) -> dict:
    cells = []
    for section in sections(recipe, for_notebook=True):
        cells.append({"cell_type": "markdown", "metadata": {}, "source": _lines(section.markdown)})
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                      "source": _lines(section.code.rstrip("\n"))})
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "cells": [{**cell, "id": f"cell-{number}"} for number, cell in enumerate(cells)],
    }


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    return lines or [""]


def write_code(recipe: RunRecipe, path) -> list[Path]:
    """Write the run as a script (.py) or a notebook (.ipynb, by the suffix); large edited ratings go into
    a project file beside it. Returns the files written."""
    path = Path(path)
    written = []
    if recipe.source[0] == "embedded" and recipe.ratings.n_ratings > EMBED_MAX_RATINGS:
        recipe.companion = path.with_name(f"{path.stem}-ratings.cfx")
        save_project(recipe.companion, Project(recipe.ratings, {}))
        written.append(recipe.companion)
    text = (json.dumps(notebook(recipe), indent=1, ensure_ascii=False) + "\n"
            if path.suffix.lower() == NOTEBOOK_SUFFIX else script_text(recipe))
    with atomic_path(path) as temporary:
        Path(temporary).write_text(text, encoding="utf-8")
    written.insert(0, path)
    return written
