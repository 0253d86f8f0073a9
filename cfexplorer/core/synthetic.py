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
    generosity: float = 0.0,
    quality: float = 0.0,
    taste_contrast: float = 0.8,
) -> Ratings:
    """Each movie has one hidden taste (genre) and each user loves one taste and dislikes the rest.

    A user rates movies of their taste near the top of the scale and others near the bottom (``taste_contrast``
    of the way from the middle to each end), plus Gaussian ``noise``; a share ``density`` of cells is
    observed. With ``generosity`` and ``quality`` each user adds a planted bias of their own (a generous or a
    harsh rater) and each movie one (a good or a bad movie), spread evenly over ±those amounts:
    :func:`planted_biases` gives them. ``item_info`` records each movie's taste (column ``taste``, also as
    ``genres``) and planted ``quality``; user labels name each user's taste, so that learned factors and
    biases can be checked against the truth.
    """
    if not 1 <= n_tastes <= len(TASTE_NAMES):
        raise ValueError(f"number of tastes must be 1..{len(TASTE_NAMES)}")
    if not 0 < density <= 1:
        raise ValueError("density must be in (0, 1]")
    rng = np.random.default_rng(seed)
    item_taste = np.arange(n_items) % n_tastes
    user_taste = np.arange(n_users) % n_tastes
    middle, half = (scale.high + scale.low) / 2, (scale.high - scale.low) / 2
    high, low = middle + taste_contrast * half, middle - taste_contrast * half
    truth = np.where(user_taste[:, None] == item_taste[None, :], high, low)
    user_bias, item_bias = planted_biases(n_users, n_items, generosity, quality, seed)
    truth = truth + user_bias[:, None] + item_bias[None, :]
    values = np.clip(scale.round(truth + rng.normal(0, noise, truth.shape)), scale.low, scale.high)
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
    info = pd.DataFrame({"title": item_labels, "genres": names, "taste": item_taste, "quality": item_bias})
    return Ratings.from_dense(matrix, user_labels, item_labels, scale=scale, item_info=info)


def planted_biases(n_users: int, n_items: int, generosity: float, quality: float, seed: int | None = 0):
    """(each user's planted generosity, each movie's planted quality) of :func:`planted_tastes`: evenly spread
    over [−generosity, +generosity] and [−quality, +quality], in an order shuffled by ``seed``."""
    rng = np.random.default_rng([0 if seed is None else seed, 17])  # apart from the ratings' own draws
    users = rng.permutation(np.linspace(-generosity, generosity, n_users)) if n_users > 1 else np.zeros(n_users)
    items = rng.permutation(np.linspace(-quality, quality, n_items)) if n_items > 1 else np.zeros(n_items)
    return users, items


TASTE_TAGS = {"Romance": ("kiss", "wedding", "letters"), "Action": ("chase", "explosion", "heist")}
NEUTRAL_TAGS = ("rain", "night", "city", "dog", "train", "snow")


def described_movies(n_users: int = 24, n_items: int = 16, density: float = 0.7, noise: float = 0.4,
                     seed: int | None = 0) -> Ratings:
    """Planted tastes (romance or action) whose movies are described by tags — in column ``genres``, where
    the content-based model reads them — that never name the taste: one or two of the taste's own tags
    (a kiss, a chase) and one or two of tags every kind of movie has (rain, a dog). Two romance movies may
    share no tag while a romance and an action movie share "rain": which tags go together is for the
    towers to learn from the ratings. ``item_info["taste"]`` keeps the truth."""
    base = planted_tastes(n_users, n_items, 2, density, noise, seed)
    rng = np.random.default_rng([0 if seed is None else seed, 29])
    tags = []
    for taste in base.item_info["taste"]:
        own = TASTE_TAGS[TASTE_NAMES[taste]]
        chosen = list(rng.choice(own, size=rng.integers(1, 3), replace=False))
        chosen += list(rng.choice(NEUTRAL_TAGS, size=rng.integers(2, 4), replace=False))
        tags.append("|".join(chosen))
    info = base.item_info.assign(genres=tags)
    return Ratings(base.users, base.items, base.values, base.user_labels, base.item_labels, base.scale,
                   item_info=info)


def disjoint_blocks(
    users_per_block: int = 4, items_per_block: int = 4, density: float = 0.8, seed: int | None = 0,
    scale: RatingScale = RatingScale(1.0, 5.0, 1.0), identical: bool = False,
) -> Ratings:
    """Two groups of users who rate two unrelated groups of movies: nothing links the blocks, so
    their factors are not comparable (the course's "disjoint matrices" discussion). With ``identical``
    the second block's ratings are a copy of the first's."""
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
        if identical and block == 1:
            matrix[rows, cols] = matrix[:users_per_block, :items_per_block]
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
