"""What every rating model shares, whatever it learns: scikit-learn style parameters, index checks,
held-out scores, recommendations and explanations through its :meth:`predictor`."""

from __future__ import annotations

import numpy as np

from . import metrics
from .memory import available_memory, describe_bytes
from .ratings import Ratings


def same_setting(a, b) -> bool:
    """Whether two values of a hyperparameter are the same: arrays and tables by their values, a tuple and a list
    of the same items alike (a project's JSON makes tuples lists)."""
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return a is not None and b is not None and np.array_equal(a, b)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return list(a) == list(b)
        return bool(a == b)
    except (TypeError, ValueError):  # tables compare element-wise
        return a is b


class RatingModel:
    """Base of the models; a subclass names its hyperparameters in ``_PARAM_NAMES`` and provides
    ``_check_fitted``, ``predict``, ``predictor`` and the learned ``_params``."""

    _PARAM_NAMES: tuple = ()

    # --- scikit-learn style parameter access --------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._PARAM_NAMES}

    def set_params(self, **params):
        for name, value in params.items():
            if name not in self._PARAM_NAMES:
                raise ValueError(f"unknown parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = type(self)().get_params()
        changed = {k: v for k, v in self.get_params().items() if not same_setting(v, defaults[k])}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # --- what training will hold ----------------------------------------------------------------
    def _least_values_held(self, ratings: Ratings) -> int:
        """The fewest numbers training on ``ratings`` holds at once (the learned arrays and, beside them, at
        least a gradient or a solution of the same size), from the settings alone; 0 where not counted."""
        return 0

    def _memory_advice(self) -> str:
        return "choose fewer factors"

    def _check_memory(self, ratings: Ratings):
        """Refuse, before anything is allocated, settings whose arrays cannot fit in the memory free now (a
        number of factors typed with three zeros too many: numpy's refusal came as a traceback, or the
        allocations went on until the system killed the process)."""
        needed = 8 * self._least_values_held(ratings)
        available = available_memory()
        if needed > available:
            raise ValueError(f"these settings need at least {describe_bytes(needed)} of memory for the model's "
                             f"arrays, and {describe_bytes(available)} is free: {self._memory_advice()}")

    # --- prediction ---------------------------------------------------------------------------
    def _checked_indices(self, users, items) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) as int64 arrays, refused when the model does not know them."""
        self._check_fitted()
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        if users.size and (users.min() < 0 or users.max() >= self.n_users_):
            raise IndexError(f"user index out of range: the model knows {self.n_users_} users")
        if items.size and (items.min() < 0 or items.max() >= self.n_items_):
            raise IndexError(f"item index out of range: the model knows {self.n_items_} items")
        return users, items

    def score(self, ratings: Ratings) -> dict:
        """Metrics on held-out ratings: rmse/mae, or bce/accuracy/auc for binary labels."""
        return self._report(ratings.values, self.predict(ratings.users, ratings.items))

    def _report(self, y, prediction, clip: tuple[float, float] | None = None) -> dict:
        """The scores of ``prediction`` for ratings ``y``; a rating model's predictions clipped to ``clip``
        first where given."""
        if self.loss_ == "bce":
            return metrics.binary_report(y, prediction)
        return metrics.regression_report(y, prediction, clip=clip)

    def recommend(self, user: int, ratings: Ratings | None = None, n: int = 10):
        """Top-``n`` (item indices, predictions) for ``user``, leaving out items rated in ``ratings``."""
        rated = ratings.items[ratings.users == user] if ratings is not None else ()
        return self.predictor().recommend(user, rated, n)

    def explain(self, user: int, item: int) -> dict:
        """Every term of one prediction, so that they can be shown adding up."""
        return self.predictor().explain(user, item)

    @property
    def n_parameters_(self) -> int:
        self._check_fitted()
        return int(sum(array.size for array in self._params.values()))
