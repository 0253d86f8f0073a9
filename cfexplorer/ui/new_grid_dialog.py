"""File ▸ New: a blank grid of N users × M movies on a chosen rating scale, to fill in by hand or by pasting."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox

from ..core.ratings import BINARY_SCALE, RatingScale, Ratings

# A blank grid holds no ratings, so its size costs only its labels; past this many rows or columns nobody
# fills it by hand (a file is the way in).
MAX_BLANK_ENTRIES = 10_000

SCALES = {  # what the person reads: (scale, binary)
    "0 to 5 in steps of 0.5 (the course)": (RatingScale(0.0, 5.0, 0.5), False),
    "0.5 to 5 in steps of 0.5 (MovieLens)": (RatingScale(0.5, 5.0, 0.5), False),
    "1 to 5 stars": (RatingScale(1.0, 5.0, 1.0), False),
    "1 to 10": (RatingScale(1.0, 10.0, 1.0), False),
    "Likes: 0 or 1": (BINARY_SCALE, True),
}


def blank_ratings(n_users: int, n_movies: int, scale: RatingScale, binary: bool = False) -> Ratings:
    """No ratings yet: users "User 1"…, movies "Movie 1"…, on ``scale``."""
    if not (1 <= n_users <= MAX_BLANK_ENTRIES and 1 <= n_movies <= MAX_BLANK_ENTRIES):
        raise ValueError(f"a new grid has 1 to {MAX_BLANK_ENTRIES:,} users and movies, not "
                         f"{n_users:,} × {n_movies:,}")
    empty = np.empty(0, dtype=np.int64)
    return Ratings(empty, empty, np.empty(0), [f"User {k}" for k in range(1, n_users + 1)],
                   [f"Movie {k}" for k in range(1, n_movies + 1)], scale, binary)


class NewGridDialog(QDialog):
    """Asks how many users and movies, and the scale; :meth:`ratings` after OK."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New rating grid")
        layout = QFormLayout(self)
        self.users = QSpinBox(minimum=1, maximum=MAX_BLANK_ENTRIES, value=4)
        self.movies = QSpinBox(minimum=1, maximum=MAX_BLANK_ENTRIES, value=5)
        self.scale_box = QComboBox()
        self.scale_box.addItems(list(SCALES))
        layout.addRow("Users", self.users)
        layout.addRow("Movies", self.movies)
        layout.addRow("Ratings", self.scale_box)
        layout.addRow(QLabel("Every cell starts as ? (not rated): type or paste ratings."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def ratings(self) -> Ratings:
        scale, binary = SCALES[self.scale_box.currentText()]
        return blank_ratings(self.users.value(), self.movies.value(), scale, binary)


__all__ = ["MAX_BLANK_ENTRIES", "NewGridDialog", "SCALES", "blank_ratings"]
