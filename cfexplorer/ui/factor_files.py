"""The factor space's Files menu: export the view as an image and the factors as CSV, import factors trained
elsewhere (CSV, .npz, .npy, a Spark ALS model folder). A mixin of
:class:`~cfexplorer.ui.factor_space.FactorSpaceView`, whose ``app_settings`` (the window's QSettings) say where
its file dialogs start."""

from __future__ import annotations

import numpy as np

from ..core.embedding import KINDS
from ..io.factors import FactorFileError, read_factors, write_factors
from .file_dialogs import existing_folder, open_file_name, save_file_name
from .image_export import export_widget_image


EXPORT_LEAST_WIDTH = 1600  # pixels of an exported PNG


class FilesMixin:
    def export_image(self, path: str):
        # with what the colours mean, and large enough for a slide whatever the pane's size
        # the axes' numbers and the points at the picture's scale: from the screen's cached pixels, blown up, they
        # were blocky and soft (the loss curves' export alike)
        export_widget_image(self.plot, path, "CF Explorer factor space", below=(self.legend,),
                            least_width=EXPORT_LEAST_WIDTH, fresh_items=self.plot.cached_items)

    def export_factors(self, path: str):
        if self.embedding is None:
            raise ValueError("there are no factors to export yet: train a model first")
        write_factors(self.embedding, path)

    def import_factors(self, path: str) -> bool:
        try:
            embedding = read_factors(path, self.ratings)
        except FactorFileError as error:
            self.sig_message.emit("error", str(error))
            return False
        self.set_embedding(embedding)
        linked = sum(int(np.sum(self._to_grid[kind] >= 0)) for kind in KINDS)
        self.sig_message.emit("info", f"Imported {len(embedding.items):,} movies and {len(embedding.users):,} users "
                                      f"from {embedding.source}; {linked:,} match names in the grid.")
        return True

    def export_image_dialog(self):
        path, _ = save_file_name(self, self.app_settings, "Export factor view", "PNG image (*.png);;SVG image (*.svg)",
                                 "factor-space.png")
        if path:
            try:
                self.export_image(path)
            except OSError as error:  # a folder without write access, a full disk: said, not raised into Qt
                self.sig_message.emit("error", f"Could not export the view: {error}")

    def export_factors_dialog(self):
        if self.embedding is None:
            self.sig_message.emit("error", "There are no factors to export yet: train a model first.")
            return
        path, _ = save_file_name(self, self.app_settings, "Export factors and biases", "CSV table (*.csv)",
                                 "factors.csv")
        if path:
            try:
                self.export_factors(path)
            except OSError as error:
                self.sig_message.emit("error", f"Could not save {path}: {error}")

    def import_factors_dialog(self):
        path = open_file_name(self, self.app_settings, "Import factors",
                              "Factor files (*.csv *.tsv *.npz *.npy);;All files (*)")
        if path:
            self.import_factors(path)

    def import_spark_model_dialog(self):
        path = existing_folder(self, self.app_settings, "Import a Spark ALS model (the folder ALSModel.save wrote)")
        if path:
            self.import_factors(path)
