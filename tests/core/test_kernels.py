"""The compiled kernels (core/_kernels.c) against known values and numpy, and their checks of what they are
given. ALS's half-step is tested with the rest of ALS (test_als.py); full-batch training against numpy's form
in test_epoch_cost.py."""

import numpy as np
import pytest

from cfexplorer.core import kernels
from cfexplorer.core.optim import Adam

pytestmark = pytest.mark.skipif(kernels.compiled is None, reason=kernels.describe())


def predictions(offsets: np.ndarray, loss: int, y=None, low=0.0, high=1.0) -> tuple[np.ndarray, tuple]:
    """The kernel's predictions for scores z = ``offsets`` (one user, an item a rating with that offset, a zero
    factor) and its sums."""
    n = len(offsets)
    y = np.zeros(n) if y is None else y
    prediction = np.empty(n)
    gradients = [np.empty((1, 1)), np.empty((n, 1)), np.zeros(0), np.zeros(0)]
    sums = kernels.compiled.mf_full_batch(np.zeros(n, np.int32), np.arange(n + 1), y, offsets, np.zeros((1, 1)),
                                          np.zeros((n, 1)), np.zeros(0), np.zeros(0), loss, low, high, -np.inf, np.inf,
                                          0.0, 0.0, prediction, *gradients)
    return prediction, sums


def test_the_sigmoid_is_within_two_units_in_the_last_place_from_end_to_end(kernel_copy):
    """Its exponential is our own (vectorized); against e^-|z| / (1 + e^-|z|) from numpy's exp, over scores
    from -800 to 800, where the sigmoid runs from 0 through every exponent of a double to 1."""
    z = np.concatenate([np.linspace(-800, 800, 400_001), [0.0, -0.0, 1e-300, -1e-300, -708.3, -708.4]])
    prediction, _ = predictions(z, loss=1)
    e = np.exp(-np.abs(z))
    expected = np.where(z >= 0, 1.0, e) / (1 + e)
    normal = expected > np.finfo(float).tiny
    assert (np.abs(prediction - expected)[normal] <= 2 * np.spacing(expected[normal])).all()
    assert (prediction[~normal] <= 2 * np.finfo(float).tiny).all()  # e^z below the normal doubles: 0
    assert (prediction[z == 0] == 0.5).all()


def test_a_nan_or_infinite_score_is_reported_not_hidden(kernel_copy):
    prediction, sums = predictions(np.array([np.nan, 1.0]), loss=1)
    assert np.isnan(prediction[0]) and np.isnan(sums[0])
    prediction, sums = predictions(np.array([np.inf, -np.inf]), loss=1, y=np.array([1.0, 0.0]))
    assert prediction.tolist() == [1.0, 0.0] and sums[0] == 0.0


