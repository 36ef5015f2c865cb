"""The Optuna adapter: any sampler, the space mapping, diverged runs, a clear error without Optuna."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from baselines import BaselineError
from hpobench import Categorical, Fidelity, Float, Int, Ordinal, SearchSpace
from hpobench.harness import Evaluation, Problem, check_optimizer

optuna = pytest.importorskip("optuna", reason="the optuna extra is not installed")

from baselines.optuna_adapter import OptunaOptimizer, make_tpe, sampler_factory  # noqa: E402


def _problem() -> Problem:
    space = SearchSpace([Float("lr", 1e-4, 1.0, log=True), Int("n", 1, 64, log=True),
                         Ordinal("w", (8, 16, 32)), Categorical("act", ("relu", "tanh"))])  # fmt: skip
    return Problem(space=space, fidelity=Fidelity("epoch", (1, 2)), objective="acc",
                   direction="maximize", n_workers=1, time_budget=1.0, max_evaluations=1,
                   allow_resume=False)  # fmt: skip


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_any_sampler_passes_the_conformance_kit() -> None:
    check_optimizer(sampler_factory(lambda seed: optuna.samplers.QMCSampler(seed=seed)))


def test_space_mapping_and_diverged_runs() -> None:
    opt = make_tpe(_problem(), 0, n_startup_trials=2)
    dist = opt.distributions
    assert dist["w"] == optuna.distributions.IntDistribution(0, 2)  # ordinal: its indices
    assert dist["lr"].log and dist["n"].log
    for i in range(6):
        s = opt.ask()
        assert s.fidelity is None and s.resume is None
        _problem().space.validate(s.config)
        value = float("nan") if i == 0 else float(i)
        opt.tell(s, Evaluation(i, dict(s.config), 2, value, 1.0, np.zeros(2, np.float32), 0.0))
    trials = opt.study.trials
    assert trials[0].state == optuna.trial.TrialState.FAIL
    assert [t.value for t in trials[1:]] == [-1.0, -2.0, -3.0, -4.0, -5.0]  # maximised: loss


def test_not_a_sampler_is_refused() -> None:
    with pytest.raises(BaselineError, match=r"must be an optuna\.samplers\.BaseSampler"):
        OptunaOptimizer(_problem(), object())


def test_without_optuna_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna -> ImportError
    with pytest.raises(BaselineError, match=r"pip install 'hpobench\[optuna\]'"):
        make_tpe(_problem(), 0)
