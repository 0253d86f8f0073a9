"""Immutable edits of rating data. ``edit.apply(ratings)`` returns ``(new_ratings, inverse_edit)``.

Undo is applying the inverse; redo is applying the edit again. No edit mutates a Ratings object.
Axis 0 is users, axis 1 is items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ratings import Ratings
from ..lazy import lazy_import

pd = lazy_import("pandas")

USERS, ITEMS = 0, 1
AXIS_NAMES = {USERS: "user", ITEMS: "movie"}


@dataclass(frozen=True)
class SetCells:
    """Set cells to values; NaN makes a cell 'not rated'."""

    users: tuple
    items: tuple
    values: tuple
    description: str = "Edit ratings"

    def apply(self, ratings: Ratings):
        users = np.asarray(self.users, dtype=np.int64)
        items = np.asarray(self.items, dtype=np.int64)
        values = np.asarray(self.values, dtype=float)
        keys = ratings.keys()
        order = np.argsort(keys)
        sorted_keys = keys[order]
        edited = users * max(ratings.n_items, 1) + items
        found = np.searchsorted(sorted_keys, edited)
        exists = found < len(sorted_keys)
        exists[exists] = sorted_keys[found[exists]] == edited[exists]
        existing = order[found[exists]]
        old_values = np.full(len(edited), np.nan)
        old_values[exists] = ratings.values[existing]
        keep = np.ones(len(keys), dtype=bool)
        keep[existing] = False
        add = ~np.isnan(values)
        new = ratings.with_values(
            np.concatenate([ratings.users[keep], users[add]]),
            np.concatenate([ratings.items[keep], items[add]]),
            np.concatenate([ratings.values[keep], values[add]]),
        )
        inverse = SetCells(self.users, self.items, tuple(old_values.tolist()), self.description)
        return new, inverse


@dataclass(frozen=True)
class Rename:
    """Give a user or movie a new label (a movie's displayed title changes with it)."""

    axis: int
    position: int
    label: object
    description: str = "Rename"
    title: object = None

    def apply(self, ratings: Ratings):
        labels = _labels(ratings, self.axis).copy()
        old_label = labels[self.position]
        labels[self.position] = self.label
        info, old_title = ratings.item_info, None
        if self.axis == ITEMS and info is not None and "title" in info:
            info = info.copy()
            old_title = info.at[self.position, "title"]
            info.at[self.position, "title"] = self.label if self.title is None else self.title
        user_labels = labels if self.axis == USERS else ratings.user_labels
        item_labels = labels if self.axis == ITEMS else ratings.item_labels
        new = Ratings(ratings.users, ratings.items, ratings.values, user_labels, item_labels, ratings.scale,
                      ratings.binary, info)
        return new, Rename(self.axis, self.position, old_label, self.description, old_title)


@dataclass(frozen=True)
class InsertEntries:
    """Insert users or movies at ``positions`` (in the result), with their labels, their ratings
    (as (other-axis index, value) pairs per entry) and optional item-info rows."""

    axis: int
    positions: tuple
    labels: tuple
    ratings: tuple = ()
    info_rows: tuple = ()
    description: str = "Add"

    def apply(self, ratings: Ratings):
        positions = np.asarray(self.positions, dtype=np.int64)
        old_labels = _labels(ratings, self.axis)
        total = len(old_labels) + len(positions)
        is_new = np.zeros(total, dtype=bool)
        is_new[positions] = True
        old_to_new = np.flatnonzero(~is_new)
        labels = np.empty(total, dtype=object)
        labels[~is_new] = old_labels
        labels[positions] = list(self.labels)
        own = ratings.users if self.axis == USERS else ratings.items
        other = ratings.items if self.axis == USERS else ratings.users
        own = old_to_new[own]
        added_own, added_other, added_values = [], [], []
        for position, entry in zip(positions, self.ratings or [()] * len(positions)):
            for other_index, value in entry:
                added_own.append(position)
                added_other.append(other_index)
                added_values.append(value)
        own = np.concatenate([own, np.asarray(added_own, dtype=np.int64)])
        other = np.concatenate([other, np.asarray(added_other, dtype=np.int64)])
        values = np.concatenate([ratings.values, np.asarray(added_values, dtype=float)])
        info = ratings.item_info
        if self.axis == ITEMS and info is not None:
            rows = list(self.info_rows) or [{}] * len(positions)
            new_info = pd.DataFrame(index=range(total), columns=info.columns, dtype=object)
            new_info.iloc[old_to_new] = info.to_numpy(dtype=object)
            for position, row in zip(positions, rows):
                for column, value in row.items():
                    if column in new_info.columns:
                        new_info.at[position, column] = value
            info = new_info.infer_objects()
        users, items = (own, other) if self.axis == USERS else (other, own)
        new = _rebuild(ratings, users, items, values, self.axis, labels, info)
        return new, RemoveEntries(self.axis, tuple(int(p) for p in positions), self.description)


@dataclass(frozen=True)
class RemoveEntries:
    """Remove users or movies (and their ratings)."""

    axis: int
    positions: tuple
    description: str = "Remove"

    def apply(self, ratings: Ratings):
        positions = np.unique(np.asarray(self.positions, dtype=np.int64))
        labels = _labels(ratings, self.axis)
        removed = np.zeros(len(labels), dtype=bool)
        removed[positions] = True
        new_index = np.cumsum(~removed) - 1
        own = ratings.users if self.axis == USERS else ratings.items
        other = ratings.items if self.axis == USERS else ratings.users
        gone = removed[own]
        # The removed ratings grouped by entry, in file order within each (one pass over the ratings; a
        # scan per removed entry was 10^10 steps for 100,000 users on a 100,000-rating grid).
        leaving = np.flatnonzero(gone)
        leaving = leaving[np.argsort(own[leaving], kind="stable")]
        per_entry = np.bincount(own[leaving], minlength=len(labels))[positions]
        saved = [tuple(zip(other[chunk].tolist(), ratings.values[chunk].tolist()))
                 for chunk in np.split(leaving, np.cumsum(per_entry)[:-1])]
        info_rows = ()
        info = ratings.item_info
        if self.axis == ITEMS and info is not None:
            info_rows = tuple(info.iloc[positions].to_dict("records"))
            info = info.iloc[~removed].reset_index(drop=True)
        kept_own = new_index[own[~gone]]
        users, items = (kept_own, other[~gone]) if self.axis == USERS else (other[~gone], kept_own)
        new = _rebuild(ratings, users, items, ratings.values[~gone], self.axis, labels[~removed], info)
        inverse = InsertEntries(
            self.axis, tuple(positions.tolist()), tuple(labels[positions]), tuple(saved), info_rows,
            self.description,
        )
        return new, inverse


@dataclass(frozen=True)
class EditSequence:
    """Several edits as one (a paste that first adds the users and movies it reaches): applied in order,
    undone in reverse."""

    edits: tuple
    description: str = "Edit"

    def apply(self, ratings: Ratings):
        inverses = []
        for edit in self.edits:
            ratings, inverse = edit.apply(ratings)
            inverses.append(inverse)
        return ratings, EditSequence(tuple(reversed(inverses)), self.description)


def _labels(ratings: Ratings, axis: int) -> np.ndarray:
    return ratings.user_labels if axis == USERS else ratings.item_labels


def _rebuild(ratings: Ratings, users, items, values, axis, labels, info) -> Ratings:
    user_labels = labels if axis == USERS else ratings.user_labels
    item_labels = labels if axis == ITEMS else ratings.item_labels
    return Ratings(users, items, values, user_labels, item_labels, ratings.scale, ratings.binary, info)


def unique_label(existing, stem: str) -> str:
    """``stem``, or ``stem 2``, ``stem 3``... whichever is not taken yet."""
    taken = {str(label) for label in existing}
    if stem not in taken:
        return stem
    number = 2
    while f"{stem} {number}" in taken:
        number += 1
    return f"{stem} {number}"
