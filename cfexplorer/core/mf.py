"""Matrix factorization for collaborative filtering, in the course's notation.

For item (movie) i and user j the model scores

    z_ij = w_j . x_i + b_j + c_i + o_i

with item factors ``x_i`` (``item_factors_``), user factors ``w_j`` (``user_factors_``), an optional
user bias ``b_j`` (the course's b), an optional item bias ``c_i`` (fast.ai's movie bias) and a fixed
offset ``o_i``: the item's training mean mu_i under mean normalization, else the global mean if
asked, else 0. The prediction is z (squared loss), sigmoid(z) (binary labels), or, with a
``y_range`` (low, high), low + (high - low) sigmoid(z) (fast.ai's EmbeddingDotBias). The cost is

    J = data term + regularization term
    data term  = 1/2 sum_{r(i,j)=1} (prediction_ij - y_ij)^2  (squared loss), or
                 sum_{r(i,j)=1} BCE(y_ij, sigmoid(z_ij))    (binary labels)
    reg term   = reg/2 (|W|^2 + |X|^2) + bias_reg/2 (|b|^2 + |c|^2)

Both terms are sums, as in the course, so their scale grows with the number of ratings; the
learning rate of plain gradient descent must shrink accordingly (Adam is insensitive to it). With
``reg`` = lambda, ``bias_reg`` = 0, a user bias and no offset this is the J of the course's lab
(``cofi_cost_func``): 1/2 sum over rated cells of (w.x + b - y)^2 + lambda/2 (|W|^2 + |X|^2).

A fresh fit reports epoch 0 first: J, its terms and the training scores at the starting parameters,
before any update (the lab's "iteration 0"); epoch n is the cost after n updates. The starting
parameters are drawn by ``init`` ('small': factors from N(0, init_scale^2), biases 0; 'normal': every
parameter from N(0, 1), as the lab's ``tf.random.normal``) or given (``init='given'`` with
:meth:`MatrixFactorization.start_from`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import kernels
from .als import HalfStepFit, RowSystems
from .base import RatingModel
from .optim import Adam, GradientDescent
from .ratings import RatingScale, Ratings
from .training_set import _ItemMajor, _TrainingSet
from ..lazy import lazy_import

sp = lazy_import("scipy.sparse")

OPTIMIZERS = ("gd", "adam", "sgd", "als")
INITS = ("small", "normal", "given")
# For like/dislike labels ALS does not apply; these beat the rating defaults on MovieLens likes
# (rating >= 4, 80/20): test BCE 0.556 and AUC 0.79, against 0.98 and 0.72 with lighter regularization.
BINARY_DEFAULTS = {"optimizer": "adam", "learning_rate": 0.05, "n_epochs": 100, "reg": 10.0, "bias_reg": 5.0}
LOSSES = ("auto", "squared", "bce")
_LOGIT_CLIP = 1e-3
SGD_DEFAULT_BATCH = 256  # ratings per mini-batch of SGD when batch_size is None
_SCORE_CHUNK = 8192


@dataclass
class _Evaluation:
    """A full pass over the ratings at the current parameters: the data term, every prediction (unclipped)
    and what a full-batch step from here needs: each rating's d(data term)/dz (numpy) or the data term's
    gradient by parameter array (the compiled kernel computes J's in the same pass)."""

    data_term: float
    prediction: np.ndarray
    residual: np.ndarray | None = None
    gradients: dict | None = None  # of J, its regularization included
    train: dict | None = None  # the training scores, and
    reg_term: float | None = None  # J's regularization term, where the same pass summed them

    def report(self, model, y: np.ndarray) -> dict:
        """The training scores of these predictions."""
        return self.train if self.train is not None else model._report(y, self.prediction, model._clip_range())

    def regularization(self, model) -> float:
        """J's regularization term at these parameters."""
        return self.reg_term if self.reg_term is not None else model._reg_term()


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the parameters were rolled back to the last finite epoch."""


@dataclass
class EpochRecord:
    """What one epoch of training produced. ``total`` is the cost J = data_term + reg_term. Epoch 0 is the
    starting parameters, before any update."""

    epoch: int
    data_term: float
    reg_term: float
    total: float
    train: dict = field(default_factory=dict)
    validation: dict = field(default_factory=dict)
    seconds: float = 0.0
    snapshot: dict | None = None


SCORE_PLACES = ("train", "validation")  # where an epoch's scores were measured: EpochRecord's two tables


def history_state(history: list[EpochRecord]) -> dict:
    """``history`` as a saved state keeps it: J's terms of each epoch, and each score on the training and
    validation ratings with whether that epoch measured it (a reopened project shows the curves and figures
    it was saved with). Every value finite, as a project's model must be."""
    names = sorted({(where, metric) for record in history for where in SCORE_PLACES
                    for metric in getattr(record, where)})
    scores, measured = np.zeros((len(history), len(names))), np.zeros((len(history), len(names)))
    for row, record in enumerate(history):
        for column, (where, metric) in enumerate(names):
            value = getattr(record, where).get(metric)
            if value is not None and math.isfinite(value):
                scores[row, column], measured[row, column] = value, 1.0
    return {"history": np.array([[r.epoch, r.data_term, r.reg_term, r.total] for r in history]).reshape(-1, 4),
            "history_score_names": [f"{where} {metric}" for where, metric in names],
            "history_scores": scores, "history_measured": measured}


def history_from_state(state: dict) -> list[EpochRecord]:
    """The records :func:`history_state` kept (a state saved before scores were kept has J's terms only);
    ValueError where the state's arrays do not agree."""
    terms = np.asarray(state.get("history", np.empty((0, 4))), dtype=float)
    if terms.ndim != 2 or terms.shape[1] != 4:
        raise ValueError(f"its history is of shape {terms.shape}, not (epochs, 4)")
    names = state.get("history_score_names", [])
    if not isinstance(names, list) or not all(
            isinstance(name, str) and name.partition(" ")[0] in SCORE_PLACES and name.partition(" ")[2]
            for name in names):
        raise ValueError("its history's score names are not all 'train <metric>' or 'validation <metric>'")
    scores = np.asarray(state.get("history_scores", np.zeros((len(terms), len(names)))), dtype=float)
    measured = np.asarray(state.get("history_measured", np.ones(scores.shape)), dtype=float)
    if scores.shape != (len(terms), len(names)) or measured.shape != scores.shape:
        raise ValueError(f"its history's scores are of shape {scores.shape}, not {(len(terms), len(names))}")
    history = []
    for row, (epoch, data_term, reg_term, total) in enumerate(terms):
        record = EpochRecord(int(epoch), float(data_term), float(reg_term), float(total))
        for column, name in enumerate(names):
            if measured[row, column]:
                where, _, metric = name.partition(" ")
                getattr(record, where)[metric] = float(scores[row, column])
        history.append(record)
    return history


def keep_epoch(model, epoch: int, data_term: float, reg_term: float, train: dict, validation, started: float,
               snapshot_every: int) -> EpochRecord:
    """The record of an epoch, appended to ``model.history_``: scores on ``validation`` (when there is
    one), seconds since ``started``, and a copy of the parameters every ``snapshot_every`` epochs (replay)."""
    record = EpochRecord(
        epoch=epoch, data_term=data_term, reg_term=reg_term, total=data_term + reg_term, train=train,
        validation=model.score(validation) if validation is not None and len(validation) else {},
        seconds=time.perf_counter() - started,
    )
    if snapshot_every and epoch % snapshot_every == 0:
        record.snapshot = model.snapshot()
    model.history_.append(record)
    return record


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def squash(z, binary: bool, y_range, low: float, high: float, clip: bool = True):
    """A score z as a prediction: sigmoid(z) for likes, low..high through a sigmoid with a y-range,
    else z clipped to the rating scale (or not, for the data term)."""
    if binary:
        return sigmoid(z)
    if y_range is not None:
        return y_range[0] + (y_range[1] - y_range[0]) * sigmoid(z)
    return np.clip(z, low, high) if clip else z


def score_residual(z, y, binary: bool, y_range):
    """d(data term)/dz per rating, for the squared loss (through a y-range) or cross-entropy."""
    return loss_parts(z, y, binary, y_range)[1]


def loss_parts(z, y, binary: bool, y_range) -> tuple[float, np.ndarray, np.ndarray]:
    """(data term, d(data term)/dz per rating, unclipped prediction) of scores z for ratings y, the
    sigmoid computed once for all three."""
    if binary:
        s = sigmoid(z)
        return float(np.sum(np.logaddexp(0.0, z) - y * z)), s - y, s
    if y_range is not None:
        low, high = y_range
        s = sigmoid(z)
        prediction = low + (high - low) * s
        return float(0.5 * np.sum((prediction - y) ** 2)), (prediction - y) * (high - low) * s * (1 - s), prediction
    return float(0.5 * np.sum((z - y) ** 2)), z - y, z


def _logit(p):
    p = np.clip(p, _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


class MatrixFactorization(RatingModel):
    """Collaborative filtering by matrix factorization (see the module docstring for the model).

    The defaults suit real rating data (MovieLens latest-small: test RMSE about 0.85 in about a
    second); the classroom presets use the course's settings instead (mean normalization, Adam).

    Parameters
    ----------
    n_factors : number of latent factors k (0 gives a bias-only baseline).
    reg : lambda, the L2 weight on the factors W and X.
    bias_reg : L2 weight on the biases (0: unregularized, as in the course).
    learning_rate : step size for 'gd', 'sgd' and 'adam' (ignored by 'als').
    optimizer : 'gd' full-batch gradient descent, 'adam', 'sgd' mini-batch gradient descent, or
        'als' alternating least squares (squared loss only).
    n_epochs : passes over the training ratings.
    batch_size : ratings per step for 'sgd' (default 256) and 'adam' (None: full batch).
    init : how the starting parameters are drawn: 'small' (factors from N(0, init_scale^2), biases 0),
        'normal' (every factor and bias from N(0, 1), as the course's lab), or 'given' (the arrays
        passed to :meth:`start_from`). Users and items without ratings start at 0 whatever the init.
    init_scale : standard deviation of the initial factors under init='small'.
    seed : seed of the initial factors and the mini-batch order.
    mean_normalization : subtract each item's training mean before fitting and add it back when
        predicting, so a user with no ratings is predicted the item means.
    user_bias, item_bias : learn b_j per user, c_i per item.
    global_mean : add the training mean as a fixed offset (when not mean-normalizing).
    loss : 'squared', 'bce' (binary labels through a sigmoid) or 'auto' (bce for binary data).
    warm_start : continue from the current parameters when refitting data of the same shape.
    y_range : None, "auto" or (low, high): squash the score through a sigmoid scaled to (low, high),
        as fast.ai's ``y_range``. "auto" widens the rating scale by one step on each side (0.5..5 in
        half stars gives fast.ai's (0, 5.5)), so that the extreme ratings are reachable.
    """

    epochs_release_the_gil = False  # set by iter_fit, once it knows where its epochs run

    def __init__(
        self,
        n_factors: int = 16,
        reg: float = 15.0,
        bias_reg: float = 3.0,
        learning_rate: float = 0.1,
        optimizer: str = "als",
        n_epochs: int = 20,
        batch_size: int | None = None,
        init: str = "small",
        init_scale: float = 0.1,
        seed: int | None = 0,
        mean_normalization: bool = False,
        user_bias: bool = True,
        item_bias: bool = True,
        global_mean: bool = True,
        loss: str = "auto",
        warm_start: bool = False,
        y_range=None,
    ):
        self.n_factors = n_factors
        self.reg = reg
        self.bias_reg = bias_reg
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.init = init
        self.init_scale = init_scale
        self.seed = seed
        self.mean_normalization = mean_normalization
        self.user_bias = user_bias
        self.item_bias = item_bias
        self.global_mean = global_mean
        self.loss = loss
        self.warm_start = warm_start
        self.y_range = y_range

    # --- scikit-learn style parameter access --------------------------------------------------
    _PARAM_NAMES = (
        "n_factors", "reg", "bias_reg", "learning_rate", "optimizer", "n_epochs", "batch_size",
        "init", "init_scale", "seed", "mean_normalization", "user_bias", "item_bias", "global_mean",
        "loss", "warm_start", "y_range",
    )

    # --- training ------------------------------------------------------------------------------
    def fit(self, ratings: Ratings, validation: Ratings | None = None) -> "MatrixFactorization":
        for _ in self.iter_fit(ratings, validation):
            pass
        return self

    def iter_fit(self, ratings: Ratings, validation: Ratings | None = None, snapshot_every: int = 0):
        """Train, yielding an :class:`EpochRecord` after every epoch.

        ``snapshot_every=n`` attaches a copy of the learned arrays to every n-th record.
        Raises :class:`TrainingDiverged` (parameters rolled back) if the loss stops being finite.
        """
        self._check_params(ratings)
        self._check_memory(ratings)  # not on restoring a model: only before training
        start = time.perf_counter()
        data = self._prepare(ratings)
        optimizer, rng = self._steps_going_on() if self._continuing else (None, None)
        if rng is None:
            optimizer, rng = self._make_optimizer(), np.random.default_rng(None if self.seed is None else self.seed + 1)
        # Kept for a warm start: its epochs then go on as this run's would (Adam's moments, the shuffles).
        self._stepping = (self.optimizer, optimizer, rng)
        self.history_ = getattr(self, "history_", []) if self._continuing else []
        first_epoch = self.history_[-1].epoch + 1 if self.history_ else 1
        systems = self._als_systems(data) if self.optimizer == "als" else None
        full_batch = systems is None and self._batch_size(len(data)) >= len(data)
        # Whether the epochs run in core/_kernels.c, which holds no GIL meanwhile (ALS's solves, a full batch):
        # the app's training thread then goes on while the GUI thread paints (ui/training.py).
        self.epochs_release_the_gil = (all(side.compiled for side in systems) if systems is not None
                                       else full_batch and self._compiled_batch())
        rated = data.item_major if full_batch else data
        current = None  # the _Evaluation at the current parameters, once computed
        if not self.history_:
            # Epoch 0: the cost at the starting parameters. A full batch takes its first step from these
            # very scores, so it costs nothing more; ALS and mini-batches pay one pass over the ratings.
            with np.errstate(over="ignore", invalid="ignore"):
                current = self._evaluate(rated, full_batch)
                reg_term = current.regularization(self)
            if not (np.isfinite(current.data_term) and np.isfinite(reg_term)):
                raise TrainingDiverged("The cost at the starting parameters is infinite or NaN: the starting "
                                       "factors or biases are too large for these ratings.")
            train = current.report(self, rated.y)
            yield keep_epoch(self, 0, current.data_term, reg_term, train, validation, start, snapshot_every)
        # The parameters before each epoch, for a rollback if it diverges: copied into the same arrays every
        # epoch (fresh ones each epoch cost their pages' first touch, 5% of a latest-small Adam epoch).
        previous = {name: np.empty_like(array) for name, array in self._params.items()}
        for epoch in range(first_epoch, first_epoch + self.n_epochs):
            for name, array in self._params.items():
                np.copyto(previous[name], array)
            with np.errstate(over="ignore", invalid="ignore"):
                if systems is not None:
                    fit = self._als_epoch(systems)
                    data_term, train = fit.data_term, fit.report()
                    reg_term = self._reg_term()
                else:
                    # A full batch steps from the residuals (or gradient) J was last reported with: one
                    # pass of scores per epoch, not two.
                    if full_batch and current is None:
                        current = self._evaluate(rated, full_batch)
                    self._gradient_epoch(rated, optimizer, rng, current if full_batch else None)
                    current = self._evaluate(rated, full_batch)
                    data_term = current.data_term
                    reg_term = current.regularization(self)
            if not (np.isfinite(data_term) and np.isfinite(reg_term)):
                self._params.update(previous)
                raise TrainingDiverged(self._divergence_message(epoch))
            if systems is None:
                train = current.report(self, rated.y)
            yield keep_epoch(self, epoch, data_term, reg_term, train, validation, start, snapshot_every)

    def _check_params(self, ratings: Ratings):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {self.loss!r}")
        if int(self.n_factors) != self.n_factors or self.n_factors < 0:
            raise ValueError(f"number of factors must be a whole number >= 0; got {self.n_factors}")
        if not (self.reg >= 0 and self.bias_reg >= 0 and np.isfinite(self.reg) and np.isfinite(self.bias_reg)):
            raise ValueError(
                f"regularization strengths must be finite numbers >= 0; got {self.reg} and {self.bias_reg}")
        if self.n_epochs < 0:
            raise ValueError("number of epochs must be >= 0")
        if self.optimizer != "als" and not (self.learning_rate > 0 and np.isfinite(self.learning_rate)):
            raise ValueError(f"learning rate must be positive; got {self.learning_rate}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError("batch size must be at least 1")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}; got {self.init!r}")
        if not (np.isfinite(self.init_scale) and self.init_scale >= 0):
            raise ValueError(f"the initial scale must be a number >= 0; got {self.init_scale}")
        if self.init == "given" and getattr(self, "_start", None) is not None:
            self._check_start(ratings)
        loss = self._resolve_loss(ratings)
        if loss == "bce" and self.optimizer == "als":
            raise ValueError("alternating least squares needs the squared loss; use gd, sgd or adam")
        if loss == "bce" and len(ratings) and not np.all((ratings.values == 0) | (ratings.values == 1)):
            raise ValueError("binary cross-entropy needs 0/1 labels")
        if self.y_range is not None:
            if loss == "bce":
                raise ValueError("a y-range scales rating predictions; likes already go through a sigmoid")
            if self.optimizer == "als":
                raise ValueError("alternating least squares cannot fit through a y-range sigmoid; use adam, gd or sgd")
            low, high = resolve_y_range(self.y_range, ratings.scale)
            if not low < high:
                raise ValueError(f"y-range needs low < high; got {low:g}..{high:g}")

    def _least_values_held(self, ratings: Ratings) -> int:
        # factors and a bias of every user and movie, and their gradient (or a half-step's solution); ALS solves
        # systems of k + 1 unknowns (and a right-hand side), each built in a Gram matrix of its own
        k = int(self.n_factors)
        return 2 * (ratings.n_users + ratings.n_items) * (k + 1) + (2 * (k + 2) ** 2 if self.optimizer == "als" else 0)

    def _resolve_loss(self, ratings: Ratings) -> str:
        if self.loss == "auto":
            return "bce" if ratings.binary else "squared"
        return self.loss

    def _prepare(self, ratings: Ratings) -> _TrainingSet:
        """Fix offsets, initialize (or keep) parameters, arrange the ratings."""
        self.loss_ = self._resolve_loss(ratings)
        self.scale_ = ratings.scale
        self.n_users_, self.n_items_ = ratings.n_users, ratings.n_items
        self.user_labels_, self.item_labels_ = ratings.user_labels, ratings.item_labels
        binary = self.loss_ == "bce"
        mean = ratings.global_mean()
        self.global_mean_ = mean
        self.item_mean_ = ratings.item_means(empty=mean)
        if self.mean_normalization:
            offsets = self.item_mean_.copy()
        elif self.global_mean:
            offsets = np.full(ratings.n_items, mean)
        else:
            offsets = np.zeros(ratings.n_items)
        self.y_range_ = None if binary or self.y_range is None else resolve_y_range(self.y_range, ratings.scale)
        if self.y_range_ is not None and (self.mean_normalization or self.global_mean):
            low, high = self.y_range_
            # The offset lives inside the sigmoid: a zero score then predicts the mean itself.
            offsets = _logit((offsets - low) / (high - low))
        self.item_offset_ = _logit(offsets) if binary and (self.mean_normalization or self.global_mean) else offsets

        shapes = {
            "item_factors": (ratings.n_items, int(self.n_factors)),
            "user_factors": (ratings.n_users, int(self.n_factors)),
        }
        if self.user_bias:
            shapes["user_bias"] = (ratings.n_users,)
        if self.item_bias:
            shapes["item_bias"] = (ratings.n_items,)
        current = getattr(self, "_params", None)
        self._continuing = bool(
            self.warm_start and current is not None
            and {name: a.shape for name, a in current.items()} == shapes
        )
        if not self._continuing:
            self._params = self._given_params(shapes) if self.init == "given" else self._initial_params(ratings, shapes)
        self._expose()
        return _TrainingSet(ratings, self.item_offset_)

    def _initial_params(self, ratings: Ratings, shapes: dict) -> dict:
        rng = np.random.default_rng(self.seed)
        scale = 1.0 if self.init == "normal" else self.init_scale
        params = {
            "item_factors": rng.normal(0, scale, shapes["item_factors"]),
            "user_factors": rng.normal(0, scale, shapes["user_factors"]),
        }
        for name in ("user_bias", "item_bias"):
            if name in shapes:
                params[name] = rng.standard_normal(shapes[name]) if self.init == "normal" else np.zeros(shapes[name])
        # A user or item without ratings gets no signal, only weight decay; starting it at zero
        # makes its prediction exactly the offset (mu_i under mean normalization) whatever the
        # optimizer, instead of an Adam-sized wobble around it (or, with an unregularized bias, a
        # random bias kept forever). The course's lab has no such rows: there it changes nothing.
        unrated_items, unrated_users = ratings.item_counts() == 0, ratings.user_counts() == 0
        params["item_factors"][unrated_items] = 0
        params["user_factors"][unrated_users] = 0
        if "item_bias" in params:
            params["item_bias"][unrated_items] = 0
        if "user_bias" in params:
            params["user_bias"][unrated_users] = 0
        return params

    # --- given starting parameters --------------------------------------------------------------
    def start_from(self, params: dict | None) -> "MatrixFactorization":
        """Start the next fit with ``init='given'`` from copies of these arrays: ``item_factors`` (items x
        k), ``user_factors`` (users x k) and optionally ``user_bias`` and ``item_bias`` (missing biases
        start at 0; biases the model does not learn are not used). None forgets them. Checked against
        the ratings when the fit begins."""
        if params is None:
            self._start = None
            return self
        missing = [name for name in ("item_factors", "user_factors") if name not in params]
        if missing:
            raise ValueError(f"starting parameters need {' and '.join(missing)}")
        self._start = {name: np.array(value, dtype=float) for name, value in params.items()
                       if name in ("item_factors", "user_factors", "user_bias", "item_bias") and value is not None}
        return self

    def _check_start(self, ratings: Ratings) -> None:
        start, k = self._start, int(self.n_factors)
        expected = {"item_factors": (ratings.n_items, k), "user_factors": (ratings.n_users, k),
                    "user_bias": (ratings.n_users,), "item_bias": (ratings.n_items,)}
        words = {"item_factors": "movie factors X", "user_factors": "user factors W", "user_bias": "user biases b",
                 "item_bias": "movie biases"}
        for name, array in start.items():
            if array.shape != expected[name]:
                raise ValueError(f"the starting {words[name]} have shape {_shape(array.shape)}; these ratings and "
                                 f"{k} factors need {_shape(expected[name])}")
            if not np.isfinite(array).all():
                raise ValueError(f"the starting {words[name]} hold a value that is not a finite number")

    def _given_params(self, shapes: dict) -> dict:
        start = getattr(self, "_start", None)
        if start is None:
            raise ValueError("init='given' needs the starting parameters: call start_from(...) first")
        return {name: start[name].copy() if name in start else np.zeros(shape) for name, shape in shapes.items()}

    def _expose(self):
        """Publish the learned arrays under scikit-learn style names (views, not copies)."""
        p = self._params
        self.item_factors_ = p["item_factors"]
        self.user_factors_ = p["user_factors"]
        self.user_bias_ = p.get("user_bias", np.zeros(self.n_users_))
        self.item_bias_ = p.get("item_bias", np.zeros(self.n_items_))

    def _steps_going_on(self):
        """(optimizer, random generator) of the fit this warm start continues, the optimizer at the learning rate
        now set; (None, None) where there is none of the same optimizer: a new one starts."""
        kept = getattr(self, "_stepping", None)
        if kept is None or kept[0] != self.optimizer:
            return None, None
        _, optimizer, rng = kept
        if optimizer is not None:
            optimizer.learning_rate = self.learning_rate
        return optimizer, rng

    def _make_optimizer(self):
        if self.optimizer == "adam":
            return Adam(self.learning_rate)
        if self.optimizer in ("gd", "sgd"):
            return GradientDescent(self.learning_rate)
        return None

    def _divergence_message(self, epoch: int) -> str:
        if self.optimizer == "als":
            cause = f"the regularization ({self.reg:g}) is probably too small for these data"
        else:
            cause = (
                f"the learning rate ({self.learning_rate:g}) is probably too high; "
                "try a value 10 times smaller"
            )
        return f"Training diverged at epoch {epoch}: the loss became infinite or NaN; {cause}."

    # --- the cost and its gradient ----------------------------------------------------------------
    def _scores(self, users, items, offsets) -> np.ndarray:
        p = self._params
        z = np.empty(len(users))
        if self._compiled_batch():  # one pass, no gathered rows (1.0 -> 0.3 s for ten million ratings)
            kernels.compiled.factor_dots(p["user_factors"], p["item_factors"], np.ascontiguousarray(users, np.int64),
                                         np.ascontiguousarray(items, np.int64), z)
        else:
            # In chunks: gathered factor rows of all ratings at once were two fresh arrays of 13 MB on
            # MovieLens latest-small, whose page faults cost 4 times the arithmetic. np.take, not fancy
            # indexing: twice as fast for rows of a 2-d array.
            for begin in range(0, len(users), _SCORE_CHUNK):
                part = slice(begin, begin + _SCORE_CHUNK)
                np.einsum("nk,nk->n", np.take(p["item_factors"], items[part], axis=0),
                          np.take(p["user_factors"], users[part], axis=0), out=z[part])
        biases = [(p[name], indices) for name, indices in (("user_bias", users), ("item_bias", items)) if name in p]
        if biases and len(z):
            # A block at a time: each bias gathered for every rating was a fresh array (0.2 s each at 10M).
            gathered = np.empty(min(len(z), _SCORE_CHUNK * 8))
            for begin in range(0, len(z), len(gathered)):
                part = slice(begin, begin + len(gathered))
                block = gathered[:len(z[part])]
                for bias, indices in biases:
                    np.take(bias, indices[part], out=block)
                    z[part] += block
        z += offsets
        return z

    def _data_term(self, z, y) -> float:
        if self.loss_ == "bce":
            return float(np.sum(np.logaddexp(0.0, z) - y * z))
        return float(0.5 * np.sum((self._output(z, clip=False) - y) ** 2))

    def _residual(self, z, y) -> np.ndarray:
        return score_residual(z, y, self.loss_ == "bce", self.y_range_)

    def _reg_term(self, fraction: float = 1.0) -> float:
        p = self._params
        factors = _squares(p["item_factors"]) + _squares(p["user_factors"])
        biases = sum(_squares(p[name]) for name in ("user_bias", "item_bias") if name in p)
        return self._reg_of_squares(factors, biases, fraction)

    def _reg_of_squares(self, factor_squares: float, bias_squares: float, fraction: float = 1.0) -> float:
        """J's regularization term from the sums of squares of the factors and of the biases."""
        return float(fraction * 0.5 * (self.reg * factor_squares + self.bias_reg * bias_squares))

    def _loss_terms(self, data: _TrainingSet):
        """(data term, reg term, scores z) at the current parameters."""
        z = self._scores(data.users, data.items, data.offsets)
        return self._data_term(z, data.y), self._reg_term(), z

    def _evaluate(self, data, for_a_step: bool = False) -> "_Evaluation":
        """The data term and unclipped predictions over all of ``data`` at the current parameters, and, for a
        full-batch step from them, the data term's gradient (compiled, in the same pass) or the residuals."""
        if for_a_step and isinstance(data, _ItemMajor) and self._compiled_batch():
            return self._evaluate_compiled(data)
        data_term, residual, prediction = loss_parts(self._scores(data.users, data.items, data.offsets), data.y,
                                                     self.loss_ == "bce", self.y_range_)
        return _Evaluation(data_term, prediction, residual=residual)

    def _compiled_batch(self) -> bool:
        """Whether core/_kernels.c can take this model's full batch and scores: float64 parameter arrays in C
        order, users and movies numbered in int32."""
        return (kernels.compiled is not None and max(self.n_users_, self.n_items_) < 2**31
                and all(array.dtype == np.float64 and array.flags.c_contiguous for array in self._params.values()))

    def _evaluate_compiled(self, data: "_ItemMajor") -> "_Evaluation":
        p = self._params
        gradients = data.gradient_buffers(p)
        none = np.zeros(0)
        loss = 2 if self.loss_ == "bce" else 1 if self.y_range_ is not None else 0
        low, high = self.y_range_ if self.y_range_ is not None else (0.0, 0.0)
        # The training errors of predictions as predict reports them: clipped to the scale unless a sigmoid
        # already bounds them (_clip_range).
        clip = self._clip_range() or (-np.inf, np.inf)
        prediction = np.empty(len(data))
        data_term, squared_errors, absolute_errors, factor_squares, bias_squares = kernels.compiled.mf_full_batch(
            data.users32, data.item_starts, data.y, data.item_offsets, p["user_factors"], p["item_factors"],
            p.get("user_bias", none), p.get("item_bias", none), loss, float(low), float(high), float(clip[0]),
            float(clip[1]), float(self.reg), float(self.bias_reg), prediction, gradients["user_factors"],
            gradients["item_factors"], gradients.get("user_bias", none), gradients.get("item_bias", none))
        train = None
        if self.loss_ != "bce":
            train = HalfStepFit(squared_errors=squared_errors, absolute_errors=absolute_errors,
                                count=len(data)).report()
        return _Evaluation(data_term, prediction, gradients=gradients, train=train,
                           reg_term=self._reg_of_squares(factor_squares, bias_squares))

    def _clip_range(self) -> tuple[float, float] | None:
        """What ``predict`` clips a prediction of :func:`loss_parts` to (the scale), or None."""
        if self.loss_ == "bce" or self.y_range_ is not None:
            return None
        return self.scale_.low, self.scale_.high

    def _gradients(self, users, items, y, offsets, n_users, n_items, reg_fraction, item_user=None, residual=None):
        """Gradient of (data term over these ratings) + reg_fraction * (reg term); ``residual``,
        d(data term)/dz of these ratings at the current parameters, when the caller has it."""
        p = self._params
        if residual is None:
            residual = self._residual(self._scores(users, items, offsets), y)
        if item_user is not None:
            errors = item_user(residual)
        else:
            errors = sp.csr_matrix((residual, (items, users)), shape=(n_items, n_users))
        factor_reg, bias_reg = reg_fraction * self.reg, reg_fraction * self.bias_reg
        grads = {"item_factors": errors @ p["user_factors"], "user_factors": errors.T @ p["item_factors"]}
        if "user_bias" in p:
            grads["user_bias"] = np.bincount(users, residual, n_users)
        if "item_bias" in p:
            grads["item_bias"] = np.bincount(items, residual, n_items)
        for name, grad in grads.items():
            grad += (factor_reg if name.endswith("factors") else bias_reg) * p[name]
        return grads

    def _batch_size(self, n: int) -> int:
        if self.optimizer == "gd" or (self.batch_size is None and self.optimizer == "adam"):
            return n
        return SGD_DEFAULT_BATCH if self.batch_size is None else self.batch_size

    def _gradient_epoch(self, data, optimizer, rng, current: "_Evaluation | None" = None):
        """One epoch of steps: one full-batch step from ``current`` (the :class:`_Evaluation` at the current
        parameters, in ``data``'s order), or a pass of mini-batches."""
        n = len(data)
        batch = self._batch_size(n)
        if batch >= n:
            if current is not None and current.gradients is not None:
                optimizer.step(self._params, current.gradients)
            else:
                optimizer.step(self._params, self._gradients(
                    data.users, data.items, data.y, data.offsets, data.n_users, data.n_items, 1.0,
                    data.item_user_matrix, residual=current.residual if current is not None else None))
            return
        order = rng.permutation(n)
        for begin in range(0, n, batch):
            chosen = order[begin : begin + batch]
            # Each batch carries its share of the regularization, so one epoch of batches
            # follows the gradient of the same J that full-batch descent follows.
            grads = self._gradients(
                data.users[chosen], data.items[chosen], data.y[chosen], data.offsets[chosen],
                data.n_users, data.n_items, len(chosen) / n,
            )
            optimizer.step(self._params, grads)

    # --- alternating least squares ----------------------------------------------------------------
    def _als_systems(self, data: _TrainingSet) -> tuple[RowSystems, RowSystems]:
        """Both sides of the ratings arranged once per fit: users (solving [w_j, b_j]) and items
        (solving [x_i, c_i], their offsets a fixed part of every rating's score)."""
        p, k = self._params, int(self.n_factors)
        users = RowSystems(data.users, data.items, data.y, data.n_users, data.n_items,
                           _reg_diag(k, self.reg, "user_bias" in p, self.bias_reg))
        items = RowSystems(data.items, data.users, data.y, data.n_items, data.n_users,
                           _reg_diag(k, self.reg, "item_bias" in p, self.bias_reg), row_offset=data.item_offsets)
        return users, items

    def _als_epoch(self, systems: tuple[RowSystems, RowSystems]):
        """One epoch: users, then items; returns the items' HalfStepFit, the fit at the epoch's end."""
        p = self._params
        users, items = systems
        # Users: [w_j, b_j] with the items' [x_i, 1] as features; o_i + c_i is part of each score.
        fixed = self.item_offset_ + p["item_bias"] if "item_bias" in p else self.item_offset_
        users.solve_into(p["item_factors"], fixed, p["user_factors"], p.get("user_bias"))
        # Items: [x_i, c_i] with the users' [w_j, 1] as features; b_j is part of each score.
        fixed = p["user_bias"] if "user_bias" in p else np.zeros(self.n_users_)
        return items.solve_into(p["user_factors"], fixed, p["item_factors"], p.get("item_bias"),
                                clip=(self.scale_.low, self.scale_.high))

    # --- prediction --------------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "item_factors_"):
            raise RuntimeError("this model is not trained yet; call fit first")

    def _output(self, z, clip: bool):
        return squash(z, self.loss_ == "bce", getattr(self, "y_range_", None), self.scale_.low, self.scale_.high, clip)

    def decision_function(self, users, items) -> np.ndarray:
        """The raw score z (before sigmoid or clipping) for each (user, item) pair."""
        users, items = self._checked_indices(users, items)
        return self._scores(users, items, self.item_offset_[items])

    def predict(self, users, items, clip: bool = True) -> np.ndarray:
        """Predicted rating (or like-probability for binary labels) for each (user, item) pair.

        Squared-loss predictions are clipped to the training rating scale unless ``clip=False``.
        """
        return self._output(self.decision_function(users, items), clip)

    def predict_matrix(self, clip: bool = True) -> np.ndarray:
        """All predictions as a users x items matrix."""
        self._check_fitted()
        z = self.user_factors_ @ self.item_factors_.T
        z += self.user_bias_[:, None]
        z += (self.item_bias_ + self.item_offset_)[None, :]
        return self._output(z, clip)

    def loss_terms(self, ratings: Ratings) -> tuple[float, float, float]:
        """(data term, regularization term, J) of the current parameters on ``ratings``."""
        self._check_fitted()
        z = self.decision_function(ratings.users, ratings.items)
        data_term = self._data_term(z, ratings.values)
        reg_term = self._reg_term()
        return data_term, reg_term, data_term + reg_term

    def predictor(self) -> "Predictor":
        """A frozen copy of what the model has learned, for predicting while training goes on."""
        self._check_fitted()
        return Predictor(
            item_factors=self.item_factors_.copy(), user_factors=self.user_factors_.copy(),
            user_bias=self.user_bias_.copy(), item_bias=self.item_bias_.copy(),
            item_offset=self.item_offset_.copy(), item_mean=self.item_mean_.copy(),
            binary=self.loss_ == "bce", low=self.scale_.low, high=self.scale_.high,
            epoch=self.history_[-1].epoch if getattr(self, "history_", None) else 0, y_range=self.y_range_,
            offset_of=MOVIE_MEAN if self.mean_normalization else GLOBAL_MEAN if self.global_mean else "",
        )

    def snapshot(self) -> dict:
        """A copy of the learned arrays."""
        self._check_fitted()
        return {
            "item_factors": self.item_factors_.copy(),
            "user_factors": self.user_factors_.copy(),
            "user_bias": self.user_bias_.copy(),
            "item_bias": self.item_bias_.copy(),
        }

    def get_state(self) -> dict:
        """Everything needed to rebuild the trained model: arrays plus JSON-able values."""
        self._check_fitted()
        state = {
            "class": type(self).__name__,
            "params": self.get_params(),
            "loss": self.loss_,
            "global_mean": self.global_mean_,
            "scale": [self.scale_.low, self.scale_.high, self.scale_.step],
            "y_range": list(self.y_range_) if self.y_range_ is not None else None,
            "item_offset": self.item_offset_,
            "item_mean": self.item_mean_,
            **history_state(self.history_),
        }
        state.update({f"param_{name}": array for name, array in self._params.items()})
        return state

    @classmethod
    def from_state(cls, state: dict) -> "MatrixFactorization":
        model_class = {c.__name__: c for c in (MatrixFactorization, BiasBaseline, GlobalMeanBaseline)}.get(
            state.get("class"), cls)
        model = model_class()
        params = {k: v for k, v in state["params"].items() if k in model._PARAM_NAMES}
        if isinstance(params.get("y_range"), list):
            params["y_range"] = tuple(params["y_range"])
        model.set_params(**params)
        model.y_range_ = tuple(state["y_range"]) if state.get("y_range") is not None else None
        model.loss_ = state["loss"]
        model.global_mean_ = float(state["global_mean"])
        model.scale_ = RatingScale(*state["scale"])
        model.item_offset_ = np.asarray(state["item_offset"], dtype=float)
        model.item_mean_ = np.asarray(state["item_mean"], dtype=float)
        model._params = {
            key[len("param_"):]: np.array(value, dtype=float) for key, value in state.items() if key.startswith("param_")
        }
        model.n_items_, model.n_users_ = len(model._params["item_factors"]), len(model._params["user_factors"])
        model.history_ = history_from_state(state)
        model._expose()
        return model


@dataclass(frozen=True, eq=False)
class Predictor:
    """Learned arrays of one moment of training, and the arithmetic of a prediction."""

    item_factors: np.ndarray
    user_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    item_offset: np.ndarray
    item_mean: np.ndarray
    binary: bool
    low: float
    high: float
    epoch: int = 0
    y_range: tuple | None = None
    offset_of: str = ""  # what the offset is made of: MOVIE_MEAN, GLOBAL_MEAN or "" (none)

    @property
    def shape(self) -> tuple[int, int]:
        """(users, items) this predictor knows."""
        return len(self.user_factors), len(self.item_factors)

    def score(self, user: int, item: int) -> float:
        return float(self.item_factors[item] @ self.user_factors[user] + self.user_bias[user]
                     + self.item_bias[item] + self.item_offset[item])

    def largest_value(self) -> float:
        """A bound on every number a score of any pair is summed from, from the arrays' magnitudes alone,
        whatever the order of the sums (Python floats: an overflow is inf, not an error)."""
        return (largest_dot_product(self.user_factors, self.item_factors) + largest_magnitude(self.user_bias) + largest_magnitude(self.item_bias)
                + largest_magnitude(self.item_offset))

    def _output(self, z):
        return squash(z, self.binary, self.y_range, self.low, self.high)

    def predict_cell(self, user: int, item: int) -> float:
        # Called for every visible grid cell: plain float arithmetic, not numpy scalar calls (25 us each).
        z = self.score(user, item)
        if self.binary or self.y_range is not None:
            s = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
            return s if self.binary else self.y_range[0] + (self.y_range[1] - self.y_range[0]) * s
        return min(max(z, self.low), self.high)

    def predict_matrix(self) -> np.ndarray:
        z = self.user_factors @ self.item_factors.T
        z += self.user_bias[:, None]
        z += (self.item_bias + self.item_offset)[None, :]
        return self._output(z)

    def recommend(self, user: int, rated_items=(), n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` (item indices, predictions) for ``user``, best first, leaving out ``rated_items``."""
        scores = (self.item_factors @ self.user_factors[user] + self.user_bias[user]
                  + self.item_bias + self.item_offset)
        scores[np.asarray(rated_items, dtype=np.int64)] = -np.inf
        n = min(n, int(np.isfinite(scores).sum()))
        top = np.argpartition(-scores, n - 1)[:n] if n else np.array([], dtype=np.int64)
        # The sigmoid and clipping keep the order of scores, so ranking by score ranks by prediction.
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, self._output(scores[top])

    def explain(self, user: int, item: int) -> dict:
        x, w = self.item_factors[item], self.user_factors[user]
        dot = float(x @ w)
        z = self.score(user, item)
        return {
            "item_factors": x.copy(), "user_factors": w.copy(), "dot": dot,
            "user_bias": float(self.user_bias[user]), "item_bias": float(self.item_bias[item]),
            "offset": float(self.item_offset[item]), "item_mean": float(self.item_mean[item]),
            "offset_label": offset_label(self.offset_of, self.binary, self.y_range),
            "score": z, "prediction": self.predict_cell(user, item), "sigmoid": self.binary,
            "y_range": self.y_range,
            "clipped": (not self.binary) and self.y_range is None and not (self.low <= z <= self.high),
        }


MOVIE_MEAN, GLOBAL_MEAN = "movie mean", "global mean"


def offset_label(offset_of: str, binary: bool, y_range) -> str:
    """What a prediction's fixed offset is, as the explanation names it (HTML): the movie's mean μ_i or the
    global mean as such, or, where the output is a sigmoid, the logit of a like rate, or the mean carried inside
    the y-range's sigmoid by g⁻¹ (so that a zero score predicts the mean itself)."""
    if offset_of not in (MOVIE_MEAN, GLOBAL_MEAN):
        return "offset (none)"
    movie = offset_of == MOVIE_MEAN
    if binary:
        return "logit of the movie's like rate" if movie else "logit of the overall like rate"
    if y_range is not None:  # short: the Explain pane is narrow, and the formula pane says what g⁻¹ is
        return "g⁻¹(μ<sub>i</sub>), the movie mean" if movie else "g⁻¹(global mean)"
    return "μ<sub>i</sub> (movie mean)" if movie else "global mean"


def largest_magnitude(array) -> float:
    """max |array| as a Python float (0 for an empty array; NaN where the array has one)."""
    return float(np.abs(np.asarray(array, dtype=float)).max(initial=0.0))


def largest_dot_product(left, right) -> float:
    """A bound on every partial sum of a row of ``left`` dotted with a row of ``right``, in any order:
    k · max|left| · max|right| (Python floats: an overflow is inf, not an error)."""
    return np.shape(left)[1] * largest_magnitude(left) * largest_magnitude(right)


def _shape(shape: tuple) -> str:
    return " × ".join(str(n) for n in shape) if len(shape) > 1 else f"{shape[0]}"


def _squares(array: np.ndarray) -> float:
    """The sum of squares of an array's entries: one BLAS dot product, no squared copy."""
    flat = array.ravel()
    return float(flat @ flat)


def _reg_diag(k: int, reg: float, with_bias: bool, bias_reg: float) -> np.ndarray:
    return np.array([reg] * k + ([bias_reg] if with_bias else []), dtype=float)


def resolve_y_range(y_range, scale: RatingScale) -> tuple[float, float]:
    """(low, high) of a y-range setting; "auto" widens the rating scale by one step on each side."""
    if isinstance(y_range, str):
        if y_range != "auto":
            raise ValueError(f"y_range must be None, 'auto' or (low, high); got {y_range!r}")
        margin = scale.step if scale.step is not None else 0.05 * (scale.high - scale.low)
        return float(scale.low - margin), float(scale.high + margin)
    low, high = y_range
    return float(low), float(high)


class BiasBaseline(MatrixFactorization):
    """Global mean + user bias + item bias, no latent factors: the baseline every model must beat."""

    def __init__(self, bias_reg: float = 3.0, n_epochs: int = 10, seed: int | None = 0, loss: str = "auto",
                 optimizer: str = "als", learning_rate: float = 0.1):
        super().__init__(
            n_factors=0, reg=0.0, bias_reg=bias_reg, learning_rate=learning_rate, optimizer=optimizer,
            n_epochs=n_epochs, seed=seed, mean_normalization=False, user_bias=True, item_bias=True,
            global_mean=True, loss=loss,
        )

    _PARAM_NAMES = ("bias_reg", "n_epochs", "seed", "loss", "optimizer", "learning_rate")


class GlobalMeanBaseline(MatrixFactorization):
    """Every prediction is the mean of the training ratings (the like rate for binary labels)."""

    def __init__(self, n_epochs: int = 1, loss: str = "auto"):
        # Gradient descent over zero parameters: one "epoch" just reports the cost of the constant.
        super().__init__(
            n_factors=0, reg=0.0, bias_reg=0.0, learning_rate=0.1, optimizer="gd", n_epochs=n_epochs,
            mean_normalization=False, user_bias=False, item_bias=False, global_mean=True, loss=loss,
        )

    _PARAM_NAMES = ("n_epochs", "loss")
