"""The factor space: learned embeddings and biases scattered for inspection, linked to the grid.

It shows an :class:`~cfexplorer.core.embedding.Embedding` — from the model being trained (updated
live, with every kept snapshot replayable), from a project, or imported from a file — as raw
factor axes, PCA, t-SNE or UMAP, with nearest neighbours, bias rankings and the one-hot lookup beside it.
Selections travel to and from the grid by position.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QSettings, QStringListModel, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QCompleter, QFrame, QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton, QScrollArea,
    QSizePolicy, QSlider, QSpinBox, QSplitter, QToolButton, QVBoxLayout, QWidget,
)

from ..core.embedding import ITEM_KIND, KINDS, LAYOUTS, USER_KIND, Embedding, pca, ranked, raw_axes
from ..core.umap_layout import UMAP_MODULE
from .elided_label import ElidedLabel
from .factor_appearance import (  # noqa: F401 - its palettes, as tests name them
    CATEGORY_PALETTE, DIVERGING, KIND_WORDS, PLAIN, AppearanceMixin, _levels,
)
from .factor_files import FilesMixin
from .factor_layouts import LayoutsMixin
from .factor_panels import NO_MODEL_TEXT, SidePanelsMixin
from .factor_plot import MAX_LABELS, FactorPlot
from .qt_guard import guard_event
from .tsne_job import LayoutJob

SHOW_CHOICES = {"Movies": (ITEM_KIND,), "Users": (USER_KIND,), "Movies and users": (ITEM_KIND, USER_KIND)}
PROJECTIONS = {"factors": "Two factors", "pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
COLOUR_CHOICES = {"bias": "Bias", "count": "Number of ratings", "mean": "Mean rating", "genre": "Genre",
                  "cluster": "k-means cluster"}
LABEL_CHOICES = {"selected": "Selected only", "all": "All names", "bias": "Top |bias|", "count": "Most rated"}
# Names are shown for every point by default up to this many points; "All names" goes up to ALL_NAMES_LIMIT
# (past it, text covers the plot and each frame of a run moves thousands of labels).
LABEL_ALL_UP_TO, ALL_NAMES_LIMIT = 50, 500
PLOT_MINIMUM_HEIGHT = 120  # pixels: the axes, their titles and a scatter one can still point into
# On a large catalogue a movie's nearest vectors are mostly films rated once or twice, whose factors are their
# random start and the regularization: the neighbours list leaves them out by default there.
MANY_MOVIES, NEIGHBOUR_MIN_RATINGS = 1000, 20


class SearchField(QLineEdit):
    """The Find box; says when it takes the focus, which is when its completer's names are first wanted."""

    sig_focused = Signal()

    @guard_event
    def focusInEvent(self, event):
        super().focusInEvent(event)
        self.sig_focused.emit()


def _spaced(frames: list, every: int) -> list:
    """The frames at least ``every`` epochs apart, from the first on (the kept ones no more than the epochs
    they span over ``every``, plus one)."""
    kept = []
    for epoch, snapshot in frames:
        if not kept or epoch - kept[-1][0] >= every:
            kept.append((epoch, snapshot))
    return kept


