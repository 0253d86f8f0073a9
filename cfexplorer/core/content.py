"""Content-based filtering with two towers, as in the course.

Each user is described by features computed from the ratings (how many, the mean, the mean per genre)
and each movie by its own (year, mean rating, number of ratings, genres one-hot). Features are
standardized; each side goes through its own dense network to a vector of length k that is
L2-normalized, and the prediction is the dot product of the two unit vectors, a number in [-1, 1]:

    v_u = normalize(tower_u(x_u)),   v_m = normalize(tower_m(x_m)),   z = v_u . v_m

Targets are scaled to [-1, 1] as scikit-learn's ``MinMaxScaler`` does, fitted on the training ratings, and
predictions are scaled back for display (features are standardized as its ``StandardScaler`` does). Both are
written out here (:func:`standard_scaling`, :class:`TargetScaling`; tests/core/test_models.py compares them with
scikit-learn's): importing ``sklearn.preprocessing`` took 1.4-1.8 s, at the start of a first content run.

The cost is 1/2 sum (z - t)^2 + reg/2 sum |W|^2 over every weight matrix of both towers. Movies are similar
when their item-tower vectors are close (squared distance), and a new user needs only a feature row, no
ratings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import metrics
from .mf import largest_dot_product
from .network import NetworkModel, parse_hidden, relu
from .neural import _top
from .ratings import Ratings
from ..lazy import lazy_import

pd = lazy_import("pandas")

_YEAR = re.compile(r"\((\d{4})\)\s*$")
_NORM_FLOOR = 1e-12


# --- features ------------------------------------------------------------------------------------------
def genre_lists(ratings: Ratings) -> list[list[str]] | None:
    """Each movie's genres (from a 'genres' column like 'Action|Comedy'), or None without one."""
    info = ratings.item_info
    if info is None or "genres" not in info:
        return None
    return [[g for g in str(text).split("|") if g and g != "(no genres listed)"] if isinstance(text, str) else []
            for text in info["genres"]]


def _genre_names(genres: list[list[str]] | None) -> list[str]:
    return sorted({g for movie in genres for g in movie}) if genres else []


def _years(ratings: Ratings) -> np.ndarray | None:
    info = ratings.item_info
    if info is not None and "year" in info:
        years = pd.to_numeric(info["year"], errors="coerce").to_numpy(dtype=float)
    else:
        matches = [_YEAR.search(str(title)) for title in ratings.item_titles()]
        years = np.array([float(m.group(1)) if m else np.nan for m in matches])
    if np.all(np.isnan(years)):
        return None
    return np.where(np.isnan(years), np.nanmedian(years), years)


def item_features(ratings: Ratings) -> pd.DataFrame:
    """One row per movie: year (when the titles or columns give it), mean rating, count, genres one-hot."""
    counts = ratings.item_counts()
    columns = {}
    years = _years(ratings)
    if years is not None:
        columns["year"] = years
    columns["mean rating"] = ratings.item_means(empty=ratings.global_mean() if len(ratings) else 0.0)
    columns["ratings"] = counts.astype(float)
    genres = genre_lists(ratings)
    for name in _genre_names(genres):
        columns[name] = np.array([float(name in movie) for movie in genres])
    return pd.DataFrame(columns, index=pd.Index(ratings.item_titles(), name="movie"))


def user_features(ratings: Ratings) -> pd.DataFrame:
    """One row per user: number of ratings, mean rating, and the mean rating they give each genre
    (their own mean where they rated nothing of that genre)."""
    fallback = ratings.global_mean() if len(ratings) else 0.0
    means = ratings.user_means(empty=fallback)
    columns = {"ratings": ratings.user_counts().astype(float), "mean rating": means}
    genres = genre_lists(ratings)
    names = _genre_names(genres)
    if names:
        item_genre = np.zeros((ratings.n_items, len(names)))
        position = {name: column for column, name in enumerate(names)}
        for item, movie in enumerate(genres):
            item_genre[item, [position[g] for g in movie]] = 1.0
        per_rating = item_genre[ratings.items]
        sums = np.zeros((ratings.n_users, len(names)))
        counts = np.zeros((ratings.n_users, len(names)))
        np.add.at(sums, ratings.users, per_rating * ratings.values[:, None])
        np.add.at(counts, ratings.users, per_rating)
        with np.errstate(invalid="ignore", divide="ignore"):
            genre_means = np.where(counts > 0, sums / np.maximum(counts, 1), means[:, None])
        for column, name in enumerate(names):
            columns[f"mean {name}"] = genre_means[:, column]
    return pd.DataFrame(columns, index=pd.Index(ratings.user_labels.astype(str), name="user"))


