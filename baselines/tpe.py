"""TPE, the tree-structured Parzen estimator (Bergstra et al. 2011), multivariate as Optuna 5
does it (Falkner et al. 2018's joint kernels), in numpy, at the maximal fidelity.

After ``n_startup`` uniform random configurations, each ``ask`` splits the finished evaluations
by loss into the best ``gamma(n) = min(ceil(0.1 n), 25)`` ("below") and the rest ("above"), fits
one Parzen estimator to each, draws ``n_ei_candidates`` configurations from the "below" estimator
and proposes the one that maximises ``log l(x) - log g(x)`` (the expected-improvement ratio).

Each estimator is a mixture with one product kernel per observation plus a prior kernel, over the
unit-cube encoding of ``baselines/_model_based.py``, with Optuna's rules:

- numeric columns: truncated normals on ``[0, 1]`` centred at the observations; bandwidth of an
  observation = the larger gap to its sorted neighbours (the endpoints 0 and 1 count as
  neighbours, but the first and last observation use their inner gap), clipped to
  ``[1 / min(100, n + 2), 1]``; the prior kernel is centred at 0.5 with bandwidth 1.
  Discrete columns (Int on a linear scale, Ordinal) use the kernel's mass on the value's cell.
- categorical columns: each observation puts weight 1 on its choice plus ``prior_weight / (n+1)``
  on every choice (normalised); the prior kernel is uniform.
- mixture weights: Optuna's ``default_weights`` (older observations ramped down once there are
  more than 25), in trial order, and ``prior_weight`` for the prior kernel.

Diverged runs (NaN) count as the worst loss. Same seed, same calls: same proposals.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import log_ndtr, ndtr, ndtri

from baselines._model_based import Encoding, History, ModelBasedSearch
from baselines._validation import check_int, check_real, check_space
from hpobench.harness import Problem

__all__ = ["ParzenEstimator", "default_gamma", "default_weights", "make_optimizer"]
__version__ = "1.0"

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def default_gamma(n: int) -> int:
    """How many of ``n`` observations are "below" (Optuna's default)."""
    return min(math.ceil(0.1 * n), 25)


def default_weights(n: int) -> np.ndarray:
    """Mixture weights of ``n`` observations in trial order (Optuna's default)."""
    if n == 0:
        return np.asarray([])
    if n < 25:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, num=n - 25), np.ones(25)])


