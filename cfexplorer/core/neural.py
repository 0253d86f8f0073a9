"""Neural collaborative filtering (fast.ai's EmbeddingNN) in numpy.

For user j and movie i the network reads the concatenation [u_j, v_i] of their embeddings, passes it
through dense ReLU layers and one linear output unit:

    a_0 = [u_j, v_i],   a_l = ReLU(a_{l-1} W_l + b_l),   z = a_L w_out + b_out + offset

with the global mean as a fixed offset (inside the sigmoid when there is one). The prediction is z,
sigmoid(z) for likes, or low + (high - low) sigmoid(z) with a y-range. The cost is the same sum as the
course's, with weight decay on every weight matrix and embedding:

    J = 1/2 sum (prediction - y)^2  +  reg/2 (|U|^2 + |V|^2 + sum_l |W_l|^2 + |w_out|^2)

An embedding lookup is a one-hot row times the table, so its gradient scatters the rows of dJ/da_0
back into the table rows that were looked up (:func:`~cfexplorer.core.network.scatter_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mf import GLOBAL_MEAN, largest_magnitude, offset_label, resolve_y_range, squash
from .network import NetworkModel, parse_hidden, relu, scatter_rows
from .ratings import Ratings

PREDICT_CHUNK_FLOATS = 4_000_000


class NeuralCF(NetworkModel):
    """User and movie embeddings, concatenated, through dense ReLU layers to one output.

    Parameters
    ----------
    n_factors : length of each embedding.
    hidden : sizes of the dense layers, e.g. (64,) or "64, 32".
    dropout : share of each hidden layer's units dropped while training (inverted dropout).
    reg : weight decay on embeddings and weight matrices.
    learning_rate, n_epochs, batch_size : of mini-batch Adam.
    init_scale : standard deviation of the initial embeddings.
    seed : random seed of the initial parameters, the batches and the dropout.
    y_range : None, "auto" or (low, high), as in MatrixFactorization.
    loss : 'auto', 'squared' or 'bce'.
    warm_start : go on from the learned parameters, Adam's state and the epochs so far when refitting ratings
        of the same shape (as MatrixFactorization's).
    """

    _PARAM_NAMES = ("n_factors", "hidden", "dropout", "reg", "learning_rate", "n_epochs", "batch_size",
                    "init_scale", "seed", "y_range", "loss", "warm_start")

    def __init__(self, n_factors: int = 16, hidden=(64,), dropout: float = 0.0, reg: float = 60.0,
                 learning_rate: float = 0.003, n_epochs: int = 10, batch_size: int | None = 512,
                 init_scale: float = 0.1, seed: int | None = 0, y_range="auto", loss: str = "auto",
                 warm_start: bool = False):
        self.n_factors = n_factors
        self.hidden = hidden
        self.dropout = dropout
        self.reg = reg
        self.learning_rate = learning_rate
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.init_scale = init_scale
        self.seed = seed
        self.y_range = y_range
        self.loss = loss
        self.warm_start = warm_start

    def _check_params(self, ratings: Ratings):
        super()._check_params(ratings)
        if self.n_factors < 1:
            raise ValueError("the neural model needs embeddings of at least 1 factor")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout}")
        if self.y_range is not None and self._resolve_loss(ratings) == "bce":
            raise ValueError("a y-range scales rating predictions; likes already go through a sigmoid")

    def _least_values_held(self, ratings: Ratings) -> int:
        # the embeddings and the layers (the first takes both embeddings), and their gradient
        k, width, weights = int(self.n_factors), 2 * int(self.n_factors), 0
        for size in (*parse_hidden(self.hidden), 1):
            weights += width * size + size
            width = size
        return 2 * ((ratings.n_users + ratings.n_items) * k + weights)

    def _prepare(self, ratings: Ratings) -> dict:
        self.hidden_ = parse_hidden(self.hidden)
        binary = self.loss_ == "bce"
        self.y_range_ = None if binary or self.y_range is None else resolve_y_range(self.y_range, ratings.scale)
        self.offset_ = self._offset(ratings)
        rng = np.random.default_rng(self.seed)
        k = int(self.n_factors)
        params = {
            "user_embedding": rng.normal(0, self.init_scale, (ratings.n_users, k)),
            "item_embedding": rng.normal(0, self.init_scale, (ratings.n_items, k)),
        }
        width = 2 * k
        for layer, size in enumerate(self.hidden_):
            params[f"W{layer}"] = rng.normal(0, np.sqrt(2.0 / width), (width, size))  # He initialization
            params[f"b{layer}"] = np.zeros(size)
            width = size
        params["w_out"] = rng.normal(0, np.sqrt(1.0 / width), width)
        params["b_out"] = np.zeros(1)
        return params

    def _uses_dropout(self) -> bool:
        return self.dropout > 0

    def _forward(self, users, items, training: bool, rng=None):
        p = self._params
        activation = np.hstack([p["user_embedding"][users], p["item_embedding"][items]])
        layers = []
        for layer in range(len(self.hidden_)):
            pre = activation @ p[f"W{layer}"] + p[f"b{layer}"]
            out = relu(pre)
            mask = None
            if training and self.dropout > 0:
                mask = (rng.random(out.shape) >= self.dropout) / (1.0 - self.dropout)
                out = out * mask
            layers.append((activation, pre, mask))
            activation = out
        z = activation @ p["w_out"] + p["b_out"][0] + self.offset_
        return z, (users, items, layers, activation)

    def _backward(self, cache, dz) -> dict:
        users, items, layers, last = cache
        p = self._params
        grads = {"w_out": last.T @ dz, "b_out": np.array([dz.sum()])}
        upstream = np.outer(dz, p["w_out"])
        for layer in reversed(range(len(layers))):
            below, pre, mask = layers[layer]
            if mask is not None:
                upstream = upstream * mask
            upstream = upstream * (pre > 0)
            grads[f"W{layer}"] = below.T @ upstream
            grads[f"b{layer}"] = upstream.sum(axis=0)
            upstream = upstream @ p[f"W{layer}"].T
        k = p["user_embedding"].shape[1]
        grads["user_embedding"] = scatter_rows(users, upstream[:, :k], len(p["user_embedding"]))
        grads["item_embedding"] = scatter_rows(items, upstream[:, k:], len(p["item_embedding"]))
        return grads

    def _decayed(self):
        return [name for name in self._params if not name.startswith("b")]

    def _reg_term(self) -> float:
        return float(0.5 * self.reg * sum(np.sum(self._params[name] ** 2) for name in self._decayed()))

    def _reg_gradients(self) -> dict:
        return {name: self.reg * self._params[name] for name in self._decayed()}

    def _expose(self):
        self.user_factors_ = self._params["user_embedding"]
        self.item_factors_ = self._params["item_embedding"]

    def _extra_state(self) -> dict:
        return {"offset": self.offset_, "hidden_": list(self.hidden_)}

    def _restore_extra(self, state: dict):
        self.offset_ = float(state["offset"])
        self.hidden_ = tuple(int(v) for v in state["hidden_"])

    def snapshot(self) -> dict:
        self._check_fitted()
        return {"item_factors": self.item_factors_.copy(), "user_factors": self.user_factors_.copy(),
                "item_bias": np.zeros(self.n_items_), "user_bias": np.zeros(self.n_users_)}

    def predictor(self) -> "NeuralPredictor":
        self._check_fitted()
        p = {name: array.copy() for name, array in self._params.items()}
        k = p["user_embedding"].shape[1]
        # The first layer is linear in [u, v]: precomputing u W0[:k] and v W0[k:] per row makes a cell cheap.
        first_user = p["user_embedding"] @ p["W0"][:k] if self.hidden_ else None
        first_item = p["item_embedding"] @ p["W0"][k:] + p["b0"] if self.hidden_ else None
        return NeuralPredictor(
            item_factors=p["item_embedding"], user_factors=p["user_embedding"],
            user_bias=np.zeros(self.n_users_), item_bias=np.zeros(self.n_items_), params=p,
            n_layers=len(self.hidden_), first_user=first_user, first_item=first_item, offset=self.offset_,
            binary=self.loss_ == "bce", low=self.scale_.low, high=self.scale_.high, y_range=self.y_range_,
            epoch=self.history_[-1].epoch if getattr(self, "history_", None) else 0,
        )


@dataclass(frozen=True, eq=False)
class NeuralPredictor:
    """A frozen copy of a trained NeuralCF, with the Predictor interface the window uses."""

    item_factors: np.ndarray
    user_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    params: dict
    n_layers: int
    first_user: np.ndarray | None
    first_item: np.ndarray | None
    offset: float
    binary: bool
    low: float
    high: float
    y_range: tuple | None = None
    epoch: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.user_factors), len(self.item_factors)

    def _scores(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        p = self.params
        if self.n_layers:
            activation = relu(self.first_user[users] + self.first_item[items])
            for layer in range(1, self.n_layers):
                activation = relu(activation @ p[f"W{layer}"] + p[f"b{layer}"])
        else:
            activation = np.hstack([self.user_factors[users], self.item_factors[items]])
        return activation @ p["w_out"] + p["b_out"][0] + self.offset

    def _output(self, z):
        return squash(z, self.binary, self.y_range, self.low, self.high)

    def score(self, user: int, item: int) -> float:
        return float(self._scores(np.array([user]), np.array([item]))[0])

    def largest_value(self) -> float:
        """A bound on every number a score of any pair is summed from, layer by layer from the magnitudes
        alone, whatever the order of the sums: ReLU never enlarges a value, and any partial sum of (a W)_j is
        at most max|a| · Σ_i |W_ij|. The first layer from the embeddings, not from first_user and first_item,
        whose sums may cancel where the network's own forward pass (another order) overflows."""
        p = self.params
        if self.n_layers:
            k = self.user_factors.shape[1]
            bound = (largest_magnitude(self.user_factors) * largest_magnitude(np.abs(p["W0"][:k]).sum(axis=0))
                     + largest_magnitude(self.item_factors) * largest_magnitude(np.abs(p["W0"][k:]).sum(axis=0))
                     + largest_magnitude(p["b0"]))
            for layer in range(1, self.n_layers):
                bound = (bound * largest_magnitude(np.abs(p[f"W{layer}"]).sum(axis=0))
                         + largest_magnitude(p[f"b{layer}"]))
        else:
            bound = max(largest_magnitude(self.user_factors), largest_magnitude(self.item_factors))
        return bound * float(np.abs(p["w_out"]).sum()) + largest_magnitude(p["b_out"]) + abs(self.offset)

    def predict_cell(self, user: int, item: int) -> float:
        return float(self._output(self.score(user, item)))

    def _user_scores(self, user: int) -> np.ndarray:
        items = np.arange(len(self.item_factors))
        return self._scores(np.full(len(items), user), items)

    def predict_matrix(self) -> np.ndarray:
        n_users, n_items = self.shape
        width = max(self.first_item.shape[1] if self.n_layers else 1, 1)
        rows = max(1, PREDICT_CHUNK_FLOATS // max(n_items * width, 1))
        out = np.empty((n_users, n_items))
        items = np.arange(n_items)
        for begin in range(0, n_users, rows):
            users = np.arange(begin, min(begin + rows, n_users))
            out[users] = self._scores(np.repeat(users, n_items), np.tile(items, len(users))).reshape(len(users), -1)
        return self._output(out)

    def recommend(self, user: int, rated_items=(), n: int = 10):
        scores = self._user_scores(user)
        return _top(scores, rated_items, n, self._output)

    def explain(self, user: int, item: int) -> dict:
        z = self.score(user, item)
        prediction = self.predict_cell(user, item)
        terms = [
            ("movie embedding v<sub>i</sub>", self.item_factors[item]),
            ("user embedding u<sub>j</sub>", self.user_factors[user]),
            ("layers", " → ".join(str(self.params[f"W{layer}"].shape[1]) for layer in range(self.n_layers))
             + (" → 1" if self.n_layers else "1 (linear)")),
            ("network output", z - self.offset),
            (f"+ {offset_label(GLOBAL_MEAN, self.binary, self.y_range)}", self.offset),
            ("= z", z),
        ]
        return {"model": "Neural CF: [u, v] → dense ReLU layers → 1", "terms": terms, "score": z,
                "prediction": prediction, "sigmoid": self.binary, "y_range": self.y_range}


def _top(scores: np.ndarray, rated_items, n: int, output):
    """Top-n items by score (the output functions keep the order), leaving out ``rated_items``."""
    scores = scores.astype(float, copy=True)
    scores[np.asarray(rated_items, dtype=np.int64)] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    top = np.argpartition(-scores, n - 1)[:n] if n else np.array([], dtype=np.int64)
    top = top[np.argsort(-scores[top], kind="stable")]
    return top, output(scores[top])
