"""The optimizer contract: ``Problem`` in, ``Suggestion`` out, ``Evaluation`` back.

Call order (the whole lifecycle of one run; the simulator is the only caller):

1. ``factory(problem, seed)`` is called once and returns the optimizer.
2. Whenever a worker is free (at the start: every worker, in order), the simulator calls
   ``ask()``. A :class:`Suggestion` is dispatched to that worker at once; ``None`` means
   "nothing to propose until a result arrives" and that worker idles until the next ``tell``.
3. When an evaluation finishes (in simulated time; ties in dispatch order), the simulator calls
   ``tell(suggestion, evaluation)`` with the very ``Suggestion`` object ``ask`` returned, exactly
   once, then calls ``ask()`` again for every free worker until one returns ``None``.
4. The run ends when the time budget or the evaluation cap is reached, when ``ask`` returns
   ``None`` while nothing is in flight, or when the optimizer breaks the contract (an exception,
   an invalid suggestion, a call over the wall-clock limit). Evaluations still running when the
   budget ends are never told.

Objective values are passed raw, oriented as ``problem.direction`` says (no sign flip); use
:meth:`Problem.loss` for a minimisation view. Values come from the run's *tuning* seeds only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from hpobench.fidelity import Fidelity
from hpobench.space import Config, SearchSpace

__all__ = ["Evaluation", "Optimizer", "OptimizerFactory", "Problem", "Suggestion"]


@dataclass(frozen=True, kw_only=True)
class Problem:
    """What an optimizer may know about the task it tunes. Never the table, never test seeds.

    Attributes:
        space: the search space; suggest configurations from it.
        fidelity: the fidelity axis (name and the values one may ask for). A final-only task has
            one value.
        objective: name of the metric ``Evaluation.value`` carries.
        direction: ``"minimize"`` or ``"maximize"``: how ``objective`` is optimised.
        n_workers: evaluations that may run at once; ``ask`` is called while a worker is free.
        time_budget: simulated seconds the run may use (evaluations finishing later do not count).
        max_evaluations: the most evaluations that will be dispatched.
        allow_resume: whether a ``Suggestion`` may resume an earlier trial (``resume=trial_id``).
    """

    space: SearchSpace
    fidelity: Fidelity
    objective: str
    direction: str
    n_workers: int
    time_budget: float
    max_evaluations: int
    allow_resume: bool

    @property
    def minimize(self) -> bool:
        return self.direction == "minimize"

    def loss(self, value: float) -> float:
        """``value`` as a loss (smaller is better); NaN (a diverged run) becomes ``+inf``.

        >>> from hpobench import Fidelity, Ordinal, SearchSpace
        >>> p = Problem(space=SearchSpace([Ordinal("x", (1, 2))]), fidelity=Fidelity("epoch", (1,)),
        ...             objective="acc", direction="maximize", n_workers=1, time_budget=10.0,
        ...             max_evaluations=5, allow_resume=False)
        >>> p.loss(0.9), p.loss(float("nan"))
        (-0.9, inf)
        """
        if math.isnan(value):
            return math.inf
        return value if self.direction == "minimize" else -value


@dataclass(frozen=True, slots=True, eq=False)
class Suggestion:
    """What ``ask`` proposes: train ``config`` up to ``fidelity``.

    Attributes:
        config: a configuration of ``problem.space``. For a resume it must be the trial's config.
        fidelity: one of ``problem.fidelity.values``; ``None`` means the maximal fidelity.
        resume: ``None`` to start a new trial (it pays the full cost up to ``fidelity``), or the
            ``trial_id`` of an earlier, finished evaluation to continue training it (only when
            ``problem.allow_resume``; ``fidelity`` must exceed what that trial reached). A resumed
            trial keeps its training seed and pays only ``cost(fidelity) - cost(reached)``.
        info: optional, for the record only: a small mapping ``str -> int | float | str`` (e.g.
            Hyperband's ``{"bracket": 2, "rung": 0}``) stored with the evaluation in the
            trajectory's ``info`` column as sorted JSON. The harness never reads it.

    Suggestions compare by identity: ``tell`` receives the object ``ask`` returned.
    """

    config: Mapping[str, Any]
    fidelity: int | float | None = None
    resume: int | None = None
    info: Mapping[str, int | float | str] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Evaluation:
    """What ``tell`` receives: one finished evaluation, measured on a tuning seed.

    Attributes:
        trial_id: the trial (0, 1, ... in dispatch order of new trials); name it in
            ``Suggestion.resume`` to continue this trial.
        config: the configuration, as suggested (a fresh copy: yours to keep or change).
        fidelity: the fidelity reached.
        value: the objective at ``fidelity`` (raw; see ``Problem.direction``). NaN marks a
            diverged training run, a legitimate outcome, not an error.
        cost: simulated seconds this evaluation took (for a resume: only the extra training).
        curve: the objective at every fidelity step up to ``fidelity`` (read-only float32;
            ``curve[-1] == value`` up to float32 rounding), index ``i`` = ``fidelity.values[i]``.
        time: the simulated time at which it finished.
    """

    trial_id: int
    config: Config
    fidelity: int | float
    value: float
    cost: float
    curve: np.ndarray
    time: float


@runtime_checkable
class Optimizer(Protocol):
    """Anything with ``ask`` and ``tell``; subclassing is optional. See the module docstring for
    the call order. Both methods must be deterministic given the factory's ``seed`` and the
    sequence of calls (use ``numpy.random.default_rng(seed)``, never global randomness), so that
    a run is reproducible bit for bit.
    """

    def ask(self) -> Suggestion | None:
        """Propose the next evaluation, or ``None`` to wait for a result."""
        ...

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        """Receive the result of ``suggestion`` (the object ``ask`` returned)."""
        ...


OptimizerFactory = Callable[[Problem, int], Optimizer]
"""``factory(problem, seed) -> Optimizer``: called once per run."""
