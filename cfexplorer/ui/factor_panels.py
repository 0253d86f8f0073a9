"""The factor space's side panels and status line: the selection's nearest neighbours, the bias rankings and
the ends of the principal components, and the one-hot lookup. A mixin of
:class:`~cfexplorer.ui.factor_space.FactorSpaceView`, which holds the state it reads."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QHeaderView, QLabel, QSizePolicy, QSpinBox, QTabWidget, QTextBrowser, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from ..core.embedding import ITEM_KIND, KINDS, LAYOUTS, component_ends, nearest_neighbours, one_hot, pca, ranked
from .factor_appearance import KIND_WORDS
from .scrolling import VerticalScrollArea

NO_MODEL_TEXT = "Train a model (or import factors) to see its embeddings."
NO_FACTORS_TEXT = ("This model learned no latent factors: nothing to place here. Its predictions are biases and "
                   "the mean (the Biases tab ranks them).")
NO_SELECTION_TEXT = "Select a point to see its nearest neighbours."


class SidePanelsMixin:
    def _build_side_panels(self) -> QTabWidget:
        """The tabs beside the plot: the selection's neighbours, the bias rankings, the one-hot lookup."""
        self.neighbour_metric = QComboBox()
        self.neighbour_metric.addItems(["cosine", "euclidean"])
        self.neighbour_count = QSpinBox()
        self.neighbour_count.setRange(1, 50)
        self.neighbour_count.setValue(10)
        self.neighbour_min_ratings = QSpinBox()
        self.neighbour_min_ratings.setRange(0, 100_000)
        self.neighbour_min_ratings.setPrefix("with ≥ ")
        self.neighbour_min_ratings.setSuffix(" ratings")
        self.neighbour_min_ratings.setSpecialValueText("any ratings")
        # to its least width where the pane is narrow (a spin box keeps its preferred width: in presentation
        # type that made the page 70 px wider, and the plot beside it that much narrower)
        self.neighbour_min_ratings.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.neighbour_min_ratings.setToolTip("List only neighbours whose factors were trained on at least this many "
                                              "ratings: factors learned from one or two ratings mean little")
        self.neighbour_title = QLabel(NO_SELECTION_TEXT)
        self.neighbour_title.setWordWrap(True)
        self.neighbours = QTreeWidget()
        self.neighbours.setHeaderLabels(["name", "dist.", "n"])  # short: the names need the room
        for column, tip in ((1, "Distance to the selection in the factor space"),
                            (2, "Ratings its factors were trained on")):
            self.neighbours.headerItem().setToolTip(column, tip)
        self.neighbours.setRootIsDecorated(False)
        # four names at least: in a short pane the page scrolls (its list was squeezed to its header alone)
        self.neighbours.setMinimumHeight(self.neighbours.header().sizeHint().height()
                                         + 4 * self.neighbours.fontMetrics().height() + 12)
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
        box.addWidget(self.neighbour_min_ratings)  # "with ≥ 20 ratings": a row of its own keeps the page narrow
        box.addWidget(self.neighbour_title)
        box.addWidget(self.neighbours)
        self.bias_note = QLabel()  # prose, wrapped: "This model learned no movie bias."
        self.bias_note.setWordWrap(True)
        self.bias_note.setMargin(3)
        note_font = self.bias_note.font()
        note_font.setItalic(True)
        self.bias_note.setFont(note_font)
        self.bias_rankings = self._build_bias_rankings()
        self.bias_page = QWidget()
        bias_box = QVBoxLayout(self.bias_page)
        bias_box.setContentsMargins(0, 0, 0, 0)
        bias_box.addWidget(self.bias_note)
        bias_box.addWidget(self.bias_rankings, 1)
        bias_box.addStretch(0)  # the note at the top where no ranking is shown
        self.one_hot_text = QTextBrowser()
        side_tabs = QTabWidget()
        # (its minimum is the neighbours page's: set lower, the page was cut off at its right)
        # scrolls in a short pane: its title wraps into many lines in presentation type
        side_tabs.addTab(VerticalScrollArea(neighbour_page), "Neighbours")
        side_tabs.addTab(self.bias_page, "Biases")
        side_tabs.addTab(self.one_hot_text, "One-hot × W")
        side_tabs.currentChanged.connect(lambda _: self._update_panels())
        self.neighbour_metric.currentIndexChanged.connect(lambda _: self._update_neighbours())
        self.neighbour_count.valueChanged.connect(lambda _: self._update_neighbours())
        self.neighbour_min_ratings.valueChanged.connect(lambda _: self._update_neighbours())
        self.neighbours.itemActivated.connect(self._on_neighbour_activated)
        return side_tabs

    @staticmethod
    def _build_bias_rankings() -> QTreeWidget:
        """The Biases tab: the rankings one under another, each under its title, in the columns of one list. A
        long name stays on its line, shortened (its tooltip has it whole), and the numbers in view: wrapped in
        a narrow pane, "Three Billboards Outside Ebbing, Missouri (2017)" took five lines beside one number."""
        rankings = QTreeWidget()
        rankings.setHeaderLabels(["name", "value", "n"])  # short: the names need the room
        rankings.headerItem().setToolTip(1, "The learned bias; at a principal component's ends, the movie's "
                                            "coordinate on it")
        rankings.headerItem().setToolTip(2, "Number of ratings")
        rankings.setRootIsDecorated(False)
        rankings.setUniformRowHeights(True)
        header = rankings.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        return rankings

    def _update_panels(self):
        """Refresh the side tab in front (a tab brought to front refreshes then) and the status line."""
        page = self.side_tabs.currentWidget()
        if page is self.bias_page:
            self._update_bias_rankings()
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
        if embedding.items.n_factors == 0:
            return NO_FACTORS_TEXT
        parts = [f"{len(embedding.items):,} movies, {len(embedding.users):,} users, "
                 f"{embedding.items.n_factors} factors"]
        parts.append(f"epoch {embedding.epoch}" if embedding.source == "trained here" else f"from {embedding.source}")
        method, note = self._layout_note
        chosen = self.projection.currentData()
        if chosen in LAYOUTS and self._projected_as != chosen and self._training:  # PCA stands in
            parts.append(f"PCA shown: the {LAYOUTS[chosen]} is computed when training stops")
        elif note and method == chosen:  # what the layout shown means stays in view
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
        # the ratings each one's factors learned from: the density filter or the validation share may keep some of
        # the grid's out of training
        counts = self._counts_trained_on(kind, len(table))
        allowed = None if counts is None or least == 0 else np.asarray(counts) >= least
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
        if self.neighbour_metric.currentText() == "cosine" and not np.any(table.factors[chosen].mean(axis=0)):
            self.neighbour_title.setText(f"{subject}: factors all 0 (nothing trained them), no direction, so no "
                                         "nearest by cosine; euclidean measures from the origin.")
            self.neighbour_title.setToolTip("")
            return
        least = self.neighbour_min_ratings.value() if table.counts is not None else 0
        among = f", among those with at least {least} ratings" if least else ""
        # short, above its list in a narrow pane; the tooltip says it in full
        self.neighbour_title.setText(f"Nearest to {subject}")
        self.neighbour_title.setToolTip(f"Nearest {KIND_WORDS[kind][1]} to {subject} in the {table.n_factors}-factor "
                                        f"space ({self.neighbour_metric.currentText()}{among})")
        counts = self._counts_trained_on(kind, len(table))
        for row, distance in rows:
            count = "" if counts is None else str(int(counts[row]))
            item = QTreeWidgetItem([str(table.names[row]), f"{distance:.4f}", count])
            item.setData(0, Qt.ItemDataRole.UserRole, (kind, row))
            self.neighbours.addTopLevelItem(item)

    def _on_neighbour_activated(self, item, column=0):
        kind, row = item.data(0, Qt.ItemDataRole.UserRole)
        self.primary_kind = kind
        self.select({kind: [row]}, center=True)

    def bias_sections(self, n: int = 8) -> list[tuple[str, list[tuple[str, float, int | None]]]]:
        """The Biases tab: (title, [(name, value, ratings)]) for each ranking, the biases' highest and lowest
        then the movies at the ends of two principal components; a title without rows is a note."""
        if self.embedding is None:
            return [("No model yet.", [])]
        sections = []
        for kind in KINDS:
            table = self.embedding.table(kind)
            if not len(table):
                continue
            if not np.any(table.bias):
                sections.append((f"This model learned no {KIND_WORDS[kind][0]} bias.", []))
                continue
            best, worst = ranked(table.bias, n)
            sections.append((f"Highest {KIND_WORDS[kind][0]} bias", _ranking(table, best, table.bias)))
            sections.append((f"Lowest {KIND_WORDS[kind][0]} bias", _ranking(table, worst, table.bias)))
        items = self.embedding.items
        if len(items) >= 4 and items.n_factors >= 1:
            projection = pca(items.factors, 2)  # one SVD serves both components and their ends
            for component in range(min(2, items.n_factors)):
                low, high = component_ends(items.factors, component, min(5, len(items) // 2), projection)
                coordinate = projection.coordinates[:, component]
                sections.append((f"Movies at the + end of PC{component + 1}", _ranking(items, high, coordinate)))
                sections.append((f"Movies at the − end of PC{component + 1}", _ranking(items, low, coordinate)))
        return sections

    def _update_bias_rankings(self):
        """Fill the Biases tab, where the reader had scrolled to (it is filled again at every selection and, while
        training, at every frame shown)."""
        sections = self.bias_sections()
        notes = "\n".join(title for title, rows in sections if not rows)
        self.bias_note.setText(notes)
        self.bias_note.setVisible(bool(notes))
        rankings = self.bias_rankings
        rankings.setVisible(any(rows for _, rows in sections))
        scrolled = rankings.verticalScrollBar().value()
        rankings.clear()
        for title, rows in sections:
            if not rows:
                continue
            heading = QTreeWidgetItem([title])
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled)
            heading.setToolTip(0, title)
            font = heading.font(0)
            font.setBold(True)
            heading.setFont(0, font)
            rankings.addTopLevelItem(heading)
            heading.setFirstColumnSpanned(True)
            for name, value, count in rows:
                item = QTreeWidgetItem([name, f"{value:+.3f}", "" if count is None else str(count)])
                item.setToolTip(0, name)
                for column in (1, 2):
                    item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                rankings.addTopLevelItem(item)
        rankings.verticalScrollBar().setValue(scrolled)

    def _counts_trained_on(self, kind: str, n: int):
        """Each movie's (user's) ratings the shown model trained on: the grid's, or, where the density filter
        kept some out of training, those it kept (made once a run). None where the model's rows are not these."""
        trained_on, table = self._trained_on, self.embedding.table(kind)
        if trained_on is None or (trained_on.n_items if kind == ITEM_KIND else trained_on.n_users) != n:
            return table.counts
        if kind not in self._trained_counts:
            self._trained_counts[kind] = trained_on.item_counts() if kind == ITEM_KIND else trained_on.user_counts()
        return self._trained_counts[kind]

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
        # the course's letters: X holds the movies' vectors, W the users' (the cost's ‖W‖² + ‖X‖²)
        matrix = "X" if kind == ITEM_KIND else "W"
        note = ""
        counts = self._counts_trained_on(kind, n)
        if counts is not None and is_sparse(counts, i):
            count, typical = int(counts[i]), int(np.median(counts))
            in_grid = int(table.counts[i]) if table.counts is not None else count
            # the density filter may have kept some of the grid's ratings out of training
            of_the_grid = f" to train on, of the {in_grid} the grid shows" if in_grid != count else ""
            if count:
                learned = (f"its factors say more about "
                           f"{'the few who rated it' if kind == ITEM_KIND else 'the few movies it rated'} than "
                           "about it")
            else:
                learned = "its factors are what the initialization and λ alone made of them"
            note = (f"<p><i>{name} has {f'only {count}' if count else 'no'} rating{'s' if count != 1 else ''}"
                    f"{of_the_grid} (a typical {KIND_WORDS[kind][0]} here has {typical}): {learned}. Latent "
                    "factors mean little where data is sparse.</i></p>")
        return (f"<p><b>{name}</b> is {KIND_WORDS[kind][0]} {i} of {n}.</p>"
                f"<p>one-hot e<sub>{i}</sub> (length {n}):</p><table><tr>{one_hot_row}</tr></table>"
                f"<p>{matrix} ({n} × {k}{', first 8 columns' if k > 8 else ''}):</p>"
                f"<table cellspacing='0' cellpadding='2'>{matrix_rows}</table>"
                f"<p>e<sub>{i}</sub> · {matrix} = <table><tr>{cells(product[:8])}</tr></table></p>"
                f"<p>= row {i} of {matrix}: <b>{'yes' if equal else 'no'}</b> — the lookup and the product are the "
                f"same numbers; the lookup just skips multiplying by {n - 1} zeros.</p>{note}")


def _ranking(table, rows, values) -> list[tuple[str, float, int | None]]:
    """(name, value, ratings) of these rows of a factor table."""
    return [(str(table.names[r]), float(values[r]), None if table.counts is None else int(table.counts[r]))
            for r in rows]


def is_sparse(counts: np.ndarray, row: int) -> bool:
    """Whether a row has too few ratings for its factors to mean much: under 3, and under a third of what a
    typical row has (in a 5 × 4 classroom matrix every movie has 2 to 4, and none is sparse by comparison)."""
    count = float(counts[row])
    return count < 3 and count <= np.median(counts) / 3

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
