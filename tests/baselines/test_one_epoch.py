"""The one-epoch top-k baseline screens at the smallest fidelity, then trains the best k fully."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from baselines.one_epoch import make_optimizer
from hpobench import Categorical, Int, SearchSpace
from hpobench.harness import RunStatus, run_study
from hpobench.harness._check import _mixed_benchmark, _protocol, _table


def _phases(traj: object) -> list[dict[str, object]]:
    return [json.loads(x) for x in traj.events["info"]]  # type: ignore[attr-defined]


@pytest.mark.parametrize("resume", [True, False])
def test_screens_then_trains_the_best_k(resume: bool) -> None:
    proto = _protocol("one-v1", workers=2, resume=resume, base=20.0, cap=100.0)
    traj = run_study(_mixed_benchmark(), functools.partial(make_optimizer, k=3), proto, 0)
    assert traj.meta.status is RunStatus.OPTIMIZER_STOPPED  # done after the top k
    e = traj.events
    info = _phases(traj)
    screen = e[[d["phase"] == "screen" for d in info]]
    top = e[[d["phase"] == "top-k" for d in info]]
    assert (screen["fidelity"] == 1.0).all() and len(screen) > 20
    assert (top["fidelity"] == 9.0).all() and len(top) == 3
    assert top["start_time"].min() >= screen["time"].max()  # every screen result first
    loss = -screen["value"].fillna(-np.inf)  # maximised objective: loss = -value
    best = screen.loc[loss.sort_values(kind="stable").index[:3], "trial_id"]
    if resume:
        ranks = [d["rank"] for d in info if d["phase"] == "top-k"]
        assert list(top["trial_id"].iloc[np.argsort(ranks)]) == list(best)
        assert (top["resumed_from"] == 1.0).all()
    else:
        assert top["resumed_from"].isna().all()
    assert e["time"].max() <= traj.meta.time_budget  # the projection kept the top k in budget


def test_a_small_grid_is_screened_whole_once() -> None:
    space = SearchSpace([Int("a", 1, 4), Categorical("b", ("x", "y", "z"))])
    grid = list(space.grid())
    configs = {n: np.asarray([c[n] for c in grid]) for n in space.names}
    bench = _table("one/grid-v1", space, configs, 5, maximize=False, diverge=0.0, seed=3)
    traj = run_study(bench, make_optimizer, _protocol("one-v1", workers=1, resume=True,
                     base=20.0, cap=100.0), 0)  # fmt: skip
    info = _phases(traj)
    screened = traj.events[[d["phase"] == "screen" for d in info]]
    assert sorted(screened["config_id"]) == list(range(12))
    assert sum(d["phase"] == "top-k" for d in info) == 3


def test_n_configs_fixes_the_screen() -> None:
    traj = run_study(_mixed_benchmark(), functools.partial(make_optimizer, k=2, n_configs=10),
                     _protocol("one-v1", workers=1, resume=True, base=50.0, cap=100.0), 0)  # fmt: skip
    phases = [d["phase"] for d in _phases(traj)]
    assert phases == ["screen"] * 10 + ["top-k"] * 2
