"""Every model the app can train, by kind: its label, its class and the settings it starts from."""

from __future__ import annotations

from dataclasses import dataclass, field

from .content import ContentBased
from .mf import BiasBaseline, GlobalMeanBaseline, MatrixFactorization
from .neural import NeuralCF


@dataclass(frozen=True)
class ModelKind:
    key: str
    label: str
    model_class: type
    defaults: dict = field(default_factory=dict)
    description: str = ""

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
        ModelKind("dot_bias", "Dot product + biases, y-range (fast.ai)", MatrixFactorization,
                  {"y_range": "auto", "optimizer": "adam", "learning_rate": 0.01, "n_epochs": 100,
                   "batch_size": None, "reg": 15.0, "bias_reg": 3.0, "n_factors": 20,
                   "mean_normalization": False, "global_mean": True, "user_bias": True, "item_bias": True},
                  "fast.ai's EmbeddingDotBias: low + (high − low)·sigmoid(w·x + b_user + b_movie)."),
        ModelKind("neural", "Neural CF (fast.ai EmbeddingNN)", NeuralCF, {},
                  "Embeddings of user and movie, concatenated, through dense ReLU layers to one output."),
        ModelKind("content", "Content-based, two towers", ContentBased, {},
                  "User and movie features, each through a network to a unit vector; their dot product."),
        ModelKind("biases", "Baseline: user and movie biases", BiasBaseline, {},
                  "Global mean + user bias + movie bias, no latent factors."),
        ModelKind("global_mean", "Baseline: global mean", GlobalMeanBaseline, {},
                  "Every prediction is the mean of the training ratings."),
    )
}

_CLASSES = {cls.__name__: cls for cls in (MatrixFactorization, BiasBaseline, GlobalMeanBaseline, NeuralCF,
                                          ContentBased)}


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
    return "dot_bias" if getattr(model, "y_range", None) is not None else "mf"
