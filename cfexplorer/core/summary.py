"""The one-line description of a set of ratings that the status bar shows and ``cfexplorer info`` prints."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """'1 rating', '2 ratings', '0 ratings'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def ratings_summary(ratings) -> str:
    """'610 users × 9724 movies · 100836 ratings 0.5 to 5 in steps of 0.5 · density 1.7%'."""
    kind = (counted(ratings.n_ratings, "binary label") if ratings.binary
            else f"{counted(ratings.n_ratings, 'rating')} {ratings.scale.describe()}")
    return (f"{counted(ratings.n_users, 'user')} × {counted(ratings.n_items, 'movie')} · {kind} · "
            f"density {ratings.density:.1%}")
