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


@dataclass(frozen=True, eq=False)
class SetCells:
    """Set cells to values; NaN makes a cell 'not rated'. The cells come as tuples or, for many (clearing a
    selection of millions), as read-only arrays: ten million cells as tuples of Python numbers took a GB and
    most of the 24 s that clearing them froze the window. (Compared by identity: arrays have no one truth.)"""

    users: tuple | np.ndarray
    items: tuple | np.ndarray
    values: tuple | np.ndarray
    description: str = "Edit ratings"

    def apply(self, ratings: Ratings):
        users = np.asarray(self.users, dtype=np.int64)
        items = np.asarray(self.items, dtype=np.int64)
        values = np.asarray(self.values, dtype=float)
        n_items = max(ratings.n_items, 1)
        edited = users * n_items + items
        # The ratings of the edited users only, found in one pass (a table of those users): sorting every key
        # to find a few cells took 1.8 s of the 3 s a typed rating froze the window at ten million ratings.
        candidates = (np.flatnonzero(np.isin(ratings.users, users, kind="table")) if len(users)
                      else np.zeros(0, dtype=np.int64))
        candidate_keys = ratings.users[candidates] * n_items + ratings.items[candidates]
        order = np.argsort(candidate_keys)
        sorted_keys = candidate_keys[order]
        found = _search_sorted(sorted_keys, edited)
        exists = found < len(sorted_keys)
        exists[exists] = sorted_keys[found[exists]] == edited[exists]
        existing = candidates[order[found[exists]]]
        old_values = np.full(len(edited), np.nan)
        old_values[exists] = ratings.values[existing]
        add = ~np.isnan(values)
        # The rest of the ratings were valid: Ratings' own checks run on the cells the edit sets (on all of them
        # again they took 0.2 s of a typed rating at ten million ratings), and raise what they would for all.
        ratings.with_values(users[add], items[add], values[add])
        # Each array of millions made once, and only those the edit changes: at 25M ratings a typed rating
        # copied every array through a mask of what to keep, then again to append (1.6 s of a 3.2 s freeze, most
        # of it the system handing out fresh memory).
        if add[exists].all() and not add[~exists].any():  # values of rated cells changed: in place, no rating moves
            new_values = ratings.values.copy()
            new_values[existing] = values[exists]
            new = ratings.with_values(ratings.users, ratings.items, new_values, validate=False)
        elif not exists.any():  # unrated cells rated: appended
            new = ratings.with_values(np.concatenate([ratings.users, users[add]]),
                                      np.concatenate([ratings.items, items[add]]),
                                      np.concatenate([ratings.values, values[add]]), validate=False)
        else:
            keep = np.ones(len(ratings), dtype=bool)
            keep[existing] = False
            new = ratings.with_values(
                np.concatenate([ratings.users[keep], users[add]]),
                np.concatenate([ratings.items[keep], items[add]]),
                np.concatenate([ratings.values[keep], values[add]]),
                validate=False,
            )
        previous = ratings.summaries_if_made()
        if previous is not None:  # the grid's counts and means, made again only where the edit changed them
            new.summaries_from(previous, users, items)
        if isinstance(self.values, np.ndarray):
            old_values.flags.writeable = False
        else:
            old_values = tuple(old_values.tolist())
        inverse = SetCells(self.users, self.items, old_values, self.description)
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
        # The same ratings under another name: nothing to check again, the counts and means are theirs.
        new = Ratings(ratings.users, ratings.items, ratings.values, user_labels, item_labels, ratings.scale,
                      ratings.binary, info, validate=False)
        previous = ratings.summaries_if_made()
        if previous is not None:
            new.summaries_from(previous, (), ())
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

    def renumbering(self, n_old: int) -> np.ndarray:
        """Each of the ``n_old`` entries' position after the insertion."""
        is_new = np.zeros(n_old + len(self.positions), dtype=bool)
        is_new[np.asarray(self.positions, dtype=np.int64)] = True
        return np.flatnonzero(~is_new)

    def added_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(users, items, values) of the inserted entries' ratings, numbered as after the insertion."""
        own, other, values = [], [], []
        for position, entry in zip(self.positions, self.ratings or [()] * len(self.positions)):
            for other_index, value in entry:
                own.append(position)
                other.append(other_index)
                values.append(value)
        own, other = np.asarray(own, dtype=np.int64), np.asarray(other, dtype=np.int64)
        users, items = (own, other) if self.axis == USERS else (other, own)
        return users, items, np.asarray(values, dtype=float)

    def apply(self, ratings: Ratings):
        positions = np.asarray(self.positions, dtype=np.int64)
        old_labels = _labels(ratings, self.axis)
        total = len(old_labels) + len(positions)
        is_new = np.zeros(total, dtype=bool)
        is_new[positions] = True
        old_to_new = self.renumbering(len(old_labels))
        labels = np.empty(total, dtype=object)
        labels[~is_new] = old_labels
        labels[positions] = list(self.labels)
        added_users, added_items, added_values = self.added_cells()
        users = np.concatenate([old_to_new[ratings.users] if self.axis == USERS else ratings.users, added_users])
        items = np.concatenate([old_to_new[ratings.items] if self.axis == ITEMS else ratings.items, added_items])
        values = np.concatenate([ratings.values, added_values])
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
        # The old ratings, renumbered one to one, stay valid: Ratings' own checks run on the inserted entries'
        # ratings (on all of them again they took 0.6 s of adding a user to ten million ratings).
        _rebuild(ratings, added_users, added_items, added_values, self.axis, labels, info)
        new = _rebuild(ratings, users, items, values, self.axis, labels, info, validate=False)
        previous = ratings.summaries_if_made()
        if previous is not None:
            new.summaries_from(previous, added_users, added_items, self.axis, old_to_new)
        return new, RemoveEntries(self.axis, tuple(int(p) for p in positions), self.description)


