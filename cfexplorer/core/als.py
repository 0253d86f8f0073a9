"""Alternating least squares, one half-step at a time: every row's ridge regression solved together.

A half-step fixes one side (say the movies' design rows x_c = [x_c, 1]) and gives every row r of the
other side (a user) the v that minimizes

    1/2 sum_c (x_c . v - t_rc)^2 + 1/2 v^T D v,      D = diag(reg, ..., reg, bias_reg) + 1e-9

over the columns c that row has ratings for (the 1e-9 keeps a row with fewer ratings than factors
solvable at reg = 0). Rows without ratings get v = 0. Two forms of the same solution, each where it
costs least:

* primal, for rows with at least d ratings: (X^T X + D) v = X^T t. The Gram matrices, with the
  right-hand side as their last column, come from BLAS, one matrix product per group of rows whose
  counts round up to the same size (the gap filled with zero rows, at most a tenth more work); LAPACK
  factors them (Cholesky) and the back substitution runs across all rows of a block at once.
* dual, for rows with fewer ratings than d (the long tail of rarely rated movies): v = D^-1 X^T a with
  (X D^-1 X^T + I) a = t, an n x n system for a row's n ratings instead of d x d, solved by Gaussian
  elimination vectorized across every row of a group (rows with n ratings, padded like the primal
  groups). Its residual X v - t is -a.

Both give the solutions of the per-row np.linalg.solve this replaced to 1e-8 (tests/core/test_als.py).

Where the install compiled core/_kernels.c (``kernels.compiled``), a half-step without sampling is one call
of its ``als_half_step``: the same two forms, each row's Gram matrix in register tiles from its gathered
design rows, no padded groups and the GIL released throughout (about half the time of the numpy form). Four
rows' systems are factored and solved at once, one in each lane of a vector (rows of one count for the dual
form). Design rows too many for the cache are read a cache-sized chunk at a time for a panel of rows
together, so that an epoch's time grows with the ratings, not faster (benchmarks/bench_linear.py). The
groups below are the numpy form's arrangement, made when first needed (sampling, or no kernel).

The same systems serve Gibbs sampling (core/bayes.py): asked for ``noise`` (a generator and sigma), a
half-step draws every row's v from its Gaussian conditional N(A^-1 X^T t, sigma^2 A^-1), A = X^T X + D,
instead of returning the mean. In the primal form the Cholesky factor A = L L^T is at hand: v = L^-T
(L^-1 X^T t + sigma z) with z standard normal. The dual form has no d x d factor, so it perturbs the
problem instead: the ridge solution for targets t + sigma e and a prior centred at eta ~ N(0, sigma^2
D^-1) is an exact draw from the same conditional (Papandreou and Yuille's perturb-and-MAP, exact for
Gaussians). A row without ratings is drawn from N(0, sigma^2 D^-1). The regularization ``reg_diag`` can
change from one half-step to the next (a sampler's precisions do); the grouping does not depend on it.

While solving the last half-step of an epoch the residuals of every rating are at hand, so the data
term (1/2 sum of squared residuals) and the training RMSE/MAE of the clipped predictions come out of
the epoch itself instead of a second pass over the ratings (:class:`HalfStepFit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from .sorting import arrange_by_row

# A row's ratings padded up to the next of these sizes: at most 10% more work than the ratings need,
# in few enough groups that Python's share of an epoch stays small (on MovieLens latest-small 1.1 was
# 25% faster than 1.25 and 2% faster than exact counts). Dual groups cost Python 5 calls per rating of
# their size, so they merge more (1.3: 3% faster than exact counts).
_GROWTH = 1.1
_DUAL_GROWTH = 1.3
# Design rows gathered at once (slots x (d + 1)) and normal matrices ((d + 1)^2 a row) of one block, in
# float64 values: bounds the temporaries of a half-step (about 16 MB each).
_BLOCK_VALUES = 2**21
# The dual form divides by D: with a regularization this small the primal form is the better conditioned.
_DUAL_MIN_REG = 1e-3
# Rows of one count solved in the dual form together, at least: each such group costs Python some
# 20 + 5n numpy calls, more than a few rows gain.
_DUAL_MIN_ROWS = 16
RIDGE = 1e-9


@dataclass
class HalfStepFit:
    """Sums over the ratings of a half-step, at its solution: squared residuals (twice the data term),
    squared and absolute errors of the predictions clipped to the rating scale, and their count."""

    squared_residuals: float = 0.0
    squared_errors: float = 0.0
    absolute_errors: float = 0.0
    count: int = 0

    def add(self, residuals: np.ndarray, y: np.ndarray, clip: tuple[float, float]):
        """Count these residuals (prediction - rating, unclipped) of ratings ``y``."""
        errors = np.clip(y + residuals, *clip)
        errors -= y
        self.squared_residuals += float(residuals @ residuals)
        self.squared_errors += float(errors @ errors)
        self.absolute_errors += float(np.abs(errors).sum())
        self.count += len(y)

    @property
    def data_term(self) -> float:
        return 0.5 * self.squared_residuals

    def report(self) -> dict:
        """The training metrics of :func:`cfexplorer.core.metrics.regression_report`."""
        if not self.count:
            return {"rmse": float("nan"), "mae": float("nan")}
        return {"rmse": float(np.sqrt(self.squared_errors / self.count)),
                "mae": float(self.absolute_errors / self.count)}


@dataclass
class _Group:
    """Rows solved together: ``columns[i, s]`` is the s-th column row ``rows[i]`` rated (the sentinel
    column, a zero design row, in padding), ``values`` its rating minus the row's fixed offset."""

    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    real: np.ndarray | None = None  # False in padded slots; None without padding