class FactorSpaceView(AppearanceMixin, LayoutsMixin, SidePanelsMixin, FilesMixin, QWidget):
    """The view and what it shows; how points look (factor_appearance), t-SNE and UMAP (factor_layouts), the
    side panels and status line (factor_panels) and the Files menu (factor_files) are mixins of it."""

    sig_selection_changed = Signal(str, object)  # kind, positions in the grid's ratings
    sig_message = Signal(str, str)  # kind ("error"/"info"), text

    def __init__(self, app_settings: QSettings, parent=None):
        """``app_settings``: the window's QSettings, which say where the Files menu's dialogs start."""
        super().__init__(parent)
        self.app_settings = app_settings
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
        self._projected_as = self._drawn_as = None  # the projection of the coordinates computed, and drawn
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
        self._framed_by_user = False  # zoomed or panned since the view was last fitted to the points
        self._fitted_bounds = None  # the points' bounds the view was last fitted to
        self._trained_on = None  # the ratings the shown run trained on (None: the grid's, a restored model)
        self._trained_counts: dict = {}  # kind -> ratings of each row it trained on, made when first asked
        self._finding = False  # while the Find box's name is being selected
        self._found_in_this_pass = None  # the name Find selected in this pass of the event loop
        self.not_found_note = ""  # what Find said last of a name it did not find
        self.marker_scale = 1.0  # larger in presentation mode
        self.layout_job = LayoutJob(self)
        self.layout_job.sig_finished.connect(self._on_layout_finished)
        self.layout_job.sig_failed.connect(self._on_layout_failed)
        self.layout_job.sig_progress.connect(self._on_layout_progress)
        self._layout_progress = ""  # "35%" while t-SNE or UMAP runs
        # A frame's plot is painted in the event loop's next pass: see show_model.
        self._paint_in_next_pass = QTimer(self, singleShot=True, interval=0)
        self._paint_in_next_pass.timeout.connect(self._paint_the_frame)
        # A live frame of a run is projected in one pass and drawn in the next: see show_model.
        self._live_frame = None  # the embedding of a run's frame projected and waiting to be drawn
        self._projected_ahead = None  # (embedding, (projection, kinds), (coordinates, axis names, projected as))
        self._draw_in_next_pass = QTimer(self, singleShot=True, interval=0)
        self._draw_in_next_pass.timeout.connect(self.draw_pending_frame)
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
        self.size_by_count.setToolTip("Each point's size grows with the ratings its factors were trained on")
        self.size_by_count.setChecked(True)
        self.labels_by = QComboBox()
        for key, text in LABEL_CHOICES.items():
            self.labels_by.addItem(text, key)
        self.labels_by.setToolTip(f"Which points carry a name (all of them, up to {ALL_NAMES_LIMIT})")
        self.label_count = QSpinBox()
        self.label_count.setRange(0, 40)
        self.label_count.setValue(10)
        self.search = SearchField()
        self.search.setPlaceholderText("Find a movie or user…")
        self.search.setClearButtonEnabled(True)
        self._names_model = QStringListModel(self)
        self._names_to_search = None  # the embedding's names, put into the completer when the Find box is used
        self._completion_rows: dict = {}  # a completion naming one of a kind's rows that share a name -> (kind, row)
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
        self.epoch_label = QLabel("")
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip("What the colours of the points mean")
        self.status = ElidedLabel(NO_MODEL_TEXT)

        self.plot = FactorPlot()
        self.plot.setMinimumHeight(PLOT_MINIMUM_HEIGHT)
        # no keys of its own (the mouse hovers, clicks, drags and zooms it), as the loss plots: Tab passes it by, and
        # a click on a point leaves the keys where they were (it took the focus, with no mark of it)
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.side_tabs = self._build_side_panels()

        # The dock shares the window's bottom with the loss curves: every control may shrink.
        for combo in (self.show_choice, self.projection, self.colour_by, self.genre_highlight, self.labels_by,
                      self.neighbour_metric):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(5)
        # its choices read alike at five letters ("Selected o"): the Find box gives way to it instead
        self.labels_by.setMinimumContentsLength(max(len(text) for text in LABEL_CHOICES.values()))
        self.search.setMinimumWidth(80)
        self.replay.setMinimumWidth(50)
        self.replay.setToolTip(REPLAY_TIP)
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
        controls_scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the controls in it
        self._fit_controls_height()
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

        self.plot.view_box.sigRangeChangedManually.connect(self._on_framed_by_user)
        self.plot.view_box.sigResized.connect(self._on_view_resized)
        self.plot.view_box.sig_view_all.connect(self._on_view_all)
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
        self.layout_button.clicked.connect(self._on_layout_button)
        self.replay.valueChanged.connect(self._on_replay)
        self.search.returnPressed.connect(lambda: self.find(self.search.text()))
        # a name clicked in the list of completions finds it, as Return does (it only filled the box in)
        completer.activated[str].connect(self.find)
        self.search.sig_focused.connect(self._fill_search_names)
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

    def _fit_controls_height(self):
        """The controls' rows whole above their sideways scroll bar, in the type of the moment (set once, in the
        everyday type, presentation type hid half the second row under the bar)."""
        scroller = self.controls_scroller
        scroller.setMinimumHeight(scroller.widget().sizeHint().height()
                                  + scroller.horizontalScrollBar().sizeHint().height())

    @guard_event
    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # after the controls have taken the new type
            QTimer.singleShot(0, self, self._fit_controls_height)

    def set_text_size(self, point_size: float):
        """Larger type for a projector (presentation mode): the plot's axes, labels and hover box."""
        self.plot.set_text_size(point_size)

    def set_ratings(self, ratings):
        """The grid's data changed (opened, edited): keep the view, re-link names to grid positions."""
        self.ratings = ratings
        self._link()

    @property
    def rows_from(self):
        """The ratings the names of the points shown were taken from."""
        return self._rows_from

    def has_rows_gone_from_the_grid(self) -> bool:
        """Whether a movie or user shown has no row in the grid any more (removed since it was trained): the grid
        has fewer of them, or one of them has no row of its name (a removed movie with a namesake links to it)."""
        if self.embedding is None or self.ratings is None:
            return False
        fewer = (len(self.embedding.items) > self.ratings.n_items or len(self.embedding.users) > self.ratings.n_users)
        return fewer or any(bool(np.any(self._to_grid[kind] < 0)) for kind in KINDS)

    def show_the_frame_again(self, predictor, ratings) -> None:
        """The grid's names changed (a rename): the epoch shown, under them — the replayed one where the slider
        is not at the end (a rename jumped to the last epoch under "2 of 300"), else ``predictor``'s."""
        if self.frames and not self._training and self.replay.value() < len(self.frames) - 1:
            self._on_replay(self.replay.value())
        else:
            self.show_model(predictor, ratings, in_passes=False)

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

    def set_training_set(self, trained_on):
        """The ratings the run going on trains on, once its validation share is held out (start_run had them with
        it): the points' sizes and the hover's counts are theirs."""
        self._trained_on, self._trained_counts = trained_on, {}

    def start_run(self, model, ratings, continued_every: int = 0, trained_on=None):
        """A training run begins: forget the previous run's snapshots, or, for a run that goes on from the last
        one (``continued_every``: its snapshot interval), keep those of its epochs at that interval, so that the
        replay spans both runs at one spacing. In view, describe the movies and users now, before the worker
        competes for the GIL, so that the first frame only has factors to draw."""
        self.frames = _spaced(self.frames, continued_every) if continued_every else []
        # the grid's ratings, or those the density filter kept for training (set_training_set: less the validation
        # share, once the worker has held it out)
        self._trained_on = trained_on
        self._trained_counts = {}
        self._training = True
        self._framed_by_user = False  # a view the user moved during the last run follows this one's points
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

    def end_run(self, model=None):
        """The run has ended; ``model`` (the one it trained, where it ended on its own or was stopped) is the
        replay's last frame: the frames are every so many epochs, and a run of 300 at every sixth ended its
        replay at 294, the trained model out of reach once the slider had moved."""
        self._training = False
        history = getattr(model, "history_", None)
        if model is not None and self.frames and history and self.frames[-1][0] != history[-1].epoch:
            self.frames.append((history[-1].epoch, model.snapshot()))
        self._update_controls()
        if self.frames:
            self.replay.blockSignals(True)
            self.replay.setValue(self.replay.maximum())
            self.replay.blockSignals(False)

    def show_model(self, predictor, ratings, in_passes: bool | None = None):
        """Show what a model has learned (a frozen Predictor), keeping the view where it is.

        While the view is hidden (another dock tab in front) only the latest model is remembered;
        it is drawn when the view is shown, so a hidden view costs training nothing. ``in_passes`` (by default
        while a run is on): projected now and drawn on the event loop's next pass (see
        :meth:`draw_pending_frame`); the first frame of a view is drawn at once."""
        if predictor is None or predictor.shape != (ratings.n_users, ratings.n_items):
            return
        self.ratings = ratings
        if not (self.isVisible() and self._tab_in_front):
            self._hidden_model = (predictor, ratings)
            return
        self._hidden_model = None
        embedding = self._embedding_of(predictor, ratings, predictor.epoch)
        if (self._training if in_passes is None else in_passes) and self.embedding is not None:
            # A live frame's projection (8 ms idle for 59,047 movies, 20 beside the worker) and its drawing
            # (the points moved and restyled, labels, panels: 20-30) in one pass kept the window deaf to a
            # click or a key for both: it is projected now and drawn in the next pass (a frame that comes
            # before is the one drawn instead).
            kinds = self._kinds_to_draw(embedding)
            # (a t-SNE or UMAP is looked up for the embedding shown: the drawing pass does it, after this one)
            if kinds and self.projection.currentData() not in LAYOUTS:
                xy, axis_names = self._project(kinds, self._stacked(embedding, kinds))
                self._projected_ahead = (embedding, (self.projection.currentData(), kinds),
                                         (xy, axis_names, self._projected_as))
            self._live_frame = embedding
            self._draw_in_next_pass.start()
            return
        self._draw(embedding)

    def draw_pending_frame(self):
        """Draw a frame projected and waiting for its pass: on that pass, or now (a script or a test reading the
        view at once)."""
        embedding, self._live_frame = self._live_frame, None
        if embedding is not None:  # not dropped since (clear, another document, a frame shown at once)
            self._draw(embedding)

    def _drop_waiting_frame(self):
        """A run's frame waiting for its drawing pass is not to be drawn (another is shown, or nothing)."""
        self._live_frame = None
        self._draw_in_next_pass.stop()

    def _draw(self, embedding):
        # A frame's numbers (the PCA, the points restyled: 20-30 ms for MovieLens 25M's 59,047 movies) and the
        # plot's paint (30 ms more) fell in one pass of the event loop, the window deaf to a click or a key
        # for both: the plot is painted in the next pass, and what the user does in between is seen between.
        self.plot.setUpdatesEnabled(False)
        try:
            self._set_embedding(embedding)
        finally:
            self._paint_in_next_pass.start()

    def _paint_the_frame(self):
        self.plot.setUpdatesEnabled(True)  # which paints it

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
        self._framed_by_user = False
        self._fitted_bounds = None  # a resize fits the view to no forgotten points
        self._trained_on, self._trained_counts = None, {}
        self._projected_ahead = None  # (and a frame waiting to be drawn is dropped by _set_embedding below)
        self._training = False
        self._model_biases = None
        self.embedding = None
        self.frames = []
        self.plot.forget_hover()
        self._set_embedding(None)

    def clear_trained(self):
        """Training was reset or failed: forget its run and factors (imported ones stay)."""
        self._drop_waiting_frame()
        self._projected_ahead = None
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
        self._names_to_search = None
        self._completion_rows = {}
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
        self._drop_waiting_frame()  # what is shown now (a replayed epoch, imported factors) supersedes it
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
                # Named when the Find box takes the focus: MovieLens 25M's 221,588 names took 40 ms of the
                # first frame, for a box most people never click into.
                self._names_to_search = tuple(embedding.table(kind).names for kind in KINDS)
        self._link()
        if self._names_to_search is not None and self.search.hasFocus():
            self._fill_search_names()
        self._update_controls()
        self.redraw(refit_view=refit_view or first)

    def _fill_search_names(self):
        """The Find box's completions: each movie's and user's name, and where two of a kind share one, the name
        with the grid's id ("Saturn 3 (1980) [id 2851]" and "[id 168358]": MovieLens has both, and the box
        offered "Saturn 3 (1980)" twice, the second never found)."""
        if self._names_to_search is None:
            return
        completions, self._completion_rows = [], {}
        for kind, names in zip(KINDS, self._names_to_search):
            texts = np.array([str(name) for name in names], dtype=object)
            if len(texts):
                _, inverse, counts = np.unique(texts.astype(str), return_inverse=True, return_counts=True)
                for row in np.flatnonzero(counts[inverse] > 1):
                    texts[row] = f"{texts[row]} [{self._grid_id(kind, int(row))}]"
                    self._completion_rows[texts[row]] = (kind, int(row))
            completions.extend(texts.tolist())
        self._names_model.setStringList(completions)
        self._names_to_search = None

    def _grid_id(self, kind: str, row: int) -> str:
        """How the grid knows the movie or user of the embedding's ``row``: its id, else the row's number."""
        to_grid = self._to_grid.get(kind, ())
        position = int(to_grid[row]) if row < len(to_grid) else -1
        if position < 0 or self.ratings is None:
            return f"row {row + 1}"
        labels = self.ratings.item_labels if kind == ITEM_KIND else self.ratings.user_labels
        return f"id {labels[position]}"

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
        kinds = self._kinds_to_draw(embedding)
        self.plot.set_visible_kinds(kinds)
        if not kinds:
            self.plot.set_highlight({})
            self.plot.set_labels([])
            self.legend.clear()
            self.plot.set_axis_titles({})  # no axes to name (nor a PCA's share of variance) without points
            # nor the last document's scale (axes of 1e-51 under no points), nor at the next resize
            self._fitted_bounds = None
            self.plot.view_box.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
            self._update_panels()
            return
        ahead, self._projected_ahead = self._projected_ahead, None
        if ahead is not None and ahead[0] is embedding and ahead[1] == (self.projection.currentData(), kinds):
            xy, axis_names, self._projected_as = ahead[2]  # a live frame's, projected in the pass before
        else:
            xy, axis_names = self._project(kinds, self._stacked(embedding, kinds))
        if self._projected_as != self._drawn_as:  # a t-SNE's axes span tens where a PCA's span one or two
            refit_view = True
        self._drawn_as = self._projected_as
        start = 0
        for kind in kinds:
            n = len(embedding.table(kind))
            self.plot.set_points(kind, xy[start:start + n], *self._appearance(kind))
            start += n
        self.plot.set_axis_titles({axis: (name, name.replace(" of variance", ""), name.split(" (")[0])
                                   for axis, name in zip(("bottom", "left"), axis_names)})
        self.legend.setText(self.legend_html())
        bounds = _finite_bounds(xy)
        if refit_view or (not self._framed_by_user and _outgrown(bounds, self.plot.view_box.viewRange())):
            self._fit_view(bounds)
        self.plot.set_highlight(self.selection)
        self._update_labels()
        self._update_panels()

    def _fit_view(self, bounds):
        """The view around the points of these ``_finite_bounds`` (from the coordinates themselves: a large frame's
        scatter learns its bounds only when its picture is done, and autoRange then fitted the frame before).
        The points are drawn some pixels wide: besides a share of air the view leaves the largest of them (or
        the selection's ring) room at each edge; with a share alone a point at an edge of a small pane, the
        largest of those sized by their ratings, was cut in half."""
        self._framed_by_user = False
        self._fitted_bounds = bounds
        if bounds is None:
            self.plot.view_box.autoRange(padding=VIEW_AIR)
            return
        low, high = bounds
        middle, half = (high + low) / 2, (high - low) / 2
        if not (half > 0).any():  # one point (or all at one place): a unit around it
            half = np.full(2, max(1.0, float(np.abs(middle).max()) / 10))
        half = np.where(half > 0, half, half.max())  # points on a line: the other axis's span
        view = self.plot.view_box.boundingRect()
        # the share of the view's width (height) the marks' room at both edges takes, at most half of it
        room_px = 2 * (self.plot.largest_point_radius_px() + POINT_ROOM_PX)
        shares = np.array([room_px / view.width() if view.width() > 0 else 0.0,
                           room_px / view.height() if view.height() > 0 else 0.0])
        half = half * (1 + 2 * VIEW_AIR) / (1 - np.minimum(shares, 0.5))
        self.plot.view_box.setRange(xRange=(float(middle[0] - half[0]), float(middle[0] + half[0])),
                                    yRange=(float(middle[1] - half[1]), float(middle[1] + half[1])), padding=0)

    @Slot()
    def _on_view_resized(self):
        """A pane resized: the view fitted to the points is fitted again, its room for the marks in pixels."""
        if not self._framed_by_user and self._fitted_bounds is not None:
            self._fit_view(self._fitted_bounds)

    @Slot(object)
    def _on_framed_by_user(self, _mask=None):
        self._framed_by_user = True  # the view stays where the user put it while the points move

    @Slot()
    def _on_view_all(self):
        self._framed_by_user = False  # the view follows the points again

    def _kinds_to_draw(self, embedding) -> tuple:
        """The kinds shown that ``embedding`` has rows of."""
        kinds = self.shown_kinds if embedding is not None else ()
        if embedding is not None and embedding.items.n_factors == 0:
            return ()  # a baseline: no factors to place (every point sat at the origin, "PC1 (0% of variance)")
        return tuple(kind for kind in kinds if len(embedding.table(kind)))

    @staticmethod
    def _stacked(embedding, kinds) -> np.ndarray:
        """The factors of ``kinds``, one kind's rows after the other's."""
        if len(kinds) > 1:
            return np.vstack([embedding.table(kind).factors for kind in kinds])
        return embedding.table(kinds[0]).factors

    def _project(self, kinds, stacked):
        """(2-D coordinates, axis titles); ``_projected_as`` says which projection they are (PCA stands in
        for a t-SNE or UMAP not computed yet for these factors)."""
        method = self.projection.currentData()
        key = (method, kinds)
        self._projected_as = method
        if method == "factors":
            x, y = self.x_axis.value() - 1, self.y_axis.value() - 1
            return raw_axes(stacked, x, y), (f"factor {x + 1}", f"factor {y + 1}")
        if method in LAYOUTS:
            cached = self._layout_cache.get((method, kinds))
            if cached is not None and cached[0] == self._layout_key(kinds) and len(cached[1]) == len(stacked):
                return cached[1], (f"{LAYOUTS[method]} 1", f"{LAYOUTS[method]} 2")
            self._projected_as = "pca"
            # One layout at a time: the one asked for now replaces one still computing for another choice.
            if self.layout_job.key != (self._layout_key(kinds), method, kinds) and not self._training \
                    and self.layout_available(method):
                self._start_layout(method, kinds, stacked)
        result = pca(stacked, 2, self._pca_reference.get(key))
        self._pca_reference[key] = result.components
        ratio = result.explained_variance_ratio
        return result.coordinates, (f"PC1 ({ratio[0]:.0%} of variance)", f"PC2 ({ratio[1]:.0%} of variance)")

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
        self.layout_button.setVisible(method in LAYOUTS and (self.embedding is None or k > 0))  # (no factors: no map)
        running = LAYOUTS.get(self.layout_job.method)
        self.layout_button.setText(f"Cancel {running} {self._layout_progress}".rstrip() if running
                                   else f"Recompute {LAYOUTS.get(method, '')}")
        self._update_bias_choice()
        self.clusters.setVisible(self.colour_by.currentData() == "cluster")
        self.genre_highlight.setVisible(self.colour_by.currentData() == "genre" and self.genre_highlight.count() > 1)
        self.label_count.setEnabled(self.labels_by.currentData() in ("bias", "count"))  # how many of the top
        self.replay.setEnabled(not self._training and len(self.frames) > 1)
        if len(self.frames) and self.replay.maximum() != len(self.frames) - 1:
            self.replay.setToolTip(REPLAY_TIP)
            self.replay.blockSignals(True)
            self.replay.setRange(0, len(self.frames) - 1)
            self.replay.setValue(len(self.frames) - 1)
            self.replay.blockSignals(False)
        elif not self.frames:
            # Nothing to replay: the handle at the end with a model shown (its last epoch: a reopened project's,
            # whose snapshots are not saved), at the start with none (it sat at the left under "300", and at the
            # right after Reset).
            at_end = self.embedding is not None and self.embedding.source == "trained here" and not self._training
            self.replay.blockSignals(True)
            self.replay.setRange(0, 1 if at_end else 0)
            self.replay.setValue(1 if at_end else 0)
            self.replay.blockSignals(False)
            self.replay.setToolTip(REPLAY_NOTHING_KEPT if at_end else REPLAY_TIP)
        if self.embedding is None:
            self.epoch_label.clear()
        elif self.frames and not self._training:
            epoch = self.frames[min(self.replay.value(), len(self.frames) - 1)][0]
            self.epoch_label.setText(f"{epoch} of {self.frames[-1][0]}")
        else:
            self.epoch_label.setText(str(self.embedding.epoch) if self.embedding.source == "trained here" else "")

    # --- selection ------------------------------------------------------------------------------------------------
    def select(self, selection: dict, emit: bool = True, center: bool = False):
        """Select rows of the embedding ({kind: indices}); with ``emit``, tell the grid. Rows the embedding
        does not have (a lesson's movie 10 after movies were removed) are left out."""
        self.selection = {kind: self._existing_rows(kind, selection.get(kind, [])) for kind in KINDS}
        chosen = [kind for kind in KINDS if len(self.selection[kind])]
        if not self._finding:
            self.search.clear()  # the name found last is not what is selected any more
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
        if text == self._found_in_this_pass:
            return True  # Return on a completion: the completer's activated and the box's returnPressed both ask
        named = self._completion_rows.get(text)  # a name two share, chosen with its id: that one row
        for kind in self.shown_kinds + tuple(k for k in KINDS if k not in self.shown_kinds):
            if named is None:
                found = self.embedding.table(kind).find(text)
            else:
                found = np.array([named[1]] if named[0] == kind else [], dtype=np.int64)
            if len(found):
                if kind not in self.shown_kinds:
                    self.show_choice.setCurrentText("Movies and users")
                self.primary_kind = kind
                self._finding = True
                try:
                    self.select({kind: found[:1]}, center=True)
                finally:
                    self._finding = False
                self._found_in_this_pass = text
                QTimer.singleShot(0, self._forget_the_pass_found)
                return True
        self.not_found_note = f"No movie or user named like “{text.strip()}”."
        self.sig_message.emit("info", self.not_found_note)
        return False

    def _forget_the_pass_found(self):
        self._found_in_this_pass = None

    # --- hover --------------------------------------------------------------------------------------------------------
    def describe(self, kind: str, index: int) -> str:
        table = self.embedding.table(kind)
        lines = [f"{table.names[index]}  ({KIND_WORDS[kind][0]})", f"bias {table.bias[index]:+.3f}"]
        if table.counts is not None:
            count, trained = int(table.counts[index]), self._counts_trained_on(kind, len(table))
            trained = count if trained is None else int(trained[index])
            lines.append(f"{count} ratings" + (f", {trained} of them trained on" if trained != count else ""))
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

    # --- replay ---------------------------------------------------------------------------------------------------------
    def _on_replay(self, position):
        if not self.frames or self.ratings is None:
            return
        epoch, snapshot = self.frames[position]
        shape = (len(snapshot["user_factors"]), len(snapshot["item_factors"]))
        if shape == (self.ratings.n_users, self.ratings.n_items):  # not after a movie or user was added
            self._set_embedding(self._embedding_of(snapshot, self.ratings, epoch))

    def shutdown(self):
        self.layout_job.cancel()


