"""Data ▸ Density and Mean Filter: how many ratings, and what mean rating, a user and a movie need to stay
in view, with the density before and after."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox

from ..core.edits import ITEMS, USERS
from ..core.ratings import keep_masks, summarize_subset
from .filter_proxy import RatingFilterProxy


class DensityFilterDialog(QDialog):
    """Asks how many ratings, and what mean rating, a user and a movie need to stay in view."""

    def __init__(self, proxy: RatingFilterProxy, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Density filter")
        self.proxy = proxy
        layout = QFormLayout(self)
        current = proxy.min_ratings
        self.min_user = QSpinBox(maximum=1_000_000, value=current[USERS], suffix=" ratings")
        self.min_item = QSpinBox(maximum=1_000_000, value=current[ITEMS], suffix=" ratings")
        scale = proxy.table.ratings.scale
        means = proxy.min_mean
        self.min_user_mean = self._mean_box(scale, means[USERS])
        self.min_item_mean = self._mean_box(scale, means[ITEMS])
        self.preview = QLabel()
        self.restrict_training = QCheckBox("Train only on the ratings kept")
        self.restrict_training.setChecked(proxy.restricts_training)
        self.restrict_training.setToolTip("Train learns from the ratings of the users and movies shown, not from "
                                          "all of them; the others keep a row in the model, trained on nothing")
        layout.addRow("Users with at least", self.min_user)
        layout.addRow("Movies with at least", self.min_item)
        layout.addRow("Users with a mean rating of at least", self.min_user_mean)
        layout.addRow("Movies with a mean rating of at least", self.min_item_mean)
        layout.addRow(self.preview)
        layout.addRow(self.restrict_training)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)
        for box in (self.min_user, self.min_item, self.min_user_mean, self.min_item_mean):
            box.valueChanged.connect(self._update_preview)
        self._update_preview()

    @staticmethod
    def _mean_box(scale, value):
        box = QDoubleSpinBox(minimum=scale.low - 1, maximum=scale.high, decimals=2, singleStep=0.5)
        box.setSpecialValueText("any")  # the minimum means: no mean filter
        box.setValue(scale.low - 1 if value is None else value)
        return box

    def chosen_means(self):
        boxes = (self.min_user_mean, self.min_item_mean)
        return tuple(None if box.value() == box.minimum() else box.value() for box in boxes)

    def _update_preview(self):
        ratings = self.proxy.table.ratings
        masks = keep_masks(ratings, self.min_user.value(), self.min_item.value(), *self.chosen_means())
        kept = summarize_subset(ratings, *masks)
        self.preview.setText(
            f"keeps {kept.users} users × {kept.items} movies, {kept.ratings} ratings: "
            f"density {kept.density:.2%} (all data: {ratings.density:.2%})"
        )
