"""The factor space's t-SNE and UMAP: started in a child process (ui/tsne_job.py) when chosen, their progress
on the button and the status line, Cancel by pressing again, each result kept for the model it was computed
for. A mixin of :class:`~cfexplorer.ui.factor_space.FactorSpaceView`, which holds the state it reads."""

from __future__ import annotations

import numpy as np

from ..core.embedding import LAYOUTS
from ..core.umap_layout import INSTALL_HINT, umap_available

LAYOUT_NOTES = {"tsne": "distances between far-apart clusters mean little; nearby points are similar",
                "umap": "nearby points are similar; cluster sizes and the gaps between clusters mean little"}


class LayoutsMixin:
    def set_umap_module(self, module: str):
        """Where UMAP comes from ("umap", umap-learn's package; tests name a stand-in). Without it the UMAP
        choice is disabled and says how to install it."""
        self.umap_module = module
        entry = self.projection.model().item(self.projection.findData("umap"))
        available = umap_available(module)
        entry.setEnabled(available)
        entry.setToolTip("UMAP of the factors, computed in the background (umap-learn)" if available else
                         f"UMAP needs umap-learn, an optional extra: {INSTALL_HINT}")
        if not available and self.projection.currentData() == "umap":
            self.projection.setCurrentIndex(self.projection.findData("pca"))

    def layout_available(self, method: str) -> bool:
        return method != "umap" or umap_available(self.umap_module)

    def _layout_key(self, kinds):
        # A number per embedding shown, not id(): a new embedding may reuse a freed one's id and would
        # then be drawn with the layout of another model.
        return self._embedding_number, kinds

    def _start_layout(self, method, kinds, stacked):
        self.layout_job.start((self._layout_key(kinds), method, kinds), stacked, seed=0, method=method,
                              umap_module=self.umap_module)
        self._layout_points, self._layout_progress = len(stacked), ""
        self._layout_note = ("", "")
        self.status.setText(self._layout_status("starting"))
        self._update_controls()

    def _layout_status(self, doing: str) -> str:
        name = LAYOUTS.get(self.layout_job.method, "")
        return (f"Computing {name} of {self._layout_points:,} points in the background: {doing}… "
                f"(PCA is shown meanwhile; press Cancel {name} to stop)")

    def _on_layout_progress(self, share: float, doing: str):
        self._layout_progress = f"{share:.0%}"
        self.status.setText(self._layout_status(f"{doing} ({share:.0%})"))
        self.layout_button.setText(f"Cancel {LAYOUTS.get(self.layout_job.method, '')} {self._layout_progress}")

    def _on_layout_button(self):
        method = self.projection.currentData()
        if self.layout_job.running:
            name = LAYOUTS.get(self.layout_job.method, "")
            self.layout_job.cancel()
            self._layout_progress = ""
            self._layout_note = (self.projection.currentData(), f"{name} cancelled (PCA shown)")
            self.status.setText(self._status_text())
            self._update_controls()
            return
        kinds = self._kinds_to_draw(self.embedding)
        if kinds and method in LAYOUTS:  # (a model without factors has none to lay out: t-SNE failed on 0 columns)
            self._layout_cache.pop((method, kinds), None)
            self._start_layout(method, kinds, np.vstack([self.embedding.table(k).factors for k in kinds]))

    def _on_layout_finished(self, key, coordinates):
        self._layout_progress = ""
        token, method, kinds = key
        self._layout_cache[(method, kinds)] = (token, np.asarray(coordinates))
        self._layout_note = (method, f"{LAYOUTS[method]} done: {LAYOUT_NOTES[method]}")
        self.redraw(refit_view=True)

    def _on_layout_failed(self, message):
        self._layout_progress = ""
        self._update_controls()
        self.status.setText(self._status_text())
        self.sig_message.emit("error", message)
