"""The conformance kit, on good and on broken optimizers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hpobench import OptimizerError
from hpobench.harness import Evaluation, Problem, Suggestion, check_optimizer, optimizer_checks


class Good:
    def __init__(self, problem: Problem, seed: int) -> None:
        self.problem, self.rng = problem, np.random.default_rng(seed)

    def ask(self) -> Suggestion:
        return Suggestion(self.problem.space.sample(self.rng))

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        pass


class Unseeded(Good):
    def __init__(self, problem: Problem, seed: int) -> None:
        super().__init__(problem, seed)
        self.rng = np.random.default_rng()


class AlwaysResumes(Good):
    def __init__(self, problem: Problem, seed: int) -> None:
        super().__init__(problem, seed)
        self.last: Evaluation | None = None

    def ask(self) -> Suggestion:
        if self.last is not None and self.last.fidelity < self.problem.fidelity.max:
            ev, self.last = self.last, None
            return Suggestion(ev.config, fidelity=self.problem.fidelity.max, resume=ev.trial_id)
        return Suggestion(self.problem.space.sample(self.rng), fidelity=self.problem.fidelity.min)

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        self.last = evaluation


class Lazy(Good):
    def ask(self) -> None:  # type: ignore[override]
        return None


def test_good_optimizer_passes() -> None:
    check_optimizer(Good)
    names = [n for n, _ in optimizer_checks(Good)]
    assert names == ["signature", "single_fidelity_serial", "multi_fidelity_async_resume",
                     "multi_fidelity_no_resume", "deterministic"]  # fmt: skip


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (Unseeded, "deterministic"),
        (AlwaysResumes, "does not allow resuming"),
        (Lazy, "made no evaluation"),
        (lambda problem: Good(problem, 0), "must accept two positional arguments"),
    ],
)
def test_broken_optimizers_fail_with_a_reason(factory: Any, match: str) -> None:
    with pytest.raises(OptimizerError, match=match):
        check_optimizer(factory)
