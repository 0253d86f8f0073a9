"""Accuracy metrics for rating predictions and binary likes."""

from __future__ import annotations

import numpy as np

_EPS = 1e-12
# How each metric is written for a person: initials in capitals, a word in small letters ("val ACCURACY" beside
# "train accuracy" was the key's upper case).
METRIC_NAMES = {"rmse": "RMSE", "mae": "MAE", "bce": "BCE", "auc": "AUC", "accuracy": "accuracy"}


def metric_name(key: str) -> str:
    return METRIC_NAMES.get(key, key)
# Errors are summed this many at a time: whole-array temporaries of ten million errors were memory the system
# handed out anew for each metric (0.19 s each, against 0.03 s of arithmetic).
_BLOCK = 2**16


def _mean_error(y_true, y_pred, power: int, clip: tuple[float, float] | None = None) -> float:
    """The mean of |y_true - y_pred| ** power (1 or 2), a block at a time, y_pred first clipped to ``clip``
    = (low, high) where given."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    if y_true.shape != y_pred.shape:
        y_true, y_pred = np.broadcast_arrays(y_true, y_pred)
    if not y_true.size:
        return float("nan")
    y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    errors = np.empty(min(y_true.size, _BLOCK))
    total = 0.0
    for begin in range(0, y_true.size, _BLOCK):
        block = errors[:min(_BLOCK, y_true.size - begin)]
        predicted = y_pred[begin:begin + _BLOCK]
        if clip is not None:
            predicted = np.clip(predicted, *clip, out=block)
        np.subtract(y_true[begin:begin + _BLOCK], predicted, out=block)
        total += float(np.dot(block, block)) if power == 2 else float(np.abs(block, out=block).sum())
    return total / y_true.size


def rmse(y_true, y_pred, clip: tuple[float, float] | None = None) -> float:
    return float(np.sqrt(_mean_error(y_true, y_pred, 2, clip)))


def mae(y_true, y_pred, clip: tuple[float, float] | None = None) -> float:
    return _mean_error(y_true, y_pred, 1, clip)


def bce(y_true, p_pred) -> float:
    """Mean binary cross-entropy of probabilities ``p_pred`` for 0/1 labels."""
    y_true = np.asarray(y_true, float)
    p = np.clip(np.asarray(p_pred, float), _EPS, 1 - _EPS)
    if not y_true.size:
        return float("nan")
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log1p(-p)))


def accuracy(y_true, p_pred, threshold: float = 0.5) -> float:
    y_true = np.asarray(y_true, float)
    if not y_true.size:
        return float("nan")
    return float(np.mean((np.asarray(p_pred, float) >= threshold) == (y_true == 1)))


def roc_auc(y_true, score) -> float:
    """Area under the ROC curve via the rank-sum (Mann-Whitney) statistic; ties count half.

    NaN when only one class is present, where the AUC is undefined.
    """
    y_true = np.asarray(y_true) == 1
    n_pos = int(y_true.sum())
    n_neg = y_true.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = average_ranks(np.asarray(score, float))
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def regression_report(y_true, y_pred, prefix: str = "", clip: tuple[float, float] | None = None) -> dict:
    """RMSE and MAE, each prediction first clipped to ``clip`` = (low, high) where given (no clipped copy)."""
    return {f"{prefix}rmse": rmse(y_true, y_pred, clip), f"{prefix}mae": mae(y_true, y_pred, clip)}


def binary_report(y_true, p_pred, prefix: str = "") -> dict:
    return {
        f"{prefix}bce": bce(y_true, p_pred),
        f"{prefix}accuracy": accuracy(y_true, p_pred),
        f"{prefix}auc": roc_auc(y_true, p_pred),
    }


def average_ranks(values) -> np.ndarray:
    """1-based ranks, ties sharing their average rank (scipy.stats.rankdata's default, written here
    because importing scipy.stats costs most of a second at start-up)."""
    values = np.asarray(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if values.size else np.zeros(0, bool)
    first = np.flatnonzero(starts)
    counts = np.diff(np.r_[first, values.size])
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    return ranks
