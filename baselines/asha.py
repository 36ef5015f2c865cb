"""ASHA: asynchronous successive halving (Li et al. 2020, "A System for Massively Parallel
Hyperparameter Tuning"), and its asynchronous Hyperband variant.

Rung levels are the fidelity values nearest to ``max / eta**k`` (k = 0, 1, ... while at least
the minimal fidelity). Whenever a worker is free, ``ask`` looks for a promotion from the highest
rung down: an evaluation in the top ``1/eta`` of its rung that was not promoted yet is continued
to the next rung, *resuming its trial* when the problem allows it (paying only the extra epochs),
else as a new trial. Without a promotion it starts a new random configuration at the lowest rung
(of a bracket drawn as in Hyperband for ``make_hyperband``). ``ask`` never returns ``None``.
Diverged runs (NaN) rank last. A single-fidelity problem is refused at construction.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from baselines._validation import check_real, check_space, require_fidelities
from hpobench import Config
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = ["AsynchronousSuccessiveHalving", "make_hyperband", "make_optimizer", "rung_levels"]
__version__ = "1.0"


def rung_levels(values: tuple[int | float, ...], eta: float) -> list[int | float]:
    """Ascending fidelity values nearest to ``max / eta**k``, ``k = 0, 1, ...``, all ``>= min``."""
    fmin, fmax = values[0], values[-1]
    levels: list[int | float] = []
    r = float(fmax)
    while r >= fmin * (1 - 1e-9):
        v = min(values, key=lambda x: abs(x - r))
        if v not in levels:
            levels.append(v)
        r /= eta
    return sorted(levels)


class AsynchronousSuccessiveHalving:
    """ASHA; with ``hyperband=True`` each new configuration joins a bracket that starts at rung
    ``b`` with Hyperband's probabilities (asynchronous Hyperband, Li et al. 2020, Section 3)."""

    def __init__(
        self, problem: Problem, seed: int, *, eta: float = 3.0, hyperband: bool = False
    ) -> None:
        method = "async-hyperband" if hyperband else "asha"
        check_space(problem.space, method)
        require_fidelities(problem, method)
        check_real(method, "eta", eta, low=1.0, low_open=True)
        self.problem = problem
        self.eta = eta
        self.rng = np.random.default_rng(seed)
        self.levels = rung_levels(problem.fidelity.values, eta)
        self.level_index = {v: i for i, v in enumerate(self.levels)}
        n_rungs = len(self.levels)
        self.brackets = list(range(n_rungs)) if hyperband else [0]
        smax = n_rungs - 1
        weights = np.array([(smax + 1) / (smax - b + 1) * eta ** (smax - b) for b in self.brackets])
        self.bracket_p = weights / weights.sum()
        # per bracket, per rung: sorted records (loss, seq, trial_id, config) and promoted seqs
        self.rungs: dict[int, list[list[tuple[float, int, int, Config]]]] = {
            b: [[] for _ in range(n_rungs)] for b in self.brackets
        }
        self.promoted: dict[int, list[set[int]]] = {
            b: [set() for _ in range(n_rungs)] for b in self.brackets
        }
        self.pending: dict[Suggestion, int] = {}  # suggestion -> bracket
        self._seq = 0

    def ask(self) -> Suggestion:
        for b in self.brackets:
            s = self._promotion(b)
            if s is not None:
                return s
        b = (
            self.brackets[0]
            if len(self.brackets) == 1
            else int(self.rng.choice(self.brackets, p=self.bracket_p))
        )
        s = Suggestion(self.problem.space.sample(self.rng), fidelity=self.levels[b])
        self.pending[s] = b
        return s

    def _promotion(self, b: int) -> Suggestion | None:
        rungs, promoted = self.rungs[b], self.promoted[b]
        for k in range(len(self.levels) - 2, b - 1, -1):
            rung = rungs[k]
            n_top = int(len(rung) // self.eta)
            done = promoted[k]
            for _loss, seq, trial_id, config in rung[:n_top]:
                if seq in done:
                    continue
                done.add(seq)
                resume = trial_id if self.problem.allow_resume else None
                s = Suggestion(config, fidelity=self.levels[k + 1], resume=resume)
                self.pending[s] = b
                return s
        return None

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        b = self.pending.pop(suggestion)
        k = self.level_index[evaluation.fidelity]
        record: tuple[float, int, int, Any] = (
            self.problem.loss(evaluation.value),
            self._seq,
            evaluation.trial_id,
            dict(evaluation.config),
        )
        self._seq += 1
        bisect.insort(self.rungs[b][k], record)


def make_optimizer(
    problem: Problem, seed: int, *, eta: float = 3.0
) -> AsynchronousSuccessiveHalving:
    """ASHA with reduction factor ``eta`` and one bracket starting at the lowest rung."""
    return AsynchronousSuccessiveHalving(problem, seed, eta=eta)


def make_hyperband(
    problem: Problem, seed: int, *, eta: float = 3.0
) -> AsynchronousSuccessiveHalving:
    """Asynchronous Hyperband with reduction factor ``eta``."""
    return AsynchronousSuccessiveHalving(problem, seed, eta=eta, hyperband=True)
