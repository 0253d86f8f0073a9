"""Every model the app can train, by kind: its label, its class and the settings it starts from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .bayes import BayesianMF
from .content import ContentBased
from .mf import BINARY_DEFAULTS, BiasBaseline, GlobalMeanBaseline, MatrixFactorization
from .neural import NeuralCF


@dataclass(frozen=True)
class ModelKind:
    key: str
    label: str
    model_class: type
    defaults: dict = field(default_factory=dict)
    description: str = ""
    trains_on_likes: bool = True  # False: ratings only; 1/0 likes are refused

    def make(self, **params):
        """A model of this kind: its defaults, overridden by ``params`` it knows (others are ignored)."""
        known = self.model_class._PARAM_NAMES
        settings = {**self.defaults, **{k: v for k, v in params.items() if k in known}}
        model = self.model_class()
        model.set_params(**settings)
        return model


MODEL_KINDS = {
    kind.key: kind for kind in (
        ModelKind("mf", "Matrix factorization (course)", MatrixFactorization, {},
                  "w·x + b (+ movie bias) + offset: the course's collaborative filtering."),
        ModelKind("dot_bias", "Dot product + biases (fast.ai)", MatrixFactorization,
                  {"y_range": "auto", "optimizer": "adam", "learning_rate": 0.01, "n_epochs": 100,
                   "batch_size": None, "reg": 15.0, "bias_reg": 3.0, "n_factors": 20,
                   "mean_normalization": False, "global_mean": True, "user_bias": True, "item_bias": True},
                  "fast.ai's EmbeddingDotBias: low + (high − low)·sigmoid(w·x + b_user + b_movie)."),
        ModelKind("neural", "Neural CF (fast.ai EmbeddingNN)", NeuralCF, {},
                  "Embeddings of user and movie, concatenated, through dense ReLU layers to one output."),
        ModelKind("content", "Content-based, two towers", ContentBased, {},
                  "User and movie features, each through a network to a unit vector; their dot product."),
        ModelKind("bayes", "Bayesian MF (Gibbs sampling)", BayesianMF, {},
                  "w·x + b + c + mean, averaged over posterior samples drawn by Gibbs sampling (BPMF): "
                  "no λ to tune, and every prediction comes with how sure the model is of it.",
                  trains_on_likes=False),
        ModelKind("biases", "Baseline: user and movie biases", BiasBaseline, {},
                  "Global mean + user bias + movie bias, no latent factors."),
        ModelKind("global_mean", "Baseline: global mean", GlobalMeanBaseline, {},
                  "Every prediction is the mean of the training ratings."),
    )
}

_CLASSES = {cls.__name__: cls for cls in (MatrixFactorization, BiasBaseline, GlobalMeanBaseline, NeuralCF,
                                          ContentBased, BayesianMF)}


def settings_for_likes(kind: str) -> dict:
    """What a model of ``kind`` changes of its defaults to train on likes (1/0), as the training panel, the CLI
    and a comparison set it up: gradient steps and the stronger prior of BINARY_DEFAULTS for the factorization
    and the bias baseline (alternating least squares solves squared error only), and no y-range (the sigmoid
    of the cross-entropy already bounds the output)."""
    params = make_model(kind).get_params()
    changes = {k: v for k, v in BINARY_DEFAULTS.items() if k in params} if kind in ("mf", "biases") else {}
    if "y_range" in params:
        changes["y_range"] = None
    return changes


def make_model(kind: str, **params):
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model {kind!r}; choose from {', '.join(MODEL_KINDS)}")
    return MODEL_KINDS[kind].make(**params)


def model_from_state(state: dict):
    """Rebuild any trained model from :meth:`get_state` output (a project file's model)."""
    cls = _CLASSES.get(state.get("class", "MatrixFactorization"))
    if cls is None:
        raise ValueError(f"unknown model class {state.get('class')!r}")
    return cls.from_state(state)


# What rebuilding a model from a state that does not fit its class raises.
_REBUILD_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, RuntimeError)


