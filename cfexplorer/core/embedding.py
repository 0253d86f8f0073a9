"""What a factorization learned, laid out for inspection: embeddings, biases, projections, neighbours.

An :class:`Embedding` holds, for movies and for users, a name, a factor vector, a bias, a rating
count and a mean rating per row. It is built from a trained model and its ratings, or read from a
file trained elsewhere; the factor-space view shows one and never trains.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field, replace

import numpy as np
from ..lazy import lazy_import

pd = lazy_import("pandas")

ITEM_KIND, USER_KIND = "movie", "user"
KINDS = (ITEM_KIND, USER_KIND)
METRICS = ("cosine", "euclidean")


@dataclass
class EmbeddingTable:
    """One kind of row (movies or users): names, factors (n x k), biases and rating statistics."""

    names: np.ndarray
    factors: np.ndarray
    bias: np.ndarray
    counts: np.ndarray | None = None
    means: np.ndarray | None = None
    genres: np.ndarray | None = None  # one "A|B|C" string per row, where the data has genres

    def __post_init__(self):
        self.names = np.asarray(self.names, dtype=object)
        self.factors = np.atleast_2d(np.asarray(self.factors, dtype=float))
        if self.factors.shape[0] != len(self.names):
            self.factors = self.factors.reshape(len(self.names), -1)
        n = len(self.names)
        self.bias = np.zeros(n) if self.bias is None else np.asarray(self.bias, dtype=float)
        for name in ("bias", "counts", "means", "genres"):
            array = getattr(self, name)
            if array is not None and len(array) != n:
                raise ValueError(f"{name} has {len(array)} entries for {n} names")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def n_factors(self) -> int:
        return self.factors.shape[1]

    def with_learned(self, factors, bias) -> "EmbeddingTable":
        """The same rows (the very same name, count, mean and genre arrays) with other factors and biases."""
        return replace(self, factors=factors, bias=bias)

    def find(self, text: str) -> np.ndarray:
        """Rows whose name contains ``text`` (case-insensitive), exact matches first."""
        needle = text.strip().casefold()
        if not needle:
            return np.array([], dtype=np.int64)
        folded = np.array([str(name).casefold() for name in self.names], dtype=object)
        exact = np.flatnonzero(folded == needle)
        partial = np.flatnonzero([needle in name for name in folded])
        return np.concatenate([exact, np.setdiff1d(partial, exact, assume_unique=True)]).astype(np.int64)


@dataclass
class Embedding:
    """Movies' and users' embeddings from one model at one epoch."""

    items: EmbeddingTable
    users: EmbeddingTable
    epoch: int = 0
    source: str = "trained here"
    extra: dict = field(default_factory=dict)

    def table(self, kind: str) -> EmbeddingTable:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        return self.items if kind == ITEM_KIND else self.users

    @classmethod
    def rows_of(cls, ratings) -> "Embedding":
        """The movies and users of ``ratings`` (names, rating counts, mean ratings, genres), no factors yet."""
        genres = None
        if ratings.item_info is not None and "genres" in ratings.item_info:
            genres = np.asarray(ratings.item_info["genres"].fillna("").astype(str), dtype=object)
        summaries = ratings.summaries()  # made once per ratings (while a large file opens, off the GUI thread)
        items = EmbeddingTable(ratings.item_titles(), np.zeros((ratings.n_items, 0)), None,
                               summaries.item_counts, summaries.item_means, genres)
        users = EmbeddingTable(ratings.user_names(), np.zeros((ratings.n_users, 0)), None,
                               summaries.user_counts, summaries.user_means)
        return cls(items, users)

    @classmethod
    def from_model(cls, predictor, ratings, epoch: int | None = None) -> "Embedding":
        """From a :class:`~cfexplorer.core.mf.Predictor` (or snapshot dict) and the ratings it was trained on."""
        return cls.rows_of(ratings).with_model(predictor, epoch)

    def with_model(self, predictor, epoch: int | None = None) -> "Embedding":
        """These rows with the factors and biases of ``predictor`` (a Predictor or snapshot dict trained
        on the ratings the rows came from).

        Names, counts, means and genres are shared, not rebuilt: training sends several frames a second,
        and views key their caches on those arrays being the same objects."""
        arrays = predictor if isinstance(predictor, dict) else vars(predictor)
        items = self.items.with_learned(arrays["item_factors"], arrays["item_bias"])
        users = self.users.with_learned(arrays["user_factors"], arrays["user_bias"])
        return Embedding(items, users, epoch if epoch is not None else int(arrays.get("epoch", 0)), self.source)


# --- projections -----------------------------------------------------------------------------------------
@dataclass
class PcaResult:
    coordinates: np.ndarray  # n x n_components
    components: np.ndarray  # n_components x k, unit rows
    explained_variance_ratio: np.ndarray
    mean: np.ndarray


def pca(factors: np.ndarray, n_components: int = 2, reference_components: np.ndarray | None = None) -> PcaResult:
    """Principal components of the rows of ``factors``: the eigenvectors of the centred rows' k × k Gram matrix
    (the right singular vectors of the centred matrix; an SVD of all 59,047 rows of MovieLens 25M took 16 ms of
    each live frame, this about 1 ms), by SVD when there are fewer rows than factors.

    A component's sign is arbitrary; with ``reference_components`` (the previous frame's) each sign
    is chosen to agree with it, so that points do not flip across the origin between epochs.
    Components beyond the rank come out as zeros.
    """
    factors = np.asarray(factors, dtype=float)
    n, k = factors.shape
    # Sums by matrix products and no centred copy of the rows: the mean by numpy's reduction and the
    # centring took 2 of a 25M frame's 3.6 ms.
    mean = np.ones(n) @ factors / n if n else np.zeros(k)
    components = np.zeros((n_components, k))
    ratio = np.zeros(n_components)
    if n and k:
        if n >= k:
            scatter = factors.T @ factors - n * np.outer(mean, mean)
            if np.trace(scatter) <= 1e-6 * n * (mean @ mean):  # rows far from the origin, close together:
                centred = factors - mean  # the difference above lost their spread to rounding
                scatter = centred.T @ centred
            variance, vectors = np.linalg.eigh(scatter)
            order = np.argsort(variance)[::-1]
            variance, vt = np.clip(variance[order], 0.0, None), vectors[:, order].T
        else:
            _, singular, vt = np.linalg.svd(factors - mean, full_matrices=False)
            variance = singular**2
        m = min(n_components, len(variance))
        components[:m] = vt[:m]
        total = variance.sum()
        if total > 0:
            ratio[:m] = variance[:m] / total
        # A deterministic sign: the largest loading of each component is positive.
        signs = np.sign(components[np.arange(n_components), np.abs(components).argmax(axis=1)])
        components *= np.where(signs == 0, 1.0, signs)[:, None]
    if reference_components is not None and reference_components.shape == components.shape:
        agree = np.sign(np.sum(components * reference_components, axis=1))
        components *= np.where(agree == 0, 1.0, agree)[:, None]
    return PcaResult(factors @ components.T - mean @ components.T, components, ratio, mean)


def raw_axes(factors: np.ndarray, x: int, y: int) -> np.ndarray:
    """Two factor columns as 2-D coordinates (a column past the end reads as zeros)."""
    factors = np.asarray(factors, dtype=float)
    columns = [factors[:, a] if a < factors.shape[1] else np.zeros(len(factors)) for a in (x, y)]
    return np.column_stack(columns)


# scikit-learn's t-SNE gradient and k-means run on an OpenMP pool, one thread per core by default. Their
# calls are many and short (t-SNE: 1,000 gradient steps), and a pool spins at each barrier for a core
# that other work holds: on 2 cores with other processes busy, t-SNE of 10 points took 2.5 s with the
# pool and 0.15 s on one thread, of 3,000 points 99 s against 26 s. One thread, as for BLAS
# (core/threads.py says why).
OPENMP_THREADS = 1


def _one_openmp_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=OPENMP_THREADS, user_api="openmp")


TSNE_ITERATIONS = 1000  # scikit-learn's default number of iterations (max_iter)
TSNE_SETUP_SHARE = 0.05  # of the progress, for finding neighbours before the first iteration


class _TsneProgress(io.TextIOBase):
    """scikit-learn's verbose t-SNE output, read line by line as it is printed, reported as (share done,
    what it is doing): it prints a line every 50 iterations, and nothing else tells how far it is."""

    def __init__(self, report):
        super().__init__()
        self.report, self._pending = report, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._read(line)
        return len(text)

    def _read(self, line: str):
        iteration = re.match(r"\[t-SNE\] Iteration (\d+)", line)
        if iteration:
            done = min(int(iteration.group(1)), TSNE_ITERATIONS)
            self.report(TSNE_SETUP_SHARE + (1 - TSNE_SETUP_SHARE) * done / TSNE_ITERATIONS,
                        f"iteration {done} of at most {TSNE_ITERATIONS}")
        elif line.startswith("[t-SNE] Computing"):
            self.report(0.0, "finding each point's neighbours")


def tsne(factors: np.ndarray, seed: int = 0, perplexity: float = 30.0, progress=None) -> np.ndarray:
    """2-D t-SNE (scikit-learn). Perplexity is lowered for small sets, which t-SNE requires.

    ``progress(share, text)``, when given, is called as the optimization goes (every 50 iterations)."""
    from sklearn.manifold import TSNE

    factors = np.asarray(factors, dtype=float)
    n = len(factors)
    if n < 3:
        return raw_axes(factors, 0, 1)
    perplexity = min(perplexity, (n - 1) / 3.0)
    init = "pca" if factors.shape[1] >= 2 else "random"
    model = TSNE(n_components=2, perplexity=perplexity, init=init, random_state=seed, learning_rate="auto",
                 verbose=2 if progress is not None else 0)
    with _one_openmp_thread():
        if progress is None:
            return model.fit_transform(factors)
        with contextlib.redirect_stdout(_TsneProgress(progress)):
            coordinates = model.fit_transform(factors)
    progress(1.0, "done")
    return coordinates


def kmeans_labels(factors: np.ndarray, k: int, seed: int = 0, start: np.ndarray | None = None) -> np.ndarray:
    """Cluster of each row by k-means (scikit-learn); k is capped at the number of distinct rows.

    ``start``: labels of the same rows from before (the previous epoch). Where they name k clusters,
    none of them empty, k-means starts once from those clusters' centres in ``factors`` instead of
    searching four times from scratch: about eight times faster, and cluster c stays cluster c."""
    from sklearn.cluster import KMeans

    factors = np.asarray(factors, dtype=float)
    distinct = len(np.unique(factors, axis=0)) if len(factors) else 0
    k = max(1, min(int(k), distinct))
    if distinct <= 1:
        return np.zeros(len(factors), dtype=np.int64)
    if start is not None and len(start) == len(factors):
        sizes = np.bincount(start, minlength=k)
        if len(sizes) == k and np.all(sizes > 0):
            centres = np.zeros((k, factors.shape[1]))
            np.add.at(centres, start, factors)
            centres /= sizes[:, None]
            if len(np.unique(centres, axis=0)) == k:  # scikit-learn needs k distinct starting centres
                with _one_openmp_thread():
                    return KMeans(n_clusters=k, init=centres, n_init=1).fit_predict(factors).astype(np.int64)
    with _one_openmp_thread():
        return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(factors).astype(np.int64)


# --- neighbours and rankings ------------------------------------------------------------------------------
def distances_to(factors: np.ndarray, query: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """Distance of every row of ``factors`` to ``query``: cosine distance 1 - cos, or Euclidean."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}")
    factors = np.asarray(factors, dtype=float)
    query = np.asarray(query, dtype=float)
    if metric == "euclidean":
        return np.sqrt(np.maximum(np.sum((factors - query) ** 2, axis=1), 0.0))
    norms = np.linalg.norm(factors, axis=1) * np.linalg.norm(query)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0, factors @ query / np.where(norms > 0, norms, 1.0), 0.0)
    return 1.0 - cosine


