"""What a lesson step reports about the runs before it, measured on the window's models as they are: each
function takes the window and returns the step's HTML (lessons.py, Step(text=function)).

The numbers are the lesson's point made visible — the learned biases rank as the planted ones, the rare
movies' vectors before and after the density filter, three seeds giving the same predictions — so they
are computed from what was trained, never written in advance.
"""

from __future__ import annotations

import html

import numpy as np

from ..core.embedding import nearest_neighbours

STILL_TRAINING = "<p><i>(The last run has not finished: the numbers below are of its latest epoch.)</i></p>"


def _table(header, rows) -> str:
    head = "".join(f"<th align='left'>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table cellspacing='0' cellpadding='3'><tr>{head}</tr>{body}</table>"


def _note_if_training(window) -> str:
    return STILL_TRAINING if window.training_panel.controller.is_active else ""


def spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(np.asarray(a, dtype=float), np.asarray(b, dtype=float))[0])


# --- lesson 3: biases ----------------------------------------------------------------------------------------
def planted_truth(ratings):
    """(user generosity, movie quality) that lesson 3's data was made with."""
    from ..core.synthetic import planted_biases
    from .lessons import TASTES_AND_BIASES as made_with

    return planted_biases(ratings.n_users, ratings.n_items, made_with["generosity"], made_with["quality"],
                          made_with["seed"])


def bias_agreement(window) -> tuple[float, float]:
    """Spearman correlation of the learned user and movie biases with the planted ones."""
    model, ratings = window.training_panel.model, window.table.ratings
    generosity, quality = planted_truth(ratings)
    return spearman(model.user_bias_, generosity), spearman(model.item_bias_, quality)


def biases_recovered(window) -> str:
    model, ratings = window.training_panel.model, window.table.ratings
    users, movies = bias_agreement(window)
    _, quality = planted_truth(ratings)
    titles = ratings.item_titles()
    best = np.argsort(-model.item_bias_, kind="stable")[:3]
    rows = [(html.escape(str(titles[i])), f"{model.item_bias_[i]:+.2f}", f"{quality[i]:+.2f}") for i in best]
    return (f"{_note_if_training(window)}<p>The Biases tab ranks movies and users by their learned bias: the part "
            "of a rating that has nothing to do with taste.</p>"
            f"<p>This data was made with a planted quality per movie and generosity per user, and the learned "
            f"biases rank them as they were planted: Spearman correlation <b>{movies:.2f}</b> for movies and "
            f"<b>{users:.2f}</b> for users (1 would be exactly the same order).</p>"
            + _table(("best movies", "learned bias", "planted quality"), rows)
            + "<p>Without biases (the run before) the model had to fold generosity and quality into the factors, "
              "and its J stayed higher.</p>")


# --- lesson 6: sparsity --------------------------------------------------------------------------------------
def factor_lengths(model) -> np.ndarray:
    return np.linalg.norm(np.asarray(model.item_factors_, dtype=float), axis=1)


def rare_movies_before_and_after(window) -> str:
    from .lessons import NEW_RELEASES

    memo, ratings = window.lesson_panel.memo, window.table.ratings
    before, after = memo["all ratings"], memo["at least 3"]
    titles, counts = ratings.item_titles(), ratings.item_counts()
    rare = np.arange(ratings.n_items - NEW_RELEASES, ratings.n_items)
    others = np.setdiff1d(np.arange(ratings.n_items), rare)
    long_before, long_after = factor_lengths(before), factor_lengths(after)
    rows = [(html.escape(str(titles[i])), int(counts[i]), f"{long_before[i]:.3f}", f"{long_after[i]:.3f}")
            for i in rare]
    rows.append(("a typical other movie (median)", int(np.median(counts[others])),
                 f"{np.median(long_before[others]):.3f}", f"{np.median(long_after[others]):.3f}"))
    moved = np.median(np.linalg.norm(after.item_factors_[others] - before.item_factors_[others], axis=1))
    return (f"{_note_if_training(window)}<p>The length |x| of each movie's vector, trained on all ratings and "
            "on the ratings of movies with at least 3:</p>"
            + _table(("movie", "ratings", "|x|, all ratings", "|x|, at least 3"), rows)
            + "<p>Trained on one rating, a new release had a short vector that one user's taste had pulled "
              "about: it looked like a position in the factor space, but it meant little. Trained on nothing, "
              "its vector stays at zero, where a movie without ratings starts (a random start would only shrink "
              "under the regularization), and its predictions are the mean plus each user's bias: the model says "
              "it knows nothing about it. The other "
              f"movies' vectors barely moved (median change {moved:.3f}). Latent factors mean little where data "
              "is sparse.</p>")


# --- lesson 8: content-based -----------------------------------------------------------------------------
def same_taste_share(vectors: np.ndarray, tastes: np.ndarray, n: int = 3) -> float:
    """How often a movie's n nearest neighbours (Euclidean) have its hidden taste."""
    shares = []
    for movie in range(len(vectors)):
        rows, _ = nearest_neighbours(vectors, [movie], n, "euclidean")
        shares.append(np.mean(tastes[rows] == tastes[movie]))
    return float(np.mean(shares))


