"""UMAP of factor vectors, with progress (umap-learn, an optional extra: ``pip install 'cfexplorer[umap]'``).

umap-learn compiles its functions with numba on first use (tens of seconds), then lays out thousands of
points in seconds. It prints nothing we can read unless asked: its layout optimization draws a tqdm bar,
whose keyword arguments it takes from the caller, so the bar is pointed at a stream here that turns
"epoch n of total" into a share done."""

from __future__ import annotations

import importlib
import importlib.util
import io
import re

import numpy as np

UMAP_MODULE = "umap"
INSTALL_HINT = "pip install 'cfexplorer[umap]'"
NEIGHBOURS = 15  # umap-learn's default n_neighbors
# Shares of the progress: importing (numba compiles on first use), the neighbour graph, then the epochs.
LOADED_SHARE, LAYOUT_SHARE = 0.05, 0.15
EPOCH_RE = re.compile(r"(\d+)/(\d+)")


def umap_available(module: str = UMAP_MODULE) -> bool:
    """Whether ``module`` can be imported, without importing it (numba's start-up costs seconds)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class _EpochStream(io.TextIOBase):
    """A file for tqdm: it writes "\\r12/200" at each redraw (the bar format set below); each new whole
    percent becomes one report."""

    def __init__(self, report):
        super().__init__()
        self.report, self._last = report, -1

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        for line in re.split(r"[\r\n]", text):
            match = EPOCH_RE.search(line)
            if match and int(match.group(2)) > 0:
                done, total = int(match.group(1)), int(match.group(2))
                percent = round(100 * done / total)
                if percent != self._last:
                    self._last = percent
                    self.report(LAYOUT_SHARE + (1 - LAYOUT_SHARE) * done / total, f"epoch {done} of {total}")
        return len(text)

    def flush(self):
        pass


def umap_layout(factors: np.ndarray, seed: int = 0, progress=None, module: str = UMAP_MODULE) -> np.ndarray:
    """2-D UMAP of the rows of ``factors`` with a fixed seed (umap-learn then runs single-threaded and gives
    the same layout every time). ``progress(share, text)``: loading, neighbour graph, each percent of the
    epochs. ``module``: where the UMAP class comes from (tests hand in a small stand-in)."""
    from .embedding import raw_axes

    report = progress if progress is not None else (lambda share, text: None)
    factors = np.asarray(factors, dtype=float)
    n = len(factors)
    if n < 4:
        return raw_axes(factors, 0, 1)
    report(0.0, "loading umap-learn (it compiles itself on first use)")
    umap = importlib.import_module(module)
    report(LOADED_SHARE, "finding each point's neighbours")
    stream = _EpochStream(report)
    # A seed makes umap-learn run on one thread (n_jobs=1 says so, instead of a warning). The bar is drawn at
    # every epoch (a few microseconds each); the stream passes on one report per percent.
    model = umap.UMAP(n_components=2, n_neighbors=min(NEIGHBOURS, n - 1), random_state=seed, n_jobs=1,
                      tqdm_kwds={"disable": progress is None, "file": stream, "bar_format": "{n}/{total}",
                                 "mininterval": 0})
    coordinates = np.asarray(model.fit_transform(factors), dtype=float)
    report(1.0, "done")
    return coordinates
