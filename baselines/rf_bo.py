"""SMAC-style random-forest Bayesian optimization (Hutter et al. 2011; SMAC3's HPO facade), at
the maximal fidelity.

As SMAC3's ``HyperparameterOptimizationFacade`` does it:

- initial design: a scrambled Sobol sequence of ``min(10 d, 0.25 max_evaluations)``
  configurations (at least 2);
- surrogate: a random forest of 10 trees with random split points (SMAC's ``splitter="random"``:
  scikit-learn's ``ExtraTreesRegressor`` with bootstrapping), all features per split, on
  log-scaled losses (min-max scaled, then ``log``, with SMAC's offset below the minimum); mean
  and variance are those of the trees' predictions;
- acquisition: expected improvement in log space (``log=True``: Hutter et al. 2009's formula for
  a log-normal predictive distribution), maximised over ``n_candidates`` uniform configurations
  plus local search from the best candidates and from the incumbents;
- random interleaving: each proposal after the initial design is uniform random with
  probability ``random_fraction = 0.2``.

Diverged runs (NaN) count as the worst loss. Configurations already evaluated or running are
never proposed again (SMAC's deterministic scenario).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.special import ndtr
from scipy.stats import qmc

from baselines._model_based import Encoding, History, ModelBasedSearch, maximize_acquisition
from baselines._validation import check_int, check_real, check_space
from hpobench.harness import Problem

__all__ = ["log_expected_improvement", "log_scale", "make_optimizer"]
__version__ = "1.0"


def log_scale(y: np.ndarray, percentile: float = 5.0) -> np.ndarray:
    """SMAC's ``RunHistoryLogScaledEncoder``: scale to ``(0, 1]`` with an offset below the
    minimum as large as the gap from the minimum to the ``percentile``-th percentile, then log."""
    lo, hi = float(y.min()), float(y.max())
    lo = lo - (float(np.percentile(y, percentile)) - lo) - 1e-10
    if lo == hi:
        lo = lo * (1 - 1e-10) if lo else -1e-10
    return np.log((y - lo) / (hi - lo))


def log_expected_improvement(mu: np.ndarray, var: np.ndarray, best: float) -> np.ndarray:
    """EI of ``exp(Y)`` below ``exp(best)`` for ``Y ~ N(mu, var)`` (SMAC's ``EI(log=True)``):
    ``f * Phi(v) - exp(mu + var / 2) * Phi(v - s)``, ``f = exp(best)``, ``v = (best - mu) / s``."""
    s = np.sqrt(np.maximum(var, 1e-20))
    v = (best - mu) / s
    ei = math.exp(best) * ndtr(v) - np.exp(mu + 0.5 * s * s) * ndtr(v - s)
    return np.maximum(ei, 0.0)


class _ForestProposer:
    def __init__(self, seed: int, n_trees: int, n_candidates: int) -> None:
        self.seed = seed
        self.n_trees = n_trees
        self.n_candidates = n_candidates
        self.n_fits = 0

    def propose(
        self, history: History, pending: list[np.ndarray], rng: np.random.Generator
    ) -> np.ndarray:
        from sklearn.ensemble import ExtraTreesRegressor

        enc = history.enc
        y = log_scale(history.finite_y())
        forest = ExtraTreesRegressor(
            n_estimators=self.n_trees,
            bootstrap=True,
            max_features=1.0,
            min_samples_split=2,
            min_samples_leaf=1,
            random_state=(self.seed * 1_000_003 + self.n_fits) % 2**32,
        )
        self.n_fits += 1
        forest.fit(enc.features(history.X), y)
        best = float(y.min())

        def ei(X: np.ndarray) -> np.ndarray:
            F = enc.features(X)
            per_tree = np.stack([t.predict(F) for t in forest.estimators_])
            return log_expected_improvement(per_tree.mean(axis=0), per_tree.var(axis=0), best)

        return maximize_acquisition(ei, history, pending, rng, n_random=self.n_candidates)


def make_optimizer(
    problem: Problem,
    seed: int,
    *,
    n_trees: int = 10,
    n_candidates: int = 1000,
    random_fraction: float = 0.2,
    n_initial: int | None = None,
) -> ModelBasedSearch:
    """RF-BO with SMAC3's HPO-facade defaults; ``n_initial=None``: ``min(10 d, 0.25 cap)``."""
    check_space(problem.space, "rf-bo")
    space = problem.space
    n_trees = check_int("rf-bo", "n_trees", n_trees, low=1, high=10_000)
    n_candidates = check_int("rf-bo", "n_candidates", n_candidates, low=1, high=1_000_000)
    random_fraction = check_real("rf-bo", "random_fraction", random_fraction, low=0.0, high=1.0)
    d = len(space)
    if n_initial is None:
        n_initial = max(2, min(10 * d, int(0.25 * problem.max_evaluations)))
    n_initial = check_int("rf-bo", "n_initial", n_initial, low=2)
    sobol = qmc.Sobol(d, scramble=True, seed=np.random.default_rng(seed))
    with warnings.catch_warnings():  # n need not be a power of 2 (SMAC does the same)
        warnings.simplefilter("ignore", UserWarning)
        initial = sobol.random(n_initial)
    enc = Encoding(space)
    for j, k in zip(enc.categorical, enc.n_choices, strict=True):
        initial[:, j] = np.floor(initial[:, j] * k)
    return ModelBasedSearch(
        problem,
        seed + 1,
        proposer=_ForestProposer(seed, n_trees, n_candidates),
        n_initial=n_initial,
        random_fraction=random_fraction,
        initial=initial,
    )
