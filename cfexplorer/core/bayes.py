"""Bayesian matrix factorization trained by Gibbs sampling (BPMF, Salakhutdinov & Mnih 2008), with user
and movie biases, and how sure the model is of every prediction.

The model. For movie i and user j

    y_ij ~ N(z_ij, 1/alpha),    z_ij = g + b_j + c_i + w_j . x_i

with g the mean of the training ratings (fixed). A user's row theta_j = [w_j, b_j] is drawn from
N(mu_U, Lambda_U^-1), a movie's row theta_i = [x_i, c_i] from N(mu_I, Lambda_I^-1); each side's (mu, Lambda)
has a Gaussian-Wishart prior (mu_0 = 0, beta_0 = 2, nu_0 = k + 1, W_0 = I) and the noise precision alpha a
Gamma(1, 1) prior. Every prior is conjugate: each step of the sampler draws from a closed form.

One epoch is one Gibbs sweep, one sample: the users' (mu, Lambda) given their rows; every user's row given
the movies' rows, those hyperparameters and alpha; the same for the movies; alpha given the residuals. A
row's conditional is Gaussian, centred where ALS would put it with the regularization matrix
sigma^2 Lambda (sigma^2 = 1/alpha), with covariance sigma^2 (X^T X + sigma^2 Lambda)^-1. Every row of a side
is drawn at once by core/als.py's RowSystems (batched by rating count, as ALS solves them) in coordinates
where the prior is white: theta = mu + C^-T w with Lambda = C C^T, so that its D is sigma^2 I.

Predictions are the posterior mean over the samples after ``burn_in``:

    E[z_ij] = g + mean(b_j) + mean(c_i) + mean(w_j . x_i).

The biases' means are running means. The mean of w . x is the running sum of the samples' products
W_s X_s^T, held as one product L R^T of at most 4k columns (:class:`LowRankSum`: QR of both sides and an
SVD of the small middle every few samples): exact while there are fewer users or movies than that, and
on MovieLens latest-small within 0.06 of the exact mean for every test rating (test RMSE within 0.0002).

Uncertainty: a prediction's posterior standard deviation is the spread of z_ij over up to
``kept_samples`` samples kept evenly through the chain (:class:`KeptSamples`), kept_samples x (users +
movies) x (k + 1) numbers. It is the model's uncertainty about z, not the noise of a rating around it
(sigma, reported apart). Nothing is users x movies.

The cost each record reports, J = data term + regularization term:

    data term = 1/2 sum_{r(i,j)=1} (z_ij - y_ij)^2                 at the sample just drawn
    reg term  = sigma^2/2 sum_rows (theta - mu)^T Lambda (theta - mu)  with the sweep's mu, Lambda, sigma

which is sigma^2 times the negative log density of the ratings and the rows given the hyperparameters (up
to terms without the rows): the course's J with lambda = sigma^2 Lambda, whose minimizer is where each
row's conditional is centred. A chain does not descend to a minimum: J settles and wanders around a level.
A record's training and validation metrics are those of the posterior mean so far (during burn-in, of the
current sample).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import metrics
from .als import RowSystems
from .base import RatingModel
from .gibbs import GaussianWishart, KeptSamples, LowRankSum, noise_precision_posterior
from .mf import (EpochRecord, TrainingDiverged, history_from_state, history_state, largest_dot_product,
                 largest_magnitude)
from .ratings import RatingScale, Ratings

MEAN_RANK_PER_FACTOR = 4  # columns of the running mean of w . x, per factor
COMPRESS_EVERY = 8  # samples added to the running mean between two compressions
INITIAL_NOISE_PRECISION = 1.0


# --- the model ---------------------------------------------------------------------------------------------------
class BayesianMF(RatingModel):
    """Bayesian matrix factorization by Gibbs sampling (see the module docstring).

    Parameters
    ----------
    n_factors : number of latent factors k.
    n_epochs : Gibbs samples (sweeps) to draw.
    burn_in : samples drawn first and left out of the posterior mean.
    kept_samples : samples kept (evenly through the chain) for each prediction's standard deviation.
    init_scale : standard deviation of the initial factors.
    seed : seed of every draw: the same seed, the same chain.
    """

    _PARAM_NAMES = ("n_factors", "n_epochs", "burn_in", "kept_samples", "init_scale", "seed")

    def __init__(self, n_factors: int = 10, n_epochs: int = 200, burn_in: int = 0, kept_samples: int = 32,
                 init_scale: float = 0.1, seed: int | None = 0):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.burn_in = burn_in
        self.kept_samples = kept_samples
        self.init_scale = init_scale
        self.seed = seed

    def _check_params(self, ratings: Ratings):
        for name, said, least in (("n_factors", "number of factors", 1), ("n_epochs", "number of samples", 1),
                                  ("burn_in", "burn-in", 0), ("kept_samples", "number of kept samples", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < least:
                raise ValueError(f"the {said} must be a whole number >= {least}; got {value}")
        if self.burn_in >= self.n_epochs:
            raise ValueError(f"the burn-in ({self.burn_in}) must leave samples to average: draw more than "
                             f"{self.burn_in} samples")
        if not self.init_scale >= 0:
            raise ValueError(f"init scale must be >= 0; got {self.init_scale}")
        if ratings.binary:
            raise ValueError("the Bayesian model predicts ratings with Gaussian noise; for likes (1/0) choose a "
                             "model with a sigmoid (matrix factorization, neural CF or content-based)")

    def _least_values_held(self, ratings: Ratings) -> int:
        # the samples kept of every user's and movie's factors and bias (those after the burn-in, kept_samples at
        # most: a short chain keeps fewer), the current sample and their sum, and a system of k + 1 unknowns and
        # its Gram matrix (each draw is a half-step's solve)
        k = int(self.n_factors)
        kept = min(int(self.kept_samples) + 1, max(int(self.n_epochs) - int(self.burn_in), 0))
        return (kept + 2) * (ratings.n_users + ratings.n_items) * (k + 1) + 2 * (k + 2) ** 2

    def _memory_advice(self) -> str:
        return "choose fewer factors or fewer kept samples"

    def _resolve_loss(self, ratings: Ratings) -> str:
        return "squared"

    # --- training -------------------------------------------------------------------------------------------
    def fit(self, ratings: Ratings, validation: Ratings | None = None) -> "BayesianMF":
        for _ in self.iter_fit(ratings, validation):
            pass
        return self

    def iter_fit(self, ratings: Ratings, validation: Ratings | None = None, snapshot_every: int = 0):
        """Draw ``n_epochs`` samples, yielding an :class:`EpochRecord` after each (see the module docstring
        for its terms); ``snapshot_every=n`` attaches the posterior means of the rows to every n-th record."""
        self._check_params(ratings)
        self._check_memory(ratings)  # not on restoring a model: only before training
        start = time.perf_counter()
        k, d = int(self.n_factors), int(self.n_factors) + 1
        self.loss_, self.scale_ = "squared", ratings.scale
        self.n_users_, self.n_items_ = ratings.n_users, ratings.n_items
        self.user_labels_, self.item_labels_ = ratings.user_labels, ratings.item_labels
        self.global_mean_ = g = ratings.global_mean()
        generator = np.random.default_rng(self.seed)
        rows = {}
        for side, n in (("user", ratings.n_users), ("item", ratings.n_items)):
            rows[side] = np.zeros((n, d))
            rows[side][:, :k] = generator.normal(0.0, self.init_scale, (n, k))
        users = RowSystems(ratings.users, ratings.items, ratings.values, ratings.n_users, ratings.n_items, np.ones(d))
        items = RowSystems(ratings.items, ratings.users, ratings.values, ratings.n_items, ratings.n_users, np.ones(d),
                           row_offset=np.full(ratings.n_items, g))
        chain = _ChainSums(self, ratings.n_users, ratings.n_items, len(ratings), validation)
        train_y = items.ratings_in_solve_order()
        residuals = np.empty(len(train_y))
        alpha = INITIAL_NOISE_PRECISION
        self.history_ = []
        self._publish(chain, rows, alpha)
        prior = GaussianWishart.prior(d)
        for epoch in range(1, int(self.n_epochs) + 1):
            sigma = 1.0 / np.sqrt(alpha)
            with np.errstate(over="ignore", invalid="ignore"):
                user_hyper = prior.posterior(rows["user"]).sample(generator)
                user_rows, user_white, _ = self._draw_rows(users, rows["item"], g + rows["item"][:, k], user_hyper,
                                                           sigma, generator)
                item_hyper = prior.posterior(rows["item"]).sample(generator)
                item_rows, item_white, fit = self._draw_rows(items, user_rows, user_rows[:, k], item_hyper, sigma,
                                                             generator, residuals)
                data_term = fit.data_term
                reg_term = float(0.5 * sigma**2 * (np.sum(user_white**2) + np.sum(item_white**2)))
            if not (np.isfinite(data_term) and np.isfinite(reg_term)):
                raise TrainingDiverged(f"Sampling failed at sample {epoch}: a draw was infinite or NaN (the "
                                       "ratings may be too few or too extreme for the model).")
            rows = {"user": user_rows, "item": item_rows}
            # The sample's (mu, Lambda) of each side and sigma: what its rows were drawn with.
            self.hyperparameters_ = {"user": user_hyper, "item": item_hyper, "sigma": sigma}
            alpha = generator.gamma(*_shape_scale(noise_precision_posterior(fit.squared_residuals, len(train_y))))
            if epoch > self.burn_in:
                chain.add(rows, residuals, alpha)
            self._publish(chain, rows, alpha)
            train = chain.train_report(train_y, residuals)
            record = EpochRecord(epoch=epoch, data_term=data_term, reg_term=reg_term, total=data_term + reg_term,
                                 train=train, validation=chain.validation_report(rows),
                                 seconds=time.perf_counter() - start)
            if snapshot_every and epoch % snapshot_every == 0:
                record.snapshot = self.snapshot()
            self.history_.append(record)
            yield record

    def _draw_rows(self, systems: RowSystems, other_rows, other_offset, hyper, sigma, generator, residuals=None):
        """Every row of one side drawn from its conditional, given the other side's rows (their factors
        and a 1 for the bias as the design), each rating's fixed part ``other_offset`` and (mu, Lambda).
        Returns (rows, the whitened rows C^T (theta - mu), the HalfStepFit when ``residuals`` is asked)."""
        mean, precision = hyper
        k = int(self.n_factors)
        design = other_rows.copy()
        design[:, k] = 1.0
        whitening = np.linalg.inv(np.linalg.cholesky(precision))  # C^-1
        clip = (self.scale_.low, self.scale_.high) if residuals is not None else None
        white, fit = systems.solve(design @ whitening.T, other_offset + design @ mean, clip=clip,
                                   reg_diag=np.full(k + 1, sigma**2), noise=(generator, sigma),
                                   residuals_out=residuals)
        return mean + white @ whitening, white, fit

    def _publish(self, chain: "_ChainSums", rows: dict, alpha: float):
        """The learned arrays as of now: the posterior means (the current sample before any is averaged)."""
        k = int(self.n_factors)
        if chain.count:
            user_rows, item_rows = chain.row_sums["user"] / chain.count, chain.row_sums["item"] / chain.count
            left, right = chain.products.left / chain.count, chain.products.right
            self.noise_sd_ = float(np.sqrt(chain.count / chain.alpha_sum))
        else:
            user_rows, item_rows = rows["user"], rows["item"]
            left, right = rows["user"][:, :k], rows["item"][:, :k]
            self.noise_sd_ = float(1.0 / np.sqrt(alpha))
        self._set_learned(user_rows, item_rows, left, right, tuple(chain.kept.samples), chain.count)

    def _set_learned(self, user_rows, item_rows, left, right, kept: tuple, n_averaged: int):
        k = int(self.n_factors)
        self._params = {"user_rows": user_rows, "item_rows": item_rows}
        self.user_factors_, self.user_bias_ = user_rows[:, :k], user_rows[:, k]
        self.item_factors_, self.item_bias_ = item_rows[:, :k], item_rows[:, k]
        self.product_left_, self.product_right_ = left, right
        self.kept_samples_ = kept
        self.n_averaged_ = n_averaged

    # --- prediction -----------------------------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "user_factors_"):
            raise RuntimeError("this model is not trained yet; call fit first")

    def predict(self, users, items, clip: bool = True) -> np.ndarray:
        """The posterior mean of each (user, item) pair's rating, clipped to the scale unless ``clip=False``."""
        users, items = self._checked_indices(users, items)
        return self.predictor().predict_pairs(users, items, clip)

    def predict_std(self, users, items) -> np.ndarray:
        """The posterior standard deviation of each pair's prediction (over the kept samples; NaN before two
        samples are kept)."""
        users, items = self._checked_indices(users, items)
        return self.predictor().spread_pairs(users, items)

    def predictor(self) -> "BayesPredictor":
        """What the chain has learned so far, frozen (its arrays are never changed in place)."""
        self._check_fitted()
        return BayesPredictor(
            item_factors=self.item_factors_, user_factors=self.user_factors_, user_bias=self.user_bias_,
            item_bias=self.item_bias_, offset=self.global_mean_, product_left=self.product_left_,
            product_right=self.product_right_, samples=self.kept_samples_, n_averaged=self.n_averaged_,
            noise_sd=self.noise_sd_, low=self.scale_.low, high=self.scale_.high,
            epoch=len(getattr(self, "history_", [])),
        )

    def snapshot(self) -> dict:
        """A copy of the posterior means of the factors and biases."""
        self._check_fitted()
        return {"item_factors": self.item_factors_.copy(), "user_factors": self.user_factors_.copy(),
                "user_bias": self.user_bias_.copy(), "item_bias": self.item_bias_.copy()}

    # --- state ------------------------------------------------------------------------------------------------
    def get_state(self) -> dict:
        """Everything needed to rebuild the trained model: arrays plus JSON-able values."""
        self._check_fitted()
        k = int(self.n_factors)
        kept_users = [u for u, _ in self.kept_samples_] or np.zeros((0, self.n_users_, k + 1))
        kept_items = [i for _, i in self.kept_samples_] or np.zeros((0, self.n_items_, k + 1))
        return {
            "class": type(self).__name__, "params": self.get_params(), "loss": self.loss_,
            "scale": [self.scale_.low, self.scale_.high, self.scale_.step], "global_mean": self.global_mean_,
            "noise_sd": self.noise_sd_, "n_averaged": self.n_averaged_,
            "user_rows": self._params["user_rows"], "item_rows": self._params["item_rows"],
            "product_left": self.product_left_, "product_right": self.product_right_,
            "kept_user_rows": np.stack(kept_users) if self.kept_samples_ else kept_users,
            "kept_item_rows": np.stack(kept_items) if self.kept_samples_ else kept_items,
            **history_state(self.history_),
        }

    @classmethod
    def from_state(cls, state: dict) -> "BayesianMF":
        model = cls()
        model.set_params(**{k: v for k, v in state["params"].items() if k in cls._PARAM_NAMES})
        k = int(model.n_factors)
        model.loss_ = str(state["loss"])
        model.scale_ = RatingScale(*state["scale"])
        model.global_mean_ = float(state["global_mean"])
        model.noise_sd_ = float(state["noise_sd"])
        if not model.noise_sd_ > 0:
            raise ValueError(f"its noise deviation is {model.noise_sd_}, not positive")
        arrays = {name: np.array(state[name], dtype=float) for name in (
            "user_rows", "item_rows", "product_left", "product_right", "kept_user_rows", "kept_item_rows")}
        n_users, n_items = len(arrays["user_rows"]), len(arrays["item_rows"])
        expected = {"user_rows": (n_users, k + 1), "item_rows": (n_items, k + 1),
                    "product_left": (n_users, None), "product_right": (n_items, arrays["product_left"].shape[-1]),
                    "kept_user_rows": (None, n_users, k + 1), "kept_item_rows": (len(arrays["kept_user_rows"]),
                                                                                 n_items, k + 1)}
        for name, shape in expected.items():
            actual = arrays[name].shape
            if len(actual) != len(shape) or any(want is not None and want != got for want, got in zip(shape, actual)):
                raise ValueError(f"its {name.replace('_', ' ')} are of shape {actual}, not "
                                 f"{tuple('any' if s is None else s for s in shape)}")
        n_averaged = state["n_averaged"]
        if isinstance(n_averaged, bool) or int(n_averaged) != n_averaged or n_averaged < 0:
            raise ValueError(f"its number of averaged samples is {n_averaged!r}, not a whole number >= 0")
        model.n_users_, model.n_items_ = n_users, n_items
        model._set_learned(arrays["user_rows"], arrays["item_rows"], arrays["product_left"],
                           arrays["product_right"],
                           tuple(zip(arrays["kept_user_rows"], arrays["kept_item_rows"])), int(n_averaged))
        model.history_ = history_from_state(state)
        return model


