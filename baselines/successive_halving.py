"""Successive halving (Jamieson & Talwalkar 2016): Hyperband's most exploratory bracket, repeated.

Each round starts ``n = eta**s_max`` random configurations at the smallest fidelity ``r_min``
(``s_max = floor(log_eta(R / r_min))``) and keeps the best ``1/eta`` at every rung
``r_min * eta**i`` up to the maximal fidelity ``R``; when a round ends, the next starts with fresh
configurations until the budget ends. The schedule, the mapping onto the fidelity grid,
synchronous rungs, resumes and the ``info`` record are those of :mod:`baselines.hyperband`
(``bracket`` is always ``s_max``).
"""

from __future__ import annotations

from baselines.hyperband import SynchronousHyperband
from hpobench.harness import Problem

__all__ = ["SuccessiveHalving", "make_optimizer"]
__version__ = "1.0"


class SuccessiveHalving(SynchronousHyperband):
    method = "successive-halving"


def make_optimizer(
    problem: Problem, seed: int, *, eta: float = 3.0, min_fidelity: int | float | None = None
) -> SuccessiveHalving:
    """Synchronous successive halving from ``min_fidelity`` (default: the smallest) to the
    largest fidelity with reduction factor ``eta``."""
    return SuccessiveHalving(
        problem, seed, eta=eta, min_fidelity=min_fidelity, only_most_exploratory=True
    )
