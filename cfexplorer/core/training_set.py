"""The ratings of one fit, arranged for the optimizers that train on them (made when first needed)."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from .ratings import Ratings
from ..lazy import lazy_import

sp = lazy_import("scipy.sparse")


class _TrainingSet:
    """The ratings of one fit, with what the optimizers derive from them, each made when first needed:
    per-rating offsets and an item-major CSR structure for gradients, row systems for ALS."""

    def __init__(self, ratings: Ratings, offsets: np.ndarray):
        self.ratings = ratings
        self.users = ratings.users
        self.items = ratings.items
        self.y = ratings.values
        self.n_users, self.n_items = ratings.n_users, ratings.n_items
        self.item_offsets = offsets

    def __len__(self):
        return len(self.y)

    @cached_property
    def offsets(self) -> np.ndarray:
        return self.item_offsets[self.items]

    @cached_property
    def order(self) -> np.ndarray:
        return np.lexsort((self.users, self.items))

    @cached_property
    def indptr(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.ratings.item_counts())])

    @cached_property
    def sorted_users(self) -> np.ndarray:
        return self.users[self.order]

    def item_user_matrix(self, per_rating: np.ndarray) -> sp.csr_matrix:
        """Items x users sparse matrix holding one value per rating, without re-sorting."""
        return sp.csr_matrix(
            (per_rating[self.order], self.sorted_users, self.indptr),
            shape=(self.n_items, self.n_users),
        )

    @cached_property
    def item_major(self) -> "_ItemMajor":
        return _ItemMajor(self)


class _ItemMajor:
    """The ratings sorted by item, for full-batch gradient epochs: the gathers of factor rows read
    in order; for numpy's epochs, one sparse matrix whose values each epoch overwrites with its residuals."""

    def __init__(self, data: _TrainingSet):
        self.users, self.items = data.sorted_users, data.items[data.order]
        self.y = data.y[data.order]
        self.item_offsets = np.ascontiguousarray(data.item_offsets, dtype=np.float64)
        self.n_users, self.n_items = data.n_users, data.n_items
        # item i's ratings are item_starts[i] .. item_starts[i + 1] - 1
        self.item_starts = data.indptr.astype(np.int64, copy=False)

    def __len__(self):
        return len(self.y)

    @cached_property
    def offsets(self) -> np.ndarray:
        """Each rating's offset (numpy's epochs; the compiled kernel reads the items')."""
        return self.item_offsets[self.items]

    @cached_property
    def _errors(self) -> sp.csr_matrix:
        # made when numpy's epochs first ask (the compiled kernel never does: 120 MB at 10M ratings)
        return sp.csr_matrix((np.zeros(len(self.y)), self.users, self.item_starts), shape=(self.n_items, self.n_users))

    def item_user_matrix(self, residual: np.ndarray) -> sp.csr_matrix:
        """Items x users sparse matrix of ``residual`` (one value per rating, in this order)."""
        self._errors.data = residual
        return self._errors

    @cached_property
    def users32(self) -> np.ndarray:
        """The users as int32, what the compiled kernel reads."""
        return self.users.astype(np.int32)

    def gradient_buffers(self, params: dict) -> dict:
        """Arrays shaped as ``params`` for the compiled kernel's gradient, the same ones every epoch (it
        overwrites them): fresh arrays would cost their page faults every epoch."""
        buffers = getattr(self, "_gradient_buffers", None)
        if buffers is None or {n: a.shape for n, a in buffers.items()} != {n: a.shape for n, a in params.items()}:
            buffers = self._gradient_buffers = {name: np.empty_like(array) for name, array in params.items()}
        return buffers