def _shape_scale(shape_rate: tuple[float, float]) -> tuple[float, float]:
    """numpy's Gamma takes (shape, scale = 1 / rate)."""
    shape, rate = shape_rate
    return shape, 1.0 / rate


class _ChainSums:
    """What a fit accumulates over the samples it averages: running sums of the rows, of the products
    w . x (low rank), of alpha, of the training residuals and validation predictions, and the kept samples."""

    def __init__(self, model: BayesianMF, n_users: int, n_items: int, n_ratings: int, validation: Ratings | None):
        k = int(model.n_factors)
        self.k, self.low, self.high = k, model.scale_.low, model.scale_.high
        self.g = model.global_mean_
        self.count, self.alpha_sum = 0, 0.0
        self.row_sums = {"user": np.zeros((n_users, k + 1)), "item": np.zeros((n_items, k + 1))}
        self.products = LowRankSum(MEAN_RANK_PER_FACTOR * k, COMPRESS_EVERY * k)
        self.kept = KeptSamples(int(model.kept_samples))
        self.residual_sum = np.zeros(n_ratings)
        self.validation = validation if validation is not None and len(validation) else None
        self.validation_sum = np.zeros(len(self.validation)) if self.validation is not None else None

    def add(self, rows: dict, residuals: np.ndarray, alpha: float):
        self.count += 1
        self.alpha_sum += alpha
        for side in ("user", "item"):
            self.row_sums[side] += rows[side]
        self.products.add(rows["user"][:, :self.k], rows["item"][:, :self.k])
        self.kept.offer((rows["user"], rows["item"]))
        self.residual_sum += residuals
        if self.validation is not None:
            self.validation_sum += self._scores(rows, self.validation)

    def _scores(self, rows: dict, ratings: Ratings) -> np.ndarray:
        user_rows, item_rows = rows["user"][ratings.users], rows["item"][ratings.items]
        return self.g + user_rows[:, self.k] + item_rows[:, self.k] + np.einsum(
            "nk,nk->n", user_rows[:, :self.k], item_rows[:, :self.k])

    def train_report(self, y: np.ndarray, residuals: np.ndarray) -> dict:
        mean_residual = self.residual_sum / self.count if self.count else residuals
        return metrics.regression_report(y, np.clip(y + mean_residual, self.low, self.high))

    def validation_report(self, rows: dict) -> dict:
        if self.validation is None:
            return {}
        z = self.validation_sum / self.count if self.count else self._scores(rows, self.validation)
        return metrics.regression_report(self.validation.values, np.clip(z, self.low, self.high))


