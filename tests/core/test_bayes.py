"""Bayesian MF by Gibbs sampling: the conjugate draws against their closed forms, the chain's record,
its posterior mean and spread, reproducibility, accuracy against ALS, and its saved state."""

import numpy as np
import pytest

from cfexplorer.core.bayes import BayesianMF
from cfexplorer.core.gibbs import GaussianWishart, KeptSamples, LowRankSum, noise_precision_posterior, sample_wishart
from cfexplorer.core.mf import MatrixFactorization
from cfexplorer.core.models import checked_model_from_state, kind_of, make_model
from cfexplorer.core.ratings import Ratings, train_test_split
from cfexplorer.core.synthetic import low_rank


# --- the conjugate draws -----------------------------------------------------------------------------------------
def test_the_gaussian_wishart_posterior_is_prior_times_likelihood():
    """log posterior(mu, Lambda) - log prior(mu, Lambda) - sum log N(row | mu, Lambda^-1) is the same
    constant at every (mu, Lambda): the posterior is the normalized product (scipy's densities)."""
    from scipy import stats  # here, not at the top: 1-1.5 s of every worker's collection for this one test

    rng = np.random.default_rng(0)
    d = 3
    prior = GaussianWishart(rng.normal(size=d), 1.5, np.diag([0.5, 1.0, 2.0]), d + 2.0)
    rows = rng.normal(1.0, 0.7, (12, d))
    posterior = prior.posterior(rows)

    def log_density(gw: GaussianWishart, mu, precision):
        return (stats.wishart(df=gw.dof, scale=gw.scale).logpdf(precision)
                + stats.multivariate_normal(gw.centre, np.linalg.inv(gw.beta * precision)).logpdf(mu))

    gaps = []
    for _ in range(6):
        precision = stats.wishart(df=d + 3, scale=np.eye(d) / 2).rvs(random_state=rng)
        mu = rng.normal(size=d)
        likelihood = stats.multivariate_normal(mu, np.linalg.inv(precision)).logpdf(rows).sum()
        gaps.append(log_density(posterior, mu, precision) - log_density(prior, mu, precision) - likelihood)
    np.testing.assert_allclose(gaps, gaps[0], atol=1e-8)
    assert prior.posterior(rows[:0]) is prior


def test_updating_on_two_batches_is_updating_on_both_at_once():
    rng = np.random.default_rng(1)
    prior = GaussianWishart.prior(4)
    rows = rng.normal(size=(9, 4))
    once, twice = prior.posterior(rows), prior.posterior(rows[:4]).posterior(rows[4:])
    for a, b in ((once.centre, twice.centre), (once.beta, twice.beta), (once.scale, twice.scale),
                 (once.dof, twice.dof)):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_wishart_draws_have_the_closed_form_mean_and_variance():
    """Bartlett's draws of W(scale, dof): mean dof * scale, Var(W_ij) = dof (s_ij^2 + s_ii s_jj)."""
    rng = np.random.default_rng(2)
    scale = np.array([[1.0, 0.3], [0.3, 0.5]])
    dof = 5.0
    draws = np.array([sample_wishart(rng, scale, dof) for _ in range(6000)])
    np.testing.assert_allclose(draws.mean(axis=0), dof * scale, atol=0.1)
    variance = dof * (scale**2 + np.outer(np.diag(scale), np.diag(scale)))
    np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.1)


def test_the_noise_precision_posterior_is_the_gamma_closed_form():
    # Gamma(1, 1) prior, 4 residuals whose squares sum to 2: Gamma(1 + 4/2, 1 + 2/2).
    assert noise_precision_posterior(2.0, 4) == (3.0, 2.0)


# --- what the chain keeps -----------------------------------------------------------------------------------------
def test_the_low_rank_sum_is_the_exact_sum_while_its_rank_allows():
    rng = np.random.default_rng(3)
    left_space, right_space = rng.normal(size=(30, 6)), rng.normal(size=(20, 6))
    total, low_rank_sum = np.zeros((30, 20)), LowRankSum(max_rank=12, slack=4)
    for _ in range(25):  # rank 3 each, compressed several times; the sum's rank stays within 6
        left, right = left_space @ rng.normal(size=(6, 3)), right_space @ rng.normal(size=(6, 3))
        total += left @ right.T
        low_rank_sum.add(left, right)
    np.testing.assert_allclose(low_rank_sum.left @ low_rank_sum.right.T, total, atol=1e-9 * np.abs(total).max())
    assert low_rank_sum.left.shape[1] <= 12 + 4 + 3
    # Past its rank it keeps the best approximation of that rank (Eckart-Young): the largest singular values.
    small = LowRankSum(max_rank=2, slack=0)
    small.add(left_space[:, :4], right_space[:, :4])
    kept = np.linalg.svd(small.left @ small.right.T, compute_uv=False)[:3]
    exact = np.linalg.svd(left_space[:, :4] @ right_space[:, :4].T, compute_uv=False)
    np.testing.assert_allclose(kept, [exact[0], exact[1], 0.0], atol=1e-9 * exact[0])


