"""First-order update rules over named parameter arrays (updated in place)."""

from __future__ import annotations

import numpy as np

from . import kernels


class GradientDescent:
    """Plain steps: theta <- theta - learning_rate * gradient."""

    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, grad in grads.items():
            params[name] -= self.learning_rate * grad


class Adam:
    """Adam (Kingma & Ba 2015) with bias-corrected moment estimates."""

    def __init__(self, learning_rate: float, beta1=0.9, beta2=0.999, eps=1e-8):
        self.learning_rate = learning_rate
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self._m: dict[str, np.ndarray] = {}
        self._v: dict[str, np.ndarray] = {}
        self._scratch: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # reused: fresh pages fault
        self._t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self._t += 1
        correction1 = 1 - self.beta1**self._t
        correction2 = 1 - self.beta2**self._t
        for name, grad in grads.items():
            if name not in self._m:
                self._m[name], self._v[name] = np.zeros_like(grad), np.zeros_like(grad)
            m, v = self._m[name], self._v[name]
            param = params[name]
            if kernels.compiled is not None and _plain(param, grad, m, v):
                # One pass over memory instead of twelve (core/_kernels.c).
                kernels.compiled.adam_step(param, grad, m, v, self.learning_rate, self.beta1, self.beta2, self.eps,
                                           correction1, correction2)
                continue
            scratch = self._scratch.get(name)
            if scratch is None or scratch[0].shape != grad.shape:
                scratch = self._scratch[name] = (np.empty_like(grad), np.empty_like(grad))
            step, scale = scratch
            # In place, as (lr / c1) * m / (sqrt(v) / sqrt(c2) + eps), the compiled update's order: the same
            # numbers to rounding as lr * (m / c1) / (sqrt(v / c2) + eps), with half the passes over memory (a
            # full-batch epoch's largest cost after the scores) and no division by the corrections.
            m *= self.beta1
            np.multiply(grad, 1 - self.beta1, out=step)
            m += step
            v *= self.beta2
            np.multiply(grad, 1 - self.beta2, out=scale)
            scale *= grad
            v += scale
            np.multiply(m, self.learning_rate / correction1, out=step)
            np.sqrt(v, out=scale)
            scale *= 1.0 / np.sqrt(correction2)
            scale += self.eps
            step /= scale
            params[name] -= step


def _plain(*arrays: np.ndarray) -> bool:
    """Whether the compiled update can take these arrays: float64, C order, one shape."""
    return all(a.dtype == np.float64 and a.flags.c_contiguous and a.shape == arrays[0].shape for a in arrays)
