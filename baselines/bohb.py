"""BOHB (Falkner, Klein & Hutter 2018): Hyperband whose new configurations come from a
TPE-style model of two multivariate kernel density estimates per fidelity.

The schedule, synchronous rungs, resumes and the ``info`` record are those of
:mod:`baselines.hyperband`; only the configurations that start a bracket differ. As in the paper
and its reference implementation (HpBandSter's ``BOHB`` config generator), with its defaults:

* every result is recorded per fidelity (losses of diverged runs are ``inf``); once a model
  exists at some fidelity, results at lower fidelities are no longer recorded;
* a model is fitted at a fidelity with ``N >= min_points_in_model`` results (default ``d + 1``):
  the best ``n_good = max(min_points_in_model, top_n_percent * N // 100)`` configurations give
  the "good" density ``l(x)``, the next ``n_bad = max(min_points_in_model, (100 - top_n_percent)
  * N // 100)`` the "bad" density ``g(x)``; each must have more points than dimensions;
* densities are products of kernels in the unit cube: Gaussian for Float, Int and Ordinal
  (encoded as numbers, as HpBandSter asks for ordinals), Aitchison-Aitken for Categorical, with
  the normal-reference bandwidth ``1.06 * std * N**(-1 / (4 + d))`` clipped below at
  ``min_bandwidth`` (and, for categorical kernels, above at ``(c - 1) / c``, where the kernel is
  uniform, so that it stays a density);
* with probability ``random_fraction`` (or while no model exists) a configuration is uniform
  random; otherwise ``num_samples`` candidates are drawn around points of the good set with the
  bandwidths widened by ``bandwidth_factor`` (truncated normal in [0, 1]; a categorical value is
  kept with probability ``1 - bw``, else redrawn), and the one with the smallest
  ``max(g, 1e-32) / max(l, 1e-32)`` is proposed, from the model at the largest fidelity that has
  one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from baselines._validation import BaselineError, check_int, check_real
from baselines.hyperband import Bracket, Job, SynchronousHyperband
from hpobench import Categorical, Config
from hpobench.harness import Evaluation, Problem

__all__ = ["BOHB", "make_optimizer"]
__version__ = "1.0"


@dataclass(frozen=True)
class _KDE:
    """A product-kernel density over encoded points ``data[n, d]`` with bandwidths ``bw[d]``."""

    data: np.ndarray
    bw: np.ndarray

    def pdf(self, x: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """Density at the rows of ``x[m, d]``; ``levels[j]`` = choices of a categorical, else 0."""
        diff = x[:, None, :] - self.data[None, :, :]  # [m, n, d]
        k = np.empty_like(diff)
        cont = levels == 0
        h = self.bw[cont]
        k[:, :, cont] = np.exp(-0.5 * (diff[:, :, cont] / h) ** 2) / (h * math.sqrt(2 * math.pi))
        cat = ~cont
        if cat.any():
            lam, c = self.bw[cat], levels[cat]
            same = np.abs(diff[:, :, cat]) < 0.5
            k[:, :, cat] = np.where(same, 1.0 - lam, lam / (c - 1))
        return k.prod(axis=2).mean(axis=1)


class BOHB(SynchronousHyperband):
    method = "bohb"

    def __init__(
        self,
        problem: Problem,
        seed: int,
        *,
        eta: float = 3.0,
        min_fidelity: int | float | None = None,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3.0,
        top_n_percent: int = 15,
        num_samples: int = 64,
        min_bandwidth: float = 1e-3,
        min_points_in_model: int | None = None,
    ) -> None:
        super().__init__(problem, seed, eta=eta, min_fidelity=min_fidelity)
        m = self.method
        self.random_fraction = check_real(m, "random_fraction", random_fraction, low=0.0, high=1.0)
        self.bandwidth_factor = check_real(
            m, "bandwidth_factor", bandwidth_factor, low=0.0, low_open=True
        )
        self.top_n_percent = check_int(m, "top_n_percent", top_n_percent, low=1, high=99)
        self.num_samples = check_int(m, "num_samples", num_samples, low=1)
        self.min_bandwidth = check_real(m, "min_bandwidth", min_bandwidth, low=0.0, low_open=True)
        d = len(problem.space)
        if min_points_in_model is None:
            min_points_in_model = d + 1
        check_int(m, "min_points_in_model", min_points_in_model, low=1)
        if min_points_in_model < d + 1:
            raise BaselineError(
                f"{m}: `min_points_in_model >= d + 1 = {d + 1}` must hold (a density needs more "
                f"points than dimensions), but got min_points_in_model={min_points_in_model}."
            )
        self.min_points = min_points_in_model
        self.hps = problem.space.hyperparameters
        self.levels = np.array(
            [len(hp.choices) if isinstance(hp, Categorical) else 0 for hp in self.hps]
        )
        self.obs: dict[float, tuple[list[np.ndarray], list[float]]] = {}
        self.models: dict[float, tuple[_KDE, _KDE]] = {}

    # -- encoding: unit cube for numbers, the index for categoricals ---------------------------
    def _encode(self, config: Config) -> np.ndarray:
        return np.array(
            [
                float(hp.index(config[hp.name])) if isinstance(hp, Categorical) else hp.to_unit(config[hp.name])
                for hp in self.hps
            ]
        )  # fmt: skip

    def _decode(self, v: np.ndarray) -> Config:
        return {
            hp.name: hp.choices[int(x)] if isinstance(hp, Categorical) else hp.from_unit(float(x))
            for hp, x in zip(self.hps, v, strict=True)
        }

    # -- the model -------------------------------------------------------------------------
    def observe(self, job: Job, evaluation: Evaluation, loss: float) -> None:
        budget = float(evaluation.fidelity)
        if max(self.models, default=-math.inf) > budget:
            return
        xs, ys = self.obs.setdefault(budget, ([], []))
        xs.append(self._encode(evaluation.config))
        ys.append(loss)
        n = len(xs)
        if n < self.min_points:
            return
        d = len(self.hps)
        n_good = max(self.min_points, (self.top_n_percent * n) // 100)
        n_bad = max(self.min_points, ((100 - self.top_n_percent) * n) // 100)
        order = np.argsort(np.asarray(ys), kind="stable")
        x = np.asarray(xs)
        good, bad = x[order[:n_good]], x[order[n_good : n_good + n_bad]]
        if len(good) <= d or len(bad) <= d:
            return
        self.models[budget] = (self._fit(good), self._fit(bad))

    def _fit(self, data: np.ndarray) -> _KDE:
        n, d = data.shape
        bw = 1.06 * data.std(axis=0) * n ** (-1.0 / (4 + d))
        bw = np.maximum(bw, self.min_bandwidth)
        cat = self.levels > 0
        bw[cat] = np.minimum(bw[cat], (self.levels[cat] - 1) / self.levels[cat])
        return _KDE(data, bw)

    def new_configs(self, n: int, bracket: Bracket) -> list[Config]:
        return [self._one() for _ in range(n)]

    def _one(self) -> Config:
        if not self.models or self.rng.random() < self.random_fraction:
            return self.problem.space.sample(self.rng)
        good, bad = self.models[max(self.models)]
        m, d = self.num_samples, len(self.hps)
        centres = good.data[self.rng.integers(len(good.data), size=m)]  # [m, d]
        cand = np.empty((m, d))
        for j in range(d):
            bw = max(good.bw[j], self.min_bandwidth)
            mu = centres[:, j]
            if self.levels[j] == 0:
                sd = self.bandwidth_factor * bw
                cand[:, j] = _truncnorm01(self.rng, mu, sd)
            else:
                keep = self.rng.random(m) < 1.0 - bw
                cand[:, j] = np.where(keep, mu, self.rng.integers(self.levels[j], size=m))
        score = np.maximum(bad.pdf(cand, self.levels), 1e-32) / np.maximum(
            good.pdf(cand, self.levels), 1e-32
        )
        if not np.isfinite(score).any():
            return self.problem.space.sample(self.rng)
        return self._decode(cand[int(np.nanargmin(score))])


def _truncnorm01(rng: np.random.Generator, mu: np.ndarray, sd: float) -> np.ndarray:
    """Normal(mu, sd) truncated to [0, 1], by inverse-CDF sampling."""
    lo, hi = ndtr((0.0 - mu) / sd), ndtr((1.0 - mu) / sd)
    u = np.clip(lo + rng.random(mu.shape) * (hi - lo), 1e-300, 1.0 - 1e-16)
    return np.clip(mu + sd * ndtri(u), 0.0, 1.0)


def make_optimizer(
    problem: Problem,
    seed: int,
    *,
    eta: float = 3.0,
    min_fidelity: int | float | None = None,
    random_fraction: float = 1 / 3,
    bandwidth_factor: float = 3.0,
    top_n_percent: int = 15,
    num_samples: int = 64,
    min_bandwidth: float = 1e-3,
    min_points_in_model: int | None = None,
) -> BOHB:
    """BOHB with the defaults of Falkner et al. (2018) / HpBandSter."""
    return BOHB(
        problem,
        seed,
        eta=eta,
        min_fidelity=min_fidelity,
        random_fraction=random_fraction,
        bandwidth_factor=bandwidth_factor,
        top_n_percent=top_n_percent,
        num_samples=num_samples,
        min_bandwidth=min_bandwidth,
        min_points_in_model=min_points_in_model,
    )
