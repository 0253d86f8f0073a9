"""Training ▸ Recommend for a New User…: a user nobody has seen rate anything, described only by the features
the content-based model reads (how many ratings, the mean, the mean per genre), gets the movies the two towers
rank first. The course's point: content-based filtering needs no ratings of the new user, only features."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget,
)

from .scrolling import VerticalScrollArea

TOP_N = 10


class NewUserDialog(QDialog):
    """A form with one field per user feature of a trained :class:`~cfexplorer.core.content.ContentBased`
    model, and the top movies for the user those fields describe."""

    def __init__(self, model, titles, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Recommend for a new user")
        self.model, self.titles = model, list(titles)
        table = model.user_feature_table_
        self.fields: dict[str, QDoubleSpinBox] = {}
        form_page = QWidget()
        form = QFormLayout(form_page)
        for column, name in enumerate(model.user_feature_names_):
            values = table[:, column]
            low, high = float(values.min()), float(values.max())
            margin = max(high - low, 1.0)
            field = QDoubleSpinBox(minimum=low - margin, maximum=high + margin, decimals=2, singleStep=0.5)
            field.setValue(float(values.mean()))
            field.setToolTip(f"{name}: {low:g} to {high:g} among the users the model was trained on")
            self.fields[name] = field
            form.addRow(name, field)
        intro = QLabel("Describe a user who has rated nothing here: the user tower turns these features into a "
                       "vector v<sub>u</sub>, and the movies whose v<sub>m</sub> agree with it most come first. "
                       "The fields start at the average user.")
        intro.setWordWrap(True)
        self.recommend_button = QPushButton("Recommend")
        self.recommend_button.setDefault(True)
        self.recommend_button.clicked.connect(self.recommend)
        self.results = QTreeWidget()
        self.results.setHeaderLabels(["movie", "predicted"])
        self.results.setRootIsDecorated(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(VerticalScrollArea(form_page), 1)
        layout.addWidget(self.recommend_button)
        layout.addWidget(self.results, 1)
        layout.addWidget(buttons)
        self.resize(480, 600)

    def features(self) -> dict:
        return {name: field.value() for name, field in self.fields.items()}

    def set_features(self, values: dict):
        """Fill some fields (by feature name); the others keep their values."""
        for name, value in values.items():
            if name in self.fields:
                self.fields[name].setValue(float(value))

    def recommend(self) -> list[tuple[str, float]]:
        """Show and return the top movies (title, predicted rating) for the user the fields describe."""
        items, predicted = self.model.recommend_for_features(self.features(), n=min(TOP_N, len(self.titles)))
        shown = [(str(self.titles[i]), float(p)) for i, p in zip(np.asarray(items), np.asarray(predicted))]
        self.results.clear()
        for title, value in shown:
            row = QTreeWidgetItem([title, f"{value:.2f}"])
            row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            self.results.addTopLevelItem(row)
        self.results.resizeColumnToContents(0)
        return shown
