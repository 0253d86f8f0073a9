"""Accuracy metrics for rating predictions and binary likes."""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def rmse(y_true, y_pred) -> float:
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2))) if y_true.size else float("nan")


def mae(y_true, y_pred) -> float:
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.mean(np.abs(y_true - y_pred))) if y_true.size else float("nan")


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


def regression_report(y_true, y_pred, prefix: str = "") -> dict:
    return {f"{prefix}rmse": rmse(y_true, y_pred), f"{prefix}mae": mae(y_true, y_pred)}


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
