import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from cfexplorer.core import metrics


def test_rmse_and_mae_known_values():
    assert metrics.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert metrics.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)


@pytest.mark.parametrize("block", [1, 7, 2**16])
def test_rmse_and_mae_a_block_at_a_time_match_whole_array_numpy(monkeypatch, block):
    """Summed a block at a time (with a block of one, of seven over 100 values, and one block), clipped to a
    scale where asked, they agree with numpy's whole-array forms and leave the predictions as they were."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    monkeypatch.setattr(metrics, "_BLOCK", block)
    rng = np.random.default_rng(3)
    y, prediction = rng.uniform(0.5, 5, 100), rng.uniform(-1, 7, 100)
    given = prediction.copy()
    assert metrics.rmse(y, prediction) == pytest.approx(np.sqrt(mean_squared_error(y, prediction)), rel=1e-12)
    assert metrics.mae(y, prediction) == pytest.approx(mean_absolute_error(y, prediction), rel=1e-12)
    clipped = np.clip(prediction, 0.5, 5)
    report = metrics.regression_report(y, prediction, prefix="train_", clip=(0.5, 5))
    assert report == pytest.approx({"train_rmse": np.sqrt(mean_squared_error(y, clipped)),
                                    "train_mae": mean_absolute_error(y, clipped)}, rel=1e-12)
    assert report["train_rmse"] < metrics.rmse(y, prediction)  # clipping to the scale moved predictions in
    np.testing.assert_array_equal(prediction, given)
    assert metrics.rmse(np.full(3, 2.0), 1.0) == pytest.approx(1.0)  # a single prediction for every rating
    assert np.isnan(metrics.rmse([], [])) and np.isnan(metrics.mae([], []))
    assert np.isnan(metrics.rmse(1.0, [])) and np.isnan(metrics.mae(np.zeros(3), np.zeros((0, 3))))


def test_binary_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.3 * y + rng.random(500) * 0.7, 0.01, 0.99)
    p[:50] = 0.5  # ties
    assert metrics.roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert metrics.bce(y, p) == pytest.approx(log_loss(y, p))
    assert metrics.accuracy(y, p) == pytest.approx(np.mean((p >= 0.5) == y))


def test_auc_is_nan_with_one_class():
    assert np.isnan(metrics.roc_auc([1, 1], [0.2, 0.9]))


@pytest.mark.parametrize("values", [[], [3.0], [2, 2, 2], [0.5, 0.1, 0.5, 0.9, 0.1, 0.5], list(range(10, 0, -1))])
def test_average_ranks_match_scipy(values):
    from scipy.stats import rankdata

    np.testing.assert_allclose(metrics.average_ranks(np.array(values, float)), rankdata(values))
