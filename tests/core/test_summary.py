"""The status bar's one line (and `cfexplorer info`'s) counts in words that agree with the numbers."""

from cfexplorer.core.ratings import Ratings
from cfexplorer.core.summary import counted, ratings_summary


def test_one_of_each_is_singular_and_more_are_plural():
    one = Ratings([0], [0], [4.0], ["ann"], ["Heat"])
    assert ratings_summary(one).startswith("1 user × 1 movie · 1 rating ")
    two = Ratings([0, 1], [0, 1], [4.0, 2.0], ["ann", "bob"], ["Heat", "Up"])
    assert ratings_summary(two).startswith("2 users × 2 movies · 2 ratings ")
    assert counted(0, "rating") == "0 ratings"
