"""Alternating least squares: the batched half-steps give the plain per-row ridge solutions, and the
epoch's record (data term, training RMSE/MAE) is the cost of the parameters it leaves."""

from contextlib import contextmanager

import numpy as np

from cfexplorer.core.sorting import stable_order
import pytest

from cfexplorer.core import als, kernels, metrics
from cfexplorer.core.mf import MatrixFactorization, _TrainingSet
from cfexplorer.core.ratings import RatingScale, Ratings

from .conftest import KERNEL_COPIES, kernels_limited_to


def skewed_ratings(n_users=70, n_items=90, n_ratings=1800, seed=0) -> Ratings:
    """Popular users and movies rated far more than the rest: rows with 1 rating up to a few hundred,
    so that both forms (dual below d ratings, primal at or above) and several padded sizes occur."""
    rng = np.random.default_rng(seed)
    user_weight = 1 / np.arange(1, n_users + 1) ** 1.1
    item_weight = 1 / np.arange(1, n_items + 1) ** 1.1
    users = rng.choice(n_users, n_ratings, p=user_weight / user_weight.sum())
    items = rng.choice(n_items, n_ratings, p=item_weight / item_weight.sum())
    keys = np.unique(users * n_items + items)
    users, items = keys // n_items, keys % n_items
    values = np.clip(np.round(3 + rng.normal(0, 1.2, len(keys)) * 2) / 2, 0.5, 5)
    return Ratings(users, items, values, [f"u{j}" for j in range(n_users)], [f"m{i}" for i in range(n_items)],
                   scale=RatingScale(0.5, 5.0, 0.5))


def reference_epoch(model: MatrixFactorization, ratings: Ratings) -> dict:
    """One ALS epoch written plainly: every row's normal equations solved by np.linalg.solve, users then
    items, as the model did before its half-steps were batched. Returns the new parameters."""
    p = {name: array.copy() for name, array in model._params.items()}
    k, offsets = int(model.n_factors), model.item_offset_
    users, items, y = ratings.users, ratings.items, ratings.values

    def ridge(rows, n_rows, design, target, reg_diag):
        solution = np.zeros((n_rows, design.shape[1]))
        for row in range(n_rows):
            mine = rows == row
            if mine.any():
                x = design[mine]
                solution[row] = np.linalg.solve(x.T @ x + np.diag(reg_diag + 1e-9), x.T @ target[mine])
        return solution

    def with_ones(factors, bias):
        return np.hstack([factors, np.ones((len(factors), 1))]) if bias else factors

    def reg_diag(bias):
        return np.array([model.reg] * k + ([model.bias_reg] if bias else []))

    item_bias = p.get("item_bias", np.zeros(ratings.n_items))
    solution = ridge(users, ratings.n_users, with_ones(p["item_factors"], "user_bias" in p)[items],
                     y - offsets[items] - item_bias[items], reg_diag("user_bias" in p))
    p["user_factors"] = solution[:, :k]
    if "user_bias" in p:
        p["user_bias"] = solution[:, k]
    user_bias = p.get("user_bias", np.zeros(ratings.n_users))
    solution = ridge(items, ratings.n_items, with_ones(p["user_factors"], "item_bias" in p)[users],
                     y - offsets[items] - user_bias[users], reg_diag("item_bias" in p))
    p["item_factors"] = solution[:, :k]
    if "item_bias" in p:
        p["item_bias"] = solution[:, k]
    return p


def row_systems(model: MatrixFactorization, ratings: Ratings):
    """The (users, items) RowSystems a fit of ``model`` on ``ratings`` solves with."""
    model = MatrixFactorization(**{**model.get_params(), "n_epochs": 0}).fit(ratings)
    return model._als_systems(_TrainingSet(ratings, model.item_offset_))


SETTINGS = [
    dict(),  # the defaults: 16 factors, reg 15, bias_reg 3, global mean and both biases
    dict(n_factors=4, reg=2.0, bias_reg=0.5),
    dict(n_factors=3, reg=1.0, mean_normalization=True, global_mean=False, item_bias=False),
    dict(n_factors=5, reg=0.5, user_bias=False, item_bias=False, global_mean=False),
    dict(n_factors=0, reg=0.0, bias_reg=3.0),  # the bias baseline
]


needs_compiled = pytest.mark.skipif(kernels.compiled is None, reason="the compiled kernels were not built "
                                    "(no C compiler at install, or CFEXPLORER_NO_KERNELS)")


@pytest.fixture
def numpy_form(monkeypatch):
    """The half-steps in numpy, as on a machine where the compiled kernel was not built."""
    monkeypatch.setattr(kernels, "compiled", None)


