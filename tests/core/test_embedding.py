"""The factor space's numbers: projections, neighbours, rankings, the one-hot lookup."""

from dataclasses import replace

import numpy as np
import pytest
from sklearn.decomposition import PCA

from cfexplorer.core.embedding import (
    ITEM_KIND, USER_KIND, Embedding, component_ends, distances_to, from_frame, kmeans_labels, nearest_neighbours,
    one_hot, pca, ranked, raw_axes, to_frame, tsne,
)
from cfexplorer.core.mf import MatrixFactorization
from cfexplorer.io.presets import PRESETS, load_preset


def trained_planted(seed=0):
    ratings = load_preset("planted")
    model = MatrixFactorization(**{**PRESETS["planted"].training, "seed": seed}).fit(ratings)
    return ratings, model


def taste_of_movies(ratings):
    return np.asarray(ratings.item_info["taste"])


def test_planted_movies_of_one_taste_are_closer_to_each_other_than_to_the_others():
    ratings, model = trained_planted()
    factors = model.item_factors_
    taste = taste_of_movies(ratings)
    same, different = [], []
    for i in range(len(factors)):
        distance = distances_to(factors, factors[i], "cosine")
        others = np.arange(len(factors)) != i
        same.append(distance[others & (taste == taste[i])].mean())
        different.append(distance[taste != taste[i]].mean())
        # and each movie's nearest neighbour shares its taste
        neighbour, _ = nearest_neighbours(factors, [i], n=1, metric="cosine")
        assert taste[neighbour[0]] == taste[i]
    assert max(same) < min(different)


def test_the_first_principal_component_separates_the_planted_tastes():
    ratings, model = trained_planted()
    first = pca(model.item_factors_, 2).coordinates[:, 0]
    taste = taste_of_movies(ratings)
    sides = {t: set(np.sign(first[taste == t])) for t in np.unique(taste)}
    assert all(len(side) == 1 for side in sides.values())  # every taste on one side of zero
    assert len(set().union(*sides.values())) == 2  # and the two tastes on opposite sides