def test_kept_samples_spread_evenly_over_the_chain():
    kept = KeptSamples(4)
    for sample in range(20):
        kept.offer(sample)
    # 0-3 kept; at 4 halved to 0, 2, 4; at 8 to 0, 4, 8; at 16 to 0, 8, 16.
    assert kept.samples == [0, 8, 16] and kept.stride == 8


# --- the chain ----------------------------------------------------------------------------------------------------
SMALL = low_rank(n_users=40, n_items=30, rank=2, density=0.5, noise=0.3, seed=4)


def test_each_record_is_the_cost_of_the_sample_it_drew():
    """data term = 1/2 sum (z - y)^2 at the sample just drawn (the last kept one when all are kept), reg term
    = sigma^2 / 2 sum (theta - mu)^T Lambda (theta - mu) with that sweep's hyperparameters."""
    model = BayesianMF(n_factors=3, n_epochs=6, kept_samples=10, seed=1)
    records = list(model.iter_fit(SMALL))
    assert [r.epoch for r in records] == list(range(1, 7))
    user_rows, item_rows = model.kept_samples_[-1]
    k, g = 3, SMALL.values.mean()
    z = (g + user_rows[SMALL.users, k] + item_rows[SMALL.items, k]
         + np.einsum("nk,nk->n", user_rows[SMALL.users, :k], item_rows[SMALL.items, :k]))
    assert records[-1].data_term == pytest.approx(0.5 * np.sum((z - SMALL.values) ** 2), rel=1e-9)
    hyper = model.hyperparameters_
    reg = 0.0
    for side, rows in (("user", user_rows), ("item", item_rows)):
        mean, precision = hyper[side]
        centred = rows - mean
        reg += np.einsum("ni,ij,nj->", centred, precision, centred)
    assert records[-1].reg_term == pytest.approx(0.5 * hyper["sigma"] ** 2 * reg, rel=1e-7)
    assert records[-1].total == pytest.approx(records[-1].data_term + records[-1].reg_term)


def test_the_prediction_is_the_mean_over_the_samples_after_burn_in():
    model = BayesianMF(n_factors=2, n_epochs=12, burn_in=4, kept_samples=8, seed=2).fit(SMALL)
    assert model.n_averaged_ == 8 and len(model.kept_samples_) == 8
    k = 2
    scores = [SMALL.values.mean() + u[SMALL.users, k] + i[SMALL.items, k]
              + np.einsum("nk,nk->n", u[SMALL.users, :k], i[SMALL.items, :k]) for u, i in model.kept_samples_]
    np.testing.assert_allclose(model.predict(SMALL.users, SMALL.items, clip=False), np.mean(scores, axis=0),
                               atol=1e-9)
    np.testing.assert_allclose(model.predict_std(SMALL.users, SMALL.items), np.std(scores, axis=0), atol=1e-9)
    every_pair = np.arange(40).repeat(30), np.tile(np.arange(30), 40)
    np.testing.assert_allclose(model.predictor().spread_matrix().ravel(), model.predict_std(*every_pair), atol=1e-9)
    cell = [float(SMALL.values.mean() + u[3, k] + i[4, k] + u[3, :k] @ i[4, :k]) for u, i in model.kept_samples_]
    assert model.predictor().spread_cell(3, 4) == pytest.approx(np.std(cell))
    assert model.predictor().score(3, 4) == pytest.approx(np.mean(cell))


def test_the_noise_level_is_found():
    """Ratings with noise sd 0.3 around a rank-2 matrix: the sampled noise sd comes out near 0.3."""
    ratings = low_rank(n_users=80, n_items=60, rank=2, density=0.5, noise=0.3, seed=5)
    model = BayesianMF(n_factors=2, n_epochs=60, burn_in=20, seed=0).fit(ratings)
    assert 0.25 < model.noise_sd_ < 0.36


def test_the_same_seed_draws_the_same_chain_and_another_seed_another():
    first = BayesianMF(n_factors=2, n_epochs=5, seed=7).fit(SMALL)
    again = BayesianMF(n_factors=2, n_epochs=5, seed=7).fit(SMALL)
    other = BayesianMF(n_factors=2, n_epochs=5, seed=8).fit(SMALL)
    users, items = np.arange(40).repeat(30), np.tile(np.arange(30), 40)
    np.testing.assert_array_equal(first.predict(users, items), again.predict(users, items))
    np.testing.assert_array_equal(first.predict_std(users, items), again.predict_std(users, items))
    assert [r.total for r in first.history_] == [r.total for r in again.history_]
    assert not np.allclose(first.predict(users, items), other.predict(users, items))


def test_it_beats_als_on_a_planted_low_rank_set():
    """Sparse noisy ratings of a rank-3 matrix: the posterior mean predicts held-out ratings better than
    the default ALS (whose lambda is tuned for MovieLens, not for this)."""
    ratings = low_rank(n_users=120, n_items=100, rank=3, density=0.15, noise=0.5, seed=6)
    train, test = train_test_split(ratings, 0.2, seed=0)
    als = MatrixFactorization(n_factors=3).fit(train).score(test)["rmse"]
    bayes = BayesianMF(n_factors=3, n_epochs=80, burn_in=20, seed=0).fit(train).score(test)["rmse"]
    assert bayes < 0.9 * als, (bayes, als)


