"""Gaussian-process Bayesian optimization with expected improvement, at the maximal fidelity.

After ``n_initial`` uniform random configurations, each ``ask`` fits scikit-learn's
``GaussianProcessRegressor`` to the losses warped to normal scores by rank (the Gaussian-copula
transform; diverged runs count as the worst loss), normalised to mean 0 and sd 1, over the
unit-cube encoding of ``baselines/_model_based.py`` with categorical columns one-hot. Kernel:
``constant * Matern(nu=5/2, one length scale per feature) + white noise``; its hyperparameters
are fitted by maximum marginal likelihood with L-BFGS started from the previous fit (one start,
at most 50 iterations, no random restarts: deterministic and cheap), and only when the data have
grown by ``refit_growth`` (10 %) since the last fit; in between, the posterior is updated with
the kernel kept. Expected improvement over the best (warped) loss seen is maximised over
``n_candidates`` uniform configurations refined by three rounds of local search around the best
candidates and the incumbents; configurations already evaluated or running are never proposed
again.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from baselines._model_based import (
    History,
    ModelBasedSearch,
    expected_improvement,
    maximize_acquisition,
)
from baselines._validation import check_int, check_real, check_space
from hpobench.harness import Problem

__all__ = ["make_optimizer", "normal_scores"]
__version__ = "1.0"


def normal_scores(y: np.ndarray) -> np.ndarray:
    """Losses warped to standard-normal scores by rank, ``Phi^-1((rank - 1/2) / n)`` (ties share
    their mean rank): the Gaussian-copula transform, which keeps the order but not the heavy
    tails (FCNet's MSEs span five orders of magnitude; one outlier flattens a GP on raw y)."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    return np.asarray(ndtri((rankdata(y) - 0.5) / len(y)))


def _lbfgs(obj_func: Any, initial_theta: np.ndarray, bounds: np.ndarray) -> tuple[Any, float]:
    """scikit-learn's default L-BFGS-B, capped at 50 iterations (warm-started, so enough)."""
    from scipy.optimize import minimize

    res = minimize(
        obj_func, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds,
        options={"maxiter": 50},
    )  # fmt: skip
    return res.x, float(res.fun)


class _GPProposer:
    def __init__(self, n_candidates: int, refit_growth: float) -> None:
        self.n_candidates = n_candidates
        self.refit_growth = refit_growth
        self.theta: np.ndarray | None = None
        self.n_at_fit = 0

    def _kernel(self, n_features: int) -> Any:
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        return ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=np.full(n_features, 0.5), length_scale_bounds=(1e-2, 1e2), nu=2.5
        ) + WhiteKernel(1e-3, (1e-8, 1e-1))

    def propose(
        self, history: History, pending: list[np.ndarray], rng: np.random.Generator
    ) -> np.ndarray:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor

        enc = history.enc
        F = enc.features(history.X)
        y = normal_scores(history.finite_y())
        kernel = self._kernel(F.shape[1])
        if self.theta is not None:
            kernel = kernel.clone_with_theta(self.theta)
        refit = self.theta is None or len(y) >= self.n_at_fit * (1.0 + self.refit_growth)
        if refit:
            self.n_at_fit = len(y)
        gp = GaussianProcessRegressor(
            kernel, normalize_y=True, n_restarts_optimizer=0, optimizer=_lbfgs if refit else None
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(F, y)
        self.theta = gp.kernel_.theta
        best = float(y.min())

        def ei(X: np.ndarray) -> np.ndarray:
            mu, sd = gp.predict(enc.features(X), return_std=True)
            return expected_improvement(mu, sd, best)

        return maximize_acquisition(ei, history, pending, rng, n_random=self.n_candidates)


def make_optimizer(
    problem: Problem,
    seed: int,
    *,
    n_initial: int = 10,
    n_candidates: int = 1000,
    refit_growth: float = 0.1,
) -> ModelBasedSearch:
    """GP-EI with 10 random initial configurations (as Optuna's GPSampler)."""
    check_space(problem.space, "gp-ei")
    n_initial = check_int("gp-ei", "n_initial", n_initial, low=2)
    n_candidates = check_int("gp-ei", "n_candidates", n_candidates, low=1, high=1_000_000)
    refit_growth = check_real("gp-ei", "refit_growth", refit_growth, low=0.0, high=10.0)
    return ModelBasedSearch(
        problem, seed, proposer=_GPProposer(n_candidates, refit_growth), n_initial=n_initial
    )