def _feature_matrix(frame: pd.DataFrame, expected_rows: int, side: str) -> np.ndarray:
    if len(frame) != expected_rows:
        raise ValueError(f"the {side} feature table has {len(frame)} rows but the data has {expected_rows} {side}s")
    matrix = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if matrix.shape[1] == 0:
        raise ValueError(f"the {side} feature table has no columns")
    if not np.all(np.isfinite(matrix)):
        row, column = np.argwhere(~np.isfinite(matrix))[0]
        raise ValueError(f"{side} feature '{frame.columns[column]}' of row {row + 1} is not a number")
    return matrix


# --- the model --------------------------------------------------------------------------------------------------
def standard_scaling(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and scale, as scikit-learn's ``StandardScaler`` fits them: the scale is the standard
    deviation, or 1 for a column it cannot tell from a constant (its variance within the two-pass algorithm's
    error bound: Chan, Golub and LeVeque)."""
    n = len(table)
    if n == 0:
        return np.zeros(table.shape[1]), np.ones(table.shape[1])
    mean = table.mean(axis=0)
    variance = np.mean((table - mean) ** 2, axis=0)
    eps = np.finfo(np.float64).eps
    scale = np.sqrt(variance)
    scale[variance <= n * eps * variance + (n * mean * eps) ** 2] = 1.0
    return mean, scale


class TargetScaling:
    """scikit-learn's ``MinMaxScaler(feature_range=(-1, 1))`` fitted on the ratings, for one column: the same
    attributes (``data_min_``, ``data_max_``, ``scale_``, ``min_``) and the same arithmetic, t = y scale_ + min_
    (a spread of 1 in its place where every rating is the same)."""

    def __init__(self, values: np.ndarray):
        low, high = float(np.min(values)), float(np.max(values))
        self.data_min_, self.data_max_ = np.array([low]), np.array([high])
        spread = high - low if high - low >= 10 * np.finfo(np.float64).eps else 1.0  # as scikit-learn's
        self.scale_ = np.array([2.0 / spread])
        self.min_ = -1.0 - self.data_min_ * self.scale_

    def transform(self, values: np.ndarray) -> np.ndarray:
        return values * self.scale_[0] + self.min_[0]

    def inverse_transform(self, scaled: np.ndarray) -> np.ndarray:
        return (scaled - self.min_[0]) / self.scale_[0]


class ContentBased(NetworkModel):
    """Two towers from user and movie features to unit vectors whose dot product predicts the rating.

    Parameters
    ----------
    n_outputs : length k of each tower's output vector.
    hidden : sizes of each tower's hidden layers, e.g. (64,) or "256, 128".
    reg : weight decay on the towers' weight matrices.
    learning_rate, n_epochs, batch_size, seed : of mini-batch Adam.
    user_features, item_features : feature tables (one row per user / movie, numbers only); None
        computes them from the ratings with :func:`user_features` and :func:`item_features`.
    normalize : L2-normalize each tower's output (the course's towers do); without it the dot product is
        unbounded and a vector's length counts as much as its direction.
    scale_targets : fit the ratings scaled to [-1, 1], the range of a dot product of unit vectors (the
        course's towers do); without it the targets are the ratings themselves.
    warm_start : go on from the learned towers, Adam's state and the epochs so far when refitting ratings of
        the same shape (as MatrixFactorization's).
    """

    _PARAM_NAMES = ("n_outputs", "hidden", "reg", "learning_rate", "n_epochs", "batch_size", "seed",
                    "user_features", "item_features", "normalize", "scale_targets", "warm_start")
    _STATE_PARAMS = ("n_outputs", "hidden", "reg", "learning_rate", "n_epochs", "batch_size", "seed", "normalize",
                     "scale_targets")

    def __init__(self, n_outputs: int = 32, hidden=(64,), reg: float = 1.0, learning_rate: float = 0.003,
                 n_epochs: int = 15, batch_size: int | None = 1024, seed: int | None = 0,
                 user_features: pd.DataFrame | None = None, item_features: pd.DataFrame | None = None,
                 normalize: bool = True, scale_targets: bool = True, warm_start: bool = False):
        self.n_outputs = n_outputs
        self.hidden = hidden
        self.reg = reg
        self.learning_rate = learning_rate
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.seed = seed
        self.user_features = user_features
        self.item_features = item_features
        self.normalize = normalize
        self.scale_targets = scale_targets
        self.warm_start = warm_start

    def _check_params(self, ratings: Ratings):
        super()._check_params(ratings)
        if self.n_outputs < 1:
            raise ValueError("each tower needs at least 1 output")
        for frame, n, side in ((self.user_features, ratings.n_users, "user"),
                               (self.item_features, ratings.n_items, "movie")):
            if frame is not None:
                _feature_matrix(frame, n, side)

    def _least_values_held(self, ratings: Ratings) -> int:
        # each tower's last layer (from one input at the least) and its gradient, and every user's and movie's
        # output vector
        hidden = parse_hidden(self.hidden)
        outputs = int(self.n_outputs)
        return 2 * 2 * (hidden[-1] if hidden else 1) * outputs + (ratings.n_users + ratings.n_items) * outputs

    def _resolve_loss(self, ratings: Ratings) -> str:
        return "squared"  # on targets scaled to [-1, 1], for ratings and likes alike

    # --- preparation ----------------------------------------------------------------------------------------
    def _prepare(self, ratings: Ratings) -> dict:
        self.hidden_ = parse_hidden(self.hidden)
        self.y_range_ = None
        self.binary_ = ratings.binary
        users = self.user_features if self.user_features is not None else user_features(ratings)
        items = self.item_features if self.item_features is not None else item_features(ratings)
        self.user_feature_names_ = [str(c) for c in users.columns]
        self.item_feature_names_ = [str(c) for c in items.columns]
        self.user_feature_table_ = _feature_matrix(users, ratings.n_users, "user")
        self.item_feature_table_ = _feature_matrix(items, ratings.n_items, "movie")
        self.user_scaling_ = standard_scaling(self.user_feature_table_)
        self.item_scaling_ = standard_scaling(self.item_feature_table_)
        self.target_scaler_ = TargetScaling(
            ratings.values if len(ratings) else np.array([ratings.scale.low, ratings.scale.high]))
        self.normalize_, self.scale_targets_ = bool(self.normalize), bool(self.scale_targets)
        self._standardize()
        rng = np.random.default_rng(self.seed)
        params = {}
        for side, width in (("user", self._user_x.shape[1]), ("item", self._item_x.shape[1])):
            for layer, size in enumerate((*self.hidden_, int(self.n_outputs))):
                params[f"{side}_W{layer}"] = rng.normal(0, np.sqrt(2.0 / width), (width, size))
                params[f"{side}_b{layer}"] = np.zeros(size)
                width = size
        return params

    def _standardize(self):
        self._user_x = (self.user_feature_table_ - self.user_scaling_[0]) / self.user_scaling_[1]
        self._item_x = (self.item_feature_table_ - self.item_scaling_[0]) / self.item_scaling_[1]

    # --- towers ---------------------------------------------------------------------------------------------------
    def _tower(self, side: str, x: np.ndarray):
        """Unit output vectors of one tower, and what its backward pass needs."""
        p = self._params
        layers = []
        activation = x
        n_layers = len(self.hidden_) + 1
        for layer in range(n_layers):
            pre = activation @ p[f"{side}_W{layer}"] + p[f"{side}_b{layer}"]
            layers.append((activation, pre))
            activation = relu(pre) if layer < n_layers - 1 else pre
        if not self.normalize_:
            return activation, (layers, activation, None)
        norm = np.maximum(np.linalg.norm(activation, axis=1, keepdims=True), _NORM_FLOOR)
        unit = activation / norm
        return unit, (layers, unit, norm)

    def _tower_backward(self, side: str, cache, d_unit: np.ndarray, grads: dict):
        layers, unit, norm = cache
        p = self._params
        if norm is None:  # not normalized: the output is the last layer's
            upstream = d_unit
        else:
            # d(a/|a|)/da applied to d_unit: the component along the vector does not change its direction.
            upstream = (d_unit - unit * np.sum(unit * d_unit, axis=1, keepdims=True)) / norm
        for layer in reversed(range(len(layers))):
            below, pre = layers[layer]
            if layer < len(layers) - 1:
                upstream = upstream * (pre > 0)
            grads[f"{side}_W{layer}"] = below.T @ upstream
            grads[f"{side}_b{layer}"] = upstream.sum(axis=0)
            upstream = upstream @ p[f"{side}_W{layer}"].T

    def _forward(self, users, items, training: bool, rng=None):
        user_vectors, user_cache = self._tower("user", self._user_x[users])
        item_vectors, item_cache = self._tower("item", self._item_x[items])
        z = np.sum(user_vectors * item_vectors, axis=1)
        return z, (user_vectors, item_vectors, user_cache, item_cache)

    def _backward(self, cache, dz) -> dict:
        user_vectors, item_vectors, user_cache, item_cache = cache
        grads = {}
        self._tower_backward("user", user_cache, dz[:, None] * item_vectors, grads)
        self._tower_backward("item", item_cache, dz[:, None] * user_vectors, grads)
        return grads

    def _scores(self, users, items) -> np.ndarray:
        # Every user's and movie's vector once, then one dot product per pair.
        return np.sum(self.user_factors_[users] * self.item_factors_[items], axis=1)

    def _decayed(self):
        return [name for name in self._params if "_W" in name]

    def _reg_term(self) -> float:
        return float(0.5 * self.reg * sum(np.sum(self._params[name] ** 2) for name in self._decayed()))

    def _reg_gradients(self) -> dict:
        return {name: self.reg * self._params[name] for name in self._decayed()}

    def _expose(self):
        self.user_factors_ = self._tower("user", self._user_x)[0]
        self.item_factors_ = self._tower("item", self._item_x)[0]

    # --- targets and output -----------------------------------------------------------------------------------------
    def _targets(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return self.target_scaler_.transform(values) if self.scale_targets_ else values

    def _output(self, z):
        z = np.asarray(z, dtype=float)
        restored = self.target_scaler_.inverse_transform(z) if self.scale_targets_ else z
        return np.clip(restored, self.scale_.low, self.scale_.high)

    def _report(self, y, prediction) -> dict:
        if self.binary_:
            return metrics.binary_report(y, prediction)
        return metrics.regression_report(y, prediction)

    # --- what the course does with the towers -----------------------------------------------------------------------
    def user_vector(self, features) -> np.ndarray:
        """The user tower's unit vector for one raw feature row (a dict by column name, or a sequence)."""
        self._check_fitted()
        if isinstance(features, dict):
            missing = [name for name in self.user_feature_names_ if name not in features]
            if missing:
                raise ValueError(f"missing user features: {', '.join(missing)}")
            features = [features[name] for name in self.user_feature_names_]
        row = np.asarray(features, dtype=float).reshape(1, -1)
        if row.shape[1] != len(self.user_feature_names_):
            raise ValueError(f"expected {len(self.user_feature_names_)} user features, got {row.shape[1]}")
        standardized = (row - self.user_scaling_[0]) / self.user_scaling_[1]
        return self._tower("user", standardized)[0][0]

    def recommend_for_features(self, features, n: int = 10):
        """Top-n (movie indices, predicted ratings) for a new user described only by features."""
        scores = self.item_factors_ @ self.user_vector(features)
        return _top(scores, (), n, self._output)

    def similar_items(self, item: int, n: int = 10):
        """The n movies whose item-tower vectors are nearest (squared distance), nearest first."""
        self._check_fitted()
        distances = np.sum((self.item_factors_ - self.item_factors_[item]) ** 2, axis=1)
        distances[item] = np.inf
        n = min(n, len(distances) - 1)
        order = np.argsort(distances, kind="stable")[:n]
        return order, distances[order]

    def feature_tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The (user, movie) feature tables the model was trained on."""
        self._check_fitted()
        return (pd.DataFrame(self.user_feature_table_, columns=self.user_feature_names_),
                pd.DataFrame(self.item_feature_table_, columns=self.item_feature_names_))

    # --- state ------------------------------------------------------------------------------------------------------
    def _extra_state(self) -> dict:
        return {
            "hidden_": list(self.hidden_), "binary": bool(self.binary_),
            "user_feature_names": self.user_feature_names_, "item_feature_names": self.item_feature_names_,
            "user_feature_table": self.user_feature_table_, "item_feature_table": self.item_feature_table_,
            "user_scaling": np.vstack(self.user_scaling_), "item_scaling": np.vstack(self.item_scaling_),
            "target_range": np.array([self.target_scaler_.data_min_[0], self.target_scaler_.data_max_[0]]),
        }

    def _restore_extra(self, state: dict):
        self.hidden_ = tuple(int(v) for v in state["hidden_"])
        self.binary_ = bool(state["binary"])
        self.user_feature_names_ = [str(v) for v in state["user_feature_names"]]
        self.item_feature_names_ = [str(v) for v in state["item_feature_names"]]
        self.user_feature_table_ = np.asarray(state["user_feature_table"], dtype=float)
        self.item_feature_table_ = np.asarray(state["item_feature_table"], dtype=float)
        self.user_scaling_ = tuple(np.asarray(state["user_scaling"], dtype=float))
        self.item_scaling_ = tuple(np.asarray(state["item_scaling"], dtype=float))
        self.target_scaler_ = TargetScaling(np.asarray(state["target_range"], dtype=float).ravel())
        # the settings were restored first (a project saved before the switches existed: both on, the defaults)
        self.normalize_, self.scale_targets_ = bool(self.normalize), bool(self.scale_targets)
        self._standardize()

    def snapshot(self) -> dict:
        self._check_fitted()
        return {"item_factors": self.item_factors_.copy(), "user_factors": self.user_factors_.copy(),
                "item_bias": np.zeros(self.n_items_), "user_bias": np.zeros(self.n_users_)}

    def predictor(self) -> "ContentPredictor":
        self._check_fitted()
        low, high = self.target_scaler_.data_min_[0], self.target_scaler_.data_max_[0]
        return ContentPredictor(
            item_factors=self.item_factors_.copy(), user_factors=self.user_factors_.copy(),
            user_bias=np.zeros(self.n_users_), item_bias=np.zeros(self.n_items_),
            target_low=float(low), target_high=float(high), low=self.scale_.low, high=self.scale_.high,
            binary=bool(self.binary_), epoch=self.history_[-1].epoch if getattr(self, "history_", None) else 0,
            normalized=self.normalize_, scaled_targets=self.scale_targets_,
        )


@dataclass(frozen=True, eq=False)
class ContentPredictor:
    """Unit vectors of both towers and the target scaling, with the Predictor interface the window uses."""

    item_factors: np.ndarray
    user_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    target_low: float
    target_high: float
    low: float
    high: float
    binary: bool
    epoch: int = 0
    y_range: tuple | None = None
    normalized: bool = True
    scaled_targets: bool = True

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.user_factors), len(self.item_factors)

    def _output(self, z):
        if not self.scaled_targets:
            return np.clip(np.asarray(z, dtype=float), self.low, self.high)
        restored = self.target_low + (np.asarray(z) + 1.0) * 0.5 * (self.target_high - self.target_low)
        return np.clip(restored, self.low, self.high)

    def score(self, user: int, item: int) -> float:
        return float(self.user_factors[user] @ self.item_factors[item])

    def largest_value(self) -> float:
        """A bound on every number a prediction of any pair is computed from, from the towers' outputs'
        magnitudes alone: the score, and the score mapped back from [-1, 1] to the targets' range."""
        score = largest_dot_product(self.user_factors, self.item_factors)
        if not self.scaled_targets:
            return score
        return max(score, abs(self.target_low) + (score + 1.0) * (abs(self.target_high) + abs(self.target_low)))

    def predict_cell(self, user: int, item: int) -> float:
        return float(self._output(self.score(user, item)))

    def predict_matrix(self) -> np.ndarray:
        return self._output(self.user_factors @ self.item_factors.T)

    def recommend(self, user: int, rated_items=(), n: int = 10):
        return _top(self.item_factors @ self.user_factors[user], rated_items, n, self._output)

    def explain(self, user: int, item: int) -> dict:
        z = self.score(user, item)
        unit = " (unit)" if self.normalized else ""
        terms = [
            (f"movie tower v<sub>m</sub>{unit}", self.item_factors[item]),
            (f"user tower v<sub>u</sub>{unit}", self.user_factors[user]),
            ("= v<sub>u</sub>·v<sub>m</sub>" + (" in [−1, 1]" if self.normalized else ""), z),
        ]
        scale = (f"scaled back from [−1, 1] to [{self.target_low:g}, {self.target_high:g}]" if self.scaled_targets
                 else "the rating itself (targets not scaled)")
        how = "L2-normalized" if self.normalized else "not normalized"
        return {"model": f"Content-based: two towers, {how}, dot product", "terms": terms, "score": z,
                "prediction": self.predict_cell(user, item), "sigmoid": False, "y_range": None,
                "scaled_back": scale}