def test_a_user_without_ratings_is_less_certain_than_one_with_many():
    rated = SMALL.subset(SMALL.users != 0)  # user 0 keeps their column, without ratings
    model = BayesianMF(n_factors=2, n_epochs=40, burn_in=10, seed=3).fit(rated)
    predictor = model.predictor()
    busiest = int(np.argmax(rated.user_counts()))
    assert predictor.user_spread(0) > 1.5 * predictor.user_spread(busiest)
    items = np.arange(rated.n_items)
    assert np.all(model.predict_std(np.zeros_like(items), items) > model.predict_std(np.full_like(items, busiest),
                                                                                     items))


def test_settings_are_checked_with_one_line_messages():
    with pytest.raises(ValueError, match="burn-in"):
        BayesianMF(n_epochs=5, burn_in=5).fit(SMALL)
    with pytest.raises(ValueError, match="kept samples must be a whole number >= 2"):
        BayesianMF(kept_samples=1).fit(SMALL)
    likes = Ratings(SMALL.users, SMALL.items, (SMALL.values > 3).astype(float), SMALL.user_labels,
                    SMALL.item_labels, binary=True)
    with pytest.raises(ValueError, match="likes"):
        BayesianMF().fit(likes)


# --- state -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_epochs,burn_in", [(8, 2), (3, 2)], ids=["averaged", "one-sample"])
def test_the_state_round_trip_keeps_means_spreads_and_history(n_epochs, burn_in):
    model = make_model("bayes", n_factors=2, n_epochs=n_epochs, burn_in=burn_in, seed=4).fit(SMALL)
    restored = checked_model_from_state(model.get_state(), SMALL)
    assert kind_of(restored) == "bayes" and restored.get_params() == model.get_params()
    users, items = np.arange(40).repeat(30), np.tile(np.arange(30), 40)
    np.testing.assert_array_equal(restored.predict(users, items), model.predict(users, items))
    np.testing.assert_array_equal(restored.predict_std(users, items), model.predict_std(users, items))
    assert [r.total for r in restored.history_] == [r.total for r in model.history_]
    assert restored.noise_sd_ == model.noise_sd_


def test_a_chain_stopped_during_burn_in_saves_and_restores_its_current_sample():
    model = BayesianMF(n_factors=2, n_epochs=10, burn_in=5, seed=4)
    chain = model.iter_fit(SMALL)
    next(chain), next(chain)
    chain.close()  # what Stop does: the generator is left after an epoch
    assert model.n_averaged_ == 0 and model.kept_samples_ == ()
    restored = checked_model_from_state(model.get_state(), SMALL)
    np.testing.assert_array_equal(restored.predict(SMALL.users, SMALL.items), model.predict(SMALL.users, SMALL.items))
    assert np.isnan(restored.predict_std([0], [0])).all()


def test_a_state_that_does_not_fit_is_refused():
    state = BayesianMF(n_factors=2, n_epochs=4, seed=0).fit(SMALL).get_state()
    with pytest.raises(ValueError, match="kept item rows"):
        checked_model_from_state({**state, "kept_item_rows": state["kept_item_rows"][:, :5]}, SMALL)
    with pytest.raises(ValueError, match="product right"):
        checked_model_from_state({**state, "product_right": state["product_right"][:, :1]}, SMALL)
    with pytest.raises(ValueError, match="noise deviation"):
        checked_model_from_state({**state, "noise_sd": -1.0}, SMALL)
    with pytest.raises(ValueError, match="not a finite number"):
        checked_model_from_state({**state, "user_rows": state["user_rows"] * np.nan}, SMALL)
    with pytest.raises(ValueError, match="burn-in"):
        checked_model_from_state({**state, "params": {**state["params"], "burn_in": 10}}, SMALL)


def test_on_movielens_users_with_few_ratings_are_less_certain(shared_data):
    """The one MovieLens test (the accuracy goal is measured by benchmarks/bench_bayes.py): after 30 samples the
    posterior mean already beats the biases, and the 20 users with fewest ratings are less certain than the 20
    with most."""
    from cfexplorer.core.mf import BiasBaseline
    from cfexplorer.io.readers import read_any

    ratings = read_any(shared_data / "ml-latest-small" / "ratings.csv").ratings
    train, test = train_test_split(ratings, 0.2, seed=0)
    model = BayesianMF(n_factors=6, n_epochs=30, kept_samples=8, seed=0).fit(train)
    assert model.score(test)["rmse"] < BiasBaseline().fit(train).score(test)["rmse"] - 0.005
    by_count = np.argsort(train.user_counts(), kind="stable")
    predictor = model.predictor()
    few = np.mean([predictor.user_spread(user) for user in by_count[:20]])
    many = np.mean([predictor.user_spread(user) for user in by_count[-20:]])
    assert few > 1.1 * many, (few, many)