def checked_model_from_state(state, ratings):
    """The model a saved state describes, rebuilt and checked against ``ratings``; ValueError otherwise.

    A state read from a file is trusted only this far: it names a known class, every number and array
    in it is finite, it rebuilds, training would accept its hyperparameters, it has one row of factors
    and biases per user and per movie of ``ratings``, and it predicts a finite value for every user
    and every movie (which exercises each layer's shape)."""
    if not isinstance(state, dict):
        raise ValueError("the model is not a table of named values")
    name = state.get("class", "MatrixFactorization")
    if not isinstance(name, str) or name not in _CLASSES:
        raise ValueError(f"unknown model class {str(name)[:80]!r}")
    if not isinstance(state.get("params"), dict):
        raise ValueError("the model's settings are not a table of named values")
    where = _first_non_finite(state)
    if where is not None:
        raise ValueError(f"the model's {where} is not a finite number")
    try:
        model = model_from_state(state)
        model._check_params(ratings)
    except _REBUILD_ERRORS as error:
        raise ValueError(f"the {name} model cannot be rebuilt ({_one_line(error)})") from None
    try:
        _check_fits(model, ratings)
    except _REBUILD_ERRORS as error:
        raise ValueError(f"the {name} model does not fit the ratings ({_one_line(error)})") from None
    return model


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:200] or type(error).__name__


def _first_non_finite(value, where: str = "", depth: int = 0) -> str | None:
    """Where in a state (a key path) the first NaN or infinity is, or None."""
    if depth > 32:
        return where or "state"  # nothing a model saves nests this deep
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            return where
        return None
    elif isinstance(value, (float, np.floating)):
        return None if np.isfinite(value) else where
    else:
        return None
    for key, item in items:
        found = _first_non_finite(item, f"{where}.{key}" if where else str(key), depth + 1)
        if found is not None:
            return found
    return None


MAX_VALUE = 1e300  # room below float64's 1.8e308 for the rounding of a bound's sums


def _check_fits(model, ratings) -> None:
    if getattr(model, "loss_", None) not in ("squared", "bce"):
        raise ValueError(f"its loss is {getattr(model, 'loss_', None)!r}, not squared or bce")
    n_users, n_items = ratings.n_users, ratings.n_items
    if (model.n_users_, model.n_items_) != (n_users, n_items):
        raise ValueError(f"it was trained on {model.n_users_} users × {model.n_items_} movies, "
                         f"the ratings have {n_users} × {n_items}")
    learned = model.snapshot()  # the arrays the factor space and the explanation show
    for side, n in (("user", n_users), ("item", n_items)):
        factors, bias = np.asarray(learned[f"{side}_factors"]), np.asarray(learned[f"{side}_bias"])
        if factors.ndim != 2 or factors.shape[0] != n or bias.shape != (n,):
            raise ValueError(f"{side} factors {factors.shape} and biases {bias.shape} for {n} {side}s")
    if learned["user_factors"].shape[1] != learned["item_factors"].shape[1]:
        raise ValueError("users and movies have factors of different lengths")
    # Where a score overflows, what comes out depends on the order of its sums: inf − inf is NaN, but a fused
    # multiply-add (clang's build of the kernels, BLAS) gives inf, which the rating scale clips to a rating; and
    # the compiled kernels and numpy's products (the grid) compute it each their own way. A sampled prediction
    # misses most pairs (a bias of 1e308 meets another of 1e308 in one cell), so a model whose predictions
    # could overflow anywhere is refused, by each predictor's bound from its arrays' magnitudes. Trained models
    # stay many orders of magnitude below.
    predictor = model.predictor()
    bound = predictor.largest_value()
    if not bound <= MAX_VALUE:
        raise ValueError(f"its learned numbers are so large that a prediction overflows (a sum up to {bound:.3g})")
    if predictor.shape != (n_users, n_items):
        raise ValueError(f"its predictions are {predictor.shape} for {n_users} × {n_items}")
    if n_users and n_items:
        users, items = np.arange(n_users), np.arange(n_items)
        with np.errstate(all="ignore"):
            predictions = np.concatenate([model.predict(users, users % n_items), model.predict(items % n_users, items)])
        if not np.isfinite(predictions).all():
            raise ValueError("it predicts a value that is not a finite number")
    for record in getattr(model, "history_", []):
        if not np.isfinite([record.data_term, record.reg_term, record.total]).all():
            raise ValueError(f"its cost at epoch {record.epoch} is not a finite number")


def kind_of(model) -> str:
    """The registry key that best describes a model instance."""
    if isinstance(model, GlobalMeanBaseline):
        return "global_mean"
    if isinstance(model, BiasBaseline):
        return "biases"
    if isinstance(model, NeuralCF):
        return "neural"
    if isinstance(model, ContentBased):
        return "content"
    if isinstance(model, BayesianMF):
        return "bayes"
    return "dot_bias" if getattr(model, "y_range", None) is not None else "mf"
