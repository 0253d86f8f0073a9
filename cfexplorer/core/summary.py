"""The one-line description of a set of ratings that the status bar shows and ``cfexplorer info`` prints."""

from __future__ import annotations


def ratings_summary(ratings) -> str:
    """'610 users × 9724 movies · 100836 ratings 0.5 to 5 in steps of 0.5 · density 1.7%'."""
    kind = "binary labels" if ratings.binary else f"ratings {ratings.scale.describe()}"
    return (f"{ratings.n_users} users × {ratings.n_items} movies · {ratings.n_ratings} {kind} · "
            f"density {ratings.density:.1%}")
