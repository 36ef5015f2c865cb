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


def test_dehb_promotes_in_the_first_iteration_then_evolves() -> None:
    import json

    from baselines.dehb import make_optimizer
    from hpobench.harness import run_study
    from hpobench.harness._check import _mixed_benchmark, _protocol

    opts = []

    def factory(problem: Problem, seed: int) -> object:
        opts.append(make_optimizer(problem, seed))
        return opts[-1]

    traj = run_study(_mixed_benchmark(), factory,
                     _protocol("dehb-v1", workers=1, resume=True, base=40.0, cap=100.0), 0)  # fmt: skip
    e = traj.events
    info = [json.loads(x) for x in e["info"]]
    first = np.array([d["iteration"] == 0 for d in info])
    upper = np.array([d["rung"] > 0 for d in info])
    resumed = e["resumed_from"].notna().to_numpy()
    assert (first & upper).any() and (~first & upper).any()
    assert (resumed == (first & upper)).all()  # SH promotions resume; DE trials are new
    opt = opts[0]
    assert {f: len(p) for f, p in opt.pop.items()} == {1: 9, 3: 5, 9: 3}
    assert all(np.isfinite(fit).all() for fit in opt.fit.values())  # every target was selected on
    assert all(((p >= 0) & (p <= 1)).all() for p in opt.pop.values())


def test_dehb_trial_is_rand1_binomial_with_selection() -> None:
    from baselines.dehb import DEHB

    opt = DEHB(_problem(), 0, crossover_prob=0.0, mutation_factor=0.5)
    pool = np.array([[0.5, 0.5, 0.5], [0.6, 0.6, 0.6], [0.4, 0.4, 0.4]])
    target = np.array([0.1, 0.1, 0.1])
    for _ in range(20):
        trial = opt._trial(target, pool)
        assert int((trial != target).sum()) == 1  # CR = 0: exactly the one forced coordinate
        changed = trial[trial != target][0]
        assert min(abs(changed - v) for v in (0.5 + 0.5 * 0.2, 0.5 - 0.5 * 0.2, 0.6 + 0.5 * 0.1,
                   0.6 - 0.5 * 0.1, 0.4 + 0.5 * 0.1, 0.4 - 0.5 * 0.1)) < 1e-12  # fmt: skip
    f = opt.fidelities[-1]
    job = Job({"x": 0.3, "y": 0.3, "c": "a"}, None, (0, np.full(3, 0.3)))
    ev = Evaluation(0, job.config, f, 2.0, 1.0, np.zeros(1, np.float32), 0.0)
    opt.observe(job, ev, 2.0)
    assert opt.fit[f][0] == 2.0
    worse = Job(job.config, None, (0, np.full(3, 0.9)))
    opt.observe(worse, ev, 3.0)
    assert opt.fit[f][0] == 2.0 and opt.pop[f][0][0] == 0.3  # a worse trial does not replace
