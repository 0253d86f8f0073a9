"""A diverging colour map for ratings that reads on a projector and for colour-blind viewers."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QColor

# Orange (low) - near white (middle) - blue (high), from ColorBrewer's PuOr/RdBu families: the two ends
# differ in lightness as well as hue, so they stay apart in greyscale and for red-green colour blindness.
NORMAL_ANCHORS = ((230, 97, 1), (247, 247, 247), (33, 102, 172))
HIGH_CONTRAST_ANCHORS = ((179, 40, 0), (255, 255, 255), (0, 45, 140))
LEVELS = 21
NEUTRAL_LEVEL = LEVELS // 2
# Shading by uncertainty blends a prediction's colour toward this grey: apart from the near-white middle
# of the rating colours, so that "unsure" does not read as "a middling rating".
UNSURE_GREY = (165, 165, 165)


class RatingColors:
    """Maps ratings on a scale to background and text colours through a lookup table."""

    def __init__(self, low: float, high: float, high_contrast: bool = False):
        self.low, self.high = low, high
        anchors = np.array(HIGH_CONTRAST_ANCHORS if high_contrast else NORMAL_ANCHORS, dtype=float)
        positions = np.linspace(0, 1, LEVELS)
        channels = [np.interp(positions, [0, 0.5, 1], anchors[:, c]) for c in range(3)]
        rgb = np.stack(channels, axis=1).round().astype(int)
        self.backgrounds = [QColor(*color) for color in rgb]
        self.prediction_backgrounds = [QColor(*(255 - (255 - color) * 0.35).round().astype(int)) for color in rgb]
        luminance = rgb @ np.array([0.299, 0.587, 0.114])
        self.texts = [QColor(255, 255, 255) if lum < 140 else QColor(20, 20, 20) for lum in luminance]

    def level(self, value: float) -> int:
        """The colour step of a value; the neutral middle for NaN, inf or a scale without a finite span."""
        # Halved, a span of ±1e308 stays finite; whatever is not finite after that is not a colour.
        span = self.high / 2 - self.low / 2
        if not span > 0:
            return NEUTRAL_LEVEL
        fraction = (value / 2 - self.low / 2) / span
        if not math.isfinite(fraction):
            return NEUTRAL_LEVEL
        return int(round(min(max(fraction, 0.0), 1.0) * (LEVELS - 1)))

    def background(self, value: float) -> QColor:
        return self.backgrounds[self.level(value)]

    def prediction_background(self, value: float) -> QColor:
        return self.prediction_backgrounds[self.level(value)]

    def text(self, value: float) -> QColor:
        return self.texts[self.level(value)]

    def uncertain(self, color: QColor, spread: float) -> QColor:
        """``color`` blended toward grey by a prediction's posterior standard deviation: all grey from half
        the scale's span on (a prediction that could be anywhere), in LEVELS steps."""
        span = self.high / 2 - self.low / 2
        share = min(max(spread / span, 0.0), 1.0) if span > 0 and math.isfinite(spread / span) else 0.0
        share = round(share * (LEVELS - 1)) / (LEVELS - 1)
        return QColor(*(round(c + (g - c) * share) for c, g in zip(color.getRgb()[:3], UNSURE_GREY)))