# The compiled kernel in each of its copies (core/_kernels.c: for AVX-512, AVX2 and other CPUs), where this CPU
# runs it: "compiled-avx512", "compiled-avx2", "compiled-none".
COMPILED_FORMS = [f"compiled-{copy}" for copy in KERNEL_COPIES]


@contextmanager
def compiled_form(form: str):
    """The compiled kernel limited to the copy ``form`` names (skipped where this CPU does not run it)."""
    with kernels_limited_to(form.removeprefix("compiled-")):
        yield


@pytest.fixture(params=[*COMPILED_FORMS, "numpy"])
def solve_form(request, monkeypatch):
    """Each test of a half-step's result in both forms: the compiled kernel (core/_kernels.c, each copy this CPU
    runs) and numpy."""
    if request.param == "numpy":
        monkeypatch.setattr(kernels, "compiled", None)
        yield request.param
    else:
        with compiled_form(request.param):
            yield request.param


@pytest.fixture(params=[1, als._DUAL_MIN_ROWS], ids=["dual-for-any-group", "dual-for-large-groups"])
def dual_min_rows(request, monkeypatch, numpy_form):
    """The numpy form with the dual form for every count below d however few rows have it, and as shipped."""
    monkeypatch.setattr(als, "_DUAL_MIN_ROWS", request.param)
    return request.param


