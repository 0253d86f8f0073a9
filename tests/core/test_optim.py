"""core/optim.py's Adam against the paper's update written out plainly (Kingma & Ba 2015, Algorithm 1)."""

import numpy as np
import pytest

from cfexplorer.core import kernels
from cfexplorer.core.optim import Adam


def textbook_adam(theta, gradients, learning_rate, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(gradients, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        theta = theta - learning_rate * m_hat / (np.sqrt(v_hat) + eps)
    return theta


@pytest.mark.parametrize("form", ["compiled", "numpy"])
def test_adam_takes_the_papers_steps(form, monkeypatch):
    if form == "numpy":
        monkeypatch.setattr(kernels, "compiled", None)
    elif kernels.compiled is None:
        pytest.skip(kernels.describe())
    rng = np.random.default_rng(3)
    start = rng.normal(size=(40, 5))
    # Gradients of every size, tiny ones included, where eps matters next to sqrt(v).
    gradients = [rng.normal(size=start.shape) * 10.0 ** rng.integers(-9, 2, size=start.shape) for _ in range(12)]
    params = {"factors": start.copy()}
    adam = Adam(0.05)
    for g in gradients:
        adam.step(params, {"factors": g.copy()})
    expected = textbook_adam(start, gradients, 0.05)
    np.testing.assert_allclose(params["factors"], expected, rtol=1e-13, atol=1e-15)
    assert not np.allclose(params["factors"], start, atol=1e-3)  # it moved
