"""What the models trained by mini-batch Adam share: parameters, the epoch loop, the report, the state.

:class:`NetworkModel` runs the same ``iter_fit`` protocol as :class:`~cfexplorer.core.mf.MatrixFactorization`
(one :class:`EpochRecord` per epoch, divergence rolled back, snapshots for the replay) around four
methods a subclass writes: ``_prepare`` (fix data-dependent values, return initial parameters),
``_forward`` (scores z for (user, item) pairs, plus what the backward pass needs), ``_backward``
(gradients of the data term from dJ/dz) and ``_reg_term``/``_reg_gradients`` (weight decay).
"""

from __future__ import annotations

import time

import numpy as np

from .base import RatingModel
from .mf import (TrainingDiverged, _logit, history_from_state, history_state, keep_epoch, score_residual,
                 squash)
from .optim import Adam
from .ratings import RatingScale, Ratings
from ..lazy import lazy_import

sp = lazy_import("scipy.sparse")

# Ratings per forward pass when scoring all of them (J after every epoch): 8192 rows of 64 hidden units
# stay in cache and reuse freed memory; 65536 made each chunk's arrays fresh pages (the pass took 50 ms
# on MovieLens latest-small instead of 27).
EVAL_CHUNK = 8192


def relu(a):
    return np.maximum(a, 0.0)


