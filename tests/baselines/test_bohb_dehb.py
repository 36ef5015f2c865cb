"""BOHB's and DEHB's models do what their papers say, checked on a known landscape."""

from __future__ import annotations

import numpy as np

from baselines.bohb import BOHB
from baselines.hyperband import Job
from hpobench import Categorical, Fidelity, Float, SearchSpace
from hpobench.harness import Evaluation, Problem


def _problem() -> Problem:
    space = SearchSpace(
        [Float("x", 0.0, 1.0), Float("y", 0.0, 1.0), Categorical("c", ("a", "b", "c"))]
    )
    return Problem(space=space, fidelity=Fidelity("epoch", (1, 3, 9)), objective="loss",
                   direction="minimize", n_workers=1, time_budget=1.0, max_evaluations=1,
                   allow_resume=True)  # fmt: skip


def _loss(c: dict[str, object]) -> float:
    return float((c["x"] - 0.2) ** 2 + (c["y"] - 0.7) ** 2 + (c["c"] != "b"))  # type: ignore[operator]


def _feed(opt: BOHB, fidelity: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for i, c in enumerate(opt.problem.space.sample_many(rng, n)):
        ev = Evaluation(i, c, fidelity, _loss(c), 1.0, np.zeros(1, np.float32), 0.0)
        opt.observe(Job(c), ev, _loss(c))


def test_bohb_model_proposes_near_the_good_region() -> None:
    opt = BOHB(_problem(), 0, random_fraction=0.0)
    _feed(opt, 3, 40, 1)
    assert list(opt.models) == [3.0]
    proposals = [opt._one() for _ in range(60)]
    dist = np.mean([np.hypot(c["x"] - 0.2, c["y"] - 0.7) for c in proposals])  # type: ignore[operator]
    assert dist < 0.2  # uniform proposals average ~0.38 from (0.2, 0.7)
    assert sum(c["c"] == "b" for c in proposals) > 45
    _feed(opt, 1, 40, 2)  # a lower fidelity than the model's: not recorded any more
    assert 1.0 not in opt.obs and list(opt.models) == [3.0]
    _feed(opt, 9, 40, 3)
    assert set(opt.models) == {3.0, 9.0}  # proposals now come from the largest


def test_bohb_needs_enough_points_and_keeps_a_random_fraction() -> None:
    opt = BOHB(_problem(), 0)
    _feed(opt, 9, 7, 1)  # good needs > d = 3 points and bad needs > 3 points: 4 + 4 > 7
    assert not opt.models
    _feed(opt, 9, 1, 5)
    assert list(opt.models) == [9.0]
    rs = BOHB(_problem(), 0, random_fraction=1.0)  # the model exists but is never used
    _feed(rs, 9, 40, 1)
    proposals = [rs._one() for _ in range(200)]
    dist = np.mean([np.hypot(c["x"] - 0.2, c["y"] - 0.7) for c in proposals])  # type: ignore[operator]
    assert dist > 0.3