@dataclass(frozen=True)
class RemoveEntries:
    """Remove users or movies (and their ratings)."""

    axis: int
    positions: tuple
    description: str = "Remove"

    def renumbering(self, n_old: int) -> np.ndarray:
        """Each of the ``n_old`` entries' position after the removal, -1 for a removed one."""
        removed = np.zeros(n_old, dtype=bool)
        removed[np.asarray(self.positions, dtype=np.int64)] = True
        return np.where(removed, -1, np.cumsum(~removed) - 1)

    def apply(self, ratings: Ratings):
        positions = np.unique(np.asarray(self.positions, dtype=np.int64))
        labels = _labels(ratings, self.axis)
        removed = np.zeros(len(labels), dtype=bool)
        removed[positions] = True
        new_index = self.renumbering(len(labels))
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
        # some of valid ratings, renumbered one to one: valid
        new = _rebuild(ratings, users, items, ratings.values[~gone], self.axis, labels[~removed], info, validate=False)
        previous = ratings.summaries_if_made()
        if previous is not None:  # the other side's entries that lost ratings
            lost = np.unique(other[leaving])
            no_users, no_items = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
            changed = (no_users, lost) if self.axis == USERS else (lost, no_items)
            new.summaries_from(previous, *changed, self.axis, new_index)
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


def _search_sorted(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """np.searchsorted for many ``wanted`` keys in any order: searched in order, as a binary search that starts
    near the last one stays in the cache (ten million in the grid's order took 8 s, in key order 0.3 s)."""
    if len(wanted) < 4096 or bool((wanted[1:] >= wanted[:-1]).all()):  # few, or in order already (Ctrl+A)
        return np.searchsorted(sorted_keys, wanted)
    in_order = np.argsort(wanted)
    found = np.empty(len(wanted), dtype=np.intp)
    found[in_order] = np.searchsorted(sorted_keys, wanted[in_order])
    return found


def _labels(ratings: Ratings, axis: int) -> np.ndarray:
    return ratings.user_labels if axis == USERS else ratings.item_labels


def _rebuild(ratings: Ratings, users, items, values, axis, labels, info, validate: bool = True) -> Ratings:
    user_labels = labels if axis == USERS else ratings.user_labels
    item_labels = labels if axis == ITEMS else ratings.item_labels
    new = Ratings(users, items, values, user_labels, item_labels, ratings.scale, ratings.binary, info,
                  validate=validate)
    if not validate and info is not None and len(info) != new.n_items:
        raise ValueError("item_info needs one row per item")
    return new


def unique_label(existing, stem: str) -> str:
    """``stem``, or ``stem 2``, ``stem 3``... whichever is not taken yet."""
    taken = {str(label) for label in existing}
    if stem not in taken:
        return stem
    number = 2
    while f"{stem} {number}" in taken:
        number += 1
    return f"{stem} {number}"
