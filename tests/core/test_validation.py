import math

import pytest

from cfexplorer.core.ratings import BINARY_SCALE, RatingScale
from cfexplorer.core.validation import parse_rating

STARS = RatingScale(0.5, 5.0, 0.5)


@pytest.mark.parametrize("text,value", [("4", 4.0), (" 3.5 ", 3.5), ("3,5", 3.5), ("5", 5.0)])
def test_accepted(text, value):
    assert parse_rating(text, STARS).value == value


@pytest.mark.parametrize("text", ["", "?", " ? "])
def test_missing(text):
    assert math.isnan(parse_rating(text, STARS).value)


@pytest.mark.parametrize("text,words", [("great", "not a rating"), ("7", "outside the rating scale 0.5 to 5"),
                                        ("0", "outside"), ("inf", "finite")])
def test_rejected(text, words):
    parsed = parse_rating(text, STARS)
    assert not parsed.ok and words in parsed.error and parsed.suggestion is None


def test_off_step_offers_rounding():
    parsed = parse_rating("3.7", STARS)
    assert not parsed.ok and parsed.suggestion == 3.5 and "between the allowed" in parsed.error


def test_binary_accepts_only_0_and_1():
    assert parse_rating("1", BINARY_SCALE, binary=True).value == 1
    assert "binary label" in parse_rating("0.5", BINARY_SCALE, binary=True).error