def nearest_neighbours(factors: np.ndarray, selection, n: int = 10, metric: str = "cosine", allowed=None):
    """The ``n`` rows nearest to the selection (to its mean vector when several are selected),
    leaving out the selection itself and rows where the boolean mask ``allowed`` is False (too few ratings):
    (indices, distances), nearest first; ties by index. A vector of zeros has no direction: under the cosine
    it has no neighbours, and is no one's (every one was "1.0000" away, listed in index order)."""
    selection = np.atleast_1d(np.asarray(selection, dtype=np.int64))
    if selection.size == 0:
        return np.array([], dtype=np.int64), np.array([])
    factors = np.asarray(factors, dtype=float)
    query = factors[selection].mean(axis=0)
    if metric == "cosine" and not np.any(query):
        return np.array([], dtype=np.int64), np.array([])
    distance = distances_to(factors, query, metric)
    candidates = np.setdiff1d(np.arange(len(factors)), selection)
    if allowed is not None:
        candidates = candidates[np.asarray(allowed, dtype=bool)[candidates]]
    if metric == "cosine":
        candidates = candidates[np.any(factors[candidates] != 0, axis=1)]
    order = candidates[np.lexsort((candidates, distance[candidates]))][:n]
    return order, distance[order]


def ranked(values: np.ndarray, n: int = 10):
    """(highest n, lowest n) indices of ``values``, ties by index: fast.ai's best and worst biases."""
    values = np.asarray(values, dtype=float)
    index = np.arange(len(values))
    highest = np.lexsort((index, -values))[:n]
    lowest = np.lexsort((index, values))[:n]
    return highest, lowest