@pytest.fixture(params=[*COMPILED_FORMS, "numpy-dual-for-any-group", "numpy-dual-for-large-groups"])
def every_form(request, monkeypatch):
    """The compiled kernel (each copy this CPU runs), and numpy's form with the dual form for every count below d
    however few rows have it and as shipped."""
    if request.param.startswith("compiled"):
        with compiled_form(request.param):
            yield request.param
        return
    monkeypatch.setattr(kernels, "compiled", None)
    if request.param == "numpy-dual-for-any-group":
        monkeypatch.setattr(als, "_DUAL_MIN_ROWS", 1)
    yield request.param


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "defaults")
def test_each_epoch_equals_the_plain_per_row_solution(settings, every_form):
    ratings = skewed_ratings()
    model = MatrixFactorization(n_epochs=1, **settings).fit(ratings)
    for _ in range(2):
        expected = reference_epoch(model, ratings)
        model.set_params(warm_start=True).fit(ratings)
        for name, array in expected.items():
            np.testing.assert_allclose(model._params[name], array, rtol=0, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("form", COMPILED_FORMS)
def test_the_compiled_and_numpy_forms_agree_on_movielens_shaped_data(monkeypatch, form):
    """Rows of 1 to several hundred ratings, 16 factors: the two forms' parameters after three epochs (each copy
    of the compiled kernel this CPU runs)."""
    ratings = skewed_ratings(n_users=300, n_items=900, n_ratings=20000, seed=11)
    with compiled_form(form):
        compiled = MatrixFactorization(n_epochs=3).fit(ratings)
    monkeypatch.setattr(kernels, "compiled", None)
    plain = MatrixFactorization(n_epochs=3).fit(ratings)
    for name in plain._params:
        np.testing.assert_allclose(compiled._params[name], plain._params[name], rtol=0, atol=1e-8, err_msg=name)
    for field in ("data_term", "reg_term"):
        assert getattr(compiled.history_[-1], field) == pytest.approx(getattr(plain.history_[-1], field), rel=1e-10)
    assert compiled.history_[-1].train == pytest.approx(plain.history_[-1].train, rel=1e-10)


@pytest.mark.parametrize("form", COMPILED_FORMS)
def test_every_width_of_the_gram_tiles_gives_numpys_half_steps(monkeypatch, form):
    """The kernel sums each row's Gram matrix in tiles four rows tall and 16, 8 or 4 columns wide (eight columns
    to a vector in the AVX-512 copy, four in the others), over the design rows' width padded to a multiple of 4:
    every width from 4 to 40 (0 to 36 factors and a bias), one epoch against numpy's. Rows of more than 128
    ratings add a second block of rows to their tiles (the kernel's GRAM_BLOCK_ROWS)."""
    ratings = skewed_ratings(n_users=60, n_items=400, n_ratings=4000, seed=12)
    assert ratings.user_counts().max() > 128 and ratings.item_counts().max() < 128
    for n_factors in range(37):
        with compiled_form(form):
            compiled = MatrixFactorization(n_factors=n_factors, reg=1.0, n_epochs=1).fit(ratings)
        with monkeypatch.context() as numpy_only:
            numpy_only.setattr(kernels, "compiled", None)
            plain = MatrixFactorization(n_factors=n_factors, reg=1.0, n_epochs=1).fit(ratings)
        for name in plain._params:
            np.testing.assert_allclose(compiled._params[name], plain._params[name], rtol=0, atol=1e-9,
                                       err_msg=f"{name}, {n_factors} factors")


def test_the_data_used_both_forms_and_several_padded_sizes(monkeypatch, numpy_form):
    """What the equality above covered: rows below and above d ratings, rows without ratings."""
    monkeypatch.setattr(als, "_DUAL_MIN_ROWS", 1)
    ratings = skewed_ratings()
    counts = ratings.item_counts()
    assert (counts == 0).any() and (counts == 1).any() and (counts >= 17).sum() >= 5
    systems = row_systems(MatrixFactorization(), ratings)
    for side in systems:
        assert side.dual_groups and side.primal_blocks
        assert len({group.columns.shape[1] for block in side.primal_blocks for group in block}) >= 3


def test_small_blocks_give_the_same_solution(monkeypatch, dual_min_rows):
    ratings = skewed_ratings(seed=3)
    whole = MatrixFactorization(n_epochs=3).fit(ratings)
    monkeypatch.setattr(als, "_BLOCK_VALUES", 200)  # a block per few rows, each group split
    pieces = MatrixFactorization(n_epochs=3)
    systems = row_systems(pieces, ratings)
    assert max(len(side.primal_blocks) for side in systems) > 10
    pieces.fit(ratings)
    for name in whole._params:
        np.testing.assert_allclose(pieces._params[name], whole._params[name], rtol=0, atol=1e-10)


def test_without_regularization_the_primal_form_solves_the_normal_equations(solve_form):
    """reg = 0 leaves a row with fewer ratings than factors nearly singular (only the 1e-9 ridge), so
    its solution is fixed only to the precision that conditioning allows: the dual form, which divides
    by the regularization, is not used, and every row's normal equations hold to rounding."""
    ratings = skewed_ratings(seed=4)
    model = MatrixFactorization(n_factors=4, reg=0.0, bias_reg=0.0, n_epochs=2)
    assert all(not side.dual_groups for side in row_systems(model, ratings))
    model.fit(ratings)
    # The items' half-step came last: [x_i, c_i] against the users' [w_j, 1] and targets y - o_i - b_j.
    design = np.hstack([model.user_factors_, np.ones((ratings.n_users, 1))])
    target = ratings.values - model.item_offset_[ratings.items] - model.user_bias_[ratings.users]
    solution = np.hstack([model.item_factors_, model.item_bias_[:, None]])
    for item in np.flatnonzero(ratings.item_counts()):
        mine = ratings.items == item
        x = design[ratings.users[mine]]
        normal, rhs = x.T @ x + 1e-9 * np.eye(5), x.T @ target[mine]
        scale = np.abs(normal) @ np.abs(solution[item]) + np.abs(rhs)
        assert np.all(np.abs(normal @ solution[item] - rhs) <= 1e-10 * scale), item


def test_the_record_is_the_cost_and_the_training_scores_of_the_parameters_it_leaves(solve_form):
    ratings = skewed_ratings(seed=5)
    model = MatrixFactorization(n_factors=6, reg=3.0, n_epochs=4)
    for record in model.iter_fit(ratings):
        data_term, reg_term, total = model.loss_terms(ratings)
        assert record.data_term == pytest.approx(data_term, rel=1e-12)
        assert record.reg_term == pytest.approx(reg_term, rel=1e-12)
        assert record.total == pytest.approx(total, rel=1e-12)
        expected = metrics.regression_report(ratings.values, model.predict(ratings.users, ratings.items))
        assert record.train == pytest.approx(expected, rel=1e-12)


def test_clipping_counts_in_the_training_scores(solve_form):
    """Predictions beyond the scale are clipped in the training RMSE/MAE, as in every other report,
    while the data term keeps the unclipped residuals."""
    ratings = skewed_ratings(seed=6)
    ratings = Ratings(ratings.users, ratings.items, np.where(ratings.values >= 3, 5.0, 0.5),
                      ratings.user_labels, ratings.item_labels, scale=RatingScale(0.5, 5.0, 0.5))
    model = MatrixFactorization(n_factors=8, reg=0.05, bias_reg=0.05, n_epochs=6).fit(ratings)
    z = model.decision_function(ratings.users, ratings.items)
    assert (z > 5).any() or (z < 0.5).any()
    record = model.history_[-1]
    assert record.data_term == pytest.approx(0.5 * np.sum((z - ratings.values) ** 2), rel=1e-12)
    assert record.train["rmse"] == pytest.approx(metrics.rmse(ratings.values, np.clip(z, 0.5, 5)), rel=1e-12)
    assert record.train["rmse"] < np.sqrt(np.mean((z - ratings.values) ** 2))


def test_users_and_movies_without_ratings_keep_zero_factors_and_biases(solve_form):
    rated = skewed_ratings(seed=7)
    kept = (rated.users < 60) & (rated.items < 80)
    ratings = Ratings(rated.users[kept], rated.items[kept], rated.values[kept], rated.user_labels,
                      rated.item_labels, scale=rated.scale)
    model = MatrixFactorization(n_factors=4, reg=1.0, n_epochs=3).fit(ratings)
    for counts, factors, bias in ((ratings.user_counts(), model.user_factors_, model.user_bias_),
                                  (ratings.item_counts(), model.item_factors_, model.item_bias_)):
        assert (counts == 0).any()
        assert np.all(factors[counts == 0] == 0) and np.all(bias[counts == 0] == 0)


def test_a_nan_in_the_parameters_is_reported_as_divergence_and_rolled_back(solve_form):
    from cfexplorer.core.mf import TrainingDiverged

    ratings = skewed_ratings(seed=8)
    model = MatrixFactorization(n_factors=3, n_epochs=1).fit(ratings)
    model.item_factors_[0, 0] = np.nan
    before = {name: array.copy() for name, array in model._params.items()}
    with pytest.raises(TrainingDiverged, match="regularization"):
        model.set_params(warm_start=True).fit(ratings)
    for name, array in before.items():
        np.testing.assert_array_equal(model._params[name], array)


def test_eliminate_solves_stacked_symmetric_positive_definite_systems():
    rng = np.random.default_rng(9)
    for n in (1, 2, 5, 9):
        x = rng.normal(size=(40, n, n + 2))
        a = x @ x.transpose(0, 2, 1) + np.eye(n)
        b = rng.normal(size=(40, n))
        system = np.concatenate([a, b[..., None]], axis=2).transpose(1, 2, 0).copy()
        np.testing.assert_allclose(als._eliminate(system).T, np.linalg.solve(a, b[..., None])[..., 0],
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_keys", [1, 7, 65536, 70000, 2**40])
def test_the_radix_order_is_numpys_stable_argsort(n_keys):
    keys = np.random.default_rng(10).integers(0, n_keys, 5000)
    np.testing.assert_array_equal(stable_order(keys, n_keys), np.argsort(keys, kind="stable"))


def copies_of_three_rows(copies: int, d: int, seed: int = 0, reg_diag=None):
    """RowSystems whose rows come in three kinds, ``copies`` rows each: two ratings (fewer than d: the
    dual form), 3d ratings (the primal form) and none. Every row of a kind has the same columns and
    targets, so one sampling half-step gives ``copies`` independent draws from each kind's conditional."""
    rng = np.random.default_rng(seed)
    n_columns = 3 * d
    few, many = np.array([0, 1]), np.arange(n_columns)
    targets = {"few": rng.normal(size=len(few)), "many": rng.normal(size=len(many))}
    rows, columns, y = [], [], []
    for kind, cols, first_row in (("few", few, 0), ("many", many, copies)):
        for row in range(first_row, first_row + copies):
            rows.append(np.full(len(cols), row))
            columns.append(cols)
            y.append(targets[kind])
    rows, columns, y = np.concatenate(rows), np.concatenate(columns), np.concatenate(y)
    design = rng.normal(size=(n_columns, d))
    reg_diag = np.ones(d) if reg_diag is None else reg_diag  # chooses the forms; a solve may change it
    systems = als.RowSystems(rows, columns, y, 3 * copies, n_columns, reg_diag)
    return systems, design, {"few": (few, targets["few"]), "many": (many, targets["many"])}


@pytest.mark.parametrize("reg", [0.7, 2.0, 1e-4])  # 1e-4: below _DUAL_MIN_REG, every row in the primal form
def test_a_sampling_half_step_draws_each_row_from_its_gaussian_conditional(reg):
    """With noise = (generator, sigma), every row's v is a draw from N(A^-1 X^T t, sigma^2 A^-1),
    A = X^T X + D (the closed form), in the dual form (perturb-and-MAP), the primal form (Cholesky) and
    for rows without ratings (the prior N(0, sigma^2 D^-1))."""
    d, copies, sigma = 4, 4000, 0.8
    reg_diag = np.full(d, reg)
    reg_diag[-1] = 2 * reg  # a diagonal, not a multiple of I
    systems, design, kinds = copies_of_three_rows(copies, d, reg_diag=reg_diag)
    assert bool(systems.dual_groups) == (reg >= als._DUAL_MIN_REG) and systems.primal_blocks
    draws, _ = systems.solve(design, np.zeros(len(design)), reg_diag=reg_diag,
                             noise=(np.random.default_rng(1), sigma))
    for kind, first_row in (("few", 0), ("many", copies), ("none", 2 * copies)):
        if kind == "none":
            mean, covariance = np.zeros(d), sigma**2 * np.diag(1 / reg_diag)
        else:
            cols, t = kinds[kind]
            x = design[cols]
            a = x.T @ x + np.diag(reg_diag)
            mean, covariance = np.linalg.solve(a, x.T @ t), sigma**2 * np.linalg.inv(a)
        sample = draws[first_row:first_row + copies]
        sd = np.sqrt(np.diag(covariance))
        # Means within 4.5 standard errors, covariances within sampling error of 4000 draws.
        assert np.all(np.abs(sample.mean(axis=0) - mean) < 4.5 * sd / np.sqrt(copies)), kind
        correlation = (np.cov(sample.T) - covariance) / np.outer(sd, sd)
        assert np.abs(correlation).max() < 0.1, kind


def test_a_sampling_half_step_reports_the_residuals_of_its_draw():
    """The residuals a sampling half-step writes out are x . v - t at the v it drew (not at the perturbed
    problem's targets), and its data term is half their squares."""
    d, copies = 4, 20
    systems, design, kinds = copies_of_three_rows(copies, d)
    offset = np.linspace(-0.5, 0.5, len(design))
    residuals = np.empty(len(systems.ratings_in_solve_order()))
    draws, fit = systems.solve(design, offset, clip=(-10.0, 10.0), reg_diag=np.full(d, 1.5),
                               noise=(np.random.default_rng(2), 0.9), residuals_out=residuals)
    expected = []
    for group in systems._groups_in_solve_order():
        for row, cols, y in zip(group.rows, group.columns, group.values):
            kind = "few" if row < copies else "many"
            cols = kinds[kind][0]
            expected.append(design[cols] @ draws[row] + offset[cols] - kinds[kind][1])
    expected = np.concatenate(expected)
    np.testing.assert_allclose(residuals, expected, atol=1e-10)
    assert fit.data_term == pytest.approx(0.5 * expected @ expected)


def test_the_same_generator_seed_draws_the_same_rows():
    systems, design, _ = copies_of_three_rows(30, 3)
    first, _ = systems.solve(design, np.zeros(len(design)), noise=(np.random.default_rng(5), 1.0))
    again, _ = systems.solve(design, np.zeros(len(design)), noise=(np.random.default_rng(5), 1.0))
    other, _ = systems.solve(design, np.zeros(len(design)), noise=(np.random.default_rng(6), 1.0))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


# --- the compiled kernel's own checks -------------------------------------------------------------------


def kernel_arguments(n_rows=3, n_columns=4, d=2):
    """A valid call of core/_kernels.c's als_half_step: row r rates columns 0..r."""
    counts = np.arange(1, n_rows + 1)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    columns = np.concatenate([np.arange(c) for c in counts]).astype(np.int32)
    return dict(design=np.ones((n_columns, d)), column_offset=np.zeros(n_columns), indptr=indptr, columns=columns,
                values=np.linspace(1, 5, indptr[-1]), row_offset=np.zeros(0), reg=np.ones(d), dual=True,
                solution=np.empty((n_rows, d)), low=1.0, high=5.0)


@needs_compiled
def test_the_kernel_refuses_arrays_of_the_wrong_type_size_or_indices():
    call = kernels.compiled.als_half_step
    good = kernel_arguments()
    sums = call(*good.values())
    assert len(sums) == 3 and all(np.isfinite(sums)) and np.isfinite(good["solution"]).all()
    wrong = {
        "columns": (good["columns"].astype(np.int64), ValueError),  # int32 expected
        "indptr": (good["indptr"].astype(float), ValueError),
        "values": (good["values"][:-1], ValueError),  # one rating short
        "row_offset": (np.zeros(2), ValueError),  # neither one a row nor none
        "solution": (np.empty((3, 3)), ValueError),
        "design": (np.ones((4, 3)), ValueError),  # rows of d + 1
        "column_offset": (np.zeros(3), ValueError),  # one short
    }
    for name, (value, error) in wrong.items():
        with pytest.raises(error):
            call(*{**good, name: value}.values())
    for columns in ([0, 0, 1, 0, 1, 4], [0, 0, 1, -1, 1, 2], [-2**31, 0, 1, 0, 1, 2]):  # column 4 of 4, negative ones
        with pytest.raises(IndexError):
            call(*{**good, "columns": np.array(columns, dtype=np.int32)}.values())
    with pytest.raises(ValueError):
        call(*{**good, "indptr": np.array([0, 2, 1, 6], dtype=np.int64)}.values())  # decreasing
    with pytest.raises(ValueError):
        call(*{**good, "solution": np.empty((2, 3))[:, :2]}.values())  # not contiguous
    read_only = np.empty((3, 2))
    read_only.flags.writeable = False
    with pytest.raises((ValueError, BufferError, TypeError)):
        call(*{**good, "solution": read_only}.values())


@needs_compiled
def test_the_kernel_with_a_bias_takes_design_and_solution_without_their_last_column(kernel_copy):
    """With ``bias``, the design rows' last value (1) and the solution's last unknown (into ``bias``) are left
    out of the arrays given: the same solution as the whole arrays give, and the wrong widths refused."""
    call = kernels.compiled.als_half_step
    whole = kernel_arguments(n_rows=5, n_columns=6, d=3)
    whole["design"] = np.column_stack([np.random.default_rng(1).normal(size=(6, 2)), np.ones(6)])
    sums = call(*whole.values())
    parted = {**whole, "design": whole["design"][:, :2].copy(), "solution": np.full((5, 2), np.nan)}
    bias = np.full(5, np.nan)
    assert call(*parted.values(), True, 0, bias) == sums
    np.testing.assert_array_equal(parted["solution"], whole["solution"][:, :2])
    np.testing.assert_array_equal(bias, whole["solution"][:, 2])
    for name, value in [("design", whole["design"]), ("solution", np.empty((5, 3)))]:  # the whole width
        with pytest.raises(ValueError):
            call(*{**parted, name: value}.values(), True, 0, bias)
    for wrong_bias in (np.empty(4), np.empty(5, np.float32), np.empty((5, 2))[:, 0]):
        with pytest.raises(ValueError):
            call(*parted.values(), True, 0, wrong_bias)


@pytest.mark.parametrize("settings", [dict(n_factors=3), dict(n_factors=3, user_bias=False, item_bias=False),
                                      dict(n_factors=0)], ids=["biases", "no-biases", "biases-alone"])
@pytest.mark.parametrize("outputs", ["the-model's", "strided"])
def test_a_half_step_into_a_models_arrays_is_the_half_step_solved_and_copied(solve_form, settings, outputs):
    """RowSystems.solve_into (what an ALS epoch calls) against solve() on the design [factors, 1] and its solution
    copied out: bit for bit, in the compiled kernel and in numpy, into contiguous arrays and into strided
    ones (which the kernel cannot write: solved, then copied)."""
    ratings = skewed_ratings(n_users=30, n_items=40, n_ratings=500)
    model = MatrixFactorization(n_epochs=1, reg=1.0, **settings).fit(ratings)
    users, _ = row_systems(model, ratings)
    factors = np.random.default_rng(2).normal(size=(40, model.n_factors))
    with_bias = "user_bias" in model._params
    design = np.column_stack([factors, np.ones(40)]) if with_bias else factors
    offset = np.random.default_rng(3).normal(size=40)
    expected, expected_fit = users.solve(design, offset, clip=(0.5, 5.0))
    room = np.full((30, model.n_factors + 1), np.nan)
    factors_out = room[:, :model.n_factors] if outputs == "strided" else np.full((30, model.n_factors), np.nan)
    bias_out = (room[:, -1] if outputs == "strided" else np.full(30, np.nan)) if with_bias else None
    fit = users.solve_into(factors, offset, factors_out, bias_out, clip=(0.5, 5.0))
    np.testing.assert_array_equal(factors_out, expected[:, :model.n_factors])
    if with_bias:
        np.testing.assert_array_equal(bias_out, expected[:, -1])
    assert fit == expected_fit
    with pytest.raises(ValueError, match="systems of size"):
        users.solve_into(factors, offset, factors_out, None if with_bias else np.zeros(30))


def compiled_half_step(systems: als.RowSystems, design: np.ndarray, **options):
    """``systems``' half-step for ``design`` by the compiled kernel, its options passed through: the solution
    and the fit's three sums."""
    solution = np.zeros((systems.n_rows, systems.size))
    offsets = systems.row_offset if systems.row_offset is not None else np.zeros(0)
    sums = kernels.compiled.als_half_step(
        design, options.get("column_offset", np.zeros(len(design))), systems._indptr, systems._columns,
        systems._values, offsets, systems.reg_diag, options.get("dual", True), solution, 0.5, 5.0,
        options.get("with_fit", True), options.get("chunk_columns", 0))
    return solution, np.array(sums)


def every_user_rates(n_users: int, n_items: int, count: int, seed: int = 0) -> Ratings:
    """Each user rates ``count`` movies at random."""
    rng = np.random.default_rng(seed)
    items = np.argsort(rng.random((n_users, n_items)), axis=1)[:, :count].ravel()
    users = np.repeat(np.arange(n_users), count)
    return Ratings(users, items, rng.integers(1, 6, len(users)).astype(float), [f"u{j}" for j in range(n_users)],
                   [f"m{i}" for i in range(n_items)])


@needs_compiled
@pytest.mark.parametrize("chunk_columns", [1, 7, 64])
@pytest.mark.parametrize("shape", ["skewed", "many-panels"])
def test_reading_the_design_rows_a_chunk_at_a_time_gives_the_same_half_step(chunk_columns, shape, kernel_copy):
    """The kernel reads the design rows a cache-sized chunk at a time for a panel of rows together, where they
    do not fit one chunk. Small chunks here (several chunks a panel, rows with no rating in some chunks; with
    3,000 users of 20 ratings each, the users' half-step in several panels): the solutions and the fit are
    those of the whole design read as one chunk (in panels of four or eight rows), to rounding."""
    if shape == "skewed":
        ratings = skewed_ratings(n_users=300, n_items=900, n_ratings=20000, seed=5)
    else:
        ratings = every_user_rates(3000, 60, 20)
    model = MatrixFactorization(n_epochs=2).fit(ratings)
    users, items = row_systems(model, ratings)
    for systems, factors in ((users, model.item_factors_), (items, model.user_factors_)):
        design = np.hstack([factors, np.ones((len(factors), 1))])
        whole, whole_fit = compiled_half_step(systems, design)
        chunked, chunked_fit = compiled_half_step(systems, design, chunk_columns=chunk_columns)
        np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-10)
        np.testing.assert_allclose(chunked_fit, whole_fit, rtol=1e-10)
        assert whole_fit[0] > 0 and np.abs(whole).max() > 0.01


@needs_compiled
@pytest.mark.parametrize("chunk_columns", [0, 5])
def test_a_nan_design_row_fails_the_rows_that_read_it_and_the_fit_says_so(chunk_columns, kernel_copy):
    """A diverged run's NaN reaches only the rows whose ratings read it (in panels of four or larger),
    and the fit's sums come back NaN, which the model reports as divergence."""
    ratings = every_user_rates(300, 60, 20, seed=3)
    model = MatrixFactorization(n_epochs=1).fit(ratings)
    users, _ = row_systems(model, ratings)
    design = np.hstack([model.item_factors_, np.ones((ratings.n_items, 1))])
    design[7, 2] = np.nan
    solution, sums = compiled_half_step(users, design, chunk_columns=chunk_columns)
    read_it = np.isin(np.arange(300), ratings.users[ratings.items == 7])
    assert read_it.any() and not read_it.all()
    assert np.isnan(solution[read_it]).all() and np.isfinite(solution[~read_it]).all()
    assert np.isnan(sums).all()


def rows_of_every_count(d: int, n_columns: int, seed: int = 0):
    """Rows with 1 to d + 3 ratings (among ``n_columns`` columns), 8 + (count mod 8) rows of each count: the
    kernel solves rows four at once (one system in each lane of a vector; eight in the AVX-512 copy), the
    1-7 left over of a count with the lanes past them repeating one. Returns (rows, columns, values)."""
    rng = np.random.default_rng(seed)
    rows, columns, row = [], [], 0
    for count in range(1, d + 4):
        for _ in range(8 + count % 8):
            rows.append(np.full(count, row))
            columns.append(rng.choice(n_columns, count, replace=False))
            row += 1
    rows, columns = np.concatenate(rows), np.concatenate(columns)
    return rows, columns, rng.integers(1, 11, len(rows)) / 2.0


def lane_systems(d: int, n_columns: int = 14):
    """RowSystems of :func:`rows_of_every_count`, and a design and column offsets for them."""
    rows, columns, values = rows_of_every_count(d, n_columns)
    rng = np.random.default_rng(1)
    reg = np.array([2.0] * (d - 1) + [0.5])
    systems = als.RowSystems(rows, columns, values, rows.max() + 1, n_columns, reg,
                             row_offset=rng.normal(size=rows.max() + 1))
    return systems, rng.normal(size=(n_columns, d)), rng.normal(size=n_columns)


@needs_compiled
@pytest.mark.parametrize("dual", [True, False], ids=["dual-form", "primal-only"])
@pytest.mark.parametrize("d", [3, 6])  # 3: rows of [x, t] fill whole vectors; 6: padded to 8
@pytest.mark.parametrize("chunk_columns", [0, 3])
def test_rows_solved_a_vector_at_a_time_give_the_numpy_form_and_a_failed_row_fails_alone(monkeypatch, chunk_columns,
                                                                                         d, dual, kernel_copy):
    """Rows in the dual form (fewer ratings than unknowns) and in the primal, four or eight at once (one in each
    lane of a vector) and left over: the
    numpy form's solutions and fit. A NaN design row fails exactly the rows that read it; the rows sharing a
    vector with them are solved as before."""
    systems, design, column_offset = lane_systems(d)
    rows, columns, _ = rows_of_every_count(d, len(design))
    n_rows = systems.n_rows
    assert systems.compiled
    solution, sums = compiled_half_step(systems, design, chunk_columns=chunk_columns, column_offset=column_offset,
                                        dual=dual)
    with monkeypatch.context() as numpy_only:
        numpy_only.setattr(kernels, "compiled", None)
        expected, fit = systems.solve(design, column_offset, clip=(0.5, 5.0))
    np.testing.assert_allclose(solution, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sums, [fit.squared_residuals, fit.squared_errors, fit.absolute_errors], rtol=1e-9)

    design[5, 1] = np.nan
    failed, failed_sums = compiled_half_step(systems, design, chunk_columns=chunk_columns, column_offset=column_offset,
                                             dual=dual)
    read_it = np.isin(np.arange(n_rows), rows[columns == 5])
    counts = np.bincount(rows, minlength=n_rows)
    assert (read_it & (counts < d)).any() and (read_it & (counts >= d)).any()
    assert np.isnan(failed[read_it]).all() and np.isnan(failed_sums).all()
    np.testing.assert_array_equal(failed[~read_it], solution[~read_it])


@needs_compiled
@pytest.mark.parametrize("with_fit", [True, False])
@pytest.mark.parametrize("row", [0, 8], ids=["a-vector-at-once", "left-over"])
def test_a_nan_rating_fails_its_row_and_the_half_step_whether_or_not_the_fit_is_counted(with_fit, row, kernel_copy):
    """Row 0 has one rating and is solved with three (or seven) others of one rating; row 8, the ninth such,
    alone among repeats of itself. A NaN rating leaves the dual form's pivots positive (it is the target, not the
    system): the row must fail all the same, as the primal form's does, and the sums say so."""
    systems, design, column_offset = lane_systems(6)
    clean, _ = compiled_half_step(systems, design, column_offset=column_offset, with_fit=with_fit)
    at = systems._indptr[row]
    assert systems._indptr[row + 1] - at == 1
    systems._values[at] = np.nan
    solution, sums = compiled_half_step(systems, design, column_offset=column_offset, with_fit=with_fit)
    assert np.isnan(solution[row]).all() and np.isnan(sums).all()
    others = np.arange(len(solution)) != row
    np.testing.assert_array_equal(solution[others], clean[others])


@needs_compiled
def test_a_half_step_without_the_fit_solves_the_same_rows_and_counts_nothing(kernel_copy):
    ratings = skewed_ratings()
    model = MatrixFactorization(n_epochs=1).fit(ratings)
    users, _ = row_systems(model, ratings)
    design = np.hstack([model.item_factors_, np.ones((ratings.n_items, 1))])
    with_fit, sums = compiled_half_step(users, design)
    without, no_sums = compiled_half_step(users, design, with_fit=False)
    np.testing.assert_array_equal(without, with_fit)
    assert sums[0] > 0 and list(no_sums) == [0.0, 0.0, 0.0]


@needs_compiled
def test_the_kernel_refuses_a_row_whose_columns_do_not_ascend():
    """The chunked reading follows each row's columns in order: a row out of order is refused, not half read."""
    call = kernels.compiled.als_half_step
    good = kernel_arguments()  # rows [0], [0, 1], [0, 1, 2]
    with pytest.raises(ValueError, match="ascending"):
        call(*{**good, "columns": np.array([0, 0, 1, 2, 0, 1], dtype=np.int32)}.values())
    with pytest.raises(ValueError, match="chunk_columns"):
        call(*good.values(), True, -1)
    # rows with empty ones between: a column may fall where a row begins, never inside one
    rows = dict(indptr=np.array([0, 2, 3, 3, 3, 5, 6], dtype=np.int64), row_offset=np.zeros(0),
                solution=np.empty((6, 2)), values=np.linspace(1, 5, 6))
    call(*{**good, **rows, "columns": np.array([1, 3, 0, 2, 3, 0], dtype=np.int32)}.values())
    # the first row; a row after empty ones; the first row, with a column falling where the empty rows begin
    for columns in ([3, 1, 0, 2, 3, 0], [1, 3, 0, 3, 2, 0], [3, 0, 2, 1, 2, 0]):
        with pytest.raises(ValueError, match="ascending"):
            call(*{**good, **rows, "columns": np.array(columns, dtype=np.int32)}.values())


def test_the_compiled_kernels_are_built_where_ci_asks_for_them():
    """.ci/run sets CFEXPLORER_REQUIRE_KERNELS: there the install must have compiled core/_kernels.c and
    io/_numbers.c, or the benchmarks' figures in the README would silently be the numpy and pandas forms'."""
    import os

    if not os.environ.get("CFEXPLORER_REQUIRE_KERNELS"):
        pytest.skip("only where CFEXPLORER_REQUIRE_KERNELS is set (CI)")
    assert kernels.compiled is not None, kernels.describe()
    from cfexplorer.io import numeric_columns

    assert numeric_columns.compiled is not None, "io/_numbers.c was not built"