def test_pca_matches_scikit_learn_up_to_sign():
    factors = np.random.default_rng(3).normal(size=(40, 5)) * [3, 2, 1, 0.5, 0.1]
    ours = pca(factors, 2)
    theirs = PCA(2).fit(factors)
    np.testing.assert_allclose(ours.explained_variance_ratio, theirs.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(np.abs(ours.coordinates), np.abs(theirs.transform(factors)), atol=1e-10)


@pytest.mark.parametrize("shape", [(3, 8), (8, 8), (5000, 16)])  # fewer rows than factors (SVD), as many, many more
def test_pca_matches_scikit_learn_for_any_number_of_rows(shape):
    factors = np.random.default_rng(5).normal(size=shape) * np.linspace(3, 0.1, shape[1])
    ours = pca(factors, 2)
    theirs = PCA(2).fit(factors)
    np.testing.assert_allclose(ours.explained_variance_ratio, theirs.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(ours.coordinates), np.abs(theirs.transform(factors)), atol=1e-8)
    np.testing.assert_allclose(np.linalg.norm(ours.components, axis=1), 1.0)


def test_pca_keeps_the_signs_of_the_previous_frame():
    factors = np.random.default_rng(4).normal(size=(30, 3))
    first = pca(factors, 2)
    flipped = pca(factors, 2, reference_components=-first.components)
    np.testing.assert_allclose(flipped.coordinates, -first.coordinates)


def test_pca_of_fewer_factors_than_components_pads_with_zeros():
    result = pca(np.arange(6.0).reshape(6, 1), 2)
    assert result.coordinates.shape == (6, 2)
    np.testing.assert_allclose(result.coordinates[:, 1], 0)
    assert result.explained_variance_ratio[0] == pytest.approx(1.0)


def test_raw_axes_pick_factor_columns():
    factors = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(raw_axes(factors, 2, 0), factors[:, [2, 0]])
    np.testing.assert_array_equal(raw_axes(factors, 5, 0)[:, 0], 0)


def test_neighbours_match_a_direct_computation():
    factors = np.random.default_rng(5).normal(size=(50, 4))
    for metric in ("cosine", "euclidean"):
        indices, distances = nearest_neighbours(factors, [7], n=5, metric=metric)
        direct = []
        for j in range(50):
            if j == 7:
                continue
            a, b = factors[7], factors[j]
            d = (np.sqrt(((a - b) ** 2).sum()) if metric == "euclidean"
                 else 1 - a @ b / np.sqrt((a @ a) * (b @ b)))
            direct.append((d, j))
        direct.sort()
        assert list(indices) == [j for _, j in direct[:5]]
        np.testing.assert_allclose(distances, [d for d, _ in direct[:5]], atol=1e-12)


def test_neighbours_of_several_rows_are_taken_from_their_mean_and_leave_them_out():
    factors = np.array([[1.0, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.5, 0.5]])
    indices, _ = nearest_neighbours(factors, [0, 2], n=3, metric="euclidean")
    assert indices[0] == 4 and 0 not in indices and 2 not in indices


def test_neighbours_are_stable_for_a_fixed_seed():
    first = nearest_neighbours(trained_planted(seed=2)[1].item_factors_, [0], n=5)
    second = nearest_neighbours(trained_planted(seed=2)[1].item_factors_, [0], n=5)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_allclose(first[1], second[1])


def test_bias_rankings_match_sorting_the_model_arrays():
    ratings = load_preset("planted")
    model = MatrixFactorization(n_factors=2, item_bias=True, user_bias=True, n_epochs=30, seed=0).fit(ratings)
    best, worst = ranked(model.item_bias_, 3)
    assert list(best) == list(np.argsort(-model.item_bias_, kind="stable")[:3])
    assert list(worst) == list(np.argsort(model.item_bias_, kind="stable")[:3])
    assert model.item_bias_[best[0]] == model.item_bias_.max()


def test_ties_in_rankings_go_by_index():
    best, worst = ranked(np.array([1.0, 2.0, 2.0, 0.0, 0.0]), 2)
    assert list(best) == [1, 2] and list(worst) == [3, 4]


def test_component_ends_are_the_extremes_of_the_projection():
    factors = np.random.default_rng(6).normal(size=(20, 3))
    low, high = component_ends(factors, 0, n=2)
    first = pca(factors, 1).coordinates[:, 0]
    assert set(low) == set(np.argsort(first)[:2]) and set(high) == set(np.argsort(first)[-2:])
    # A PCA the caller already has gives the same ends for every component.
    both = pca(factors, 2)
    for component in (0, 1):
        given = component_ends(factors, component, 2, both)
        np.testing.assert_array_equal(given[0], component_ends(factors, component, 2)[0])
        np.testing.assert_array_equal(given[1], component_ends(factors, component, 2)[1])


def test_embedding_lookup_is_one_hot_times_the_weight_matrix():
    weights = np.random.default_rng(7).normal(size=(9, 4))
    for i in range(9):
        np.testing.assert_array_equal(one_hot(9, i) @ weights, weights[i])


def test_kmeans_finds_the_planted_tastes():
    ratings, model = trained_planted()
    labels = kmeans_labels(model.item_factors_, 2, seed=0)
    taste = taste_of_movies(ratings)
    # the same partition, whatever the cluster numbers
    assert len({(a, b) for a, b in zip(labels, taste)}) == 2


def test_kmeans_from_the_previous_labels_keeps_each_cluster_number():
    ratings, model = trained_planted()
    factors = model.item_factors_
    fresh = kmeans_labels(factors, 2, seed=0)
    swapped = 1 - fresh  # the same clusters, numbered the other way round
    moved = factors + np.random.default_rng(3).normal(scale=1e-3, size=factors.shape)  # the next epoch
    np.testing.assert_array_equal(kmeans_labels(moved, 2, start=swapped), swapped)
    np.testing.assert_array_equal(kmeans_labels(moved, 2, start=fresh), fresh)
    # a start with an empty cluster, or for other rows, is ignored: a fresh search
    np.testing.assert_array_equal(kmeans_labels(moved, 2, seed=0, start=np.zeros(len(fresh), dtype=np.int64)),
                                  kmeans_labels(moved, 2, seed=0))
    np.testing.assert_array_equal(kmeans_labels(moved, 2, seed=0, start=fresh[:-1]), kmeans_labels(moved, 2, seed=0))


def test_kmeans_caps_k_at_the_distinct_rows():
    labels = kmeans_labels(np.array([[0.0, 1], [0, 1], [1, 0]]), 5)
    assert len(set(labels)) == 2


def test_tsne_gives_two_coordinates_even_for_a_handful_of_points():
    coordinates = tsne(np.random.default_rng(8).normal(size=(6, 3)), seed=0)
    assert coordinates.shape == (6, 2) and np.isfinite(coordinates).all()


def test_tsne_keeps_clusters_apart():
    """Two tastes, far apart in 10 dimensions: in t-SNE's plane every point's nearest neighbour is of its own."""
    rng = np.random.default_rng(3)
    centres = np.zeros((2, 10))
    centres[1, :] = 6.0
    taste = np.repeat([0, 1], 20)
    coordinates = tsne(centres[taste] + rng.normal(size=(40, 10)), seed=0)
    distances = np.linalg.norm(coordinates[:, None] - coordinates[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert (taste[distances.argmin(axis=1)] == taste).all()


def test_embedding_from_model_and_frame_round_trip():
    ratings, model = trained_planted()
    embedding = Embedding.from_model(model.predictor(), ratings)
    assert list(embedding.items.names) == list(ratings.item_titles())
    np.testing.assert_array_equal(embedding.items.counts, ratings.item_counts())
    back = from_frame(to_frame(embedding))
    for kind in (ITEM_KIND, USER_KIND):
        np.testing.assert_allclose(back.table(kind).factors, embedding.table(kind).factors)
        np.testing.assert_allclose(back.table(kind).bias, embedding.table(kind).bias)
        assert list(back.table(kind).names) == list(embedding.table(kind).names)


def test_another_frame_of_a_run_shares_the_rows_and_carries_the_new_factors():
    ratings, model = trained_planted()
    first = Embedding.from_model(model.predictor(), ratings, epoch=1)
    predictor = model.predictor()
    later = replace(predictor, item_factors=predictor.item_factors * 2.0)  # another epoch: other numbers, same rows
    frame = first.with_model(later, epoch=7)
    rebuilt = Embedding.from_model(later, ratings, epoch=7)
    assert frame.epoch == 7 and frame.source == first.source
    for kind in (ITEM_KIND, USER_KIND):
        np.testing.assert_array_equal(frame.table(kind).factors, rebuilt.table(kind).factors)
        np.testing.assert_array_equal(frame.table(kind).bias, rebuilt.table(kind).bias)
        assert list(frame.table(kind).names) == list(rebuilt.table(kind).names)
        for rows in ("names", "counts", "means"):
            assert getattr(frame.table(kind), rows) is getattr(first.table(kind), rows)
    np.testing.assert_array_equal(frame.items.factors, 2.0 * first.items.factors)


def test_find_by_name_puts_exact_matches_first():
    from cfexplorer.core.embedding import EmbeddingTable

    table = EmbeddingTable(["Romance 10", "Action 1", "Romance 1", "romance 12"], np.zeros((4, 2)), None)
    assert list(table.find("ROMANCE 1")) == [2, 0, 3]
    assert len(table.find("no such movie")) == 0 and len(table.find("  ")) == 0


def test_tsne_reports_its_progress_from_the_first_neighbours_to_the_last_iteration():
    from cfexplorer.core.embedding import TSNE_ITERATIONS, tsne

    rng = np.random.default_rng(0)
    factors = np.vstack([rng.normal(0, 0.1, (15, 3)), rng.normal(3, 0.1, (15, 3))])
    reports = []
    coordinates = tsne(factors, seed=0, progress=lambda share, text: reports.append((share, text)))
    shares = [share for share, _ in reports]
    assert len(reports) >= 5 and shares == sorted(shares) and shares[0] == 0.0 and shares[-1] == 1.0
    assert "neighbours" in reports[0][1] and f"iteration 50 of at most {TSNE_ITERATIONS}" in [t for _, t in reports]
    assert coordinates.shape == (30, 2) and np.isfinite(coordinates).all()


def test_a_vector_of_zeros_has_no_cosine_neighbours_and_is_no_ones():
    """Movies no rating trained (their factors left at 0) were every movie's "1.0000"-away neighbours in index
    order, and their own lists were arbitrary movies at 1.0000."""
    from cfexplorer.core.embedding import nearest_neighbours

    factors = np.array([[1.0, 0.0], [0.0, 0.0], [0.9, 0.1], [0.0, 0.0], [-1.0, 0.2]])
    rows, distances = nearest_neighbours(factors, [0], n=10, metric="cosine")
    assert list(rows) == [2, 4]  # the two untrained rows left out
    assert distances[0] == pytest.approx(1 - 0.9 / np.hypot(0.9, 0.1))
    assert len(nearest_neighbours(factors, [1], n=10, metric="cosine")[0]) == 0
    rows, distances = nearest_neighbours(factors, [1], n=10, metric="euclidean")  # distance from the origin
    assert list(rows) == [3, 2, 0, 4] and distances[0] == 0.0
