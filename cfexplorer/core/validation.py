"""What a user may type into a rating cell."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .ratings import RatingScale

MISSING_TEXT = ("", "?")


@dataclass(frozen=True)
class ParsedRating:
    """``value`` (NaN = not rated) when accepted; otherwise ``error``, and perhaps a ``suggestion``."""

    value: float | None = None
    error: str | None = None
    suggestion: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_rating(text, scale: RatingScale, binary: bool = False) -> ParsedRating:
    text = str(text).strip()
    if text in MISSING_TEXT:
        return ParsedRating(float("nan"))
    try:
        value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
    except ValueError:
        return ParsedRating(error=f"“{text}” is not a rating: type a number, or ? for not rated.")
    if not math.isfinite(value):
        return ParsedRating(error=f"“{text}” is not a rating: type a finite number.")
    if binary:
        if value in (0.0, 1.0):
            return ParsedRating(value)
        return ParsedRating(error=f"{value:g} is not a binary label: type 1 (like), 0 (dislike) or ? (not shown).")
    if not scale.contains(value):
        return ParsedRating(error=f"{value:g} is outside the rating scale {scale.describe()}.")
    if not scale.on_step(value):
        rounded = float(scale.round(value))
        return ParsedRating(
            error=f"{value:g} is between the allowed ratings ({scale.describe()}).", suggestion=rounded
        )
    return ParsedRating(value)