class RowSystems:
    """One side of the ratings arranged for its half-steps, built once per fit.

    ``rows``, ``columns`` and ``y`` give each rating; ``row_offset`` is a fixed part of every score
    that depends on the row alone (subtracted from the targets, added back for the metrics)."""

    def __init__(self, rows: np.ndarray, columns: np.ndarray, y: np.ndarray, n_rows: int, n_columns: int,
                 reg_diag: np.ndarray, row_offset: np.ndarray | None = None):
        self.n_rows, self.n_columns = n_rows, n_columns
        self.reg_diag = np.asarray(reg_diag, dtype=float)
        self.size = len(self.reg_diag)
        self.row_offset = row_offset
        # By row, then by column: each row's design rows are then gathered in memory order (and the compiled
        # kernel reads them a chunk of columns at a time).
        self._indptr, self._columns, self._values = arrange_by_row(rows, columns, y, n_rows, n_columns, row_offset)
        self._counts = counts = np.diff(self._indptr)
        self.rows_without_ratings = np.flatnonzero(counts == 0)
        self._grouped = None  # (dual groups, primal blocks): the numpy form's arrangement, made when first used

    @property
    def dual_groups(self) -> list[_Group]:
        return self._arranged()[0]

    @property
    def primal_blocks(self) -> list[list[_Group]]:
        return self._arranged()[1]

    @property
    def compiled(self) -> bool:
        """Whether a plain half-step (no sampling, no residuals written out) runs in the compiled kernel."""
        return self._compiled_solves(None, None)

    def _compiled_solves(self, noise, residuals_out) -> bool:
        """Whether a half-step runs in the compiled kernel: it has no sampling and writes no residuals out
        (Gibbs sampling, core/bayes.py, keeps the numpy form)."""
        return (kernels.compiled is not None and noise is None and residuals_out is None and self.size > 0
                and self._columns.dtype == np.int32)

    def _arranged(self) -> tuple[list[_Group], list[list[_Group]]]:
        """The rows in groups of (nearly) equal counts, for the numpy form of a half-step."""
        if self._grouped is not None:
            return self._grouped
        d, n_rows, counts = self.size, self.n_rows, self._counts
        starts = self._indptr[:-1]
        dual_groups: list[_Group] = []
        primal_blocks: list[list[_Group]] = []
        self._grouped = dual_groups, primal_blocks
        if d == 0:
            return self._grouped
        use_dual = _dual_form_applies(self.reg_diag)
        by_count = np.argsort(counts, kind="stable")
        by_count = by_count[counts[by_count] > 0]
        if use_dual:
            small = by_count[counts[by_count] < d]
            dual = np.zeros(n_rows, dtype=bool)
            dual_sizes = np.minimum(_padded_sizes(counts[small], 1, _DUAL_GROWTH), d - 1)  # never past d
            for n in np.unique(dual_sizes):
                rows_n = small[dual_sizes == n]
                if len(rows_n) < _DUAL_MIN_ROWS:
                    continue  # a few rows: cheaper padded into the primal form's first group
                dual[rows_n] = True
                for part in _split(rows_n, max(1, _BLOCK_VALUES // (int(n) * (d + 1)))):
                    dual_groups.append(self._group(part, int(n), starts))
            by_count = by_count[~dual[by_count]]
        block, block_values = [], 0
        sizes = _padded_sizes(counts[by_count], d if use_dual else 1)
        for size in np.unique(sizes):
            rows_s = by_count[sizes == size]
            per_row = (int(size) + d + 1) * (d + 1)  # gathered slots and the normal matrix
            for part in _split(rows_s, max(1, _BLOCK_VALUES // per_row)):
                if block and block_values + len(part) * per_row > _BLOCK_VALUES:
                    primal_blocks.append(block)
                    block, block_values = [], 0
                block.append(self._group(part, int(size), starts))
                block_values += len(part) * per_row
        if block:
            primal_blocks.append(block)
        return self._grouped

    def _group(self, rows, size, starts) -> _Group:
        slot = np.arange(size)
        real = slot[None, :] < self._counts[rows][:, None]
        position = np.where(real, starts[rows][:, None] + slot[None, :], 0)
        columns = np.where(real, self._columns[position], self.n_columns).astype(self._columns.dtype)
        values = np.where(real, self._values[position], 0.0)
        return _Group(rows, columns, values, None if real.all() else real)

    # --- the half-step -------------------------------------------------------------------------------
    def solve(self, design: np.ndarray, column_offset: np.ndarray, clip: tuple[float, float] | None = None,
              reg_diag: np.ndarray | None = None, noise: tuple[np.random.Generator, float] | None = None,
              residuals_out: np.ndarray | None = None):
        """Every row's v for the columns' ``design`` rows (n_columns x d), with targets
        t = rating - row offset - column_offset[column]. With ``clip`` = (low, high) also the
        :class:`HalfStepFit` at the solution (else None), and, into ``residuals_out`` when given, every
        rating's residual (prediction - rating) in the order of :meth:`ratings_in_solve_order`.
        ``reg_diag`` replaces D's diagonal for this half-step; ``noise`` = (generator, sigma) draws each v
        from its conditional (module docstring)."""
        d = self.size
        reg = self.reg_diag if reg_diag is None else np.asarray(reg_diag, dtype=float)
        if reg.shape != (d,):
            raise ValueError(f"reg_diag has {reg.shape} entries for systems of size {d}")
        solution = np.zeros((self.n_rows, d))
        if d == 0:
            return solution, HalfStepFit() if clip is not None else None
        if self._compiled_solves(noise, residuals_out):
            return solution, self._solve_compiled(design, column_offset, reg, clip, solution)
        residuals = _Residuals(self.ratings_in_solve_order(), clip, residuals_out) if clip is not None else None
        # One zero row at index n_columns: what padded slots gather.
        extended = np.zeros((self.n_columns + 1, d + 1))
        extended[:-1, :d] = design
        extended[:-1, d] = column_offset
        root_scale = 1.0 / np.sqrt(reg + RIDGE)
        for group in self.dual_groups:
            self._solve_dual(group, extended, root_scale, solution, residuals, noise)
        for block in self.primal_blocks:
            self._solve_primal(block, extended, reg, solution, residuals, noise)
        if noise is not None and len(self.rows_without_ratings):
            generator, sigma = noise
            solution[self.rows_without_ratings] = (
                sigma * root_scale * generator.standard_normal((len(self.rows_without_ratings), d)))
        return solution, residuals.total() if residuals is not None else None

    def solve_into(self, factors: np.ndarray, column_offset: np.ndarray, factors_out: np.ndarray,
                   bias_out: np.ndarray | None = None, clip: tuple[float, float] | None = None) -> HalfStepFit | None:
        """:meth:`solve` for the design rows [factors, 1] (with ``bias_out``) or ``factors``, each row's v
        written into ``factors_out`` and, with ``bias_out``, its last unknown into that: a model's own arrays.
        Compiled, neither the design nor the solution is made in between (with their copies, a tenth of a
        latest-small ALS epoch). Returns the fit as :meth:`solve` does."""
        k = factors.shape[1]
        if self.size != k + (bias_out is not None):
            with_or_without = "and" if bias_out is not None else "without"
            raise ValueError(f"systems of size {self.size} for {k} factors {with_or_without} a bias")
        outputs = (factors_out,) if bias_out is None else (factors_out, bias_out)
        if self._compiled_solves(None, None) and all(
                a.dtype == np.float64 and a.flags.c_contiguous and a.flags.writeable for a in outputs):
            return self._solve_compiled(factors, column_offset, self.reg_diag, clip, factors_out, bias_out)
        design = np.hstack([factors, np.ones((len(factors), 1))]) if bias_out is not None else factors
        solution, fit = self.solve(design, column_offset, clip)
        factors_out[:] = solution[:, :k]
        if bias_out is not None:
            bias_out[:] = solution[:, k]
        return fit

    def _solve_compiled(self, design, column_offset, reg, clip, solution, bias=None) -> HalfStepFit | None:
        """The half-step in core/_kernels.c: every row's system built and solved, and, asked for the fit, its
        residuals summed. With ``bias``, ``design`` and ``solution`` leave out the last column (the kernel's
        docstring)."""
        offsets = self.row_offset if self.row_offset is not None else np.zeros(0)
        low, high = clip if clip is not None else (-np.inf, np.inf)
        sums = kernels.compiled.als_half_step(
            np.ascontiguousarray(design, dtype=float), np.ascontiguousarray(column_offset, dtype=float), self._indptr,
            self._columns, self._values, np.ascontiguousarray(offsets, dtype=float), np.ascontiguousarray(reg),
            _dual_form_applies(reg), solution, float(low), float(high), clip is not None, 0, bias)
        if clip is None:
            return None
        return HalfStepFit(*sums, count=len(self._values))

    def _groups_in_solve_order(self):
        yield from self.dual_groups
        for block in self.primal_blocks:
            yield from block

    def ratings_in_solve_order(self) -> np.ndarray:
        """The ratings of the real slots, in the order :meth:`solve` lists their residuals (made once)."""
        if getattr(self, "_ratings", None) is None:
            parts = []
            for group in self._groups_in_solve_order():
                y = group.values if self.row_offset is None else group.values + self.row_offset[group.rows][:, None]
                parts.append(y.ravel() if group.real is None else y[group.real])
            self._ratings = np.concatenate(parts) if parts else np.zeros(0)
        return self._ratings

    def _solve_dual(self, group: _Group, extended, root_scale, solution, residuals: list | None, noise=None):
        d, n = self.size, group.columns.shape[1]
        x = extended.take(group.columns, axis=0)  # (m, n, d + 1): design rows, then the column offset
        targets = group.values - x[..., d]
        scaled = x[..., :d] * root_scale  # X D^-1/2
        if noise is not None:
            # Perturb-and-MAP: targets t + sigma e, the prior's centre eta = sigma D^-1/2 zeta; solved for
            # w = v - eta, whose targets are t + sigma e - X eta.
            generator, sigma = noise
            target_noise = sigma * generator.standard_normal(targets.shape)
            if group.real is not None:
                target_noise[~group.real] = 0.0
            centre = sigma * generator.standard_normal((len(group.rows), d))  # D^1/2 eta
            targets = targets + target_noise - np.einsum("mnd,md->mn", scaled, centre)
        if n == 1:
            dual = targets / (1.0 + np.einsum("mnd,mnd->mn", scaled, scaled))
        else:
            # [X D^-1 X^T + I | t] of every row, laid out (n, n + 1, m) for elimination across rows.
            system = np.empty((n, n + 1, len(group.rows)))
            system[:, :n] = np.matmul(scaled, scaled.copy().transpose(0, 2, 1)).transpose(1, 2, 0)
            system[np.arange(n), np.arange(n)] += 1.0
            system[:, n] = targets.T
            dual = _eliminate(system).T
        v_scaled = np.einsum("mnd,mn->md", scaled, dual)
        if noise is not None:
            v_scaled += centre
        solution[group.rows] = v_scaled * root_scale
        if residuals is not None:
            # X v - t: -a, plus the targets' own perturbation when sampling.
            residuals.append(_real(-dual if noise is None else target_noise - dual, group))

    def _solve_primal(self, block: list[_Group], extended, reg, solution, residuals: list | None, noise=None):
        d = self.size
        # Each row's [X | t]^T [X | t] = [[X^T X, X^T t], [t^T X, t^T t]]: the normal equations and
        # their right-hand side from one matrix product per group.
        augmented = np.empty((sum(len(group.rows) for group in block), d + 1, d + 1))
        gathered, begin = [], 0
        for group in block:
            x = extended.take(group.columns, axis=0)  # (m, size, d + 1): design rows, then the target
            np.subtract(group.values, x[..., d], out=x[..., d])
            end = begin + len(group.rows)
            # x^T x on one array goes to BLAS's syrk; against a copy, to gemm's small-matrix kernels, 3-4
            # times faster for rows of 12-32 ratings here (from 64 on, the copy costs what it saves).
            np.matmul((x.copy() if x.shape[1] < 64 else x).transpose(0, 2, 1), x, out=augmented[begin:end])
            gathered.append(x)
            begin = end
        augmented[:, np.arange(d), np.arange(d)] += reg + RIDGE
        v = _solve_augmented(augmented, noise)
        begin = 0
        for group, x in zip(block, gathered):
            end = begin + len(group.rows)
            solution[group.rows] = v[begin:end]
            if residuals is not None:
                # x . [v, -1] = x . v - t: the residual of every slot.
                with_target = np.concatenate([v[begin:end], -np.ones((end - begin, 1))], axis=1)
                residuals.append(_real(np.matmul(x, with_target[:, :, None])[..., 0], group))
            begin = end


class _Residuals:
    """The residuals of a half-step as its groups produce them (in solve order), summed into a
    :class:`HalfStepFit` a million at a time: few numpy calls on small data, no array of them all
    on large data."""

    def __init__(self, ratings: np.ndarray, clip: tuple[float, float], out: np.ndarray | None = None):
        self.ratings, self.clip, self.out = ratings, clip, out
        self.fit, self.pending, self.done = HalfStepFit(), [], 0

    def append(self, residuals: np.ndarray):
        self.pending.append(residuals)
        if sum(len(part) for part in self.pending) >= 2**20:
            self._flush()

    def _flush(self):
        if self.pending:
            residuals = np.concatenate(self.pending) if len(self.pending) > 1 else self.pending[0]
            self.fit.add(residuals, self.ratings[self.done:self.done + len(residuals)], self.clip)
            if self.out is not None:
                self.out[self.done:self.done + len(residuals)] = residuals
            self.done += len(residuals)
            self.pending = []

    def total(self) -> HalfStepFit:
        self._flush()
        return self.fit


def _real(per_slot: np.ndarray, group: _Group) -> np.ndarray:
    """A group's values (rows x slots) at its real slots, flat in row order."""
    return per_slot.ravel() if group.real is None else per_slot[group.real]


def _dual_form_applies(reg_diag: np.ndarray) -> bool:
    """Whether rows with fewer ratings than unknowns are solved in the dual form, which divides by D."""
    return bool(reg_diag.min() + RIDGE >= _DUAL_MIN_REG)


def _split(rows: np.ndarray, per_part: int) -> list[np.ndarray]:
    return [rows[begin:begin + per_part] for begin in range(0, len(rows), per_part)]


def _padded_sizes(counts: np.ndarray, smallest: int, growth: float = _GROWTH) -> np.ndarray:
    """Each count rounded up to the next size of the series smallest, x growth, x growth, ..."""
    if not counts.size:
        return counts
    sizes = [max(int(smallest), 1)]
    while sizes[-1] < counts.max():
        sizes.append(max(sizes[-1] + 1, int(np.ceil(sizes[-1] * growth))))
    sizes = np.array(sizes)
    return sizes[np.searchsorted(sizes, counts)]


def _eliminate(system: np.ndarray) -> np.ndarray:
    """Solutions of symmetric positive definite systems laid out (n, n + 1, m) as [A | b], each column
    of the last axis one system: Gaussian elimination (no pivoting needed) across all of them at once.
    ``system`` is overwritten; returns x as (n, m)."""
    n = system.shape[0]
    for j in range(n - 1):
        factors = system[j + 1:, j] / system[j, j]
        system[j + 1:, j + 1:] -= factors[:, None, :] * system[j, None, j + 1:]
    x = np.empty((n, system.shape[2]))
    for j in range(n - 1, -1, -1):
        remainder = system[j, n] - np.einsum("km,km->m", system[j, j + 1:n], x[j + 1:]) if j < n - 1 else system[j, n]
        x[j] = remainder / system[j, j]
    return x


def _solve_augmented(augmented: np.ndarray, noise: tuple[np.random.Generator, float] | None = None) -> np.ndarray:
    """Solutions v of A v = b for every [[A, b], [b^T, c]] stacked in ``augmented`` (A symmetric
    positive definite, d x d). LAPACK's Cholesky factor of the whole bordered matrix (its corner raised
    by 1 so that it stays positive definite: c - b^T A^-1 b >= 0 for these least squares) holds, in its
    last row, y = L^-1 b: the forward substitution comes with the factor, and only L^T v = y is left,
    solved across all rows at once. With ``noise`` = (generator, sigma), v = L^-T (y + sigma z) instead:
    a draw from N(A^-1 b, sigma^2 A^-1). ``augmented`` is overwritten."""
    d = augmented.shape[1] - 1
    augmented[:, d, d] += 1.0
    try:
        lower = np.linalg.cholesky(augmented)
    except np.linalg.LinAlgError:
        # Not positive definite in floating point (a diverging run's NaN or inf): LU says what it can.
        return np.linalg.solve(augmented[:, :d, :d], augmented[:, :d, d:])[..., 0]
    factor = np.ascontiguousarray(lower[:, :d, :d].transpose(1, 2, 0))  # (d, d, m): contiguous rows
    v = np.ascontiguousarray(lower[:, d, :d].T)  # y, overwritten by v from the last entry up
    if noise is not None:
        generator, sigma = noise
        v += sigma * generator.standard_normal(v.shape)
    for i in range(d - 1, -1, -1):
        v[i] /= factor[i, i]
        v[:i] -= factor[i, :i] * v[i]
    return v.T