def component_ends(factors: np.ndarray, component: int = 0, n: int = 5, projection: PcaResult | None = None):
    """Rows at the two ends of a principal component: (most negative n, most positive n).

    ``projection``: the PCA of ``factors`` when the caller has it already (it is the costly part)."""
    if projection is None or projection.coordinates.shape[1] <= component:
        projection = pca(factors, component + 1)
    coordinates = projection.coordinates[:, component]
    top, bottom = ranked(coordinates, n)
    return bottom, top


def one_hot(n: int, index: int) -> np.ndarray:
    vector = np.zeros(n)
    vector[index] = 1.0
    return vector


# --- files ----------------------------------------------------------------------------------------------
def to_frame(embedding: Embedding) -> pd.DataFrame:
    """One row per movie and user: kind, name, bias, count, mean, f1..fk (for CSV export)."""
    frames = []
    for kind in KINDS:
        table = embedding.table(kind)
        frame = pd.DataFrame({"kind": kind, "name": table.names, "bias": table.bias})
        if table.counts is not None:
            frame["count"] = table.counts
        if table.means is not None:
            frame["mean"] = table.means
        for column in range(table.n_factors):
            frame[f"f{column + 1}"] = table.factors[:, column]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def from_frame(frame: pd.DataFrame, source: str = "imported") -> Embedding:
    """Inverse of :func:`to_frame`. Needs ``name`` and factor columns ``f1``..; ``kind`` (movie/user)
    defaults to movie; ``bias``, ``count`` and ``mean`` are optional."""
    columns = {str(c).strip().lower(): c for c in frame.columns}
    if "name" not in columns:
        raise ValueError("a factor file needs a 'name' column")
    factor_columns = sorted((c for c in columns if c.startswith("f") and c[1:].isdigit()), key=lambda c: int(c[1:]))
    if not factor_columns:
        raise ValueError("a factor file needs factor columns f1, f2, ...")
    kinds = (frame[columns["kind"]].astype(str).str.strip().str.lower() if "kind" in columns
             else pd.Series(ITEM_KIND, index=frame.index))
    unknown = sorted(set(kinds) - {ITEM_KIND, USER_KIND, "item", "movies", "users"})
    if unknown:
        raise ValueError(f"unknown kind {unknown[0]!r}: use 'movie' or 'user'")
    kinds = kinds.replace({"item": ITEM_KIND, "movies": ITEM_KIND, "users": USER_KIND})
    tables = {}
    for kind in KINDS:
        part = frame[(kinds == kind).to_numpy()]
        values = part[[columns[c] for c in factor_columns]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        if not np.isfinite(values).all():
            raise ValueError(f"a {kind} factor is not a number")

        def optional(name, part=part):
            return pd.to_numeric(part[columns[name]], errors="coerce").to_numpy(float) if name in columns else None

        bias = optional("bias")
        tables[kind] = EmbeddingTable(part[columns["name"]].astype(str).to_numpy(object),
                                      values.reshape(len(part), len(factor_columns)),
                                      np.zeros(len(part)) if bias is None else np.nan_to_num(bias),
                                      optional("count"), optional("mean"))
    return Embedding(tables[ITEM_KIND], tables[USER_KIND], source=source)


LAYOUTS = {"tsne": "t-SNE", "umap": "UMAP"}  # projections computed in a child process, by key


def layout_to_connection(connection, method: str, factors: np.ndarray, seed: int = 0,
                         umap_module: str = "umap") -> None:
    """Run t-SNE or UMAP (``method``, a key of LAYOUTS) and send ("progress", (share, text)) as it goes, then
    ("done", coordinates) or ("error", message) down a pipe.

    The factor view runs this in a separate process, so that Cancel can end it at once."""
    name = LAYOUTS.get(method, method)
    try:
        report = lambda share, text: connection.send(("progress", (share, text)))  # noqa: E731
        if method == "umap":
            from .umap_layout import umap_layout

            coordinates = umap_layout(factors, seed, progress=report, module=umap_module)
        elif method == "tsne":
            coordinates = tsne(factors, seed, progress=report)
        else:
            raise ValueError(f"no such layout: {method}")
        connection.send(("done", coordinates))
    except Exception as error:  # the message must reach the window, whatever went wrong
        connection.send(("error", f"{name} failed: {error}"))
    finally:
        connection.close()