def _log_diff(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``log(exp(x) - exp(y))`` for ``x >= y``."""
    with np.errstate(divide="ignore"):
        return x + np.log1p(-np.exp(np.minimum(y - x, 0.0)))


def log_gauss_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for ``a <= b``, accurate in both tails."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    out = np.empty(a.shape)
    left = b <= 0
    right = a > 0
    mid = ~(left | right)
    out[left] = _log_diff(log_ndtr(b[left]), log_ndtr(a[left]))
    out[right] = _log_diff(log_ndtr(-a[right]), log_ndtr(-b[right]))
    with np.errstate(divide="ignore"):
        out[mid] = np.log1p(-ndtr(a[mid]) - ndtr(-b[mid]))
    return out


class ParzenEstimator:
    """A mixture of product kernels over encoded rows (see the module docstring).

    Args:
        enc: the encoding (tells continuous, discrete and categorical columns apart).
        X: observations, ``[n, d]`` encoded rows in trial order.
        weights: ``[n]`` non-negative mixture weights of the observations.
        prior_weight: weight of the prior kernel.
    """

    def __init__(
        self, enc: Encoding, X: np.ndarray, weights: np.ndarray, prior_weight: float
    ) -> None:
        n = len(X)
        self.enc = enc
        w = np.append(np.asarray(weights, dtype=np.float64), prior_weight) if n else np.ones(1)
        self.log_weights = np.log(w / w.sum())
        self.weights = w / w.sum()
        num = enc.numeric
        self.mu = np.vstack([X[:, num], np.full((1, len(num)), 0.5)])  # [K, p]
        self.sigma = np.vstack([self._bandwidths(X[:, num]), np.ones((1, len(num)))])
        self.cat_weights: list[np.ndarray] = []  # per categorical column, [K, k]
        for j, k in zip(enc.categorical, enc.n_choices, strict=True):
            W = np.full((n + 1, int(k)), prior_weight / (n + 1))
            W[np.arange(n), X[:, j].astype(np.int64)] += 1.0
            self.cat_weights.append(W / W.sum(axis=1, keepdims=True))

    @staticmethod
    def _bandwidths(M: np.ndarray) -> np.ndarray:
        n, p = M.shape
        if n == 0:
            return np.empty((0, p))
        order = np.argsort(
            M, axis=0
        )  # numpy's default kind, as Optuna (ties matter once weights ramp)
        S = np.take_along_axis(M, order, axis=0)
        ext = np.vstack([np.zeros((1, p)), S, np.ones((1, p))])
        sig = np.maximum(ext[1:-1] - ext[:-2], ext[2:] - ext[1:-1])
        if n + 2 >= 4:  # consider_endpoints=False
            sig[0] = ext[2] - ext[1]
            sig[-1] = ext[-2] - ext[-3]
        out = np.empty_like(sig)
        np.put_along_axis(out, order, sig, axis=0)
        return np.clip(out, 1.0 / min(100.0, n + 2.0), 1.0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` encoded rows: pick a kernel by weight, then draw every column from it."""
        enc = self.enc
        k = rng.choice(len(self.weights), p=self.weights, size=size)
        X = np.empty((size, enc.d))
        for W, j in zip(self.cat_weights, enc.categorical, strict=True):
            cum = np.cumsum(W[k], axis=1)
            cum[:, -1] = 1.0
            X[:, j] = (cum < rng.random(size)[:, None]).sum(axis=1)
        if len(enc.numeric):
            mu, sd = self.mu[k], self.sigma[k]
            lo, hi = ndtr((0.0 - mu) / sd), ndtr((1.0 - mu) / sd)
            u = lo + rng.random(mu.shape) * (hi - lo)
            X[:, enc.numeric] = np.clip(mu + sd * ndtri(np.clip(u, 1e-300, 1 - 1e-16)), 0, 1)
        return enc.snap(X)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        """Log density (log mass on discrete columns) of each encoded row, ``[m]``."""
        enc = self.enc
        lp = np.broadcast_to(self.log_weights, (len(X), len(self.log_weights))).copy()  # [m, K]
        for W, j in zip(self.cat_weights, enc.categorical, strict=True):
            with np.errstate(divide="ignore"):
                lp += np.log(W[:, X[:, j].astype(np.int64)]).T
        for c, j in enumerate(enc.numeric):
            mu, sd = self.mu[:, c][None, :], self.sigma[:, c][None, :]
            x = X[:, j][:, None]
            norm = log_gauss_mass((0.0 - mu) / sd, (1.0 - mu) / sd)
            m = int(enc.cells[j])
            if m > 0:
                lp += log_gauss_mass((x - 0.5 / m - mu) / sd, (x + 0.5 / m - mu) / sd) - norm
            else:
                z = (x - mu) / sd
                lp += -0.5 * z * z - _LOG_SQRT_2PI - np.log(sd) - norm
        top = lp.max(axis=1)
        top[~np.isfinite(top)] = 0.0
        with np.errstate(divide="ignore"):
            return np.log(np.exp(lp - top[:, None]).sum(axis=1)) + top


class _TPEProposer:
    def __init__(self, n_ei_candidates: int, prior_weight: float) -> None:
        self.n_ei_candidates = n_ei_candidates
        self.prior_weight = prior_weight

    def propose(
        self, history: History, pending: list[np.ndarray], rng: np.random.Generator
    ) -> np.ndarray:
        n = len(history)
        n_below = min(default_gamma(n), n)
        order = np.argsort(history.y, kind="stable")  # ties: earlier trial first, as Optuna
        below = np.sort(order[:n_below])  # trial order, as Optuna's split
        above = np.sort(order[n_below:])
        enc = history.enc
        good = ParzenEstimator(
            enc, history.X[below], default_weights(len(below)), self.prior_weight
        )
        bad = ParzenEstimator(enc, history.X[above], default_weights(len(above)), self.prior_weight)
        cand = good.sample(rng, self.n_ei_candidates)
        score = good.log_pdf(cand) - bad.log_pdf(cand)
        return np.asarray(cand[int(np.argmax(score))])


def make_optimizer(
    problem: Problem,
    seed: int,
    *,
    n_startup: int = 10,
    n_ei_candidates: int = 24,
    prior_weight: float = 1.0,
) -> ModelBasedSearch:
    """TPE with Optuna's defaults (``TPESampler(multivariate=True)``)."""
    check_space(problem.space, "tpe")
    n_startup = check_int("tpe", "n_startup", n_startup, low=1)
    n_ei_candidates = check_int("tpe", "n_ei_candidates", n_ei_candidates, low=1, high=100_000)
    prior_weight = check_real("tpe", "prior_weight", prior_weight, low=0.0, low_open=True)
    return ModelBasedSearch(
        problem,
        seed,
        proposer=_TPEProposer(n_ei_candidates, prior_weight),
        n_initial=n_startup,
    )
