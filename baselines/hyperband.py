"""Synchronous Hyperband (Li et al. 2018), exactly as its Algorithm 1, and the engine that
successive halving, BOHB and DEHB share.

The schedule, with ``R`` the maximal fidelity, ``r_min`` the minimal one (or ``min_fidelity``) and
the reduction factor ``eta`` (computed in exact rational arithmetic, so ``3.0`` is exactly 3):

* ``s_max = floor(log_eta(R / r_min))``; brackets ``s = s_max, s_max - 1, ..., 0``;
* bracket ``s`` starts ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` new configurations at
  ``r = R * eta**-s``;
* its rung ``i = 0..s`` evaluates ``n_i`` configurations at ``r_i = r * eta**i`` and keeps the
  best ``floor(n_i / eta)`` for rung ``i + 1`` (so ``n_i = floor(n * eta**-i)`` for integer
  ``eta``, as in the paper).

**Mapping onto the fidelity grid.** A table answers only at its fidelity values, so each ``r_i``
is mapped to the grid value nearest to it on a log scale (ties to the larger value); the rung
then trains to exactly that value. ``r_{s}`` is always ``R`` itself. When two rungs of a bracket
would map to the same value (a grid coarser than ``eta``) the constructor refuses with a
:class:`BaselineError` rather than running a different schedule.

**Synchronous.** A rung is dispatched whole; ``ask`` returns ``None`` until every evaluation of
the rung is told, then the next rung (or bracket) starts. With several workers the idle time is
part of the method. Brackets run in order, and when the last (``s = 0``) ends, the next
Hyperband iteration starts again at ``s_max`` with fresh configurations, until the budget ends.

**Resumes.** A promoted configuration continues its trial (``Suggestion.resume``) when the
problem allows it, paying only the extra training; otherwise it is trained anew.

**Countable.** Every suggestion carries ``info = {"iteration": j, "bracket": s, "rung": i}``,
stored in the trajectory's ``info`` column, so the schedule can be counted from a trajectory.

Diverged runs (NaN) rank last; ties keep the order in which results arrived.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from baselines._validation import (
    BaselineError,
    check_real,
    check_space,
    require_fidelities,
)
from hpobench import Config
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = [
    "Bracket",
    "Job",
    "SynchronousHyperband",
    "hyperband_schedule",
    "make_optimizer",
    "map_to_grid",
]
__version__ = "1.0"


@dataclass(frozen=True)
class Bracket:
    """One Hyperband bracket: ``s``, the rung sizes ``n_i`` and the rung fidelities ``r_i``
    (before mapping onto the grid)."""

    s: int
    sizes: tuple[int, ...]
    budgets: tuple[float, ...]


def _exact(x: float) -> Fraction:
    return Fraction(x).limit_denominator(10**9) if isinstance(x, float) else Fraction(x)


def hyperband_schedule(max_fidelity: float, min_fidelity: float, eta: float) -> list[Bracket]:
    """The brackets of one Hyperband iteration, ``s = s_max`` first (Li et al. 2018, Alg. 1).

    >>> [(b.s, b.sizes) for b in hyperband_schedule(81, 1, 3)]
    [(4, (81, 27, 9, 3, 1)), (3, (34, 11, 3, 1)), (2, (15, 5, 1)), (1, (8, 2)), (0, (5,))]
    >>> hyperband_schedule(81, 1, 3)[1].budgets
    (3.0, 9.0, 27.0, 81.0)
    """
    R, r_min, e = _exact(max_fidelity), _exact(min_fidelity), _exact(eta)
    s_max = 0
    while e ** (s_max + 1) <= R / r_min:
        s_max += 1
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil(Fraction(s_max + 1, s + 1) * e**s)
        sizes = [n]
        for _ in range(s):
            sizes.append(math.floor(sizes[-1] / e))
        budgets = tuple(float(R * e ** (i - s)) for i in range(s + 1))
        brackets.append(Bracket(s=s, sizes=tuple(sizes), budgets=budgets))
    return brackets


def map_to_grid(r: float, values: Sequence[int | float]) -> int | float:
    """The fidelity value nearest to ``r`` on a log scale (ties: the larger value).

    >>> map_to_grid(1.23, range(1, 101)), map_to_grid(3.7, range(1, 101)), map_to_grid(2.0, (1, 4))
    (1, 4, 4)
    """
    lr = math.log(r)
    return min(values, key=lambda v: (abs(math.log(v) - lr), -v))


@dataclass(frozen=True)
class Job:
    """One evaluation a rung will dispatch: a configuration, the trial it resumes (or ``None``),
    and whatever the method wants back when its result arrives (``payload``)."""

    config: Config
    resume: int | None = None
    payload: Any = None


@dataclass(frozen=True)
class Done:
    """A told evaluation of the current rung: its loss, arrival order, trial and job."""

    loss: float
    order: int
    trial_id: int
    job: Job


class SynchronousHyperband:
    """Synchronous Hyperband. Subclasses change how configurations are chosen, not the schedule:

    * :meth:`new_configs` -- the ``n`` fresh configurations that start a bracket (random here);
    * :meth:`rung_jobs` -- what rung ``i > 0`` evaluates given the previous rung (top-k here);
    * :meth:`observe` -- every result as it arrives (a model's training data).
    """

    method = "hyperband"

    def __init__(
        self,
        problem: Problem,
        seed: int,
        *,
        eta: float = 3.0,
        min_fidelity: int | float | None = None,
        only_most_exploratory: bool = False,
    ) -> None:
        m = self.method
        check_space(problem.space, m)
        require_fidelities(problem, m)
        self.eta = check_real(m, "eta", eta, low=1.0, low_open=True)
        values = problem.fidelity.values
        if values[0] <= 0:
            raise BaselineError(
                f"{m}: fidelity values must be > 0 (the schedule is geometric), but "
                f"{problem.fidelity.name!r} starts at {values[0]!r}."
            )
        r_min = values[0] if min_fidelity is None else min_fidelity
        if min_fidelity is not None and min_fidelity not in values[:-1]:
            raise BaselineError(
                f"{m}: min_fidelity must be None or one of the fidelity values below the maximum "
                f"{list(values[:-1])[:12]}, but got {min_fidelity!r}."
            )
        self.problem = problem
        self.rng = np.random.default_rng(seed)
        schedule = hyperband_schedule(values[-1], r_min, self.eta)
        if only_most_exploratory:
            schedule = schedule[:1]
        self.schedule = schedule
        self.rung_fidelities: list[tuple[int | float, ...]] = []
        for b in schedule:
            mapped = tuple(map_to_grid(r, values) for r in b.budgets)
            if any(x >= y for x, y in itertools.pairwise(mapped)):
                raise BaselineError(
                    f"{m}: the rungs of bracket s={b.s} must map to distinct fidelity values, but "
                    f"r_i={[round(r, 4) for r in b.budgets]} map to {list(mapped)} on the grid "
                    f"{list(values)[:12]}; use a larger eta or a larger min_fidelity."
                )
            self.rung_fidelities.append(mapped)
        self._iteration = 0
        self._bracket = -1  # index into schedule
        self._rung = 0
        self._queue: list[Job] = []  # jobs of the current rung not dispatched yet (reversed)
        self._results: list[Done] = []  # told evaluations of the current rung
        self._in_flight: dict[Suggestion, Job] = {}
        self._order = 0

    # -- hooks ------------------------------------------------------------------------------
    def new_configs(self, n: int, bracket: Bracket) -> list[Config]:
        """``n`` configurations that start ``bracket``: uniform random in Hyperband."""
        return self.problem.space.sample_many(self.rng, n)

    def rung_jobs(self, bracket: Bracket, rung: int, previous: list[Done]) -> list[Job]:
        """Rung 0: :meth:`new_configs`. Rung ``i > 0``: the best ``floor(n_{i-1} / eta)`` of
        ``previous`` (the told evaluations of rung ``i - 1``), resuming their trials."""
        if rung == 0:
            return [Job(c) for c in self.new_configs(bracket.sizes[0], bracket)]
        k = bracket.sizes[rung]
        best = sorted(previous, key=lambda d: (d.loss, d.order))[:k]
        allow = self.problem.allow_resume
        return [Job(d.job.config, d.trial_id if allow else None, d.job.payload) for d in best]

    def observe(self, job: Job, evaluation: Evaluation, loss: float) -> None:
        """Called for every told evaluation, before the rung may advance. Nothing here."""

    # -- the schedule -----------------------------------------------------------------------
    def _advance(self) -> None:
        if self._bracket >= 0 and self._rung < self.schedule[self._bracket].s:
            self._rung += 1
        else:
            self._bracket += 1
            if self._bracket == len(self.schedule):
                self._bracket = 0
                self._iteration += 1
            self._rung = 0
        jobs = self.rung_jobs(self.schedule[self._bracket], self._rung, self._results)
        self._results = []
        self._queue = list(reversed(jobs))

    def ask(self) -> Suggestion | None:
        while not self._queue:
            if self._in_flight:
                return None  # synchronous: wait for the whole rung
            self._advance()
        job = self._queue.pop()
        bracket = self.schedule[self._bracket]
        s = Suggestion(
            job.config,
            fidelity=self.rung_fidelities[self._bracket][self._rung],
            resume=job.resume,
            info={"iteration": self._iteration, "bracket": bracket.s, "rung": self._rung},
        )
        self._in_flight[s] = job
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        job = self._in_flight.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        self.observe(job, evaluation, loss)
        self._results.append(Done(loss, self._order, evaluation.trial_id, job))
        self._order += 1


def make_optimizer(
    problem: Problem, seed: int, *, eta: float = 3.0, min_fidelity: int | float | None = None
) -> SynchronousHyperband:
    """Synchronous Hyperband with reduction factor ``eta`` from ``min_fidelity`` (default: the
    smallest fidelity value) to the largest."""
    return SynchronousHyperband(problem, seed, eta=eta, min_fidelity=min_fidelity)