def scatter_rows(indices: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Sum ``rows[k]`` into row ``indices[k]`` of an n-row array (the gradient of a table lookup)."""
    one_hot = sp.csr_matrix((np.ones(len(indices)), (indices, np.arange(len(indices)))), shape=(n, len(indices)))
    return np.asarray(one_hot @ rows)


def parse_hidden(hidden) -> tuple[int, ...]:
    """Layer sizes from (64, 32), [64] or "64, 32"."""
    if isinstance(hidden, str):
        parts = [part for part in hidden.replace(";", ",").replace(" ", ",").split(",") if part]
        try:
            hidden = [int(part) for part in parts]
        except ValueError:
            raise ValueError(f"hidden layer sizes must be whole numbers like '64, 32'; got {hidden!r}") from None
    hidden = tuple(int(size) for size in hidden)
    if any(size < 1 for size in hidden):
        raise ValueError("every hidden layer needs at least one unit")
    return hidden


class NetworkModel(RatingModel):
    """Base of the mini-batch Adam models (see the module docstring)."""

    # --- checks ---------------------------------------------------------------------------------------
    def _resolve_loss(self, ratings: Ratings) -> str:
        loss = getattr(self, "loss", "auto")
        if loss == "auto":
            return "bce" if ratings.binary else "squared"
        return loss

    def _check_params(self, ratings: Ratings):
        if self.n_epochs < 0:
            raise ValueError("number of epochs must be >= 0")
        if not (self.learning_rate > 0 and np.isfinite(self.learning_rate)):
            raise ValueError(f"learning rate must be positive; got {self.learning_rate}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError("batch size must be at least 1")
        if not (self.reg >= 0 and np.isfinite(self.reg)):
            raise ValueError(f"regularization strength must be a finite number >= 0; got {self.reg}")
        parse_hidden(self.hidden)

    # --- training -------------------------------------------------------------------------------------------
    def fit(self, ratings: Ratings, validation: Ratings | None = None):
        for _ in self.iter_fit(ratings, validation):
            pass
        return self

    def iter_fit(self, ratings: Ratings, validation: Ratings | None = None, snapshot_every: int = 0):
        """Train, yielding an :class:`EpochRecord` for epoch 0 (the starting parameters, no update) and after
        every epoch (see MatrixFactorization.iter_fit)."""
        self._check_params(ratings)
        self._check_memory(ratings)  # not on restoring a model: only before training
        start = time.perf_counter()
        self.loss_ = self._resolve_loss(ratings)
        self.scale_ = ratings.scale
        self.n_users_, self.n_items_ = ratings.n_users, ratings.n_items
        self.user_labels_, self.item_labels_ = ratings.user_labels, ratings.item_labels
        fresh = self._prepare(ratings)  # the data's own values (offsets, feature scaling) set in either case
        current = getattr(self, "_params", None)
        kept = getattr(self, "_stepping", None)
        continuing = bool(self.warm_start and current is not None and getattr(self, "history_", None)
                          and {name: a.shape for name, a in current.items()}
                          == {name: a.shape for name, a in fresh.items()})
        if not continuing:
            self._params, self.history_ = fresh, []
        if continuing and kept is not None:
            # the epochs go on as the longer run's would: Adam's moments and step count, the batches' shuffles
            # (a model read from a project has its parameters and epochs only: a new Adam goes on from them)
            optimizer, rng = kept
            optimizer.learning_rate = self.learning_rate
        else:
            optimizer = Adam(self.learning_rate)
            rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
            self._stepping = (optimizer, rng)
        self._expose()
        users, items = ratings.users, ratings.items
        targets = self._targets(ratings.values)
        n = len(targets)
        batch = n if self.batch_size is None else min(int(self.batch_size), max(n, 1))
        first_epoch = self.history_[-1].epoch + 1 if self.history_ else 1
        if not self.history_:
            # Epoch 0: the cost and the training scores at the starting parameters, before any update, as
            # matrix factorization reports it (the loss curves and `--epochs 0` start there).
            with np.errstate(over="ignore", invalid="ignore"):
                z = self._scores(users, items)
                data_term, reg_term = self._data_term(z, targets), self._reg_term()
            if not (np.isfinite(data_term) and np.isfinite(reg_term)):
                raise TrainingDiverged("The cost at the starting parameters is infinite or NaN: the starting "
                                       "parameters are too large for these ratings.")
            train = self._report(ratings.values, self._output(z))
            yield keep_epoch(self, 0, data_term, reg_term, train, validation, start, snapshot_every)
        for epoch in range(first_epoch, first_epoch + self.n_epochs):
            previous = {name: array.copy() for name, array in self._params.items()}
            order = rng.permutation(n)
            with np.errstate(over="ignore", invalid="ignore"):
                for begin in range(0, n, batch):
                    chosen = order[begin:begin + batch]
                    # Each batch carries its share of the weight decay, so an epoch of batches follows J.
                    grads = self._gradients(users[chosen], items[chosen], targets[chosen], len(chosen) / n, rng)
                    optimizer.step(self._params, grads)
                self._expose()
                z = self._scores(users, items)
                data_term, reg_term = self._data_term(z, targets), self._reg_term()
            if not (np.isfinite(data_term) and np.isfinite(reg_term)):
                self._params.update(previous)
                self._expose()
                raise TrainingDiverged(
                    f"Training diverged at epoch {epoch}: the loss became infinite or NaN; the learning rate "
                    f"({self.learning_rate:g}) is probably too high; try a value 10 times smaller.")
            train = self._report(ratings.values, self._output(z))
            yield keep_epoch(self, epoch, data_term, reg_term, train, validation, start, snapshot_every)

    def _gradients(self, users, items, targets, reg_fraction, rng=None) -> dict:
        """Gradient of (data term over these ratings) + reg_fraction * (reg term)."""
        z, cache = self._forward(users, items, training=rng is not None and self._uses_dropout(), rng=rng)
        grads = self._backward(cache, self._residual(z, targets))
        for name, grad in self._reg_gradients().items():
            grads[name] = grads[name] + reg_fraction * grad
        return grads

    def _uses_dropout(self) -> bool:
        return False

    def _scores(self, users, items) -> np.ndarray:
        """z for many pairs, in chunks, without dropout."""
        out = np.empty(len(users))
        for begin in range(0, len(users), EVAL_CHUNK):
            part = slice(begin, begin + EVAL_CHUNK)
            out[part] = self._forward(users[part], items[part], training=False)[0]
        return out

    # --- loss and output --------------------------------------------------------------------------------------
    def _targets(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=float)

    def _output(self, z):
        return squash(z, self.loss_ == "bce", self.y_range_, self.scale_.low, self.scale_.high)

    def _data_term(self, z, targets) -> float:
        if self.loss_ == "bce":
            return float(np.sum(np.logaddexp(0.0, z) - targets * z))
        prediction = squash(z, False, self.y_range_, self.scale_.low, self.scale_.high, clip=False)
        return float(0.5 * np.sum((prediction - targets) ** 2))

    def _residual(self, z, targets) -> np.ndarray:
        return score_residual(z, targets, self.loss_ == "bce", self.y_range_)

    def _offset(self, ratings: Ratings) -> float:
        """The global mean as a fixed offset, inside the sigmoid where there is one."""
        mean = ratings.global_mean() if len(ratings) else 0.0
        if self.loss_ == "bce":
            return float(_logit(np.array(mean)))
        if self.y_range_ is not None:
            low, high = self.y_range_
            return float(_logit(np.array((mean - low) / (high - low))))
        return float(mean)

    # --- prediction ------------------------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "_params"):
            raise RuntimeError("this model is not trained yet; call fit first")

    def predict(self, users, items) -> np.ndarray:
        return self._output(self._scores(*self._checked_indices(users, items)))

    def loss_terms(self, ratings: Ratings) -> tuple[float, float, float]:
        self._check_fitted()
        z = self._scores(ratings.users, ratings.items)
        data_term = self._data_term(z, self._targets(ratings.values))
        reg_term = self._reg_term()
        return data_term, reg_term, data_term + reg_term

    # --- state -------------------------------------------------------------------------------------------------
    def get_state(self) -> dict:
        self._check_fitted()
        params = {name: (list(value) if isinstance(value, tuple) else value)
                  for name, value in self.get_params().items() if name in (self._STATE_PARAMS or self._PARAM_NAMES)}
        state = {
            "class": type(self).__name__,
            "params": params,
            "loss": self.loss_,
            "scale": [self.scale_.low, self.scale_.high, self.scale_.step],
            "y_range": list(self.y_range_) if self.y_range_ is not None else None,
            "shape": [self.n_users_, self.n_items_],
            **history_state(self.history_),
        }
        state.update(self._extra_state())
        state.update({f"param_{name}": array for name, array in self._params.items()})
        return state

    @classmethod
    def from_state(cls, state: dict):
        model = cls()
        params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in state["params"].items()
                  if k in model._PARAM_NAMES}
        model.set_params(**params)
        model.loss_ = state["loss"]
        model.scale_ = RatingScale(*state["scale"])
        model.y_range_ = tuple(state["y_range"]) if state.get("y_range") is not None else None
        model.n_users_, model.n_items_ = (int(v) for v in state["shape"])
        model._params = {key[len("param_"):]: np.array(value, dtype=float)
                         for key, value in state.items() if key.startswith("param_")}
        model._restore_extra(state)
        model.history_ = history_from_state(state)
        model._expose()
        return model

    _STATE_PARAMS: tuple = ()  # parameters a project file keeps; empty: all of them

    def _extra_state(self) -> dict:
        return {}

    def _restore_extra(self, state: dict):
        pass

    def _expose(self):
        pass
