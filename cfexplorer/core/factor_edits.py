"""Edits of a trained model's parameters, one number at a time ("what if this movie were more romantic?").

``SetParameter(name, row, column, value).apply(model)`` writes the number into the model's parameters in place
(models are scikit-learn style objects that own their arrays) and returns the edit that puts the old number
back. The model's predictions, explanation and cost J follow from its parameters, so they change with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FACTOR_TABLES = ("item_factors", "user_factors")
BIASES = {"item_factors": "item_bias", "user_factors": "user_bias"}


def editable_parameters(model) -> dict:
    """The parameter arrays of ``model`` that can be edited by hand, by name; empty for a model without
    factor tables of its own (neural networks, the content-based towers)."""
    params = getattr(model, "_params", None)
    if not isinstance(params, dict) or not hasattr(model, "loss_terms"):
        return {}
    return {name: params[name] for name in (*FACTOR_TABLES, *BIASES.values()) if name in params}


@dataclass(frozen=True)
class SetParameter:
    """Set one number of a model's parameter: ``name``\\[row, column] (a bias has no column: None)."""

    name: str
    row: int
    column: int | None
    value: float
    description: str = "Edit a factor"

    def apply(self, model) -> "SetParameter":
        if not math.isfinite(self.value):
            raise ValueError(f"a factor is a finite number, not {self.value}")
        array = editable_parameters(model).get(self.name)
        if array is None:
            raise ValueError(f"the model has no {self.name.replace('_', ' ')} to edit")
        where = (self.row,) if self.column is None else (self.row, self.column)
        if array.ndim != len(where) or not all(0 <= i < n for i, n in zip(where, array.shape)):
            raise ValueError(f"{self.name.replace('_', ' ')} has no cell {where}")
        old = float(array[where])
        array[where] = self.value
        return SetParameter(self.name, self.row, self.column, old, self.description)


def parameter_table(model, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(factors or None, biases or None) of the movies (``item_factors``) or users (``user_factors``) of a
    model: what a table of them shows."""
    params = editable_parameters(model)
    return params.get(name), params.get(BIASES[name])


__all__ = ["BIASES", "FACTOR_TABLES", "SetParameter", "editable_parameters", "parameter_table"]
