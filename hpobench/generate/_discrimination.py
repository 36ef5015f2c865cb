"""Does a multi-fidelity table tell optimizers apart? Its numbers and the suite's entry rule.

A table can only rank optimizers if (1) its configurations differ by more than the seed noise,
(2) random search at the protocol's budget does *not* already reach the optimum — otherwise
every sensible optimizer ties with it — and (3) for multi-fidelity methods, low fidelities
rank configurations like the full one. Per table, on the mean over its tuning seeds of the
objective at the last fidelity step (NaN = diverged counts as worst):

* ``noise``: median over configurations of the standard deviation over tuning seeds;
* ``spread``: 90th minus 10th percentile over configurations;
* ``rs_rank`` / ``gap``: the median rank reached by random search drawing ``n`` distinct
  configurations at full fidelity (``n = n_full`` of the protocol, ``20 + 40·√d`` for
  ``mf-serial-v2``), computed exactly from sampling without replacement:
  ``P(best rank ≤ k) = 1 − C(N−k, n) / C(N, n)``; ``gap`` is the objective distance between the
  configuration at that rank and the optimum;
* ``spearman_low``: rank correlation over configurations between the objective at the lowest
  fidelity step ≥ 1/9 of the maximum (Hyperband's third rung below full with η = 3) and at full.

Entry rule of the official multi-fidelity suite (:data:`RULE`), every clause must hold:
``N ≥ 1000`` configurations and ``≥ 4`` seeds; ``n ≤ N / 5`` (random search sees at most a fifth);
``gap ≥ noise`` (beating random search is measurable); ``spread ≥ 4 · noise`` (configurations
differ beyond noise); ``spearman_low ≥ 0.5`` (low fidelity carries signal).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hpobench.table import Table

__all__ = ["RULE", "Discrimination", "discrimination", "random_search_median_rank"]

RULE = (
    "N >= 1000 configs and >= 4 seeds; random search at the protocol budget sees n <= N/5; "
    "gap(random-search median, optimum) >= seed noise; p90-p10 spread >= 4 x noise; "
    "Spearman(low fidelity ~ max/9, full) >= 0.5"
)


@dataclass(frozen=True, kw_only=True)
class Discrimination:
    """The numbers of one table (see the module docstring); objective units, lower = better."""

    id: str
    n_configs: int
    n_seeds: int
    n_rs: int
    noise: float
    spread: float
    rs_rank: int
    gap: float
    low_step: float
    spearman_low: float
    spearman_first: float

    @property
    def failures(self) -> tuple[str, ...]:
        """The clauses of :data:`RULE` this table violates (empty: it enters the suite)."""
        out = []
        if self.n_configs < 1000 or self.n_seeds < 4:
            out.append("size")
        if self.n_rs > self.n_configs / 5:
            out.append("rs-sees-too-much")
        if not self.gap >= self.noise:
            out.append("gap<noise")
        if not self.spread >= 4 * self.noise:
            out.append("spread<4noise")
        if not self.spearman_low >= 0.5:
            out.append("low-fidelity-rho<0.5")
        return tuple(out)


def random_search_median_rank(n_configs: int, n_draws: int) -> int:
    """Median (1-based) rank of the best of ``n_draws`` distinct uniform draws out of ``n_configs``.

    The smallest ``k`` with ``P(best rank <= k) = 1 - C(N-k, n)/C(N, n) >= 1/2``.
    """
    N, n = int(n_configs), min(int(n_draws), int(n_configs))
    miss = 1.0  # C(N-k, n) / C(N, n) for k = 0
    for k in range(1, N + 1):
        miss *= max(0, N - k - n + 1) / (N - k + 1)
        if 1.0 - miss >= 0.5:
            return k
    return N


def _ranks(x: np.ndarray) -> np.ndarray:
    return np.asarray(pd.Series(x).rank(method="average").to_numpy(), dtype=np.float64)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3:
        return float("nan")
    return float(np.corrcoef(_ranks(a[keep]), _ranks(b[keep]))[0, 1])


def discrimination(table: Table, *, n_full: float) -> Discrimination:
    """The discrimination numbers of ``table`` for a protocol granting ``n_full`` evaluations."""
    meta = table.meta
    sign = 1.0 if meta.direction == "minimize" else -1.0
    seeds = [table.seed_index(s) for s in meta.tuning_seeds]
    values = sign * table.metric(meta.objective)[:, seeds, :].astype(np.float64)  # [N, S, F]
    with warnings.catch_warnings():  # all-NaN rows (diverged on every seed) give NaN, not noise
        warnings.simplefilter("ignore", RuntimeWarning)
        per_step = np.nanmean(values, axis=1)  # [N, F]
        noise = float(np.nanmedian(np.nanstd(values[:, :, -1], axis=1, ddof=1)))
    final = per_step[:, -1]
    finite = final[np.isfinite(final)]
    spread = float(np.percentile(finite, 90) - np.percentile(finite, 10))
    ordered = np.sort(np.where(np.isfinite(final), final, np.inf))
    n_configs = len(final)
    n_rs = min(n_configs, round(n_full))
    rank = random_search_median_rank(n_configs, n_rs)
    gap = float(ordered[rank - 1] - ordered[0])
    fidelity = np.asarray(meta.fidelity.values, dtype=np.float64)
    low = int(np.flatnonzero(fidelity >= fidelity[-1] / 9)[0])
    return Discrimination(
        id=meta.id,
        n_configs=n_configs,
        n_seeds=len(meta.seeds),
        n_rs=n_rs,
        noise=noise,
        spread=spread,
        rs_rank=rank,
        gap=gap,
        low_step=float(fidelity[low]),
        spearman_low=_spearman(per_step[:, low], final),
        spearman_first=_spearman(per_step[:, 0], final),
    )


def n_hyperparameters(table: Table) -> int:
    """``d`` of the protocol's budget rule."""
    return len(table.meta.space.names)


def format_rows(rows: list[Discrimination]) -> str:
    """A fixed-width table of the numbers and the verdict, one line per table."""
    head = (
        f"{'id':34} {'N':>5} {'S':>2} {'n_rs':>4} {'noise':>9} {'spread':>9} {'rs_rank':>7} "
        f"{'gap':>9} {'gap/noise':>9} {'low':>5} {'rho_low':>7} {'rho_1st':>7}  verdict"
    )
    lines = [head]
    for r in rows:
        ratio = r.gap / r.noise if r.noise > 0 else math.inf
        verdict = "PASS" if not r.failures else "fail: " + ", ".join(r.failures)
        lines.append(
            f"{r.id:34} {r.n_configs:>5} {r.n_seeds:>2} {r.n_rs:>4} {r.noise:>9.4g} "
            f"{r.spread:>9.4g} {r.rs_rank:>7} {r.gap:>9.4g} {ratio:>9.2f} {r.low_step:>5g} "
            f"{r.spearman_low:>7.3f} {r.spearman_first:>7.3f}  {verdict}"
        )
    return "\n".join(lines)
