"""Synchronous Hyperband runs exactly Li et al.'s (2018) schedule, counted from a trajectory."""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections import defaultdict

import numpy as np
import pytest

from baselines import BaselineError
from baselines.hyperband import hyperband_schedule, make_optimizer, map_to_grid
from baselines.successive_halving import make_optimizer as make_sh
from hpobench import Categorical, Fidelity, Float, Ordinal, SearchSpace
from hpobench.benchmark import TabularBenchmark
from hpobench.harness import Problem, RunStatus, Trajectory, run_study
from hpobench.harness._check import _protocol, _table


@functools.cache
def _bench(n_steps: int) -> TabularBenchmark:
    space = SearchSpace(
        [Float("lr", 1e-3, 1.0, log=True), Float("m", 0.0, 1.0), Categorical("a", ("x", "y"))]
    )
    sampled = space.sample_many(np.random.default_rng(0), 300)
    configs = {n: np.asarray([c[n] for c in sampled]) for n in space.names}
    return _table(
        f"hb/t{n_steps}-v1", space, configs, n_steps, maximize=False, diverge=0.03, seed=5
    )


def _paper(R: int, eta: int) -> list[tuple[int, list[int], list[float]]]:
    """Li et al. (2018) Algorithm 1 as printed, in plain integer/float arithmetic."""
    s_max = math.floor(math.log(R) / math.log(eta) + 1e-9)  # r_min = 1
    out = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        r = R * eta ** (-s)
        out.append(
            (
                s,
                [math.floor(n * eta ** (-i)) for i in range(s + 1)],
                [r * eta**i for i in range(s + 1)],
            )
        )
    return out  # fmt: skip


def _counted(traj: Trajectory) -> dict[tuple[int, int], list[tuple[int, set[float], int]]]:
    """(iteration, bracket) -> per rung: (evaluations, fidelities, resumed evaluations)."""
    e = traj.events
    info = [json.loads(x) for x in e["info"]]
    rungs: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for row, d in enumerate(info):
        rungs[(d["iteration"], d["bracket"], d["rung"])].append(row)
    out: dict[tuple[int, int], list[tuple[int, set[float], int]]] = defaultdict(list)
    for (it, s, _i), rows in sorted(rungs.items(), key=lambda kv: (kv[0][0], -kv[0][1], kv[0][2])):
        sub = e.iloc[rows]
        out[(it, s)].append(
            (len(rows), set(sub["fidelity"]), int(sub["resumed_from"].notna().sum()))
        )
    return out


@pytest.mark.parametrize(("n_steps", "eta"), [(81, 3), (64, 2), (50, 3)])
def test_schedule_counted_from_a_trajectory_is_the_papers(n_steps: int, eta: int) -> None:
    bench = _bench(n_steps)
    traj = run_study(bench, functools.partial(make_optimizer, eta=float(eta)),
                     _protocol("hb-v1", workers=1, resume=True, base=150.0, cap=100.0), 0)  # fmt: skip
    assert traj.meta.status is RunStatus.COMPLETED
    counted = _counted(traj)
    values = bench.fidelity.values
    paper = _paper(n_steps, eta)
    complete = [k for k in counted if len(counted[k]) == k[1] + 1 and counted[k][-1][0] >= 1]
    assert {it for it, _ in complete} >= {0, 1}, "the budget must cover two Hyperband iterations"
    for it in {0, 1}:
        for s, sizes, budgets in paper:
            rungs = counted[(it, s)]
            assert [n for n, _, _ in rungs] == sizes, (it, s)
            assert [f for _, f, _ in rungs] == [{float(map_to_grid(r, values))} for r in budgets]
            assert [k for _, _, k in rungs] == [0, *sizes[1:]]  # every promotion resumes its trial
    # the mapping is the nearest grid value on a log scale; the last rung is always R
    assert all(counted[(0, s)][-1][1] == {float(n_steps)} for s, _, _ in paper)


def test_rungs_are_synchronous_and_promote_the_best() -> None:
    traj = run_study(_bench(27), make_optimizer,
                     _protocol("hb-v1", workers=4, resume=True, base=60.0, cap=100.0), 1)  # fmt: skip
    e = traj.events.assign(info=[json.loads(x) for x in traj.events["info"]])
    keys = [(d["iteration"], d["bracket"], d["rung"]) for d in e["info"]]
    e = e.assign(key=keys)
    groups = list(dict.fromkeys(keys))
    for a, b in itertools.pairwise(groups):
        ea, eb = e[e["key"] == a], e[e["key"] == b]
        assert eb["start_time"].min() >= ea["time"].max()  # the next rung waits for the whole rung
        if a[:2] == b[:2] and b != groups[-1]:  # a whole promotion: the best floor(n/eta) go on
            loss = ea["value"].fillna(np.inf)
            best = set(ea.loc[loss.sort_values(kind="stable").index[: len(eb)], "trial_id"])
            assert set(eb["trial_id"]) == best


def test_successive_halving_repeats_the_most_exploratory_bracket() -> None:
    traj = run_study(_bench(27), make_sh,
                     _protocol("sh-v1", workers=1, resume=False, base=40.0, cap=100.0), 0)  # fmt: skip
    info = [json.loads(x) for x in traj.events["info"]]
    assert {d["bracket"] for d in info} == {3}
    assert max(d["iteration"] for d in info) >= 1
    first = [d["rung"] for d in info if d["iteration"] == 0]
    assert [first.count(i) for i in range(4)] == [27, 9, 3, 1]
    assert traj.events["resumed_from"].isna().all()  # no resumes when the protocol forbids them


def test_schedule_rational_arithmetic() -> None:
    # float eta and fidelities: exact, no off-by-one from log(81)/log(3) = 3.9999999
    assert [b.s for b in hyperband_schedule(81.0, 1.0, 3.0)] == [4, 3, 2, 1, 0]
    assert [b.sizes for b in hyperband_schedule(100, 1, 3)][:2] == [
        (81, 27, 9, 3, 1),
        (34, 11, 3, 1),
    ]
    assert hyperband_schedule(1.0, 0.25, 2.0)[0].budgets == (0.25, 0.5, 1.0)


def _problem(values: tuple[int | float, ...]) -> Problem:
    return Problem(space=SearchSpace([Ordinal("w", (1, 2))]), fidelity=Fidelity("epoch", values),
                   objective="l", direction="minimize", n_workers=1, time_budget=1.0,
                   max_evaluations=1, allow_resume=True)  # fmt: skip


@pytest.mark.parametrize(
    ("values", "settings", "words"),
    [
        ((1, 10, 100), {}, "must map to distinct fidelity values"),
        ((0, 1, 2), {}, "fidelity values must be > 0"),
        (tuple(range(1, 28)), {"min_fidelity": 27}, "min_fidelity must be None or one of"),
        (tuple(range(1, 28)), {"min_fidelity": 2.5}, "min_fidelity must be None or one of"),
        (tuple(range(1, 28)), {"eta": 0.5}, "1.0 < eta"),
    ],
)
def test_bad_input(values: tuple[int, ...], settings: dict[str, object], words: str) -> None:
    with pytest.raises(BaselineError, match=words):
        make_optimizer(_problem(values), 0, **settings)  # type: ignore[arg-type]