@dataclass(frozen=True, eq=False)
class BayesPredictor:
    """The posterior mean and spread of a Bayesian model's predictions at one moment of its chain, with the
    Predictor interface the window uses. ``user_factors`` ... ``item_bias`` are the rows' posterior means
    (the factor space shows them); the mean of w . x is ``product_left @ product_right.T``; ``samples`` are
    the kept (user rows, movie rows) pairs the spread is measured over."""

    item_factors: np.ndarray
    user_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    offset: float
    product_left: np.ndarray
    product_right: np.ndarray
    samples: tuple
    n_averaged: int
    noise_sd: float
    low: float
    high: float
    epoch: int = 0
    binary: bool = False
    y_range: tuple | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.user_factors), len(self.item_factors)

    # --- the mean ---------------------------------------------------------------------------------------------
    def score(self, user: int, item: int) -> float:
        return float(self.offset + self.user_bias[user] + self.item_bias[item]
                     + self.product_left[user] @ self.product_right[item])

    def predict_cell(self, user: int, item: int) -> float:
        return min(max(self.score(user, item), self.low), self.high)

    def largest_value(self) -> float:
        """A bound on every number the mean or the spread of any pair's prediction is summed from, from the
        arrays' magnitudes alone: the spread sums each kept sample's score and its square."""
        mean = (abs(self.offset) + largest_magnitude(self.user_bias) + largest_magnitude(self.item_bias)
                + largest_dot_product(self.product_left, self.product_right))
        sample = 0.0
        for user_rows, item_rows in self.samples:  # a row is [factors, bias]
            k = user_rows.shape[1] - 1
            sample = max(sample, largest_dot_product(user_rows[:, :k], item_rows[:, :k])
                         + largest_magnitude(user_rows[:, k]) + largest_magnitude(item_rows[:, k]))
        return max(mean, len(self.samples) * sample * max(sample, 1.0))

    def predict_pairs(self, users: np.ndarray, items: np.ndarray, clip: bool = True) -> np.ndarray:
        z = self.offset + self.user_bias[users] + self.item_bias[items]
        for begin in range(0, len(users), 8192):  # the gathered rows of a chunk, not of every pair at once
            part = slice(begin, begin + 8192)
            z[part] += np.einsum("nk,nk->n", self.product_left[users[part]], self.product_right[items[part]])
        return np.clip(z, self.low, self.high) if clip else z

    def predict_matrix(self) -> np.ndarray:
        z = self.product_left @ self.product_right.T
        z += self.user_bias[:, None]
        z += (self.item_bias + self.offset)[None, :]
        return np.clip(z, self.low, self.high)

    def recommend(self, user: int, rated_items=(), n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        scores = self.product_right @ self.product_left[user] + self.item_bias + (self.offset + self.user_bias[user])
        scores[np.asarray(rated_items, dtype=np.int64)] = -np.inf
        n = min(n, int(np.isfinite(scores).sum()))
        top = np.argpartition(-scores, n - 1)[:n] if n else np.array([], dtype=np.int64)
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, np.clip(scores[top], self.low, self.high)

    # --- the spread ----------------------------------------------------------------------------------------------
    @property
    def has_spread(self) -> bool:
        return len(self.samples) >= 2

    def _sample_scores(self, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
        k = user_rows.shape[-1] - 1
        return (user_rows[..., k] + item_rows[..., k]
                + np.einsum("...k,...k->...", user_rows[..., :k], item_rows[..., :k]))

    def spread_cell(self, user: int, item: int) -> float:
        """The posterior standard deviation of one prediction (NaN before two samples are kept): the rows of
        one user and one movie gathered from each kept sample, nothing stacked whole."""
        if not self.has_spread:
            return float("nan")
        users = np.array([user_rows[user] for user_rows, _ in self.samples])
        items = np.array([item_rows[item] for _, item_rows in self.samples])
        return float(np.std(self._sample_scores(users, items)))

    def spread_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        if not self.has_spread:
            return np.full(len(users), np.nan)
        total, squares = np.zeros(len(users)), np.zeros(len(users))
        for user_rows, item_rows in self.samples:
            z = self._sample_scores(user_rows[users], item_rows[items])
            total += z
            squares += z * z
        mean = total / len(self.samples)
        return np.sqrt(np.maximum(squares / len(self.samples) - mean * mean, 0.0))

    def spread_matrix(self) -> np.ndarray:
        """Every (user, movie) prediction's posterior standard deviation, users x movies: for small grids only
        (one dense product per kept sample)."""
        if not self.has_spread:
            return np.full(self.shape, np.nan)
        total, squares = np.zeros(self.shape), np.zeros(self.shape)
        for user_rows, item_rows in self.samples:
            k = user_rows.shape[1] - 1
            z = user_rows[:, :k] @ item_rows[:, :k].T
            z += user_rows[:, k][:, None]
            z += item_rows[:, k][None, :]
            total += z
            squares += z * z
        mean = total / len(self.samples)
        return np.sqrt(np.maximum(squares / len(self.samples) - mean * mean, 0.0))

    def user_spread(self, user: int) -> float:
        """The posterior standard deviation of this user's predictions, averaged over every movie: how sure
        the model is about the user (one sample's movies at a time: samples x movies numbers at most)."""
        if not self.has_spread:
            return float("nan")
        n_items = len(self.item_factors)
        total, squares = np.zeros(n_items), np.zeros(n_items)
        for user_rows, item_rows in self.samples:
            z = self._sample_scores(user_rows[user][None, :], item_rows)
            total += z
            squares += z * z
        mean = total / len(self.samples)
        return float(np.mean(np.sqrt(np.maximum(squares / len(self.samples) - mean * mean, 0.0))))

    def explain(self, user: int, item: int) -> dict:
        dot = float(self.product_left[user] @ self.product_right[item])
        z = self.score(user, item)
        terms = [
            ("mean of w<sub>j</sub>·x<sub>i</sub> over the samples", dot),
            ("+ mean user bias b<sub>j</sub>", float(self.user_bias[user])),
            ("+ mean movie bias c<sub>i</sub>", float(self.item_bias[item])),
            ("+ global mean", float(self.offset)),
            ("= z, the posterior mean", z),
        ]
        averaged = (f"the mean of g + b + c + w·x over {self.n_averaged} posterior samples" if self.n_averaged
                    else "burn-in: the current sample, nothing averaged yet")
        return {"model": f"Bayesian MF (Gibbs sampling): {averaged}", "terms": terms, "score": z,
                "prediction": self.predict_cell(user, item), "sigmoid": False, "y_range": None,
                "clipped": not (self.low <= z <= self.high), "spread": self.spread_cell(user, item),
                "user_spread": self.user_spread(user), "spread_samples": len(self.samples),
                "noise_sd": self.noise_sd}
