"""Train several models on the same split (or the same k folds) and compare them on held-out ratings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .models import MODEL_KINDS, make_model, settings_for_likes
from .ratings import Ratings, train_test_split
from .threads import choose_blas_threads

RATING_METRICS = ("rmse", "mae")
BINARY_METRICS = ("bce", "auc")


@dataclass
class Candidate:
    """One model to compare: a name for the table, a registry kind and its settings."""

    name: str
    kind: str
    params: dict = field(default_factory=dict)


@dataclass
class ComparisonRow:
    name: str
    kind: str
    metrics: dict        # mean over folds, by metric name
    spread: dict         # standard deviation over folds (0 with a single split)
    fit_seconds: float   # mean over folds
    n_parameters: int
    folds: int

    def describe(self, metric: str) -> str:
        value = self.metrics[metric]
        return f"{value:.4f} ± {self.spread[metric]:.4f}" if self.folds > 1 else f"{value:.4f}"


class ComparisonStopped(Exception):
    """The user cancelled the comparison; ``rows``: the models compared on every split before it."""

    def __init__(self, rows=()):
        super().__init__("the comparison was stopped")
        self.rows = list(rows)


def fold_splits(ratings: Ratings, folds: int, test_fraction: float = 0.2, seed: int | None = 0):
    """(train, test) pairs: one random split when ``folds`` <= 1, else k folds of the shuffled ratings."""
    if folds <= 1:
        return [train_test_split(ratings, test_fraction, seed)]
    if folds > ratings.n_ratings:
        raise ValueError(f"{folds} folds need at least {folds} ratings; there are {ratings.n_ratings}")
    order = np.random.default_rng(seed).permutation(ratings.n_ratings)
    splits = []
    for part in np.array_split(order, folds):
        test_mask = np.zeros(ratings.n_ratings, dtype=bool)
        test_mask[part] = True
        splits.append((ratings.subset(~test_mask), ratings.subset(test_mask)))
    return splits


def metric_names(ratings: Ratings) -> tuple[str, str]:
    return BINARY_METRICS if ratings.binary else RATING_METRICS


def compare(candidates: list[Candidate], ratings: Ratings, folds: int = 1, test_fraction: float = 0.2,
            seed: int | None = 0, progress=None, should_stop=None, on_row=None) -> list[ComparisonRow]:
    """Fit every candidate on every split; ``progress(done, total, text)`` reports, ``should_stop()`` cancels
    (ComparisonStopped, with the rows made before), ``on_row(row)`` has each candidate's row once it is made."""
    choose_blas_threads()
    for candidate in candidates:
        if candidate.kind not in MODEL_KINDS:
            raise ValueError(f"unknown model {candidate.kind!r}")
    splits = fold_splits(ratings, folds, test_fraction, seed)
    names = metric_names(ratings)
    total, done = len(candidates) * len(splits), 0
    rows = []
    for candidate in candidates:
        scores = {name: [] for name in names}
        seconds, n_parameters = [], 0
        for fold, (train, test) in enumerate(splits, start=1):
            if should_stop is not None and should_stop():
                raise ComparisonStopped(rows)
            if progress is not None:
                progress(done, total, f"{candidate.name}: fold {fold} of {len(splits)}")
            # on likes, each kind as the panel sets it up for them (the defaults of some refuse likes)
            likes = settings_for_likes(candidate.kind) if ratings.binary else {}
            model = make_model(candidate.kind, **{**likes, **candidate.params})
            start = time.perf_counter()
            for _ in model.iter_fit(train):  # a Stop takes effect after the epoch, not after the whole fit
                if should_stop is not None and should_stop():
                    raise ComparisonStopped(rows)
            seconds.append(time.perf_counter() - start)
            report = model.score(test)
            for name in names:
                scores[name].append(report[name])
            n_parameters = model.n_parameters_
            done += 1
        rows.append(ComparisonRow(
            name=candidate.name, kind=candidate.kind,
            metrics={name: float(np.mean(values)) for name, values in scores.items()},
            spread={name: float(np.std(values)) for name, values in scores.items()},
            fit_seconds=float(np.mean(seconds)), n_parameters=n_parameters, folds=len(splits),
        ))
        if on_row is not None:
            on_row(rows[-1])
    if progress is not None:
        progress(done, total, "done")
    return rows
