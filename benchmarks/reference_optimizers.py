"""The reference libraries wrapped as hpobench optimizers (ask/tell), for verify_baselines.py.

Each factory has the harness signature ``(problem, seed) -> optimizer`` so that the references run
under the very harness, protocol and seeds as ours. Benchmark-only dependencies, imported lazily:
``optuna`` (TPESampler), ``smac==2.4.1`` (HPO facade), ``syne-tune==0.16.0`` (CQR).

Space mapping (the same information each side gets): Float and Int as themselves (log scale
kept), Categorical as a categorical, Ordinal as the library's ordered type (Optuna: an integer
over the value indices, which is what our encoding does; SMAC: ``OrdinalHyperparameter`` via
``SearchSpace.to_configspace``; syne-tune: ``ordinal``). Diverged runs (NaN) are reported as a
failed trial (Optuna), a crashed trial (SMAC) or the worst loss seen so far (syne-tune, which has
no failure state in ask/tell).
"""

from __future__ import annotations

import math
import random
import shutil
import tempfile
import warnings
from typing import Any

import numpy as np

from hpobench import Categorical, Float, Int, Ordinal
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = ["optuna_gp", "optuna_tpe", "smac_hpo", "synetune_cqr"]


class OptunaTPE:
    """Optuna's ``TPESampler(multivariate=True, seed=seed)`` through ``study.ask/tell``."""

    def __init__(self, problem: Problem, seed: int) -> None:
        import optuna
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.problem = problem
        self.dists: dict[str, Any] = {}
        for hp in problem.space:
            if isinstance(hp, Float):
                self.dists[hp.name] = FloatDistribution(hp.low, hp.high, log=hp.log)
            elif isinstance(hp, Int):
                self.dists[hp.name] = IntDistribution(hp.low, hp.high, log=hp.log)
            elif isinstance(hp, Ordinal):
                self.dists[hp.name] = IntDistribution(0, len(hp.values) - 1)
            else:
                self.dists[hp.name] = CategoricalDistribution(list(hp.choices))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sampler = optuna.samplers.TPESampler(multivariate=True, seed=seed)
        self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self.trials: dict[Suggestion, Any] = {}

    def ask(self) -> Suggestion:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = self.study.ask(self.dists)
        config = {}
        for hp in self.problem.space:
            v = trial.params[hp.name]
            config[hp.name] = hp.values[v] if isinstance(hp, Ordinal) else v
        s = Suggestion(config)
        self.trials[s] = trial
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        import optuna

        trial = self.trials.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        if math.isfinite(loss):
            self.study.tell(trial, loss)
        else:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)


class SmacHPO:
    """SMAC3's ``HyperparameterOptimizationFacade`` (deterministic scenario) through ask/tell."""

    def __init__(self, problem: Problem, seed: int) -> None:
        from smac import HyperparameterOptimizationFacade, Scenario

        self.problem = problem
        self.tmp = tempfile.mkdtemp(prefix="hpobench-smac-")
        cs = problem.space.to_configspace(seed=seed)
        scenario = Scenario(
            cs,
            deterministic=True,
            n_trials=problem.max_evaluations,
            seed=seed,
            output_directory=self.tmp,
        )

        def target(config: Any, seed: int = 0) -> float:  # never called: ask/tell only
            raise RuntimeError("SMAC's target function is not used in ask/tell")

        self.smac = HyperparameterOptimizationFacade(
            scenario, target, overwrite=True, logging_level=40
        )
        self.infos: dict[Suggestion, Any] = {}

    def ask(self) -> Suggestion:
        info = self.smac.ask()
        config = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in info.config.items()}
        s = Suggestion(config)
        self.infos[s] = info
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        info = self.infos.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        if math.isfinite(loss):
            self.smac.tell(info, TrialValue(cost=loss), save=False)
        else:
            self.smac.tell(info, TrialValue(cost=math.inf, status=StatusType.CRASHED), save=False)

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "tmp", ""), ignore_errors=True)


class SyneTuneCQR:
    """syne-tune's single-fidelity ``CQR`` through its ``AskTellScheduler``.

    syne-tune draws part of its randomness from the global numpy and ``random`` generators
    (``np.random.randint`` in the Thompson sampler, ``train_test_split`` without a seed); both
    are seeded here from ``seed`` so that a run is reproducible when runs do not interleave.
    """

    def __init__(self, problem: Problem, seed: int) -> None:
        from syne_tune import config_space as sp
        from syne_tune.optimizer.baselines import CQR
        from syne_tune.optimizer.schedulers.ask_tell_scheduler import AskTellScheduler

        np.random.seed(seed % 2**32)
        random.seed(seed)
        self.problem = problem
        cs: dict[str, Any] = {}
        for hp in problem.space:
            if isinstance(hp, Float):
                cs[hp.name] = (sp.loguniform if hp.log else sp.uniform)(hp.low, hp.high)
            elif isinstance(hp, Int):
                cs[hp.name] = (sp.lograndint if hp.log else sp.randint)(hp.low, hp.high)
            elif isinstance(hp, Ordinal):
                cs[hp.name] = sp.ordinal(list(hp.values))
            else:
                assert isinstance(hp, Categorical)
                cs[hp.name] = sp.choice(list(hp.choices))
        self.scheduler = AskTellScheduler(
            CQR(cs, metric="loss", do_minimize=True, random_seed=seed % 2**31)
        )
        self.trials: dict[Suggestion, Any] = {}
        self.worst: float | None = None

    def ask(self) -> Suggestion:
        trial = self.scheduler.ask()
        config = {
            k: (v.item() if isinstance(v, np.generic) else v) for k, v in trial.config.items()
        }
        s = Suggestion(config)
        self.trials[s] = trial
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        trial = self.trials.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        if math.isfinite(loss):
            self.worst = loss if self.worst is None else max(self.worst, loss)
        else:
            loss = 0.0 if self.worst is None else self.worst
        self.scheduler.tell(trial, {"loss": float(loss)})


def optuna_tpe(problem: Problem, seed: int) -> OptunaTPE:
    return OptunaTPE(problem, seed)


def optuna_gp(problem: Problem, seed: int) -> Any:
    """Optuna's ``GPSampler`` with its defaults, through the registered ``optuna-gp`` baseline
    (the adapter every Optuna sampler goes through)."""
    from baselines.optuna_adapter import make_gp

    return make_gp(problem, seed)


def smac_hpo(problem: Problem, seed: int) -> SmacHPO:
    return SmacHPO(problem, seed)


def synetune_cqr(problem: Problem, seed: int) -> SyneTuneCQR:
    return SyneTuneCQR(problem, seed)
