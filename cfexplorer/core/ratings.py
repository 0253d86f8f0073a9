"""The rating data: which user rated which item, and how.

Ratings are held sparsely as parallel coordinate arrays (``users``, ``items``, ``values``) with one
label per user and per item. Indices are *inner* ids (0..n-1, positions in the label arrays); the
labels carry the raw ids or names a file used. Dense matrices are built only on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..lazy import lazy_import
from . import kernels
from .sorting import last_of_each_pair

pd = lazy_import("pandas")
sp = lazy_import("scipy.sparse")

# What a rating may be. Colour scales, y-ranges, step lists and the loss all work on the scale's width;
# past a million (or with a million steps) they overflow or stall, and no rating scale people use
# comes near (stars, 0-10, 0-100 scores). Readers refuse such files at the door with the line.
MAX_ABS_RATING = 1e6
MAX_SCALE_WIDTH = 1e6
MAX_SCALE_STEPS = 1_000_000


@dataclass(frozen=True)
class RatingScale:
    """The allowed values of a rating: ``low``..``high`` in steps of ``step`` (None = continuous)."""

    low: float = 0.5
    high: float = 5.0
    step: float | None = 0.5

    def __post_init__(self):
        numbers = (self.low, self.high) if self.step is None else (self.low, self.high, self.step)
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                   for v in numbers):
            raise ValueError(f"a rating scale is made of numbers, got {self.low!r}..{self.high!r} step {self.step!r}")
        if not all(np.isfinite(v) for v in numbers):
            raise ValueError(f"a rating scale needs finite numbers, got {self.low:g}..{self.high:g}")
        if not self.low < self.high:
            raise ValueError(f"rating scale needs low < high, got {self.low}..{self.high}")
        if self.high - self.low > MAX_SCALE_WIDTH:
            raise ValueError(f"rating scale {self.low:g}..{self.high:g} is wider than {MAX_SCALE_WIDTH:,.0f}")
        if max(abs(self.low), abs(self.high)) > MAX_ABS_RATING + MAX_SCALE_WIDTH:
            raise ValueError(f"rating scale {self.low:g}..{self.high:g} lies beyond "
                             f"±{MAX_ABS_RATING + MAX_SCALE_WIDTH:,.0f}")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"rating step must be positive, got {self.step}")
        if self.step is not None and (self.high - self.low) / self.step > MAX_SCALE_STEPS:
            raise ValueError(f"rating step {self.step:g} makes more than {MAX_SCALE_STEPS:,} steps from "
                             f"{self.low:g} to {self.high:g}")

    def contains(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return np.isfinite(values) & (values >= self.low - 1e-9) & (values <= self.high + 1e-9)

    def on_step(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if self.step is None:
            return np.isfinite(values)
        steps = (values - self.low) / self.step
        return np.abs(steps - np.round(steps)) < 1e-6

    def round(self, values) -> np.ndarray:
        """The nearest allowed value(s)."""
        values = np.clip(np.asarray(values, dtype=float), self.low, self.high)
        if self.step is None:
            return values
        return self.low + np.round((values - self.low) / self.step) * self.step

    def describe(self) -> str:
        step = "" if self.step is None else f" in steps of {self.step:g}"
        return f"{self.low:g} to {self.high:g}{step}"

    @classmethod
    def infer(cls, values) -> "RatingScale":
        """A scale that fits observed values: stars 1-5, half stars 0.5-5, or their own range."""
        values = np.asarray(values, dtype=float)
        if values.size == 0:
            return cls()
        low, high = float(values.min()), float(values.max())
        whole = _all_multiples_of(values, 1.0)
        if whole and low >= 0 and high <= 5:
            return cls(0.0 if low == 0 else 1.0, 5.0, 1.0)
        if low >= 0.5 and high <= 5 and _all_multiples_of(values, 0.5):
            return cls(0.5, 5.0, 0.5)
        if low == high:
            return cls(low - 1, high + 1, None)
        return cls(low, high, 1.0 if whole else None)


BINARY_SCALE = RatingScale(0.0, 1.0, 1.0)
_CHUNK = 1 << 20


def _all_multiples_of(values: np.ndarray, step: float) -> bool:
    """Whether every value is a whole multiple of ``step``: a chunk at a time, so that the temporaries stay at
    8 MB and the first chunk with a fraction ends the search (ten million ratings made five arrays of 80 MB)."""
    for start in range(0, values.size, _CHUNK):
        scaled = values[start:start + _CHUNK] / step
        if not np.array_equal(scaled, np.round(scaled)):
            return False
    return True


def check_rating_values(values: np.ndarray) -> None:
    """Raise ValueError unless every rating is finite, within ±MAX_ABS_RATING and the whole set spans
    at most MAX_SCALE_WIDTH (what a scale can be inferred from)."""
    if values.size == 0:
        return
    low, high = float(values.min()), float(values.max())  # NaN propagates through min and max
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError("ratings must be finite numbers")
    if max(-low, high) > MAX_ABS_RATING:
        raise ValueError(f"rating {low if -low > high else high:g} is beyond ±{MAX_ABS_RATING:,.0f}")
    if high - low > MAX_SCALE_WIDTH:
        raise ValueError(f"ratings from {low:g} to {high:g} span more than {MAX_SCALE_WIDTH:,.0f}")


class RatingSummaries(NamedTuple):
    user_counts: np.ndarray
    item_counts: np.ndarray
    user_means: np.ndarray
    item_means: np.ndarray


class Ratings:
    """An immutable sparse set of ratings with user and item labels.

    ``users[k]`` rated ``items[k]`` with ``values[k]``. At most one rating per (user, item) pair.
    ``item_info`` optionally holds per-item columns such as ``title`` and ``genres`` (one row per
    item, in inner-id order).
    """

    def __init__(
        self,
        users,
        items,
        values,
        user_labels,
        item_labels,
        scale: RatingScale | None = None,
        binary: bool = False,
        item_info: pd.DataFrame | None = None,
        *,
        validate: bool = True,
    ):
        self.users = np.ascontiguousarray(users, dtype=np.int64)
        self.items = np.ascontiguousarray(items, dtype=np.int64)
        self.values = np.ascontiguousarray(values, dtype=np.float64)
        self.user_labels = np.asarray(user_labels, dtype=object)
        self.item_labels = np.asarray(item_labels, dtype=object)
        self.binary = bool(binary)
        if validate:
            check_rating_values(self.values)  # before a scale is inferred from them
        if scale is None:
            scale = BINARY_SCALE if binary else RatingScale.infer(self.values)
        self.scale = scale
        self.item_info = item_info
        if validate:
            self._validate()
        for array in (self.users, self.items, self.values):
            array.flags.writeable = False

    def _validate(self):
        n = len(self.values)
        if not (len(self.users) == len(self.items) == n):
            raise ValueError("users, items and values must have the same length")
        if n:
            if self.users.min() < 0 or self.users.max() >= self.n_users:
                raise ValueError("a user index is outside the user labels")
            if self.items.min() < 0 or self.items.max() >= self.n_items:
                raise ValueError("an item index is outside the item labels")
            # the readers' check, linear where a sort of the keys was not (no sort at all for pairs in order)
            if last_of_each_pair(self.users, self.items, self.n_users, self.n_items) is not None:
                raise ValueError("a (user, item) pair is rated more than once")
        if self.binary and n and not np.all((self.values == 0) | (self.values == 1)):
            raise ValueError("binary ratings must be 0 or 1")
        if self.item_info is not None and len(self.item_info) != self.n_items:
            raise ValueError("item_info needs one row per item")

    # --- shape -------------------------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.user_labels)

    @property
    def n_items(self) -> int:
        return len(self.item_labels)

    @property
    def n_ratings(self) -> int:
        return len(self.values)

    @property
    def density(self) -> float:
        cells = self.n_users * self.n_items
        return self.n_ratings / cells if cells else 0.0

    def __len__(self) -> int:
        return self.n_ratings

    def __repr__(self) -> str:
        kind = "binary " if self.binary else ""
        return (
            f"Ratings({self.n_users} users x {self.n_items} items, {self.n_ratings} {kind}ratings, "
            f"density {self.density:.3%})"
        )

    def keys(self) -> np.ndarray:
        """One int64 key per rating, ``user * n_items + item``; sorted keys give O(log n) look-ups."""
        return self.users * max(self.n_items, 1) + self.items

    # --- per-user and per-item summaries ------------------------------------------------------
    def user_counts(self) -> np.ndarray:
        return kernels.bincount(self.users, self.n_users)

    def item_counts(self) -> np.ndarray:
        return kernels.bincount(self.items, self.n_items)

    def item_means(self, empty: float = np.nan) -> np.ndarray:
        """Mean rating of each item; ``empty`` where an item has no rating."""
        return _grouped_mean(self.items, self.values, self.n_items, empty)

    def user_means(self, empty: float = np.nan) -> np.ndarray:
        return _grouped_mean(self.users, self.values, self.n_users, empty)

    def summaries(self) -> "RatingSummaries":
        """Per-user and per-item counts and means, computed once (the ratings never change) and read-only: the
        grid's headers and colours and the factor space's rows share them, and on 25 million ratings each
        computation is seconds that a thread preparing a document can spend instead of the GUI thread."""
        summaries = self.__dict__.get("_summaries")
        if summaries is None:
            summaries = RatingSummaries(self.user_counts(), self.item_counts(), self.user_means(), self.item_means())
            for array in summaries:
                array.flags.writeable = False
            self.__dict__["_summaries"] = summaries
        return summaries

    def summaries_if_made(self) -> "RatingSummaries | None":
        """The summaries if :meth:`summaries` has made them (an edit derives the next ones from them)."""
        return self.__dict__.get("_summaries")

    def summaries_from(self, previous: "RatingSummaries", users, items, axis: int | None = None,
                       old_to_new: np.ndarray | None = None) -> None:
        """Take ``previous``, the summaries of the ratings these were made from by an edit, as these ratings'
        summaries, with the counts and means of the ``users`` and ``items`` (numbered as here) whose ratings
        the edit changed made again. With ``axis`` (0 users, 1 movies) and ``old_to_new`` (each old entry's new
        position, -1 for one removed), that axis's entries were inserted or removed: the others' figures move
        to their new positions, the inserted ones are made. What :meth:`summaries` computes, the same numbers
        (each mean summed in the same order), from one pass over the ratings of the changed entries instead of
        over all: a typed rating or an added user at ten million ratings."""
        if "_summaries" in self.__dict__:
            return
        parts = []
        for this_axis, (index, n, counts, means, changed) in enumerate((
                (self.users, self.n_users, previous.user_counts, previous.user_means, users),
                (self.items, self.n_items, previous.item_counts, previous.item_means, items))):
            changed_mask = np.zeros(n, dtype=bool)  # a table, not np.unique: ten million hashed took seconds
            changed_mask[np.asarray(changed, dtype=np.int64)] = True
            if this_axis == axis:
                kept = old_to_new >= 0
                moved_counts, moved_means = np.zeros(n, dtype=counts.dtype), np.full(n, np.nan)
                moved_counts[old_to_new[kept]] = counts[kept]
                moved_means[old_to_new[kept]] = means[kept]
                inserted = np.ones(n, dtype=bool)
                inserted[old_to_new[kept]] = False
                counts, means = moved_counts, moved_means
                changed_mask |= inserted
            elif len(counts) != n:
                return  # not these ratings' predecessor: summaries() computes them when asked
            else:
                counts, means = counts.copy(), means.copy()
            changed = np.flatnonzero(changed_mask)
            if len(changed):
                mine = changed_mask[index]
                counts[changed] = np.bincount(index[mine], minlength=n)[changed]
                means[changed] = _grouped_mean(index[mine], self.values[mine], n, np.nan)[changed]
            parts.append((counts, means))
        (user_counts, user_means), (item_counts, item_means) = parts
        summaries = RatingSummaries(user_counts, item_counts, user_means, item_means)
        for array in summaries:
            array.flags.writeable = False
        self.__dict__["_summaries"] = summaries

    def global_mean(self) -> float:
        return float(self.values.mean()) if self.n_ratings else 0.0

    # --- views ---------------------------------------------------------------------------------
    def to_dense(self, dtype=np.float64) -> np.ndarray:
        """Users x items matrix with NaN where not rated."""
        dense = np.full((self.n_users, self.n_items), np.nan, dtype=dtype)
        dense[self.users, self.items] = self.values
        return dense

    def to_csr(self) -> sp.csr_matrix:
        """Users x items sparse matrix of the values (an explicit 0 rating stays stored)."""
        return sp.csr_matrix(
            (self.values, (self.users, self.items)), shape=(self.n_users, self.n_items)
        )

    def to_frame(self) -> pd.DataFrame:
        """Long table: user label, item label, rating."""
        return pd.DataFrame(
            {
                "user": self.user_labels[self.users],
                "item": self.item_labels[self.items],
                "rating": self.values,
            }
        )

    def item_titles(self) -> np.ndarray:
        """Display names of items: the title where known, else the label (a copy: callers may change it)."""
        titles = self.__dict__.get("_item_titles")
        if titles is None:  # made once: the ratings never change, and the names took 40 ms at 9,700 movies
            if self.item_info is not None and "title" in self.item_info:
                titles = np.array(self.item_info["title"], dtype=object)
                missing = pd.isna(titles)
                titles[missing] = self.item_labels[missing]
                titles = titles.astype(str).astype(object)
            else:
                titles = self.item_labels.astype(str).astype(object)
            self.__dict__["_item_titles"] = titles
        return titles.copy()

    def user_names(self) -> np.ndarray:
        """Each user's label as text, made once (162,541 labels of MovieLens 25M take 50 ms) and shared:
        read-only."""
        names = self.__dict__.get("_user_names")
        if names is None:
            names = np.array([str(label) for label in self.user_labels.tolist()], dtype=object)
            names.flags.writeable = False
            self.__dict__["_user_names"] = names
        return names

    # --- derived rating sets -------------------------------------------------------------------
    def with_values(self, users, items, values, validate: bool = True) -> "Ratings":
        """Same labels, scale and item info, other ratings."""
        return Ratings(
            users, items, values, self.user_labels, self.item_labels, self.scale, self.binary,
            self.item_info, validate=validate,
        )

    def subset(self, mask_or_index) -> "Ratings":
        """The ratings selected by a boolean mask or index array; labels are kept."""
        selection = np.asarray(mask_or_index)
        return self.with_values(
            self.users[selection], self.items[selection], self.values[selection],
            # a boolean mask cannot repeat a rating, so what was valid stays valid: skip the checks (the
            # duplicate check sorts every pair, a GUI-thread cost on each train/validation split)
            validate=selection.dtype != bool,
        )

    @classmethod
    def from_dense(
        cls, matrix, user_labels=None, item_labels=None, scale=None, binary=False, item_info=None
    ) -> "Ratings":
        """From a users x items matrix with NaN for 'not rated'."""
        matrix = np.asarray(matrix, dtype=float)
        if matrix.ndim != 2:
            raise ValueError("a rating matrix must be two-dimensional")
        users, items = np.nonzero(~np.isnan(matrix))
        if user_labels is None:
            user_labels = [f"User {j + 1}" for j in range(matrix.shape[0])]
        if item_labels is None:
            item_labels = [f"Item {i + 1}" for i in range(matrix.shape[1])]
        return cls(
            users, items, matrix[users, items], user_labels, item_labels, scale, binary, item_info
        )

    @classmethod
    def from_arrays(cls, raw_users, raw_items, values, scale=None, binary=False) -> "Ratings":
        """From raw ids (any hashable); inner ids follow the sorted raw ids."""
        user_codes, user_labels = pd.factorize(pd.Series(raw_users), sort=True)
        item_codes, item_labels = pd.factorize(pd.Series(raw_items), sort=True)
        return cls(
            user_codes, item_codes, values, np.asarray(user_labels, dtype=object),
            np.asarray(item_labels, dtype=object), scale, binary,
        )


@dataclass(frozen=True)
class SubsetSummary:
    users: int
    items: int
    ratings: int
    density: float


def keep_masks(ratings: Ratings, min_user_ratings=0, min_item_ratings=0, min_user_mean=None, min_item_mean=None):
    """Which users and which items have at least so many ratings and (if given) at least that mean."""
    keep_users = ratings.user_counts() >= min_user_ratings
    keep_items = ratings.item_counts() >= min_item_ratings
    if min_user_mean is not None:
        keep_users &= np.nan_to_num(ratings.user_means(), nan=-np.inf) >= min_user_mean
    if min_item_mean is not None:
        keep_items &= np.nan_to_num(ratings.item_means(), nan=-np.inf) >= min_item_mean
    return keep_users, keep_items


def summarize_subset(ratings: Ratings, keep_users: np.ndarray, keep_items: np.ndarray) -> SubsetSummary:
    """Size and density of the ratings among the kept users and items."""
    shown = int(np.count_nonzero(keep_users[ratings.users] & keep_items[ratings.items]))
    n_users, n_items = int(keep_users.sum()), int(keep_items.sum())
    cells = n_users * n_items
    return SubsetSummary(n_users, n_items, shown, shown / cells if cells else 0.0)


def _grouped_mean(index, values, n, empty) -> np.ndarray:
    counts = kernels.bincount(index, n)
    sums = kernels.bincount(index, n, np.asarray(values, dtype=float))
    means = np.full(n, empty, dtype=float)
    np.divide(sums, counts, out=means, where=counts > 0)
    return means


def train_test_split(ratings: Ratings, test_fraction: float = 0.2, seed: int | None = 0):
    """Random split of the ratings (not of users or items) into train and test sets."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test fraction must be in [0, 1), got {test_fraction}")
    if isinstance(seed, (int, np.integer)) and seed < 0:  # numpy's own message names no seed
        raise ValueError(f"the seed must be a whole number >= 0; got {seed}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(ratings.n_ratings)
    n_test = int(round(test_fraction * ratings.n_ratings))
    test_mask = np.zeros(ratings.n_ratings, dtype=bool)
    test_mask[order[:n_test]] = True
    return ratings.subset(~test_mask), ratings.subset(test_mask)


def train_validation_test_split(
    ratings: Ratings, validation_fraction: float, test_fraction: float, seed: int | None = 0
):
    """Three disjoint random parts of the ratings."""
    if validation_fraction + test_fraction >= 1:
        raise ValueError("validation and test fractions must leave ratings to train on")
    rest, test = train_test_split(ratings, test_fraction, seed)
    share = validation_fraction / (1 - test_fraction) if test_fraction < 1 else 0
    train, validation = train_test_split(rest, share, None if seed is None else seed + 1)
    return train, validation, test
