"""A stand-in for umap-learn's ``umap`` module, for the factor space's child process: the real one compiles
itself with numba on first use (tens of seconds) and is an optional extra CI does not install.

It takes what the app hands umap.UMAP, draws the same tqdm bar umap does (to ``tqdm_kwds["file"]``, in the
bar format given) and returns the first two factors times SCALE, so a test can tell its layout from PCA's.
FAKE_UMAP_EPOCH_S in the environment (inherited by the child) slows each epoch, for Cancel."""

import os
import time

import numpy as np

SCALE = 10.0
EPOCHS = 200


class UMAP:
    def __init__(self, n_components=2, n_neighbors=15, random_state=None, tqdm_kwds=None, **_):
        self.n_components, self.n_neighbors, self.random_state = n_components, n_neighbors, random_state
        self.tqdm_kwds = tqdm_kwds or {}

    def fit_transform(self, data):
        data = np.asarray(data, dtype=float)
        assert self.n_components == 2 and self.random_state == 0 and 2 <= self.n_neighbors < len(data)
        pause = float(os.environ.get("FAKE_UMAP_EPOCH_S", "0"))
        stream = None if self.tqdm_kwds.get("disable", True) else self.tqdm_kwds["file"]
        bar = self.tqdm_kwds.get("bar_format", "{n}/{total}")
        for epoch in range(EPOCHS + 1):
            if stream is not None:
                stream.write("\r" + bar.format(n=epoch, total=EPOCHS))
            if pause:
                time.sleep(pause)
        if stream is not None:
            stream.write("\n")
        return data[:, :2] * SCALE
