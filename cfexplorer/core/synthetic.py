"""Rating matrices with known structure, so that students can check what training recovers."""

from __future__ import annotations

import numpy as np

from .ratings import RatingScale, Ratings
from ..lazy import lazy_import

pd = lazy_import("pandas")

TASTE_NAMES = ("Romance", "Action", "Comedy", "Horror", "Sci-Fi")


def planted_tastes(
    n_users: int = 12,
    n_items: int = 10,
    n_tastes: int = 2,
    density: float = 0.6,
    noise: float = 0.3,
    seed: int | None = 0,
    scale: RatingScale = RatingScale(1.0, 5.0, 1.0),
) -> Ratings:
    """Each movie has one hidden taste (genre) and each user loves one taste and dislikes the rest.

    A user rates movies of their taste near the top of the scale and others near the bottom, plus
    Gaussian ``noise``; a share ``density`` of cells is observed. ``item_info`` records each movie's
    taste (column ``taste``, also as ``genres``) and user labels name each user's taste, so that
    learned factors can be checked against the truth.
    """
    if not 1 <= n_tastes <= len(TASTE_NAMES):
        raise ValueError(f"number of tastes must be 1..{len(TASTE_NAMES)}")
    if not 0 < density <= 1:
        raise ValueError("density must be in (0, 1]")
    rng = np.random.default_rng(seed)
    item_taste = np.arange(n_items) % n_tastes
    user_taste = np.arange(n_users) % n_tastes
    margin = 0.1 * (scale.high - scale.low)
    high, low = scale.high - margin, scale.low + margin
    truth = np.where(user_taste[:, None] == item_taste[None, :], high, low)
    values = scale.round(truth + rng.normal(0, noise, truth.shape))
    observed = rng.random(truth.shape) < density
    # Every user and movie keeps at least one rating, so nothing is left without a signal.
    observed[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    observed[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    matrix = np.where(observed, values, np.nan)
    counters = {taste: 0 for taste in range(n_tastes)}
    item_labels = []
    for taste in item_taste:
        counters[taste] += 1
        item_labels.append(f"{TASTE_NAMES[taste]} {counters[taste]}")
    user_labels = [f"{TASTE_NAMES[taste]} fan {j + 1}" for j, taste in enumerate(user_taste)]
    names = np.array(TASTE_NAMES)[item_taste]
    info = pd.DataFrame({"title": item_labels, "genres": names, "taste": item_taste})
    return Ratings.from_dense(matrix, user_labels, item_labels, scale=scale, item_info=info)


def disjoint_blocks(
    users_per_block: int = 4, items_per_block: int = 4, density: float = 0.8, seed: int | None = 0,
    scale: RatingScale = RatingScale(1.0, 5.0, 1.0),
) -> Ratings:
    """Two groups of users who rate two unrelated groups of movies: nothing links the blocks, so
    their factors are not comparable (the course's "disjoint matrices" discussion)."""
    rng = np.random.default_rng(seed)
    n_users, n_items = 2 * users_per_block, 2 * items_per_block
    matrix = np.full((n_users, n_items), np.nan)
    for block in range(2):
        rows = slice(block * users_per_block, (block + 1) * users_per_block)
        cols = slice(block * items_per_block, (block + 1) * items_per_block)
        values = scale.round(rng.uniform(scale.low, scale.high, (users_per_block, items_per_block)))
        keep = rng.random(values.shape) < density
        keep[np.arange(users_per_block), rng.integers(0, items_per_block, users_per_block)] = True
        matrix[rows, cols] = np.where(keep, values, np.nan)
    user_labels = [f"{'AB'[j // users_per_block]}-user {j % users_per_block + 1}" for j in range(n_users)]
    item_labels = [f"{'AB'[i // items_per_block]}-movie {i % items_per_block + 1}" for i in range(n_items)]
    return Ratings.from_dense(matrix, user_labels, item_labels, scale=scale)


def low_rank(
    n_users: int = 200, n_items: int = 150, rank: int = 3, density: float = 0.3, noise: float = 0.1,
    seed: int | None = 0,
) -> Ratings:
    """Continuous ratings from a random rank-``rank`` matrix plus user and item offsets and noise."""
    rng = np.random.default_rng(seed)
    users = rng.normal(0, 1, (n_users, rank))
    items = rng.normal(0, 1, (n_items, rank))
    truth = 3 + users @ items.T + rng.normal(0, 0.3, (n_users, 1)) + rng.normal(0, 0.3, (1, n_items))
    observed = rng.random(truth.shape) < density
    values = truth + rng.normal(0, noise, truth.shape)
    matrix = np.where(observed, values, np.nan)
    low, high = float(np.floor(values.min())), float(np.ceil(values.max()))
    return Ratings.from_dense(matrix, scale=RatingScale(low, high, None))