def model_biases(model) -> dict:
    """Which kinds of rows have a learned bias in ``model`` (the network and content models have none)."""
    return {ITEM_KIND: bool(getattr(model, "item_bias", False)), USER_KIND: bool(getattr(model, "user_bias", False))}


REPLAY_TIP = "Replay the training: drag to see the embedding at an earlier epoch"
REPLAY_NOTHING_KEPT = ("No earlier epochs to replay: snapshots are kept for runs trained in this window, not saved "
                       "with a project")


# The view is fitted to the points again when one leaves it, or when they have shrunk to less than this share of
# its width and of its height: a run's points drift and spread (the first epochs' range held them for a few
# epochs, then showed an empty plot), and a view refitted only then keeps still while they move within it.
SHRUNK_SHARE = 0.25
VIEW_AIR = 0.08  # of the points' span, on each side of a view fitted to them
POINT_ROOM_PX = 3  # between the largest mark at an edge and the edge


def _finite_bounds(xy: np.ndarray):
    """(lowest, highest) of the finite points' coordinates, in float64 (a t-SNE's float32 made pyqtgraph's range
    limits overflow in its comparisons); None without a finite point."""
    finite = xy[np.isfinite(xy).all(axis=1)] if len(xy) else xy
    if not len(finite):
        return None
    return finite.min(axis=0).astype(float), finite.max(axis=0).astype(float)


def _outgrown(bounds, view_range) -> bool:
    """Whether the points of these ``_finite_bounds`` have left the view's (x range, y range), or shrunk to a corner
    of it."""
    if bounds is None:
        return False
    (left, right), (bottom, top) = view_range
    low, high = bounds
    if low[0] < left or high[0] > right or low[1] < bottom or high[1] > top:
        return True
    return (high[0] - low[0] < SHRUNK_SHARE * (right - left)) and (high[1] - low[1] < SHRUNK_SHARE * (top - bottom))


def _same_objects(these, those) -> bool:
    """Whether two tuples hold the very same objects (arrays compare by identity, not by value)."""
    return these is not None and those is not None and len(these) == len(those) and all(
        a is b for a, b in zip(these, those))


