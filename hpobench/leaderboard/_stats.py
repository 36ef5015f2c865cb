"""Statistics across tasks and runs: IQM with stratified bootstrap intervals, ranks, Friedman
test with Nemenyi critical difference, performance profiles.

Inputs are normalized scores (lower is better, see :mod:`hpobench.leaderboard._scores`) shaped
``[n_tasks, n_runs]`` per optimizer. The practice follows Agarwal et al. (2021, *rliable*): the
interquartile mean (IQM) over all runs of all tasks, with a percentile confidence interval from a
*stratified* bootstrap (runs resampled with replacement within each task, tasks kept), and
performance profiles (the fraction of runs scoring at most ``tau``). Ranks and the Friedman /
Nemenyi analysis follow Demšar (2006): per task, the optimizers' mean scores are ranked (1 =
best, ties averaged); the Friedman test asks whether the mean ranks differ at all, and two mean
ranks differ significantly when they are further apart than the critical difference
``CD = q_alpha / sqrt(2) * sqrt(k (k + 1) / (6 N))``. scipy does the tests (``trim_mean``,
``friedmanchisquare``, ``studentized_range``), scikit-posthocs the pairwise Nemenyi p-values.
Every resampling is seeded: same inputs, same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hpobench.leaderboard._errors import LeaderboardError

__all__ = [
    "FriedmanResult",
    "IQMResult",
    "friedman_nemenyi",
    "iqm",
    "mean_ranks",
    "performance_profile",
    "rank_matrix",
    "stratified_bootstrap_iqm",
]


def _matrix(scores: np.ndarray | Sequence[Sequence[float]], what: str) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise LeaderboardError(
            f"{what} must be a [n_tasks, n_runs] matrix, but has shape {x.shape}."
        )
    if not np.isfinite(x).all():
        raise LeaderboardError(
            f"{what} must be finite (normalized scores are capped), but has "
            f"{int((~np.isfinite(x)).sum())} non-finite entries."
        )
    return x


def iqm(values: np.ndarray | Sequence[float]) -> float:
    """Interquartile mean: the mean of the middle 50 % (``scipy.stats.trim_mean(x, 0.25)``).

    >>> iqm([0.0, 1.0, 2.0, 3.0, 100.0, 4.0, 5.0, 6.0])
    3.5
    """
    from scipy.stats import trim_mean

    return float(trim_mean(np.asarray(values, dtype=np.float64).ravel(), 0.25))


@dataclass(frozen=True)
class IQMResult:
    """The IQM over every run of every task and its ``1 - alpha`` bootstrap interval."""

    value: float
    low: float
    high: float


def stratified_bootstrap_iqm(
    scores: np.ndarray | Sequence[Sequence[float]],
    *,
    n_resamples: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> IQMResult:
    """IQM of ``scores[task, run]`` with a stratified percentile bootstrap interval.

    Each resample draws, within every task, as many runs as it has, with replacement; tasks are
    never resampled (they are the fixed suite). Seeded: same inputs, same interval.
    """
    from scipy.stats import trim_mean

    x = _matrix(scores, "scores")
    if not 0 < alpha < 1:
        raise LeaderboardError(f"`0 < alpha < 1` must hold, but got {alpha!r}.")
    n_tasks, n_runs = x.shape
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_runs, size=(n_resamples, n_tasks, n_runs))
    samples = x[np.arange(n_tasks)[None, :, None], idx].reshape(n_resamples, -1)
    stats = trim_mean(samples, 0.25, axis=1)
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return IQMResult(iqm(x), float(lo), float(hi))


def rank_matrix(task_scores: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Ranks ``[n_optimizers, n_tasks]`` of per-task scores (1 = lowest score, ties averaged)."""
    from scipy.stats import rankdata

    x = _matrix(task_scores, "task_scores")
    return np.asarray(rankdata(x, axis=0), dtype=np.float64)


def mean_ranks(task_scores: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Mean rank of each optimizer across tasks (rows: optimizers, columns: tasks).

    >>> mean_ranks([[0.1, 0.2], [0.3, 0.1], [0.5, 0.9]]).tolist()
    [1.5, 1.5, 3.0]
    """
    return rank_matrix(task_scores).mean(axis=1)


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman test over tasks and the Nemenyi post-hoc analysis (Demšar 2006).

    Attributes:
        names: the optimizers, in input order.
        mean_ranks: their mean ranks across tasks.
        statistic, p_value: Friedman's chi-square and its p-value (NaN with < 3 optimizers or
            < 2 tasks, where the test is undefined).
        critical_difference: Nemenyi's CD at ``alpha``.
        nemenyi_p: pairwise p-values ``[k, k]`` (NaN where undefined).
        alpha: the level.
        n_tasks: the number of blocks.
    """

    names: tuple[str, ...]
    mean_ranks: tuple[float, ...]
    statistic: float
    p_value: float
    critical_difference: float
    nemenyi_p: np.ndarray
    alpha: float
    n_tasks: int


def friedman_nemenyi(
    task_scores: Mapping[str, np.ndarray | Sequence[float]], *, alpha: float = 0.05
) -> FriedmanResult:
    """Friedman test and Nemenyi critical difference for ``{optimizer: scores per task}``."""
    from scipy.stats import friedmanchisquare, studentized_range

    names = tuple(task_scores)
    x = _matrix(
        np.stack([np.asarray(task_scores[n], dtype=np.float64) for n in names]), "task_scores"
    )
    k, n = x.shape
    ranks = mean_ranks(x)
    stat = p = math.nan
    nemenyi = np.full((k, k), math.nan)
    if k >= 3 and n >= 2:
        if np.ptp(x, axis=0).any():
            res = friedmanchisquare(*x)
            stat, p = float(res.statistic), float(res.pvalue)
        try:
            import scikit_posthocs as sp
        except ImportError:  # the plots extra; the test and the CD need only scipy
            sp = None
        if sp is not None:
            nemenyi = sp.posthoc_nemenyi_friedman(x.T).to_numpy(dtype=np.float64)
    cd = math.nan
    if k >= 2:
        q = float(studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
        cd = q * math.sqrt(k * (k + 1) / (6.0 * n))
    return FriedmanResult(
        names=names,
        mean_ranks=tuple(float(r) for r in ranks),
        statistic=stat,
        p_value=p,
        critical_difference=cd,
        nemenyi_p=nemenyi,
        alpha=alpha,
        n_tasks=n,
    )


def performance_profile(
    scores: np.ndarray | Sequence[float], taus: np.ndarray | Sequence[float]
) -> np.ndarray:
    """Fraction of runs whose normalized score is ``<= tau``, for each ``tau`` (rliable's score
    distribution, for a lower-is-better score).

    >>> performance_profile([0.0, 0.5, 1.0, 2.0], [0.0, 0.5, 1.5]).tolist()
    [0.25, 0.5, 0.75]
    """
    x = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    t = np.asarray(taus, dtype=np.float64)
    return np.searchsorted(x, t, side="right") / max(1, x.size)
