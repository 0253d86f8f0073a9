"""The course's small examples, built directly so that tests do not depend on preset files."""

import numpy as np

from cfexplorer.core.ratings import RatingScale, Ratings

nan = np.nan
MOVIES = ["Love at last", "Romance forever", "Cute puppies of love", "Nonstop car chases", "Swords vs. karate"]
USERS = ["Alice", "Bob", "Carol", "Dave", "Eve"]
STARS = RatingScale(0.0, 5.0, 0.5)


def course_with_eve() -> Ratings:
    """The mean-normalization slide: movies x users, Eve has rated nothing."""
    movies_by_users = np.array([
        [5, 5, 0, 0, nan],
        [5, nan, nan, 0, nan],
        [nan, 4, 0, nan, nan],
        [0, 0, 5, 4, nan],
        [0, 0, 5, 0, nan],
    ])
    return Ratings.from_dense(movies_by_users.T, USERS, MOVIES, scale=STARS)


MOVIE_MEANS = [2.5, 2.5, 2.0, 2.25, 1.25]
