"""Single cells of sparse ratings, found without a users × items matrix.

A grid of 100,000 users × 100,000 movies has 10^10 cells and perhaps 100,000 ratings. The cell
(user, item) is found by binary search among the ratings' keys ``user * n_items + item`` (the keys of
:meth:`Ratings.keys`), sorted once per Ratings object: O(n log n) to build, O(log n) a look-up, and
vectorized for many cells at once. Every edit (cells set, users or movies added, removed or renamed) derives
the next index from the last one in O(n) (no sort, :func:`index_after`), so editing ten million ratings stays
cheap.
"""

from __future__ import annotations

import weakref

import numpy as np

from .edits import USERS, EditSequence, InsertEntries, RemoveEntries, Rename, SetCells
from .ratings import Ratings

# Up to this many new cells are merged into the keys slice by slice (a loop over the cells, not the ratings).
MERGED_BY_SLICES = 4096


class CellIndex:
    """Sorted keys of the rated cells and their values. Immutable."""

    __slots__ = ("n_users", "n_items", "keys", "values", "__weakref__")

    def __init__(self, keys: np.ndarray, values: np.ndarray, n_users: int, n_items: int):
        """``keys`` must be sorted and distinct (use :meth:`build` from unsorted ratings)."""
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.keys = np.asarray(keys, dtype=np.int64)
        self.values = np.asarray(values, dtype=np.float64)
        self.keys.flags.writeable = False
        self.values.flags.writeable = False

    @classmethod
    def build(cls, users, items, values, n_users: int, n_items: int) -> "CellIndex":
        keys = np.asarray(users, dtype=np.int64) * max(n_items, 1) + np.asarray(items, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        if len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1])):
            # Already in order (a file sorted by user, then movie: MovieLens's): no sort, and the values shared
            # where nobody can change them. At 25M ratings the sort's two gathers were 0.4-1.0 s of an open.
            return cls(keys, values if not values.flags.writeable else values.copy(), n_users, n_items)
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], values[order], n_users, n_items)

    @classmethod
    def of(cls, ratings: Ratings) -> "CellIndex":
        return cls.build(ratings.users, ratings.items, ratings.values, ratings.n_users, ratings.n_items)

    def __len__(self) -> int:
        return len(self.keys)

    def _key(self, users, items):
        return np.asarray(users, dtype=np.int64) * max(self.n_items, 1) + np.asarray(items, dtype=np.int64)

    def value(self, user: int, item: int) -> float:
        """The rating of one cell, NaN when not rated (called for every painted cell: no arrays made)."""
        key = user * (self.n_items or 1) + item
        keys = self.keys
        position = int(keys.searchsorted(key))
        if position < len(keys) and keys[position] == key:
            return float(self.values[position])
        return float("nan")

    def values_at(self, users, items) -> np.ndarray:
        """Ratings of many cells (arrays of the same shape), NaN where not rated."""
        wanted = self._key(users, items)
        found = np.searchsorted(self.keys, wanted)
        inside = found < len(self.keys)
        hit = np.zeros(wanted.shape, dtype=bool)
        hit[inside] = self.keys[found[inside]] == wanted[inside]
        result = np.full(wanted.shape, np.nan)
        result[hit] = self.values[found[hit]]
        return result

    def cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(users, items, values) of every rated cell, in key order (by user, then item)."""
        width = max(self.n_items, 1)
        return self.keys // width, self.keys % width, self.values

    def user_cells(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        """(items, values) rated by one user: a contiguous run of the keys, found in O(log n)."""
        width = max(self.n_items, 1)
        start, stop = np.searchsorted(self.keys, [user * width, (user + 1) * width])
        return self.keys[start:stop] - user * width, self.values[start:stop]

    def with_cells(self, users, items, values) -> "CellIndex":
        """The index after setting these cells (NaN makes a cell not rated), as :class:`SetCells` does;
        where a cell is named twice the last value wins."""
        edited = self._key(users, items).ravel()
        values = np.asarray(values, dtype=np.float64).ravel()
        if len(edited) == 0:
            return self
        # the last occurrence of each key: np.unique of the reversed keys gives first occurrences there
        reversed_keys = edited[::-1]
        edited, first_from_end = np.unique(reversed_keys, return_index=True)
        values = values[::-1][first_from_end]
        found = np.searchsorted(self.keys, edited)
        exists = found < len(self.keys)
        exists[exists] = self.keys[found[exists]] == edited[exists]
        added = ~np.isnan(values)
        # The arrays of millions made once each, and the keys not at all where no cell comes or goes: np.insert
        # and a mask of what to keep were 1.3 s of a rating typed at 25M ratings.
        if added[exists].all() and not added[~exists].any():
            new_values = self.values.copy()
            new_values[found[exists]] = values[exists]
            return CellIndex(self.keys, new_values, self.n_users, self.n_items)
        if not exists.any() and len(edited) <= MERGED_BY_SLICES:
            return self._with_keys_inserted(edited, values)
        keep = np.ones(len(self.keys), dtype=bool)
        keep[found[exists]] = False
        kept_keys, kept_values = self.keys[keep], self.values[keep]
        where = np.searchsorted(kept_keys, edited[added])
        return CellIndex(np.insert(kept_keys, where, edited[added]), np.insert(kept_values, where, values[added]),
                         self.n_users, self.n_items)

    def _with_keys_inserted(self, keys: np.ndarray, values: np.ndarray) -> "CellIndex":
        """The index with these new keys (ascending, none already here, NaN values left out), copied around them
        in slices: a few typed or pasted cells."""
        rated = ~np.isnan(values)
        keys, values = keys[rated], values[rated]
        where = np.searchsorted(self.keys, keys)
        new_keys = np.empty(len(self.keys) + len(keys), dtype=self.keys.dtype)
        new_values = np.empty(len(new_keys), dtype=self.values.dtype)
        start = 0
        for shift, (at, key, value) in enumerate(zip(where.tolist(), keys.tolist(), values.tolist())):
            new_keys[start + shift:at + shift] = self.keys[start:at]
            new_values[start + shift:at + shift] = self.values[start:at]
            new_keys[at + shift], new_values[at + shift] = key, value
            start = at
        new_keys[start + len(keys):] = self.keys[start:]
        new_values[start + len(keys):] = self.values[start:]
        return CellIndex(new_keys, new_values, self.n_users, self.n_items)

    def renumbered(self, axis: int, old_to_new: np.ndarray, n_users: int, n_items: int) -> "CellIndex":
        """The index after users (``axis`` 0) or movies (1) were inserted or removed: ``old_to_new`` gives each
        old entry's new position, -1 for one removed. The positions keep their order, so the keys do: no sort
        (adding a user to ten million ratings sorted them all again, 2.3 s)."""
        width = max(self.n_items, 1)
        if axis == 0:
            # A user's keys are one run of the sorted keys, and stay one run moved by whole rows of the same
            # width: no key is divided (two divisions of ten million keys were most of the 0.5 s this took).
            runs = np.diff(np.searchsorted(self.keys, np.arange(len(old_to_new) + 1) * width))
            kept_users = old_to_new >= 0
            shift = np.repeat((old_to_new - np.arange(len(old_to_new))) * width, runs)
            if kept_users.all():
                return CellIndex(self.keys + shift, self.values, n_users, n_items)
            kept = np.repeat(kept_users, runs)
            return CellIndex(self.keys[kept] + shift[kept], self.values[kept], n_users, n_items)
        users = self.keys // width
        items = old_to_new[self.keys - users * width]
        kept = items >= 0
        values = self.values
        if not kept.all():
            users, items, values = users[kept], items[kept], values[kept]
        return CellIndex(users * max(n_items, 1) + items, values, n_users, n_items)


def index_after(edit, index: CellIndex) -> CellIndex | None:
    """The index of the ratings ``edit`` makes from those ``index`` is of, derived from it in O(n) with no sort;
    None for an edit it does not know (the index is then built afresh)."""
    if isinstance(edit, SetCells):
        return index.with_cells(np.asarray(edit.users, dtype=np.int64), np.asarray(edit.items, dtype=np.int64),
                                edit.values)
    if isinstance(edit, Rename):
        return index
    if isinstance(edit, (InsertEntries, RemoveEntries)):
        n_old = index.n_users if edit.axis == USERS else index.n_items
        old_to_new = edit.renumbering(n_old)
        n_new = n_old + len(edit.positions) if isinstance(edit, InsertEntries) else int((old_to_new >= 0).sum())
        n_users, n_items = (n_new, index.n_items) if edit.axis == USERS else (index.n_users, n_new)
        derived = index.renumbered(edit.axis, old_to_new, n_users, n_items)
        return derived.with_cells(*edit.added_cells()) if isinstance(edit, InsertEntries) else derived
    if isinstance(edit, EditSequence):
        for part in edit.edits:
            index = index_after(part, index)
            if index is None:
                return None
        return index
    return None


_INDEXES: "weakref.WeakKeyDictionary[Ratings, CellIndex]" = weakref.WeakKeyDictionary()


def cell_index(ratings: Ratings) -> CellIndex:
    """The index of a Ratings object, built the first time it is asked for and kept while the object lives."""
    index = _INDEXES.get(ratings)
    if index is None:
        index = _INDEXES[ratings] = CellIndex.of(ratings)
    return index


def remember_index(ratings: Ratings, index: CellIndex) -> CellIndex:
    """Use ``index`` (derived from an earlier one by :meth:`CellIndex.with_cells`) as the index of
    ``ratings``; built afresh instead when it cannot be theirs (another shape or number of ratings)."""
    if (index.n_users, index.n_items, len(index)) != (ratings.n_users, ratings.n_items, ratings.n_ratings):
        index = CellIndex.of(ratings)
    _INDEXES[ratings] = index
    return index
