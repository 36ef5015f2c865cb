"""Every baseline passes the conformance kit and behaves as its paper says."""

from __future__ import annotations

import ast
import importlib.util
import types
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from baselines import BaselineError
from hpobench.harness import Problem, RunStatus, load_optimizer, run_study
from hpobench.harness._check import _mixed_benchmark, _protocol

ROOT = Path(__file__).resolve().parents[2] / "baselines"


def module(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"_test_baseline_{name}", ROOT / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("path", sorted(ROOT.glob("*.py")), ids=lambda p: p.name)
def test_only_the_public_api(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hpobench"):
            assert node.module in ("hpobench", "hpobench.harness"), (
                f"{path.name} imports {node.module}"
            )
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("hpobench.") for a in node.names)


def test_rung_levels() -> None:
    levels = module("asha").rung_levels
    assert levels(tuple(range(1, 101)), 3) == [1, 4, 11, 33, 100]
    assert levels(tuple(range(1, 51)), 3) == [2, 6, 17, 50]
    assert levels((243,), 3) == [243]


def _problem_run(factory: object, resume: bool) -> object:
    return run_study(
        _mixed_benchmark(),
        factory,
        _protocol("t-v1", workers=4, resume=resume, base=30.0, cap=50.0),
        0,
    )


@pytest.mark.parametrize("resume", [True, False])
def test_asha_promotes_by_resuming_when_allowed(resume: bool) -> None:
    traj = _problem_run(load_optimizer(str(ROOT / "asha.py")), resume)
    e = traj.events  # type: ignore[attr-defined]
    assert traj.meta.status is RunStatus.COMPLETED  # type: ignore[attr-defined]
    assert set(e["fidelity"]) <= {1.0, 3.0, 9.0}
    counts = Counter(e["fidelity"])
    assert counts[1.0] > counts[3.0] > counts[9.0] > 0  # a halving funnel
    assert bool(e["resumed_from"].notna().sum() > 0) == resume
    assert len(e) == e["trial_id"].nunique() + e["resumed_from"].notna().sum()


def test_hyperband_uses_several_brackets() -> None:
    traj = _problem_run(load_optimizer(str(ROOT / "asha.py:make_hyperband")), True)
    new = traj.events[traj.events["resumed_from"].isna()]  # type: ignore[attr-defined]
    assert set(new["fidelity"]) == {1.0, 3.0, 9.0}


def test_random_search_is_uniform_and_at_full_fidelity() -> None:
    rs = module("random_search")
    bench = _mixed_benchmark()
    problem = Problem(space=bench.space, fidelity=bench.fidelity, objective="valid_acc", direction="maximize",
                      n_workers=1, time_budget=1.0, max_evaluations=1, allow_resume=False)  # fmt: skip
    opt = rs.make_optimizer(problem, 0)
    sugg = [opt.ask() for _ in range(3000)]
    assert all(s.fidelity is None for s in sugg)
    for s in sugg[:50]:
        bench.space.validate(s.config)
    batch = Counter(s.config["batch"] for s in sugg)
    assert min(batch.values()) > 900  # uniform over ordinal values, not biased to the middle
    lrs = np.log10([s.config["lr"] for s in sugg])
    assert abs(np.mean(lrs) - (-2.0)) < 0.1  # log-uniform on [1e-4, 1]
    again = rs.make_optimizer(problem, 0)
    assert [again.ask().config for _ in range(5)] == [s.config for s in sugg[:5]]


def test_evolution_mutates_one_hyperparameter() -> None:
    re_mod = module("regularized_evolution")
    bench = _mixed_benchmark()
    problem = Problem(space=bench.space, fidelity=bench.fidelity, objective="valid_acc", direction="maximize",
                      n_workers=1, time_budget=1.0, max_evaluations=1, allow_resume=False)  # fmt: skip
    opt = re_mod.RegularizedEvolution(problem, 0, population_size=4, sample_size=2)
    parent = bench.space.sample(np.random.default_rng(1))
    for _ in range(50):
        child = opt._mutate(parent)
        bench.space.validate(child)
        assert sum(child[k] != parent[k] for k in parent) == 1
    with pytest.raises(BaselineError, match="sample_size <= population_size"):
        re_mod.RegularizedEvolution(problem, 0, population_size=2, sample_size=3)
