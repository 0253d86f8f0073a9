"""The pieces of a Gibbs sampler for matrix factorization that do not depend on the ratings: the
conjugate draws (Wishart, Gaussian-Wishart, the noise precision's Gamma) and what a chain keeps of its
samples in bounded memory (a running low-rank sum, samples kept evenly through the chain). Used by
:mod:`cfexplorer.core.bayes`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BETA_0 = 2.0  # Gaussian-Wishart prior: how many rows' worth of belief that mu is 0
NOISE_SHAPE_0 = NOISE_RATE_0 = 1.0  # Gamma prior of the noise precision alpha


# --- the conjugate draws ------------------------------------------------------------------------------------
def sample_wishart(generator: np.random.Generator, scale: np.ndarray, dof: float) -> np.ndarray:
    """A draw from the Wishart distribution W(scale, dof), whose mean is dof * scale (Bartlett's
    decomposition: scale = L L^T, draw = L A A^T L^T with A lower triangular, chi-distributed diagonal)."""
    d = len(scale)
    bartlett = np.tril(generator.standard_normal((d, d)), -1)
    bartlett[np.diag_indices(d)] = np.sqrt(generator.chisquare(dof - np.arange(d)))
    factor = np.linalg.cholesky(scale) @ bartlett
    return factor @ factor.T


@dataclass(frozen=True)
class GaussianWishart:
    """A Gaussian-Wishart distribution of (mu, Lambda): Lambda ~ W(scale, dof), mu | Lambda ~ N(centre,
    (beta Lambda)^-1). :meth:`posterior` gives the one of (mu, Lambda) given rows drawn from N(mu, Lambda^-1)."""

    centre: np.ndarray
    beta: float
    scale: np.ndarray
    dof: float

    @classmethod
    def prior(cls, d: int) -> "GaussianWishart":
        return cls(np.zeros(d), BETA_0, np.eye(d), float(d))

    def posterior(self, rows: np.ndarray) -> "GaussianWishart":
        n = len(rows)
        if n == 0:
            return self
        mean = rows.mean(axis=0)
        centred = rows - mean
        beta = self.beta + n
        gap = mean - self.centre
        scale_inverse = np.linalg.inv(self.scale) + centred.T @ centred + (self.beta * n / beta) * np.outer(gap, gap)
        scale = np.linalg.inv(scale_inverse)
        return GaussianWishart((self.beta * self.centre + n * mean) / beta, beta, 0.5 * (scale + scale.T),
                               self.dof + n)

    def sample(self, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(mu, Lambda)."""
        precision = sample_wishart(generator, self.scale, self.dof)
        root = np.linalg.cholesky(self.beta * precision)
        return self.centre + np.linalg.solve(root.T, generator.standard_normal(len(self.centre))), precision


def noise_precision_posterior(squared_residuals: float, n_ratings: int) -> tuple[float, float]:
    """(shape, rate) of the Gamma posterior of alpha given n ratings whose residuals square to this sum."""
    return NOISE_SHAPE_0 + 0.5 * n_ratings, NOISE_RATE_0 + 0.5 * squared_residuals


# --- what the chain keeps -------------------------------------------------------------------------------------
class LowRankSum:
    """A sum of products L_s R_s^T held as one product ``left @ right.T`` of at most ``max_rank`` columns
    (and those added since the last compression). Compressing keeps the largest singular directions of the
    sum: nothing is lost while it has no more than ``max_rank`` of them.

    ``left`` and ``right`` are views of buffers whose columns are only ever appended to: an earlier view (a
    predictor's) never changes; compressing starts new buffers."""

    def __init__(self, max_rank: int, slack: int):
        self.max_rank, self.slack = max_rank, slack
        self._buffers, self.columns = None, 0

    @property
    def left(self) -> np.ndarray:
        return self._buffers[0][:, :self.columns]

    @property
    def right(self) -> np.ndarray:
        return self._buffers[1][:, :self.columns]

    def add(self, left: np.ndarray, right: np.ndarray):
        width = left.shape[1]
        if self._buffers is None or self.columns + width > self._buffers[0].shape[1]:
            self._restart(self.left if self._buffers else left[:, :0], self.right if self._buffers else right[:, :0],
                          width)
        begin, self.columns = self.columns, self.columns + width
        self._buffers[0][:, begin:self.columns] = left
        self._buffers[1][:, begin:self.columns] = right
        if self.columns > self.max_rank + self.slack:
            self.compress()

    def _restart(self, left, right, width: int):
        """New buffers holding ``left`` and ``right``, with room for the slack and one more addition."""
        room = max(self.max_rank, left.shape[1]) + self.slack + width
        self._buffers = (np.empty((len(left), room)), np.empty((len(right), room)))
        self.columns = left.shape[1]
        self._buffers[0][:, :self.columns] = left
        self._buffers[1][:, :self.columns] = right

    def compress(self):
        """Keep the ``max_rank`` largest singular directions of left @ right.T, found from the eigenvectors
        of both sides' Gram matrices (matrix products: a tenth of the time of QR factorizations)."""
        to_left, t_left = _orthonormal_basis(self.left)
        to_right, t_right = _orthonormal_basis(self.right)
        u, singular, vt = np.linalg.svd(t_left @ t_right.T)
        keep = int(np.sum(singular > singular[0] * 1e-12)) if singular.size and singular[0] > 0 else 0
        keep = min(keep, self.max_rank)
        self._restart(self.left @ (to_left @ (u[:, :keep] * singular[:keep])), self.right @ (to_right @ vt[:keep].T), 0)


def _orthonormal_basis(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(C, T) such that Q = a C has orthonormal columns and a = Q T, leaving out directions below 1e-7 of the
    largest singular value (the square root of the resolution of the Gram matrix's eigenvalues)."""
    values, vectors = np.linalg.eigh(a.T @ a)
    kept = values > values[-1] * 1e-14 if values.size and values[-1] > 0 else np.zeros(len(values), dtype=bool)
    root = np.sqrt(values[kept])
    return vectors[:, kept] / root, root[:, None] * vectors[:, kept].T


class KeptSamples:
    """Up to ``capacity`` of the samples offered, spread evenly over all of them: every one at first; when
    full, every other one is let go and from then on only every other offer is kept (the stride doubles)."""

    def __init__(self, capacity: int):
        self.capacity, self.stride, self.offered = capacity, 1, 0
        self.samples: list = []

    def offer(self, sample):
        index, self.offered = self.offered, self.offered + 1
        if index % self.stride:
            return
        self.samples.append(sample)
        if len(self.samples) > self.capacity:
            self.samples = self.samples[::2]
            self.stride *= 2