def similarity_shares(window) -> tuple[float, float]:
    """(same-taste share of neighbours in the towers' space, in the standardized raw features)."""
    model, ratings = window.training_panel.model, window.table.ratings
    tastes = ratings.item_info["taste"].to_numpy()
    raw = model.item_feature_table_
    spread = raw.std(axis=0)
    standardized = (raw - raw.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    return same_taste_share(model.item_factors_, tastes), same_taste_share(standardized, tastes)


def similarity_was_learned(window) -> str:
    learned, raw = similarity_shares(window)
    return (f"{_note_if_training(window)}<p>Similar movies are those whose v<sub>m</sub> are close: the Neighbours "
            "tab lists them for the selected movie. Over all movies, the 3 nearest in the towers' space share "
            f"the movie's hidden taste <b>{learned:.0%}</b> of the time; the 3 nearest by the tags themselves "
            f"(and mean, count) only <b>{raw:.0%}</b>. The towers learned from the ratings which tags go "
            "together: two romances with no tag in common end up close, a romance and an action movie that "
            "share “rain” do not.</p>")


# --- lesson 9: what the towers need ---------------------------------------------------------------------
def outside_unit_range(model) -> float:
    """The share of user × movie scores v_u·v_m outside [−1, 1]."""
    scores = model.user_factors_ @ model.item_factors_.T
    return float(np.mean(np.abs(scores) > 1 + 1e-9))


def _validation_rmse(model) -> float:
    return float(model.history_[-1].validation.get("rmse", np.nan)) if model.history_ else np.nan


def without_normalization(window) -> str:
    model, both = window.training_panel.model, window.lesson_panel.memo["both"]
    lengths = np.linalg.norm(model.item_factors_, axis=1)
    users = np.linalg.norm(model.user_factors_, axis=1)
    return (f"{_note_if_training(window)}<p>Without L2 normalization the dot product is no longer held to "
            f"[−1, 1]: <b>{outside_unit_range(model):.0%}</b> of the user × movie scores fall outside it, "
            "predictions the scale does not have, cut off at 1 or 5 stars. And a vector's length now counts: "
            f"movie vectors are {lengths.min():.2f} to {lengths.max():.2f} long, users' {users.min():.2f} to "
            f"{users.max():.2f}, so the distance between two movies mixes how long their vectors are with where "
            "they point — with unit vectors, closeness is only about direction. "
            f"Validation RMSE: {_validation_rmse(model):.3f} now, {_validation_rmse(both):.3f} with "
            "normalization.</p>")


def without_target_scaling(window) -> str:
    model, both = window.training_panel.model, window.lesson_panel.memo["both"]
    highest = float(np.max(model.predictor().predict_matrix()))
    rmse, rmse_both = (float(m.history_[-1].train.get("rmse", np.nan)) for m in (model, both))
    return (f"{_note_if_training(window)}<p>A dot product of unit vectors lies in [−1, 1], but the targets are "
            f"now 1 to 5: no prediction can go above 1 — the highest in the grid is <b>{highest:.2f}</b> — and "
            f"the training RMSE stays at <b>{rmse:.2f}</b> (with scaled targets: {rmse_both:.2f}). Scaling the "
            "targets to [−1, 1] (and the predictions back) puts them where the model can reach.</p>")


# --- lesson 10: initialization -----------------------------------------------------------------------------
SEEDS = ("seed 0", "seed 1", "seed 2")


def seed_runs(window) -> list:
    return [window.lesson_panel.memo[key] for key in SEEDS]


def same_predictions_other_factors(window) -> str:
    models = seed_runs(window)
    predictions = [model.predictor().predict_matrix() for model in models]
    largest_gap = max(float(np.max(np.abs(p - predictions[0]))) for p in predictions)
    title = html.escape(str(window.table.ratings.item_titles()[0]))
    rows = [(key, f"{model.history_[-1].total:.4f}",
             "(" + ", ".join(f"{v:+.2f}" for v in model.item_factors_[0]) + ")")
            for key, model in zip(SEEDS, models)]
    return (f"{_note_if_training(window)}<p>Three runs, three random starts:</p>"
            + _table(("run", "final J", f"x of {title}"), rows)
            + f"<p>The cost is the same, and so is every prediction (they differ by at most {largest_gap:.4f}), "
              "but the factors are not: each run found the same fit turned another way in the factor space. "
              "Only what the factors predict, and their distances and angles to each other, carry meaning; a "
              "single factor's value does not.</p>")


# --- lesson 11: disjoint blocks ---------------------------------------------------------------------------
def twin_comparison(window) -> dict:
    model, ratings = window.training_panel.model, window.table.ratings
    users, movies = ratings.n_users // 2, ratings.n_items // 2
    x = np.asarray(model.item_factors_, dtype=float)
    predictions = model.predictor().predict_matrix()
    return {
        "prediction_gap": float(np.max(np.abs(predictions[:users, :movies] - predictions[users:, movies:]))),
        "gram_gap": float(np.max(np.abs(x[:movies] @ x[:movies].T - x[movies:] @ x[movies:].T))),
        "twin_distance": np.linalg.norm(x[:movies] - x[movies:], axis=1),
        "spread": float(np.median(np.linalg.norm(x[:movies] - x[:movies].mean(axis=0), axis=1))),
    }


def twin_blocks_compared(window) -> str:
    found = twin_comparison(window)
    titles = window.table.ratings.item_titles()
    half = len(titles) // 2
    rows = [(html.escape(str(titles[i])), html.escape(str(titles[i + half])), f"{d:.2f}")
            for i, d in enumerate(found["twin_distance"])]
    return (f"{_note_if_training(window)}<p>Identical blocks get identical factors up to a rotation: the "
            f"predictions of block B are block A's (they differ by at most {found['prediction_gap']:.4f}), and "
            "within each block the movie vectors have the same lengths and angles (their dot products agree to "
            f"{found['gram_gap']:.4f}). But nothing ties the two blocks' orientations together, so a movie and "
            "its twin are not at the same place:</p>"
            + _table(("block A", "its twin in B", "distance"), rows)
            + f"<p>(A typical movie is {found['spread']:.2f} from its block's centre.) Comparing factors across "
              "disjoint blocks — “which B movie is like this A movie?” — has no answer: only ratings that link "
              "the blocks would give one.</p>")
