"""The factor space: learned embeddings and biases scattered for inspection, linked to the grid.

It shows an :class:`~cfexplorer.core.embedding.Embedding` — from the model being trained (updated
live, with every kept snapshot replayable), from a project, or imported from a file — as raw
factor axes, PCA, t-SNE or UMAP, with nearest neighbours, bias rankings and the one-hot lookup beside it.
Selections travel to and from the grid by position.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QCompleter, QFileDialog, QFrame, QHBoxLayout, QHeaderView, QScrollArea, QSizePolicy, QLabel, QLineEdit, QMenu, QPushButton, QSlider,
    QSpinBox, QSplitter, QTabWidget, QTextBrowser, QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from ..core.embedding import (
    ITEM_KIND, KINDS, LAYOUTS, USER_KIND, Embedding, component_ends, kmeans_labels, nearest_neighbours, one_hot,
    pca, ranked, raw_axes,
)
from ..core.umap_layout import INSTALL_HINT, UMAP_MODULE, umap_available
from ..io.factors import FactorFileError, read_factors, write_factors
from .colors import NORMAL_ANCHORS
from .factor_plot import MAX_LABELS, FactorPlot
from .factor_legend import category_legend, ramp_legend
from .elided_label import ElidedLabel
from .image_export import export_widget_image
from .scrolling import VerticalScrollArea
from .tsne_job import LayoutJob
from .qt_guard import guard_event

SHOW_CHOICES = {"Movies": (ITEM_KIND,), "Users": (USER_KIND,), "Movies and users": (ITEM_KIND, USER_KIND)}
PROJECTIONS = {"factors": "Two factors", "pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
LAYOUT_NOTES = {"tsne": "distances between far-apart clusters mean little; nearby points are similar",
                "umap": "nearby points are similar; cluster sizes and the gaps between clusters mean little"}
COLOUR_CHOICES = {"bias": "Bias", "count": "Number of ratings", "mean": "Mean rating", "genre": "Genre",
                  "cluster": "k-means cluster"}
LABEL_CHOICES = {"selected": "Selected only", "all": "All names", "bias": "Top |bias|", "count": "Most rated"}
# Names are shown for every point by default up to this many points; "All names" goes up to ALL_NAMES_LIMIT
# (past it, text covers the plot and each frame of a run moves thousands of labels).
LABEL_ALL_UP_TO, ALL_NAMES_LIMIT = 50, 500
# Okabe-Ito: eight categorical colours that stay distinct for colour-blind viewers.
CATEGORY_COLORS = ((230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178), (213, 94, 0),
                   (204, 121, 167), (0, 0, 0))
OTHER_COLOR = (190, 190, 190)
LEVELS = 32
PLOT_MINIMUM_HEIGHT = 120  # pixels: the axes, their titles and a scatter one can still point into
KIND_WORDS = {ITEM_KIND: ("movie", "movies"), USER_KIND: ("user", "users")}
NO_MODEL_TEXT = "Train a model (or import factors) to see its embeddings."
NO_SELECTION_TEXT = "Select a point to see its nearest neighbours."
# On a large catalogue a movie's nearest vectors are mostly films rated once or twice, whose factors are their
# random start and the regularization: the neighbours list leaves them out by default there.
MANY_MOVIES, NEIGHBOUR_MIN_RATINGS = 1000, 20


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


class FactorSpaceView(QWidget):
    sig_selection_changed = Signal(str, object)  # kind, positions in the grid's ratings
    sig_message = Signal(str, str)  # kind ("error"/"info"), text

    def __init__(self, parent=None):
        super().__init__(parent)
        self.embedding: Embedding | None = None
        self.ratings = None
        self.frames: list[tuple[int, dict]] = []
        self.selection = {kind: np.array([], dtype=np.int64) for kind in KINDS}
        self.primary_kind = ITEM_KIND
        self.projected: dict = {}
        self._pca_reference: dict = {}
        self._layout_cache: dict = {}  # (method, kinds) -> (key, coordinates) of the last t-SNE or UMAP
        self._layout_note = ("", "")  # (method, text): how the last t-SNE or UMAP ended, for the status line
        self.umap_module = UMAP_MODULE  # where the child process finds UMAP (tests hand in a stand-in)
        self._embedding_number = 0  # counts the embeddings shown: what a layout result was computed for
        self._clusters: dict = {}  # kind -> k-means labels of the embedding shown
        self._previous_clusters: dict = {}  # kind -> labels of the previous frame, where the next one starts
        self._rows = None  # movies and users without factors, for the ratings in _rows_from
        self._rows_from = None
        self._linked = None  # (ratings, movie names, user names) that _to_grid/_from_grid were made for
        self._genres = None  # (genre array, categories, names) of the last genre colouring
        self._to_grid = {kind: np.array([], dtype=np.int64) for kind in KINDS}
        self._from_grid = {kind: np.array([], dtype=np.int64) for kind in KINDS}  # grid position -> row, or -1
        self._training = False
        self._hidden_model = None
        self._model_biases = None  # {kind: has a bias} of the model trained, when known
        self._tab_in_front = True  # False while another tab of a tabbed dock covers the view
        self.marker_scale = 1.0  # larger in presentation mode
        self.layout_job = LayoutJob(self)
        self.layout_job.sig_finished.connect(self._on_layout_finished)
        self.layout_job.sig_failed.connect(self._on_layout_failed)
        self.layout_job.sig_progress.connect(self._on_layout_progress)
        self._layout_progress = ""  # "35%" while t-SNE or UMAP runs
        self._build()

    # --- construction ----------------------------------------------------------------------------------
    def _build(self):
        self.show_choice = QComboBox()
        self.show_choice.addItems(list(SHOW_CHOICES))
        self.show_choice.setToolTip("Scatter movies (x_i), users (w_j), or both in the same space")
        self.projection = QComboBox()
        for key, text in PROJECTIONS.items():
            self.projection.addItem(text, key)
        self.projection.setCurrentIndex(self.projection.findData("pca"))
        self.projection.setToolTip("Two raw factors as axes, the two principal components (PCA), t-SNE or UMAP")
        self.x_axis, self.y_axis = QSpinBox(), QSpinBox()
        for spin, value, name in ((self.x_axis, 1, "x"), (self.y_axis, 2, "y")):
            spin.setRange(1, 64)
            spin.setValue(value)
            spin.setProperty("wanted", value)  # kept while a model has fewer factors than this
            spin.valueChanged.connect(lambda v, spin=spin: spin.setProperty("wanted", v))
            spin.setPrefix(f"{name}: f")
            spin.setToolTip(f"Factor shown on the {name} axis")
        self.layout_button = QPushButton("Recompute t-SNE")
        self.layout_button.setToolTip("t-SNE and UMAP run in the background; press again to cancel")
        self.colour_by = QComboBox()
        for key, text in COLOUR_CHOICES.items():
            self.colour_by.addItem(text, key)
        self.colour_by.setToolTip("What the colour of a point shows")
        self.genre_highlight = QComboBox()
        self.genre_highlight.addItem("first genre", None)
        self.genre_highlight.setToolTip("Colour each movie by its first genre, or highlight every movie that has "
                                        "one chosen genre among its genres")
        self.clusters = QSpinBox()
        self.clusters.setRange(2, 12)
        self.clusters.setValue(3)
        self.clusters.setPrefix("k = ")
        self.clusters.setToolTip("Number of k-means clusters")
        self.size_by_count = QCheckBox("size = ratings")
        self.size_by_count.setChecked(True)
        self.labels_by = QComboBox()
        for key, text in LABEL_CHOICES.items():
            self.labels_by.addItem(text, key)
        self.labels_by.setToolTip(f"Which points carry a name (all of them, up to {ALL_NAMES_LIMIT})")
        self.label_count = QSpinBox()
        self.label_count.setRange(0, 40)
        self.label_count.setValue(10)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a movie or user…")
        self.search.setClearButtonEnabled(True)
        self._names_model = QStringListModel(self)
        completer = QCompleter(self._names_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.search.setCompleter(completer)
        self.file_button = QToolButton()
        self.file_button.setText("Files")
        self.file_button.setToolTip("Export the view or the factors; import factors trained elsewhere")
        self.file_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.file_button)
        menu.addAction("Export view as PNG or SVG…", self.export_image_dialog)
        menu.addAction("Export factors and biases as CSV…", self.export_factors_dialog)
        menu.addAction("Import factors (CSV, .npz, .npy)…", self.import_factors_dialog)
        menu.addAction("Import a Spark ALS model (folder)…", self.import_spark_model_dialog)
        self.file_button.setMenu(menu)

        self.replay = QSlider(Qt.Orientation.Horizontal)
        self.replay.setEnabled(False)
        self.replay.setToolTip("Replay the kept snapshots epoch by epoch")
        self.epoch_label = QLabel("")
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip("What the colours of the points mean")
        self.status = ElidedLabel(NO_MODEL_TEXT)

        self.plot = FactorPlot()
        self.plot.setMinimumHeight(PLOT_MINIMUM_HEIGHT)

        self.neighbour_metric = QComboBox()
        self.neighbour_metric.addItems(["cosine", "euclidean"])
        self.neighbour_count = QSpinBox()
        self.neighbour_count.setRange(1, 50)
        self.neighbour_count.setValue(10)
        self.neighbour_min_ratings = QSpinBox()
        self.neighbour_min_ratings.setRange(0, 100_000)
        self.neighbour_min_ratings.setPrefix("≥ ")
        self.neighbour_min_ratings.setSuffix(" ratings")
        self.neighbour_min_ratings.setSpecialValueText("any ratings")
        self.neighbour_min_ratings.setToolTip("List only neighbours with at least this many ratings: factors "
                                              "learned from one or two ratings mean little")
        self.neighbour_title = QLabel(NO_SELECTION_TEXT)
        self.neighbour_title.setWordWrap(True)
        self.neighbours = QTreeWidget()
        self.neighbours.setHeaderLabels(["name", "dist.", "n"])  # short: the names need the room
        for column, tip in ((1, "Distance to the selection in the factor space"), (2, "Number of ratings")):
            self.neighbours.headerItem().setToolTip(column, tip)
        self.neighbours.setRootIsDecorated(False)
        header = self.neighbours.header()  # the numbers stay in view; a long name is elided instead
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        neighbour_page = QWidget()
        box = QVBoxLayout(neighbour_page)
        row = QHBoxLayout()
        self.neighbour_metric.setToolTip("Distance between factor vectors")
        self.neighbour_count.setToolTip("How many neighbours to list")
        row.addWidget(self.neighbour_metric)
        row.addWidget(self.neighbour_count)
        box.addLayout(row)
        least_row = QHBoxLayout()
        least_row.addWidget(QLabel("only with"))
        least_row.addWidget(self.neighbour_min_ratings, 1)
        box.addLayout(least_row)
        box.addWidget(self.neighbour_title)
        box.addWidget(self.neighbours)
        self.bias_text = QTextBrowser()
        self.one_hot_text = QTextBrowser()
        self.side_tabs = QTabWidget()
        self.side_tabs.setMinimumWidth(150)
        # scrolls in a short pane: its title wraps into many lines in presentation type
        self.side_tabs.addTab(VerticalScrollArea(neighbour_page), "Neighbours")
        self.side_tabs.addTab(self.bias_text, "Biases")
        self.side_tabs.addTab(self.one_hot_text, "One-hot × W")
        self.side_tabs.currentChanged.connect(lambda _: self._update_panels())

        # The dock shares the window's bottom with the loss curves: every control may shrink.
        for combo in (self.show_choice, self.projection, self.colour_by, self.genre_highlight, self.labels_by,
                      self.neighbour_metric):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(5)
        self.search.setMinimumWidth(80)
        self.replay.setMinimumWidth(50)
        self.replay.setToolTip("Replay the training: drag to see the embedding at an earlier epoch")
        self.epoch_label.setToolTip("epoch shown of the last epoch trained")
        top = QHBoxLayout()
        for widget in (self.show_choice, self.projection, self.x_axis, self.y_axis, self.layout_button,
                       self.colour_by, self.genre_highlight, self.clusters, self.file_button):
            top.addWidget(widget)
        second = QHBoxLayout()
        second.addWidget(self.search, 1)
        for widget in (self.size_by_count, self.labels_by, self.label_count):
            second.addWidget(widget)
        bottom_row = QHBoxLayout()  # the status line beside the replay slider: one row less in a short pane
        bottom_row.addWidget(self.status, 3)
        bottom_row.addWidget(self.replay, 1)
        bottom_row.addWidget(self.epoch_label)
        plot_side = QWidget()
        plot_box = QVBoxLayout(plot_side)
        plot_box.setContentsMargins(0, 0, 0, 0)
        plot_box.addWidget(self.plot, 1)
        splitter = QSplitter()
        splitter.addWidget(plot_side)
        splitter.addWidget(self.side_tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 400])
        controls = QWidget()
        rows = QVBoxLayout(controls)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addLayout(top)
        rows.addLayout(second)
        # In a narrow dock the controls scroll sideways instead of widening the whole window.
        self.controls_scroller = controls_scroller = QScrollArea()
        controls_scroller.setWidget(controls)
        controls_scroller.setWidgetResizable(True)
        controls_scroller.setFrameShape(QFrame.Shape.NoFrame)
        controls_scroller.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        controls_scroller.setMinimumHeight(controls.sizeHint().height()
                                           + controls_scroller.horizontalScrollBar().sizeHint().height())
        controls_scroller.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.plot.setMinimumWidth(120)
        # The legend and the status line span the pane's width (under the plot alone they wrapped into twice
        # as many lines), and the status is one line beside the replay slider: in presentation type with the
        # Lesson pane open at 1280×720 the pane is short, and parts asking for more height than it has are
        # drawn over one another.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(controls_scroller)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.legend)
        layout.addLayout(bottom_row)

        self.show_choice.currentIndexChanged.connect(lambda _: self.redraw(refit_view=True))
        self.projection.currentIndexChanged.connect(lambda _: self.redraw(refit_view=True))
        self.x_axis.valueChanged.connect(lambda _: self.redraw(refit_view=True))
        self.y_axis.valueChanged.connect(lambda _: self.redraw(refit_view=True))
        self.colour_by.currentIndexChanged.connect(lambda _: self.redraw())
        self.genre_highlight.currentIndexChanged.connect(lambda _: self.redraw())
        self.clusters.valueChanged.connect(lambda _: (self._clusters.clear(), self._previous_clusters.clear(),
                                                      self.redraw()))
        self.size_by_count.toggled.connect(lambda _: self.redraw())
        self.labels_by.currentIndexChanged.connect(lambda _: (self._update_controls(), self._update_labels()))
        self.label_count.valueChanged.connect(lambda _: self._update_labels())
        self.neighbour_metric.currentIndexChanged.connect(lambda _: self._update_neighbours())
        self.neighbour_count.valueChanged.connect(lambda _: self._update_neighbours())
        self.neighbour_min_ratings.valueChanged.connect(lambda _: self._update_neighbours())
        self.neighbours.itemActivated.connect(self._on_neighbour_activated)
        self.layout_button.clicked.connect(self._on_layout_button)
        self.replay.valueChanged.connect(self._on_replay)
        self.search.returnPressed.connect(lambda: self.find(self.search.text()))
        self.plot.sig_point_clicked.connect(self._on_point_clicked)
        self.plot.sig_empty_clicked.connect(lambda: self.select({}, emit=True))
        self.plot.sig_rect_selected.connect(self._on_rect_selected)
        self.plot.sig_hovered.connect(self._on_hover)
        self.plot.sig_labels_placed.connect(self._on_labels_placed)
        self.set_umap_module(self.umap_module)
        self._update_controls()

    # --- what is shown -----------------------------------------------------------------------------------------
    @property
    def shown_kinds(self) -> tuple:
        return SHOW_CHOICES[self.show_choice.currentText()]

    def set_marker_scale(self, scale: float):
        """Bigger points for a projector (presentation mode)."""
        self.marker_scale = scale
        if self.embedding is not None:
            self.redraw()

    def set_text_size(self, point_size: float):
        """Larger type for a projector (presentation mode): the plot's axes, labels and hover box."""
        self.plot.set_text_size(point_size)

    def set_ratings(self, ratings):
        """The grid's data changed (opened, edited): keep the view, re-link names to grid positions."""
        self.ratings = ratings
        self._link()

    def choose_defaults(self, ratings):
        """A new document's colouring, labels and neighbours filter: every name where there are few points
        (a classroom matrix), the selected ones only where there are many."""
        self.choose_default_colour(ratings)
        self._fill_genre_choices(ratings)
        points = sum(ratings.n_items if kind == ITEM_KIND else ratings.n_users for kind in self.shown_kinds)
        label_all = points <= LABEL_ALL_UP_TO
        self.labels_by.setCurrentIndex(self.labels_by.findData("all" if label_all else "selected"))
        self.neighbour_min_ratings.setValue(NEIGHBOUR_MIN_RATINGS if ratings.n_items > MANY_MOVIES else 0)

    def _fill_genre_choices(self, ratings):
        """The genres of the data, most common first, for highlighting one of them."""
        self.genre_highlight.blockSignals(True)
        while self.genre_highlight.count() > 1:
            self.genre_highlight.removeItem(1)
        if ratings.item_info is not None and "genres" in ratings.item_info:
            tags = ratings.item_info["genres"].fillna("").astype(str).str.split("|").explode()
            tags = tags[(tags != "") & (tags != "(no genres listed)")]
            for name in tags.value_counts(sort=True).index:
                self.genre_highlight.addItem(str(name), str(name))
        self.genre_highlight.setCurrentIndex(0)
        self.genre_highlight.blockSignals(False)

    def choose_default_colour(self, ratings):
        """Genre where the data has genres (it shows what factors found), else bias."""
        has_genres = ratings.item_info is not None and "genres" in ratings.item_info
        self.colour_by.setCurrentIndex(self.colour_by.findData("genre" if has_genres else "bias"))

    def start_run(self, model, ratings):
        """A training run begins: forget the previous run's snapshots. In view, describe the movies and users
        now, before the worker competes for the GIL, so that the first frame only has factors to draw."""
        self.frames = []
        self._training = True
        self.ratings = ratings
        self._model_biases = model_biases(model)
        if self.isVisible() and self._tab_in_front:
            rows = self._rows_for(ratings)
            if rows.items.genres is not None:
                self._genre_categories(rows.items.genres)
        self._update_controls()

    def add_records(self, records):
        """Progress from the worker: keep the snapshots the records carry, for replay (only while a run is
        on: records arriving after Reset describe a run the user has left behind)."""
        if not self._training:
            return
        self.frames.extend((record.epoch, record.snapshot) for record in records if record.snapshot is not None)

    def end_run(self):
        self._training = False
        self._update_controls()
        if self.frames:
            self.replay.blockSignals(True)
            self.replay.setValue(self.replay.maximum())
            self.replay.blockSignals(False)

    def show_model(self, predictor, ratings):
        """Show what a model has learned (a frozen Predictor), keeping the view where it is.

        While the view is hidden (another dock tab in front) only the latest model is remembered;
        it is drawn when the view is shown, so a hidden view costs training nothing."""
        if predictor is None or predictor.shape != (ratings.n_users, ratings.n_items):
            return
        self.ratings = ratings
        if not (self.isVisible() and self._tab_in_front):
            self._hidden_model = (predictor, ratings)
            return
        self._hidden_model = None
        self._set_embedding(self._embedding_of(predictor, ratings, predictor.epoch))

    def _embedding_of(self, predictor, ratings, epoch) -> Embedding:
        return self._rows_for(ratings).with_model(predictor, epoch)

    def _rows_for(self, ratings) -> Embedding:
        """The movies and users of ``ratings`` (names, counts, means, genres), built once per ratings: every
        frame of a run shares them, so what is keyed on them (grid links, genre colours, names) is not redone."""
        if self._rows_from is not ratings:
            self._rows, self._rows_from = Embedding.rows_of(ratings), ratings
        return self._rows

    def set_tab_in_front(self, in_front: bool):
        """Told by the dock (its visibilityChanged): a tabbed dock behind another tab stays "visible"
        to isVisible(), so the view cannot see for itself that nobody can see it."""
        self._tab_in_front = in_front
        if in_front and self._hidden_model is not None:
            self.show_model(*self._hidden_model)

    @guard_event
    def showEvent(self, event):
        super().showEvent(event)
        if self._hidden_model is not None:
            self.show_model(*self._hidden_model)

    def clear(self):
        """Show no factors: no run, no frames to replay, no hover box about a point that is gone."""
        self.layout_job.cancel()
        self._hidden_model = None
        self._training = False
        self._model_biases = None
        self.embedding = None
        self.frames = []
        self.plot.forget_hover()
        self._set_embedding(None)

    def clear_trained(self):
        """Training was reset or failed: forget its run and factors (imported ones stay)."""
        if self._hidden_model is not None or (self.embedding is not None and self.embedding.source == "trained here"):
            self.clear()
            return
        self._training = False  # the run ended without end_run (Reset stops it without a last signal)
        self.frames = []
        self._update_controls()

    def reset_for_new_document(self):
        """Another file, preset or lesson opens: forget everything that belonged to the previous one — its
        factors, frames and replay slider, selection ring, labels, hover box, captions, the t-SNE, UMAP and PCA
        results and the rows and names linked to its grid. The view's own choices (projection, colour,
        what is shown) stay."""
        self.clear()
        self.ratings = None
        self.selection = {kind: np.array([], dtype=np.int64) for kind in KINDS}
        self.primary_kind = ITEM_KIND
        self._layout_cache.clear()
        self._layout_note = ("", "")
        self._pca_reference.clear()
        self._clusters = {}
        self._previous_clusters = {}
        self._rows = self._rows_from = None
        self._genres = None
        self._link()
        self._names_model.setStringList([])
        self.search.clear()
        self.replay.blockSignals(True)
        self.replay.setRange(0, 0)
        self.replay.blockSignals(False)
        self.redraw(refit_view=True)

    def set_embedding(self, embedding: Embedding):
        """Show factors trained elsewhere (imported): no snapshots, linked to the grid by name."""
        self.frames = []
        self._set_embedding(embedding, refit_view=True)

    def _set_embedding(self, embedding, refit_view=False):
        first = self.embedding is None
        old_sizes = None if first else tuple(len(self.embedding.table(kind)) for kind in KINDS)
        old_names = None if first else tuple(self.embedding.table(kind).names for kind in KINDS)
        self.embedding = embedding
        self._embedding_number += 1
        self._previous_clusters = self._clusters
        self._clusters = {}
        if embedding is not None:
            sizes = tuple(len(embedding.table(kind)) for kind in KINDS)
            if sizes != old_sizes:
                self._pca_reference.clear()
                self.selection = {kind: np.array([], dtype=np.int64) for kind in KINDS}
                refit_view = True
            if not _same_objects(old_names, tuple(embedding.table(kind).names for kind in KINDS)):
                self._names_model.setStringList([str(n) for kind in KINDS for n in embedding.table(kind).names])
        self._link()
        self._update_controls()
        self.redraw(refit_view=refit_view or first)

    def _link(self):
        """Map embedding rows to grid positions: by position when built from these ratings, else by name."""
        embedding, ratings = self.embedding, self.ratings
        linked = None if embedding is None or ratings is None else (ratings, embedding.items.names,
                                                                    embedding.users.names)
        if linked is not None and _same_objects(linked, self._linked):
            return
        self._linked = linked
        built_from_these = linked is not None and self._rows_from is ratings and all(
            embedding.table(kind).names is self._rows.table(kind).names for kind in KINDS)
        for kind in KINDS:
            if embedding is None or ratings is None:
                self._to_grid[kind] = np.array([], dtype=np.int64)
                self._from_grid[kind] = np.array([], dtype=np.int64)
                continue
            names = embedding.table(kind).names
            n_grid = ratings.n_items if kind == ITEM_KIND else ratings.n_users
            grid_names = None if built_from_these else (ratings.item_titles() if kind == ITEM_KIND
                                                        else ratings.user_labels.astype(str))
            if grid_names is None or (len(names) == n_grid and all(np.asarray(names, dtype=str)
                                                                   == np.asarray(grid_names, dtype=str))):
                to_grid = np.arange(len(names))
            else:
                first_position = {}
                for position, name in enumerate(grid_names):
                    first_position.setdefault(str(name), position)
                to_grid = np.array([first_position.get(str(name), -1) for name in names], dtype=np.int64)
            self._to_grid[kind] = to_grid
            from_grid = np.full(n_grid, -1, dtype=np.int64)
            linked_rows = np.flatnonzero(to_grid >= 0)
            from_grid[to_grid[linked_rows]] = linked_rows
            self._from_grid[kind] = from_grid

    # --- projection and drawing ------------------------------------------------------------------------------------
    def coordinates(self, kind: str) -> np.ndarray:
        return self.plot.coordinates[kind]

    def redraw(self, refit_view: bool = False):
        self._update_controls()
        embedding = self.embedding
        kinds = self.shown_kinds if embedding is not None else ()
        kinds = tuple(kind for kind in kinds if len(embedding.table(kind)))
        self.plot.set_visible_kinds(kinds)
        if not kinds:
            self.plot.set_highlight({})
            self.plot.set_labels([])
            self.legend.clear()
            self.plot.set_axis_titles({})  # no axes to name (nor a PCA's share of variance) without points
            self._update_panels()
            return
        stacked = np.vstack([embedding.table(kind).factors for kind in kinds])
        xy, axis_names = self._project(kinds, stacked)
        start = 0
        for kind in kinds:
            n = len(embedding.table(kind))
            self.plot.set_points(kind, xy[start:start + n], *self._appearance(kind))
            start += n
        self.plot.set_axis_titles({axis: (name, name.replace(" of variance", ""), name.split(" (")[0])
                                   for axis, name in zip(("bottom", "left"), axis_names)})
        self.legend.setText(self.legend_html())
        if refit_view:
            self.plot.view_box.autoRange(padding=0.08)
        self.plot.set_highlight(self.selection)
        self._update_labels()
        self._update_panels()

    def _project(self, kinds, stacked):
        method = self.projection.currentData()
        key = (method, kinds)
        if method == "factors":
            x, y = self.x_axis.value() - 1, self.y_axis.value() - 1
            return raw_axes(stacked, x, y), (f"factor {x + 1}", f"factor {y + 1}")
        if method in LAYOUTS:
            cached = self._layout_cache.get((method, kinds))
            if cached is not None and cached[0] == self._layout_key(kinds) and len(cached[1]) == len(stacked):
                return cached[1], (f"{LAYOUTS[method]} 1", f"{LAYOUTS[method]} 2")
            # One layout at a time: the one asked for now replaces one still computing for another choice.
            if self.layout_job.key != (self._layout_key(kinds), method, kinds) and not self._training \
                    and self.layout_available(method):
                self._start_layout(method, kinds, stacked)
        result = pca(stacked, 2, self._pca_reference.get(key))
        self._pca_reference[key] = result.components
        ratio = result.explained_variance_ratio
        return result.coordinates, (f"PC1 ({ratio[0]:.0%} of variance)", f"PC2 ({ratio[1]:.0%} of variance)")

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
        if self.size_by_count.isChecked() and table.counts is not None and n:
            counts = np.asarray(table.counts, dtype=float)
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

    def _update_labels(self):
        if self.embedding is None:
            return
        labelled = []
        for kind in self.plot.visible_kinds:
            table = self.embedding.table(kind)
            labelled += [(kind, int(i), str(table.names[i])) for i in self.selection[kind][:20]]
        choice, n = self.labels_by.currentData(), self.label_count.value()
        for kind in self.plot.visible_kinds:
            table = self.embedding.table(kind)
            if choice == "all":  # the most rated first: where names would overlap, theirs are drawn
                top = (np.arange(len(table)) if table.counts is None
                       else np.argsort(-np.asarray(table.counts, dtype=float), kind="stable"))
            elif choice == "bias":
                top = ranked(np.abs(table.bias), n)[0]
            elif choice == "count" and table.counts is not None:
                top = ranked(np.asarray(table.counts, dtype=float), n)[0]
            else:
                continue
            labelled += [(kind, int(i), str(table.names[i])) for i in top if i not in self.selection[kind]]
        self.plot.set_labels(labelled, ALL_NAMES_LIMIT if choice == "all" else MAX_LABELS)

    def _update_controls(self):
        method = self.projection.currentData()
        k = self.embedding.items.n_factors if self.embedding is not None else 1
        for spin in (self.x_axis, self.y_axis):
            spin.blockSignals(True)
            spin.setRange(1, max(k, 1))
            spin.setValue(min(int(spin.property("wanted")), max(k, 1)))
            spin.blockSignals(False)
            spin.setVisible(method == "factors")
        self.layout_button.setVisible(method in LAYOUTS)
        running = LAYOUTS.get(self.layout_job.method)
        self.layout_button.setText(f"Cancel {running} {self._layout_progress}".rstrip() if running
                                   else f"Recompute {LAYOUTS.get(method, '')}")
        self._update_bias_choice()
        self.clusters.setVisible(self.colour_by.currentData() == "cluster")
        self.genre_highlight.setVisible(self.colour_by.currentData() == "genre" and self.genre_highlight.count() > 1)
        self.label_count.setEnabled(self.labels_by.currentData() in ("bias", "count"))  # how many of the top
        self.replay.setEnabled(not self._training and len(self.frames) > 1)
        if len(self.frames) and self.replay.maximum() != len(self.frames) - 1:
            self.replay.blockSignals(True)
            self.replay.setRange(0, len(self.frames) - 1)
            self.replay.setValue(len(self.frames) - 1)
            self.replay.blockSignals(False)
        if self.embedding is None:
            self.epoch_label.clear()
        elif self.frames and not self._training:
            epoch = self.frames[min(self.replay.value(), len(self.frames) - 1)][0]
            self.epoch_label.setText(f"{epoch} of {self.frames[-1][0]}")
        else:
            self.epoch_label.setText(str(self.embedding.epoch) if self.embedding.source == "trained here" else "")

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

    # --- t-SNE and UMAP -----------------------------------------------------------------------------------
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
        if self.embedding is not None and method in LAYOUTS:
            kinds = tuple(k for k in self.shown_kinds if len(self.embedding.table(k)))
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

    # --- selection ------------------------------------------------------------------------------------------------
    def select(self, selection: dict, emit: bool = True, center: bool = False):
        """Select rows of the embedding ({kind: indices}); with ``emit``, tell the grid. Rows the embedding
        does not have (a lesson's movie 10 after movies were removed) are left out."""
        self.selection = {kind: self._existing_rows(kind, selection.get(kind, [])) for kind in KINDS}
        chosen = [kind for kind in KINDS if len(self.selection[kind])]
        if chosen and self.primary_kind not in chosen:
            self.primary_kind = chosen[0]
        self.plot.set_highlight(self.selection)
        self._update_labels()
        self._update_panels()
        if center and chosen:
            self.plot.center_on(chosen[0], int(self.selection[chosen[0]][0]))
        if emit:
            for kind in chosen or [self.primary_kind]:
                positions = self._to_grid[kind][self.selection[kind]] if len(self._to_grid[kind]) else []
                self.sig_selection_changed.emit(kind, np.array([p for p in positions if p >= 0], dtype=np.int64))

    def _existing_rows(self, kind: str, rows) -> np.ndarray:
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if self.embedding is None:
            return rows  # kept for the first model to come, which starts a new selection anyway
        return rows[(rows >= 0) & (rows < len(self.embedding.table(kind)))]

    def select_grid_entries(self, users, items):
        """The grid's selection changed: ring the same users and movies here (without echoing back).

        A whole selected row also 'selects' every movie along it; an axis whose every entry is
        selected therefore counts as not selected."""
        selection = {}
        for kind, positions in ((USER_KIND, users), (ITEM_KIND, items)):
            if self.ratings is None:
                break
            total = self.ratings.n_users if kind == USER_KIND else self.ratings.n_items
            positions = np.asarray(positions, dtype=np.int64)
            if len(positions) > 1 and len(positions) >= total:
                continue
            from_grid = self._from_grid[kind]
            rows = from_grid[positions[(positions >= 0) & (positions < len(from_grid))]]
            selection[kind] = rows[rows >= 0]
        if len(selection.get(ITEM_KIND, [])):
            self.primary_kind = ITEM_KIND
        elif len(selection.get(USER_KIND, [])):
            self.primary_kind = USER_KIND
        self.select(selection, emit=False)

    def _on_point_clicked(self, kind, index, add):
        self.primary_kind = kind
        current = {k: list(v) for k, v in self.selection.items()} if add else {}
        chosen = current.setdefault(kind, [])
        if add and index in chosen:
            chosen.remove(index)
        else:
            chosen.append(index)
        self.select(current)

    def _on_rect_selected(self, inside: dict, add: bool):
        if add:
            inside = {k: np.union1d(self.selection[k], inside.get(k, [])) for k in KINDS}
        chosen = [k for k in KINDS if len(inside.get(k, []))]
        if chosen:
            self.primary_kind = chosen[0]
        self.select(inside)

    def find(self, text: str) -> bool:
        """Select and centre the movie or user whose name matches best (exact first)."""
        if self.embedding is None or not text.strip():
            return False
        for kind in self.shown_kinds + tuple(k for k in KINDS if k not in self.shown_kinds):
            found = self.embedding.table(kind).find(text)
            if len(found):
                if kind not in self.shown_kinds:
                    self.show_choice.setCurrentText("Movies and users")
                self.primary_kind = kind
                self.select({kind: found[:1]}, center=True)
                return True
        self.sig_message.emit("info", f"No movie or user named like “{text.strip()}”.")
        return False

    # --- hover --------------------------------------------------------------------------------------------------------
    def describe(self, kind: str, index: int) -> str:
        table = self.embedding.table(kind)
        lines = [f"{table.names[index]}  ({KIND_WORDS[kind][0]})", f"bias {table.bias[index]:+.3f}"]
        if table.counts is not None:
            lines.append(f"{int(table.counts[index])} ratings")
        if table.means is not None and np.isfinite(table.means[index]):
            lines.append(f"mean rating {table.means[index]:.2f}")
        if table.genres is not None and table.genres[index]:
            lines.append(str(table.genres[index]).replace("|", ", "))
        x, y = self.coordinates(kind)[index]
        lines.append(f"at ({x:.3f}, {y:.3f})")
        factors = table.factors[index]
        shown = ", ".join(f"{v:+.2f}" for v in factors[:6]) + (", …" if len(factors) > 6 else "")
        lines.append(f"factors [{shown}]")
        return "\n".join(lines)

    def _on_hover(self, kind, index):
        if index < 0 or self.embedding is None:
            self.plot.show_hover("", -1, "")
            return
        self.plot.show_hover(kind, index, self.describe(kind, index))

    # --- side panels ------------------------------------------------------------------------------------------------
    def _update_panels(self):
        """Refresh the side tab in front (a tab brought to front refreshes then) and the status line."""
        page = self.side_tabs.currentWidget()
        if page is self.bias_text:
            self.bias_text.setHtml(self.bias_html())
        elif page is self.one_hot_text:
            self.one_hot_text.setHtml(self.one_hot_html())
        else:
            self._update_neighbours()
        if self.embedding is None:
            self.status.setText(NO_MODEL_TEXT)
        elif not self.layout_job.running:
            self.status.setText(self._status_text())

    def _status_text(self) -> str:
        """One line, the most telling first (a narrow pane elides its end; the tooltip has it all)."""
        embedding = self.embedding
        parts = [f"{len(embedding.items):,} movies, {len(embedding.users):,} users, "
                 f"{embedding.items.n_factors} factors"]
        parts.append(f"epoch {embedding.epoch}" if embedding.source == "trained here" else f"from {embedding.source}")
        method, note = self._layout_note
        if note and method == self.projection.currentData():  # what the layout shown means stays in view
            parts.append(note)
        hidden = self.plot.labels_hidden
        if hidden:
            parts.append(f"{hidden} name{'s' if hidden != 1 else ''} hidden where {'they' if hidden != 1 else 'it'} "
                         "would cover another (zoom in)")
        parts.append("Shift+drag selects a region")
        return " · ".join(parts)

    def _on_labels_placed(self, hidden: int):
        if self.embedding is not None and not self.layout_job.running:
            self.status.setText(self._status_text())

    def neighbour_rows(self):
        """(kind, source row, [(row, distance)]) for the current selection, or None."""
        if self.embedding is None:
            return None
        kind = self.primary_kind
        chosen = self.selection[kind]
        if not len(chosen):
            return None
        table = self.embedding.table(kind)
        least = self.neighbour_min_ratings.value()
        allowed = None if table.counts is None or least == 0 else np.asarray(table.counts) >= least
        rows, distances = nearest_neighbours(table.factors, chosen, self.neighbour_count.value(),
                                             self.neighbour_metric.currentText(), allowed)
        return kind, chosen, list(zip(rows.tolist(), distances.tolist()))

    def _update_neighbours(self):
        self.neighbours.clear()
        found = self.neighbour_rows()
        if found is None:
            self.neighbour_title.setText(NO_SELECTION_TEXT)
            return
        kind, chosen, rows = found
        table = self.embedding.table(kind)
        subject = table.names[chosen[0]] if len(chosen) == 1 else f"the mean of {len(chosen)} {KIND_WORDS[kind][1]}"
        least = self.neighbour_min_ratings.value() if table.counts is not None else 0
        among = f", among those with at least {least} ratings" if least else ""
        self.neighbour_title.setText(f"Nearest {KIND_WORDS[kind][1]} to {subject} in the {table.n_factors}-factor "
                                     f"space ({self.neighbour_metric.currentText()}{among})")
        for row, distance in rows:
            count = "" if table.counts is None else str(int(table.counts[row]))
            item = QTreeWidgetItem([str(table.names[row]), f"{distance:.4f}", count])
            item.setData(0, Qt.ItemDataRole.UserRole, (kind, row))
            self.neighbours.addTopLevelItem(item)

    def _on_neighbour_activated(self, item, column=0):
        kind, row = item.data(0, Qt.ItemDataRole.UserRole)
        self.primary_kind = kind
        self.select({kind: [row]}, center=True)

    def bias_html(self, n: int = 8) -> str:
        if self.embedding is None:
            return "<i>No model yet.</i>"
        parts = []
        for kind in KINDS:
            table = self.embedding.table(kind)
            if not len(table):
                continue
            if not np.any(table.bias):
                parts.append(f"<p><i>This model learned no {KIND_WORDS[kind][0]} bias.</i></p>")
                continue
            best, worst = ranked(table.bias, n)
            for title, rows in ((f"Highest {KIND_WORDS[kind][0]} bias", best),
                                (f"Lowest {KIND_WORDS[kind][0]} bias", worst)):
                parts.append(self._ranking_table(title, table, rows, table.bias, "bias"))
        items = self.embedding.items
        if len(items) >= 4 and items.n_factors >= 1:
            projection = pca(items.factors, 2)  # one SVD serves both components and their ends
            for component in range(min(2, items.n_factors)):
                low, high = component_ends(items.factors, component, min(5, len(items) // 2), projection)
                coordinate = projection.coordinates[:, component]
                parts.append(self._ranking_table(f"Movies at the + end of PC{component + 1}", items, high,
                                                 coordinate, "PC"))
                parts.append(self._ranking_table(f"Movies at the − end of PC{component + 1}", items, low,
                                                 coordinate, "PC"))
        return "".join(parts)

    @staticmethod
    def _ranking_table(title, table, rows, values, value_name) -> str:
        body = "".join(
            f"<tr><td>{html.escape(str(table.names[r]))}</td><td align='right'>{values[r]:+.3f}</td>"
            f"<td align='right'>{'' if table.counts is None else int(table.counts[r])}</td></tr>" for r in rows)
        return (f"<p><b>{title}</b></p><table cellspacing='0' cellpadding='2'>"
                f"<tr><th align='left'>name</th><th>{value_name}</th><th>ratings</th></tr>{body}</table>")

    def one_hot_html(self) -> str:
        """For the selected movie: its one-hot vector e_i, the weight matrix W and e_i·W = row i of W."""
        if self.embedding is None:
            return "<i>No model yet.</i>"
        kind = self.primary_kind if len(self.selection[self.primary_kind]) else ITEM_KIND
        chosen = self.selection[kind]
        table = self.embedding.table(kind)
        if not len(chosen) or not len(table):
            return ("<p>Select a movie: an embedding lookup is the one-hot vector of the movie times the weight "
                    "matrix, which picks out one row.</p>")
        i, n, k = int(chosen[0]), len(table), table.n_factors
        weights = table.factors
        product = one_hot(n, i) @ weights
        equal = np.array_equal(product, weights[i])
        shown = _window(n, i)
        cells = lambda values: "".join(f"<td align='right'>{v:+.2f}</td>" for v in values)  # noqa: E731
        one_hot_row = "".join(f"<td align='center'>{'<b>1</b>' if r == i else ('…' if r is None else '0')}</td>"
                              for r in shown)
        highlight = " style='background:#fde0c5'"
        matrix_rows = "".join(
            ("<tr><td>…</td></tr>" if r is None else
             f"<tr{highlight if r == i else ''}><td>{r}</td>{cells(weights[r][:8])}</tr>")
            for r in shown)
        name = html.escape(str(table.names[i]))
        note = ""
        if table.counts is not None and is_sparse(table.counts, i):
            count, typical = int(table.counts[i]), int(np.median(table.counts))
            note = (f"<p><i>{name} has only {count} rating{'s' if count != 1 else ''} (a typical "
                    f"{KIND_WORDS[kind][0]} here has {typical}): its factors are mostly the initialisation and "
                    "the regularization, not taste. Latent factors mean little where data is sparse.</i></p>")
        return (f"<p><b>{name}</b> is {KIND_WORDS[kind][0]} {i} of {n}.</p>"
                f"<p>one-hot e<sub>{i}</sub> (length {n}):</p><table><tr>{one_hot_row}</tr></table>"
                f"<p>W ({n} × {k}{', first 8 columns' if k > 8 else ''}):</p>"
                f"<table cellspacing='0' cellpadding='2'>{matrix_rows}</table>"
                f"<p>e<sub>{i}</sub> · W = <table><tr>{cells(product[:8])}</tr></table></p>"
                f"<p>= row {i} of W: <b>{'yes' if equal else 'no'}</b> — the lookup and the product are the same "
                f"numbers; the lookup just skips multiplying by {n - 1} zeros.</p>{note}")

    # --- replay ---------------------------------------------------------------------------------------------------------
    def _on_replay(self, position):
        if not self.frames or self.ratings is None:
            return
        epoch, snapshot = self.frames[position]
        shape = (len(snapshot["user_factors"]), len(snapshot["item_factors"]))
        if shape == (self.ratings.n_users, self.ratings.n_items):  # not after a movie or user was added
            self._set_embedding(self._embedding_of(snapshot, self.ratings, epoch))

    # --- files -------------------------------------------------------------------------------------------------------------
    def export_image(self, path: str):
        export_widget_image(self.plot, path, "CF Explorer factor space")

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
        path, _ = QFileDialog.getSaveFileName(self, "Export factor view", "factor-space.png",
                                              "PNG image (*.png);;SVG image (*.svg)")
        if path:
            self.export_image(path)

    def export_factors_dialog(self):
        if self.embedding is None:
            self.sig_message.emit("error", "There are no factors to export yet: train a model first.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export factors and biases", "factors.csv", "CSV table (*.csv)")
        if path:
            try:
                self.export_factors(path)
            except OSError as error:
                self.sig_message.emit("error", f"Could not save {path}: {error}")

    def import_factors_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Import factors", "",
                                              "Factor files (*.csv *.tsv *.npz *.npy);;All files (*)")
        if path:
            self.import_factors(path)

    def import_spark_model_dialog(self):
        path = QFileDialog.getExistingDirectory(self, "Import a Spark ALS model (the folder ALSModel.save wrote)")
        if path:
            self.import_factors(path)

    def shutdown(self):
        self.layout_job.cancel()


def model_biases(model) -> dict:
    """Which kinds of rows have a learned bias in ``model`` (the network and content models have none)."""
    return {ITEM_KIND: bool(getattr(model, "item_bias", False)), USER_KIND: bool(getattr(model, "user_bias", False))}


def is_sparse(counts: np.ndarray, row: int) -> bool:
    """Whether a row has too few ratings for its factors to mean much: under 3, and under a third of what a
    typical row has (in a 5 × 4 classroom matrix every movie has 2 to 4, and none is sparse by comparison)."""
    count = float(counts[row])
    return count < 3 and count <= np.median(counts) / 3


def _category_styles(categories: np.ndarray) -> np.ndarray:
    """Category numbers as entries of CATEGORY_PALETTE: past the named colours, or none (-1), is grey."""
    return np.where((categories >= 0) & (categories < len(CATEGORIES)), categories, len(CATEGORIES))


def _same_objects(these, those) -> bool:
    """Whether two tuples hold the very same objects (arrays compare by identity, not by value)."""
    return these is not None and those is not None and len(these) == len(those) and all(
        a is b for a, b in zip(these, those))


def _window(n: int, i: int, context: int = 3) -> list:
    """Row numbers to show around row i of n, with None where rows are left out."""
    if n <= 2 * context + 3:
        return list(range(n))
    keep = sorted({0, n - 1, *range(max(0, i - context), min(n, i + context + 1))})
    shown = []
    for r in keep:
        if shown and r - shown[-1] > 1:
            shown.append(None)
        shown.append(r)
    return shown
