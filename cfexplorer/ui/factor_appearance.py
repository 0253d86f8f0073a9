"""How the factor space's points look: the palettes, each point's colour and size for what "colour by"
names (bias, ratings, mean, genre, k-means cluster), and the legend that says what the colours mean.
A mixin of :class:`~cfexplorer.ui.factor_space.FactorSpaceView`, which holds the state it reads."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..core.embedding import ITEM_KIND, KINDS, USER_KIND, kmeans_labels
from .colors import NORMAL_ANCHORS
from .factor_legend import category_legend, ramp_legend

KIND_WORDS = {ITEM_KIND: ("movie", "movies"), USER_KIND: ("user", "users")}
# Okabe-Ito: eight categorical colours that stay distinct for colour-blind viewers.
CATEGORY_COLORS = ((230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178), (213, 94, 0),
                   (204, 121, 167), (0, 0, 0))
OTHER_COLOR = (190, 190, 190)
LEVELS = 32


def _ramp(anchors, levels=LEVELS):
    anchors = np.asarray(anchors, dtype=float)
    positions = np.linspace(0, 1, levels)
    stops = np.linspace(0, 1, len(anchors))
    return [pg.mkBrush(*[int(round(np.interp(p, stops, anchors[:, c]))) for c in range(3)], 220) for p in positions]


DIVERGING = _ramp(NORMAL_ANCHORS)
SEQUENTIAL = _ramp(((222, 235, 247), (107, 174, 214), (8, 48, 107)))
CATEGORIES = [pg.mkBrush(*color, 230) for color in CATEGORY_COLORS]
OTHER = pg.mkBrush(*OTHER_COLOR, 200)
CATEGORY_PALETTE = CATEGORIES + [OTHER]  # a category past the eighth, or none (-1), is grey
PLAIN = [OTHER]
HIGHLIGHT_PALETTE = [pg.mkBrush(*CATEGORY_COLORS[5], 235), pg.mkBrush(*OTHER_COLOR, 160)]  # has it, has not


def _levels(values: np.ndarray, low: float, high: float) -> np.ndarray:
    span = high - low
    fraction = np.full(len(values), 0.5) if span <= 0 else (values - low) / span
    return np.clip(np.round(np.nan_to_num(fraction, nan=0.5) * (LEVELS - 1)), 0, LEVELS - 1).astype(int)

def _category_styles(categories: np.ndarray) -> np.ndarray:
    """Category numbers as entries of CATEGORY_PALETTE: past the named colours, or none (-1), is grey."""
    return np.where((categories >= 0) & (categories < len(CATEGORIES)), categories, len(CATEGORIES))


class AppearanceMixin:
    def _appearance(self, kind):
        """(palette, each point's entry in it, each point's size in pixels) for one kind."""
        table = self.embedding.table(kind)
        n = len(table)
        colour = self.colour_by.currentData()
        if colour == "bias":
            limit = float(np.max(np.abs(table.bias))) if n else 0.0
            palette, styles = DIVERGING, _levels(table.bias, -limit, limit)
        elif colour in ("count", "mean") and getattr(table, colour + "s") is not None:
            values = np.asarray(getattr(table, colour + "s"), dtype=float)
            if colour == "count":
                values = np.log1p(values)
            finite = values[np.isfinite(values)]
            low, high = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
            palette, styles = SEQUENTIAL, _levels(values, low, high)
        elif colour == "genre" and table.genres is not None and self.highlighted_genre is not None:
            palette, styles = HIGHLIGHT_PALETTE, np.where(self.has_genre(kind, self.highlighted_genre), 0, 1)
        elif colour == "genre" and table.genres is not None:
            palette, styles = CATEGORY_PALETTE, _category_styles(self.genre_categories(kind))
        elif colour == "cluster" and n:
            palette, styles = CATEGORY_PALETTE, _category_styles(self.cluster_labels(kind))
        else:
            palette, styles = PLAIN, np.zeros(n, dtype=np.intp)
        trained_counts = self._counts_trained_on(kind, n) if n else None
        if self.size_by_count.isChecked() and trained_counts is not None:
            # what the point's factors learned from: a movie the density filter or the validation share kept
            # out of training is as small as one nobody rated, whatever the grid shows of it
            counts = np.asarray(trained_counts, dtype=float)
            sizes = 5 + 13 * np.sqrt(counts / max(counts.max(), 1))
        else:
            sizes = np.full(n, 9.0)
        # A few sizes only (whole pixels, then scaled): pyqtgraph renders one symbol per distinct (size, colour),
        # and MovieLens's 177 distinct rating counts made 759 of them (100 ms in the GUI thread) where 14 make 98.
        return palette, styles, np.round(sizes) * self.marker_scale

    def genre_categories(self, kind: str) -> np.ndarray:
        """Each movie's first genre as a category number, the most common genres first; -1 for other."""
        return self._genre_categories(self.embedding.table(kind).genres)

    def _genre_categories(self, genres: np.ndarray) -> np.ndarray:
        if self._genres is not None and self._genres[0] is genres:  # every frame of a run has the same genres
            return self._genres[1]
        first = np.array([str(g).split("|")[0] if g else "" for g in genres], dtype=object)
        names, counts = np.unique(first[first != ""], return_counts=True)
        common = list(names[np.argsort(-counts, kind="stable")][: len(CATEGORIES) - 1])
        lookup = {name: i for i, name in enumerate(common)}
        categories = np.array([lookup.get(g, -1) for g in first], dtype=np.int64)
        self._genres = (genres, categories, common)
        return categories

    @property
    def highlighted_genre(self) -> str | None:
        return self.genre_highlight.currentData()

    def has_genre(self, kind: str, genre: str) -> np.ndarray:
        """Which rows list ``genre`` among their genres ("Action|Comedy" has both)."""
        genres = self.embedding.table(kind).genres
        if genres is None:
            return np.zeros(len(self.embedding.table(kind)), dtype=bool)
        return np.array([genre in str(g).split("|") for g in genres], dtype=bool)

    def legend_html(self) -> str:
        """What the colours of the points shown mean (empty when they all have one colour)."""
        if self.embedding is None:
            return ""
        colour = self.colour_by.currentData()
        kinds = [kind for kind in self.plot.visible_kinds if len(self.embedding.table(kind))]
        movies = self.embedding.items
        if colour == "genre" and ITEM_KIND in kinds and movies.genres is not None:
            if self.highlighted_genre is not None:
                return category_legend([self.highlighted_genre], HIGHLIGHT_PALETTE, HIGHLIGHT_PALETTE[1],
                                       f"no {self.highlighted_genre} among its genres")
            self.genre_categories(ITEM_KIND)
            return "first genre: " + category_legend(self.genre_names, CATEGORIES, OTHER, "other or none")
        if colour == "genre":  # and no genres to show: the grey points say why
            if ITEM_KIND not in kinds:
                return "<i>genres are the movies': show movies to colour by genre</i>"
            return ("<i>these ratings have no genres (MovieLens' come from movies.csv beside ratings.csv): "
                    "every movie is grey</i>")
        if colour == "cluster":
            n = max((int(self.cluster_labels(kind).max()) + 1 for kind in kinds), default=0)
            return "k-means: " + category_legend([f"cluster {c + 1}" for c in range(n)], CATEGORIES)
        lines = []
        for kind in kinds:
            table = self.embedding.table(kind)
            word = KIND_WORDS[kind][1]
            if colour == "bias" and not self.bias_missing():
                limit = float(np.max(np.abs(table.bias))) if len(table) else 0.0
                lines.append(ramp_legend(f"{word}' bias", f"{-limit:+.2f}", f"{limit:+.2f}", DIVERGING))
            elif colour in ("count", "mean") and getattr(table, colour + "s") is not None:
                values = np.asarray(getattr(table, colour + "s"), dtype=float)
                finite = values[np.isfinite(values)]
                if len(finite):
                    title = f"{word}' ratings (log scale)" if colour == "count" else f"{word}' mean rating"
                    fmt = "{:,.0f}" if colour == "count" else "{:.2f}"
                    lines.append(ramp_legend(title, fmt.format(finite.min()), fmt.format(finite.max()), SEQUENTIAL))
        return "<br>".join(lines)

    @property
    def genre_names(self) -> list:
        """The genres that have a colour of their own, most common first (of the last genre colouring)."""
        return self._genres[2] if self._genres is not None else []

    def cluster_labels(self, kind: str) -> np.ndarray:
        """k-means clusters of the shown factors. A new frame of the same points starts from the previous
        frame's clusters: a few milliseconds instead of a fresh search, and a cluster keeps its colour."""
        if kind not in self._clusters:
            self._clusters[kind] = kmeans_labels(self.embedding.table(kind).factors, self.clusters.value(), seed=0,
                                                 start=self._previous_clusters.get(kind))
        return self._clusters[kind]

    def bias_missing(self) -> str:
        """Why colouring by bias would show nothing for the points shown ('' when it shows something)."""
        if self.embedding is None:
            return ""
        kinds = self.shown_kinds
        has = self._model_biases  # from the model trained; else (imported factors) whether any bias is set
        if has is None:
            has = {kind: bool(np.any(self.embedding.table(kind).bias != 0)) for kind in KINDS}
        if any(has[kind] for kind in kinds):
            return ""
        which = " or ".join(KIND_WORDS[kind][0] for kind in kinds)
        return f"The model has no {which} bias: colouring by bias would paint every point alike."

    def _update_bias_choice(self):
        reason = self.bias_missing()
        entry = self.colour_by.model().item(self.colour_by.findData("bias"))
        entry.setEnabled(not reason)
        entry.setToolTip(reason or "The learned bias: above zero in blue, below in red")
        if reason and self.colour_by.currentData() == "bias":
            fallback = "genre" if self.embedding.items.genres is not None else "count"
            self.colour_by.blockSignals(True)  # called by redraw, which goes on with the new choice
            self.colour_by.setCurrentIndex(self.colour_by.findData(fallback))
            self.colour_by.blockSignals(False)
        self.colour_by.setToolTip("What the colour of a point shows" + (f". Bias: {reason}" if reason else ""))