def test_the_cross_entropy_is_log_one_plus_e_to_the_z_minus_y_z(kernel_copy):
    z = np.array([-30.0, -2.0, 0.0, 0.5, 3.0, 40.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    prediction, sums = predictions(z, loss=2, y=y)
    np.testing.assert_allclose(prediction, 1 / (1 + np.exp(-z)), rtol=4e-16, atol=0)
    assert sums[0] == pytest.approx(np.sum(np.logaddexp(0, z) - y * z), rel=1e-14)


def test_the_adam_update_is_numpys(kernel_copy):
    rng = np.random.default_rng(0)
    shapes = {"factors": (50, 7), "bias": (50,)}
    compiled_params = {name: rng.normal(size=shape) for name, shape in shapes.items()}
    numpy_params = {name: array.copy() for name, array in compiled_params.items()}
    compiled, plain = Adam(0.05), Adam(0.05)
    for _ in range(5):
        grads = {name: rng.normal(size=shape) for name, shape in shapes.items()}
        compiled.step(compiled_params, {name: g.copy() for name, g in grads.items()})
        saved, kernels.compiled = kernels.compiled, None
        try:
            plain.step(numpy_params, grads)
        finally:
            kernels.compiled = saved
    for name in shapes:
        np.testing.assert_allclose(compiled_params[name], numpy_params[name], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("k", [0, 1, 3, 4, 6, 20, 32, 33, 37, 70])
@pytest.mark.parametrize("biases", ["both", "user", "item", "none"])
@pytest.mark.parametrize("loss", [0, 1, 2])
def test_a_full_batch_gives_numpys_scores_and_gradient_for_every_number_of_factors(k, biases, loss, kernel_copy):
    """The kernel takes each item's ratings in blocks of up to 32 factors, four to a vector, and the k mod 4
    factors left over apart; the offsets and biases ride with the first block, or alone where k < 4. Against
    numpy's sums, with items (first, between and last) and a user without ratings, one call; each copy of the
    kernel this CPU runs."""
    rng = np.random.default_rng(k)
    n_users, n_items, n = 13, 12, 150
    users = rng.integers(0, n_users - 1, n).astype(np.int32)  # the last user rates nothing
    items = np.sort(rng.choice([1, 2, 3, 5, 6, 9, 10], n)).astype(np.int32)  # 0, 4, 7, 8 and 11 are unrated
    y = rng.integers(0, 2, n).astype(float) if loss == 2 else rng.uniform(1, 5, n)
    item_offsets = rng.normal(0, 0.5, n_items)
    item_starts = np.concatenate([[0], np.cumsum(np.bincount(items, minlength=n_items))])
    user_factors, item_factors = rng.normal(0, 0.3, (n_users, k)), rng.normal(0, 0.3, (n_items, k))
    user_bias = rng.normal(0, 0.5, n_users) if biases in ("both", "user") else np.zeros(0)
    item_bias = rng.normal(0, 0.5, n_items) if biases in ("both", "item") else np.zeros(0)
    low, high, factor_reg, bias_reg = 0.5, 5.5, 0.3, 0.7

    z = np.einsum("rf,rf->r", user_factors[users], item_factors[items]) + item_offsets[items]
    z += (user_bias[users] if len(user_bias) else 0) + (item_bias[items] if len(item_bias) else 0)
    s = 1 / (1 + np.exp(-z))
    if loss == 2:
        prediction, residual = s, s - y
        data_term = np.sum(np.logaddexp(0, z) - y * z)
    elif loss == 1:
        prediction, residual = low + (high - low) * s, (low + (high - low) * s - y) * (high - low) * s * (1 - s)
        data_term = 0.5 * np.sum((prediction - y) ** 2)
    else:
        prediction, residual = z, z - y
        data_term = 0.5 * np.sum((prediction - y) ** 2)
    user_gradient, item_gradient = factor_reg * user_factors, factor_reg * item_factors
    np.add.at(user_gradient, users, residual[:, None] * item_factors[items])
    np.add.at(item_gradient, items, residual[:, None] * user_factors[users])

    out = dict(prediction=np.full(n, np.nan), user_gradient=np.full((n_users, k), np.nan),
               item_gradient=np.full((n_items, k), np.nan), user_bias_gradient=np.full(len(user_bias), np.nan),
               item_bias_gradient=np.full(len(item_bias), np.nan))
    kernel_data_term, squared, absolute, factor_squares, bias_squares = kernels.compiled.mf_full_batch(
        users, item_starts, y, item_offsets, user_factors, item_factors, user_bias, item_bias, loss, low, high,
        1.0, 5.0, factor_reg, bias_reg, *out.values())
    np.testing.assert_allclose(out["prediction"], prediction, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(out["user_gradient"], user_gradient, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out["item_gradient"], item_gradient, rtol=1e-12, atol=1e-13)
    for bias, indices, count, name in ((user_bias, users, n_users, "user"), (item_bias, items, n_items, "item")):
        if len(bias):
            np.testing.assert_allclose(out[f"{name}_bias_gradient"],
                                       bias_reg * bias + np.bincount(indices, residual, count), rtol=1e-12, atol=1e-13)
    errors = np.clip(prediction, 1.0, 5.0) - y
    assert kernel_data_term == pytest.approx(data_term, rel=1e-12)
    assert squared == pytest.approx(np.sum(errors**2), rel=1e-12)
    assert absolute == pytest.approx(np.sum(np.abs(errors)), rel=1e-12)
    assert factor_squares == pytest.approx(np.sum(user_factors**2) + np.sum(item_factors**2), rel=1e-12, abs=0)
    assert bias_squares == pytest.approx(np.sum(user_bias**2) + np.sum(item_bias**2), rel=1e-12, abs=0)


def test_users_and_movies_without_ratings_train_as_in_numpy(monkeypatch, kernel_copy):
    """The kernel writes each movie's gradient when its ratings are done, and the unrated ones' (their weight
    decay alone) between them: movies without ratings first, between and last, a user without any."""
    from cfexplorer.core.models import make_model
    from cfexplorer.core.ratings import Ratings
    from cfexplorer.core.synthetic import planted_tastes

    rated = planted_tastes(n_users=30, n_items=20, density=0.5, seed=4)
    kept = ~np.isin(rated.items, [0, 7, 8, 19]) & (rated.users != 5)
    ratings = Ratings(rated.users[kept], rated.items[kept], rated.values[kept], rated.user_labels, rated.item_labels,
                      scale=rated.scale)
    assert (ratings.item_counts() == 0).sum() == 4 and ratings.user_counts()[5] == 0
    compiled = make_model("dot_bias", n_epochs=5).fit(ratings)
    monkeypatch.setattr(kernels, "compiled", None)
    plain = make_model("dot_bias", n_epochs=5).fit(ratings)
    for name in plain._params:
        np.testing.assert_allclose(compiled._params[name], plain._params[name], rtol=1e-9, atol=1e-12, err_msg=name)
    assert compiled.history_[-1].reg_term == pytest.approx(plain.history_[-1].reg_term, rel=1e-12)


def test_the_kernels_refuse_what_does_not_fit():
    n = 4
    good = dict(users=np.zeros(n, np.int32), item_starts=np.arange(n + 1), y=np.ones(n), item_offsets=np.zeros(n),
                user_factors=np.ones((1, 2)), item_factors=np.ones((n, 2)), user_bias=np.zeros(1),
                item_bias=np.zeros(n), loss=0, low=0.0, high=1.0, clip_low=1.0, clip_high=5.0, factor_reg=0.1,
                bias_reg=0.1, prediction=np.empty(n), user_gradient=np.empty((1, 2)), item_gradient=np.empty((n, 2)),
                user_bias_gradient=np.empty(1), item_bias_gradient=np.empty(n))
    call = kernels.compiled.mf_full_batch
    data_term, squared, absolute, factor_squares, bias_squares = call(*good.values())
    # z = 1.1 . 1 = 2 for every rating of 1: data term 4 x 1/2, factors' squares 2 + 8
    assert (data_term, squared, absolute, factor_squares, bias_squares) == (2.0, 4.0, 4.0, 10.0, 0.0)
    np.testing.assert_allclose(good["item_gradient"], np.ones((n, 2)) * (1 + 0.1))  # residual 1 x w, + 0.1 x
    wrong = [
        ("item_starts", np.arange(n + 2)),  # a start for an item past the factors
        ("item_starts", np.arange(n + 1, dtype=np.int32)),  # int64 expected
        ("item_offsets", np.zeros(n + 1)),  # one an item
        ("users", np.array([0, 0, 0, -1], np.int32)),  # a negative user
        ("users", np.zeros(n, np.int64)),  # int32 expected
        ("item_factors", np.ones((n, 3))),  # k differs from the users'
        ("user_bias", np.zeros(2)),  # neither one a user nor none
        ("item_gradient", np.empty((n, 3))),
        ("prediction", np.empty(n + 1)),
        ("loss", 3),
    ]
    for name, value in wrong:
        with pytest.raises((ValueError, IndexError)):
            call(*{**good, name: value}.values())
    # the users are checked as the pass reaches them: first, in the middle and last of the ratings
    for users in ([-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 2**31 - 1]):
        with pytest.raises(IndexError, match="outside the parameter arrays"):
            call(*{**good, "users": np.array(users, np.int32)}.values())
    # the starts part the ratings into runs: from 0 to the number of ratings, never falling
    for starts in ([1, 1, 2, 3, 4], [0, 1, 2, 3, 3], [0, 1, 2, 3, 5], [0, 2, 1, 3, 4], [0, 0, 0, 0, -4]):
        with pytest.raises(ValueError, match="never falling"):
            call(*{**good, "item_starts": np.array(starts)}.values())
    # no items: no ratings can be parted among them
    none = {**good, "item_starts": np.zeros(1, np.int64), "item_offsets": np.zeros(0), "item_factors": np.ones((0, 2)),
            "item_bias": np.zeros(0), "item_gradient": np.empty((0, 2)), "item_bias_gradient": np.empty(0)}
    with pytest.raises(ValueError, match="never falling"):
        call(*none.values())
    empty = {**none, "users": np.zeros(0, np.int32), "y": np.zeros(0), "prediction": np.empty(0)}
    assert call(*empty.values()) == (0.0, 0.0, 0.0, 2.0, 0.0)  # the user's factors' squares, 1 + 1
    np.testing.assert_allclose(empty["user_gradient"], 0.1 * np.ones((1, 2)))
    # runs of any length: the first three items without ratings, the last with all four
    call(*{**good, "item_starts": np.array([0, 0, 0, 0, 4])}.values())
    np.testing.assert_allclose(good["item_gradient"][:3], 0.1 * np.ones((3, 2)))  # the weight decay alone
    np.testing.assert_allclose(good["item_gradient"][3], 4 + 0.1)
    wide = {**good, "user_factors": np.ones((1, 9)), "item_factors": np.ones((n, 9)),
            "user_gradient": np.empty((1, 9)), "item_gradient": np.empty((n, 9))}  # two vectors and one left over
    call(*wide.values())
    with pytest.raises(IndexError):
        call(*{**wide, "users": np.array([0, 0, 1, 0], np.int32)}.values())
    with pytest.raises(ValueError, match="never falling"):
        call(*{**wide, "item_starts": np.array([0, 1, 3, 2, 4])}.values())
    with pytest.raises(ValueError):
        kernels.compiled.adam_step(np.zeros(3), np.zeros(4), np.zeros(3), np.zeros(3), 0.1, 0.9, 0.999, 1e-8, 1, 1)


def test_factor_dots_are_the_dot_products_of_each_pairs_rows_and_refuse_what_does_not_fit():
    user_factors = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    item_factors = np.array([[1.0, 0.0, 1.0], [2.0, 2.0, -1.0], [0.0, 0.0, 0.0], [-1.0, 1.0, 10.0]])
    users, items = np.array([0, 1, 0, 1, 0]), np.array([0, 1, 2, 3, 3])
    out = np.full(5, np.nan)
    assert kernels.compiled.factor_dots(user_factors, item_factors, users, items, out) is None
    np.testing.assert_array_equal(out, [4.0, -1.0, 0.0, -1.5, 31.0])  # 1+3, 1-2, 0, -0.5-1, -1+2+30
    good = dict(user_factors=user_factors, item_factors=item_factors, users=users, items=items, out=out)
    wrong = [
        ("users", np.array([0, 1, 0, 2, 0])),  # a user past the factors
        ("items", np.array([0, 1, 2, 3, -1])),  # a negative item
        ("users", users.astype(np.int32)),  # int64 expected
        ("item_factors", np.ones((4, 2))),  # k differs from the users'
        ("out", np.empty(4)),  # one value a pair
        ("user_factors", np.ones(6)),  # not a matrix
    ]
    for name, value in wrong:
        with pytest.raises((ValueError, IndexError)):
            kernels.compiled.factor_dots(*{**good, name: value}.values())


def test_a_models_scores_are_numpys_on_movielens_shaped_data(monkeypatch, kernel_copy):
    """MatrixFactorization scores every rating through the kernel (epoch 0's cost, predictions, validation):
    the same as numpy's gathered rows, to rounding."""
    from cfexplorer.core.models import make_model
    from cfexplorer.core.synthetic import planted_tastes

    ratings = planted_tastes(n_users=200, n_items=150, density=0.3, seed=2)
    model = make_model("mf", n_epochs=3).fit(ratings)
    users, items = np.divmod(np.arange(200 * 150), 150)
    compiled = model.predict(users, items, clip=False)
    monkeypatch.setattr(kernels, "compiled", None)
    np.testing.assert_allclose(compiled, model.predict(users, items, clip=False), rtol=1e-13, atol=1e-13)
    assert np.ptp(compiled) > 1.0


@pytest.mark.parametrize("chunk", [1, 3, 8192])
def test_scores_add_the_biases_a_block_at_a_time_as_whole_gathers_would(chunk):
    """The scores behind epoch 0's cost and every prediction add each rating's user and movie bias a block at a
    time (blocks of 8, 24 and all 1,000 ratings here): what the whole-array sum of the formula gives."""
    from cfexplorer.core import mf
    from cfexplorer.core.models import make_model
    from cfexplorer.core.synthetic import planted_tastes

    ratings = planted_tastes(n_users=40, n_items=30, density=0.3, seed=4)
    model = make_model("mf", n_epochs=2).fit(ratings)
    rng = np.random.default_rng(5)
    users, items, offsets = rng.integers(0, 40, 1000), rng.integers(0, 30, 1000), rng.normal(size=1000)
    p = model._params
    expected = (np.einsum("nk,nk->n", p["user_factors"][users], p["item_factors"][items])
                + p["user_bias"][users] + p["item_bias"][items] + offsets)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mf, "_SCORE_CHUNK", chunk)
        scores = model._scores(users, items, offsets)
    np.testing.assert_allclose(scores, expected, rtol=1e-13, atol=1e-13)
    assert np.ptp(p["user_bias"]) > 0 and np.ptp(p["item_bias"]) > 0
    assert len(model._scores(users[:0], items[:0], offsets[:0])) == 0


def test_bincount_is_numpys_for_read_only_indices_and_refuses_an_index_past_the_end():
    """core.kernels.bincount reads the ratings' read-only index arrays in place (np.bincount copies them first,
    holding the GIL): the same counts and sums as numpy's; an index past ``minlength`` is refused, not grown."""
    rng = np.random.default_rng(3)
    indices = rng.integers(0, 50, 10_000)
    indices.flags.writeable = False
    weights = rng.normal(size=10_000)
    counts = kernels.bincount(indices, 53)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, np.bincount(indices, minlength=53))
    np.testing.assert_allclose(kernels.bincount(indices, 53, weights), np.bincount(indices, weights, 53), rtol=1e-12)
    np.testing.assert_array_equal(kernels.bincount(indices.astype(np.int32), 53), counts)  # numpy's own, as given
    with pytest.raises(IndexError):
        kernels.bincount(indices, 50 - 1)
    with pytest.raises(IndexError):
        kernels.compiled.bincount(np.array([0, -1]), np.zeros(3, np.int64))


def test_the_kernels_compile_where_the_compiler_has_only_the_older_shuffle():
    """GCC before 12 has __builtin_shuffle, not __builtin_shufflevector (SHUFFLE4 in _kernels.c): that branch is
    compiled here (syntax and types), as the build never compiles it."""
    import shlex
    import shutil
    import subprocess
    import sysconfig
    from pathlib import Path

    source = Path(kernels.__file__).with_name("_kernels.c")
    compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")[0]
    if not source.exists() or shutil.which(compiler) is None:
        pytest.skip("no kernel source or C compiler here")
    command = [compiler, "-fsyntax-only", "-Wno-psabi", "-DKERNELS_WITHOUT_SHUFFLEVECTOR",
               f"-I{sysconfig.get_paths()['include']}", str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
