"""Train everything one epoch, keep the top-k (Egele, Guyon, Sun & Balaprakash 2023, "Is One
Epoch All You Need For Multi-Fidelity Hyperparameter Optimization?").

Two phases:

1. **Screen.** Configurations are trained to the screening fidelity (default: the smallest
   fidelity value, "one epoch"). On a finite grid small enough to screen whole, the grid is
   enumerated in a seeded random order (every configuration once: "train everything"); otherwise
   configurations are drawn uniformly. Unless ``n_configs`` fixes their number, screening goes on
   while the projected simulated time still fits ``problem.time_budget``: one more screen at the
   mean screening cost ``c`` spread over the ``W`` workers, ``(n + 1) * c / W``, plus
   ``ceil(k / W)`` rounds of training the current top ``k`` on to the maximal fidelity, each
   costing the largest of their screening costs times ``R / r_screen - 1`` (``R / r_screen``
   without resumes; cost taken as linear in the fidelity); and ``k`` evaluations must stay under
   ``problem.max_evaluations``. ``ask`` waits (``None``) for the first screening cost before it
   estimates.
2. **Top-k.** When every screening result is in, the ``k`` best (ties: earlier first; diverged
   runs last) are trained on to the maximal fidelity, resuming their trials when the problem
   allows it. The incumbent is the best of them. Then ``ask`` returns ``None``: the method is
   done, whatever budget is left.

``info`` records ``{"phase": "screen"}`` or ``{"phase": "top-k", "rank": i}``.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from baselines._validation import BaselineError, check_int, check_space, require_fidelities
from hpobench import Config
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = ["OneEpochTopK", "make_optimizer"]
__version__ = "1.0"

_MAX_GRID = 100_000  # enumerate a finite grid up to this size; sample beyond


class OneEpochTopK:
    method = "one-epoch-top-k"

    def __init__(
        self,
        problem: Problem,
        seed: int,
        *,
        k: int = 3,
        n_configs: int | None = None,
        screen_fidelity: int | float | None = None,
    ) -> None:
        m = self.method
        check_space(problem.space, m)
        require_fidelities(problem, m)
        self.k = check_int(m, "k", k, low=1)
        if n_configs is not None:
            check_int(m, "n_configs", n_configs, low=k)
        values = problem.fidelity.values
        if screen_fidelity is None:
            screen_fidelity = values[0]
        elif screen_fidelity not in values[:-1]:
            raise BaselineError(
                f"{m}: screen_fidelity must be None or a fidelity value below the maximum "
                f"{list(values[:-1])[:12]}, but got {screen_fidelity!r}."
            )
        if not values[0] > 0:
            raise BaselineError(
                f"{m}: fidelity values must be > 0 (costs are projected in proportion), but "
                f"{problem.fidelity.name!r} starts at {values[0]!r}."
            )
        self.problem = problem
        self.n_configs = n_configs
        self.r_screen = screen_fidelity
        self.ratio = float(values[-1]) / float(screen_fidelity)
        self.rng = np.random.default_rng(seed)
        space = problem.space
        self._grid: list[Config] | None = None
        if space.is_discrete and space.grid_size() <= _MAX_GRID:
            grid = list(space.grid())
            self._grid = [grid[i] for i in self.rng.permutation(len(grid)).tolist()]
        self._n_screen = 0
        self._screen_costs: list[float] = []
        self._screened: list[tuple[float, int, int, Config]] = []  # loss, order, trial, config
        self._ranked: list[tuple[float, int]] = []  # (loss, order), kept sorted
        self._in_flight: dict[Suggestion, str] = {}
        self._queue: list[tuple[int, int, Config]] | None = None  # rank, trial, config

    def _more_screening(self) -> bool:
        n = self._n_screen
        if self._grid is not None and n >= len(self._grid):
            return False
        if self.n_configs is not None:
            return n < self.n_configs
        if n + 1 + self.k > self.problem.max_evaluations:
            return False
        if not self._screen_costs:
            return n == 0  # wait for the first cost before projecting
        w = self.problem.n_workers
        mean = float(np.mean(self._screen_costs))
        top = max(self._screen_costs[order] for _, order in self._ranked[: self.k])
        extra = self.ratio - 1.0 if self.problem.allow_resume else self.ratio
        rounds = -(-self.k // w)  # the top k run ceil(k / workers) after one another
        return (n + 1) * mean / w + rounds * top * extra <= self.problem.time_budget

    def ask(self) -> Suggestion | None:
        if self._queue is None:
            if self._more_screening():
                config = (
                    self._grid[self._n_screen]
                    if self._grid is not None
                    else self.problem.space.sample(self.rng)
                )
                self._n_screen += 1
                s = Suggestion(config, fidelity=self.r_screen, info={"phase": "screen"})
                self._in_flight[s] = "screen"
                return s
            if self._in_flight or (not self._screen_costs and self._n_screen > 0):
                return None  # results still to come (or the first cost, for the projection)
            best = [self._screened[order] for _, order in self._ranked[: self.k]]
            self._queue = [(i, tid, c) for i, (_, _, tid, c) in enumerate(best)][::-1]
        if not self._queue:
            return None
        rank, tid, config = self._queue.pop()
        resume = tid if self.problem.allow_resume else None
        s = Suggestion(config, resume=resume, info={"phase": "top-k", "rank": rank})
        self._in_flight[s] = "top-k"
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        phase = self._in_flight.pop(suggestion)
        if phase == "screen":
            self._screen_costs.append(evaluation.cost)
            loss = self.problem.loss(evaluation.value)
            record: tuple[float, int, int, Any] = (
                loss,
                len(self._screened),
                evaluation.trial_id,
                dict(evaluation.config),
            )
            bisect.insort(self._ranked, (loss, len(self._screened)))
            self._screened.append(record)


def make_optimizer(
    problem: Problem,
    seed: int,
    *,
    k: int = 3,
    n_configs: int | None = None,
    screen_fidelity: int | float | None = None,
) -> OneEpochTopK:
    """Screen at ``screen_fidelity`` (default: the smallest), train the best ``k`` fully."""
    return OneEpochTopK(problem, seed, k=k, n_configs=n_configs, screen_fidelity=screen_fidelity)
